package zendesktest

import "net/http"

// The count endpoints, which clients use to size their work before listing.
// They answer {"count":{"value":N,"refreshed_at":"..."}}, and the value is
// the number of records the matching list returns. Zendesk counts
// approximately above 100,000 records, refreshing such counts once a day;
// the simulator always counts exactly and stamps refreshed_at with its clock.

// writeCount answers the count body.
func (c *call) writeCount(n int) {
	w := jw{}
	w.open()
	w.key("count")
	w.open()
	w.i64("value", int64(n))
	w.time("refreshed_at", c.nowUnix())
	w.close()
	w.close()
	c.ok(http.StatusOK, w.b)
}

// count answers the count that f computes under the read lock; f may fail
// (an unknown parent).
func (c *call) count(f func(st *store) (int, *apiError)) {
	var n int
	var e *apiError
	c.s.read(func(st *store) { n, e = f(st) })
	if e != nil {
		c.fail(e)
		return
	}
	c.writeCount(n)
}

// countUsers counts the users of memberships at positions list that pass f.
func countUsers(st *store, list []int32, userID func(q int32) int64, f userFilter) int {
	n := 0
	for _, q := range list {
		if f.match(&st.users[st.userPos(userID(q))]) {
			n++
		}
	}
	return n
}

// handleCountUsers is GET /users/count: the users GET /users lists, with the
// same role, role[] and permission_set filters (brand_id is accepted and
// ignored: the simulator has one brand).
func handleCountUsers(c *call) {
	f, e := parseUserFilter(c, false)
	if e != nil {
		c.fail(e)
		return
	}
	c.count(func(st *store) (int, *apiError) {
		n := 0
		for i := range st.users {
			if f.match(&st.users[i]) {
				n++
			}
		}
		return n, nil
	})
}

// handleCountGroups is GET /groups/count: the groups GET /groups lists,
// deleted ones included.
func handleCountGroups(c *call) {
	c.count(func(st *store) (int, *apiError) { return len(st.groups), nil })
}

// handleCountOrganizations is GET /organizations/count.
func handleCountOrganizations(c *call) {
	c.count(func(st *store) (int, *apiError) { return st.liveOrgs, nil })
}

// handleCountGroupUsers is GET /groups/{id}/users/count.
func handleCountGroupUsers(c *call) {
	f, e := parseUserFilter(c, false)
	if e != nil {
		c.fail(e)
		return
	}
	c.count(func(st *store) (int, *apiError) {
		p := st.groupPos(c.ids[0])
		if p < 0 {
			return 0, errNotFound()
		}
		return countUsers(st, st.groupGMs[p], func(q int32) int64 { return st.gms[q].userID }, f), nil
	})
}

// handleCountOrganizationUsers is GET /organizations/{id}/users/count.
func handleCountOrganizationUsers(c *call) {
	f, e := parseUserFilter(c, false)
	if e != nil {
		c.fail(e)
		return
	}
	c.count(func(st *store) (int, *apiError) {
		p := st.orgPos(c.ids[0])
		if p < 0 {
			return 0, errNotFound()
		}
		return countUsers(st, st.orgOMs[p], func(q int32) int64 { return st.oms[q].userID }, f), nil
	})
}

// handleCountUserGroups is GET /users/{id}/groups/count.
func handleCountUserGroups(c *call) {
	c.count(func(st *store) (int, *apiError) {
		p, e := st.userForShow(c.ids[0])
		if e != nil {
			return 0, e
		}
		return len(st.userGMs[p]), nil
	})
}

// handleCountUserOrganizations is GET /users/{id}/organizations/count.
func handleCountUserOrganizations(c *call) {
	c.count(func(st *store) (int, *apiError) {
		p, e := st.userForShow(c.ids[0])
		if e != nil {
			return 0, e
		}
		return len(st.userOMs[p]), nil
	})
}

// handleCountDeletedUsers is GET /deleted_users/count.
func handleCountDeletedUsers(c *call) {
	c.count(func(st *store) (int, *apiError) {
		v := deletedSeq(st)
		n := 0
		for i := 0; i < v.n; i++ {
			if v.keep(i) {
				n++
			}
		}
		return n, nil
	})
}
