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

func handleListGroupMemberships(c *call)        { gmKind.listAll(c) }
func handleListGroupMembershipsByGroup(c *call) { gmKind.listByTarget(c) }
func handleListGroupMembershipsByUser(c *call)  { gmKind.listByUser(c) }
func handleShowGroupMembership(c *call)         { gmKind.show(c) }

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
