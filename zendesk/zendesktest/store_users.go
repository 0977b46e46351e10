package zendesktest

import (
	"net/http"
	"strings"
)

// userInput is a decoded {"user":{...}} body. Fields Zendesk accepts but the
// simulator does not model (identities, photo, user_fields...) are ignored.
type userInput struct {
	name, email, externalID, role optStr
	customRoleID, orgID, groupID  optInt
	suspended                     optBool
	tags                          []string
	tagsSet                       bool
}

func parseUserInput(o object) (userInput, *apiError) {
	var in userInput
	var e *apiError
	if in.name, e = o.str("name"); e != nil {
		return in, e
	}
	if in.email, e = o.str("email"); e != nil {
		return in, e
	}
	if in.externalID, e = o.str("external_id"); e != nil {
		return in, e
	}
	if in.role, e = o.str("role"); e != nil {
		return in, e
	}
	if in.customRoleID, e = o.id("custom_role_id"); e != nil {
		return in, e
	}
	if in.orgID, e = o.id("organization_id"); e != nil {
		return in, e
	}
	if in.groupID, e = o.id("default_group_id"); e != nil {
		return in, e
	}
	if !in.groupID.set {
		if in.groupID, e = o.id("group_id"); e != nil {
			return in, e
		}
	}
	if in.suspended, e = o.boolean("suspended"); e != nil {
		return in, e
	}
	if in.tags, in.tagsSet, e = o.strings("tags"); e != nil {
		return in, e
	}
	return in, nil
}

func seatLimitError() *apiError {
	return errInvalid("role", "InvalidValue", "Role: Subscription limit reached. You have no agent seats left; remove an agent or buy more seats.")
}

// validateAccess checks a prospective role and custom role.
func (s *store) validateAccess(role Role, customRoleID int64) *apiError {
	if customRoleID == 0 {
		return nil
	}
	if !s.plan.customRoles() {
		return errInvalid("custom_role_id", "InvalidValue", "Custom role: custom roles are only available on the Enterprise plan")
	}
	if s.rolePos(customRoleID) < 0 {
		return errInvalid("custom_role_id", "InvalidValue", "Custom role: is invalid")
	}
	if role != RoleAgent {
		return errInvalid("custom_role_id", "InvalidValue", "Custom role: can only be assigned to agents")
	}
	return nil
}

// setAccess changes role and custom role and keeps seat and team counts.
func (s *store) setAccess(pos int, role Role, customRoleID int64) {
	u := &s.users[pos]
	if s.takesSeat(u) {
		s.seatsUsed--
	}
	if u.state == userLive && u.customRoleID != 0 {
		s.roles[s.rolePos(u.customRoleID)].members--
	}
	u.role, u.customRoleID = role, customRoleID
	if u.state == userLive && u.customRoleID != 0 {
		s.roles[s.rolePos(u.customRoleID)].members++
	}
	if s.takesSeat(u) {
		s.seatsUsed++
	}
}

func (s *store) checkEmail(email string, self int) *apiError {
	if !validEmail(email) {
		return errInvalid("email", "InvalidFormat", "Email: "+email+" is not properly formatted")
	}
	if p, dup := s.byEmail[strings.ToLower(email)]; dup && int(p) != self {
		return errInvalid("email", "DuplicateValue", "Email: "+email+" is already being used by another user")
	}
	return nil
}

func (s *store) checkExternalID(ext string, self int) *apiError {
	if p, dup := s.byExternalID[ext]; dup && int(p) != self {
		return errInvalid("external_id", "DuplicateValue", "External: "+ext+" has already been taken")
	}
	return nil
}

