function addCountry(user, context, callback) {
  // Nothing to do on refresh: the refreshed tokens keep the claims from the
  // original login.
  if (context.protocol === 'oauth2-refresh-token') {
    return callback(null, user, context);
  }

  context.idToken.country = user.user_metadata && user.user_metadata.country;

  return callback(null, user, context);
}
