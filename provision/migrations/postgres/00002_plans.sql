-- Saved plans (Store.SavePlan): one row per plan, keyed by its hash. plan
-- is the plan's JSON byte for byte as Plan.Save writes it, whatever the
-- database's encoding (read it with convert_from(plan, 'UTF8')); the other
-- columns repeat what Store.Plans lists. created_at is the plan's CreatedAt
-- in UTC, written 2006-01-02T15:04:05.000000000Z: to the nanosecond, as the
-- plan holds it, and sorting as text (in the "C" collation).

-- +goose Up
CREATE TABLE zgov_plans (
    hash          TEXT COLLATE "C" PRIMARY KEY,
    backend       TEXT NOT NULL,
    account       TEXT NOT NULL,
    snapshot_hash TEXT NOT NULL,
    policy_digest TEXT NOT NULL,
    created_at    TEXT COLLATE "C" NOT NULL,
    changes       INTEGER NOT NULL,
    plan          BYTEA NOT NULL
);

CREATE INDEX zgov_plans_created ON zgov_plans (created_at, hash);

-- +goose Down
DROP TABLE zgov_plans;
