package zendesktest

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// The endpoints of group and organization memberships share their request
// shapes and most of their handlers; memberKind says what differs, and the
// rules that differ (who may join, agent permissions) stay in
// group_memberships.go and organization_memberships.go.

// memberKind is what the membership endpoints of groups and organizations
// differ in; the handlers they share are its methods.
type memberKind struct {
	one, many string // JSON keys: "group_membership", "group_memberships"
	target    string // the target's id field: "group_id"
	rec       func(st *store, p int) *membership
	count     func(st *store) int // records, gone ones included
	byUser    func(st *store) [][]int32
	byTarget  func(st *store) [][]int32
	targetPos func(st *store, id int64) int // the target of /<targets>/{id}/<many>
	pos       func(st *store, id int64) int
	write     func(st *store, w *jw, base string, p int)
	create    func(st *store, in membershipInput, now int64) (int, *apiError)
	remove    func(st *store, p int, now int64)
	// userOrder, when set, orders a user's memberships (by membership id);
	// nil keeps the order of ids.
	userOrder func(st *store) func(a, b int64) int
}

// listAll is GET /<many>; keep, when set, selects the memberships listed
// (by position).
func (k memberKind) listAll(c *call, keep func(st *store, p int) bool) {
	c.list(k.many, true, func(st *store) (seq, func(*jw, int), *apiError) {
		return seq{n: k.count(st), id: func(i int) int64 { return k.rec(st, i).id },
				ok: func(i int) bool { return !k.rec(st, i).gone && (keep == nil || keep(st, i)) }},
			func(w *jw, i int) { k.write(st, w, c.base, i) }, nil
	})
}

// listByTarget is GET /<targets>/{id}/<many>; keep as for listAll.
func (k memberKind) listByTarget(c *call, keep func(st *store, p int) bool) {
	c.list(k.many, true, func(st *store) (seq, func(*jw, int), *apiError) {
		p := k.targetPos(st, c.ids[0])
		if p < 0 {
			return seq{}, nil, errNotFound()
		}
		list := k.byTarget(st)[p]
		v, render, e := k.listed(c, st, list)
		if keep != nil {
			v.ok = func(i int) bool { return keep(st, int(list[i])) }
		}
		return v, render, e
	})
}

// listByUser is GET /users/{id}/<many>, in the kind's user order.
func (k memberKind) listByUser(c *call) {
	c.list(k.many, true, func(st *store) (seq, func(*jw, int), *apiError) {
		p, e := st.userForShow(c.ids[0])
		if e != nil {
			return seq{}, nil, e
		}
		list := k.byUser(st)[p]
		if k.userOrder == nil {
			return k.listed(c, st, list)
		}
		v, sorted := sortedPositions(list, func(q int32) int64 { return k.rec(st, int(q)).id }, k.userOrder(st))
		return v, func(w *jw, i int) { k.write(st, w, c.base, int(sorted[i])) }, nil
	})
}

// listed lists the memberships at the positions in list.
func (k memberKind) listed(c *call, st *store, list []int32) (seq, func(*jw, int), *apiError) {
	return positions(list, func(q int32) int64 { return k.rec(st, int(q)).id }),
		func(w *jw, i int) { k.write(st, w, c.base, int(list[i])) }, nil
}

// fromPath finds the membership of /<many>/{id} or /users/{uid}/<many>/{id}.
func (k memberKind) fromPath(c *call, st *store) (int, *apiError) {
	p := k.pos(st, c.ids[len(c.ids)-1])
	if p < 0 || len(c.ids) == 2 && k.rec(st, p).userID != c.ids[0] {
		return -1, errNotFound()
	}
	return p, nil
}

// show is GET /<many>/{id} and /users/{uid}/<many>/{id}.
func (k memberKind) show(c *call) {
	c.one(http.StatusOK, k.one, func(st *store, w *jw) *apiError {
		p, e := k.fromPath(c, st)
		if e != nil {
			return e
		}
		k.write(st, w, c.base, p)
		return nil
	})
}

// pathUserList renders the memberships of the user of /users/{uid}/..., as
// make_default answers.
func (k memberKind) pathUserList(c *call, st *store) []byte {
	list := k.byUser(st)[st.userPos(c.ids[0])]
	if k.userOrder != nil {
		_, list = sortedPositions(list, func(q int32) int64 { return k.rec(st, int(q)).id }, k.userOrder(st))
	}
	return wrapMany(k.many, len(list), func(w *jw, i int) { k.write(st, w, c.base, int(list[i])) })
}

