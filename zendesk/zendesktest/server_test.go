package zendesktest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRoutingJSONSuffixAndErrors(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	c := admin(t, s)
	owner := s.OwnerID()
	for _, p := range []string{"/api/v2/users/%d", "/api/v2/users/%d.json"} {
		m := c.must(http.StatusOK, "GET", fmt.Sprintf(p, owner), nil)
		if got := id(t, m, "user"); got != owner {
			t.Errorf("%s: id %d, want %d", p, got, owner)
		}
	}
	bad := &client{t: t, s: s, authz: c.authz, skipRecord: true}
	r := bad.do("GET", "/api/v2/no_such_thing", nil)
	wantError(t, r, http.StatusNotFound, "InvalidEndpoint")
	r = bad.do("PATCH", "/api/v2/users", nil)
	wantError(t, r, http.StatusMethodNotAllowed, "MethodNotAllowed")
	r = bad.do("GET", "/api/v2/users/999", nil)
	wantError(t, r, http.StatusNotFound, "RecordNotFound")
	r = bad.do("GET", "/api/v2/users/abc", nil)
	wantError(t, r, http.StatusNotFound, "RecordNotFound")
	r = bad.do("GET", "/api/v2/groups/99999999999999999999999", nil)
	wantError(t, r, http.StatusNotFound, "RecordNotFound")
	// A user id is not a group id: ids are per-type ranges.
	r = bad.do("GET", fmt.Sprintf("/api/v2/groups/%d", owner), nil)
	wantError(t, r, http.StatusNotFound, "RecordNotFound")
	r = bad.do("POST", "/api/v2/users", `{"user":`)
	wantError(t, r, http.StatusBadRequest, "InvalidJSON")
	r = bad.do("POST", "/api/v2/users", `[]`)
	wantError(t, r, http.StatusBadRequest, "InvalidJSON")
	r = bad.do("POST", "/api/v2/users", `{"user":{"name":5}}`)
	wantError(t, r, http.StatusUnprocessableEntity, "RecordInvalid")
}

func TestAPITokenAuth(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithAccount(DemoAccount()))
	cr := s.Credentials()
	agent, _ := s.AddUser(UserSpec{Name: "Agent A", Email: "agent.a@example.com", Role: RoleAgent})
	endUser, _ := s.AddUser(UserSpec{Name: "End U", Email: "end.u@example.com"})
	suspended, _ := s.AddUser(UserSpec{Name: "Sus P", Email: "sus.p@example.com", Role: RoleAgent, Suspended: true})

	cases := []struct {
		name   string
		authz  string
		status int
	}{
		{"owner", basicToken(cr.AdminEmail, cr.APIToken), 200},
		{"email is case-insensitive", basicToken(strings.ToUpper(cr.AdminEmail), cr.APIToken), 200},
		{"agent", basicToken(agent.Email, cr.APIToken), 200},
		{"wrong token", basicToken(cr.AdminEmail, "nope"), 401},
		{"unknown email", basicToken("who@example.com", cr.APIToken), 401},
		{"end-user", basicToken(endUser.Email, cr.APIToken), 401},
		{"suspended agent", basicToken(suspended.Email, cr.APIToken), 401},
		{"password auth", "Basic " + basicAuth(cr.AdminEmail, cr.APIToken), 401},
		{"garbage", "Basic !!!", 401},
		{"none", "", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &client{t: t, s: s, authz: tc.authz}
			r := c.do("GET", "/api/v2/users/me.json", nil)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if tc.status == 401 {
				wantError(t, r, 401, "Couldn't authenticate you")
			}
		})
	}
}

func basicAuth(user, pass string) string {
	r, _ := http.NewRequest("GET", "http://x", nil)
	r.SetBasicAuth(user, pass)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) Advance(d time.Duration) {
	f.mu.Lock()
	f.t = f.t.Add(d)
	f.mu.Unlock()
}

