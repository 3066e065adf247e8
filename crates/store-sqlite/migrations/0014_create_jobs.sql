-- The durable job queue (issue 11): work done outside a request (files to remove, the sweep of
-- unreferenced files; e-mail and push next). A job is enqueued standalone or in the transaction
-- of the change it follows, claimed by one worker at a time under a lease (a worker that dies
-- leaves a job whose lease runs out, and it is claimed again), retried with exponential backoff
-- and left `dead` after its last attempt. `last_error` holds an error kind, never personal data.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    idempotency_key TEXT,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'dead')),
    attempts BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    run_at_ms BIGINT NOT NULL,
    locked_until_ms BIGINT,
    last_error TEXT,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
-- One unfinished job per key: the same work enqueued twice is one job.
CREATE UNIQUE INDEX jobs_by_idempotency_key ON jobs (idempotency_key)
    WHERE idempotency_key IS NOT NULL AND state IN ('queued', 'running');
-- The claim: due queued jobs, and running ones whose lease ran out, oldest first.
CREATE INDEX jobs_due ON jobs (run_at_ms) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs (locked_until_ms) WHERE state = 'running';
-- Counts for /metrics and the dead-letter list.
CREATE INDEX jobs_by_state ON jobs (state, updated_at_ms);
