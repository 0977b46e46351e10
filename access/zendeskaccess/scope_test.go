package zendeskaccess_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

func typesOf(snap *access.Snapshot) []string {
	var out []string
	for _, rt := range snap.ResourceTypes() {
		out = append(out, rt.ID)
	}
	slices.Sort(out)
	return out
}

func usersIn(snap *access.Snapshot) []string {
	var out []string
	for _, r := range snap.Resources() {
		if r.Type() == "user" {
			out = append(out, r.ID())
		}
	}
	return out
}

func TestScope(t *testing.T) {
	t.Parallel()
	for _, multiple := range []bool{false, true} {
		t.Run("multiple="+strconv.FormatBool(multiple), func(t *testing.T) {
			t.Parallel()
			srv := demo(t, zendesktest.WithMultipleOrganizations(multiple))
			team := sync(t, newBackend(t, srv))
			all := sync(t, newBackend(t, srv, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers)))

			var wantTeam, wantAll []string
			for _, u := range liveUsers(srv) {
				wantAll = append(wantAll, uid(u.ID))
				if u.Role != zendesktest.RoleEndUser {
					wantTeam = append(wantTeam, uid(u.ID))
				}
			}
			slices.Sort(wantTeam)
			slices.Sort(wantAll)
			if d := cmp.Diff(wantTeam, usersIn(team)); d != "" {
				t.Errorf("team members (-want +got):\n%s", d)
			}
			if d := cmp.Diff(wantAll, usersIn(all)); d != "" {
				t.Errorf("all users (-want +got):\n%s", d)
			}
			if team.Provenance().Scope["users"] != "team_members" || all.Provenance().Scope["users"] != "all_users" {
				t.Errorf("scopes %v and %v", team.Provenance().Scope, all.Provenance().Scope)
			}
			// End users' organization memberships appear with all users only.
			endUserOrgs := 0
			for _, g := range all.Grants() {
				if strings.HasPrefix(g.ID(), "organization:") {
					if _, ok := team.Resource(g.PrincipalID()); !ok {
						endUserOrgs++
					} else if _, ok := team.Grant(g.ID()); !ok {
						t.Errorf("team snapshot lacks %s", g.ID())
					}
				}
			}
			if endUserOrgs == 0 {
				t.Error("all-users snapshot has no end-user organization memberships")
			}
		})
	}
}

func TestResourceTypes(t *testing.T) {
	t.Parallel()
	srv := demo(t)
	b := newBackend(t, srv, zendeskaccess.WithResourceTypes("group"))
	srv.ResetStats()
	snap := sync(t, b)
	if d := cmp.Diff([]string{"group", "user"}, typesOf(snap)); d != "" {
		t.Errorf("resource types (-want +got):\n%s", d)
	}
	for _, g := range snap.Grants() {
		if !strings.HasPrefix(g.ID(), "group:") {
			t.Errorf("unexpected grant %s", g.ID())
		}
	}
	want := map[string]int{"GET /api/v2/users": 1, "GET /api/v2/groups": 1, "GET /api/v2/group_memberships": 1}
	if d := cmp.Diff(want, srv.Stats().Requests); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}
	owner := srv.OwnerID()
	_, err := b.Grant(t.Context(), access.GrantRequest{EntitlementID: roleE("agent"), PrincipalID: uid(owner)})
	if !errors.Is(err, access.ErrUnknownEntitlement) {
		t.Errorf("Grant of an excluded type: error = %v, want ErrUnknownEntitlement", err)
	}

	all := sync(t, newBackend(t, srv))
	if d := cmp.Diff([]string{"custom_role", "group", "organization", "role", "user"}, typesOf(all)); d != "" {
		t.Errorf("default resource types (-want +got):\n%s", d)
	}
}