func oauthToken(t *testing.T, s *Server, form url.Values, asJSON bool) response {
	t.Helper()
	c := &client{t: t, s: s, skipRecord: true}
	if asJSON {
		m := map[string]string{}
		for k := range form {
			m[k] = form.Get(k)
		}
		return c.do("POST", "/oauth/tokens", m)
	}
	req, _ := http.NewRequest("POST", s.URL+"/oauth/tokens", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = fmt.Fprint(&b, "")
	buf := make([]byte, 0, 512)
	tmp := make([]byte, 512)
	for {
		n, err := resp.Body.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if err != nil {
			break
		}
	}
	return response{status: resp.StatusCode, header: resp.Header, body: buf}
}

func TestOAuth(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	s := newServer(t, WithClock(clock.Now), WithTokenTTL(time.Hour))
	cr := s.Credentials()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {cr.OAuthClientID},
		"client_secret": {cr.OAuthClientSecret}, "scope": {"read write"}}

	for _, asJSON := range []bool{false, true} {
		r := oauthToken(t, s, form, asJSON)
		if r.status != 200 {
			t.Fatalf("token (json=%v): %d %s", asJSON, r.status, r.body)
		}
		m := r.json(t)
		if m["token_type"] != "bearer" || m["scope"] != "read write" || num(t, m["expires_in"]) != 3600 ||
			m["access_token"] == "" || m["refresh_token"] == "" {
			t.Fatalf("token response: %v", m)
		}
	}
	m := oauthToken(t, s, form, false).json(t)
	bearer := &client{t: t, s: s, authz: "Bearer " + m["access_token"].(string)}
	me := bearer.must(200, "GET", "/api/v2/users/me", nil)
	if id(t, me, "user") != s.OwnerID() {
		t.Fatalf("client credentials act as %d, want owner %d", id(t, me, "user"), s.OwnerID())
	}

	// Expiry follows the clock.
	clock.Advance(time.Hour)
	r := bearer.do("GET", "/api/v2/users/me", nil)
	wantError(t, r, 401, "invalid_token")
	if d := r.json(t)["error_description"]; !strings.Contains(fmt.Sprint(d), "expired") {
		t.Errorf("error_description = %v", d)
	}

	// The refresh grant issues a new pair and rotates the refresh token.
	refresh := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {m["refresh_token"].(string)},
		"client_id": {cr.OAuthClientID}, "client_secret": {cr.OAuthClientSecret}}
	r2 := oauthToken(t, s, refresh, false)
	if r2.status != 200 {
		t.Fatalf("refresh: %d %s", r2.status, r2.body)
	}
	bearer.authz = "Bearer " + r2.json(t)["access_token"].(string)
	bearer.must(200, "GET", "/api/v2/users/me", nil)
	if r := oauthToken(t, s, refresh, false); r.status != 400 || r.json(t)["error"] != "invalid_grant" {
		t.Fatalf("reused refresh token: %d %s", r.status, r.body)
	}

	// ExpireTokens invalidates every access token.
	s.ExpireTokens()
	wantError(t, bearer.do("GET", "/api/v2/users/me", nil), 401, "invalid_token")
	wantError(t, (&client{t: t, s: s, authz: "Bearer nonsense"}).do("GET", "/api/v2/users/me", nil), 401, "invalid_token")

	// Bad client, bad grant.
	badClient := url.Values{"grant_type": {"client_credentials"}, "client_id": {cr.OAuthClientID}, "client_secret": {"x"}}
	if r := oauthToken(t, s, badClient, false); r.status != 401 || r.json(t)["error"] != "invalid_client" {
		t.Fatalf("bad secret: %d %s", r.status, r.body)
	}
	badGrant := url.Values{"grant_type": {"password"}, "client_id": {cr.OAuthClientID}, "client_secret": {cr.OAuthClientSecret}}
	if r := oauthToken(t, s, badGrant, false); r.status != 400 || r.json(t)["error"] != "unsupported_grant_type" {
		t.Fatalf("bad grant: %d %s", r.status, r.body)
	}
	// Client secret in the Basic header (oauth2.AuthStyleInHeader).
	req, _ := http.NewRequest("POST", s.URL+"/oauth/tokens", strings.NewReader("grant_type=client_credentials&scope=read"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(cr.OAuthClientID, cr.OAuthClientSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("header client auth: %d", resp.StatusCode)
	}
}

func TestOAuthReadScopeCannotWrite(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	tok, err := s.IssueAccessToken(s.Credentials().AdminEmail, "read")
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, s: s, authz: "Bearer " + tok}
	c.must(200, "GET", "/api/v2/groups", nil)
	wantError(t, c.do("POST", "/api/v2/groups", map[string]any{"group": map[string]any{"name": "X"}}), 403, "Forbidden")
}

