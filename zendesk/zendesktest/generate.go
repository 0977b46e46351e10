package zendesktest

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AccountSpec describes an account for the deterministic generator. The
// account owner (an admin) is always created in addition to the counts.
// The same spec yields the same records, byte for byte (record and link URLs
// aside, which carry the server's address).
type AccountSpec struct {
	// Seed drives every random choice.
	Seed int64
	// EndUsers, Agents and Admins are the numbers of users per role, owner excluded.
	EndUsers, Agents, Admins int
	// Groups is the number of groups; the first is the default "Support" group
	// that new agents join.
	Groups int
	// Organizations is the number of organizations.
	Organizations int
	// GroupMemberships is the total number of group memberships. Every agent
	// and admin gets at least one (a default group) when there are groups, so
	// the actual number is at least the number of agents and admins; it is
	// also capped by what is possible.
	GroupMemberships int
	// OrganizationMemberships is the number of organization memberships,
	// mostly of end-users. With multiple organizations off, a user gets at most one.
	OrganizationMemberships int
	// CustomRoles is the number of custom agent roles (Enterprise plans only).
	// Most agents get one; one role in five is a light-agent role.
	CustomRoles int
	// Suspended is the number of suspended users (never the owner).
	Suspended int
	// Deleted is the number of soft-deleted end-users (in /deleted_users).
	Deleted int
}

// DemoAccount is a small account for quickstarts and examples: about 30
// users, 5 groups, 4 organizations and 2 custom roles.
func DemoAccount() AccountSpec {
	return AccountSpec{Seed: 1, EndUsers: 20, Agents: 6, Admins: 2, Groups: 5, Organizations: 4,
		GroupMemberships: 14, OrganizationMemberships: 18, CustomRoles: 2, Suspended: 1, Deleted: 1}
}

const maxGenerated = 50_000_000

func (a AccountSpec) validate() error {
	for name, n := range map[string]int{"EndUsers": a.EndUsers, "Agents": a.Agents, "Admins": a.Admins,
		"Groups": a.Groups, "Organizations": a.Organizations, "GroupMemberships": a.GroupMemberships,
		"OrganizationMemberships": a.OrganizationMemberships, "CustomRoles": a.CustomRoles,
		"Suspended": a.Suspended, "Deleted": a.Deleted} {
		if n < 0 || n > maxGenerated {
			return fmt.Errorf("%s must be between 0 and %d, got %d", name, maxGenerated, n)
		}
	}
	if a.Deleted > a.EndUsers {
		return fmt.Errorf("deleted users (%d) cannot exceed end-users (%d)", a.Deleted, a.EndUsers)
	}
	if a.Suspended > a.EndUsers+a.Agents+a.Admins-a.Deleted {
		return errors.New("suspended users cannot exceed the live users other than the owner")
	}
	if a.CustomRoles > 10_000 {
		return errors.New("CustomRoles must be at most 10000")
	}
	return nil
}

// genEpoch is "now" for generated timestamps, so that generation does not
// depend on the clock.
var genEpoch = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Unix()

var genStart = time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

var (
	firstNames = []string{"Ada", "Ben", "Chloe", "Dmitri", "Elif", "Farah", "Goran", "Hana", "Ivan", "Jia",
		"Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tomas", "Uma", "Vera",
		"Wen", "Xavi", "Yara", "Zoe", "Aiko", "Bruno", "Carmen", "Diego"}
	lastNames = []string{"Abara", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
		"Ito", "Jensen", "Kowalski", "Larsen", "Moreau", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi",
		"Silva", "Tanaka", "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zhou"}
	groupNames = []string{"Support", "Billing", "Escalations", "Sales", "Onboarding", "Technical", "VIP",
		"Returns", "Partners", "Security", "Compliance", "Field Service"}
	orgWords = []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell",
		"Cyberdyne", "Soylent", "Wonka", "Aperture", "Vandelay", "Pied Piper", "Oscorp", "Gringotts"}
	orgSuffixes = []string{"Ltd", "Inc", "GmbH", "SA", "BV", "LLC", "AB", "Oy"}
	roleNames   = []string{"Staff", "Team Leader", "Advisor", "Light Agent", "Billing Specialist",
		"Group Manager", "Contributor"}

	// fullNames and emailPrefixes hold, for first name f and last name l at
	// f*len(lastNames)+l, "First Last" and "first.last", so that generating
	// a user allocates no name.
	fullNames, emailPrefixes = nameTables()
)

