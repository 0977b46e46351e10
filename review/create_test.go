package review_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/internal/sqldb/sqldbtest"
	"github.com/zgov-io/zgov/provision"
	"github.com/zgov-io/zgov/review"
)

// TestCreate: a campaign records its snapshot's hash, time, scope, counts
// and request count as the population's evidence, and each item shows the
// person, the access, role and seat, suspension, last login, time-bound or
// standing, and when, by whom and why it was granted where the journal
// knows.
func TestCreate(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		b, sys, _ := testSystem(t)
		j := openJournal(t, dsn)
		// Bob's Billing membership was granted through provision, with a
		// ticket: the journal knows when, by whom and why.
		if _, err := sys.Revoke(ctx, access.RevokeRequest{EntitlementID: "group:11:member", PrincipalID: bob}); err != nil {
			t.Fatal(err)
		}
		actor := provision.JournalActor{Who: "lead@example.com", Reason: "joins billing", Source: "ticket:IT-7"}
		if _, err := provision.Do(ctx, sys, j, []provision.Change{{Kind: provision.ChangeGrant, EntitlementID: "group:11:member", PrincipalID: bob}},
			&provision.DoOptions{Actor: actor, JournalIDs: []string{"it-7"}}); err != nil {
			t.Fatal(err)
		}
		snap := resync(t, b, t0)
		st := openStore(t, dsn)
		spec := baseSpec()
		spec.Journal = j
		spec.KeepSnapshot = true
		c, err := st.Create(ctx, snap, spec)
		if err != nil {
			t.Fatal(err)
		}
		if c.ID() != "q1" {
			t.Errorf("ID = %q", c.ID())
		}
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var saved bytes.Buffer
		if err := snap.Save(&saved); err != nil {
			t.Fatal(err)
		}
		prov := snap.Provenance()
		wantPop := review.Population{
			SnapshotHash: snap.Hash(), SnapshotSHA256: sha(saved.Bytes()), SnapshotKept: true,
			Backend: "memory", Account: "acme", TakenAt: t0, Scope: map[string]string{"users": "all"}, Requests: prov.Requests,
			Snapshot: review.SnapshotCounts{ResourceTypes: 5, Resources: 11, Entitlements: 7, Grants: 11}, Principals: 4, Grants: 11, Items: 11,
		}
		if diff := cmp.Diff(wantPop, info.Population); diff != "" {
			t.Errorf("population evidence (-want +got):\n%s", diff)
		}
		if prov.Requests == 0 {
			t.Error("the snapshot records no request count")
		}
		if info.State != review.StateOpen || info.Name != "Q1 2026" || info.CreatedBy != "auditor@example.com" || !info.Due.Equal(spec.Due) {
			t.Errorf("info = %+v", info)
		}
		if info.Spec.ItemKind != review.KindGrant || info.Spec.Default != review.DefaultOpen || info.Spec.Remediate != review.RemediateAtClose || info.Spec.Consensus != review.AnyRevoke {
			t.Errorf("defaults not filled in: %+v", info.Spec)
		}
		if info.Progress.Items != 11 || info.Progress.Undecided != 11 {
			t.Errorf("progress = %+v", info.Progress)
		}
		kept, err := c.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(kept, saved.Bytes()) {
			t.Error("the kept snapshot is not the snapshot's Save bytes")
		}
		if back, err := access.Load(bytes.NewReader(kept)); err != nil || back.Hash() != snap.Hash() {
			t.Errorf("the kept snapshot does not load back: %v", err)
		}

		its := items(t, c)
		want := []string{
			"custom_role:7:assigned@user:2", "group:10:member@user:1", "group:10:member@user:2", "group:11:member@user:2", "group:11:member@user:3",
			"organization:20:member@user:1", "organization:20:member@user:4",
			"role:admin:assigned@user:1", "role:agent:assigned@user:2", "role:agent:assigned@user:3", "role:end-user:assigned@user:4",
		}
		if diff := cmp.Diff(want, grantIDs(its)); diff != "" {
			t.Fatalf("items (-want +got):\n%s", diff)
		}
		for i, it := range its {
			if it.ID != int64(i+1) || it.Kind != review.KindGrant {
				t.Errorf("item %d: ID %d, kind %s", i, it.ID, it.Kind)
			}
		}
		bobBilling := itemOf(t, c, "group:11:member@user:2")
		wantItem := review.Item{
			ID: 4, Kind: review.KindGrant,
			Principal: review.Principal{ID: bob, Name: "bob", Email: "bob@example.com", Role: "agent", CustomRole: "Staff", SeatType: "agent",
				LastLoginAt: time.Date(2025, 8, 13, 9, 0, 0, 0, time.UTC),
				Attributes:  access.Attributes{"email": "bob@example.com", "role": "agent", "suspended": "false", "last_login_at": "2025-08-13T09:00:00Z", "role_type": "0"}},
			Grants: []review.ItemGrant{{GrantID: "group:11:member@user:2", EntitlementID: "group:11:member", Entitlement: "Billing",
				ResourceID: "group:11", Resource: "Billing", ResourceType: "group", Purpose: access.PurposeMembership,
				Granted: &review.GrantOrigin{At: grantedAt(t, j, "it-7"), By: "lead@example.com", Reason: "joins billing", Source: "ticket:IT-7", JournalID: "it-7"}}},
			Reviewers: []review.Assignment{{Reviewer: "bill@example.com", Active: true, Rule: review.RuleOwner, Reason: "owner of group:11 (Billing)", AssignedAt: info.CreatedAt}},
		}
		if diff := cmp.Diff(wantItem, bobBilling); diff != "" {
			t.Errorf("bob's Billing item (-want +got):\n%s", diff)
		}
		catBilling := itemOf(t, c, "group:11:member@user:3")
		if g := catBilling.Grants[0]; !g.TimeBound() || !g.ExpiresAt.Equal(time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)) || g.Granted != nil {
			t.Errorf("cat's time-bound grant: %+v", g)
		}
		if p := catBilling.Principal; !p.Suspended || !p.LastLoginAt.IsZero() || p.SeatType != "agent" {
			t.Errorf("cat: %+v", p)
		}
		if p := itemOf(t, c, "organization:20:member@user:4").Principal; p.SeatType != "" || p.Role != "end-user" {
			t.Errorf("dan: %+v", p)
		}
		if g := itemOf(t, c, "group:10:member@user:2").Grants[0]; g.TimeBound() {
			t.Errorf("a standing grant is time-bound: %+v", g)
		}
		one, err := c.Item(ctx, 4)
		if err != nil || !cmp.Equal(one, bobBilling) {
			t.Errorf("Item(4) = %+v, %v", one, err)
		}
		if _, err := c.Item(ctx, 99); !errors.Is(err, review.ErrUnknownItem) {
			t.Errorf("Item(99): %v, want ErrUnknownItem", err)
		}

		// The store lists it, and reopens it by ID.
		if ids, err := st.Campaigns(ctx); err != nil || !cmp.Equal(ids, []string{"q1"}) {
			t.Errorf("Campaigns = %v, %v", ids, err)
		}
		if _, err := st.Campaign(ctx, "q1"); err != nil {
			t.Error(err)
		}
		if _, err := st.Campaign(ctx, "nope"); !errors.Is(err, review.ErrUnknownCampaign) {
			t.Errorf("Campaign(nope): %v", err)
		}
		// One ID, one campaign.
		if _, err := st.Create(ctx, snap, baseSpec()); !errors.Is(err, review.ErrCampaignExists) {
			t.Errorf("second create: %v, want ErrCampaignExists", err)
		}
	})
}