func TestAgentPermissions(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithAccount(DemoAccount()))
	agent, err := s.AddUser(UserSpec{Name: "Agent B", Email: "agent.b@example.com", Role: RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	endUser, _ := s.AddUser(UserSpec{Name: "End V", Email: "end.v@example.com"})
	g := s.AddGroup("Agents only")
	c := as(t, s, agent.Email)
	// Reads are allowed.
	for _, p := range []string{"/api/v2/users", "/api/v2/groups", "/api/v2/group_memberships", "/api/v2/organizations",
		"/api/v2/organization_memberships", "/api/v2/custom_roles", "/api/v2/account/settings", "/api/v2/job_statuses"} {
		c.must(200, "GET", p, nil)
	}
	forbidden := []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v2/group_memberships", map[string]any{"group_membership": map[string]any{"user_id": agent.ID, "group_id": g.ID}}},
		{"DELETE", fmt.Sprintf("/api/v2/group_memberships/%d", gmBase+1), nil},
		{"POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "New Agent", "email": "na@example.com", "role": "agent"}}},
		{"PUT", fmt.Sprintf("/api/v2/users/%d", endUser.ID), map[string]any{"user": map[string]any{"role": "admin"}}},
		{"DELETE", fmt.Sprintf("/api/v2/users/%d", endUser.ID), nil},
		{"POST", "/api/v2/organizations", map[string]any{"organization": map[string]any{"name": "Nope"}}},
		{"POST", "/api/v2/groups", map[string]any{"group": map[string]any{"name": "Nope"}}},
		{"PUT", "/api/v2/account/settings", map[string]any{"settings": map[string]any{"user": map[string]any{"multiple_organizations": true}}}},
		{"GET", "/api/v2/incremental/users/cursor?start_time=0", nil},
	}
	for _, f := range forbidden {
		r := c.do(f.method, f.path, f.body)
		if r.status != 403 {
			t.Errorf("%s %s: status %d, want 403: %s", f.method, f.path, r.status, r.body)
			continue
		}
		m := r.json(t)
		if m["error"] != "Forbidden" || !strings.Contains(fmt.Sprint(m["description"]), "You do not have access") {
			t.Errorf("%s %s: body %s", f.method, f.path, r.body)
		}
	}
	// Agents may create end-users.
	c.must(201, "POST", "/api/v2/users", map[string]any{"user": map[string]any{"name": "Cust Omer", "email": "cust@example.com"}})
}

func TestStatsAndRequestLog(t *testing.T) {
	t.Parallel()
	s := newServer(t, WithRequestLog(3))
	c := admin(t, s)
	for i := 0; i < 2; i++ {
		c.must(200, "GET", fmt.Sprintf("/api/v2/users/%d.json", s.OwnerID()), nil)
	}
	c.must(200, "GET", "/api/v2/groups?page[size]=1", nil)
	c.must(201, "POST", "/api/v2/groups.json", map[string]any{"group": map[string]any{"name": "Logged"}})
	(&client{t: t, s: s, skipRecord: true}).do("GET", "/api/v2/nowhere", nil)
	st := s.Stats()
	want := map[string]int{"GET /api/v2/users/{id}": 2, "GET /api/v2/groups": 1, "POST /api/v2/groups": 1, "GET (unknown)": 1}
	for k, v := range want {
		if st.Requests[k] != v {
			t.Errorf("Requests[%q] = %d, want %d (all: %v)", k, st.Requests[k], v, st.Requests)
		}
	}
	if st.Total != 5 {
		t.Errorf("Total = %d, want 5", st.Total)
	}
	log := s.RequestLog()
	if len(log) != 3 {
		t.Fatalf("log has %d entries, want 3 (capped)", len(log))
	}
	if log[1].Method != "POST" || log[1].Status != 201 || !strings.Contains(string(log[1].Body), "Logged") {
		t.Errorf("log[1] = %+v", log[1])
	}
	if log[0].Query != "page[size]=1" {
		t.Errorf("log[0].Query = %q", log[0].Query)
	}
	s.ResetStats()
	if st := s.Stats(); st.Total != 0 || len(s.RequestLog()) != 0 {
		t.Errorf("after reset: %+v", st)
	}
}

func TestCredentialsRedacted(t *testing.T) {
	t.Parallel()
	cr := Credentials{Subdomain: "acme", AdminEmail: "a@acme.example", APIToken: "tok-SECRET", OAuthClientID: "cid", OAuthClientSecret: "sec-SECRET"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		out := fmt.Sprintf(verb, cr)
		if strings.Contains(out, "SECRET") {
			t.Errorf("%s leaks a secret: %s", verb, out)
		}
	}
	if out := fmt.Sprintf("%v", &cr); strings.Contains(out, "SECRET") {
		t.Errorf("pointer leaks: %s", out)
	}
	if !strings.Contains(cr.String(), "acme") {
		t.Errorf("String hides non-secrets: %s", cr)
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	bad := map[string]Option{
		"negative rpm":      WithRateLimit(-1),
		"unknown plan":      WithPlan("gold"),
		"zero seats":        WithAgentSeats(0),
		"bad fault rate":    WithFaults(Faults{Rate: 2}),
		"negative latency":  WithLatency(-time.Second),
		"zero ttl":          WithTokenTTL(0),
		"nil clock":         WithClock(nil),
		"bad subdomain":     WithCredentials(Credentials{Subdomain: "Not Valid"}),
		"bad account":       WithAccount(AccountSpec{EndUsers: -1}),
		"incremental zero":  WithIncrementalRateLimit(0),
		"bad org mode":      WithSingleOrganizationMode(7),
		"negative log size": WithRequestLog(-1),
	}
	for name, opt := range bad {
		if s, err := NewServer(opt); err == nil {
			s.Close()
			t.Errorf("%s: NewServer succeeded", name)
		}
	}
	if s, err := NewServer(WithPlan(PlanTeam), WithMultipleOrganizations(true)); err == nil {
		s.Close()
		t.Error("multiple organizations on Team: NewServer succeeded")
	}
	if s, err := NewServer(WithPlan(PlanGrowth), WithAccount(AccountSpec{CustomRoles: 1})); err == nil {
		s.Close()
		t.Error("custom roles on Growth: NewServer succeeded")
	}
	s := newServer(t, WithCredentials(Credentials{Subdomain: "acme", AdminEmail: "boss@acme.example", APIToken: "t0k"}))
	if cr := s.Credentials(); cr.Subdomain != "acme" || cr.APIToken != "t0k" || cr.OAuthClientSecret == "" {
		t.Errorf("credentials: %#v", cr)
	}
	if u, ok := s.UserByEmail("boss@acme.example"); !ok || !u.Owner {
		t.Errorf("owner email not applied: %+v", u)
	}
}

func TestHandlerEmbedding(t *testing.T) {
	t.Parallel()
	s, err := New(WithAccount(DemoAccount()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.URL != "" {
		t.Errorf("New sets URL %q", s.URL)
	}
	mux := http.NewServeMux()
	mux.Handle("/", s.Handler())
	srv := newHTTPServer(t, mux)
	cr := s.Credentials()
	req, _ := http.NewRequest("GET", srv+"/api/v2/groups?page[size]=2", nil)
	req.Header.Set("Authorization", basicToken(cr.AdminEmail, cr.APIToken))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}
