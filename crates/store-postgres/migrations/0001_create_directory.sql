-- The directory, sign-in and the audit trail. Times are Unix milliseconds (UTC).
-- Every row that belongs to a municipality carries municipality_id, so the data can be
-- sharded by municipality later.

CREATE TABLE municipalities (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    pw_min_length BIGINT NOT NULL,
    pw_max_age_days BIGINT,
    idle_timeout_secs BIGINT NOT NULL,
    absolute_timeout_secs BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE facilities (
    id TEXT PRIMARY KEY,
    municipality_id TEXT NOT NULL REFERENCES municipalities (id),
    corp_name TEXT NOT NULL,
    corp_kana TEXT NOT NULL,
    corp_representative TEXT NOT NULL,
    corp_postal_code TEXT NOT NULL,
    corp_address TEXT NOT NULL,
    corp_phone TEXT NOT NULL,
    name TEXT NOT NULL,
    kana TEXT NOT NULL,
    postal_code TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT,
    service_category TEXT NOT NULL,
    medical_institution_no TEXT,
    care_provider_no TEXT,
    administrator TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX facilities_by_municipality ON facilities (municipality_id, kana);

CREATE TABLE identities (
    id TEXT PRIMARY KEY,
    login_id TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    password_changed_at_ms BIGINT NOT NULL,
    totp_secret BYTEA,
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    identity_id TEXT NOT NULL REFERENCES identities (id),
    municipality_id TEXT REFERENCES municipalities (id),
    facility_id TEXT REFERENCES facilities (id),
    role TEXT NOT NULL,
    name TEXT NOT NULL,
    kana TEXT NOT NULL,
    occupation TEXT NOT NULL,
    occupation_other TEXT,
    email TEXT,
    phone TEXT,
    is_manager BOOLEAN NOT NULL,
    careplan BOOLEAN NOT NULL,
    status TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX accounts_by_municipality ON accounts (municipality_id, facility_id);
CREATE INDEX accounts_by_identity ON accounts (identity_id);

CREATE TABLE recovery_codes (
    identity_id TEXT NOT NULL REFERENCES identities (id),
    code_hash TEXT NOT NULL,
    used_at_ms BIGINT,
    PRIMARY KEY (identity_id, code_hash)
);

CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,
    identity_id TEXT REFERENCES identities (id),
    municipality_id TEXT REFERENCES municipalities (id),
    expires_at_ms BIGINT NOT NULL,
    used_at_ms BIGINT
);

CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    first_failure_at_ms BIGINT NOT NULL,
    locked_until_ms BIGINT
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    identity_id TEXT NOT NULL REFERENCES identities (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    municipality_id TEXT REFERENCES municipalities (id),
    created_at_ms BIGINT NOT NULL,
    last_seen_at_ms BIGINT NOT NULL,
    idle_timeout_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    second_factor_done BOOLEAN NOT NULL,
    ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    revoked_at_ms BIGINT
);
CREATE INDEX sessions_by_identity ON sessions (identity_id);

-- The newest seal of each chain; appenders take this row first, which orders them.
CREATE TABLE audit_heads (
    chain TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    seal TEXT NOT NULL
);

-- chain is the municipality id, or 'operator' for server-wide events.
CREATE TABLE audit_events (
    chain TEXT NOT NULL,
    seq BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    actor_account_id TEXT,
    actor_login TEXT NOT NULL,
    ip TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL,
    seal TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE INDEX audit_events_by_time ON audit_events (chain, at_ms);

-- The running system only ever appends; the seals catch whoever gets past this.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
