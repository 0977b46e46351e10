package zendesktest

import (
	"math"
	"sync"
	"time"
)

// bucket is a token bucket of capacity limit refilled continuously at
// limit/60 tokens per second. A client that paces itself at limit/60 requests
// per second is never throttled, and an idle client may burst up to limit.
type bucket struct {
	mu        sync.Mutex
	limit     int
	unlimited bool
	tokens    float64
	last      time.Time
}

func newBucket(limit int, unlimited bool, now time.Time) *bucket {
	return &bucket{limit: limit, unlimited: unlimited, tokens: float64(limit), last: now}
}

// bucketState is what the headers report after a take.
type bucketState struct {
	ok         bool
	limit      int
	remaining  int
	resetSecs  int // seconds until the bucket is full again
	retryAfter int // seconds until one token is available (when !ok)
}

func (b *bucket) refill(now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(float64(b.limit), b.tokens+el*float64(b.limit)/60)
		b.last = now
	} else if el < 0 {
		b.last = now // the clock went backwards: do not hand out tokens
	}
}

func (b *bucket) take(now time.Time) bucketState {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.unlimited {
		return bucketState{ok: true, limit: b.limit, remaining: b.limit}
	}
	b.refill(now)
	rate := float64(b.limit) / 60
	st := bucketState{limit: b.limit}
	// Small epsilon so that float rounding never rejects a client pacing at exactly limit/60.
	if b.tokens >= 1-1e-9 {
		b.tokens--
		if b.tokens < 0 {
			b.tokens = 0
		}
		st.ok = true
	} else {
		st.retryAfter = int(math.Ceil((1 - b.tokens) / rate))
		if st.retryAfter < 1 {
			st.retryAfter = 1
		}
	}
	st.remaining = int(math.Floor(b.tokens))
	st.resetSecs = int(math.Ceil((float64(b.limit) - b.tokens) / rate))
	return st
}

// giveBack returns a token taken for a request that was then refused by
// another bucket, so that a refused request costs nothing.
func (b *bucket) giveBack() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.unlimited {
		b.tokens = math.Min(float64(b.limit), b.tokens+1)
	}
}

// userWindow is Zendesk's limit on updates of one user: at most limit
// requests per user in any window of a minute (a sliding window, the
// strictest reading of "5 requests per minute per user": a client that
// keeps to it also keeps to a token bucket or a fixed window of that size).
// A refused request does not count.
type userWindow struct {
	mu    sync.Mutex
	limit int // 0: no limit
	hits  map[int64][]time.Time
	swept time.Time
}

// userWindowSpan is the window of the per-user limit.
const userWindowSpan = time.Minute

func newUserWindow(limit int) *userWindow {
	return &userWindow{limit: limit, hits: map[int64][]time.Time{}}
}

// take counts a request for user id at now, or answers how many seconds
// remain until the user's oldest request in the window leaves it.
func (w *userWindow) take(id int64, now time.Time) (ok bool, retryAfter int) {
	if w.limit <= 0 {
		return true, 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if now.Sub(w.swept) >= userWindowSpan {
		// Forget users with nothing left in the window, at most once a window.
		for uid, ts := range w.hits {
			if now.Sub(ts[len(ts)-1]) >= userWindowSpan {
				delete(w.hits, uid)
			}
		}
		w.swept = now
	}
	ts := w.hits[id]
	keep := 0
	for keep < len(ts) && now.Sub(ts[keep]) >= userWindowSpan {
		keep++
	}
	ts = ts[keep:]
	if len(ts) >= w.limit {
		w.hits[id] = ts
		wait := ts[0].Add(userWindowSpan).Sub(now)
		return false, max(1, int(math.Ceil(wait.Seconds())))
	}
	w.hits[id] = append(ts, now)
	return true, 0
}
