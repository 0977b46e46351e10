package review_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/memaccess"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/review"
)

// t0 is when the test account's snapshot is taken.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// fakeClock is a clock that moves a second at each reading.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock { return &fakeClock{now: t0.Add(time.Hour)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(time.Second)
	return c.now
}

// The test account, Zendesk-shaped:
//
//	user:1 ann@example.com  admin, Support, Acme, logged in a day before
//	user:2 bob@example.com  agent, Support and Billing, custom role Staff,
//	                        logged in 200 days before
//	user:3 cat@example.com  agent, suspended, Billing until 2026-06-01
//	                        (time-bound), never logged in
//	user:4 dan@example.com  end user, Acme
const (
	ann = "user:1"
	bob = "user:2"
	cat = "user:3"
	dan = "user:4"
)

// testData returns the test account.
func testData() memaccess.Data {
	d := memaccess.Data{
		Name: "memory", Account: "acme", Scope: map[string]string{"users": "all"},
		ResourceTypes: []access.ResourceType{
			{ID: "user", Traits: []access.Trait{access.TraitUser}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "group", Traits: []access.Trait{access.TraitGroup}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "organization", Traits: []access.Trait{access.TraitOrganization}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "custom_role", Traits: []access.Trait{access.TraitRole}, IDSyntax: access.IDSyntaxPositiveInt},
			{ID: "role", Traits: []access.Trait{access.TraitRole}},
		},
	}
	res := func(rid, name, slug string, purpose access.Purpose) {
		d.Resources = append(d.Resources, access.NewResource(rid, name, nil))
		d.Entitlements = append(d.Entitlements, access.NewEntitlement(access.EntitlementID(rid, slug), name, purpose, []string{"user"}, nil))
	}
	for _, r := range []string{"end-user", "agent", "admin"} {
		res("role:"+r, r, "assigned", access.PurposeAssignment)
	}
	res("group:10", "Support", "member", access.PurposeMembership)
	res("group:11", "Billing", "member", access.PurposeMembership)
	res("organization:20", "Acme", "member", access.PurposeMembership)
	res("custom_role:7", "Staff", "assigned", access.PurposeAssignment)
	user := func(id, email, role string, attrs access.Attributes, grants ...access.GrantRecord) {
		a := access.Attributes{"email": email, "role": role, "suspended": "false"}
		for k, v := range attrs {
			a[k] = v
		}
		d.Resources = append(d.Resources, access.NewResource(id, email[:3], a))
		d.Grants = append(d.Grants, access.NewGrant("role:"+role+":assigned", id, nil))
		for _, g := range grants {
			d.Grants = append(d.Grants, g)
		}
	}
	user(ann, "ann@example.com", "admin", access.Attributes{"last_login_at": "2026-02-28T09:00:00Z"},
		access.NewGrant("group:10:member", ann, access.Attributes{"default": "true"}), access.NewGrant("organization:20:member", ann, nil))
	user(bob, "bob@example.com", "agent", access.Attributes{"last_login_at": "2025-08-13T09:00:00Z", "role_type": "0"},
		access.NewGrant("group:10:member", bob, nil), access.NewGrant("group:11:member", bob, nil), access.NewGrant("custom_role:7:assigned", bob, nil))
	user(cat, "cat@example.com", "agent", access.Attributes{"suspended": "true"},
		access.NewGrant("group:11:member", cat, access.Attributes{"expires_at": "2026-06-01T00:00:00Z"}))
	user(dan, "dan@example.com", "end-user", nil, access.NewGrant("organization:20:member", dan, nil))
	return d
}

// testSystem returns the test account as a backend, a System over it and
// a snapshot of it taken at t0.
func testSystem(t testing.TB) (*memaccess.Backend, *access.System, *access.Snapshot) {
	t.Helper()
	b, err := memaccess.New(testData(), memaccess.WithExclusive("role", "custom_role"))
	if err != nil {
		t.Fatal(err)
	}
	sys, err := access.NewSystem(b)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := sys.Sync(t.Context(), &access.SyncOptions{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return b, sys, snap
}

// resync takes a new snapshot of b.
func resync(t testing.TB, b access.Backend, at time.Time) *access.Snapshot {
	t.Helper()
	snap, err := access.Sync(t.Context(), b, &access.SyncOptions{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// openStore opens a review Store on dsn with a fake clock.
func openStore(t testing.TB, dsn string, opts ...review.Option) *review.Store {
	t.Helper()
	st, err := review.Open(t.Context(), dsn, append([]review.Option{review.WithClock(newClock().Now)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openJournal opens provision's Store on dsn and returns its journal.
func openJournal(t testing.TB, dsn string) *provision.Journal {
	t.Helper()
	ps, err := provision.OpenStore(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	j, err := provision.NewJournal(ps.Journal())
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// baseSpec is a campaign over every grant, reviewed by the owners of the
// groups and the organization, with a fallback.
func baseSpec() review.CampaignSpec {
	return review.CampaignSpec{
		ID: "q1", Name: "Q1 2026", CreatedBy: "auditor@example.com",
		Reviewers: []review.ReviewerRule{{Kind: review.RuleOwner, Owners: map[string][]string{
			"group:10": {"sue@example.com"}, "group:11": {"bill@example.com"}, "organization:20": {"ann@example.com"},
		}}},
		Fallback: []string{"ciso@example.com"},
		Due:      t0.Add(14 * 24 * time.Hour),
	}
}

// items reads every item of c.
func items(t testing.TB, c *review.Campaign) []review.Item {
	t.Helper()
	var out []review.Item
	for it, err := range c.Items(t.Context(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, it)
	}
	return out
}

// itemOf returns the item of c holding grant.
func itemOf(t testing.TB, c *review.Campaign, grant string) review.Item {
	t.Helper()
	for _, it := range items(t, c) {
		if slices.ContainsFunc(it.Grants, func(g review.ItemGrant) bool { return g.GrantID == grant }) {
			return it
		}
	}
	t.Fatalf("no item holds %s", grant)
	return review.Item{}
}

// grantIDs returns the grant IDs of items.
func grantIDs(its []review.Item) []string {
	var out []string
	for _, it := range its {
		for _, g := range it.Grants {
			out = append(out, g.GrantID)
		}
	}
	return out
}

// active returns the active reviewers of an item.
func active(it review.Item) []string {
	var out []string
	for _, a := range it.Reviewers {
		if a.Active {
			out = append(out, a.Reviewer)
		}
	}
	return out
}

// decide records one decision or fails the test.
func decide(t testing.TB, c *review.Campaign, item int64, reviewer string, v review.Verdict, why string) {
	t.Helper()
	if err := c.Decide(t.Context(), review.Decision{ItemID: item, Reviewer: reviewer, Verdict: v, Justification: why}); err != nil {
		t.Fatal(err)
	}
}

// failingBackend fails revokes of the grants in fail.
type failingBackend struct {
	*memaccess.Backend
	fail map[string]bool
}

var errBackend = errors.New("backend is down for this grant")

func (b *failingBackend) Revoke(ctx context.Context, req access.RevokeRequest) (access.RevokeResult, error) {
	if b.fail[req.GrantID()] {
		return access.RevokeResult{}, errBackend
	}
	return b.Backend.Revoke(ctx, req)
}

// sha returns the hex SHA-256 of data.
func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