func nameTables() (full, prefixes []string) {
	for _, f := range firstNames {
		for _, l := range lastNames {
			full = append(full, f+" "+l)
			prefixes = append(prefixes, strings.ToLower(f+"."+l))
		}
	}
	return full, prefixes
}

// GenerateProgress is how far the account generator has come, as reported
// to a WithGenerateProgress callback.
type GenerateProgress struct {
	// Stage names what is being made: "groups", "organizations", "users",
	// "group memberships", "organization memberships" or "export log" (the
	// incremental export's index, sorted at the end).
	Stage string
	// Done of Total records of the stage are made. A stage starts with Done
	// 0 and ends with Done == Total.
	Done, Total int
}

// stage reports one stage of the generator: at its start, about every 1%,
// and at its end.
type stage struct {
	f           func(GenerateProgress)
	name        string
	total, next int
}

func startStage(f func(GenerateProgress), name string, total int) *stage {
	st := &stage{f: f, name: name, total: total}
	if f != nil {
		f(GenerateProgress{Stage: name, Total: total})
		st.next = max(total/100, 1)
	}
	return st
}

// at reports done records, if a 1% step was passed.
func (s *stage) at(done int) {
	if s.f != nil && done >= s.next && done < s.total {
		s.f(GenerateProgress{Stage: s.name, Done: done, Total: s.total})
		s.next = done + max(s.total/100, 1)
	}
}

// end reports the end of the stage with done records made, which become its total.
func (s *stage) end(done int) {
	if s.f != nil {
		s.f(GenerateProgress{Stage: s.name, Done: done, Total: done})
	}
}

