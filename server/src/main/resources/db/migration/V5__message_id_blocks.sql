-- Message row ids are handed out by the servers that write messages, a block at a time, so that
-- the nodes of a cluster writing to one database never pick the same id. next_id is the first id
-- of the block the next server to ask gets; it starts after every id already used.
CREATE TABLE message_id_blocks (next_id BIGINT NOT NULL);
INSERT INTO message_id_blocks (next_id) SELECT COALESCE(MAX(id), 0) + 1 FROM messages;
