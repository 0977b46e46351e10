package zendesktest

import (
	"fmt"
	"net/http"
	"strings"
)

// The users' bulk endpoints: POST /users/create_many, POST
// /users/create_or_update_many and PUT /users/update_many. Each checks the
// shape of its request at once and answers a queued job; the job applies
// the rules of the single-user endpoints (createUser, updateUser, who may
// write what) to each item in turn when it runs, so a job's items see the
// effects of the items before them (a second item with the first one's
// email is a duplicate).

// bulkImportsDisabled is the answer of create_many and create_or_update_many
// on an account where Zendesk has not enabled bulk user imports.
func bulkImportsDisabled() *apiError {
	return errForbiddenBecause("Bulk user imports are not enabled for this account. " +
		"The account owner must ask Zendesk Customer Support to enable them.")
}

// userItems decodes {"users":[{...},...]} (1 to 100 users).
func (c *call) userItems() ([]userInput, *apiError) {
	objs, e := c.bulkObjects("users")
	if e != nil {
		return nil, e
	}
	out := make([]userInput, len(objs))
	for i, o := range objs {
		if out[i], e = parseUserInput(o); e != nil {
			return nil, e
		}
	}
	return out, nil
}

// matchUser finds the live user that create_or_update matches: by email,
// then by external id; -1 if none.
func (st *store) matchUser(in userInput) int {
	if in.email.v != "" {
		if q, ok := st.byEmail[strings.ToLower(strings.TrimSpace(in.email.v))]; ok {
			return int(q)
		}
	}
	if in.externalID.v != "" {
		if q, ok := st.byExternalID[in.externalID.v]; ok {
			return int(q)
		}
	}
	return -1
}

// enqueueUserJob queues a job that runs item for each of n items and
// answers the job.
func (c *call) enqueueUserJob(jobType string, n int, item func(st *store, i int, now int64) jobResult) {
	c.mutate(func(st *store, now int64) (int, []byte, *apiError) {
		j, e := c.s.enqueue(jobType, n, func(st *store, now int64) []jobResult {
			res := make([]jobResult, n)
			for i := range n {
				res[i] = item(st, i, now)
			}
			return res
		})
		if e != nil {
			return 0, nil, e
		}
		return http.StatusOK, c.jobAnswer(j), nil
	})
}

// handleCreateManyUsers is POST /users/create_many: each item is created as
// POST /users would; results are {id,index}, or {index,success:false,error,
// details} for an item that could not be created.
func handleCreateManyUsers(c *call) {
	if !c.s.cfg.bulkUserImports {
		c.fail(bulkImportsDisabled())
		return
	}
	items, e := c.userItems()
	if e != nil {
		c.fail(e)
		return
	}
	c.enqueueUserJob("bulk_create_users", len(items), func(st *store, i int, now int64) jobResult {
		if !c.agentMayWrite(items[i], nil) {
			return itemFailed(0, i, "", errForbidden())
		}
		p, e := st.createUser(items[i], now)
		if e != nil {
			return itemFailed(0, i, "", e)
		}
		return created(st.users[p].id, i)
	})
}

// handleCreateOrUpdateManyUsers is POST /users/create_or_update_many: each
// item updates the user it matches by email or external id, as POST
// /users/create_or_update would, or creates one. Results are
// {id,action,status,success}, with action "create" and status "Created" or
// action "update" and status "Updated"; a failed creation is {index,action,
// success:false,error,details}, a failed update the same with id for index.
func handleCreateOrUpdateManyUsers(c *call) {
	if !c.s.cfg.bulkUserImports {
		c.fail(bulkImportsDisabled())
		return
	}
	items, e := c.userItems()
	if e != nil {
		c.fail(e)
		return
	}
	c.enqueueUserJob("bulk_create_or_update_users", len(items), func(st *store, i int, now int64) jobResult {
		in := items[i]
		p := st.matchUser(in)
		if p < 0 {
			if !c.agentMayWrite(in, nil) {
				return itemFailed(0, i, "create", errForbidden())
			}
			np, e := st.createUser(in, now)
			if e != nil {
				return itemFailed(0, i, "create", e)
			}
			return changed(st.users[np].id, "create", "Created")
		}
		id := st.users[p].id
		if !c.agentMayWrite(in, &st.users[p]) {
			return itemFailed(id, i, "update", errForbidden())
		}
		if e := st.updateUser(p, in, now); e != nil {
			return itemFailed(id, i, "update", e)
		}
		return changed(id, "update", "Updated")
	})
}

