-- Care-plan data exchange (F1–F4): transmission sets one facility sends another (also across
-- municipalities on the same server), with the original files kept byte for byte.
CREATE TABLE careplan_sets (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    stamp TEXT NOT NULL,
    month TEXT,
    sender_facility_id TEXT NOT NULL REFERENCES facilities (id),
    receiver_facility_id TEXT NOT NULL REFERENCES facilities (id),
    sender_office TEXT NOT NULL,
    receiver_office TEXT NOT NULL,
    uploaded_by TEXT NOT NULL REFERENCES accounts (id),
    uploaded_at_ms BIGINT NOT NULL,
    sent_at_ms BIGINT,
    acknowledged_by TEXT REFERENCES accounts (id),
    acknowledged_at_ms BIGINT,
    -- A later deletion set (same sender, receiver and subject) withdrew this one.
    withdrawn_by TEXT REFERENCES careplan_sets (id),
    UNIQUE (sender_facility_id, receiver_facility_id, stamp, kind)
);
CREATE INDEX careplan_sets_by_sender ON careplan_sets (sender_facility_id, stamp);
CREATE INDEX careplan_sets_by_receiver ON careplan_sets (receiver_facility_id, stamp);

CREATE TABLE careplan_files (
    set_id TEXT NOT NULL REFERENCES careplan_sets (id),
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    bytes BLOB NOT NULL,
    PRIMARY KEY (set_id, position)
);

-- The people (利用者) a set is about: 保険者番号 + 被保険者番号, the key that ties its records
-- together (計画作成日 or 対象年月), and the patient it was matched to, if any.
CREATE TABLE careplan_subjects (
    set_id TEXT NOT NULL REFERENCES careplan_sets (id),
    insurer_no TEXT NOT NULL,
    insured_no TEXT NOT NULL,
    record_key TEXT NOT NULL,
    name TEXT NOT NULL,
    patient_id TEXT REFERENCES patients (id),
    PRIMARY KEY (set_id, insurer_no, insured_no, record_key)
);
CREATE INDEX careplan_subjects_by_person ON careplan_subjects (insurer_no, insured_no);
