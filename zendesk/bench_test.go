package zendesk

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchPage is a page of 100 realistic users.
func benchPage() string {
	var b strings.Builder
	b.WriteString(`{"users":[`)
	for i := range 100 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"url":"https://acme.zendesk.com/api/v2/users/%d.json","name":"User %d","email":"user%d@example.com","created_at":"2024-01-02T03:04:05Z","updated_at":"2024-01-02T03:04:05Z","time_zone":"London","iana_time_zone":"Europe/London","phone":null,"shared_phone_number":null,"photo":null,"locale_id":1,"locale":"en-US","organization_id":%d,"role":"agent","verified":true,"external_id":null,"tags":["a","b"],"alias":"","active":true,"shared":false,"shared_agent":false,"last_login_at":"2024-05-06T07:08:09Z","two_factor_auth_enabled":true,"signature":"","details":"","notes":"","role_type":0,"custom_role_id":360001,"moderator":false,"ticket_restriction":null,"only_private_comments":false,"restricted_agent":false,"suspended":false,"default_group_id":7,"report_csv":false,"user_fields":{"dept":"x"}}`, i+1, i+1, i+1, i+1, 1000+i)
	}
	b.WriteString(`],"meta":{"has_more":false,"after_cursor":"x","before_cursor":"y"},"links":{"next":null,"prev":null}}`)
	return b.String()
}

// BenchmarkDecodeUsersPage measures decoding one page of 100 users.
func BenchmarkDecodeUsersPage(b *testing.B) {
	body := []byte(benchPage())
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodePage[User](body, "users"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkListUsersPage measures one list request end to end over loopback: the
// limiter, auth, retry and buffering layers, and decoding.
func BenchmarkListUsersPage(b *testing.B) {
	body := benchPage()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, body)
	}))
	defer srv.Close()
	c, err := NewClient("acme", WithBaseURL(srv.URL), WithAPIToken(testEmail, testToken), WithRateLimit(1<<30))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range c.Users.List(b.Context(), nil) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 100 {
			b.Fatalf("got %d users", n)
		}
	}
}