// parties checks the user and target ids of a new membership and returns
// their positions; label names the target in messages and targetPos finds
// a target that may take members.
func (st *store) parties(in membershipInput, target, label string, targetPos func(int64) int) (up, tp int, e *apiError) {
	if in.userID.v == 0 {
		return -1, -1, errInvalid("user_id", "BlankValue", "User: cannot be blank")
	}
	if in.targetID.v == 0 {
		return -1, -1, errInvalid(target, "BlankValue", label+": cannot be blank")
	}
	if up = st.liveUserPos(in.userID.v); up < 0 {
		return -1, -1, errInvalid("user_id", "InvalidValue", "User: is invalid")
	}
	if tp = targetPos(in.targetID.v); tp < 0 {
		return -1, -1, errInvalid(target, "InvalidValue", label+": is invalid")
	}
	return up, tp, nil
}

type membershipInput struct {
	userID, targetID optInt // targetID: group_id or organization_id
	isDefault        optBool
}

func parseMembership(m object, target string) (membershipInput, *apiError) {
	var in membershipInput
	var e *apiError
	if in.userID, e = m.id("user_id"); e != nil {
		return in, e
	}
	if in.targetID, e = m.id(target); e != nil {
		return in, e
	}
	if in.isDefault, e = m.boolean("default"); e != nil {
		return in, e
	}
	return in, nil
}

// membershipBody decodes {"<key>":{user_id, <target>, default}}; the user id
// comes from the path for /users/{id}/... routes.
func (c *call) membershipBody(key, target string) (membershipInput, *apiError) {
	o, e := decodeObject(c.body)
	if e != nil {
		return membershipInput{}, e
	}
	m, e := o.member(key)
	if e != nil {
		return membershipInput{}, e
	}
	in, e := parseMembership(m, target)
	if e != nil {
		return in, e
	}
	if len(c.ids) == 1 {
		in.userID = optInt{set: true, v: c.ids[0]}
	}
	return in, nil
}

// bulkObjects decodes {"<key>":[{...},...]} with 1..maxBulkItems objects.
func (c *call) bulkObjects(key string) ([]object, *apiError) {
	o, e := decodeObject(c.body)
	if e != nil {
		return nil, e
	}
	return bulkMember(o, key)
}

// maxBulkItems is how many items a create_many, update_many or destroy_many
// call takes.
const maxBulkItems = 100

// bulkMember reads the array o[key] of 1..maxBulkItems objects.
func bulkMember(o object, key string) ([]object, *apiError) {
	raw, ok := o[key]
	if !ok || isNull(raw) {
		return nil, errBadRequest("InvalidJSON", "request body must have a \""+key+"\" array")
	}
	var items []object
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, errBadRequest("InvalidJSON", "\""+key+"\" must be an array of objects")
	}
	if len(items) == 0 {
		return nil, errBadRequest("InvalidValue", key+": at least one item is required")
	}
	if len(items) > maxBulkItems {
		return nil, errBadRequest("TooManyValues", fmt.Sprintf("%s: at most %d items are allowed", key, maxBulkItems))
	}
	for _, it := range items {
		if it == nil {
			return nil, errBadRequest("InvalidJSON", "\""+key+"\" items must be objects")
		}
	}
	return items, nil
}

// bulkItems decodes {"<key>":[{...},...]} with 1..100 memberships.
func (c *call) bulkItems(key, target string) ([]membershipInput, *apiError) {
	items, e := c.bulkObjects(key)
	if e != nil {
		return nil, e
	}
	out := make([]membershipInput, len(items))
	for i, it := range items {
		if out[i], e = parseMembership(it, target); e != nil {
			return nil, e
		}
	}
	return out, nil
}

// createMany is POST /<many>/create_many: a job creating each item.
func (k memberKind) createMany(c *call) {
	items, e := c.bulkItems(k.many, k.target)
	if e != nil {
		c.fail(e)
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		j, e := c.s.enqueue("bulk_create_"+k.many, len(items), func(st *store, now int64) []jobResult {
			res := make([]jobResult, 0, len(items))
			for i, in := range items {
				p, e := k.create(st, in, now)
				if e != nil {
					res = append(res, itemFailed(0, i, "", e))
					continue
				}
				res = append(res, created(k.rec(st, p).id, i))
			}
			return res
		})
		if e != nil {
			return 0, nil, e
		}
		return http.StatusOK, c.jobAnswer(j), nil
	})
}

// destroyMany is DELETE /<many>/destroy_many?ids=...: a job removing each.
func (k memberKind) destroyMany(c *call) {
	ids, e := c.idsParam(maxBulkItems)
	if e != nil {
		c.fail(e)
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		j, e := c.s.enqueue("bulk_destroy_"+k.many, len(ids), func(st *store, now int64) []jobResult {
			res := make([]jobResult, 0, len(ids))
			for _, id := range ids {
				p := k.pos(st, id)
				if p < 0 {
					res = append(res, itemFailed(id, -1, "delete", errNotFound()))
					continue
				}
				k.remove(st, p, now)
				res = append(res, changed(id, "delete", "Deleted"))
			}
			return res
		})
		if e != nil {
			return 0, nil, e
		}
		return http.StatusOK, c.jobAnswer(j), nil
	})
}
