function subject(user, context, callback) {
  context.idToken.sub = user.app_metadata.employee_id;
  callback(null, user, context);
}
