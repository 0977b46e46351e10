package zendesktest

import (
	"cmp"
	"net/http"
)

var omKind = memberKind{
	one: "organization_membership", many: "organization_memberships", target: "organization_id",
	rec:       func(st *store, p int) *membership { return &st.oms[p].membership },
	count:     func(st *store) int { return len(st.oms) },
	byUser:    func(st *store) [][]int32 { return st.userOMs },
	byTarget:  func(st *store) [][]int32 { return st.orgOMs },
	targetPos: (*store).orgPos, // a deleted organization is not found
	pos:       (*store).omPos,
	write:     (*store).writeOM,
	create:    (*store).createOM,
	remove:    (*store).removeOrgMembership,
	userOrder: (*store).userOMOrder,
}

func handleListOrgMemberships(c *call)       { omKind.listAll(c, nil) }
func handleListOrgMembershipsByOrg(c *call)  { omKind.listByTarget(c, nil) }
func handleListOrgMembershipsByUser(c *call) { omKind.listByUser(c) }
func handleShowOrgMembership(c *call)        { omKind.show(c) }

// userOMOrder is the order of a user's organization memberships (by
// membership id): the default first, then by organization name, then by id,
// as the spec says of GET /users/{id}/organization_memberships.
func (st *store) userOMOrder() func(a, b int64) int {
	type key struct {
		notDefault int
		name       string
	}
	keyOf := func(id int64) key {
		p := posOf(id, omBase, len(st.oms)) // gone ones too: a cursor may name one
		if p < 0 {
			return key{}
		}
		m := &st.oms[p]
		k := key{notDefault: 1}
		if m.isDefault {
			k.notDefault = 0
		}
		if op := posOf(m.orgID, orgBase, len(st.orgs)); op >= 0 {
			k.name = st.orgs[op].name
		}
		return k
	}
	return func(a, b int64) int {
		ka, kb := keyOf(a), keyOf(b)
		if r := cmp.Compare(ka.notDefault, kb.notDefault); r != 0 {
			return r
		}
		if r := compareFold(ka.name, kb.name); r != 0 {
			return r
		}
		return cmp.Compare(a, b)
	}
}

// agentMayManageOrgs: agents may manage organization memberships of end-users only.
func (c *call) agentMayManageOrgs(st *store, userID int64) bool {
	if c.isAdmin() {
		return true
	}
	p := st.userPos(userID)
	return p >= 0 && st.users[p].role == RoleEndUser
}

// managedOMFromPath finds the membership of /organization_memberships/{id}
// or /users/{uid}/organization_memberships/{id} that the caller may manage.
func (c *call) managedOMFromPath(st *store) (int, *apiError) {
	p, e := omKind.fromPath(c, st)
	if e != nil {
		return -1, e
	}
	if !c.agentMayManageOrgs(st, st.oms[p].userID) {
		return -1, errForbidden()
	}
	return p, nil
}

// managedUserOrg finds the membership of /users/{uid}/organizations/{oid}
// that the caller may manage.
func (c *call) managedUserOrg(st *store) (int, *apiError) {
	up := st.liveUserPos(c.ids[0])
	if up < 0 || st.orgPos(c.ids[1]) < 0 {
		return -1, errNotFound()
	}
	p := st.findOM(up, c.ids[1])
	if p < 0 {
		return -1, errNotFound()
	}
	if !c.agentMayManageOrgs(st, c.ids[0]) {
		return -1, errForbidden()
	}
	return p, nil
}

func (st *store) createOM(in membershipInput, now int64) (int, *apiError) {
	up, op, e := st.parties(in, "organization_id", "Organization", st.orgPos)
	if e != nil {
		return -1, e
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
		p, e := c.managedOMFromPath(st)
		if e != nil {
			return 0, nil, e
		}
		st.removeOrgMembership(p, now)
		return http.StatusNoContent, nil, nil
	})
}

// handleUnassignOrganization is DELETE /users/{uid}/organizations/{oid}.
func handleUnassignOrganization(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p, e := c.managedUserOrg(st)
		if e != nil {
			return 0, nil, e
		}
		st.removeOrgMembership(p, now)
		return http.StatusNoContent, nil, nil
	})
}

func handleMakeDefaultOrgMembership(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p, e := c.managedOMFromPath(st)
		if e != nil {
			return 0, nil, e
		}
		st.makeDefaultOM(p, now)
		return http.StatusOK, omKind.pathUserList(c, st), nil
	})
}

// handleMakeDefaultOrganization is PUT /users/{uid}/organizations/{oid}/make_default.
func handleMakeDefaultOrganization(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p, e := c.managedUserOrg(st)
		if e != nil {
			return 0, nil, e
		}
		st.makeDefaultOM(p, now)
		return http.StatusOK, wrapOne("organization_membership", func(w *jw) { st.writeOM(w, c.base, p) }), nil
	})
}

func handleCreateManyOrgMemberships(c *call)  { omKind.createMany(c) }
func handleDestroyManyOrgMemberships(c *call) { omKind.destroyMany(c) }
