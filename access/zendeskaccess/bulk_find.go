package zendeskaccess

import (
	"context"
	"maps"
	"slices"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/zendesk"
)

// membershipFinder finds the group memberships RevokeMany deletes.
type membershipFinder struct {
	b       *Backend
	targets []target
	// byGroup lists the requests (indices into targets) of each group.
	byGroup map[int64][]int

	mu    sync.Mutex
	found map[int]*Grant // requests whose membership was found
}

// groupUsers returns the distinct users of each group's requests.
func (f *membershipFinder) groupUsers() map[int64][]int64 {
	out := make(map[int64][]int64, len(f.byGroup))
	for g, idx := range f.byGroup {
		users := make([]int64, 0, len(idx))
		for _, i := range idx {
			users = append(users, f.targets[i].userID)
		}
		slices.Sort(users)
		out[g] = slices.Compact(users)
	}
	return out
}

// listGroups lists the memberships of the groups cheaper to list than to
// read user by user (see Backend.RevokeMany) and records the affected users'
// memberships found there. A count that fails leaves its group to the
// per-user reads, and a list that fails the users it has not yet found.
func (f *membershipFinder) listGroups(ctx context.Context) {
	if f.b.readUsersOnly {
		return
	}
	users := f.groupUsers()
	now := f.b.now()
	sizes := map[int64]int{}
	for g := range users {
		if n, ok := f.b.known.groupSize(g, now); ok {
			sizes[g] = n
		}
	}
	// Ask for the sizes the choice needs and the backend does not know.
	var ask []int64
	for g, list := range chooseLists(users, sizes, true) {
		if _, ok := sizes[g]; list && !ok {
			ask = append(ask, g)
		}
	}
	slices.Sort(ask)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.b.cfg.concurrency)
	for _, id := range ask {
		g.Go(func() error {
			n, _, err := f.b.client.Groups.CountUsers(gctx, id)
			if err == nil { // otherwise the group is read user by user
				mu.Lock()
				sizes[id] = int(max(0, n.Value))
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	lists := chooseLists(users, sizes, false)
	read := readAnyway(users, lists)
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(f.b.cfg.concurrency)
	for _, id := range slices.Sorted(maps.Keys(lists)) {
		if !lists[id] {
			continue
		}
		g.Go(func() error {
			f.listGroup(gctx, id, read)
			return nil
		})
	}
	_ = g.Wait()
}

// listGroup lists group id's memberships until every affected user not in
// read has been found, and records the memberships of the affected users,
// also those found before the list failed.
func (f *membershipFinder) listGroup(ctx context.Context, id int64, read map[int64]bool) {
	want := map[int64][]int{} // requests by user
	need := 0                 // users to find before the list may stop
	for _, i := range f.byGroup[id] {
		u := f.targets[i].userID
		if len(want[u]) == 0 && !read[u] {
			need++
		}
		want[u] = append(want[u], i)
	}
	found := map[int]*Grant{}
	for m, err := range f.b.client.GroupMemberships.ListByGroup(ctx, id) {
		if err != nil {
			break // the per-user reads find the others
		}
		idx, ok := want[m.UserID]
		if !ok || m.GroupID != id || found[idx[0]] != nil {
			continue
		}
		// As the per-user reads build it: they do not read the user
		// object, so principal_suspended is not known and false.
		g := f.b.attrs.membershipGrant(groupEID(m.GroupID), m.UserID, m.ID, false, m.Default)
		for _, i := range idx {
			found[i] = g
		}
		if !read[m.UserID] {
			if need--; need == 0 {
				break
			}
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	maps.Copy(f.found, found)
}

// listCost is the number of requests that finding k users' memberships in
// a group of n members costs by listing it: its pages (at least one), and a
// per-user read for each user the list cannot show (at least k-n of them).
func listCost(n, k int) int {
	return max(1, (n+pageSize-1)/pageSize) + max(0, k-n)
}

// chooseLists returns, for each group, whether its memberships are cheaper
// to list than to read user by user, given its users and the sizes known
// (sizes). A user read one by one for some group is read for all: only the
// others count against a list. A group of unknown size is listed only if
// optimistic, as if a count and a single page would do; chooseLists is
// called that way to decide which sizes to ask for.
func chooseLists(users map[int64][]int64, sizes map[int64]int, optimistic bool) map[int64]bool {
	lists := make(map[int64]bool, len(users))
	for g := range users {
		lists[g] = true
	}
	// Each pass may only turn lists into per-user reads, so this ends.
	for changed := true; changed; {
		changed = false
		read := readAnyway(users, lists)
		for g, us := range users {
			if !lists[g] {
				continue
			}
			k := 0
			for _, u := range us {
				if !read[u] {
					k++
				}
			}
			cost := k // unknown size, not optimistic: read user by user
			if n, ok := sizes[g]; ok {
				cost = listCost(n, k)
			} else if optimistic {
				cost = 2
			}
			if cost >= k {
				lists[g], changed = false, true
			}
		}
	}
	return lists
}

// readAnyway returns the users of groups that are not listed: they are read
// one by one whatever else is listed.
func readAnyway(users map[int64][]int64, lists map[int64]bool) map[int64]bool {
	read := map[int64]bool{}
	for g, us := range users {
		if !lists[g] {
			for _, u := range us {
				read[u] = true
			}
		}
	}
	return read
}

// readUsers reads, one request a user, WithConcurrency at once, the
// memberships of the users of the requests in idx (those no list found), as
// RevokeMany always did: a membership found joins f.found; a user who is not
// a member of a group the backend knows is StatusAlreadyRevoked; a user
// whose read fails and a group the backend does not know are left to
// Revoke, which explains them (returned).
func (f *membershipFinder) readUsers(ctx context.Context, r *bulkRun, idx []int) (single []int) {
	byUser := map[int64][]int{}
	for _, i := range idx {
		byUser[f.targets[i].userID] = append(byUser[f.targets[i].userID], i)
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.b.cfg.concurrency)
	for _, uid := range slices.Sorted(maps.Keys(byUser)) {
		g.Go(func() error {
			held, err := f.b.userGroupGrants(gctx, &zendesk.User{ID: uid})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				single = append(single, byUser[uid]...) // Revoke explains it
				return nil
			}
			for _, i := range byUser[uid] {
				var m *Grant
				for _, h := range held {
					if h.(*Grant).EntitlementID == f.targets[i].eid {
						m = h.(*Grant)
					}
				}
				switch {
				case m != nil:
					f.mu.Lock()
					f.found[i] = m
					f.mu.Unlock()
				case f.b.known.has(TypeGroup, f.targets[i].id, f.b.now()):
					r.set(i, access.Result{Status: access.StatusAlreadyRevoked}, nil)
				default:
					single = append(single, i) // an unknown group: Revoke says so
				}
			}
			return nil
		})
	}
	_ = g.Wait()
	return single
}
