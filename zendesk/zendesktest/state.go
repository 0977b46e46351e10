package zendesktest

import (
	"fmt"
	"slices"
	"strings"
)

// The methods below inspect and change the account directly, for test setup
// and assertions. They are safe for concurrent use, apply the same rules as
// the API (seats, agent-only groups, the multiple-organizations setting) but
// skip authentication, permissions and rate limits, and return copies.

// GenerateNotes says, one sentence each, where the generated account
// differs from the AccountSpec of WithAccount and why: for example fewer
// organization memberships than asked, because with multiple organizations
// off a user belongs to one at most. It is empty when the generator made
// what was asked.
func (s *Server) GenerateNotes() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.st.genNotes)
}

// OwnerID returns the account owner's user id.
func (s *Server) OwnerID() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.users[s.st.ownerPos].id
}

// User returns the user with id, including soft-deleted and purged users.
func (s *Server) User(id int64) (User, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.st.userPos(id)
	if p < 0 {
		return User{}, false
	}
	return s.st.exportUser(p), true
}

// UserByEmail returns the live user with that primary email
// (case-insensitive).
func (s *Server) UserByEmail(email string) (User, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.st.byEmail[strings.ToLower(email)]
	if !ok {
		return User{}, false
	}
	return s.st.exportUser(int(p)), true
}

// AddUser creates a user as POST /users would (admins and agents join the
// default group).
func (s *Server) AddUser(spec UserSpec) (User, error) {
	in := userInput{
		name:         optStr{set: true, v: spec.Name},
		email:        optStr{set: spec.Email != "", v: spec.Email},
		externalID:   optStr{set: spec.ExternalID != "", v: spec.ExternalID},
		role:         optStr{set: spec.Role != "", v: string(spec.Role)},
		customRoleID: optInt{set: spec.CustomRoleID != 0, v: spec.CustomRoleID},
		suspended:    optBool{set: true, v: spec.Suspended},
		tags:         append([]string{}, spec.Tags...),
		tagsSet:      true,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.st.createUser(in, s.now().Unix())
	if e != nil {
		return User{}, fmt.Errorf("zendesktest: AddUser %q: %s", spec.Email, describe(e))
	}
	return s.st.exportUser(p), nil
}

func describe(e *apiError) string {
	if e.ddesc != "" {
		return e.code + ": " + strings.TrimSpace(e.ddesc)
	}
	return e.code + ": " + e.desc
}

// AddGroup creates a public group.
func (s *Server) AddGroup(name string) Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.st.addGroup(name, "", true, false, s.now().Unix())
	return s.st.exportGroup(p)
}

// Group returns the group with id (deleted groups included).
func (s *Server) Group(id int64) (Group, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.st.groupPos(id)
	if p < 0 {
		return Group{}, false
	}
	return s.st.exportGroup(p), true
}

func (st *store) exportGroup(p int) Group {
	g := &st.groups[p]
	return Group{ID: g.id, Name: g.name, Description: g.description, Default: g.isDefault, Deleted: g.deleted,
		IsPublic: g.isPublic, CreatedAt: unixTime(g.createdAt), UpdatedAt: unixTime(g.updatedAt)}
}

// AddOrganization creates an organization. Organization names are unique;
// a name already taken gets a numeric suffix.
func (s *Server) AddOrganization(name string) Organization {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().Unix()
	candidate := name
	for i := 2; ; i++ {
		p, e := s.st.addOrg(candidate, "", now)
		if e == nil {
			return s.st.exportOrg(p)
		}
		candidate = fmt.Sprintf("%s %d", name, i)
		if strings.TrimSpace(name) == "" {
			candidate = fmt.Sprintf("Organization %d", i)
		}
	}
}

// Organization returns the organization with id, if it exists.
func (s *Server) Organization(id int64) (Organization, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.st.orgPos(id)
	if p < 0 {
		return Organization{}, false
	}
	return s.st.exportOrg(p), true
}

func (st *store) exportOrg(p int) Organization {
	o := &st.orgs[p]
	return Organization{ID: o.id, Name: o.name, ExternalID: o.externalID, CreatedAt: unixTime(o.createdAt), UpdatedAt: unixTime(o.updatedAt)}
}

// AddCustomRole creates a custom role with the given role_type (0 custom
// agent, 1 light agent, 2 chat agent, 3 contributor). It works on every plan,
// so tests can also check how lower plans hide custom roles.
func (s *Server) AddCustomRole(name string, roleType int) CustomRole {
	s.mu.Lock()
	defer s.mu.Unlock()
	conf := roleConfig{lightAgent: roleType == 1}
	p := s.st.addRole(name, "", roleType, conf, s.now().Unix())
	return s.st.exportRole(p)
}

