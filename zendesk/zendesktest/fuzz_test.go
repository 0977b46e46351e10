package zendesktest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzServe sends arbitrary methods, paths, queries and bodies as the owner
// and checks that the simulator never panics and always answers JSON with a
// sensible status.
func FuzzServe(f *testing.F) {
	seeds := []struct{ method, target, body string }{
		{"GET", "/api/v2/users.json?page[size]=2", ""},
		{"POST", "/api/v2/users", `{"user":{"name":"A","email":"a@b.c","role":"agent"}}`},
		{"PUT", "/api/v2/users/10000000002", `{"user":{"organization_id":30000000001,"default_group_id":"20000000002"}}`},
		{"POST", "/api/v2/group_memberships/create_many", `{"group_memberships":[{"user_id":10000000001,"group_id":20000000003}]}`},
		{"DELETE", "/api/v2/organization_memberships/destroy_many?ids=50000000001,x", ""},
		{"GET", "/api/v2/incremental/users/cursor?cursor=emkxOjM=", ""},
		{"GET", "/api/v2/users?page[before]=enMxOjEwMDAwMDAwMDEw", ""},
		{"PUT", "/api/v2/account/settings", `{"settings":{"user":null}}`},
		{"POST", "/api/v2/organizations", `{"organization":{"name":"\u2028x","tags":[1]}}`},
		{"GET", "/api/v2/job_statuses/show_many?ids=,,", ""},
		{"POST", "/oauth/tokens", `{"grant_type":"refresh_token","refresh_token":null}`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.body)
	}
	s, err := New(WithAccount(DemoAccount()), WithoutRateLimit(), WithRequestLog(10), WithJobDelay(0))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(s.Close)
	cr := s.Credentials()
	authz := basicToken(cr.AdminEmail, cr.APIToken)
	f.Fuzz(func(t *testing.T, method, target, body string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n#") || len(method) == 0 || strings.ContainsAny(method, " \r\n\t()<>@,;:\\\"/[]?={}") {
			t.Skip()
		}
		req, err := http.NewRequest(method, "http://sim.test"+target, strings.NewReader(body))
		if err != nil {
			t.Skip()
		}
		req.Header.Set("Authorization", authz)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code >= 600 || rec.Code >= 500 {
			t.Fatalf("%s %s %q: status %d %s", method, target, body, rec.Code, rec.Body)
		}
		if rec.Code != http.StatusNoContent && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: invalid JSON %q", method, target, rec.Body)
		}
	})
}
