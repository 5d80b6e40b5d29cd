-- One message per (recipient, seq). A user's sequence has one writer, the user's owner; in a
-- cluster a partitioned old owner may still write for a moment after a new one has started, and
-- without this both could store a message under the same seq, one of which the client would never
-- see (it acknowledges by seq). With it, the second write is refused (unique violation, 23505): the
-- journal's IsolatingWriter takes that as a data failure and refuses that change alone.
--
-- This is the index V1 did without, to keep inserts at the end of the table's indexes: entries now
-- land at the end of each recipient's range instead. It also serves the reads of one user's state
-- (their highest seq and their unacknowledged messages), which were scans of the whole table.
ALTER TABLE messages ADD CONSTRAINT messages_recipient_seq UNIQUE (recipient, seq);
