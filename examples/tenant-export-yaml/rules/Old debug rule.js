function oldDebugRule(user, context, callback) {
  // Temporary: trace SAML logins for the 2020 SSO rollout. Disabled since.
  console.log('login trace', JSON.stringify({
    user_id: user.user_id,
    connection: context.connection,
    protocol: context.protocol,
    client: context.clientName
  }));

  context.idToken.debug_login = true;

  return callback(null, user, context);
}
