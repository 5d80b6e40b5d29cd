-- Parley's first schema. Written in the SQL that PostgreSQL and H2 (in PostgreSQL mode) share.

-- One row per account. Besides the credentials it holds the per-user state that must survive a
-- restart and changes rarely: login history for whoelsesince, and the login-failure lockout.
CREATE TABLE accounts (
  username        VARCHAR(64)  PRIMARY KEY,
  -- Self-describing: pbkdf2-sha256$<iterations>$<salt>$<hash>, so parameters can be raised later.
  password_hash   VARCHAR(255) NOT NULL,
  created_at      TIMESTAMP WITH TIME ZONE NOT NULL,
  last_login      TIMESTAMP WITH TIME ZONE,
  last_logout     TIMESTAMP WITH TIME ZONE,
  failed_logins   INTEGER      NOT NULL DEFAULT 0,
  blocked_until   TIMESTAMP WITH TIME ZONE
);

-- How far each user has acknowledged their messages. Apart from the accounts because it changes
-- with every few messages: a narrow row keeps each commit small. (The highest sequence number used
-- for a user needs no column: it is the highest of their messages, of which the newest is always
-- kept.)
CREATE TABLE delivery (
  username   VARCHAR(64) PRIMARY KEY REFERENCES accounts (username) ON DELETE CASCADE,
  acked_seq  BIGINT      NOT NULL DEFAULT 0
);

-- blocker blocks blocked.
CREATE TABLE blocks (
  blocker VARCHAR(64) NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
  blocked VARCHAR(64) NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
  PRIMARY KEY (blocker, blocked)
);

-- Direct messages, numbered per recipient. Those above the recipient's acked_seq are the ones
-- still to be delivered; acknowledged ones are kept a while to recognise a sender's resend.
--
-- Shaped for writing: rows arrive in the order the journal commits them, so the primary key is an
-- increasing row number and every insert lands at the end of the table. No index on
-- (recipient, seq): the server reads messages by recipient only when it starts (a scan), and an
-- index there would put every insert in a random place. The recipient has no foreign key either,
-- which would cost a lookup per insert: removing an account deletes its messages explicitly, and
-- the journal checks once per batch that the recipients exist.
CREATE TABLE messages (
  -- Numbered by the journal, the table's only writer (an identity column would make H2 commit
  -- every few dozen rows to persist its sequence, in the middle of the journal's transaction).
  id         BIGINT       PRIMARY KEY,
  recipient  VARCHAR(64)  NOT NULL,
  seq        BIGINT       NOT NULL,
  sender     VARCHAR(64)  NOT NULL,
  client_id  VARCHAR(64),
  body       VARCHAR(65536) NOT NULL,
  sent_at    TIMESTAMP WITH TIME ZONE NOT NULL
);

-- A sender's id names one message: a resend with the same id is the same message.
CREATE UNIQUE INDEX messages_sender_client_id ON messages (sender, client_id);
