package provision

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/zgov-io/zgov/access"
)

// person is one person of the directory, merged over the groups they are
// in.
type person struct {
	key   string // the e-mail address in lower case
	p     access.Person
	rules []int // the rules whose directory group holds them, ascending
}

// readPeople reads the members of every rule's directory group and merges
// each person met more than once by e-mail address. The merged person does
// not depend on the order the directory lists people in: the e-mail
// address is the smallest of its spellings, the name the smallest non-empty
// one, and two different external ids are an error.
func readPeople(ctx context.Context, policy *Policy, dir Directory) ([]*person, error) {
	fe := policy.errs()
	byKey := map[string]*person{}
	for i, r := range policy.Rules {
		members, err := dir.Members(ctx, r.DirectoryGroup)
		if err != nil {
			if errors.Is(err, ErrUnknownDirectoryGroup) {
				path := fmt.Sprintf("rules[%d].directory_group", i)
				_, line := policy.source(path)
				fe.addKind(ErrUnknownDirectoryGroup, line, path, "the directory has no group %q", r.DirectoryGroup)
				continue
			}
			return nil, fmt.Errorf("provision: plan: read directory group %q: %w", r.DirectoryGroup, err)
		}
		for _, m := range members {
			if err := m.Validate(); err != nil {
				return nil, fmt.Errorf("provision: plan: directory group %q: %w", r.DirectoryGroup, err)
			}
			key := strings.ToLower(m.Email)
			pr := byKey[key]
			if pr == nil {
				pr = &person{key: key, p: m}
				byKey[key] = pr
			}
			switch {
			case m.ExternalID != "" && pr.p.ExternalID != "" && m.ExternalID != pr.p.ExternalID:
				return nil, fmt.Errorf("provision: plan: %s has external id %q in directory group %q and %q in another: %w",
					m.Email, m.ExternalID, r.DirectoryGroup, pr.p.ExternalID, ErrInvalidDirectory)
			case m.ExternalID != "":
				pr.p.ExternalID = m.ExternalID
			}
			pr.p.Email = min(pr.p.Email, m.Email)
			if m.Name != "" && (pr.p.Name == "" || m.Name < pr.p.Name) {
				pr.p.Name = m.Name
			}
			if len(pr.rules) == 0 || pr.rules[len(pr.rules)-1] != i {
				pr.rules = append(pr.rules, i)
			}
		}
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	people := slices.Collect(maps.Values(byKey))
	slices.SortFunc(people, func(a, b *person) int { return strings.Compare(a.key, b.key) })
	return people, nil
}

// desired is what a set of rules gives a person.
type desired struct {
	role, roleEID string // "" when no rule gives a role
	customRole    string
	groups, orgs  []string
	conflicts     []Conflict // Principal empty
}

// planner builds a plan's changes.
type planner struct {
	ix        *snapIndex
	rp        *resolvedPolicy
	desired   map[string]*desired // by rule set: people share a few
	batches   []batch
	conflicts []Conflict
	h         holding // reused for each principal
	// batches holds the accounts' batches, then the new people's, then
	// the leavers', each run sorted.
	nAccounts, nNew int
}

// batch is the changes of one principal, or of one person without an
// account, sorted.
type batch struct {
	who     string // principal ID, or lower-case e-mail address
	changes []Change
}

// flush sorts the changes of one principal and adds them as a batch.
func (b *planner) flush(who string, changes []Change) {
	if len(changes) == 0 {
		return
	}
	slices.SortStableFunc(changes, func(x, y Change) int {
		return cmp.Or(cmp.Compare(kindRank(x.Kind), kindRank(y.Kind)), cmp.Compare(typeRank(x.EntitlementID), typeRank(y.EntitlementID)),
			compareIDs(x.EntitlementID, y.EntitlementID))
	})
	b.batches = append(b.batches, batch{who: who, changes: changes})
}

// plan lists the changes for people (sorted by key) and the leavers.
func (b *planner) plan(ctx context.Context, people []*person) error {
	// Match people with accounts; several people may match one account
	// (one by e-mail, one by external id): it gets what both are given.
	rulesOf := map[string][]int{}
	var accounts []string
	var newPeople []*person
	for _, pr := range people {
		pid, ok := b.ix.byEmail[pr.key]
		if !ok && pr.p.ExternalID != "" {
			pid, ok = b.ix.byExtID[pr.p.ExternalID]
		}
		if !ok {
			newPeople = append(newPeople, pr)
			continue
		}
		if _, seen := rulesOf[pid]; !seen {
			accounts = append(accounts, pid)
		}
		rulesOf[pid] = union(rulesOf[pid], pr.rules)
	}
	slices.SortFunc(accounts, compareIDs)
	// Leavers hold access the policy manages and match nobody covered;
	// time-bound access does not count: it ends by itself.
	var leavers []string
	for eid := range b.rp.managed {
		for _, g := range b.ix.snap.GrantsOf(eid) {
			if _, tb := g.ExpiresAt(); tb {
				continue
			}
			if p := g.PrincipalID(); rulesOf[p] == nil {
				leavers = append(leavers, p)
			}
		}
	}
	slices.SortFunc(leavers, compareIDs)
	leavers = slices.Compact(leavers)
	b.ix.load(slices.Concat(accounts, leavers))
	b.batches = make([]batch, 0, len(accounts)+len(newPeople)+len(leavers))

	for n, pid := range accounts {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		b.account(pid, b.want(rulesOf[pid], pid))
	}
	b.nAccounts = len(b.batches)
	for _, pr := range newPeople {
		b.create(pr, b.want(pr.rules, pr.p.Email))
	}
	b.nNew = len(b.batches) - b.nAccounts
	for n, pid := range leavers {
		if n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		b.leaver(pid)
	}
	return nil
}

func union(a, b []int) []int {
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

// want returns what rules give, recording its conflicts as who's.
func (b *planner) want(rules []int, who string) *desired {
	key := fmt.Sprint(rules)
	d, ok := b.desired[key]
	if !ok {
		d = b.compute(rules)
		b.desired[key] = d
	}
	for _, c := range d.conflicts {
		c.Principal = who
		b.conflicts = append(b.conflicts, c)
	}
	return d
}

// compute applies the policy's conflict rules to what rules give.
func (b *planner) compute(rules []int) *desired {
	d := &desired{}
	rank := -1
	type from struct {
		eid  string
		rule int
	}
	var customs, orgs []from
	for _, i := range rules {
		r := b.rp.rules[i]
		if r.roleEID != "" && roleRank(r.role) > rank {
			rank, d.role, d.roleEID = roleRank(r.role), r.role, r.roleEID
		}
		if r.customRole != "" {
			customs = append(customs, from{r.customRole, i})
		}
		for _, g := range r.groups {
			if !slices.Contains(d.groups, g) {
				d.groups = append(d.groups, g)
			}
		}
		for _, o := range r.orgs {
			if !slices.ContainsFunc(orgs, func(f from) bool { return f.eid == o }) {
				orgs = append(orgs, from{o, i})
			}
		}
	}
	ruleName := func(i int) string { return fmt.Sprintf("rules[%d] (%s)", i, b.rp.rules[i].dirGroup) }
	switch {
	case len(customs) > 0 && d.role == RoleAdmin:
		c := Conflict{Type: typeCustomRole, Reason: "admins hold no custom role in Zendesk: the highest role given is admin"}
		for _, f := range customs {
			if !slices.Contains(c.Dropped, f.eid) {
				c.Dropped = append(c.Dropped, f.eid)
			}
		}
		d.conflicts = append(d.conflicts, c)
	case len(customs) > 0:
		d.customRole = customs[0].eid
		c := Conflict{Type: typeCustomRole, Kept: d.customRole,
			Reason: "an agent holds one custom role: " + ruleName(customs[0].rule) + " comes first"}
		for _, f := range customs[1:] {
			if f.eid != d.customRole && !slices.Contains(c.Dropped, f.eid) {
				c.Dropped = append(c.Dropped, f.eid)
			}
		}
		if len(c.Dropped) > 0 {
			d.conflicts = append(d.conflicts, c)
		}
	}
	for _, f := range orgs {
		d.orgs = append(d.orgs, f.eid)
	}
	if b.rp.exclusiveOrg && len(orgs) > 1 {
		d.orgs = d.orgs[:1]
		c := Conflict{Type: typeOrganization, Kept: orgs[0].eid,
			Reason: "a user belongs to one organization at most on this account: " + ruleName(orgs[0].rule) + " comes first"}
		for _, f := range orgs[1:] {
			c.Dropped = append(c.Dropped, f.eid)
		}
		d.conflicts = append(d.conflicts, c)
	}
	slices.SortFunc(d.groups, compareIDs)
	slices.SortFunc(d.orgs, compareIDs)
	return d
}

// Sort ranks of change kinds and entitlement types: the order apply can
// carry a principal's changes out in.
func kindRank(k ChangeKind) int {
	return slices.Index([]ChangeKind{ChangeCreateAccount, ChangeGrant, ChangeRevoke, ChangeDeprovision}, k)
}

func typeRank(eid string) int {
	switch typeOfID(eid) {
	case typeRole:
		return 0
	case typeCustomRole:
		return 1
	case typeOrganization:
		return 2
	case typeGroup:
		return 3
	}
	return 4
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

// account lists the changes that give the account pid what d says.
func (b *planner) account(pid string, d *desired) {
	ix, rp := b.ix, b.rp
	h := &b.h
	ix.holding(pid, h)
	changes := make([]Change, 0, 4)
	var covered []string // entitlements a grant's side effects remove
	// grant plans a grant, unless it would take a time-bound grant away as
	// a side effect (replace it, or demote its holder out of it): that
	// waits until the time-bound grant ends. It reports whether it planned.
	grant := func(eid string, removes []heldGrant, effects ...string) bool {
		if anyTimeBound(removes) {
			return false
		}
		for _, r := range removes {
			covered = append(covered, r.eid)
		}
		changes = append(changes, Change{
			ID: "grant " + access.GrantID(eid, pid), Kind: ChangeGrant, PrincipalID: pid, EntitlementID: eid,
			Removes: gids(removes), SideEffects: effects})
		return true
	}
	// revoke plans the revokes of what is held and not wanted: managed
	// access (or any, with Prune), never a time-bound grant.
	revoke := func(held []heldGrant, want []string, effects ...string) {
		for _, g := range held {
			if g.timeBound || slices.Contains(want, g.eid) || slices.Contains(covered, g.eid) || !rp.prune && !rp.managed[g.eid] {
				continue
			}
			changes = append(changes, Change{
				ID: "revoke " + g.gid, Kind: ChangeRevoke, PrincipalID: pid, EntitlementID: g.eid,
				SideEffects: effects})
		}
	}

	rolePlanned := false
	if d.roleEID != "" && !has(h.roles, d.roleEID) {
		removes := slices.Clone(h.roles)
		var effects []string
		for _, r := range h.roles {
			effects = append(effects, "replaces "+ix.label(r.eid))
		}
		switch {
		case d.role == RoleEndUser:
			removes = slices.Concat(removes, h.customRoles, h.groups)
			if lost := b.demotionLosses(h); len(lost) > 0 {
				effects = append(effects, "the demotion to end user removes "+andList(lost))
			}
		case d.role == RoleAdmin && len(h.customRoles) > 0:
			removes = slices.Concat(removes, h.customRoles)
			effects = append(effects, "Zendesk removes "+ix.label(h.customRoles[0].eid)+": admins hold no custom role")
		}
		promoted := d.role != RoleEndUser && (len(h.roles) == 0 || has(h.roles, rp.endUserEID))
		if promoted && ix.defGroup != "" && !has(h.groups, ix.defGroup) {
			effects = append(effects, "Zendesk adds a new agent to the default "+ix.label(ix.defGroup))
		}
		rolePlanned = grant(d.roleEID, removes, effects...)
	}
	// An admin holds no custom role: while a time-bound admin role keeps
	// the account admin (no planned role replaces it), its custom role
	// waits.
	adminEID := ix.entOf[access.ResourceID(typeRole, RoleAdmin)]
	adminKept := !rolePlanned && slices.ContainsFunc(h.roles, func(r heldGrant) bool { return r.timeBound && r.eid == adminEID })
	if d.customRole != "" && !has(h.customRoles, d.customRole) && !adminKept {
		var effects []string
		for _, c := range h.customRoles {
			effects = append(effects, "replaces "+ix.label(c.eid))
		}
		grant(d.customRole, h.customRoles, effects...)
	}
	revoke(h.customRoles, []string{d.customRole}, "a Zendesk agent always holds a custom role: the backend gives the fallback one (zendeskaccess.WithCustomRoleFallback) or refuses")
	switch {
	case rp.exclusiveOrg && len(d.orgs) == 1 && !has(h.orgs, d.orgs[0]):
		var effects []string
		for _, o := range h.orgs {
			effects = append(effects, "moves the user out of "+ix.label(o.eid))
		}
		grant(d.orgs[0], h.orgs, effects...)
	case !rp.exclusiveOrg:
		for _, o := range d.orgs {
			if !has(h.orgs, o) {
				grant(o, nil)
			}
		}
	}
	revoke(h.orgs, d.orgs)
	for _, g := range d.groups {
		if !has(h.groups, g) {
			grant(g, nil)
		}
	}
	revoke(h.groups, d.groups)
	if len(changes) > 0 && ix.suspended[pid] {
		changes[0].SideEffects = append(changes[0].SideEffects, "the account is suspended, and the plan does not reactivate it")
	}
	b.flush(pid, changes)
}

// demotionLosses says what a demotion to end user removes besides the
// role: the custom role and the group memberships.
func (b *planner) demotionLosses(h *holding) []string {
	var parts []string
	for _, c := range h.customRoles {
		parts = append(parts, b.ix.label(c.eid))
	}
	if n := len(h.groups); n > 0 {
		parts = append(parts, plural(n, "group membership", "group memberships")+" ("+b.ix.nameList(h.groups)+")")
	}
	return parts
}

// andList joins parts as prose: "a", "a and b", "a, b and c".
func andList(parts []string) string {
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// create lists the account and the grants for a person without one.
func (b *planner) create(pr *person, d *desired) {
	ix := b.ix
	p := pr.p
	role := d.role
	if role == "" && b.rp.endUserEID != "" {
		role = RoleEndUser
	}
	effects := []string{"creates an account for " + p.Email}
	if role != "" {
		effects[0] += " with role " + role
	}
	if role != RoleEndUser && ix.defGroup != "" && !slices.Contains(d.groups, ix.defGroup) {
		effects = append(effects, "Zendesk adds a new agent to the default "+ix.label(ix.defGroup))
	}
	changes := []Change{{ID: "create_account " + pr.key, Kind: ChangeCreateAccount, Person: &p, Role: role, SideEffects: effects}}
	for _, eid := range slices.Concat([]string{d.customRole}, d.orgs, d.groups) {
		if eid != "" {
			changes = append(changes, Change{ID: "grant " + eid + " for " + pr.key, Kind: ChangeGrant, Person: &p, EntitlementID: eid})
		}
	}
	b.flush(pr.key, changes)
}

// leaver lists the deprovisioning steps of an account that holds managed
// access and matches no covered person: the steps of the ladder not taken
// yet.
func (b *planner) leaver(pid string) {
	ix := b.ix
	h := &b.h
	ix.holding(pid, h)
	downgraded := false
	changes := make([]Change, 0, len(b.rp.ladder))
	for _, step := range b.rp.ladder {
		c := Change{ID: "deprovision " + pid + " " + string(step), Kind: ChangeDeprovision, PrincipalID: pid, Step: step}
		switch step {
		case access.DeprovisionNone:
			continue
		case access.DeprovisionDowngrade:
			var lost []heldGrant
			for _, r := range h.roles {
				if r.eid != b.rp.endUserEID {
					lost = append(lost, r)
				}
			}
			if len(lost) == 0 && len(h.customRoles) == 0 && len(h.groups) == 0 {
				continue
			}
			c.Removes = gids(lost, h.customRoles, h.groups)
			var what []string
			for _, r := range lost {
				what = append(what, ix.label(r.eid))
			}
			what = append(what, b.demotionLosses(h)...)
			c.SideEffects = []string{"makes the user an end user: removes " + andList(what) + "; frees the agent seat"}
			downgraded = true
		case access.DeprovisionSuspend:
			if ix.suspended[pid] {
				continue
			}
			keeps := "their role, grants and seat"
			if downgraded {
				keeps = "what the downgrade leaves"
			}
			c.SideEffects = []string{"blocks sign-in; the account keeps " + keeps}
		case access.DeprovisionSoftDelete, access.DeprovisionPermanentDelete:
			c.Removes = gids(h.roles, h.customRoles, h.orgs, h.groups, h.other)
			n := plural(len(c.Removes), "grant", "grants")
			c.SideEffects = []string{"deletes the account and its " + n + "; Zendesk keeps it among the deleted users until purged"}
			if step == access.DeprovisionPermanentDelete {
				c.SideEffects = []string{"deletes the account and its " + n + ", and purges its personal data: this cannot be undone"}
			}
		}
		changes = append(changes, c)
	}
	b.flush(pid, changes)
}

// sorted returns the changes in plan order: accounts by principal ID,
// then people without one by e-mail address. The accounts covered and the
// leavers are two sorted runs of distinct principals, merged.
func (b *planner) sorted() []Change {
	covered := b.batches[:b.nAccounts]
	created := b.batches[b.nAccounts : b.nAccounts+b.nNew]
	leavers := b.batches[b.nAccounts+b.nNew:]
	n := 0
	for _, bt := range b.batches {
		n += len(bt.changes)
	}
	out := make([]Change, 0, n)
	for len(covered) > 0 || len(leavers) > 0 {
		if len(leavers) == 0 || len(covered) > 0 && compareIDs(covered[0].who, leavers[0].who) < 0 {
			out = append(out, covered[0].changes...)
			covered = covered[1:]
		} else {
			out = append(out, leavers[0].changes...)
			leavers = leavers[1:]
		}
	}
	for _, bt := range created {
		out = append(out, bt.changes...)
	}
	return out
}

// compareIDs orders resource and entitlement IDs part by part, numbers by
// value, so that user:9 comes before user:10.
func compareIDs(a, b string) int {
	for a != "" || b != "" {
		pa, ra, _ := strings.Cut(a, ":")
		pb, rb, _ := strings.Cut(b, ":")
		if c := comparePart(pa, pb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
	return 0
}

func comparePart(a, b string) int {
	if isDigits(a) && isDigits(b) {
		return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" || len(s) > 1 && s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
