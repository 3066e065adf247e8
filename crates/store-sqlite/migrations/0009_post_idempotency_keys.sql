-- Each post form carries a one-time key (issue 9): a form sent again after an error that may
-- have come after the write (the database going away at commit) finds the post it wrote
-- instead of writing a second one. Unique per author; posts written before have none.
ALTER TABLE posts ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX posts_by_idempotency_key ON posts (author_account_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