// userRef names the user an update_many item changes: by id, or by
// external id when id is 0.
type userRef struct {
	id  int64
	ext string
}

// find returns the live user ref names, or -1.
func (r userRef) find(st *store) int {
	if r.id != 0 {
		return st.liveUserPos(r.id)
	}
	if p, ok := st.byExternalID[r.ext]; ok {
		return int(p)
	}
	return -1
}

// updateManyItems reads the two forms of PUT /users/update_many: the same
// {"user":{...}} for the users of ids=1,2,3 or external_ids=a,b, or
// {"users":[{"id":1,...},{"external_id":"a",...}]}, one update per user.
func (c *call) updateManyItems() ([]userRef, []userInput, *apiError) {
	o, e := decodeObject(c.body)
	if e != nil {
		return nil, nil, e
	}
	_, one := o["user"]
	_, many := o["users"]
	byIDs, byExt := c.has("ids"), c.has("external_ids")
	switch {
	case one && many:
		return nil, nil, errBadRequest("InvalidJSON", `request body must have a "user" object or a "users" array, not both`)
	case many:
		if byIDs || byExt {
			return nil, nil, errBadRequest("InvalidValue", `ids and external_ids go with a "user" body; a "users" array names its users itself`)
		}
		objs, e := bulkMember(o, "users")
		if e != nil {
			return nil, nil, e
		}
		refs := make([]userRef, len(objs))
		ins := make([]userInput, len(objs))
		for i, it := range objs {
			id, e := it.id("id")
			if e != nil {
				return nil, nil, e
			}
			if ins[i], e = parseUserInput(it); e != nil {
				return nil, nil, e
			}
			refs[i] = userRef{id: id.v, ext: ins[i].externalID.v}
			if refs[i].id == 0 && refs[i].ext == "" {
				return nil, nil, errBadRequest("InvalidValue", fmt.Sprintf("users[%d]: id or external_id is required", i))
			}
		}
		return refs, ins, nil
	case one:
		m, e := o.member("user")
		if e != nil {
			return nil, nil, e
		}
		in, e := parseUserInput(m)
		if e != nil {
			return nil, nil, e
		}
		var refs []userRef
		switch {
		case byIDs && byExt:
			return nil, nil, errBadRequest("InvalidValue", "give ids or external_ids, not both")
		case byIDs:
			ids, e := c.idsParam(maxBulkItems)
			if e != nil {
				return nil, nil, e
			}
			for _, id := range ids {
				refs = append(refs, userRef{id: id})
			}
		case byExt:
			if len(c.q["external_ids"]) > 1 {
				return nil, nil, errBadRequest("InvalidValue", "external_ids: give the ids once, separated by commas")
			}
			exts := strings.Split(c.query("external_ids"), ",")
			if len(exts) > maxBulkItems {
				return nil, nil, errBadRequest("TooManyValues", fmt.Sprintf("external_ids: at most %d ids are allowed", maxBulkItems))
			}
			for _, x := range exts {
				if x = strings.TrimSpace(x); x == "" {
					return nil, nil, errBadRequest("InvalidValue", "external_ids: an id is empty")
				}
				refs = append(refs, userRef{ext: x})
			}
		default:
			return nil, nil, errBadRequest("InvalidValue", `a "user" body needs ids or external_ids naming the users to update`)
		}
		ins := make([]userInput, len(refs))
		for i := range ins {
			ins[i] = in
		}
		return refs, ins, nil
	}
	return nil, nil, errBadRequest("InvalidJSON", `request body must have a "user" object or a "users" array`)
}

// handleUpdateManyUsers is PUT /users/update_many: each user is updated as
// PUT /users/{id} would update it (but these updates do not count against
// the per-user update limit). Results are {id,action:"update",
// status:"Updated",success:true}, or {id,action,success:false,error,details}
// (index for id when an external id names no user).
func handleUpdateManyUsers(c *call) {
	refs, ins, e := c.updateManyItems()
	if e != nil {
		c.fail(e)
		return
	}
	c.enqueueUserJob("bulk_update_users", len(refs), func(st *store, i int, now int64) jobResult {
		p := refs[i].find(st)
		if p < 0 {
			return itemFailed(refs[i].id, i, "update", errNotFound())
		}
		id := st.users[p].id
		if !c.agentMayWrite(ins[i], &st.users[p]) {
			return itemFailed(id, i, "update", errForbidden())
		}
		if e := st.updateUser(p, ins[i], now); e != nil {
			return itemFailed(id, i, "update", e)
		}
		return changed(id, "update", "Updated")
	})
}
