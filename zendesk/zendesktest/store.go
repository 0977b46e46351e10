package zendesktest

import (
	"slices"
	"strings"
)

// ID ranges per record type. Every type has its own range so that a client
// passing a user id where a group id belongs gets a 404, as it would (almost
// certainly) against Zendesk. Within a type, ids are dense: the record with
// id base+n+1 is at slice position n, so lookups are O(1) and lists sorted by
// id are the slices themselves.
const (
	userBase  int64 = 10_000_000_000
	groupBase int64 = 20_000_000_000
	orgBase   int64 = 30_000_000_000
	gmBase    int64 = 40_000_000_000
	omBase    int64 = 50_000_000_000
	roleBase  int64 = 60_000_000_000
)

// store is the account state. It is not safe for concurrent use; Server
// guards it with a mutex.
type store struct {
	plan           Plan
	seats          int // 0 = unlimited
	multipleOrgs   bool
	singleOrgMode  SingleOrgMode
	maxOrgsPerUser int

	users        []userRec
	userGMs      [][]int32 // by user position: positions in gms, ascending
	userOMs      [][]int32 // by user position: positions in oms, ascending
	byEmail      map[string]int32
	byExternalID map[string]int32
	ownerPos     int32

	groups          []groupRec
	groupGMs        [][]int32
	defaultGroupPos int32

	orgs      []orgRec
	orgOMs    [][]int32
	orgByName map[string]int32

	roles []roleRec

	gms []gmRec
	oms []omRec

	// changes is the incremental export log: one entry per user change, in
	// time order. Only the latest entry of a user (userRec.changeIdx) is live.
	changes []userChange

	jobs jobTable

	// genNotes says, one sentence each, what the generator could not make
	// as the AccountSpec asked.
	genNotes []string

	seatsUsed int
	liveGMs   int
	liveOMs   int
	liveOrgs  int
}

type userChange struct {
	ts  int64
	pos int32
}

func newStore(plan Plan) *store {
	return &store{
		plan:            plan,
		maxOrgsPerUser:  300,
		byEmail:         map[string]int32{},
		byExternalID:    map[string]int32{},
		orgByName:       map[string]int32{},
		ownerPos:        -1,
		defaultGroupPos: -1,
		jobs:            newJobTable(),
	}
}

// --- lookups ---

func posOf(id, base int64, n int) int {
	p := id - base - 1
	if id <= base || p >= int64(n) {
		return -1
	}
	return int(p)
}

func (s *store) userPos(id int64) int  { return posOf(id, userBase, len(s.users)) }
func (s *store) groupPos(id int64) int { return posOf(id, groupBase, len(s.groups)) }
func (s *store) orgPos(id int64) int {
	p := posOf(id, orgBase, len(s.orgs))
	if p >= 0 && s.orgs[p].deleted {
		return -1
	}
	return p
}
func (s *store) rolePos(id int64) int { return posOf(id, roleBase, len(s.roles)) }
func (s *store) gmPos(id int64) int   { return s.gmTable().pos(id) }
func (s *store) omPos(id int64) int   { return s.omTable().pos(id) }

// liveUserPos returns the position of a live (not deleted) user or -1.
func (s *store) liveUserPos(id int64) int {
	p := s.userPos(id)
	if p < 0 || s.users[p].state != userLive {
		return -1
	}
	return p
}

// liveGroupPos returns the position of a group that is not deleted or -1.
func (s *store) liveGroupPos(id int64) int {
	p := s.groupPos(id)
	if p < 0 || s.groups[p].deleted {
		return -1
	}
	return p
}

func (s *store) roleType(u *userRec) (int, bool) {
	if u.role == RoleAdmin {
		return 4, true
	}
	if u.role == RoleAgent && u.customRoleID != 0 {
		if p := s.rolePos(u.customRoleID); p >= 0 {
			return s.roles[p].roleType, true
		}
	}
	return 0, false
}

// takesSeat: admins and agents (suspended included) take a seat; light agents
// and contributors do not.
func (s *store) takesSeat(u *userRec) bool {
	if u.state != userLive {
		return false
	}
	switch u.role {
	case RoleAdmin:
		return true
	case RoleAgent:
		rt, ok := s.roleType(u)
		return !ok || (rt != 1 && rt != 3)
	}
	return false
}

func (s *store) seatsFull() bool { return s.seats > 0 && s.seatsUsed >= s.seats }

// --- change log ---

func (s *store) touchUser(pos int, now int64) {
	if n := len(s.changes); n > 0 && s.changes[n-1].ts > now {
		now = s.changes[n-1].ts
	}
	u := &s.users[pos]
	u.updatedAt = now
	s.changes = append(s.changes, userChange{ts: now, pos: int32(pos)})
	u.changeIdx = int32(len(s.changes) - 1)
}

// --- memberships: groups ---

func removeInt32(list []int32, v int32) []int32 {
	if i := slices.Index(list, v); i >= 0 {
		return slices.Delete(list, i, i+1)
	}
	return list
}

func (s *store) findGM(upos int, groupID int64) int { return s.gmTable().find(upos, groupID) }

