package zendeskaccess

import (
	"context"
	"sync"
	"time"
)

// keyedLocks serialises the changes one backend makes to one user (keyed by
// id; accounts being created are keyed by e-mail address), so that
// each grant or revoke reads the user after the one before it wrote: twenty
// concurrent organization grants to one user on an account without multiple
// organizations are then one grant and nineteen refusals (or moves, each
// reported), never twenty grants of which nineteen were silently undone.
// Changes to different users run concurrently.
type keyedLocks[K comparable] struct {
	mu sync.Mutex
	m  map[K]*userLock
}

type userLock struct {
	ch      chan struct{} // holds a token while the user is locked
	waiters int           // holders and waiters; the entry goes at zero
}

// lock waits for the user's lock, or for ctx to end, and returns the
// function that releases it.
func (l *keyedLocks[K]) lock(ctx context.Context, userID K) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[K]*userLock{}
	}
	ul := l.m[userID]
	if ul == nil {
		ul = &userLock{ch: make(chan struct{}, 1)}
		l.m[userID] = ul
	}
	ul.waiters++
	l.mu.Unlock()

	select {
	case ul.ch <- struct{}{}:
		return func() {
			<-ul.ch
			l.release(userID, ul)
		}, nil
	case <-ctx.Done():
		l.release(userID, ul)
		return nil, ctx.Err()
	}
}

func (l *keyedLocks[K]) release(userID K, ul *userLock) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ul.waiters--
	if ul.waiters == 0 {
		delete(l.m, userID)
	}
}

// knownSets remembers which groups and organizations exist, from the last
// sync's streams and from single reads, for stateTTL: a grant of one of them
// need not read it again before writing. It also keeps the number of
// members of each group that the last sync's group_memberships stream
// counted, which RevokeMany uses to estimate what listing a group costs.
type knownSets struct {
	mu      sync.Mutex
	sets    map[string]knownSet // by resource type
	one     map[knownKey]time.Time
	sizes   map[int64]int // members by group id; a group not in it had none
	sizesAt time.Time
}

type knownSet struct {
	ids map[int64]bool
	at  time.Time
}

type knownKey struct {
	kind string
	id   int64
}

// setAll records the ids a stream read at time at.
func (k *knownSets) setAll(kind string, ids map[int64]bool, at time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sets == nil {
		k.sets = map[string]knownSet{}
	}
	k.sets[kind] = knownSet{ids: ids, at: at}
}

// add records that one resource was seen at time at.
func (k *knownSets) add(kind string, id int64, at time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.one == nil {
		k.one = map[knownKey]time.Time{}
	}
	for key, t := range k.one { // keep the map small: drop what has expired
		if at.Sub(t) >= stateTTL {
			delete(k.one, key)
		}
	}
	k.one[knownKey{kind, id}] = at
}

// has reports whether the resource was seen within stateTTL of now.
func (k *knownSets) has(kind string, id int64, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s, ok := k.sets[kind]; ok && s.ids[id] && now.Sub(s.at) < stateTTL {
		return true
	}
	t, ok := k.one[knownKey{kind, id}]
	return ok && now.Sub(t) < stateTTL
}

// setGroupSizes records the members of every group, counted from a list of
// all the account's group memberships that began at time at.
func (k *knownSets) setGroupSizes(sizes map[int64]int, at time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sizes, k.sizesAt = sizes, at
}

// groupSize returns the members of a group as counted within stateTTL of
// now (0 for a group the count did not see), and whether there is such a
// count. It is an estimate: memberships may have changed since.
func (k *knownSets) groupSize(id int64, now time.Time) (int, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sizes == nil || now.Sub(k.sizesAt) >= stateTTL {
		return 0, false
	}
	return k.sizes[id], true
}
