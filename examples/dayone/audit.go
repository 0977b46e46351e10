package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// cost is the fewest requests an Apply of a plan can send, by part (see the package
// documentation).
type cost struct {
	accountState int // GET /account/settings and GET /custom_roles
	check        int // GET /users/show_many, 100 principals a request
	userJobs     int // POST /users/create_many (one, refused, without bulk imports)
	userSingles  int // without bulk imports: GET /users/search and POST /users per creation
	grantJobs    int // POST /group_memberships/create_many
	other        int // one request per change of another kind (none in this scenario)
	polls        int // GET /job_statuses/show_many that Zendesk answered: counted, not computed
	waves        int // the floor on polls: one per wave of jobs waited for together
}

func (c cost) total() int {
	return c.accountState + c.check + c.userJobs + c.userSingles + c.grantJobs + c.other + c.polls
}

// Zendesk's bulk limits, as zendeskaccess uses them: 100 items a job, 30 jobs at once.
const (
	bulkItems = 100
	bulkJobs  = 30
)

func ceilDiv(n, d int) int { return (n + d - 1) / d }

// minCost computes the minimum from the plan, the configuration and the polls counted.
func minCost(plan *provision.Plan, p params, polls int) cost {
	principals := map[string]bool{}
	var creates, groupGrants, other int
	for _, c := range plan.Changes {
		if c.Blocked != nil {
			continue
		}
		if c.PrincipalID != "" {
			principals[c.PrincipalID] = true
		}
		switch {
		case c.Kind == provision.ChangeCreateAccount:
			creates++
		case c.Kind == provision.ChangeGrant && strings.HasPrefix(c.EntitlementID, "group:"):
			groupGrants++
		default:
			other++
		}
	}
	// Zendesk sends every custom role in one answer.
	c := cost{accountState: 2, check: ceilDiv(len(principals), bulkItems), other: other, polls: polls}
	c.grantJobs = ceilDiv(groupGrants, bulkItems)
	c.waves = ceilDiv(c.grantJobs, bulkJobs)
	switch chunks := ceilDiv(creates, bulkItems); {
	case creates == 0:
	case p.bulkImports:
		// zendeskaccess sends the first job alone (where imports are off, its 403 is
		// the only one), then the others, 30 at a time.
		c.userJobs = chunks
		c.waves += 1 + ceilDiv(chunks-1, bulkJobs)
	default:
		c.userJobs, c.userSingles = 1, 2*creates
	}
	return c
}

// route returns a request's path without the .json suffix.
func route(rec zendesktest.RequestRecord) string { return strings.TrimSuffix(rec.Path, ".json") }

// answeredPolls counts the job polls Zendesk answered (a poll that met a fault is a
// retry, not a poll needed).
func answeredPolls(log []zendesktest.RequestRecord) int {
	n := 0
	for _, rec := range log {
		if rec.Method == http.MethodGet && route(rec) == "/api/v2/job_statuses/show_many" && rec.Status == http.StatusOK {
			n++
		}
	}
	return n
}

// duplicateWrites counts the items (a group membership, an e-mail address) that the
// request log shows in more than one write the simulator accepted (a 2xx answer): each
// repeat is a change sent twice. Faulted requests have no effect and are not counted.
func duplicateWrites(log []zendesktest.RequestRecord) (int, error) {
	type membership struct {
		UserID  int64 `json:"user_id"`
		GroupID int64 `json:"group_id"`
	}
	type user struct {
		Email string `json:"email"`
	}
	seen := map[string]int{}
	for _, rec := range log {
		if rec.Method != http.MethodPost || rec.Status < 200 || rec.Status > 299 {
			continue
		}
		var keys []string
		var err error
		switch route(rec) {
		case "/api/v2/group_memberships/create_many":
			var b struct {
				M []membership `json:"group_memberships"`
			}
			err = json.Unmarshal(rec.Body, &b)
			for _, m := range b.M {
				keys = append(keys, fmt.Sprintf("membership %d %d", m.UserID, m.GroupID))
			}
		case "/api/v2/group_memberships":
			var b struct {
				M membership `json:"group_membership"`
			}
			err = json.Unmarshal(rec.Body, &b)
			keys = append(keys, fmt.Sprintf("membership %d %d", b.M.UserID, b.M.GroupID))
		case "/api/v2/users/create_many":
			var b struct {
				U []user `json:"users"`
			}
			err = json.Unmarshal(rec.Body, &b)
			for _, u := range b.U {
				keys = append(keys, "user "+strings.ToLower(u.Email))
			}
		case "/api/v2/users":
			var b struct {
				U user `json:"user"`
			}
			err = json.Unmarshal(rec.Body, &b)
			keys = append(keys, "user "+strings.ToLower(b.U.Email))
		}
		if err != nil {
			return 0, fmt.Errorf("audit the writes: %s %s: %w", rec.Method, rec.Path, err)
		}
		for _, k := range keys {
			seen[k]++
		}
	}
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	return dups, nil
}

