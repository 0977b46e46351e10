package provision_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/provision"
)

// benchInput is a plan's input at the size of the performance target:
// 10,000 people in 20 directory groups against a generated 100,000-user
// snapshot with 100 groups and 50 organizations. 8,000 people have an
// account (user<n>@example.com), 2,000 do not; a person is in one or two
// directory groups. Rule k gives role agent, groups "Group k" and
// "Group k+20" and organization "Organization k": the policy manages 40
// groups, so about 40,000 accounts hold managed access and most of them are
// leavers.
func benchInput(b *testing.B) (*provision.Policy, *provision.FileDirectory, *access.Snapshot, *provision.PlanOptions) {
	b.Helper()
	be, err := memaccess.New(memaccess.Generate(100_000, 100, 50), memaccess.WithExclusive("role", "organization"))
	if err != nil {
		b.Fatal(err)
	}
	snap, err := access.Sync(b.Context(), be, &access.SyncOptions{Now: now})
	if err != nil {
		b.Fatal(err)
	}
	facts, err := be.GuardFacts(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	ot, err := be.ObjectTypes(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	const rules = 20
	policy := &provision.Policy{}
	groups := make([]provision.DirectoryGroup, rules)
	for k := 1; k <= rules; k++ {
		policy.Rules = append(policy.Rules, provision.Rule{
			DirectoryGroup: fmt.Sprintf("Team %d", k),
			Role:           provision.RoleAgent,
			Groups:         []provision.Ref{provision.ByName(fmt.Sprintf("Group %d", k)), provision.ByName(fmt.Sprintf("Group %d", k+rules))},
			Organizations:  []provision.Ref{provision.ByName(fmt.Sprintf("Organization %d", k))},
		})
		groups[k-1].Name = fmt.Sprintf("Team %d", k)
	}
	for i := range 10_000 {
		p := access.Person{Email: fmt.Sprintf("user%d@example.com", 1+i*12), Name: fmt.Sprintf("Person %d", i)}
		if i%5 == 4 {
			p.Email = fmt.Sprintf("new%d@example.org", i)
		}
		groups[i%rules].Members = append(groups[i%rules].Members, p)
		if i%3 == 0 {
			groups[(i/3)%rules].Members = append(groups[(i/3)%rules].Members, p)
		}
	}
	dir, err := provision.NewDirectory(groups...)
	if err != nil {
		b.Fatal(err)
	}
	opts := &provision.PlanOptions{Facts: facts, ObjectTypes: ot, Now: now,
		Guards: provision.Guards{MaxDestructive: 1_000_000, MaxTeamShare: 1}}
	return policy, dir, snap, opts
}

// BenchmarkPlan measures NewPlan at the performance target: 10,000 people
// against a 100,000-user snapshot in under 2 s and 300 MB.
func BenchmarkPlan(b *testing.B) {
	policy, dir, snap, opts := benchInput(b)
	b.ReportAllocs()
	b.ResetTimer()
	var p *provision.Plan
	for b.Loop() {
		var err error
		if p, err = provision.NewPlan(b.Context(), policy, dir, snap, opts); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// What a plan keeps: the heap it holds after a collection.
	counts := map[provision.ChangeKind]int{}
	for _, c := range p.Changes {
		counts[c.Kind]++
	}
	changes := len(p.Changes)
	var with, without runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&with)
	runtime.KeepAlive(p)
	p = nil
	runtime.GC()
	runtime.ReadMemStats(&without)
	b.ReportMetric(float64(int64(with.HeapAlloc)-int64(without.HeapAlloc))/(1<<20), "MB-retained")
	b.ReportMetric(float64(changes), "changes")
	b.ReportMetric(float64(counts[provision.ChangeDeprovision]), "deprovisions")
}
