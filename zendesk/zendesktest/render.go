package zendesktest

import "strconv"

// The encoders below write records with the field names, order and JSON
// types of real Zendesk payloads (see fixtures in the repository's shared
// API notes). base is "http://host/api/v2".

func recordURL(w *jw, base, coll string, id int64) {
	w.key("url")
	w.b = append(w.b, '"')
	w.b = append(w.b, base...)
	w.b = append(w.b, '/')
	w.b = append(w.b, coll...)
	w.b = append(w.b, '/')
	w.b = strconv.AppendInt(w.b, id, 10)
	w.b = append(w.b, ".json\""...)
}

func (s *store) writeUser(w *jw, base string, pos int) {
	u := &s.users[pos]
	staff := u.role.isStaff()
	w.open()
	w.i64("id", u.id)
	recordURL(w, base, "users", u.id)
	w.str("name", u.name)
	w.strN("email", u.email)
	w.time("created_at", u.createdAt)
	w.time("updated_at", u.updatedAt)
	w.str("time_zone", "UTC")
	w.str("iana_time_zone", "Etc/UTC")
	w.null("phone")
	w.null("shared_phone_number")
	w.null("photo")
	w.i64("locale_id", 1)
	w.str("locale", "en-US")
	w.i64N("organization_id", u.orgID)
	w.str("role", string(u.role))
	w.boolean("verified", u.email != "")
	w.strN("external_id", u.externalID)
	w.strs("tags", u.tags)
	w.null("alias")
	w.boolean("active", u.state == userLive)
	w.boolean("shared", false)
	w.boolean("shared_agent", false)
	w.timeN("last_login_at", u.lastLoginAt)
	w.boolean("two_factor_auth_enabled", false)
	w.null("signature")
	w.null("details")
	w.null("notes")
	if rt, ok := s.roleType(u); ok {
		w.i64("role_type", int64(rt))
	} else {
		w.null("role_type")
	}
	w.i64N("custom_role_id", u.customRoleID)
	w.boolean("moderator", staff)
	if staff {
		w.null("ticket_restriction")
	} else {
		w.str("ticket_restriction", "requested")
	}
	w.boolean("only_private_comments", false)
	w.boolean("restricted_agent", !staff)
	w.boolean("suspended", u.suspended)
	w.boolean("chat_only", false)
	w.i64N("default_group_id", u.defaultGroupID)
	w.boolean("report_csv", u.role == RoleAdmin)
	w.raw("user_fields", "{}")
	w.close()
}

// writeDeletedUser writes the reduced deleted_users shape.
func (s *store) writeDeletedUser(w *jw, base string, pos int) {
	u := &s.users[pos]
	w.open()
	w.i64("id", u.id)
	recordURL(w, base, "deleted_users", u.id)
	w.str("name", u.name)
	w.strN("email", u.email)
	w.time("created_at", u.createdAt)
	w.time("updated_at", u.updatedAt)
	w.str("time_zone", "UTC")
	w.null("phone")
	w.null("shared_phone_number")
	w.null("photo")
	w.i64("locale_id", 1)
	w.str("locale", "en-US")
	w.i64N("organization_id", u.orgID)
	w.str("role", string(u.role))
	w.boolean("active", false)
	w.close()
}

func (s *store) writeGroup(w *jw, base string, pos int) {
	g := &s.groups[pos]
	w.open()
	recordURL(w, base, "groups", g.id)
	w.i64("id", g.id)
	w.boolean("is_public", g.isPublic)
	w.str("name", g.name)
	w.str("description", g.description)
	w.boolean("default", g.isDefault)
	w.boolean("deleted", g.deleted)
	w.time("created_at", g.createdAt)
	w.time("updated_at", g.updatedAt)
	w.close()
}

func (s *store) writeOrg(w *jw, base string, pos int) {
	o := &s.orgs[pos]
	w.open()
	recordURL(w, base, "organizations", o.id)
	w.i64("id", o.id)
	w.str("name", o.name)
	w.boolean("shared_tickets", false)
	w.boolean("shared_comments", false)
	w.strN("external_id", o.externalID)
	w.time("created_at", o.createdAt)
	w.time("updated_at", o.updatedAt)
	w.strs("domain_names", nonNil(o.domains))
	w.str("details", o.details)
	w.str("notes", o.notes)
	w.null("group_id")
	w.strs("tags", nonNil(o.tags))
	w.raw("organization_fields", "{}")
	w.close()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (s *store) writeGM(w *jw, base string, pos int) {
	m := &s.gms[pos]
	w.open()
	recordURL(w, base, "group_memberships", m.id)
	w.i64("id", m.id)
	w.i64("user_id", m.userID)
	w.i64("group_id", m.groupID)
	w.boolean("default", m.isDefault)
	w.time("created_at", m.createdAt)
	w.time("updated_at", m.updatedAt)
	w.close()
}

func (s *store) writeOM(w *jw, base string, pos int) {
	m := &s.oms[pos]
	w.open()
	recordURL(w, base, "organization_memberships", m.id)
	w.i64("id", m.id)
	w.i64("user_id", m.userID)
	w.i64("organization_id", m.orgID)
	if m.isDefault {
		w.boolean("default", true)
	} else {
		w.null("default") // Zendesk sends null, not false
	}
	w.time("created_at", m.createdAt)
	name := ""
	if p := posOf(m.orgID, orgBase, len(s.orgs)); p >= 0 {
		name = s.orgs[p].name
	}
	w.str("organization_name", name)
	w.time("updated_at", m.updatedAt)
	w.boolean("view_tickets", true)
	w.close()
}

func (s *store) writeRole(w *jw, pos int) {
	r := &s.roles[pos]
	w.open()
	w.i64("id", r.id)
	w.str("name", r.name)
	w.str("description", r.description)
	w.i64("role_type", int64(r.roleType))
	w.time("created_at", r.createdAt)
	w.time("updated_at", r.updatedAt)
	w.key("configuration")
	r.conf.write(w)
	w.i64("team_member_count", int64(r.members))
	w.close()
}
