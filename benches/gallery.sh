#!/usr/bin/env bash
# Builds the replicated public rules gallery that `compare.sh --gallery` times: every rule of a
# checkout of https://github.com/auth0/rules (src/rules/*.js, 88 rules) copied COPIES times
# (default 60: 5,280 rules, about 10 MB of JavaScript) into a directory export, with three
# OIDC-conformant clients and one social connection so that every rule runs in logins.
#
#   git clone https://github.com/auth0/rules /tmp/auth0-rules
#   bash benches/gallery.sh /tmp/auth0-rules /tmp/gallery [COPIES]
#   bash benches/compare.sh --quick --gallery /tmp/gallery
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
source="$1"; out="$2"; copies="${3:-60}"
[ -d "$source/src/rules" ] || { echo "gallery.sh: $source/src/rules is not a folder" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out/rules" "$out/clients" "$out/connections"
order=0
for k in $(seq -w 0 $((copies - 1))); do
    for rule in "$source"/src/rules/*.js; do
        name="$(basename "$rule" .js)-$k"
        order=$((order + 1))
        cp "$rule" "$out/rules/$name.js"
        printf '{"name": "%s", "enabled": true, "order": %d}\n' "$name" "$order" > "$out/rules/$name.json"
    done
done
for client in "Web App" "Mobile" "Admin Portal"; do
    printf '{"name": "%s", "app_type": "regular_web", "oidc_conformant": true, "grant_types": ["authorization_code", "refresh_token"]}\n' \
        "$client" > "$out/clients/$client.json"
done
printf '{"name": "google-oauth2", "strategy": "google-oauth2", "enabled_clients": ["Web App", "Mobile", "Admin Portal"]}\n' \
    > "$out/connections/google-oauth2.json"
printf '{"friendly_name": "gallery"}\n' > "$out/tenant.json"
echo "gallery.sh: $order rules in $out"
