-- Parley's first schema. Written in the SQL that PostgreSQL and H2 (in PostgreSQL mode) share.

-- One row per account. Besides the credentials it holds the per-user state that must survive a
-- restart: login history for whoelsesince, the login-failure lockout, and the delivery cursors
-- (the highest message sequence number used for this user, and the highest they acknowledged).
CREATE TABLE accounts (
  username        VARCHAR(64)  PRIMARY KEY,
  -- Self-describing: pbkdf2-sha256$<iterations>$<salt>$<hash>, so parameters can be raised later.
  password_hash   VARCHAR(255) NOT NULL,
  created_at      TIMESTAMP WITH TIME ZONE NOT NULL,
  last_login      TIMESTAMP WITH TIME ZONE,
  last_logout     TIMESTAMP WITH TIME ZONE,
  failed_logins   INTEGER      NOT NULL DEFAULT 0,
  blocked_until   TIMESTAMP WITH TIME ZONE,
  last_seq        BIGINT       NOT NULL DEFAULT 0,
  acked_seq       BIGINT       NOT NULL DEFAULT 0
);

-- blocker blocks blocked.
CREATE TABLE blocks (
  blocker VARCHAR(64) NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
  blocked VARCHAR(64) NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
  PRIMARY KEY (blocker, blocked)
);

-- Direct messages, numbered per recipient. Those above the recipient's acked_seq are the ones
-- still to be delivered; acknowledged ones are kept a while to recognise a sender's resend.
-- The recipient has no foreign key: it would cost a lookup on every insert of the hottest table.
-- Removing an account deletes its messages explicitly, and the journal checks that a recipient
-- exists when an insert fails.
CREATE TABLE messages (
  recipient  VARCHAR(64)  NOT NULL,
  seq        BIGINT       NOT NULL,
  sender     VARCHAR(64)  NOT NULL,
  client_id  VARCHAR(64),
  body       VARCHAR(65536) NOT NULL,
  sent_at    TIMESTAMP WITH TIME ZONE NOT NULL,
  PRIMARY KEY (recipient, seq)
);

-- A sender's id names one message: a resend with the same id is the same message.
CREATE UNIQUE INDEX messages_sender_client_id ON messages (sender, client_id);