// addGroupMembership adds user upos to group gpos. It checks agent-only
// membership and duplicates.
func (s *store) addGroupMembership(upos, gpos int, makeDefault bool, now int64) (int, *apiError) {
	g := &s.groups[gpos]
	if !s.users[upos].role.isStaff() {
		return -1, errInvalid("user_id", "InvalidValue", "User must be an agent or admin to be added to a group")
	}
	if s.findGM(upos, g.id) >= 0 {
		return -1, errInvalid("user_id", "DuplicateValue", "User is already a member of this group")
	}
	return s.gmTable().add(upos, gpos, g.id, makeDefault, now), nil
}

func (s *store) removeGroupMembership(pos int, now int64) { s.gmTable().remove(pos, now) }
func (s *store) makeDefaultGM(pos int, now int64)         { s.gmTable().makeDefault(pos, now) }

func (s *store) removeAllGMs(upos int, now int64) {
	t := s.gmTable()
	t.removeAllIn(t.byUser, upos, now)
}

// --- memberships: organizations ---

func (s *store) findOM(upos int, orgID int64) int { return s.omTable().find(upos, orgID) }

// addOrgMembership adds user upos to organization opos, applying the
// multiple-organizations setting.
func (s *store) addOrgMembership(upos, opos int, makeDefault bool, now int64) (int, *apiError) {
	o := &s.orgs[opos]
	if s.findOM(upos, o.id) >= 0 {
		return -1, errInvalid("user_id", "DuplicateValue", " This user is already a member of this organization.")
	}
	existing := len(s.userOMs[upos])
	if !s.multipleOrgs && existing > 0 {
		if s.singleOrgMode == RefuseMembership {
			return -1, errInvalid("organization_id", "InvalidValue",
				"Organization: user already belongs to an organization and this account does not allow multiple organizations per user")
		}
		for len(s.userOMs[upos]) > 0 {
			s.removeOrgMembership(int(s.userOMs[upos][0]), now)
		}
		existing = 0
	}
	if existing >= s.maxOrgsPerUser {
		return -1, errInvalid("organization_id", "InvalidValue", "Organization: a user can belong to at most 300 organizations")
	}
	return s.omTable().add(upos, opos, o.id, makeDefault, now), nil
}

func (s *store) removeOrgMembership(pos int, now int64) { s.omTable().remove(pos, now) }
func (s *store) makeDefaultOM(pos int, now int64)       { s.omTable().makeDefault(pos, now) }

// --- groups and organizations ---

func (s *store) addGroup(name, description string, isPublic, isDefault bool, now int64) int {
	pos := len(s.groups)
	s.groups = append(s.groups, groupRec{id: groupBase + int64(pos) + 1, name: name, description: description,
		createdAt: now, updatedAt: now, isPublic: isPublic, isDefault: isDefault})
	s.groupGMs = append(s.groupGMs, nil)
	if isDefault {
		s.defaultGroupPos = int32(pos)
	}
	return pos
}

func (s *store) deleteGroup(gpos int, now int64) {
	t := s.gmTable()
	t.removeAllIn(t.byTarget, gpos, now)
	g := &s.groups[gpos]
	g.deleted = true
	g.updatedAt = now
	if s.defaultGroupPos == int32(gpos) {
		s.defaultGroupPos = -1
	}
}

func (s *store) addOrg(name, externalID string, now int64) (int, *apiError) {
	name = strings.TrimSpace(name)
	if name == "" {
		return -1, errInvalid("name", "ValueTooShort", "Name: cannot be blank")
	}
	key := strings.ToLower(name)
	if _, dup := s.orgByName[key]; dup {
		return -1, errInvalid("name", "DuplicateValue", "Name: "+name+" has already been taken")
	}
	pos := len(s.orgs)
	s.orgs = append(s.orgs, orgRec{id: orgBase + int64(pos) + 1, name: name, externalID: externalID, createdAt: now, updatedAt: now})
	s.orgOMs = append(s.orgOMs, nil)
	s.orgByName[key] = int32(pos)
	s.liveOrgs++
	return pos, nil
}

func (s *store) renameOrg(opos int, name string, now int64) *apiError {
	name = strings.TrimSpace(name)
	if name == "" {
		return errInvalid("name", "ValueTooShort", "Name: cannot be blank")
	}
	o := &s.orgs[opos]
	key := strings.ToLower(name)
	if p, dup := s.orgByName[key]; dup && int(p) != opos {
		return errInvalid("name", "DuplicateValue", "Name: "+name+" has already been taken")
	}
	delete(s.orgByName, strings.ToLower(o.name))
	o.name = name
	o.updatedAt = now
	s.orgByName[key] = int32(opos)
	return nil
}

func (s *store) deleteOrg(opos int, now int64) {
	t := s.omTable()
	t.removeAllIn(t.byTarget, opos, now)
	o := &s.orgs[opos]
	delete(s.orgByName, strings.ToLower(o.name))
	o.deleted = true
	s.liveOrgs--
}

func (s *store) addRole(name, description string, roleType int, conf roleConfig, now int64) int {
	pos := len(s.roles)
	s.roles = append(s.roles, roleRec{id: roleBase + int64(pos) + 1, name: name, description: description,
		roleType: roleType, createdAt: now, updatedAt: now, conf: conf})
	return pos
}
