package zendesktest

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// one renders {"key": record} under the read lock.
func (c *call) one(status int, key string, render func(st *store, w *jw) *apiError) {
	w := jw{}
	var e *apiError
	c.s.read(func(st *store) {
		w.open()
		w.key(key)
		e = render(st, &w)
		w.close()
	})
	if e != nil {
		c.fail(e)
		return
	}
	c.ok(status, w.b)
}

// mutate runs f under the write lock and writes its answer.
func (c *call) mutate(f func(st *store, now int64) (int, []byte, *apiError)) {
	var status int
	var body []byte
	var e *apiError
	now := c.nowUnix()
	c.s.write(func(st *store) { status, body, e = f(st, now) })
	if e != nil {
		c.fail(e)
		return
	}
	if status == http.StatusNoContent {
		c.noContent()
		return
	}
	c.ok(status, body)
}

func wrapOne(key string, render func(w *jw)) []byte {
	w := jw{}
	w.open()
	w.key(key)
	render(&w)
	w.close()
	return w.b
}

func wrapMany(key string, n int, render func(w *jw, i int)) []byte {
	w := jw{}
	w.open()
	w.key(key)
	w.openArray()
	for i := 0; i < n; i++ {
		w.elem()
		render(&w, i)
	}
	w.closeArray()
	w.close()
	return w.b
}

// userFilter is the role, role[], permission_set and external_id
// parameters of the user lists and counts.
type userFilter struct {
	roles []Role
	perm  int64  // custom role id; 0 = any
	ext   string // external id; "" = any
}

// parseUserFilter reads the filter parameters; external_id only where the
// endpoint takes it (the counts do not).
func parseUserFilter(c *call, externalID bool) (userFilter, *apiError) {
	var f userFilter
	for _, k := range []string{"role", "role[]"} {
		for _, v := range c.q[k] {
			for _, part := range strings.Split(v, ",") {
				r := Role(strings.TrimSpace(part))
				if !r.valid() {
					return f, errBadRequest("InvalidValue", "role: "+part+" is not one of end-user, agent, admin")
				}
				f.roles = append(f.roles, r)
			}
		}
	}
	if v := c.query("permission_set"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return f, errBadRequest("InvalidValue", "permission_set: must be a custom role id")
		}
		f.perm = n
	}
	if externalID {
		f.ext = c.query("external_id")
	}
	return f, nil
}

// match reports whether a live user passes the filter.
func (f userFilter) match(u *userRec) bool {
	return u.state == userLive &&
		(len(f.roles) == 0 || slices.Contains(f.roles, u.role)) &&
		(f.perm == 0 || u.customRoleID == f.perm) &&
		(f.ext == "" || u.externalID == f.ext)
}

func handleListUsers(c *call) {
	f, e := parseUserFilter(c, true)
	if e != nil {
		c.fail(e)
		return
	}
	c.list("users", true, func(st *store) (seq, func(*jw, int), *apiError) {
		return seq{
				n:  len(st.users),
				id: func(i int) int64 { return st.users[i].id },
				ok: func(i int) bool { return f.match(&st.users[i]) },
			}, func(w *jw, i int) {
				st.writeUser(w, c.base, i)
			}, nil
	})
}

// userForShow returns a user that is live or soft-deleted (Zendesk shows
// soft-deleted users with active:false); purged users are gone.
func (st *store) userForShow(id int64) (int, *apiError) {
	p := st.userPos(id)
	if p < 0 || st.users[p].state == userPurged {
		return -1, errNotFound()
	}
	return p, nil
}

func handleShowUser(c *call) {
	c.one(http.StatusOK, "user", func(st *store, w *jw) *apiError {
		p, e := st.userForShow(c.ids[0])
		if e != nil {
			return e
		}
		st.writeUser(w, c.base, p)
		return nil
	})
}

func handleShowMe(c *call) {
	c.one(http.StatusOK, "user", func(st *store, w *jw) *apiError {
		st.writeUser(w, c.base, st.userPos(c.actor))
		return nil
	})
}

