package zendeskaccess_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"testing"

	"github.com/zgov-io/zgov/access"
	"github.com/zgov-io/zgov/access/accesstest"
	"github.com/zgov-io/zgov/access/zendeskaccess"
	"github.com/zgov-io/zgov/zendesk"
	"github.com/zgov-io/zgov/zendesk/zendesktest"
)

// groupChange returns a group grant the demo account lacks (an agent and a
// group they are not in) and a non-default group membership it has.
func groupChange(t *testing.T, srv *zendesktest.Server) (access.GrantRequest, access.RevokeRequest) {
	t.Helper()
	var grant access.GrantRequest
	var revoke access.RevokeRequest
	gs := groups(srv)
	for _, u := range liveUsers(srv, zendesktest.RoleAgent) {
		in := map[int64]bool{}
		for _, m := range srv.GroupMembershipsOf(u.ID) {
			in[m.GroupID] = true
			if !m.Default && revoke.EntitlementID == "" {
				revoke = access.RevokeRequest{EntitlementID: groupE(m.GroupID), PrincipalID: uid(u.ID)}
			}
		}
		for _, g := range gs {
			if !in[g.ID] && !g.Deleted && grant.EntitlementID == "" {
				grant = access.GrantRequest{EntitlementID: groupE(g.ID), PrincipalID: uid(u.ID)}
			}
		}
	}
	if grant.EntitlementID == "" || revoke.EntitlementID == "" {
		t.Fatal("demo account has no group grant to add or remove")
	}
	return grant, revoke
}

func TestConformance(t *testing.T) {
	tests := []struct {
		name    string
		srvOpts []zendesktest.Option
		opts    []zendeskaccess.Option
		setup   func(*testing.T, *zendesktest.Server)
		hide    bool // the custom roles list leaves out a role agents hold
	}{
		{"TeamMembersSingleOrganization", nil, nil, nil, false},
		{"AllUsersMultipleOrganizations",
			[]zendesktest.Option{zendesktest.WithMultipleOrganizations(true)},
			[]zendeskaccess.Option{zendeskaccess.WithScope(zendeskaccess.ScopeAllUsers), zendeskaccess.WithCustomRoleFallback(60_000_000_001)}, nil, false},
		{"TeamMembersMultipleOrganizationsPerUser",
			[]zendesktest.Option{zendesktest.WithMultipleOrganizations(true)},
			[]zendeskaccess.Option{zendeskaccess.WithMembershipStrategy(zendeskaccess.StrategyPerUser), zendeskaccess.WithOrganizationMode(zendeskaccess.OrgModeMultiple)}, nil, false},
		{"Professional", []zendesktest.Option{zendesktest.WithPlan(zendesktest.PlanProfessional), zendesktest.WithAccount(noCustomRoles())}, nil, nil, false},
		// Memberships kept after the setting was turned off, read with an
		// explicit strategy, and an agent whose custom role the account does
		// not list: GrantsFor must show what Sync shows.
		{"KeptMembershipsUnlistedCustomRole",
			[]zendesktest.Option{zendesktest.WithMultipleOrganizations(true)},
			[]zendeskaccess.Option{zendeskaccess.WithMembershipStrategy(zendeskaccess.StrategyAccountWide), zendeskaccess.WithCustomRoleFallback(60_000_000_002)},
			keptMembershipsUnlistedRole, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			server := func(t *testing.T) *zendesktest.Server {
				srv := demo(t, tc.srvOpts...)
				if tc.setup != nil {
					tc.setup(t, srv)
				}
				return srv
			}
			grant, revoke := groupChange(t, server(t))
			accesstest.Run(t, accesstest.Harness{
				NewBackend: func(t *testing.T) access.Backend {
					srv := server(t)
					if tc.hide {
						return hidingFirstCustomRole(t, srv, tc.opts...)
					}
					return newBackend(t, srv, tc.opts...)
				},
				Grant:  grant,
				Revoke: revoke,
			})
		})
	}
}

// keptMembershipsUnlistedRole gives every agent two organizations while the
// account allows several, then turns the setting off (what Zendesk leaves is
// undocumented; the simulator keeps both).
func keptMembershipsUnlistedRole(t *testing.T, srv *zendesktest.Server) {
	t.Helper()
	a, b := srv.AddOrganization("Kept A"), srv.AddOrganization("Kept B")
	for _, u := range liveUsers(srv, zendesktest.RoleAgent) {
		for _, o := range []int64{a.ID, b.ID} {
			if _, err := srv.AddOrganizationMembership(u.ID, o); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv.SetMultipleOrganizations(false)
}

// hidingFirstCustomRole returns a backend whose client reads the simulator
// through a proxy that leaves the first custom role out of GET
// /api/v2/custom_roles, though agents hold it: a role deleted or hidden
// since it was assigned. Sync leaves such grants out (the role is no
// resource); GrantsFor must too.
func hidingFirstCustomRole(t *testing.T, srv *zendesktest.Server, opts ...zendeskaccess.Option) access.Backend {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(r *http.Response) error {
		if r.Request.Method != http.MethodGet || r.Request.URL.Path != "/api/v2/custom_roles" || r.StatusCode != http.StatusOK {
			return nil
		}
		var page map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&page); err != nil {
			return err
		}
		var roles []json.RawMessage
		if err := json.Unmarshal(page["custom_roles"], &roles); err != nil {
			return err
		}
		if len(roles) > 0 {
			roles = roles[1:]
		}
		page["custom_roles"], _ = json.Marshal(roles)
		body, err := json.Marshal(page)
		if err != nil {
			return err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	proxy := httptest.NewServer(rp)
	t.Cleanup(proxy.Close)
	return backendOf(t, newClient(t, srv, zendesk.WithBaseURL(proxy.URL)), opts...)
}
