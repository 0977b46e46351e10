package zendesktest

import "net/http"

func omSeq(st *store) seq {
	return seq{n: len(st.oms), id: func(i int) int64 { return st.oms[i].id },
		ok: func(i int) bool { return !st.oms[i].gone }}
}

func handleListOrgMemberships(c *call) {
	c.list("organization_memberships", true, func(st *store) (seq, func(*jw, int), *apiError) {
		return omSeq(st), func(w *jw, i int) { st.writeOM(w, c.base, i) }, nil
	})
}

func handleListOrgMembershipsByOrg(c *call) {
	c.list("organization_memberships", true, func(st *store) (seq, func(*jw, int), *apiError) {
		p := st.orgPos(c.ids[0])
		if p < 0 {
			return seq{}, nil, errNotFound()
		}
		list := st.orgOMs[p]
		return positions(list, func(q int32) int64 { return st.oms[q].id }),
			func(w *jw, i int) { st.writeOM(w, c.base, int(list[i])) }, nil
	})
}

func handleListOrgMembershipsByUser(c *call) {
	c.list("organization_memberships", true, func(st *store) (seq, func(*jw, int), *apiError) {
		p, e := st.userForShow(c.ids[0])
		if e != nil {
			return seq{}, nil, e
		}
		list := st.userOMs[p]
		return positions(list, func(q int32) int64 { return st.oms[q].id }),
			func(w *jw, i int) { st.writeOM(w, c.base, int(list[i])) }, nil
	})
}

func (c *call) omFromPath(st *store) (int, *apiError) {
	p := st.omPos(c.ids[len(c.ids)-1])
	if p < 0 || len(c.ids) == 2 && st.oms[p].userID != c.ids[0] {
		return -1, errNotFound()
	}
	return p, nil
}

func handleShowOrgMembership(c *call) {
	c.one(http.StatusOK, "organization_membership", func(st *store, w *jw) *apiError {
		p, e := c.omFromPath(st)
		if e != nil {
			return e
		}
		st.writeOM(w, c.base, p)
		return nil
	})
}

// agentMayManageOrgs: agents may manage organization memberships of end-users only.
func (c *call) agentMayManageOrgs(st *store, userID int64) bool {
	if c.isAdmin() {
		return true
	}
	p := st.userPos(userID)
	return p >= 0 && st.users[p].role == RoleEndUser
}

func (st *store) createOM(in membershipInput, now int64) (int, *apiError) {
	if in.userID.v == 0 {
		return -1, errInvalid("user_id", "BlankValue", "User: cannot be blank")
	}
	if in.targetID.v == 0 {
		return -1, errInvalid("organization_id", "BlankValue", "Organization: cannot be blank")
	}
	up := st.liveUserPos(in.userID.v)
	if up < 0 {
		return -1, errInvalid("user_id", "InvalidValue", "User: is invalid")
	}
	op := st.orgPos(in.targetID.v)
	if op < 0 {
		return -1, errInvalid("organization_id", "InvalidValue", "Organization: is invalid")
	}
	return st.addOrgMembership(up, op, in.isDefault.v, now)
}

func handleCreateOrgMembership(c *call) {
	in, e := c.membershipBody("organization_membership", "organization_id")
	if e != nil {
		c.fail(e)
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		if len(c.ids) == 1 && st.liveUserPos(c.ids[0]) < 0 {
			return 0, nil, errNotFound()
		}
		if !c.agentMayManageOrgs(st, in.userID.v) {
			return 0, nil, errForbidden()
		}
		p, e := st.createOM(in, now)
		if e != nil {
			return 0, nil, e
		}
		return http.StatusCreated, wrapOne("organization_membership", func(w *jw) { st.writeOM(w, c.base, p) }), nil
	})
}

func handleDeleteOrgMembership(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p, e := c.omFromPath(st)
		if e != nil {
			return 0, nil, e
		}
		if !c.agentMayManageOrgs(st, st.oms[p].userID) {
			return 0, nil, errForbidden()
		}
		st.removeOrgMembership(p, now)
		return http.StatusNoContent, nil, nil
	})
}

// handleUnassignOrganization is DELETE /users/{uid}/organizations/{oid}.
func handleUnassignOrganization(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		up := st.liveUserPos(c.ids[0])
		if up < 0 || st.orgPos(c.ids[1]) < 0 {
			return 0, nil, errNotFound()
		}
		p := st.findOM(up, c.ids[1])
		if p < 0 {
			return 0, nil, errNotFound()
		}
		if !c.agentMayManageOrgs(st, c.ids[0]) {
			return 0, nil, errForbidden()
		}
		st.removeOrgMembership(p, now)
		return http.StatusNoContent, nil, nil
	})
}

func handleMakeDefaultOrgMembership(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p, e := c.omFromPath(st)
		if e != nil {
			return 0, nil, e
		}
		if !c.agentMayManageOrgs(st, st.oms[p].userID) {
			return 0, nil, errForbidden()
		}
		st.makeDefaultOM(p, now)
		list := st.userOMs[st.userPos(c.ids[0])]
		return http.StatusOK, wrapMany("organization_memberships", len(list), func(w *jw, i int) { st.writeOM(w, c.base, int(list[i])) }), nil
	})
}

// handleMakeDefaultOrganization is PUT /users/{uid}/organizations/{oid}/make_default.
func handleMakeDefaultOrganization(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		up := st.liveUserPos(c.ids[0])
		if up < 0 || st.orgPos(c.ids[1]) < 0 {
			return 0, nil, errNotFound()
		}
		p := st.findOM(up, c.ids[1])
		if p < 0 {
			return 0, nil, errNotFound()
		}
		if !c.agentMayManageOrgs(st, c.ids[0]) {
			return 0, nil, errForbidden()
		}
		st.makeDefaultOM(p, now)
		return http.StatusOK, wrapOne("organization_membership", func(w *jw) { st.writeOM(w, c.base, p) }), nil
	})
}

func handleCreateManyOrgMemberships(c *call) {
	items, e := c.bulkItems("organization_memberships", "organization_id")
	if e != nil {
		c.fail(e)
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		j, e := c.s.enqueue("bulk_create_organization_memberships", len(items), func(st *store, now int64) []jobResult {
			res := make([]jobResult, 0, len(items))
			for i, in := range items {
				p, e := st.createOM(in, now)
				if e != nil {
					res = append(res, itemFailure(i, e))
					continue
				}
				res = append(res, jobResult{id: st.oms[p].id, index: i, create: true, success: true})
			}
			return res
		})
		if e != nil {
			return 0, nil, e
		}
		return http.StatusOK, c.jobAnswer(j), nil
	})
}

func handleDestroyManyOrgMemberships(c *call) {
	ids, e := parseIDList(c.query("ids"), 100)
	if e != nil {
		c.fail(e)
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		j, e := c.s.enqueue("bulk_destroy_organization_memberships", len(ids), func(st *store, now int64) []jobResult {
			res := make([]jobResult, 0, len(ids))
			for _, id := range ids {
				p := st.omPos(id)
				if p < 0 {
					res = append(res, jobResult{id: id, err: "RecordNotFound", details: "Not found"})
					continue
				}
				st.removeOrgMembership(p, now)
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