// generate builds an account store from spec, reporting to progress (may
// be nil). What it could not make as spec asked is in st.genNotes.
func generate(spec AccountSpec, plan Plan, multipleOrgs bool, ownerEmail string, progress func(GenerateProgress)) (*store, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	st := newStore(plan)
	st.multipleOrgs = multipleOrgs
	rng := rand.New(rand.NewPCG(uint64(spec.Seed), 0x7a67_6f76)) // "zgov"

	// Custom roles.
	for i := 0; i < spec.CustomRoles; i++ {
		name := roleNames[i%len(roleNames)]
		if i >= len(roleNames) {
			name += " " + strconv.Itoa(i/len(roleNames)+1)
		}
		roleType := 0
		conf := roleConfig{ticketAccess: "within-groups"}
		switch {
		case strings.HasPrefix(name, "Light Agent"):
			roleType, conf.lightAgent = 1, true
		case strings.HasPrefix(name, "Contributor"):
			roleType = 3
		case strings.HasPrefix(name, "Team Leader"), strings.HasPrefix(name, "Group Manager"):
			conf = roleConfig{ticketAccess: "all", manageGroupMemberships: true, manageGroups: rng.IntN(2) == 0,
				groupAccess: true, manageOrganizations: true, organizationEditing: true, endUserProfileAccess: "full"}
		case strings.HasPrefix(name, "Staff"):
			conf.endUserProfileAccess = "edit"
		}
		at := genStart + rng.Int64N(86400*365)
		st.addRole(name, "Generated role "+strconv.Itoa(i+1), roleType, conf, at)
	}

	// Groups; the first one is the default group.
	stg := startStage(progress, "groups", spec.Groups)
	for i := 0; i < spec.Groups; i++ {
		stg.at(i)
		name := groupNames[i%len(groupNames)]
		if i >= len(groupNames) {
			name += " " + strconv.Itoa(i/len(groupNames)+1)
		}
		at := genStart + int64(i)*3600 + rng.Int64N(3600)
		p := st.addGroup(name, name+" team", i%7 != 6, i == 0, at)
		st.groups[p].updatedAt = at + rng.Int64N(genEpoch-at)
	}
	stg.end(spec.Groups)

	// Organizations.
	stg = startStage(progress, "organizations", spec.Organizations)
	for i := 0; i < spec.Organizations; i++ {
		stg.at(i)
		name := orgWords[i%len(orgWords)] + " " + orgSuffixes[(i/len(orgWords))%len(orgSuffixes)]
		if i >= len(orgWords)*len(orgSuffixes) {
			name += " " + strconv.Itoa(i/(len(orgWords)*len(orgSuffixes))+1)
		}
		at := genStart + int64(i)*600 + rng.Int64N(600)
		p, e := st.addOrg(name, "", at)
		if e != nil {
			return nil, fmt.Errorf("organization %d: %v", i, e)
		}
		if rng.IntN(3) == 0 {
			st.orgs[p].externalID = "org-" + strconv.Itoa(i+1)
		}
		st.orgs[p].domains = []string{strings.ToLower(strings.ReplaceAll(orgWords[i%len(orgWords)], " ", "")) + strconv.Itoa(i+1) + ".example"}
		st.orgs[p].updatedAt = at + rng.Int64N(genEpoch-at)
	}
	stg.end(spec.Organizations)

	// Users: the owner first, then the other roles in a shuffled order.
	roles := make([]Role, 1, 1+spec.Admins+spec.Agents+spec.EndUsers)
	roles[0] = RoleAdmin // the owner
	for range spec.Admins {
		roles = append(roles, RoleAdmin)
	}
	for range spec.Agents {
		roles = append(roles, RoleAgent)
	}
	for range spec.EndUsers {
		roles = append(roles, RoleEndUser)
	}
	others := roles[1:]
	rng.Shuffle(len(others), func(i, j int) { others[i], others[j] = others[j], others[i] })
	total := len(roles)
	st.users = make([]userRec, 0, total)
	st.userGMs = make([][]int32, total)
	st.userOMs = make([][]int32, total)
	// Sized up front: growing maps of millions of keys is most of the cost.
	st.byEmail = make(map[string]int32, total)
	st.byExternalID = make(map[string]int32, total*3/10+1)
	span := genEpoch - 86400*30 - genStart
	var roleZipf *rand.Zipf
	if spec.CustomRoles > 1 {
		roleZipf = rand.NewZipf(rng, 1.3, 1, uint64(spec.CustomRoles-1))
	}
	var buf []byte
	stg = startStage(progress, "users", total)
	for i, role := range roles {
		stg.at(i)
		fi, li := rng.IntN(len(firstNames)), rng.IntN(len(lastNames))
		// One allocation per email; names come from a table.
		buf = append(append(buf[:0], emailPrefixes[fi*len(lastNames)+li]...), '.')
		buf = append(strconv.AppendInt(buf, int64(i+1), 10), "@example.com"...)
		u := userRec{
			id:        userBase + int64(i) + 1,
			name:      fullNames[fi*len(lastNames)+li],
			email:     string(buf),
			createdAt: genStart + span*int64(i)/int64(max(total, 1)) + rng.Int64N(600),
			state:     userLive,
			tags:      []string{},
		}
		key := u.email // generated emails are lower case
		if i == 0 {
			u.name, u.email, u.owner = "Account Owner", ownerEmail, true
			u.createdAt = genStart - 86400
			key = strings.ToLower(ownerEmail)
		}
		u.updatedAt = u.createdAt + rng.Int64N(genEpoch-u.createdAt)
		if i > 0 && rng.IntN(10) < 3 {
			u.externalID = "ext-" + strconv.Itoa(i+1)
		}
		if role.isStaff() {
			if rng.IntN(10) > 0 {
				u.lastLoginAt = genEpoch - rng.Int64N(86400*90)
			}
			if rng.IntN(4) == 0 {
				u.tags = []string{"staff"}
			}
		} else if rng.IntN(2) == 0 {
			u.lastLoginAt = genEpoch - rng.Int64N(86400*365)
		}
		if u.lastLoginAt != 0 && u.lastLoginAt < u.createdAt {
			u.lastLoginAt = u.createdAt
		}
		st.users = append(st.users, u)
		n := len(st.byEmail)
		st.byEmail[key] = int32(i) // one hash: a duplicate leaves the size unchanged
		if len(st.byEmail) == n {
			return nil, fmt.Errorf("duplicate generated email %q", u.email)
		}
		if u.externalID != "" {
			st.byExternalID[u.externalID] = int32(i)
		}
		cr := int64(0)
		if role == RoleAgent && roleZipf != nil && rng.IntN(10) < 7 {
			cr = st.roles[roleZipf.Uint64()].id
		} else if role == RoleAgent && spec.CustomRoles == 1 && rng.IntN(10) < 7 {
			cr = st.roles[0].id
		}
		st.users[i].role = RoleEndUser
		st.setAccess(i, role, cr)
	}
	stg.end(total)
	st.ownerPos = 0

	// Soft-deleted and suspended users (never the owner).
	endUsers := make([]int, 0, spec.EndUsers)
	for i := 1; i < total; i++ {
		if roles[i] == RoleEndUser {
			endUsers = append(endUsers, i)
		}
	}
	rng.Shuffle(len(endUsers), func(i, j int) { endUsers[i], endUsers[j] = endUsers[j], endUsers[i] })
	deleted := make([]bool, total)
	for _, p := range endUsers[:spec.Deleted] {
		deleted[p] = true
	}
	candidates := make([]int, 0, total)
	for i := 1; i < total; i++ {
		if !deleted[i] {
			candidates = append(candidates, i)
		}
	}
	rng.Shuffle(len(candidates), func(i, j int) { candidates[i], candidates[j] = candidates[j], candidates[i] })
	for _, p := range candidates[:spec.Suspended] {
		st.users[p].suspended = true
	}

	// Group memberships: every agent and admin gets a default group (skewed
	// towards a few big groups), then extra memberships up to the target.
	if spec.Groups == 0 && spec.GroupMemberships > 0 {
		st.genNotes = append(st.genNotes, fmt.Sprintf("asked for %d group memberships, made 0: there are no groups", spec.GroupMemberships))
	}
	if spec.Groups > 0 {
		var staff []int
		for i := range st.users {
			if st.users[i].role.isStaff() {
				staff = append(staff, i)
			}
		}
		possible := len(staff) * spec.Groups
		target := max(min(spec.GroupMemberships, possible), len(staff))
		stg = startStage(progress, "group memberships", target)
		zipf := rand.NewZipf(rng, 1.2, 2, uint64(spec.Groups-1))
		addGM := func(up, gp int, isDefault bool) {
			u, g := &st.users[up], &st.groups[gp]
			at := max(u.createdAt, g.createdAt) + rng.Int64N(86400*30)
			st.gmTable().link(up, gp, g.id, isDefault, at)
			if isDefault {
				u.defaultGroupID = g.id
			}
		}
		for i, up := range staff {
			stg.at(i)
			addGM(up, int(zipf.Uint64()), true)
		}
		extra := min(spec.GroupMemberships, possible) - len(staff)
		for attempts := 0; extra > 0 && attempts < 20*extra+1000; attempts++ {
			up := staff[rng.IntN(len(staff))]
			gp := int(zipf.Uint64())
			if st.findGM(up, st.groups[gp].id) >= 0 {
				continue
			}
			addGM(up, gp, false)
			extra--
			stg.at(len(st.gms))
		}
		made := len(st.gms)
		stg.end(made)
		if made != spec.GroupMemberships {
			why := ""
			switch {
			case made > spec.GroupMemberships:
				why = fmt.Sprintf("each of the %d agents and admins (the owner included) gets a default group", len(staff))
			case spec.GroupMemberships > possible:
				why = fmt.Sprintf("%d agents and admins (the owner included) in %d groups allow at most %d", len(staff), spec.Groups, possible)
			default:
				why = fmt.Sprintf("random placement gave up after %d attempts, the account being nearly full (%d possible)", 20*(target-len(staff))+1000, possible)
			}
			st.genNotes = append(st.genNotes, fmt.Sprintf("asked for %d group memberships, made %d: %s", spec.GroupMemberships, made, why))
		}
	}

	// Organization memberships, mostly end-users, skewed towards big organizations.
	if spec.Organizations == 0 && spec.OrganizationMemberships > 0 {
		st.genNotes = append(st.genNotes, fmt.Sprintf("asked for %d organization memberships, made 0: there are no organizations", spec.OrganizationMemberships))
	}
	if spec.Organizations > 0 && spec.OrganizationMemberships > 0 {
		members := make([]int, 0, total)
		for i := 1; i < total; i++ {
			if (roles[i] == RoleEndUser || rng.IntN(10) == 0) && !deleted[i] {
				members = append(members, i)
			}
		}
		zipf := rand.NewZipf(rng, 1.1, 5, uint64(spec.Organizations-1))
		perUser := 1
		if multipleOrgs {
			perUser = min(spec.Organizations, st.maxOrgsPerUser)
		}
		target := min(spec.OrganizationMemberships, len(members)*perUser)
		stg = startStage(progress, "organization memberships", target)
		rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
		addOM := func(up, op int) {
			u, o := &st.users[up], &st.orgs[op]
			at := max(u.createdAt, o.createdAt) + rng.Int64N(86400*30)
			isDefault := len(st.userOMs[up]) == 0
			st.omTable().link(up, op, o.id, isDefault, at)
			if isDefault {
				u.orgID = o.id
			}
		}
		// First pass: one organization per member, then extra ones (multi-org only).
		n := 0
		for _, up := range members {
			if n == target {
				break
			}
			stg.at(n)
			addOM(up, int(zipf.Uint64()))
			n++
		}
		for attempts := 0; n < target && attempts < 20*target+1000; attempts++ {
			up := members[rng.IntN(len(members))]
			op := int(zipf.Uint64())
			if len(st.userOMs[up]) >= perUser || st.findOM(up, st.orgs[op].id) >= 0 {
				continue
			}
			stg.at(n)
			addOM(up, op)
			n++
		}
		stg.end(n)
		if n != spec.OrganizationMemberships {
			why := ""
			switch {
			case n < target:
				why = fmt.Sprintf("random placement gave up after %d attempts, the account being nearly full (%d possible)", 20*target+1000, len(members)*perUser)
			case multipleOrgs:
				why = fmt.Sprintf("%d users may join organizations (the end-users not deleted and about one agent or admin in ten), each at most %d", len(members), perUser)
			default:
				why = fmt.Sprintf("%d users may join organizations (the end-users not deleted and about one agent or admin in ten), each only one while multiple organizations are off", len(members))
			}
			st.genNotes = append(st.genNotes, fmt.Sprintf("asked for %d organization memberships, made %d: %s", spec.OrganizationMemberships, n, why))
		}
	}

	// Soft-delete after memberships so deletion follows the normal rules.
	for _, p := range endUsers[:spec.Deleted] {
		at := st.users[p].updatedAt
		if e := st.softDeleteUser(p, at); e != nil {
			return nil, errors.New(e.Error())
		}
		st.users[p].updatedAt = at // touchUser may have clamped it to the log's last change
	}

	// The incremental export log: one change per user at updated_at, in
	// time order (ties by position).
	stg = startStage(progress, "export log", total)
	st.changes = make([]userChange, total)
	for i := range st.users {
		st.changes[i] = userChange{ts: st.users[i].updatedAt, pos: int32(i)}
	}
	slices.SortFunc(st.changes, func(a, b userChange) int {
		if a.ts != b.ts {
			return cmp.Compare(a.ts, b.ts)
		}
		return cmp.Compare(a.pos, b.pos)
	})
	for i, ch := range st.changes {
		st.users[ch.pos].changeIdx = int32(i)
	}
	stg.end(total)
	return st, nil
}