// grantedAt returns when the journal finished a change.
func grantedAt(t testing.TB, j *provision.Journal, id string) time.Time {
	t.Helper()
	ch, err := j.Change(t.Context(), id)
	if err != nil || ch.Finished == nil {
		t.Fatalf("journal change %s: %+v, %v", id, ch, err)
	}
	return ch.Finished.Time.UTC()
}

// TestCreateSnapshotHash: a snapshot whose content does not match its hash
// is refused with ErrInvalidSnapshot and access.ErrHashMismatch, and
// nothing is written.
func TestCreateSnapshotHash(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, dsn string) {
		t.Parallel()
		ctx := t.Context()
		_, _, snap := testSystem(t)
		st := openStore(t, dsn)

		// A file edited after it was written: Bob is now an admin.
		name := filepath.Join(t.TempDir(), "snap.json")
		if err := snap.WriteFile(name); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(name)
		edited := strings.Replace(string(data), `"role:agent:assigned@user:2"`, `"role:admin:assigned@user:2"`, 1)
		if edited == string(data) {
			t.Fatal("the edit did not apply")
		}
		if err := os.WriteFile(name, []byte(edited), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := st.CreateFromFile(ctx, name, baseSpec())
		for _, target := range []error{review.ErrInvalidSnapshot, access.ErrInvalidSnapshot, access.ErrHashMismatch} {
			if !errors.Is(err, target) {
				t.Errorf("CreateFromFile of an edited file: %v, want %v", err, target)
			}
		}
		// A snapshot that was never synced has no hash to match.
		_, err = st.Create(ctx, new(access.Snapshot), baseSpec())
		if !errors.Is(err, review.ErrInvalidSnapshot) || !errors.Is(err, access.ErrHashMismatch) {
			t.Errorf("Create of a zero snapshot: %v", err)
		}
		if _, err := st.Create(ctx, nil, baseSpec()); !errors.Is(err, review.ErrInvalidSnapshot) {
			t.Errorf("Create of nil: %v", err)
		}
		if ids, err := st.Campaigns(ctx); err != nil || len(ids) != 0 {
			t.Errorf("campaigns after refusals: %v, %v", ids, err)
		}
		// The file as written is fine.
		if err := snap.WriteFile(name); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CreateFromFile(ctx, name, baseSpec()); err != nil {
			t.Errorf("CreateFromFile: %v", err)
		}
	})
}
