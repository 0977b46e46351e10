package zendesktest

import (
	"bytes"
	"fmt"
	"strings"
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

// TestGenerateProgress: WithGenerateProgress reports each stage from 0 to
// its end, about every 1%, in order.
func TestGenerateProgress(t *testing.T) {
	t.Parallel()
	var got []GenerateProgress
	s := newServer(t, WithAccount(AccountSpec{Seed: 3, EndUsers: 5000, Agents: 40, Admins: 2, Groups: 4, Organizations: 30,
		GroupMemberships: 60, OrganizationMemberships: 4000}), WithGenerateProgress(func(p GenerateProgress) { got = append(got, p) }))
	var stages []string
	byStage := map[string][]GenerateProgress{}
	for _, p := range got {
		if len(stages) == 0 || stages[len(stages)-1] != p.Stage {
			stages = append(stages, p.Stage)
		}
		byStage[p.Stage] = append(byStage[p.Stage], p)
	}
	want := []string{"groups", "organizations", "users", "group memberships", "organization memberships", "export log"}
	if fmt.Sprint(stages) != fmt.Sprint(want) {
		t.Fatalf("stages %v, want %v", stages, want)
	}
	for stage, ps := range byStage {
		first, last := ps[0], ps[len(ps)-1]
		if first.Done != 0 || last.Done != last.Total {
			t.Errorf("%s: from %+v to %+v, want from 0 to the total", stage, first, last)
		}
		for i := 1; i < len(ps); i++ {
			if ps[i].Done < ps[i-1].Done {
				t.Errorf("%s went back: %+v after %+v", stage, ps[i], ps[i-1])
			}
		}
		if len(ps) > 103 {
			t.Errorf("%s: %d reports, want about one per 1%%", stage, len(ps))
		}
	}
	c := s.Counts()
	users := byStage["users"]
	if n := users[len(users)-1].Total; n != 5043 || len(users) < 100 {
		t.Errorf("users stage: %d reports ending at %d, want about 100 ending at 5043 (owner included)", len(users), n)
	}
	if gm := byStage["group memberships"]; gm[len(gm)-1].Total != c.GroupMemberships {
		t.Errorf("group memberships stage ended at %d, account has %d", gm[len(gm)-1].Total, c.GroupMemberships)
	}
}

// TestGenerateNotes: where the generator cannot make the memberships asked
// for, GenerateNotes says how many were asked, how many made, and why.
func TestGenerateNotes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		spec  AccountSpec
		multi bool
		want  []string // substrings of the one note, in order; none: no note
	}{
		{"exact", AccountSpec{Seed: 1, EndUsers: 20, Agents: 5, Groups: 3, Organizations: 3, GroupMemberships: 8, OrganizationMemberships: 10}, false, nil},
		{"no groups", AccountSpec{Seed: 1, Agents: 3, GroupMemberships: 5}, false,
			[]string{"asked for 5 group memberships, made 0", "there are no groups"}},
		{"default groups", AccountSpec{Seed: 1, Agents: 10, Groups: 2, GroupMemberships: 3}, false,
			[]string{"asked for 3 group memberships, made 11", "each of the 11 agents and admins"}},
		{"too few agents", AccountSpec{Seed: 1, Agents: 2, Groups: 2, GroupMemberships: 100}, false,
			[]string{"asked for 100 group memberships, made 6", "3 agents and admins (the owner included) in 2 groups allow at most 6"}},
		{"no organizations", AccountSpec{Seed: 1, EndUsers: 3, OrganizationMemberships: 2}, false,
			[]string{"asked for 2 organization memberships, made 0", "there are no organizations"}},
		{"one organization each", AccountSpec{Seed: 1, EndUsers: 5, Organizations: 3, OrganizationMemberships: 50}, false,
			[]string{"asked for 50 organization memberships, made ", "each only one while multiple organizations are off"}},
		{"multiple organizations", AccountSpec{Seed: 1, EndUsers: 5, Organizations: 3, OrganizationMemberships: 50}, true,
			[]string{"asked for 50 organization memberships, made ", "each at most 3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, WithAccount(tc.spec), WithMultipleOrganizations(tc.multi))
			notes := s.GenerateNotes()
			if len(tc.want) == 0 {
				if len(notes) != 0 {
					t.Errorf("notes %q, want none", notes)
				}
				return
			}
			if len(notes) != 1 {
				t.Fatalf("notes %q, want one", notes)
			}
			rest := notes[0]
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("note %q lacks %q", notes[0], w)
				}
				rest = rest[i+len(w):]
			}
			c := s.Counts()
			if made := fmt.Sprintf("made %d:", c.GroupMemberships+c.OrganizationMemberships); !strings.Contains(notes[0], made) {
				t.Errorf("note %q does not give the count made (%s)", notes[0], made)
			}
		})
	}
}