// createUser validates in and creates the user. Nothing changes on error.
func (s *store) createUser(in userInput, now int64) (int, *apiError) {
	name := strings.TrimSpace(in.name.v)
	if name == "" {
		return -1, errInvalid("name", "ValueTooShort", "Name: is too short (minimum one character)")
	}
	email := strings.TrimSpace(in.email.v)
	if email != "" {
		if e := s.checkEmail(email, -1); e != nil {
			return -1, e
		}
	}
	ext := in.externalID.v
	if ext != "" {
		if e := s.checkExternalID(ext, -1); e != nil {
			return -1, e
		}
	}
	role := RoleEndUser
	if in.role.set && !in.role.null {
		role = Role(in.role.v)
		if !role.valid() {
			return -1, errInvalid("role", "InvalidValue", "Role: "+in.role.v+" is not a valid role")
		}
	}
	if e := s.validateAccess(role, in.customRoleID.v); e != nil {
		return -1, e
	}
	probe := userRec{role: role, customRoleID: in.customRoleID.v}
	if s.takesSeat(&probe) && s.seatsFull() {
		return -1, seatLimitError()
	}
	opos := -1
	if in.orgID.v != 0 {
		if opos = s.orgPos(in.orgID.v); opos < 0 {
			return -1, errInvalid("organization_id", "InvalidValue", "Organization: is invalid")
		}
	}
	gpos := -1
	if in.groupID.v != 0 {
		if !role.isStaff() {
			return -1, errInvalid("default_group_id", "InvalidValue", "Default group: only agents can belong to groups")
		}
		if gpos = s.liveGroupPos(in.groupID.v); gpos < 0 {
			return -1, errInvalid("default_group_id", "InvalidValue", "Default group: is invalid")
		}
	}
	pos := s.insertUser(userRec{name: name, email: email, externalID: ext, tags: in.tags,
		suspended: in.suspended.v, createdAt: now}, now)
	s.setAccess(pos, role, in.customRoleID.v)
	if opos >= 0 {
		s.addOrgMembership(pos, opos, true, now)
	}
	s.ensureGroup(pos, gpos, now)
	return pos, nil
}

// insertUser appends a live end-user record and indexes it.
func (s *store) insertUser(u userRec, now int64) int {
	pos := len(s.users)
	u.id = userBase + int64(pos) + 1
	u.role = RoleEndUser
	u.state = userLive
	if u.tags == nil {
		u.tags = []string{}
	}
	s.users = append(s.users, u)
	s.userGMs = append(s.userGMs, nil)
	s.userOMs = append(s.userOMs, nil)
	if u.email != "" {
		s.byEmail[strings.ToLower(u.email)] = int32(pos)
	}
	if u.externalID != "" {
		s.byExternalID[u.externalID] = int32(pos)
	}
	s.touchUser(pos, now)
	return pos
}

// ensureGroup gives a staff user a group: gpos if >= 0, otherwise the
// account's default group when the user has none (as Zendesk does for new agents).
func (s *store) ensureGroup(pos, gpos int, now int64) {
	if !s.users[pos].role.isStaff() {
		return
	}
	if gpos >= 0 {
		if m := s.findGM(pos, s.groups[gpos].id); m >= 0 {
			s.makeDefaultGM(m, now)
			return
		}
		s.addGroupMembership(pos, gpos, true, now)
		return
	}
	if len(s.userGMs[pos]) == 0 && s.defaultGroupPos >= 0 {
		s.addGroupMembership(pos, int(s.defaultGroupPos), true, now)
	}
}