func handleShowManyUsers(c *call) {
	includeDeleted := c.query("include_deleted") == "true"
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
		exts = strings.Split(c.query("external_ids"), ",")
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
		if p := st.userPos(id); p >= 0 && (st.users[p].state == userLive || includeDeleted && st.users[p].state == userSoftDeleted) {
			ps = append(ps, p)
		}
	}
	for _, x := range exts {
		if p, ok := st.byExternalID[strings.TrimSpace(x)]; ok {
			ps = append(ps, int(p))
		}
	}
	body := wrapMany("users", len(ps), func(w *jw, i int) { st.writeUser(w, c.base, ps[i]) })
	c.s.mu.RUnlock()
	c.ok(http.StatusOK, body)
}

// userQuery is a parsed /users/search query.
type userQuery struct {
	email, name, externalID string
	role                    Role
	text                    []string
}

func parseUserQuery(q string) userQuery {
	var uq userQuery
	for _, f := range strings.Fields(q) {
		k, v, ok := strings.Cut(f, ":")
		v = strings.Trim(v, `"`)
		switch {
		case ok && k == "email":
			uq.email = strings.ToLower(v)
		case ok && k == "name":
			uq.name = strings.ToLower(v)
		case ok && k == "role":
			uq.role = Role(v)
		case ok && k == "external_id":
			uq.externalID = v
		case ok && k == "type":
			// type:user is implied
		default:
			uq.text = append(uq.text, strings.ToLower(strings.Trim(f, `"`)))
		}
	}
	return uq
}

func (uq userQuery) match(u *userRec) bool {
	if u.state != userLive {
		return false
	}
	if uq.email != "" && strings.ToLower(u.email) != uq.email {
		return false
	}
	if uq.externalID != "" && u.externalID != uq.externalID {
		return false
	}
	if uq.role != "" && u.role != uq.role {
		return false
	}
	name, email := strings.ToLower(u.name), strings.ToLower(u.email)
	if uq.name != "" && !strings.Contains(name, uq.name) {
		return false
	}
	for _, t := range uq.text {
		if !strings.Contains(name, t) && !strings.Contains(email, t) {
			return false
		}
	}
	return true
}

// handleSearchUsers is GET /users/search: offset pagination only.
func handleSearchUsers(c *call) {
	var uq userQuery
	switch {
	case c.has("external_id"):
		uq.externalID = c.query("external_id")
		if uq.externalID == "" {
			c.fail(errBadRequest("InvalidValue", "external_id must not be empty"))
			return
		}
	case strings.TrimSpace(c.query("query")) != "":
		uq = parseUserQuery(c.query("query"))
	default:
		c.fail(errBadRequest("InvalidValue", "query or external_id is required"))
		return
	}
	c.list("users", false, func(st *store) (seq, func(*jw, int), *apiError) {
		render := func(w *jw, i int) { st.writeUser(w, c.base, i) }
		// Exact lookups use the indexes.
		if uq.email != "" || uq.externalID != "" {
			var one []int
			var p int32
			var ok bool
			if uq.email != "" {
				p, ok = st.byEmail[uq.email]
			} else {
				p, ok = st.byExternalID[uq.externalID]
			}
			if ok && uq.match(&st.users[p]) {
				one = append(one, int(p))
			}
			return seq{n: len(one), id: func(i int) int64 { return st.users[one[i]].id }},
				func(w *jw, i int) { st.writeUser(w, c.base, one[i]) }, nil
		}
		return seq{n: len(st.users), id: func(i int) int64 { return st.users[i].id },
			ok: func(i int) bool { return uq.match(&st.users[i]) }}, render, nil
	})
}

func (c *call) userBody() (userInput, *apiError) {
	o, e := decodeObject(c.body)
	if e != nil {
		return userInput{}, e
	}
	m, e := o.member("user")
	if e != nil {
		return userInput{}, e
	}
	return parseUserInput(m)
}

// agentMayWrite: agents may create and update end-users only, and may not
// grant roles.
func (c *call) agentMayWrite(in userInput, target *userRec) bool {
	if c.isAdmin() {
		return true
	}
	if target != nil && target.role != RoleEndUser {
		return false
	}
	if in.role.set && !in.role.null && Role(in.role.v) != RoleEndUser {
		return false
	}
	return !in.customRoleID.set || in.customRoleID.null
}

