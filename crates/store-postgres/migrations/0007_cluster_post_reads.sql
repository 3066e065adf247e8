-- Read receipts are looked up by room first (see the SQLite migration of the same name): the
-- key becomes (room, post, account); (post, account) stays unique because a post belongs to one
-- room. Nothing read receipts by account alone, so that index goes.
ALTER TABLE post_reads DROP CONSTRAINT post_reads_pkey;
DROP INDEX post_reads_by_account;
ALTER TABLE post_reads ADD PRIMARY KEY (room_id, post_id, account_id);
