package zendeskaccess_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// orgFixture is a user in one organization and another organization.
type orgFixture struct {
	user       int64
	from, to   int64
	noOrgUser  int64
	otherCount int // the user's memberships before the grant
}

func newOrgFixture(t *testing.T, srv *zendesktest.Server) orgFixture {
	t.Helper()
	var f orgFixture
	for _, u := range liveUsers(srv, zendesktest.RoleEndUser) {
		switch {
		case u.OrganizationID != 0 && f.user == 0:
			f.user, f.from = u.ID, u.OrganizationID
		case u.OrganizationID == 0 && f.noOrgUser == 0:
			f.noOrgUser = u.ID
		}
	}
	if f.user == 0 || f.noOrgUser == 0 {
		t.Fatal("demo account lacks an end user with and one without an organization")
	}
	for id := int64(orgBase + 1); ; id++ {
		if _, ok := srv.Organization(id); !ok {
			break
		}
		if id != f.from {
			f.to = id
			break
		}
	}
	f.otherCount = len(srv.OrganizationMembershipsOf(f.user))
	return f
}

func orgIDsOf(srv *zendesktest.Server, user int64) []int64 {
	var out []int64
	for _, m := range srv.OrganizationMembershipsOf(user) {
		out = append(out, m.OrganizationID)
	}
	return out
}

