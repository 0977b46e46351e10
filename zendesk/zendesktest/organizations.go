package zendesktest

import (
	"net/http"
	"slices"
	"strings"
)

func orgSeq(st *store) seq {
	return seq{n: len(st.orgs), id: func(i int) int64 { return st.orgs[i].id },
		ok: func(i int) bool { return !st.orgs[i].deleted }}
}

func handleListOrganizations(c *call) {
	c.list("organizations", true, func(st *store) (seq, func(*jw, int), *apiError) {
		return orgSeq(st), func(w *jw, i int) { st.writeOrg(w, c.base, i) }, nil
	})
}

func handleShowOrganization(c *call) {
	c.one(http.StatusOK, "organization", func(st *store, w *jw) *apiError {
		p := st.orgPos(c.ids[0])
		if p < 0 {
			return errNotFound()
		}
		st.writeOrg(w, c.base, p)
		return nil
	})
}

func handleShowManyOrganizations(c *call) {
	var ids []int64
	var exts []string
	switch {
	case c.has("ids"):
		var e *apiError
		if ids, e = c.idsParam(100); e != nil {
			c.fail(e)
			return
		}
	case c.has("external_ids"):
		for _, x := range strings.Split(c.query("external_ids"), ",") {
			exts = append(exts, strings.TrimSpace(x))
		}
		if len(exts) > 100 {
			c.fail(errBadRequest("TooManyValues", "external_ids: at most 100 ids are allowed"))
			return
		}
	default:
		c.fail(errBadRequest("InvalidValue", "ids or external_ids is required"))
		return
	}
	c.s.mu.RLock()
	st := c.s.st
	var ps []int
	for _, id := range ids {
		if p := st.orgPos(id); p >= 0 {
			ps = append(ps, p)
		}
	}
	if len(exts) > 0 {
		// Organizations have no external-id index: show_many by external id
		// is rare, and a scan keeps the store small.
		for i := range st.orgs {
			if !st.orgs[i].deleted && st.orgs[i].externalID != "" && slices.Contains(exts, st.orgs[i].externalID) {
				ps = append(ps, i)
			}
		}
	}
	body := wrapMany("organizations", len(ps), func(w *jw, i int) { st.writeOrg(w, c.base, ps[i]) })
	c.s.mu.RUnlock()
	c.ok(http.StatusOK, body)
}

type orgInput struct {
	name, externalID, details, notes optStr
	tags, domains                    []string
	tagsSet, domainsSet              bool
}

func (c *call) orgBody() (orgInput, *apiError) {
	var in orgInput
	o, e := decodeObject(c.body)
	if e != nil {
		return in, e
	}
	m, e := o.member("organization")
	if e != nil {
		return in, e
	}
	if in.name, e = m.str("name"); e != nil {
		return in, e
	}
	if in.externalID, e = m.str("external_id"); e != nil {
		return in, e
	}
	if in.details, e = m.str("details"); e != nil {
		return in, e
	}
	if in.notes, e = m.str("notes"); e != nil {
		return in, e
	}
	if in.tags, in.tagsSet, e = m.strings("tags"); e != nil {
		return in, e
	}
	if in.domains, in.domainsSet, e = m.strings("domain_names"); e != nil {
		return in, e
	}
	return in, nil
}

func (in orgInput) apply(o *orgRec) {
	if in.externalID.set {
		o.externalID = in.externalID.v
	}
	if in.details.set {
		o.details = in.details.v
	}
	if in.notes.set {
		o.notes = in.notes.v
	}
	if in.tagsSet {
		o.tags = in.tags
	}
	if in.domainsSet {
		o.domains = in.domains // a PUT overwrites domain_names
	}
}

func handleCreateOrganization(c *call) {
	in, e := c.orgBody()
	if e != nil {
		c.fail(e)
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p, e := st.addOrg(in.name.v, "", now)
		if e != nil {
			return 0, nil, e
		}
		in.apply(&st.orgs[p])
		return http.StatusCreated, wrapOne("organization", func(w *jw) { st.writeOrg(w, c.base, p) }), nil
	})
}

func handleUpdateOrganization(c *call) {
	in, e := c.orgBody()
	if e != nil {
		c.fail(e)
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p := st.orgPos(c.ids[0])
		if p < 0 {
			return 0, nil, errNotFound()
		}
		if in.name.set {
			if e := st.renameOrg(p, in.name.v, now); e != nil {
				return 0, nil, e
			}
		}
		in.apply(&st.orgs[p])
		st.orgs[p].updatedAt = now
		return http.StatusOK, wrapOne("organization", func(w *jw) { st.writeOrg(w, c.base, p) }), nil
	})
}

func handleDeleteOrganization(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p := st.orgPos(c.ids[0])
		if p < 0 {
			return 0, nil, errNotFound()
		}
		st.deleteOrg(p, now)
		return http.StatusNoContent, nil, nil
	})
}

// handleListUserOrganizations is GET /users/{id}/organizations.
func handleListUserOrganizations(c *call) {
	c.list("organizations", true, func(st *store) (seq, func(*jw, int), *apiError) {
		p, e := st.userForShow(c.ids[0])
		if e != nil {
			return seq{}, nil, e
		}
		list := st.userOMs[p]
		return positions(list, func(q int32) int64 { return st.oms[q].id }),
			func(w *jw, i int) { st.writeOrg(w, c.base, st.orgPos(st.oms[list[i]].orgID)) }, nil
	})
}
