package zendesktest

import (
	"net/http"
	"strings"
)

func handleListGroups(c *call) {
	excludeDeleted := c.query("exclude_deleted") == "true"
	c.list("groups", true, func(st *store) (seq, func(*jw, int), *apiError) {
		return seq{n: len(st.groups), id: func(i int) int64 { return st.groups[i].id },
				ok: func(i int) bool { return !excludeDeleted || !st.groups[i].deleted }},
			func(w *jw, i int) { st.writeGroup(w, c.base, i) }, nil
	})
}

func handleShowGroup(c *call) {
	c.one(http.StatusOK, "group", func(st *store, w *jw) *apiError {
		p := st.groupPos(c.ids[0])
		if p < 0 {
			return errNotFound()
		}
		st.writeGroup(w, c.base, p)
		return nil
	})
}

type groupInput struct {
	name, description optStr
	isPublic          optBool
}

func (c *call) groupBody() (groupInput, *apiError) {
	var in groupInput
	o, e := decodeObject(c.body)
	if e != nil {
		return in, e
	}
	m, e := o.member("group")
	if e != nil {
		return in, e
	}
	if in.name, e = m.str("name"); e != nil {
		return in, e
	}
	if in.description, e = m.str("description"); e != nil {
		return in, e
	}
	if in.isPublic, e = m.boolean("is_public"); e != nil {
		return in, e
	}
	return in, nil
}

func handleCreateGroup(c *call) {
	in, e := c.groupBody()
	if e != nil {
		c.fail(e)
		return
	}
	name := strings.TrimSpace(in.name.v)
	if name == "" {
		c.fail(errInvalid("name", "BlankValue", "Name: cannot be blank"))
		return
	}
	public := true
	if in.isPublic.set {
		public = in.isPublic.v
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p := st.addGroup(name, in.description.v, public, false, now)
		return http.StatusCreated, wrapOne("group", func(w *jw) { st.writeGroup(w, c.base, p) }), nil
	})
}

func handleUpdateGroup(c *call) {
	in, e := c.groupBody()
	if e != nil {
		c.fail(e)
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p := st.liveGroupPos(c.ids[0])
		if p < 0 {
			return 0, nil, errNotFound()
		}
		g := &st.groups[p]
		if in.name.set && strings.TrimSpace(in.name.v) == "" {
			return 0, nil, errInvalid("name", "BlankValue", "Name: cannot be blank")
		}
		if in.isPublic.set && in.isPublic.v && !g.isPublic {
			return 0, nil, errInvalid("is_public", "InvalidValue", "Is public: a private group cannot be made public")
		}
		if in.name.set {
			g.name = strings.TrimSpace(in.name.v)
		}
		if in.description.set {
			g.description = in.description.v
		}
		if in.isPublic.set {
			g.isPublic = in.isPublic.v
		}
		g.updatedAt = now
		return http.StatusOK, wrapOne("group", func(w *jw) { st.writeGroup(w, c.base, p) }), nil
	})
}

func handleDeleteGroup(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p := st.liveGroupPos(c.ids[0])
		if p < 0 {
			return 0, nil, errNotFound()
		}
		if st.groups[p].isDefault {
			return 0, nil, errInvalid("base", "InvalidValue", "The default group cannot be deleted")
		}
		st.deleteGroup(p, now)
		return http.StatusNoContent, nil, nil
	})
}

// handleListUserGroups is GET /users/{id}/groups.
func handleListUserGroups(c *call) {
	c.list("groups", true, func(st *store) (seq, func(*jw, int), *apiError) {
		p, e := st.userForShow(c.ids[0])
		if e != nil {
			return seq{}, nil, e
		}
		list := st.userGMs[p]
		return positions(list, func(q int32) int64 { return st.gms[q].id }),
			func(w *jw, i int) { st.writeGroup(w, c.base, st.groupPos(st.gms[list[i]].groupID)) }, nil
	})
}
