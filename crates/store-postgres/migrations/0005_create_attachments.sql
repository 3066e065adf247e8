-- Photos and PDFs attached to posts (D4). The bytes live in the blob store under
-- content_key / thumb_key; the database keeps what the timeline shows.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    municipality_id TEXT NOT NULL REFERENCES municipalities (id),
    room_id TEXT NOT NULL REFERENCES rooms (id),
    post_id TEXT NOT NULL REFERENCES posts (id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    size BIGINT NOT NULL,
    width BIGINT NOT NULL,
    height BIGINT NOT NULL,
    content_key TEXT NOT NULL,
    thumb_key TEXT,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX attachments_by_post ON attachments (post_id);
