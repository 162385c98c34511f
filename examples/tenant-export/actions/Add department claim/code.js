/**
 * Handler that will be called during the execution of a PostLogin flow.
 *
 * @param {Event} event - Details about the user and the context in which they are logging in.
 * @param {PostLoginAPI} api - Interface whose methods can be used to change the behavior of the login.
 */
exports.onExecutePostLogin = async (event, api) => {
  if (!event.user.app_metadata || !event.user.app_metadata.department) {
    return;
  }

  api.idToken.setCustomClaim('https://acme.example.com/department', event.user.app_metadata.department);

  // The billing API reads the department straight from the access token.
  api.accessToken.setCustomClaim('department', event.user.app_metadata.department);
};