func TestOrganizationModes(t *testing.T) {
	t.Parallel()
	const (
		refused = "refused" // *OrganizationMoveError, nothing changed
		moved   = "moved"   // Granted, the old membership in Replaced and gone
		added   = "added"   // Granted, both memberships kept
		off     = "off"     // ErrMultipleOrganizationsOff
	)
	tests := []struct {
		mode     zendeskaccess.OrgMode
		multiple bool
		refuse   bool // the simulator refuses a second organization itself
		want     string
	}{
		{zendeskaccess.OrgModeMultiple, false, false, off},
		{zendeskaccess.OrgModeMultiple, true, false, added},
		{zendeskaccess.OrgModeReplace, false, false, moved},
		{zendeskaccess.OrgModeReplace, false, true, moved},
		{zendeskaccess.OrgModeReplace, true, false, added},
		{zendeskaccess.OrgModeRefuse, false, false, refused},
		{zendeskaccess.OrgModeRefuse, true, false, added},
	}
	for _, tc := range tests {
		name := tc.mode.String() + "/multiple=" + map[bool]string{true: "on", false: "off"}[tc.multiple]
		if tc.refuse {
			name += "/server-refuses"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srvOpts := []zendesktest.Option{zendesktest.WithMultipleOrganizations(tc.multiple)}
			if tc.refuse {
				srvOpts = append(srvOpts, zendesktest.WithSingleOrganizationMode(zendesktest.RefuseMembership))
			}
			srv := demo(t, srvOpts...)
			f := newOrgFixture(t, srv)
			b := newBackend(t, srv, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers), zendeskaccess.WithOrganizationMode(tc.mode))
			ctx := t.Context()

			info, err := b.Info(ctx)
			if tc.want == off {
				if !errors.Is(err, zendeskaccess.ErrMultipleOrganizationsOff) {
					t.Errorf("Info error = %v, want ErrMultipleOrganizationsOff", err)
				}
				if _, err := access.Sync(ctx, b, nil); !errors.Is(err, zendeskaccess.ErrMultipleOrganizationsOff) {
					t.Errorf("Sync error = %v, want ErrMultipleOrganizationsOff", err)
				}
				_, err = b.Grant(ctx, access.GrantRequest{EntitlementID: orgE(f.to), PrincipalID: uid(f.noOrgUser)})
				if !errors.Is(err, zendeskaccess.ErrMultipleOrganizationsOff) {
					t.Errorf("Grant error = %v, want ErrMultipleOrganizationsOff", err)
				}
				if n := writes(srv); n != 0 {
					t.Errorf("%d writes, want none", n)
				}
				return
			}
			if err != nil {
				t.Fatalf("Info: %v", err)
			}
			if got, want := info.Scope["multiple_organizations"], map[bool]string{true: "true", false: "false"}[tc.multiple]; got != want {
				t.Errorf("Info.Scope[multiple_organizations] = %q, want %q", got, want)
			}
			before := sync(t, b)
			fromGrant := access.GrantID(orgE(f.from), uid(f.user))
			if _, ok := before.Grant(fromGrant); !ok {
				t.Fatalf("snapshot lacks %s", fromGrant)
			}

			// Granting the organization the user is in changes nothing.
			res, err := b.Grant(ctx, access.GrantRequest{EntitlementID: orgE(f.from), PrincipalID: uid(f.user)})
			if err != nil || res.Status != access.StatusAlreadyGranted {
				t.Errorf("Grant(current organization) = %v, %v; want already granted", res.Status, err)
			}

			srv.ResetStats()
			req := access.GrantRequest{EntitlementID: orgE(f.to), PrincipalID: uid(f.user)}
			res, err = b.Grant(ctx, req)
			switch tc.want {
			case refused:
				var me *zendeskaccess.OrganizationMoveError
				if !errors.As(err, &me) {
					t.Fatalf("Grant error = %v, want *OrganizationMoveError", err)
				}
				if d := cmp.Diff(zendeskaccess.OrganizationMoveError{UserID: f.user, From: f.from, To: f.to}, *me); d != "" {
					t.Errorf("OrganizationMoveError (-want +got):\n%s", d)
				}
				if !errors.Is(err, zendeskaccess.ErrOrganizationMove) || !errors.Is(err, access.ErrNotGrantable) {
					t.Errorf("error %v does not match ErrOrganizationMove and access.ErrNotGrantable", err)
				}
				if n := writes(srv); n != 0 {
					t.Errorf("a refused grant sent %d writes, want none (%v)", n, srv.Stats().Requests)
				}
				if d := cmp.Diff([]int64{f.from}, orgIDsOf(srv, f.user)); d != "" {
					t.Errorf("memberships after a refused grant (-want +got):\n%s", d)
				}
				if after := sync(t, b); after.Hash() != before.Hash() {
					t.Errorf("a refused grant changed the account:\n%s", access.Diff(before, after))
				}
				return
			case moved:
				if err != nil {
					t.Fatalf("Grant: %v", err)
				}
				if d := cmp.Diff([]string{fromGrant}, grantIDs(res.Replaced)); d != "" {
					t.Errorf("Replaced (-want +got):\n%s", d)
				}
				if d := cmp.Diff([]int64{f.to}, orgIDsOf(srv, f.user)); d != "" {
					t.Errorf("memberships after the move (-want +got):\n%s", d)
				}
			case added:
				if err != nil {
					t.Fatalf("Grant: %v", err)
				}
				if len(res.Replaced) != 0 {
					t.Errorf("Replaced = %v, want none", grantIDs(res.Replaced))
				}
				if d := cmp.Diff([]int64{f.from, f.to}, orgIDsOf(srv, f.user)); d != "" {
					t.Errorf("memberships after the grant (-want +got):\n%s", d)
				}
			}
			if res.Status != access.StatusGranted || res.Grant == nil || res.Grant.ID() != req.GrantID() {
				t.Errorf("Grant result = %+v, want granted %s", res, req.GrantID())
			}
			after := sync(t, b)
			changes := access.Diff(before, after)
			var removed []string
			for _, g := range changes.RemovedGrants {
				removed = append(removed, g.ID())
			}
			if d := cmp.Diff(grantIDs(res.Replaced), removed); d != "" {
				t.Errorf("removed grants (-Replaced +Diff):\n%s", d)
			}
			if _, ok := after.Grant(req.GrantID()); !ok {
				t.Errorf("sync after the grant lacks %s", req.GrantID())
			}
			again, err := b.Grant(ctx, req)
			if err != nil || again.Status != access.StatusAlreadyGranted || len(again.Replaced) != 0 {
				t.Errorf("second Grant = %+v, %v; want already granted", again, err)
			}

			// Revoke needs no membership ids, with or without the setting.
			srv.ResetStats()
			rev, err := b.Revoke(ctx, access.RevokeRequest(req))
			if err != nil || rev.Status != access.StatusRevoked {
				t.Fatalf("Revoke = %+v, %v", rev, err)
			}
			if n := requests(srv, "DELETE /api/v2/users/{id}/organizations/{id}"); n != 1 {
				t.Errorf("Revoke sent %d DELETE /users/{id}/organizations/{id}, want 1 (%v)", n, srv.Stats().Requests)
			}
			rev, err = b.Revoke(ctx, access.RevokeRequest(req))
			if err != nil || rev.Status != access.StatusAlreadyRevoked {
				t.Errorf("second Revoke = %+v, %v; want already revoked", rev, err)
			}
		})
	}
}

