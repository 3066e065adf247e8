-- Invitation and closing requests (D6, D7), and the municipality's choice to let care managers
-- invite directly.

ALTER TABLE municipalities ADD COLUMN care_manager_may_invite BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE rooms ADD COLUMN closed_at_ms BIGINT;
ALTER TABLE rooms ADD COLUMN closing_reason TEXT;

CREATE TABLE room_requests (
    id TEXT PRIMARY KEY,
    municipality_id TEXT NOT NULL REFERENCES municipalities (id),
    room_id TEXT NOT NULL REFERENCES rooms (id),
    kind TEXT NOT NULL,
    requested_by TEXT NOT NULL REFERENCES accounts (id),
    target_account_id TEXT REFERENCES accounts (id),
    closing_reason TEXT,
    note TEXT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT REFERENCES accounts (id),
    decided_at_ms BIGINT,
    decision_note TEXT,
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX room_requests_pending ON room_requests (municipality_id, status);
CREATE INDEX room_requests_by_room ON room_requests (room_id);
