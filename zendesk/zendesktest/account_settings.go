package zendesktest

import "net/http"

func (c *call) writeSettings(w *jw) {
	st := c.s.st
	w.open()
	w.key("settings")
	w.open()
	w.key("active_features")
	w.open()
	w.boolean("light_agents", c.s.cfg.plan.customRoles())
	w.boolean("organization_access_enabled", true)
	w.boolean("ticket_tagging", true)
	w.close()
	w.key("agents")
	w.open()
	w.boolean("agent_workspace", true)
	w.boolean("focus_mode", false)
	w.close()
	w.key("groups")
	w.open()
	w.boolean("check_group_name_uniqueness", false)
	w.close()
	w.key("user")
	w.open()
	w.boolean("agent_created_welcome_emails", true)
	w.boolean("end_user_phone_number_validation", false)
	w.boolean("have_gravatars_enabled", true)
	w.boolean("language_selection", true)
	w.boolean("multiple_organizations", st.multipleOrgs)
	w.boolean("tagging", true)
	w.boolean("time_zone_selection", true)
	w.close()
	w.close()
	w.close()
}

func handleShowAccountSettings(c *call) {
	c.s.mu.RLock()
	w := jw{}
	c.writeSettings(&w)
	c.s.mu.RUnlock()
	c.ok(http.StatusOK, w.b)
}

// handleUpdateAccountSettings is PUT /account/settings. Only
// settings.user.multiple_organizations is modelled; other members are accepted
// and ignored.
func handleUpdateAccountSettings(c *call) {
	o, e := decodeObject(c.body)
	if e != nil {
		c.fail(e)
		return
	}
	settings, e := o.member("settings")
	if e != nil {
		c.fail(e)
		return
	}
	var multi optBool
	if _, ok := settings["user"]; ok {
		user, e := settings.member("user")
		if e != nil {
			c.fail(e)
			return
		}
		if multi, e = user.boolean("multiple_organizations"); e != nil {
			c.fail(e)
			return
		}
	}
	if multi.set && multi.v && !c.s.cfg.plan.multipleOrganizations() {
		c.fail(errInvalid("multiple_organizations", "InvalidValue",
			"Multiple organizations: only available on the Professional plan and above"))
		return
	}
	c.s.mu.Lock()
	if multi.set {
		c.s.st.multipleOrgs = multi.v
	}
	w := jw{}
	c.writeSettings(&w)
	c.s.mu.Unlock()
	c.ok(http.StatusOK, w.b)
}
