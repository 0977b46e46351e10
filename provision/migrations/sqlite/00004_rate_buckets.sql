-- Shared rate limits (SharedLimiter): one token bucket per account key,
-- kept by a single time as the generic cell rate algorithm keeps one:
-- tat_us, the bucket's theoretical arrival time in Unix microseconds. A
-- token may be taken when tat_us is at most burst-1 intervals after now,
-- and taking it moves tat_us on by one interval (from now, if it is past);
-- so the bucket is full when tat_us <= now. taken_us is when the last token
-- was taken, for inspection. Neither the rate nor the burst is stored: each
-- limiter takes with its own.

-- +goose Up
CREATE TABLE zgov_rate_buckets (
    account   TEXT PRIMARY KEY,
    tat_us    INTEGER NOT NULL,
    taken_us  INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE zgov_rate_buckets;