// updateUser applies in to the live user at pos. Nothing changes on error.
func (s *store) updateUser(pos int, in userInput, now int64) *apiError {
	u := &s.users[pos]
	name := u.name
	if in.name.set {
		name = strings.TrimSpace(in.name.v)
		if name == "" {
			return errInvalid("name", "ValueTooShort", "Name: is too short (minimum one character)")
		}
	}
	// Zendesk adds a secondary identity when the email changes; the primary
	// email stays. The simulator models only the primary email, so a new
	// email is validated and then ignored.
	if in.email.set && !in.email.null && !strings.EqualFold(in.email.v, u.email) {
		if e := s.checkEmail(strings.TrimSpace(in.email.v), pos); e != nil {
			return e
		}
	}
	ext := u.externalID
	if in.externalID.set {
		ext = in.externalID.v
		if ext != "" {
			if e := s.checkExternalID(ext, pos); e != nil {
				return e
			}
		}
	}
	role := u.role
	if in.role.set && !in.role.null {
		role = Role(in.role.v)
		if !role.valid() {
			return errInvalid("role", "InvalidValue", "Role: "+in.role.v+" is not a valid role")
		}
	}
	cr := u.customRoleID
	if in.customRoleID.set {
		cr = in.customRoleID.v
	} else if role != RoleAgent {
		cr = 0
	}
	if u.owner && role != RoleAdmin {
		return errInvalid("role", "InvalidValue", "Role: the account owner must remain an admin")
	}
	if u.owner && in.suspended.set && in.suspended.v {
		return errInvalid("suspended", "InvalidValue", "Suspended: the account owner cannot be suspended")
	}
	if e := s.validateAccess(role, cr); e != nil {
		return e
	}
	probe := userRec{role: role, customRoleID: cr}
	if !s.takesSeat(u) && s.takesSeat(&probe) && s.seatsFull() {
		return seatLimitError()
	}
	opos := -1
	if in.orgID.set && !in.orgID.null {
		if opos = s.orgPos(in.orgID.v); opos < 0 {
			return errInvalid("organization_id", "InvalidValue", "Organization: is invalid")
		}
		if s.findOM(pos, in.orgID.v) < 0 && !s.multipleOrgs && len(s.userOMs[pos]) > 0 && s.singleOrgMode == RefuseMembership {
			return errInvalid("organization_id", "InvalidValue",
				"Organization: user already belongs to an organization and this account does not allow multiple organizations per user")
		}
		if s.findOM(pos, in.orgID.v) < 0 && s.multipleOrgs && len(s.userOMs[pos]) >= s.maxOrgsPerUser {
			return errInvalid("organization_id", "InvalidValue", "Organization: a user can belong to at most 300 organizations")
		}
	}
	gpos := -1
	if in.groupID.set && !in.groupID.null {
		if !role.isStaff() {
			return errInvalid("default_group_id", "InvalidValue", "Default group: only agents can belong to groups")
		}
		if gpos = s.liveGroupPos(in.groupID.v); gpos < 0 {
			return errInvalid("default_group_id", "InvalidValue", "Default group: is invalid")
		}
	}

	// Validated: apply.
	u.name = name
	if ext != u.externalID {
		if u.externalID != "" {
			delete(s.byExternalID, u.externalID)
		}
		if ext != "" {
			s.byExternalID[ext] = int32(pos)
		}
		u.externalID = ext
	}
	if in.suspended.set {
		u.suspended = in.suspended.v
	}
	if in.tagsSet {
		u.tags = in.tags
	}
	wasStaff := u.role.isStaff()
	s.setAccess(pos, role, cr)
	if wasStaff && !role.isStaff() {
		// Downgrading to end-user removes the agent's group memberships.
		s.removeAllGMs(pos, now)
	}
	if opos >= 0 {
		if m := s.findOM(pos, in.orgID.v); m >= 0 {
			s.makeDefaultOM(m, now)
		} else {
			s.addOrgMembership(pos, opos, true, now)
		}
	} else if in.orgID.set && in.orgID.null && u.orgID != 0 {
		if m := s.findOM(pos, u.orgID); m >= 0 {
			s.removeOrgMembership(m, now)
		}
	}
	if !wasStaff || gpos >= 0 {
		s.ensureGroup(pos, gpos, now)
	}
	s.touchUser(pos, now)
	return nil
}

// softDeleteUser is DELETE /users/{id}.
func (s *store) softDeleteUser(pos int, now int64) *apiError {
	u := &s.users[pos]
	if u.owner {
		return errForbiddenBecause("The account owner cannot be deleted.")
	}
	orgID := u.orgID
	s.removeAllGMs(pos, now)
	t := s.omTable()
	t.removeAllIn(t.byUser, pos, now)
	role, cr := u.role, u.customRoleID
	s.setAccess(pos, RoleEndUser, 0) // release the seat and the role count
	u.state = userSoftDeleted
	u.role, u.customRoleID = role, cr // a deleted user keeps its last role for display
	u.orgID = orgID
	if u.email != "" {
		delete(s.byEmail, strings.ToLower(u.email))
	}
	if u.externalID != "" {
		delete(s.byExternalID, u.externalID)
	}
	s.touchUser(pos, now)
	return nil
}

// purgeUser is DELETE /deleted_users/{id}.
func (s *store) purgeUser(pos int, now int64) *apiError {
	u := &s.users[pos]
	switch u.state {
	case userLive:
		return errNotFound()
	case userPurged:
		return &apiError{status: http.StatusUnprocessableEntity, code: "RecordInvalid", desc: "Record validation errors",
			field: "base", detail: "InvalidValue", ddesc: "User has already been permanently deleted"}
	}
	u.state = userPurged
	u.name = "Permanently Deleted User"
	u.email = ""
	u.externalID = ""
	u.tags = []string{}
	u.orgID = 0
	s.touchUser(pos, now)
	return nil
}

func (s *store) exportUser(pos int) User {
	u := &s.users[pos]
	out := User{
		ID: u.id, Name: u.name, Email: u.email, ExternalID: u.externalID, Role: u.role,
		CustomRoleID: u.customRoleID, OrganizationID: u.orgID, DefaultGroupID: u.defaultGroupID,
		Active: u.state == userLive, Suspended: u.suspended, PermanentlyDeleted: u.state == userPurged,
		Owner: u.owner, Tags: append([]string{}, u.tags...), CreatedAt: unixTime(u.createdAt),
		UpdatedAt: unixTime(u.updatedAt), LastLoginAt: unixTime(u.lastLoginAt),
	}
	if rt, ok := s.roleType(u); ok {
		out.RoleType = &rt
	}
	return out
}
