package zendesktest

// roleConfig is the part of a custom role's configuration the simulator
// varies. The other ~40 permission flags are written with fixed values so the
// object has the full shape of a real one.
type roleConfig struct {
	lightAgent             bool
	manageGroups           bool
	manageGroupMemberships bool
	manageOrganizations    bool
	groupAccess            bool
	organizationEditing    bool
	ticketAccess           string // "all", "within-groups", "assigned-only"
	endUserProfileAccess   string // "readonly", "edit", "full"
	manageRoles            string // "none", "all-except-self", "all"
}

type confEntry struct {
	key string
	b   bool
	s   string
	str bool
}

// roleConfigTemplate lists the configuration members in the order of real payloads.
var roleConfigTemplate = []confEntry{
	{key: "chat_access", b: true},
	{key: "end_user_list_access", s: "full", str: true},
	{key: "forum_access_restricted_content"},
	{key: "light_agent"},
	{key: "manage_business_rules"},
	{key: "manage_dynamic_content"},
	{key: "manage_extensions_and_channels"},
	{key: "manage_facebook"},
	{key: "moderate_forums"},
	{key: "side_conversation_create", b: true},
	{key: "ticket_access", s: "all", str: true},
	{key: "ticket_comment_access", s: "public", str: true},
	{key: "ticket_deletion"},
	{key: "ticket_tag_editing", b: true},
	{key: "twitter_search_access"},
	{key: "view_deleted_tickets"},
	{key: "voice_access", b: true},
	{key: "group_access"},
	{key: "organization_editing"},
	{key: "organization_notes_editing"},
	{key: "assign_tickets_to_any_group"},
	{key: "end_user_profile_access", s: "readonly", str: true},
	{key: "explore_access", s: "readonly", str: true},
	{key: "forum_access", s: "readonly", str: true},
	{key: "macro_access", s: "readonly", str: true},
	{key: "report_access", s: "readonly", str: true},
	{key: "ticket_editing", b: true},
	{key: "ticket_merge"},
	{key: "user_view_access", s: "readonly", str: true},
	{key: "view_access", s: "readonly", str: true},
	{key: "voice_dashboard_access"},
	{key: "manage_automations"},
	{key: "manage_contextual_workspaces"},
	{key: "manage_organization_fields"},
	{key: "manage_skills"},
	{key: "manage_slas"},
	{key: "manage_ticket_fields"},
	{key: "manage_ticket_forms"},
	{key: "manage_user_fields"},
	{key: "ticket_redaction"},
	{key: "manage_roles", s: "none", str: true},
	{key: "manage_groups"},
	{key: "manage_group_memberships"},
	{key: "manage_organizations"},
	{key: "manage_suspended_tickets", b: true},
	{key: "manage_triggers"},
	{key: "view_reduced_count"},
	{key: "view_filter_tickets", b: true},
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func (c roleConfig) write(w *jw) {
	w.open()
	for _, e := range roleConfigTemplate {
		b, s := e.b, e.s
		switch e.key {
		case "light_agent":
			b = c.lightAgent
		case "manage_groups":
			b = c.manageGroups
		case "manage_group_memberships":
			b = c.manageGroupMemberships
		case "manage_organizations":
			b = c.manageOrganizations
		case "group_access":
			b = c.groupAccess
		case "organization_editing":
			b = c.organizationEditing
		case "ticket_access":
			s = orDefault(c.ticketAccess, s)
		case "end_user_profile_access":
			s = orDefault(c.endUserProfileAccess, s)
		case "manage_roles":
			s = orDefault(c.manageRoles, s)
		}
		if e.str {
			w.str(e.key, s)
		} else {
			w.boolean(e.key, b)
		}
	}
	w.raw("custom_objects", "{}")
	w.close()
}