// journalDuplicates counts the changes the journal shows done more than once: a change
// ID started or finished twice, and an operation carried out (granted, created) under
// more than one change ID.
func journalDuplicates(ctx context.Context, j *provision.Journal) (int, error) {
	started, finished, done := map[string]int{}, map[string]int{}, map[string]int{}
	for e, err := range j.Entries(ctx, 1) {
		if err != nil {
			return 0, fmt.Errorf("read the journal: %w", err)
		}
		switch e.Kind {
		case provision.JournalStarted:
			started[e.ChangeID]++
		case provision.JournalFinished:
			finished[e.ChangeID]++
			if s := e.Outcome.Status; s == string(access.StatusGranted) || s == string(access.AccountCreated) {
				done[strings.Join([]string{string(e.Op.Name), e.Op.EntitlementID, e.Op.PrincipalID, strings.ToLower(e.Op.Email)}, " ")]++
			}
		}
	}
	dups := 0
	for _, m := range []map[string]int{started, finished, done} {
		for _, n := range m {
			dups += max(n-1, 0)
		}
	}
	return dups, nil
}

// usersByEmail maps the lower-case e-mail address of each user in s to its ID.
func usersByEmail(s *access.Snapshot) map[string]string {
	out := map[string]string{}
	for _, r := range s.Resources() {
		if r.Type() == "user" {
			if e := r.Attributes()["email"]; e != "" {
				out[strings.ToLower(e)] = r.ID()
			}
		}
	}
	return out
}

// lostChanges lists the planned changes that are not in effect in after: an account not
// created or without its role, a grant not held.
func lostChanges(plan *provision.Plan, after *access.Snapshot) []string {
	ids := usersByEmail(after)
	var lost []string
	for _, c := range plan.Changes {
		pid := c.PrincipalID
		if pid == "" && c.Person != nil {
			pid = ids[strings.ToLower(c.Person.Email)]
		}
		ok := false
		switch c.Kind {
		case provision.ChangeCreateAccount:
			r, found := after.Resource(pid)
			ok = found && (c.Role == "" || r.Attributes()["role"] == c.Role)
		case provision.ChangeGrant:
			_, ok = after.Grant(access.GrantID(c.EntitlementID, pid))
		case provision.ChangeRevoke:
			_, held := after.Grant(access.GrantID(c.EntitlementID, pid))
			ok = !held
		default:
			ok = true // no deprovisioning in this scenario; not checked
		}
		if !ok {
			lost = append(lost, c.ID)
		}
	}
	return lost
}

// endStateHash returns the SHA-256 of s with each user's ID replaced by "user:" and
// the user's lower-case e-mail address, everywhere it appears: equal for two accounts
// that hold the same people with the same access, whatever ids Zendesk gave them.
func endStateHash(s *access.Snapshot) string {
	key := map[string]string{}
	for email, id := range usersByEmail(s) {
		key[id] = "user:" + email
	}
	name := func(id string) string {
		if k, ok := key[id]; ok {
			return k
		}
		return id
	}
	attrs := func(a access.Attributes) string {
		var kv []string
		for k, v := range a {
			kv = append(kv, k+"="+v)
		}
		slices.Sort(kv)
		return strings.Join(kv, "\x1f")
	}
	var lines []string
	for _, r := range s.Resources() {
		lines = append(lines, "r\x1e"+name(r.ID())+"\x1e"+r.DisplayName()+"\x1e"+attrs(r.Attributes()))
	}
	for _, e := range s.Entitlements() {
		lines = append(lines, "e\x1e"+e.ID()+"\x1e"+e.DisplayName()+"\x1e"+attrs(e.Attributes()))
	}
	for _, g := range s.Grants() {
		lines = append(lines, "g\x1e"+g.EntitlementID()+"\x1e"+name(g.PrincipalID())+"\x1e"+attrs(g.Attributes()))
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}
