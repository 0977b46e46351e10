package provision_test

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/provision"
)

func save(t testing.TB, p *provision.Plan) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := p.Save(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPlanSaveLoad(t *testing.T) {
	t.Parallel()
	users := scenarioUsers()
	users[0].grants = []string{"group:2:member"}
	snap, facts, ot := snapshotOf(t, account(users...), false)
	facts.Owners = []string{"user:1"} // a blocked change, and a refused run, survive the round trip
	p, err := provision.NewPlan(t.Context(), parsePolicy(t, scenarioPolicy), parseDirectory(t, strings.Replace(scenarioDirectory, ", owner@example.com", "", 1)),
		snap, &provision.PlanOptions{Facts: facts, ObjectTypes: ot, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if p.Changes[0].Blocked == nil || p.Guards.Run == nil {
		t.Fatalf("the plan lacks a blocked change or a refused run: %+v", p.Guards)
	}
	data := save(t, p)
	got, err := provision.LoadPlan(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("LoadPlan: %v", err)
	}
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("round trip (-saved +loaded):\n%s", diff)
	}
	if again := save(t, got); !bytes.Equal(data, again) {
		t.Error("a loaded plan saves to other bytes")
	}

	// Edits by hand are refused, whatever they change.
	for _, edit := range []struct{ from, to string }{
		{`"kind": "revoke"`, `"kind": "grant"`},
		{`"principal_id": "user:5"`, `"principal_id": "user:50"`},
		{`"account": "acme"`, `"account": "other"`},
		{`"guard": "account_owner"`, `"guard": ""`},
	} {
		edited := bytes.Replace(data, []byte(edit.from), []byte(edit.to), 1)
		if bytes.Equal(edited, data) {
			t.Fatalf("%s is not in the plan", edit.from)
		}
		_, err := provision.LoadPlan(bytes.NewReader(edited))
		var me *provision.PlanModifiedError
		if !errors.Is(err, provision.ErrPlanModified) || !errors.As(err, &me) || me.Recorded != p.Hash {
			t.Errorf("edit %s -> %s: %v", edit.from, edit.to, err)
		}
	}
	// Re-indenting changes nothing that matters.
	if _, err := provision.LoadPlan(bytes.NewReader(bytes.ReplaceAll(data, []byte("\n  "), []byte("\n\t")))); err != nil {
		t.Errorf("a re-indented plan: %v", err)
	}
	for name, bad := range map[string][]byte{
		"no hash":       bytes.Replace(data, []byte(`"hash": "`+p.Hash+`"`), []byte(`"hash": ""`), 1),
		"unknown field": bytes.Replace(data, []byte(`"version": 1,`), []byte(`"version": 1, "approved": true,`), 1),
		"other version": bytes.Replace(data, []byte(`"version": 1,`), []byte(`"version": 2,`), 1),
		"truncated":     data[:len(data)/2],
		"two plans":     append(append([]byte{}, data...), data...),
		"not JSON":      []byte("plan:\n  - x\n"),
	} {
		if _, err := provision.LoadPlan(bytes.NewReader(bad)); err == nil {
			t.Errorf("%s: loaded", name)
		} else if name == "no hash" && !errors.Is(err, provision.ErrPlanModified) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestPlanCheckAccount(t *testing.T) {
	t.Parallel()
	p := planOf(t, scenarioPolicy, scenarioDirectory, scenarioUsers(), false, provision.Guards{})
	if err := p.CheckAccount(access.Info{Name: "memory", Account: "acme"}); err != nil {
		t.Errorf("the account it was made for: %v", err)
	}
	for _, info := range []access.Info{{Name: "memory", Account: "globex"}, {Name: "zendesk", Account: "acme"}} {
		err := p.CheckAccount(info)
		var me *provision.AccountMismatchError
		if !errors.Is(err, provision.ErrWrongAccount) || !errors.As(err, &me) || me.Account != info.Account || me.PlanAccount != "acme" {
			t.Errorf("%+v: %v", info, err)
		}
	}
	want := `provision: the plan was made for memory account "acme", not memory account "globex": plan made for another account`
	if err := p.CheckAccount(access.Info{Name: "memory", Account: "globex"}); err.Error() != want {
		t.Errorf("error: %v\nwant %s", err, want)
	}
}

// TestPlanDeterministic checks that the same inputs, in any order, give a
// byte-identical saved plan.
func TestPlanDeterministic(t *testing.T) {
	t.Parallel()
	var first []byte
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, seed))
		users := scenarioUsers()
		rng.Shuffle(len(users), func(i, j int) { users[i], users[j] = users[j], users[i] })
		for i := range users {
			rng.Shuffle(len(users[i].grants), func(a, b int) { users[i].grants[a], users[i].grants[b] = users[i].grants[b], users[i].grants[a] })
		}
		d := account(users...)
		shuffle(rng, d.Resources)
		shuffle(rng, d.Entitlements)
		shuffle(rng, d.Grants)
		snap, facts, ot := snapshotOf(t, d, false)
		rng.Shuffle(len(ot), func(i, j int) { ot[i], ot[j] = ot[j], ot[i] })

		policy := parsePolicy(t, scenarioPolicy)
		for i := range policy.Rules {
			shuffle(rng, policy.Rules[i].Groups)
		}
		groups := parseDirectory(t, scenarioDirectory).Groups()
		shuffle(rng, groups)
		for i := range groups {
			shuffle(rng, groups[i].Members)
			if len(groups[i].Members) > 0 { // the same person twice, spelled otherwise
				m := groups[i].Members[0]
				m.Email = strings.ToUpper(m.Email)
				groups[i].Members = append(groups[i].Members, m)
			}
		}
		dir, err := provision.NewDirectory(groups...)
		if err != nil {
			t.Fatal(err)
		}
		p, err := provision.NewPlan(t.Context(), policy, dir, snap, &provision.PlanOptions{Facts: facts, ObjectTypes: ot, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		data := save(t, p)
		if first == nil {
			first = data
			continue
		}
		if !bytes.Equal(first, data) {
			t.Fatalf("seed %d gives another plan:\n%s", seed, cmp.Diff(string(first), string(data)))
		}
	}
}

func shuffle[T any](rng *rand.Rand, xs []T) {
	rng.Shuffle(len(xs), func(i, j int) { xs[i], xs[j] = xs[j], xs[i] })
}

// TestPlanGenerated plans against a generated account, whose users and
// principal IDs sort numerically.
func TestPlanGenerated(t *testing.T) {
	t.Parallel()
	be, err := memaccess.New(memaccess.Generate(30, 3, 2), memaccess.WithExclusive("role", "organization"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := access.Sync(t.Context(), be, &access.SyncOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	facts, _ := be.GuardFacts(t.Context())
	policy := &provision.Policy{Rules: []provision.Rule{{DirectoryGroup: "Team", Role: provision.RoleAgent,
		Groups: []provision.Ref{provision.ByName("group 2")}, Organizations: []provision.Ref{provision.ByID("1")}}}}
	dir, err := provision.NewDirectory(provision.DirectoryGroup{Name: "Team", Members: []access.Person{
		{Email: "user10@example.com"}, {Email: "user9@example.com"}, {Email: "user1@example.com"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := provision.NewPlan(t.Context(), policy, dir, snap, &provision.PlanOptions{Facts: facts, Now: now, Guards: provision.Guards{MaxTeamShare: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, c := range p.Changes {
		if len(order) == 0 || order[len(order)-1] != c.PrincipalID {
			order = append(order, c.PrincipalID)
		}
	}
	// Generate gives user i group 1+i%3 and organization 1+i%2. Users 1
	// and 9 are covered and need changes; user 10 is covered and holds
	// what the rule gives; the other holders of group 2 or organization 1
	// are leavers, each with a step to take (none is suspended).
	var want []string
	for i := 1; i <= 30; i++ {
		if i == 1 || i == 9 || i != 10 && (i%3 == 1 || i%2 == 0) {
			want = append(want, fmt.Sprintf("user:%d", i))
		}
	}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("principals in plan order (-want +got):\n%s", diff)
	}
}
