-- Session resumption: the one grant a user's client may present to take its session over after a
-- dropped connection. Only a SHA-256 hash of the token is kept, so that a copy of the database
-- resumes nobody. The fingerprint is that of the TLS client certificate the token is bound to
-- (NULL when the session was not over TLS: the token is then a bearer secret). resume_until is
-- NULL while the session is open (it can be taken over at any time) and, once it has ended without
-- a logout, the end of the window in which it may still be resumed. A logout clears all three.
ALTER TABLE accounts ADD COLUMN resume_hash VARCHAR(64);
ALTER TABLE accounts ADD COLUMN resume_fingerprint VARCHAR(128);
ALTER TABLE accounts ADD COLUMN resume_until TIMESTAMP WITH TIME ZONE;