func handleCreateUser(c *call) {
	in, e := c.userBody()
	if e != nil {
		c.fail(e)
		return
	}
	if !c.agentMayWrite(in, nil) {
		c.fail(errForbidden())
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p, e := st.createUser(in, now)
		if e != nil {
			return 0, nil, e
		}
		return http.StatusCreated, wrapOne("user", func(w *jw) { st.writeUser(w, c.base, p) }), nil
	})
}

func handleCreateOrUpdateUser(c *call) {
	in, e := c.userBody()
	if e != nil {
		c.fail(e)
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p := st.matchUser(in)
		if p < 0 {
			if !c.agentMayWrite(in, nil) {
				return 0, nil, errForbidden()
			}
			np, e := st.createUser(in, now)
			if e != nil {
				return 0, nil, e
			}
			return http.StatusCreated, wrapOne("user", func(w *jw) { st.writeUser(w, c.base, np) }), nil
		}
		if !c.agentMayWrite(in, &st.users[p]) {
			return 0, nil, errForbidden()
		}
		if e := st.updateUser(p, in, now); e != nil {
			return 0, nil, e
		}
		return http.StatusOK, wrapOne("user", func(w *jw) { st.writeUser(w, c.base, p) }), nil
	})
}

func handleUpdateUser(c *call) {
	// The per-user limit counts every authenticated update of the user, whatever
	// its outcome, as a limit keyed on the endpoint and the id would; a refused
	// update spends nothing of the account's budget.
	if ok, retryIn := c.s.userUpdates.take(c.ids[0], c.s.now()); !ok {
		c.s.account.giveBack()
		c.s.obs.throttled()
		c.fail(errUserUpdateLimited(retryIn))
		return
	}
	in, e := c.userBody()
	if e != nil {
		c.fail(e)
		return
	}
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p := st.liveUserPos(c.ids[0])
		if p < 0 {
			return 0, nil, errNotFound()
		}
		if !c.agentMayWrite(in, &st.users[p]) {
			return 0, nil, errForbidden()
		}
		if e := st.updateUser(p, in, now); e != nil {
			return 0, nil, e
		}
		return http.StatusOK, wrapOne("user", func(w *jw) { st.writeUser(w, c.base, p) }), nil
	})
}

func handleDeleteUser(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p := st.liveUserPos(c.ids[0])
		if p < 0 {
			return 0, nil, errNotFound()
		}
		if e := st.softDeleteUser(p, now); e != nil {
			return 0, nil, e
		}
		return http.StatusOK, wrapOne("user", func(w *jw) { st.writeUser(w, c.base, p) }), nil
	})
}

func deletedSeq(st *store) seq {
	return seq{n: len(st.users), id: func(i int) int64 { return st.users[i].id },
		ok: func(i int) bool { return st.users[i].state != userLive }}
}

func handleListDeletedUsers(c *call) {
	c.list("deleted_users", true, func(st *store) (seq, func(*jw, int), *apiError) {
		return deletedSeq(st), func(w *jw, i int) { st.writeDeletedUser(w, c.base, i) }, nil
	})
}

func handleShowDeletedUser(c *call) {
	c.one(http.StatusOK, "deleted_user", func(st *store, w *jw) *apiError {
		p := st.userPos(c.ids[0])
		if p < 0 || st.users[p].state == userLive {
			return errNotFound()
		}
		st.writeDeletedUser(w, c.base, p)
		return nil
	})
}

func handlePurgeUser(c *call) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		p := st.userPos(c.ids[0])
		if p < 0 {
			return 0, nil, errNotFound()
		}
		// The answer shows the record as it was before its data was scrubbed.
		body := wrapOne("deleted_user", func(w *jw) { st.writeDeletedUser(w, c.base, p) })
		if e := st.purgeUser(p, now); e != nil {
			return 0, nil, e
		}
		return http.StatusOK, body, nil
	})
}
