-- Patients, consent, rooms and the 連絡帳. Times are Unix milliseconds (UTC); every row carries
-- municipality_id.

CREATE TABLE patients (
    id TEXT PRIMARY KEY,
    municipality_id TEXT NOT NULL REFERENCES municipalities (id),
    name TEXT NOT NULL,
    kana TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT,
    insurer_no TEXT,
    insured_no TEXT,
    care_level TEXT NOT NULL,
    contacts TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE consents (
    id TEXT PRIMARY KEY,
    municipality_id TEXT NOT NULL REFERENCES municipalities (id),
    patient_id TEXT NOT NULL REFERENCES patients (id),
    consented_on TEXT NOT NULL,
    proxy_name TEXT,
    proxy_relation TEXT,
    family_name TEXT,
    family_relation TEXT,
    explainer_facility TEXT NOT NULL,
    explainer_name TEXT NOT NULL,
    recorded_at_ms BIGINT NOT NULL,
    withdrawn_at_ms BIGINT
);
CREATE INDEX consents_by_patient ON consents (patient_id);

CREATE TABLE rooms (
    id TEXT PRIMARY KEY,
    municipality_id TEXT NOT NULL REFERENCES municipalities (id),
    patient_id TEXT NOT NULL REFERENCES patients (id),
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    last_post_at_ms BIGINT
);
CREATE INDEX rooms_by_municipality ON rooms (municipality_id, created_at_ms);

CREATE TABLE room_members (
    id TEXT PRIMARY KEY,
    municipality_id TEXT NOT NULL REFERENCES municipalities (id),
    room_id TEXT NOT NULL REFERENCES rooms (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    joined_at_ms BIGINT NOT NULL,
    left_at_ms BIGINT
);
CREATE INDEX room_members_by_account ON room_members (account_id, left_at_ms);
CREATE INDEX room_members_by_room ON room_members (room_id);
-- At most one current membership per account and room.
CREATE UNIQUE INDEX room_members_current ON room_members (room_id, account_id) WHERE left_at_ms IS NULL;

CREATE TABLE posts (
    id TEXT PRIMARY KEY,
    municipality_id TEXT NOT NULL REFERENCES municipalities (id),
    room_id TEXT NOT NULL REFERENCES rooms (id),
    parent_id TEXT REFERENCES posts (id),
    author_account_id TEXT NOT NULL REFERENCES accounts (id),
    category TEXT NOT NULL,
    importance TEXT NOT NULL,
    body TEXT NOT NULL,
    ack_requested BOOLEAN NOT NULL,
    systolic BIGINT,
    diastolic BIGINT,
    pulse BIGINT,
    temperature_tenths BIGINT,
    spo2 BIGINT,
    respiration BIGINT,
    weight_tenths BIGINT,
    glucose BIGINT,
    created_at_ms BIGINT NOT NULL,
    edited_at_ms BIGINT,
    deleted_at_ms BIGINT
);
-- Timeline pages: top-level posts of a room, newest first, by id (UUIDv7 is time-ordered).
CREATE INDEX posts_timeline ON posts (room_id, parent_id, id);
CREATE INDEX posts_by_parent ON posts (parent_id);

CREATE TABLE post_versions (
    post_id TEXT NOT NULL REFERENCES posts (id),
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    replaced_at_ms BIGINT NOT NULL,
    PRIMARY KEY (post_id, version)
);

CREATE TABLE post_reads (
    post_id TEXT NOT NULL REFERENCES posts (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    room_id TEXT NOT NULL REFERENCES rooms (id),
    read_at_ms BIGINT NOT NULL,
    PRIMARY KEY (post_id, account_id)
);
CREATE INDEX post_reads_by_account ON post_reads (account_id, room_id);

CREATE TABLE post_acks (
    post_id TEXT NOT NULL REFERENCES posts (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    acked_at_ms BIGINT NOT NULL,
    PRIMARY KEY (post_id, account_id)
);