// TestNoCustomRoles: below Enterprise there are no custom roles, and that is
// not an error.
func TestNoCustomRoles(t *testing.T) {
	t.Parallel()
	srv := newServer(t, zendesktest.WithPlan(zendesktest.PlanProfessional), zendesktest.WithAccount(noCustomRoles()))
	b := newBackend(t, srv)
	snap := sync(t, b)
	if d := cmp.Diff([]string{"group", "organization", "role", "user"}, typesOf(snap)); d != "" {
		t.Errorf("resource types (-want +got):\n%s", d)
	}
	agent := liveUsers(srv, zendesktest.RoleAgent)[0].ID
	_, err := b.Grant(t.Context(), access.GrantRequest{EntitlementID: customRoleE(60_000_000_001), PrincipalID: uid(agent)})
	if !errors.Is(err, access.ErrUnknownEntitlement) {
		t.Errorf("Grant of a custom role without custom roles: error = %v, want ErrUnknownEntitlement", err)
	}
}

func TestOrganizationFilter(t *testing.T) {
	t.Parallel()
	for _, multiple := range []bool{false, true} {
		t.Run("multiple="+strconv.FormatBool(multiple), func(t *testing.T) {
			t.Parallel()
			srv := demo(t, zendesktest.WithMultipleOrganizations(multiple))
			first, _ := srv.Organization(orgBase + 1)
			second, _ := srv.Organization(orgBase + 2)
			b := newBackend(t, srv, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers),
				zendeskaccess.WithOrganizations([]string{"  " + strings.ToUpper(first.Name) + " "}, []int64{second.ID}))
			snap := sync(t, b)
			full := sync(t, newBackend(t, srv, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers)))

			var orgs []string
			for _, r := range snap.Resources() {
				if r.Type() == "organization" {
					orgs = append(orgs, r.ID())
				}
			}
			if d := cmp.Diff([]string{"organization:" + strconv.FormatInt(first.ID, 10), "organization:" + strconv.FormatInt(second.ID, 10)}, orgs); d != "" {
				t.Errorf("organizations (-want +got):\n%s", d)
			}
			var want, got []string
			for _, g := range full.Grants() {
				if strings.HasPrefix(g.ID(), orgE(first.ID)) || strings.HasPrefix(g.ID(), orgE(second.ID)) {
					want = append(want, g.ID())
				}
			}
			for _, g := range snap.Grants() {
				if strings.HasPrefix(g.ID(), "organization:") {
					got = append(got, g.ID())
				}
			}
			if len(want) == 0 {
				t.Fatal("the filtered organizations have no members")
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("organization grants (-want +got):\n%s", d)
			}
			// GrantsFor applies the filter too.
			for _, g := range full.Grants() {
				if !strings.HasPrefix(g.ID(), "organization:") {
					continue
				}
				gs, err := b.GrantsFor(t.Context(), g.PrincipalID())
				if err != nil {
					t.Fatal(err)
				}
				var wantFor []string
				for _, h := range snap.GrantsFor(g.PrincipalID()) {
					wantFor = append(wantFor, h.ID())
				}
				if d := cmp.Diff(wantFor, grantIDs(gs)); d != "" {
					t.Errorf("GrantsFor(%s) (-snapshot +got):\n%s", g.PrincipalID(), d)
				}
			}
			third := int64(orgBase + 3)
			_, err := b.Grant(t.Context(), access.GrantRequest{EntitlementID: orgE(third), PrincipalID: uid(srv.OwnerID())})
			if !errors.Is(err, access.ErrUnknownEntitlement) {
				t.Errorf("Grant outside the filter: error = %v, want ErrUnknownEntitlement", err)
			}
		})
	}
}

