package zendesktest

import "net/http"

var gmKind = memberKind{
	one: "group_membership", many: "group_memberships", target: "group_id",
	rec:       func(st *store, p int) *membership { return &st.gms[p].membership },
	count:     func(st *store) int { return len(st.gms) },
	byUser:    func(st *store) [][]int32 { return st.userGMs },
	byTarget:  func(st *store) [][]int32 { return st.groupGMs },
	targetPos: (*store).groupPos, // a deleted group still lists its (no) memberships
	pos:       (*store).gmPos,
	write:     (*store).writeGM,
	create:    (*store).createGM,
	remove:    (*store).removeGroupMembership,
}

func handleListGroupMemberships(c *call)        { gmKind.listAll(c, nil) }
func handleListGroupMembershipsByGroup(c *call) { gmKind.listByTarget(c, nil) }
func handleListGroupMembershipsByUser(c *call)  { gmKind.listByUser(c) }
func handleShowGroupMembership(c *call)         { gmKind.show(c) }

// handleListAssignableGroupMemberships is GET /group_memberships/assignable.
func handleListAssignableGroupMemberships(c *call) { gmKind.listAll(c, (*store).assignableGM) }

// handleListAssignableGroupMembershipsByGroup is GET /groups/{id}/memberships/assignable.
func handleListAssignableGroupMembershipsByGroup(c *call) {
	gmKind.listByTarget(c, (*store).assignableGM)
}

// assignableGM reports whether the group membership at p is one through
// which tickets may be assigned: its user is live, not suspended, and an
// admin or an agent other than a light agent (role_type 1) or a contributor
// (3), who cannot be assignees. Zendesk does not document the rule; this is
// the simulator's reading of "assignable".
func (st *store) assignableGM(p int) bool {
	m := &st.gms[p]
	if m.gone {
		return false
	}
	u := &st.users[st.userPos(m.userID)]
	if u.state != userLive || u.suspended || !u.role.isStaff() {
		return false
	}
	rt, ok := st.roleType(u)
	return !ok || (rt != 1 && rt != 3)
}

// createGM validates and creates one group membership.
func (st *store) createGM(in membershipInput, now int64) (int, *apiError) {
	up, gp, e := st.parties(in, "group_id", "Group", st.liveGroupPos)
	if e != nil {
		return -1, e
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
		p, e := gmKind.fromPath(c, st)
		if e != nil {
			return 0, nil, e
		}
		st.removeGroupMembership(p, now)
		return http.StatusNoContent, nil, nil
	})
}

func handleMakeDefaultGroupMembership(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p, e := gmKind.fromPath(c, st)
		if e != nil {
			return 0, nil, e
		}
		st.makeDefaultGM(p, now)
		return http.StatusOK, gmKind.pathUserList(c, st), nil
	})
}

func handleCreateManyGroupMemberships(c *call)  { gmKind.createMany(c) }
func handleDestroyManyGroupMemberships(c *call) { gmKind.destroyMany(c) }
