-- Review campaigns (package review). Times are Unix milliseconds (0: none).
-- Every table is keyed by its campaign first. seq numbers a campaign's
-- history (decisions and events together) from 1, without gaps: each write
-- takes the next from zgov_review_campaigns.next_seq in the transaction that
-- writes the row.

-- +goose Up
CREATE TABLE zgov_review_campaigns (
    id              TEXT COLLATE "C" PRIMARY KEY,
    name            TEXT COLLATE "C" NOT NULL,
    created_by      TEXT COLLATE "C" NOT NULL,
    created_ms      BIGINT NOT NULL,
    due_ms          BIGINT NOT NULL,
    state           TEXT COLLATE "C" NOT NULL,
    closed_ms       BIGINT NOT NULL DEFAULT 0,
    closed_by       TEXT COLLATE "C" NOT NULL DEFAULT '',
    next_seq        BIGINT NOT NULL DEFAULT 1,
    spec            TEXT COLLATE "C" NOT NULL,
    population      TEXT COLLATE "C" NOT NULL,
    snapshot_hash   TEXT COLLATE "C" NOT NULL,
    snapshot        BYTEA
);

-- The facts of each principal of a campaign's population, as the snapshot
-- showed them (JSON of review.Principal).
CREATE TABLE zgov_review_principals (
    campaign_id     TEXT COLLATE "C" NOT NULL,
    principal_id    TEXT COLLATE "C" NOT NULL,
    facts           TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (campaign_id, principal_id)
);

-- The facts of each entitlement a campaign's items hold (JSON).
CREATE TABLE zgov_review_entitlements (
    campaign_id     TEXT COLLATE "C" NOT NULL,
    entitlement_id  TEXT COLLATE "C" NOT NULL,
    facts           TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (campaign_id, entitlement_id)
);

-- One row per item: a grant (grant_id set) or an account with all its
-- grants in scope (grant_id ''). grants is the JSON of the item's grants
-- and their facts. reviewers counts its active reviewers, certifies and
-- revokes their current decisions, from which its outcome follows. outcome is '', 'certified' or 'revoked'; remediation
-- '', 'pending', 'done', 'failed' or 'manual', with its detail as JSON.
CREATE TABLE zgov_review_items (
    campaign_id     TEXT COLLATE "C" NOT NULL,
    id              BIGINT NOT NULL,
    principal_id    TEXT COLLATE "C" NOT NULL,
    grant_id        TEXT COLLATE "C" NOT NULL,
    grants          TEXT COLLATE "C" NOT NULL,
    reviewers       BIGINT NOT NULL,
    certifies       BIGINT NOT NULL DEFAULT 0,
    revokes         BIGINT NOT NULL DEFAULT 0,
    outcome         TEXT COLLATE "C" NOT NULL DEFAULT '',
    outcome_by      TEXT COLLATE "C" NOT NULL DEFAULT '',
    outcome_ms      BIGINT NOT NULL DEFAULT 0,
    remediation     TEXT COLLATE "C" NOT NULL DEFAULT '',
    remediation_ms  BIGINT NOT NULL DEFAULT 0,
    attempt         BIGINT NOT NULL DEFAULT 0,
    detail          TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (campaign_id, id)
);

-- Who reviews which item, and each reviewer's current decision. pos orders
-- an item's assignments as they were made. active is 0 once the item was
-- reassigned or delegated away from the reviewer.
CREATE TABLE zgov_review_assignments (
    campaign_id     TEXT COLLATE "C" NOT NULL,
    item_id         BIGINT NOT NULL,
    reviewer        TEXT COLLATE "C" NOT NULL,
    pos             BIGINT NOT NULL,
    active          BIGINT NOT NULL,
    rule            TEXT COLLATE "C" NOT NULL,
    reason          TEXT COLLATE "C" NOT NULL,
    fallback        BIGINT NOT NULL,
    assigned_ms     BIGINT NOT NULL,
    verdict         TEXT COLLATE "C" NOT NULL DEFAULT '',
    justification   TEXT COLLATE "C" NOT NULL DEFAULT '',
    decided_ms      BIGINT NOT NULL DEFAULT 0,
    decision_seq    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, item_id, reviewer)
);

CREATE INDEX zgov_review_assignments_reviewer ON zgov_review_assignments (campaign_id, reviewer, item_id);

-- Every decision ever recorded, changed ones included.
CREATE TABLE zgov_review_decisions (
    campaign_id     TEXT COLLATE "C" NOT NULL,
    seq             BIGINT NOT NULL,
    item_id         BIGINT NOT NULL,
    reviewer        TEXT COLLATE "C" NOT NULL,
    verdict         TEXT COLLATE "C" NOT NULL,
    justification   TEXT COLLATE "C" NOT NULL,
    decided_ms      BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, seq)
);

-- Everything else that happened to a campaign: assignment changes with
-- their reasons, defaults applied at close, remediation and its
-- verification, reminders.
CREATE TABLE zgov_review_events (
    campaign_id     TEXT COLLATE "C" NOT NULL,
    seq             BIGINT NOT NULL,
    at_ms           BIGINT NOT NULL,
    kind            TEXT COLLATE "C" NOT NULL,
    item_id         BIGINT NOT NULL,
    actor           TEXT COLLATE "C" NOT NULL,
    from_reviewer   TEXT COLLATE "C" NOT NULL,
    to_reviewer     TEXT COLLATE "C" NOT NULL,
    reason          TEXT COLLATE "C" NOT NULL,
    detail          TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (campaign_id, seq)
);

-- +goose Down
DROP TABLE zgov_review_events;
DROP TABLE zgov_review_decisions;
DROP TABLE zgov_review_assignments;
DROP TABLE zgov_review_items;
DROP TABLE zgov_review_entitlements;
DROP TABLE zgov_review_principals;
DROP TABLE zgov_review_campaigns;
