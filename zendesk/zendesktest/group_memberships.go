package zendesktest

import (
	"encoding/json"
	"net/http"
)

func gmSeq(st *store) seq {
	return seq{n: len(st.gms), id: func(i int) int64 { return st.gms[i].id },
		ok: func(i int) bool { return !st.gms[i].gone }}
}

func handleListGroupMemberships(c *call) {
	c.list("group_memberships", true, func(st *store) (seq, func(*jw, int), *apiError) {
		return gmSeq(st), func(w *jw, i int) { st.writeGM(w, c.base, i) }, nil
	})
}

func handleListGroupMembershipsByGroup(c *call) {
	c.list("group_memberships", true, func(st *store) (seq, func(*jw, int), *apiError) {
		p := st.groupPos(c.ids[0])
		if p < 0 {
			return seq{}, nil, errNotFound()
		}
		list := st.groupGMs[p]
		return positions(list, func(q int32) int64 { return st.gms[q].id }),
			func(w *jw, i int) { st.writeGM(w, c.base, int(list[i])) }, nil
	})
}

func handleListGroupMembershipsByUser(c *call) {
	c.list("group_memberships", true, func(st *store) (seq, func(*jw, int), *apiError) {
		p, e := st.userForShow(c.ids[0])
		if e != nil {
			return seq{}, nil, e
		}
		list := st.userGMs[p]
		return positions(list, func(q int32) int64 { return st.gms[q].id }),
			func(w *jw, i int) { st.writeGM(w, c.base, int(list[i])) }, nil
	})
}

// gmFromPath finds the membership of /group_memberships/{id} or
// /users/{uid}/group_memberships/{id}.
func (c *call) gmFromPath(st *store) (int, *apiError) {
	id := c.ids[len(c.ids)-1]
	p := st.gmPos(id)
	if p < 0 {
		return -1, errNotFound()
	}
	if len(c.ids) == 2 && st.gms[p].userID != c.ids[0] {
		return -1, errNotFound()
	}
	return p, nil
}

func handleShowGroupMembership(c *call) {
	c.one(http.StatusOK, "group_membership", func(st *store, w *jw) *apiError {
		p, e := c.gmFromPath(st)
		if e != nil {
			return e
		}
		st.writeGM(w, c.base, p)
		return nil
	})
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

// createGM validates and creates one group membership.
func (st *store) createGM(in membershipInput, now int64) (int, *apiError) {
	if in.userID.v == 0 {
		return -1, errInvalid("user_id", "BlankValue", "User: cannot be blank")
	}
	if in.targetID.v == 0 {
		return -1, errInvalid("group_id", "BlankValue", "Group: cannot be blank")
	}
	up := st.liveUserPos(in.userID.v)
	if up < 0 {
		return -1, errInvalid("user_id", "InvalidValue", "User: is invalid")
	}
	gp := st.liveGroupPos(in.targetID.v)
	if gp < 0 {
		return -1, errInvalid("group_id", "InvalidValue", "Group: is invalid")
	}
	return st.addGroupMembership(up, gp, in.isDefault.v, now)
}

func handleCreateGroupMembership(c *call) {
	in, e := c.membershipBody("group_membership", "group_id")
	if e != nil {
		c.fail(e)
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		if len(c.ids) == 1 && st.liveUserPos(c.ids[0]) < 0 {
			return 0, nil, errNotFound()
		}
		p, e := st.createGM(in, now)
		if e != nil {
			return 0, nil, e
		}
		return http.StatusCreated, wrapOne("group_membership", func(w *jw) { st.writeGM(w, c.base, p) }), nil
	})
}

func handleDeleteGroupMembership(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p, e := c.gmFromPath(st)
		if e != nil {
			return 0, nil, e
		}
		st.removeGroupMembership(p, now)
		return http.StatusNoContent, nil, nil
	})
}

func handleMakeDefaultGroupMembership(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p, e := c.gmFromPath(st)
		if e != nil {
			return 0, nil, e
		}
		st.makeDefaultGM(p, now)
		list := st.userGMs[st.userPos(c.ids[0])]
		return http.StatusOK, wrapMany("group_memberships", len(list), func(w *jw, i int) { st.writeGM(w, c.base, int(list[i])) }), nil
	})
}

// bulkItems decodes {"<key>":[{...},...]} with 1..100 items.
func (c *call) bulkItems(key, target string) ([]membershipInput, *apiError) {
	o, e := decodeObject(c.body)
	if e != nil {
		return nil, e
	}
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
	if len(items) > 100 {
		return nil, errBadRequest("TooManyValues", key+": at most 100 items are allowed")
	}
	out := make([]membershipInput, len(items))
	for i, it := range items {
		if it == nil {
			return nil, errBadRequest("InvalidJSON", "\""+key+"\" items must be objects")
		}
		if out[i], e = parseMembership(it, target); e != nil {
			return nil, e
		}
	}
	return out, nil
}

func handleCreateManyGroupMemberships(c *call) {
	items, e := c.bulkItems("group_memberships", "group_id")
	if e != nil {
		c.fail(e)
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		j, e := c.s.enqueue("bulk_create_group_memberships", len(items), func(st *store, now int64) []jobResult {
			res := make([]jobResult, 0, len(items))
			for i, in := range items {
				p, e := st.createGM(in, now)
				if e != nil {
					res = append(res, itemFailure(i, e))
					continue
				}
				res = append(res, jobResult{id: st.gms[p].id, index: i, create: true, success: true})
			}
			return res
		})
		if e != nil {
			return 0, nil, e
		}
		return http.StatusOK, c.jobAnswer(j), nil
	})
}

func handleDestroyManyGroupMemberships(c *call) {
	ids, e := parseIDList(c.query("ids"), 100)
	if e != nil {
		c.fail(e)
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		j, e := c.s.enqueue("bulk_destroy_group_memberships", len(ids), func(st *store, now int64) []jobResult {
			res := make([]jobResult, 0, len(ids))
			for _, id := range ids {
				p := st.gmPos(id)
				if p < 0 {
					res = append(res, jobResult{id: id, err: "RecordNotFound", details: "Not found"})
					continue
				}
				st.removeGroupMembership(p, now)
				res = append(res, jobResult{id: id, success: true})
			}
			return res
		})
		if e != nil {
			return 0, nil, e
		}
		return http.StatusOK, c.jobAnswer(j), nil
	})
}
