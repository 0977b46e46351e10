package zendesk

import (
	"context"
	"slices"
	"sync"
	"time"
)

// defaultUserUpdatesPerMinute is Zendesk's limit on updates of one user (Update User, 5
// a minute per user), as third parties transcribe it: the current OpenAPI document
// does not state it.
const defaultUserUpdatesPerMinute = 5

// userPaceWindow is the window of the per-user limit.
const userPaceWindow = time.Minute

// userPacer keeps the updates of each user (PUT /users/{id}) within Zendesk's per-user
// limit: at most limit in any window of a minute. It counts an update from the moment
// its answer arrived, which is no earlier than when Zendesk counted it, so an update
// over the limit waits until a minute after the answer of the oldest one in the window,
// however long each took to reach Zendesk: a server counting a sliding window, a fixed
// window or a token bucket of that size never sees too many. Updates in flight hold
// their place until they end.
type userPacer struct {
	limit int
	now   func() time.Time

	mu    sync.Mutex
	users map[int64]*userUpdates
	swept time.Time
}

// userUpdates is what the pacer knows of one user's updates.
type userUpdates struct {
	inFlight int
	ended    []time.Time   // answers within the window, oldest first
	changed  chan struct{} // closed, and replaced, when an update in flight ends
}

func newUserPacer(limit int, now func() time.Time) *userPacer {
	return &userPacer{limit: limit, now: now, users: map[int64]*userUpdates{}}
}

// acquire waits until an update of user id may be sent, or ctx ends. The caller must
// call release when the update has ended, saying whether it may have reached Zendesk.
func (p *userPacer) acquire(ctx context.Context, id int64) (release func(sent bool), err error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		p.mu.Lock()
		now := p.now()
		p.sweep(now)
		u := p.users[id]
		if u == nil {
			u = &userUpdates{changed: make(chan struct{})}
			p.users[id] = u
		}
		u.forget(now)
		if len(u.ended)+u.inFlight < p.limit {
			u.inFlight++
			p.mu.Unlock()
			return func(sent bool) { p.release(u, sent) }, nil
		}
		// Full: wait for the oldest answer to leave the window, or for an update in
		// flight to end (which starts its minute, or frees its place if never sent).
		var expiry <-chan time.Time
		if len(u.ended) > 0 {
			d := u.ended[0].Add(userPaceWindow).Sub(now)
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			expiry = timer.C
		}
		changed := u.changed
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-expiry:
		case <-changed:
		}
	}
}

func (p *userPacer) release(u *userUpdates, sent bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u.inFlight--
	if sent {
		now := p.now()
		// Answers can arrive out of order; keep them sorted (there are at most limit).
		i, _ := slices.BinarySearchFunc(u.ended, now, func(a, b time.Time) int { return a.Compare(b) })
		u.ended = slices.Insert(u.ended, i, now)
	}
	close(u.changed)
	u.changed = make(chan struct{})
}

// forget drops the answers that have left the window.
func (u *userUpdates) forget(now time.Time) {
	n := 0
	for n < len(u.ended) && now.Sub(u.ended[n]) >= userPaceWindow {
		n++
	}
	u.ended = u.ended[n:]
}

// sweep forgets, at most once a window, the users with nothing in flight or in the
// window, so that a long-lived client does not keep every user it ever updated.
func (p *userPacer) sweep(now time.Time) {
	if now.Sub(p.swept) < userPaceWindow {
		return
	}
	p.swept = now
	for id, u := range p.users {
		u.forget(now)
		if u.inFlight == 0 && len(u.ended) == 0 {
			delete(p.users, id)
		}
	}
}