func TestUserAttributes(t *testing.T) {
	t.Parallel()
	srv := demo(t)
	owner := srv.OwnerID()
	snap := sync(t, newBackend(t, srv, zendeskaccess.WithAccountOwner(owner), zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers)))
	sawSuspended, sawLogin := false, false
	for _, u := range liveUsers(srv) {
		r, ok := snap.Resource(uid(u.ID))
		if !ok {
			t.Fatalf("snapshot lacks user %d", u.ID)
		}
		want := access.Attributes{
			"email":     u.Email,
			"role":      string(u.Role),
			"suspended": strconv.FormatBool(u.Suspended),
			"active":    "true",
			"owner":     strconv.FormatBool(u.ID == owner),
		}
		if u.RoleType != nil {
			want["role_type"] = strconv.Itoa(*u.RoleType)
		}
		if !u.LastLoginAt.IsZero() {
			want["last_login_at"] = u.LastLoginAt.UTC().Format(time.RFC3339)
			sawLogin = true
		}
		if u.ExternalID != "" {
			want["external_id"] = u.ExternalID
		}
		if d := cmp.Diff(want, r.Attributes()); d != "" {
			t.Errorf("user %d attributes (-want +got):\n%s", u.ID, d)
		}
		if r.DisplayName() != u.Name {
			t.Errorf("user %d name %q, want %q", u.ID, r.DisplayName(), u.Name)
		}
		if u.Suspended {
			sawSuspended = true
			for _, g := range snap.GrantsFor(uid(u.ID)) {
				if g.Attributes()["principal_suspended"] != "true" {
					t.Errorf("grant %s of a suspended user: %v", g.ID(), g.Attributes())
				}
			}
		}
	}
	if !sawSuspended || !sawLogin {
		t.Errorf("demo account lacks a suspended user (%v) or a login time (%v)", sawSuspended, sawLogin)
	}

	// Without WithAccountOwner there is no owner attribute.
	plain := sync(t, newBackend(t, srv))
	if r, _ := plain.Resource(uid(owner)); r.Attributes()["owner"] != "" {
		t.Errorf("owner attribute without WithAccountOwner: %v", r.Attributes())
	}
}

// TestSyncOneStreamAtATime: streams depend on each other's results but never
// wait for a stream that has not started, so Sync works at any concurrency
// and always yields the same snapshot for the same requests.
func TestSyncOneStreamAtATime(t *testing.T) {
	t.Parallel()
	for _, multiple := range []bool{false, true} {
		srv := demo(t, zendesktest.WithMultipleOrganizations(multiple))
		b := newBackend(t, srv, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers))
		var want *access.Snapshot
		var wantRequests int64
		for _, n := range []int{1, 2, 3, 8} {
			snap, err := access.Sync(t.Context(), b, &access.SyncOptions{Concurrency: n})
			if err != nil {
				t.Fatalf("Sync(Concurrency %d): %v", n, err)
			}
			if want == nil {
				want, wantRequests = snap, snap.Provenance().Requests
				continue
			}
			if snap.Hash() != want.Hash() || snap.Provenance().Requests != wantRequests {
				t.Errorf("Concurrency %d: %d requests, changes:\n%s", n, snap.Provenance().Requests, access.Diff(want, snap))
			}
			if d := cmp.Diff(want.Provenance().Streams, snap.Provenance().Streams); d != "" {
				t.Errorf("Concurrency %d: stream counts (-want +got):\n%s", n, d)
			}
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	srv := demo(t)
	client := newClient(t, srv)
	bad := map[string]zendeskaccess.Option{
		"scope":          zendeskaccess.WithScope(9),
		"types empty":    zendeskaccess.WithResourceTypes(),
		"types unknown":  zendeskaccess.WithResourceTypes("ticket"),
		"orgs empty":     zendeskaccess.WithOrganizations(nil, nil),
		"org name blank": zendeskaccess.WithOrganizations([]string{" "}, nil),
		"org id":         zendeskaccess.WithOrganizations(nil, []int64{0}),
		"org mode":       zendeskaccess.WithOrganizationMode(7),
		"fallback":       zendeskaccess.WithCustomRoleFallback(-1),
		"owner":          zendeskaccess.WithAccountOwner(0),
		"strategy":       zendeskaccess.WithMembershipStrategy(5),
		"concurrency":    zendeskaccess.WithConcurrency(0),
	}
	for name, opt := range bad {
		if _, err := zendeskaccess.New(client, opt); err == nil {
			t.Errorf("%s: New succeeded, want an error", name)
		}
	}
	if _, err := zendeskaccess.New(nil); err == nil {
		t.Error("New(nil) succeeded")
	}
	_, err := zendeskaccess.New(client, zendeskaccess.WithResourceTypes("group"), zendeskaccess.WithOrganizations(nil, []int64{1}))
	if err == nil {
		t.Error("WithOrganizations without the organization type: New succeeded")
	}
}
