-- Time-bound grants (TimeBound): one row per grant. Times are Unix
-- milliseconds. window_s is the second the grant expires in, rounded up: the
-- key of the River job that ends every grant of that second together.
-- claim_job and claim_until_ms record which expiry job is ending a grant
-- (state 'ending') and until when its claim holds. At most one grant of an
-- entitlement to a principal is open at a time. asked is the end as asked
-- ("for:<ms>" or "until:<ms>"), which a retry with the same ID must repeat;
-- replaced lists, as JSON, the entitlements the grant took away (an
-- exclusive organization or role), which the expiry gives back.

-- +goose Up
CREATE TABLE zgov_timebound (
    id              TEXT PRIMARY KEY,
    principal_id    TEXT NOT NULL,
    entitlement_id  TEXT NOT NULL,
    grant_id        TEXT NOT NULL,
    actor           TEXT NOT NULL,
    standing        BIGINT NOT NULL,
    state           TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    expires_ms      BIGINT NOT NULL,
    window_s        BIGINT NOT NULL,
    claim_job       BIGINT NOT NULL DEFAULT 0,
    claim_until_ms  BIGINT NOT NULL DEFAULT 0,
    failures        BIGINT NOT NULL DEFAULT 0,
    ended_ms        BIGINT NOT NULL DEFAULT 0,
    ended_by        TEXT NOT NULL DEFAULT '',
    error           TEXT NOT NULL DEFAULT '',
    asked           TEXT NOT NULL DEFAULT '',
    replaced        TEXT NOT NULL DEFAULT ''
);

CREATE UNIQUE INDEX zgov_timebound_open ON zgov_timebound (grant_id)
    WHERE state IN ('pending', 'active', 'ending');
CREATE INDEX zgov_timebound_due ON zgov_timebound (window_s)
    WHERE state IN ('pending', 'active', 'ending');

-- +goose Down
DROP TABLE zgov_timebound;
