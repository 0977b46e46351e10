package zendesktest

import "net/http"

// planGate answers 403 when the plan has no custom roles. Zendesk documents
// custom roles as Enterprise-only but not the lower-plan answer; 403
// Forbidden is the likely one.
func (c *call) planGate() bool {
	if !c.s.cfg.plan.customRoles() {
		c.fail(errForbiddenBecause("Custom roles are only available on the Enterprise plan."))
		return false
	}
	return true
}

// handleListCustomRoles is GET /custom_roles: not paginated by the spec;
// the offset fields (count, next_page, previous_page) are present as in
// real payloads.
func handleListCustomRoles(c *call) {
	if !c.planGate() {
		return
	}
	c.list("custom_roles", false, func(st *store) (seq, func(*jw, int), *apiError) {
		return seq{n: len(st.roles), id: func(i int) int64 { return st.roles[i].id }},
			func(w *jw, i int) { st.writeRole(w, i) }, nil
	})
}

func handleShowCustomRole(c *call) {
	if !c.planGate() {
		return
	}
	c.one(http.StatusOK, "custom_role", func(st *store, w *jw) *apiError {
		p := st.rolePos(c.ids[0])
		if p < 0 {
			return errNotFound()
		}
		st.writeRole(w, p)
		return nil
	})
}
