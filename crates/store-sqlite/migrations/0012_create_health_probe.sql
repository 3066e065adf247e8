-- One row that /healthz rewrites to prove that writes reach the disk (issue 9: a full disk
-- used to stop every write while reads, and /healthz, still looked fine).
CREATE TABLE health_probe (
    id INTEGER PRIMARY KEY,
    at_ms BIGINT NOT NULL
);
