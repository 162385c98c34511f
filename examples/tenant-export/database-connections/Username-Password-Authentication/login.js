function login(email, password, callback) {
  // Lazy migration: members are moved over from the old member database on
  // their first successful login (import_mode is on for this connection).
  const bcrypt = require('bcrypt');
  const { Client } = require('pg');

  const db = new Client({ connectionString: configuration.MEMBERS_DB_URL });

  db.connect((connectErr) => {
    if (connectErr) return callback(connectErr);

    const query =
      'SELECT id, email, email_verified, password_hash, first_name, last_name, ' +
      'birth_date, country, department ' +
      'FROM members WHERE lower(email) = lower($1) AND deleted_at IS NULL';

    db.query(query, [email], (queryErr, result) => {
      db.end();
      if (queryErr) return callback(queryErr);
      if (result.rows.length === 0) {
        return callback(new WrongUsernameOrPasswordError(email));
      }

      const member = result.rows[0];

      bcrypt.compare(password, member.password_hash, (compareErr, isValid) => {
        if (compareErr) return callback(compareErr);
        if (!isValid) return callback(new WrongUsernameOrPasswordError(email));

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
  });
}
