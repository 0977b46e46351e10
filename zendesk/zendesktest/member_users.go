package zendesktest

import "cmp"

// The users of a group or an organization: GET /groups/{id}/users and
// GET /organizations/{id}/users. Both take the filters of GET /users and
// list the members in the order they joined (membership ids), with cursor
// and offset pagination; an organization's users may also be sorted
// (sort_by, sort_order).

// handleListGroupUsers is GET /groups/{id}/users.
func handleListGroupUsers(c *call) {
	f, e := parseUserFilter(c, true)
	if e != nil {
		c.fail(e)
		return
	}
	c.list("users", true, func(st *store) (seq, func(*jw, int), *apiError) {
		p := st.groupPos(c.ids[0]) // a deleted group is found, with no members
		if p < 0 {
			return seq{}, nil, errNotFound()
		}
		return memberUsers(c, st, st.groupGMs[p], func(q int32) int64 { return st.gms[q].id },
			func(q int32) int64 { return st.gms[q].userID }, f, userOrder{})
	})
}

// handleListOrganizationUsers is GET /organizations/{id}/users.
func handleListOrganizationUsers(c *call) {
	f, e := parseUserFilter(c, true)
	if e != nil {
		c.fail(e)
		return
	}
	order, e := parseUserOrder(c)
	if e != nil {
		c.fail(e)
		return
	}
	c.list("users", true, func(st *store) (seq, func(*jw, int), *apiError) {
		p := st.orgPos(c.ids[0]) // a deleted organization is not found
		if p < 0 {
			return seq{}, nil, errNotFound()
		}
		return memberUsers(c, st, st.orgOMs[p], func(q int32) int64 { return st.oms[q].id },
			func(q int32) int64 { return st.oms[q].userID }, f, order)
	})
}

// memberUsers lists the users of the memberships at positions list: in
// membership order (the cursor is a membership id), or sorted by order (the
// cursor is a user id).
func memberUsers(c *call, st *store, list []int32, memberID, userID func(q int32) int64, f userFilter, order userOrder) (seq, func(*jw, int), *apiError) {
	rows := list
	v := positions(list, memberID)
	if order.by != "" {
		v, rows = sortedPositions(list, userID, order.compare(st))
	}
	v.ok = func(i int) bool { return f.match(&st.users[st.userPos(userID(rows[i]))]) }
	return v, func(w *jw, i int) { st.writeUser(w, c.base, st.userPos(userID(rows[i]))) }, nil
}

// userOrder is the sort_by and sort_order parameters of
// GET /organizations/{id}/users; by "" keeps the membership order.
type userOrder struct {
	by   string // id, name, created_at or updated_at
	desc bool
}

func parseUserOrder(c *call) (userOrder, *apiError) {
	var o userOrder
	switch v := c.query("sort_order"); v {
	case "", "asc":
	case "desc":
		o.desc = true
	default:
		return o, errBadRequest("InvalidValue", "sort_order: "+v+" is not one of asc, desc")
	}
	switch v := c.query("sort_by"); v {
	case "id", "name", "created_at", "updated_at":
		o.by = v
	case "":
		if c.has("sort_order") {
			o.by = "id" // an order alone sorts by id
		}
	default:
		return o, errBadRequest("InvalidValue", "sort_by: "+v+" is not one of id, name, created_at, updated_at")
	}
	return o, nil
}

// compare orders two users by id: by the sort key, then by id, reversed
// for desc. An id that names no user (a forged cursor) sorts as an empty record.
func (o userOrder) compare(st *store) func(a, b int64) int {
	rec := func(id int64) *userRec {
		if p := st.userPos(id); p >= 0 {
			return &st.users[p]
		}
		return &userRec{id: id}
	}
	return func(a, b int64) int {
		ua, ub := rec(a), rec(b)
		r := 0
		switch o.by {
		case "name":
			r = compareFold(ua.name, ub.name)
		case "created_at":
			r = cmp.Compare(ua.createdAt, ub.createdAt)
		case "updated_at":
			r = cmp.Compare(ua.updatedAt, ub.updatedAt)
		}
		if r == 0 {
			r = cmp.Compare(a, b)
		}
		if o.desc {
			r = -r
		}
		return r
	}
}

// compareFold compares two strings with ASCII letters folded to lower case,
// without allocating: names sort as a case-insensitive collation would.
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	return cmp.Compare(len(a), len(b))
}
