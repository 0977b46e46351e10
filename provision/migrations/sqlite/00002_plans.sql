-- Saved plans (Store.SavePlan): one row per plan, keyed by its hash. plan
-- is the plan's JSON byte for byte as Plan.Save writes it (read it with
-- CAST(plan AS TEXT)); the other columns repeat what Store.Plans lists.
-- created_at is the plan's CreatedAt in UTC, written
-- 2006-01-02T15:04:05.000000000Z so that it sorts as text.

-- +goose Up
CREATE TABLE zgov_plans (
    hash          TEXT PRIMARY KEY,
    backend       TEXT NOT NULL,
    account       TEXT NOT NULL,
    snapshot_hash TEXT NOT NULL,
    policy_digest TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    changes       INTEGER NOT NULL,
    plan          BLOB NOT NULL
) STRICT;

CREATE INDEX zgov_plans_created ON zgov_plans (created_at, hash);

-- +goose Down
DROP TABLE zgov_plans;
