-- Read receipts, kept together by room. A room view and "mark all read" add one member's
-- receipts for many posts of one room: keyed by (post, account) they landed on a different page
-- of the table for every post, and each such page was written to the write-ahead log and
-- checkpointed again. Keyed by (room, post, account) they land on a few neighbouring pages.
-- (post, account) stays unique: a post belongs to one room. Nothing read receipts by account
-- alone, so that index goes.
CREATE TABLE post_reads_by_room (
    room_id TEXT NOT NULL REFERENCES rooms (id),
    post_id TEXT NOT NULL REFERENCES posts (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    read_at_ms INTEGER NOT NULL,
    PRIMARY KEY (room_id, post_id, account_id)
) WITHOUT ROWID;

INSERT INTO post_reads_by_room (room_id, post_id, account_id, read_at_ms)
    SELECT room_id, post_id, account_id, read_at_ms FROM post_reads;

DROP TABLE post_reads;

ALTER TABLE post_reads_by_room RENAME TO post_reads;
