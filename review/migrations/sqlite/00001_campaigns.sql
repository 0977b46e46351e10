-- Review campaigns (package review). Times are Unix milliseconds (0: none).
-- A campaign has an ID (its name in journal IDs) and a key, pk, by which
-- every other table is keyed first. seq numbers a campaign's
-- history (decisions and events together) from 1, without gaps: each write
-- takes the next from zgov_review_campaigns.next_seq in the transaction that
-- writes the row.

-- +goose Up
CREATE TABLE zgov_review_campaigns (
    pk              INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    due_ms          INTEGER NOT NULL,
    state           TEXT NOT NULL,
    closed_ms       INTEGER NOT NULL DEFAULT 0,
    closed_by       TEXT NOT NULL DEFAULT '',
    next_seq        INTEGER NOT NULL DEFAULT 1,
    spec            TEXT NOT NULL,
    population      TEXT NOT NULL,
    snapshot_hash   TEXT NOT NULL,
    snapshot        BLOB
) STRICT;

-- The facts of each principal of a campaign's population, as the snapshot
-- showed them (JSON of review.Principal).
CREATE TABLE zgov_review_principals (
    campaign        INTEGER NOT NULL,
    principal_id    TEXT NOT NULL,
    facts           TEXT NOT NULL,
    PRIMARY KEY (campaign, principal_id)
) STRICT, WITHOUT ROWID;

-- The facts of each entitlement a campaign's items hold (JSON).
CREATE TABLE zgov_review_entitlements (
    campaign        INTEGER NOT NULL,
    entitlement_id  TEXT NOT NULL,
    facts           TEXT NOT NULL,
    PRIMARY KEY (campaign, entitlement_id)
) STRICT, WITHOUT ROWID;

-- One row per item: a grant, or an account with all its grants in scope.
-- grants is the JSON of the item's grants and their facts. reviewers counts its active reviewers, certifies and
-- revokes their current decisions, from which its outcome follows. outcome is '', 'certified' or 'revoked'; remediation
-- '', 'pending', 'done', 'failed' or 'manual', with its detail as JSON.
CREATE TABLE zgov_review_items (
    campaign        INTEGER NOT NULL,
    id              INTEGER NOT NULL,
    principal_id    TEXT NOT NULL,
    grants          TEXT NOT NULL,
    reviewers       INTEGER NOT NULL,
    certifies       INTEGER NOT NULL DEFAULT 0,
    revokes         INTEGER NOT NULL DEFAULT 0,
    outcome         TEXT NOT NULL DEFAULT '',
    outcome_by      TEXT NOT NULL DEFAULT '',
    outcome_ms      INTEGER NOT NULL DEFAULT 0,
    remediation     TEXT NOT NULL DEFAULT '',
    remediation_ms  INTEGER NOT NULL DEFAULT 0,
    attempt         INTEGER NOT NULL DEFAULT 0,
    detail          TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (campaign, id)
) STRICT, WITHOUT ROWID;

-- Who reviews which item, and each reviewer's current decision. pos orders
-- an item's assignments as they were made. active is 0 once the item was
-- reassigned or delegated away from the reviewer.
CREATE TABLE zgov_review_assignments (
    campaign        INTEGER NOT NULL,
    item_id         INTEGER NOT NULL,
    reviewer        TEXT NOT NULL,
    pos             INTEGER NOT NULL,
    active          INTEGER NOT NULL,
    rule            TEXT NOT NULL,
    reason          TEXT NOT NULL,
    fallback        INTEGER NOT NULL,
    assigned_ms     INTEGER NOT NULL,
    verdict         TEXT NOT NULL DEFAULT '',
    justification   TEXT NOT NULL DEFAULT '',
    decided_ms      INTEGER NOT NULL DEFAULT 0,
    decision_seq    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign, item_id, reviewer)
) STRICT, WITHOUT ROWID;

CREATE INDEX zgov_review_assignments_reviewer ON zgov_review_assignments (campaign, reviewer, item_id);

-- Every decision ever recorded, changed ones included.
CREATE TABLE zgov_review_decisions (
    campaign        INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    item_id         INTEGER NOT NULL,
    reviewer        TEXT NOT NULL,
    verdict         TEXT NOT NULL,
    justification   TEXT NOT NULL,
    decided_ms      INTEGER NOT NULL,
    PRIMARY KEY (campaign, seq)
) STRICT, WITHOUT ROWID;

-- Everything else that happened to a campaign: assignment changes with
-- their reasons, defaults applied at close, remediation and its
-- verification, reminders.
CREATE TABLE zgov_review_events (
    campaign        INTEGER NOT NULL,
    seq             INTEGER NOT NULL,
    at_ms           INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    item_id         INTEGER NOT NULL,
    actor           TEXT NOT NULL,
    from_reviewer   TEXT NOT NULL,
    to_reviewer     TEXT NOT NULL,
    reason          TEXT NOT NULL,
    detail          TEXT NOT NULL,
    PRIMARY KEY (campaign, seq)
) STRICT, WITHOUT ROWID;

-- +goose Down
DROP TABLE zgov_review_events;
DROP TABLE zgov_review_decisions;
DROP TABLE zgov_review_assignments;
DROP TABLE zgov_review_items;
DROP TABLE zgov_review_entitlements;
DROP TABLE zgov_review_principals;
DROP TABLE zgov_review_campaigns;