// TestOrganizationGrantWithoutOrganization: a user in no organization gets
// one in every mode, with the setting on or off.
func TestOrganizationGrantWithoutOrganization(t *testing.T) {
	t.Parallel()
	for _, mode := range []zendeskaccess.OrgMode{zendeskaccess.OrgModeReplace, zendeskaccess.OrgModeRefuse} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			srv := demo(t)
			f := newOrgFixture(t, srv)
			b := newBackend(t, srv, zendeskaccess.WithOrganizationMode(mode))
			res, err := b.Grant(t.Context(), access.GrantRequest{EntitlementID: orgE(f.to), PrincipalID: uid(f.noOrgUser)})
			if err != nil || res.Status != access.StatusGranted || len(res.Replaced) != 0 {
				t.Fatalf("Grant = %+v, %v; want granted, nothing replaced", res, err)
			}
			if d := cmp.Diff([]int64{f.to}, orgIDsOf(srv, f.noOrgUser)); d != "" {
				t.Errorf("memberships (-want +got):\n%s", d)
			}
			if got := res.Grant.Attributes()["default"]; got != "true" {
				t.Errorf("grant default = %q, want true", got)
			}
		})
	}
}

// TestOrganizationGrantAfterSettingTurnedOff: a grant right after a sync,
// when multiple organizations were turned off in between, must not rely on
// the setting the sync read: a move is refused (or reported) as the mode says.
func TestOrganizationGrantAfterSettingTurnedOff(t *testing.T) {
	t.Parallel()
	for _, mode := range []zendeskaccess.OrgMode{zendeskaccess.OrgModeRefuse, zendeskaccess.OrgModeMultiple, zendeskaccess.OrgModeReplace} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			srv := demo(t, zendesktest.WithMultipleOrganizations(true))
			f := newOrgFixture(t, srv)
			b := newBackend(t, srv, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers), zendeskaccess.WithOrganizationMode(mode))
			ctx := t.Context()
			if _, err := b.Info(ctx); err != nil {
				t.Fatalf("Info: %v", err)
			}
			srv.SetMultipleOrganizations(false)
			srv.ResetStats()
			res, err := b.Grant(ctx, access.GrantRequest{EntitlementID: orgE(f.to), PrincipalID: uid(f.user)})
			switch mode {
			case zendeskaccess.OrgModeReplace:
				if err != nil {
					t.Fatalf("Grant: %v", err)
				}
				if d := cmp.Diff([]string{access.GrantID(orgE(f.from), uid(f.user))}, grantIDs(res.Replaced)); d != "" {
					t.Errorf("Replaced (-want +got):\n%s", d)
				}
				if d := cmp.Diff([]int64{f.to}, orgIDsOf(srv, f.user)); d != "" {
					t.Errorf("memberships (-want +got):\n%s", d)
				}
				return
			case zendeskaccess.OrgModeMultiple:
				if !errors.Is(err, zendeskaccess.ErrMultipleOrganizationsOff) {
					t.Errorf("Grant error = %v, want ErrMultipleOrganizationsOff", err)
				}
			default:
				if !errors.Is(err, zendeskaccess.ErrOrganizationMove) {
					t.Errorf("Grant = %+v, %v; want ErrOrganizationMove", res, err)
				}
			}
			if n := writes(srv); n != 0 {
				t.Errorf("%d writes, want none (%v)", n, srv.Stats().Requests)
			}
			if d := cmp.Diff([]int64{f.from}, orgIDsOf(srv, f.user)); d != "" {
				t.Errorf("memberships (-want +got):\n%s", d)
			}
		})
	}
}

// TestOrganizationGrantKeptMembership: on an account where multiple
// organizations were turned off, users keep the memberships they had;
// granting one of them changes nothing and says so, in every mode.
func TestOrganizationGrantKeptMembership(t *testing.T) {
	t.Parallel()
	for _, mode := range []zendeskaccess.OrgMode{zendeskaccess.OrgModeRefuse, zendeskaccess.OrgModeReplace} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			srv := demo(t, zendesktest.WithMultipleOrganizations(true))
			f := newOrgFixture(t, srv)
			if _, err := srv.AddOrganizationMembership(f.user, f.to); err != nil {
				t.Fatal(err)
			}
			srv.SetMultipleOrganizations(false)
			b := newBackend(t, srv, zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers), zendeskaccess.WithOrganizationMode(mode))
			srv.ResetStats()
			res, err := b.Grant(t.Context(), access.GrantRequest{EntitlementID: orgE(f.to), PrincipalID: uid(f.user)})
			if err != nil || res.Status != access.StatusAlreadyGranted || len(res.Replaced) != 0 {
				t.Errorf("Grant = %+v, %v; want already granted, nothing replaced", res, err)
			}
			if n := writes(srv); n != 0 {
				t.Errorf("%d writes, want none (%v)", n, srv.Stats().Requests)
			}
			if d := cmp.Diff([]int64{f.from, f.to}, orgIDsOf(srv, f.user)); d != "" {
				t.Errorf("memberships (-want +got):\n%s", d)
			}
		})
	}
}