func (st *store) exportRole(p int) CustomRole {
	r := &st.roles[p]
	return CustomRole{ID: r.id, Name: r.name, Description: r.description, RoleType: r.roleType,
		TeamMemberCount: r.members, CreatedAt: unixTime(r.createdAt), UpdatedAt: unixTime(r.updatedAt)}
}

// AddGroupMembership adds a live agent or admin to a group.
func (s *Server) AddGroupMembership(userID, groupID int64) (GroupMembership, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.st.createGM(membershipInput{userID: optInt{set: true, v: userID}, targetID: optInt{set: true, v: groupID}}, s.now().Unix())
	if e != nil {
		return GroupMembership{}, fmt.Errorf("zendesktest: AddGroupMembership user %d group %d: %s", userID, groupID, describe(e))
	}
	return s.st.exportGM(p), nil
}

func (st *store) exportGM(p int) GroupMembership {
	m := &st.gms[p]
	return GroupMembership{ID: m.id, UserID: m.userID, GroupID: m.groupID, Default: m.isDefault,
		CreatedAt: unixTime(m.createdAt), UpdatedAt: unixTime(m.updatedAt)}
}

// AddOrganizationMembership adds a live user to an organization, applying
// the multiple-organizations setting.
func (s *Server) AddOrganizationMembership(userID, orgID int64) (OrganizationMembership, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, e := s.st.createOM(membershipInput{userID: optInt{set: true, v: userID}, targetID: optInt{set: true, v: orgID}}, s.now().Unix())
	if e != nil {
		return OrganizationMembership{}, fmt.Errorf("zendesktest: AddOrganizationMembership user %d organization %d: %s", userID, orgID, describe(e))
	}
	return s.st.exportOM(p), nil
}

func (st *store) exportOM(p int) OrganizationMembership {
	m := &st.oms[p]
	return OrganizationMembership{ID: m.id, UserID: m.userID, OrganizationID: m.orgID, Default: m.isDefault,
		CreatedAt: unixTime(m.createdAt), UpdatedAt: unixTime(m.updatedAt)}
}

// GroupMembershipsOf returns the user's group memberships, by id.
func (s *Server) GroupMembershipsOf(userID int64) []GroupMembership {
	return membershipsOf(s, userID, gmKind.byUser, (*store).exportGM)
}

// OrganizationMembershipsOf returns the user's organization memberships, by id.
func (s *Server) OrganizationMembershipsOf(userID int64) []OrganizationMembership {
	return membershipsOf(s, userID, omKind.byUser, (*store).exportOM)
}

// membershipsOf exports the memberships that byUser lists for the user.
func membershipsOf[T any](s *Server, userID int64, byUser func(*store) [][]int32, export func(*store, int) T) []T {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.st.userPos(userID)
	if p < 0 {
		return nil
	}
	list := byUser(s.st)[p]
	out := make([]T, 0, len(list))
	for _, q := range list {
		out = append(out, export(s.st, int(q)))
	}
	return out
}

// SetMultipleOrganizations changes the account setting
// user.multiple_organizations (whatever the plan). Existing memberships are kept.
func (s *Server) SetMultipleOrganizations(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.multipleOrgs = on
}

// MultipleOrganizations reports the account setting user.multiple_organizations.
func (s *Server) MultipleOrganizations() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.st.multipleOrgs
}

// Counts summarises the account.
func (s *Server) Counts() AccountCounts {
	s.mu.RLock()
	defer s.mu.RUnlock()
	st := s.st
	var c AccountCounts
	for i := range st.users {
		u := &st.users[i]
		switch u.state {
		case userSoftDeleted:
			c.SoftDeletedUsers++
			continue
		case userPurged:
			c.PermanentlyDeletedUsers++
			continue
		}
		switch u.role {
		case RoleEndUser:
			c.EndUsers++
		case RoleAgent:
			c.Agents++
		case RoleAdmin:
			c.Admins++
		}
		if u.suspended {
			c.Suspended++
		}
	}
	for i := range st.groups {
		if !st.groups[i].deleted {
			c.Groups++
		}
	}
	c.SeatsUsed = st.seatsUsed
	c.Organizations = st.liveOrgs
	c.CustomRoles = len(st.roles)
	c.GroupMemberships = st.liveGMs
	c.OrganizationMemberships = st.liveOMs
	c.Jobs = len(st.jobs.list)
	return c
}
