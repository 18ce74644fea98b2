// Cloud Code for the benchmark's Parse Server: the same owner-only Booking the
// rendered backend serves. The server, not the client, sets the owner and the
// ACL (read and write for the creator alone), as a Parse app must to be safe.
Parse.Cloud.beforeSave('Booking', (request) => {
  const { object, user, master } = request;
  if (master) {
    return;
  }
  if (!user) {
    throw new Parse.Error(Parse.Error.OPERATION_FORBIDDEN, 'Sign in first.');
  }
  if (object.isNew()) {
    object.set('owner', user);
    object.setACL(new Parse.ACL(user));
    if (object.get('seats') === undefined) {
      object.set('seats', 1);
    }
    return;
  }
  if (object.dirty('owner') || object.dirty('ACL')) {
    throw new Parse.Error(Parse.Error.OPERATION_FORBIDDEN, 'The owner of a booking cannot change.');
  }
});
