function getByEmail(email, callback) {
  // Used by password reset and sign-up checks while members are still being
  // migrated from the old member database.
  const { Client } = require('pg');

  const db = new Client({ connectionString: configuration.MEMBERS_DB_URL });

  db.connect((connectErr) => {
    if (connectErr) return callback(connectErr);

    const query =
      'SELECT id, email, email_verified, first_name, last_name, birth_date, country, department ' +
      'FROM members WHERE lower(email) = lower($1) AND deleted_at IS NULL';

    db.query(query, [email], (queryErr, result) => {
      db.end();
      if (queryErr) return callback(queryErr);
      if (result.rows.length === 0) return callback(null);

      const member = result.rows[0];

      return callback(null, {
        user_id: String(member.id),
        email: member.email,
        email_verified: member.email_verified,
        name: `${member.first_name} ${member.last_name}`,
        given_name: member.first_name,
        family_name: member.last_name,
        birthdate: member.birth_date ? member.birth_date.toISOString().slice(0, 10) : undefined,
        user_metadata: { country: member.country },
        app_metadata: { department: member.department }
      });
    });
  });
}
