# claimlint as a container: a static musl binary on distroless/static.
#
#   docker build -t claimlint .
#   docker run --rm -v "$PWD:/io" claimlint examples/tenant-export
#
# The built-in policies and schemas are compiled into the binary; the image holds nothing else.

FROM rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
# Fetch the locked dependencies in a layer of their own, so a source change does not refetch them.
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs benches/lint.rs \
    && cargo fetch --locked \
    && rm -rf src benches
COPY . .
# On Alpine the host target is x86_64- (or aarch64-) unknown-linux-musl, linked statically.
RUN cargo build --release --locked --bin claimlint \
    && strip target/release/claimlint \
    && ./target/release/claimlint --version

FROM gcr.io/distroless/static-debian12
COPY --from=build /src/target/release/claimlint /claimlint
# Mount the repository that holds the export(s) here: paths in the output are relative to it.
WORKDIR /io
ENTRYPOINT ["/claimlint"]
