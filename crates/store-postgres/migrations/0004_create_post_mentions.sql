-- @mentions of room members in posts (D4).
CREATE TABLE post_mentions (
    post_id TEXT NOT NULL REFERENCES posts (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    room_id TEXT NOT NULL REFERENCES rooms (id),
    PRIMARY KEY (post_id, account_id)
);
CREATE INDEX post_mentions_by_account ON post_mentions (account_id, room_id);
