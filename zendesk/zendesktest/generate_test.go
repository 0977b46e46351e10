package zendesktest

import (
	"bytes"
	"fmt"
	"testing"
)

func fetchAll(t *testing.T, s *Server) []byte {
	t.Helper()
	c := admin(t, s)
	var out bytes.Buffer
	for _, p := range []string{
		"/api/v2/users?page[size]=100", "/api/v2/groups", "/api/v2/group_memberships?page[size]=100",
		"/api/v2/organizations", "/api/v2/organization_memberships?page[size]=100", "/api/v2/custom_roles",
		"/api/v2/deleted_users", "/api/v2/incremental/users/cursor?start_time=0",
	} {
		r := c.do("GET", p, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
		out.Write(bytes.ReplaceAll(r.body, []byte(s.URL), []byte("BASE")))
		out.WriteByte('\n')
	}
	return out.Bytes()
}

func TestGeneratorDeterministic(t *testing.T) {
	t.Parallel()
	spec := AccountSpec{Seed: 7, EndUsers: 80, Agents: 15, Admins: 3, Groups: 6, Organizations: 9,
		GroupMemberships: 40, OrganizationMemberships: 60, CustomRoles: 4, Suspended: 5, Deleted: 4}
	clock := newFakeClock()
	a := fetchAll(t, newServer(t, WithAccount(spec), WithClock(clock.Now)))
	b := fetchAll(t, newServer(t, WithAccount(spec), WithClock(clock.Now)))
	if !bytes.Equal(a, b) {
		t.Fatal("same seed produced different responses")
	}
	spec.Seed = 8
	if c := fetchAll(t, newServer(t, WithAccount(spec), WithClock(clock.Now))); bytes.Equal(a, c) {
		t.Fatal("different seeds produced the same responses")
	}
}

func TestGeneratorInvariants(t *testing.T) {
	t.Parallel()
	for _, multi := range []bool{false, true} {
		t.Run(fmt.Sprintf("multiple_organizations=%v", multi), func(t *testing.T) {
			t.Parallel()
			spec := AccountSpec{Seed: 11, EndUsers: 500, Agents: 60, Admins: 5, Groups: 12, Organizations: 30,
				GroupMemberships: 150, OrganizationMemberships: 700, CustomRoles: 5, Suspended: 10, Deleted: 7}
			s := newServer(t, WithAccount(spec), WithMultipleOrganizations(multi))
			cn := s.Counts()
			if cn.EndUsers != spec.EndUsers-spec.Deleted || cn.Agents != spec.Agents || cn.Admins != spec.Admins+1 ||
				cn.Groups != spec.Groups || cn.Organizations != spec.Organizations || cn.CustomRoles != spec.CustomRoles ||
				cn.Suspended != spec.Suspended || cn.SoftDeletedUsers != spec.Deleted || cn.GroupMemberships != spec.GroupMemberships {
				t.Errorf("counts %+v for spec %+v", cn, spec)
			}
			st := s.st
			bigGroup := 0
			for g := range st.groups {
				bigGroup = max(bigGroup, len(st.groupGMs[g]))
			}
			if bigGroup < cn.GroupMemberships/spec.Groups*2 {
				t.Errorf("no skew: biggest group has %d of %d memberships", bigGroup, cn.GroupMemberships)
			}
			for i := range st.users {
				u := &st.users[i]
				defaults := 0
				for _, p := range st.userGMs[i] {
					if !u.role.isStaff() {
						t.Fatalf("end-user %d in a group", u.id)
					}
					if st.gms[p].isDefault {
						defaults++
						if st.gms[p].groupID != u.defaultGroupID {
							t.Fatalf("user %d default_group_id mismatch", u.id)
						}
					}
				}
				if u.state == userLive && u.role.isStaff() && defaults != 1 {
					t.Fatalf("staff user %d has %d default groups", u.id, defaults)
				}
				if !multi && len(st.userOMs[i]) > 1 {
					t.Fatalf("user %d in %d organizations with the setting off", u.id, len(st.userOMs[i]))
				}
				if u.customRoleID != 0 && u.role != RoleAgent {
					t.Fatalf("user %d: custom role on a %s", u.id, u.role)
				}
			}
			if multi && cn.OrganizationMemberships != spec.OrganizationMemberships {
				t.Errorf("org memberships %d, want %d", cn.OrganizationMemberships, spec.OrganizationMemberships)
			}
		})
	}
}

func TestDemoAccount(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithAccount(DemoAccount()))
	cn := s.Counts()
	users := cn.EndUsers + cn.Agents + cn.Admins
	if users < 25 || users > 35 || cn.Groups != 5 || cn.Organizations != 4 || cn.CustomRoles != 2 {
		t.Errorf("demo counts %+v", cn)
	}
}
