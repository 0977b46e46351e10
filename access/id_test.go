package access_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zgov-io/zgov/access"
)

func TestParseResourceID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    access.ResourceRef
		wantErr string
	}{
		{in: "user:1", want: access.ResourceRef{Type: "user", ID: "1"}},
		{in: "custom_role:360001", want: access.ResourceRef{Type: "custom_role", ID: "360001"}},
		{in: "role:end-user", want: access.ResourceRef{Type: "role", ID: "end-user"}},
		{in: "user:ann%40example.com", want: access.ResourceRef{Type: "user", ID: "ann%40example.com"}},
		{in: "user:Ünïcode", want: access.ResourceRef{Type: "user", ID: "Ünïcode"}},
		{in: "", wantErr: "missing ':'"},
		{in: "user", wantErr: "missing ':'"},
		{in: "user:", wantErr: "id is empty"},
		{in: ":1", wantErr: "type is empty"},
		{in: "User:1", wantErr: "type must match"},
		{in: "1user:1", wantErr: "type must match"},
		{in: "user-x:1", wantErr: "type must match"},
		{in: "user:1:2", wantErr: "contains ':'"},
		{in: "user:a@b", wantErr: "contains '@'"},
		{in: "user:a b", wantErr: "white space"},
		{in: "user:a\x00", wantErr: "control"},
		{in: "user:\xff", wantErr: "UTF-8"},
		{in: "user:" + strings.Repeat("9", 257), wantErr: "longer than 256"},
		{in: strings.Repeat("u", 65) + ":1", wantErr: "longer than 64"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := access.ParseResourceID(tc.in)
			checkParse(t, tc.in, got, tc.want, err, tc.wantErr)
			if err == nil && got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func TestParseEntitlementID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    access.EntitlementRef
		wantErr string
	}{
		{in: "group:1:member", want: access.EntitlementRef{Resource: access.ResourceRef{Type: "group", ID: "1"}, Slug: "member"}},
		{in: "role:agent:assigned-to", want: access.EntitlementRef{Resource: access.ResourceRef{Type: "role", ID: "agent"}, Slug: "assigned-to"}},
		{in: "group:1", wantErr: `want "type:id:slug"`},
		{in: "group:1:member:x", wantErr: `want "type:id:slug"`},
		{in: "group:1:", wantErr: "slug is empty"},
		{in: "group:1:Member", wantErr: "slug must match"},
		{in: "group::member", wantErr: "id is empty"},
		{in: "group:1:member@user:1", wantErr: `want "type:id:slug"`},
		{in: "group:1:mem@ber", wantErr: "slug must match"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := access.ParseEntitlementID(tc.in)
			checkParse(t, tc.in, got, tc.want, err, tc.wantErr)
			if err == nil && got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func TestParseGrantID(t *testing.T) {
	t.Parallel()
	group1 := access.EntitlementRef{Resource: access.ResourceRef{Type: "group", ID: "1"}, Slug: "member"}
	tests := []struct {
		in      string
		want    access.GrantRef
		wantErr string
	}{
		{in: "group:1:member@user:2", want: access.GrantRef{Entitlement: group1, Principal: access.ResourceRef{Type: "user", ID: "2"}}},
		{in: "group:1:member", wantErr: "exactly one '@'"},
		{in: "group:1:member@user:2@x", wantErr: "exactly one '@'"},
		{in: "group:1@user:2", wantErr: "entitlement: want"},
		{in: "group:1:member@user", wantErr: "principal: want"},
		{in: "@", wantErr: "entitlement:"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := access.ParseGrantID(tc.in)
			checkParse(t, tc.in, got, tc.want, err, tc.wantErr)
			if err == nil && got.String() != tc.in {
				t.Errorf("String() = %q, want %q", got.String(), tc.in)
			}
		})
	}
}

func checkParse[T any](t *testing.T, in string, got, want T, err error, wantErr string) {
	t.Helper()
	if wantErr != "" {
		var idErr *access.IDError
		if !errors.As(err, &idErr) || !errors.Is(err, access.ErrMalformedID) {
			t.Fatalf("parse %q: error = %v, want an *IDError wrapping ErrMalformedID", in, err)
		}
		if !strings.Contains(err.Error(), wantErr) {
			t.Errorf("parse %q: error = %q, want it to contain %q", in, err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatalf("parse %q: %v", in, err)
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("parse %q (-want +got):\n%s", in, d)
	}
}

func TestBuildIDs(t *testing.T) {
	t.Parallel()
	r := access.ResourceID("group", "7")
	e := access.EntitlementID(r, "member")
	g := access.GrantID(e, access.ResourceID("user", "9"))
	if d := cmp.Diff([]string{"group:7", "group:7:member", "group:7:member@user:9"}, []string{r, e, g}); d != "" {
		t.Errorf("IDs (-want +got):\n%s", d)
	}
}

func TestEscapeNativeID(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"12345", "12345"},
		{"ann@example.com", "ann%40example.com"},
		{"cn=a b,dc=x", "cn=a%20b,dc=x"},
		{"a:b%c", "a%3Ab%25c"},
		{"é", "%C3%A9"},
		{"", ""},
	}
	for _, tc := range tests {
		got := access.EscapeNativeID(tc.in)
		if got != tc.want {
			t.Errorf("EscapeNativeID(%q) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := access.UnescapeNativeID(got)
		if err != nil || back != tc.in {
			t.Errorf("UnescapeNativeID(%q) = %q, %v; want %q", got, back, err, tc.in)
		}
		if tc.in != "" {
			if _, err := access.ParseResourceID("user:" + got); err != nil {
				t.Errorf("escaped %q is not a valid ID segment: %v", tc.in, err)
			}
		}
	}
	for _, bad := range []string{"%", "%4", "%zz", "a%4g"} {
		if _, err := access.UnescapeNativeID(bad); !errors.Is(err, access.ErrMalformedID) {
			t.Errorf("UnescapeNativeID(%q) error = %v, want ErrMalformedID", bad, err)
		}
	}
}

func FuzzParseGrantID(f *testing.F) {
	for _, s := range []string{"group:1:member@user:2", "a:b:c@d:e", "@", "::@::", "user:\xff", "role:end-user:assigned@user:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := access.ParseGrantID(s)
		if err != nil {
			if !errors.Is(err, access.ErrMalformedID) {
				t.Fatalf("error %v does not wrap ErrMalformedID", err)
			}
			return
		}
		if g.String() != s {
			t.Fatalf("round trip: %q -> %q", s, g.String())
		}
		if _, err := access.ParseEntitlementID(g.Entitlement.String()); err != nil {
			t.Fatalf("entitlement part of valid grant: %v", err)
		}
		if _, err := access.ParseResourceID(g.Principal.String()); err != nil {
			t.Fatalf("principal part of valid grant: %v", err)
		}
	})
}

func FuzzEscapeNativeID(f *testing.F) {
	for _, s := range []string{"", "a", "a@b:c", "%", "\xff", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := access.EscapeNativeID(s)
		back, err := access.UnescapeNativeID(e)
		if err != nil || back != s {
			t.Fatalf("round trip %q -> %q -> %q, %v", s, e, back, err)
		}
		if s != "" && len(e) <= access.MaxNativeIDLen {
			if _, err := access.ParseResourceID("x:" + e); err != nil {
				t.Fatalf("escaped %q invalid: %v", s, err)
			}
		}
		access.UnescapeNativeID(s) // must not panic
	})
}

func TestCanonicalEscapes(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"user:a%2fb", "user:%41", "user:%2", "user:%zz", "user:x%7e"} {
		if _, err := access.ParseResourceID(id); !errors.Is(err, access.ErrMalformedID) {
			t.Errorf("access.ParseResourceID(%q) error = %v, want access.ErrMalformedID", id, err)
		}
	}
	for _, id := range []string{"user:a%2Fb", "user:" + access.EscapeNativeID("jo@example.com"), "user:42"} {
		if _, err := access.ParseResourceID(id); err != nil {
			t.Errorf("access.ParseResourceID(%q): %v", id, err)
		}
	}
}

func TestIDSyntax(t *testing.T) {
	t.Parallel()
	num := access.ResourceType{ID: "user", IDSyntax: access.IDSyntaxPositiveInt}
	for id, ok := range map[string]bool{
		"user:1": true, "user:9223372036854775807": true,
		"user:0": false, "user:01": false, "user:+1": false, "user:-1": false, "user:1e3": false,
		"user:9223372036854775808": false, "group:1": false,
	} {
		if err := num.CheckID(id); (err == nil) != ok {
			t.Errorf("positive_int CheckID(%q) = %v, want ok %v", id, err, ok)
		}
	}
	esc := access.ResourceType{ID: "person", IDSyntax: access.IDSyntaxEscaped}
	for id, ok := range map[string]bool{
		"person:a%2Fb": true, "person:a/b": false, "person:jos%C3%A9": true, "person:josé": false,
	} {
		if err := esc.CheckID(id); (err == nil) != ok {
			t.Errorf("escaped CheckID(%q) = %v, want ok %v", id, err, ok)
		}
	}
	if _, ok := access.ParsePositiveInt("007"); ok {
		t.Error(`access.ParsePositiveInt("007") accepted a leading zero`)
	}
}
