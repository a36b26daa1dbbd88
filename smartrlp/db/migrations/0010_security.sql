-- Failed logins per account name, so that guessing slows down and then locks for a while, also across restarts.
-- `key` is an HMAC of the lower-cased name with the secret key (the name field may hold a mistyped password);
-- times are Unix seconds. Rows go once their window is over; a successful login deletes its row.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    window_start REAL NOT NULL,
    blocked_until REAL NOT NULL
) WITHOUT ROWID;
