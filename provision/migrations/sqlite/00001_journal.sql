-- The journal (SQLJournalStore): one row per entry. entry is the entry's
-- canonical JSON with its hash member, a line of ExportJSONL as it stands,
-- and what the store returns; the other columns repeat what the store finds
-- entries by. seq is the rowid, so rows are kept in sequence order, and the
-- primary key makes two writers that append after one head conflict.

-- +goose Up
CREATE TABLE zgov_journal (
    seq       INTEGER PRIMARY KEY,
    time      TEXT NOT NULL,
    kind      TEXT NOT NULL,
    change_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    entry     TEXT NOT NULL
) STRICT;

CREATE INDEX zgov_journal_change ON zgov_journal (change_id, seq);

-- +goose Down
DROP TABLE zgov_journal;
