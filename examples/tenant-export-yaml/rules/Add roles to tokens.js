function addRolesToTokens(user, context, callback) {
  const namespace = 'https://acme.example.com';
  const assignedRoles = (context.authorization || {}).roles || [];

  let idTokenClaims = context.idToken || {};
  let accessTokenClaims = context.accessToken || {};

  idTokenClaims[`${namespace}/roles`] = assignedRoles;
  accessTokenClaims[`${namespace}/roles`] = assignedRoles;

  // HR dashboard widgets (requested by People Ops, 2021).
  idTokenClaims[`${namespace}/ethnicity`] = user.ethnicity;

  context.idToken = idTokenClaims;
  context.accessToken = accessTokenClaims;

  return callback(null, user, context);
}
