-- The journal (SQLJournalStore): one row per entry. entry is the entry's
-- canonical JSON with its hash member, a line of ExportJSONL as it stands
-- (ASCII only), and what the store returns; the other columns repeat what
-- the store finds entries by. The primary key on seq makes two writers that
-- append after one head conflict: the second insert waits for the first
-- transaction and fails with a unique violation when it commits.

-- +goose Up
CREATE TABLE zgov_journal (
    seq       BIGINT PRIMARY KEY,
    time      TIMESTAMPTZ NOT NULL,
    kind      TEXT NOT NULL,
    change_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    entry     TEXT NOT NULL
);

CREATE INDEX zgov_journal_change ON zgov_journal (change_id, seq);

-- +goose Down
DROP TABLE zgov_journal;
