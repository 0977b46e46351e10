package zendesk

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAccountSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		settings  string
		wantMulti bool
	}{
		{"multiple organizations on", `{"user":{"multiple_organizations":true,"tagging":true,"time_zone_selection":true},"brands":{"default_brand_id":1873}}`, true},
		{"multiple organizations off", `{"user":{"multiple_organizations":false,"tagging":false},"brands":{"default_brand_id":1873}}`, false},
		{"no user section", `{"brands":{"default_brand_id":1873}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			mux.HandleFunc("/api/v2/account/settings", func(w http.ResponseWriter, r *http.Request) {
				testMethod(t, r, "GET")
				testQuery(t, r, nil)
				testNoBody(t, r)
				writeJSON(w, 200, `{"settings":`+tt.settings+`}`)
			})
			s, resp, err := c.Account.Settings(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 {
				t.Errorf("status = %d", resp.StatusCode)
			}
			if s.User.MultipleOrganizations != tt.wantMulti {
				t.Errorf("MultipleOrganizations = %v, want %v", s.User.MultipleOrganizations, tt.wantMulti)
			}
			// Raw holds the whole settings object, for settings the type does not model.
			var got, want any
			if err := json.Unmarshal(s.Raw, &got); err != nil {
				t.Fatalf("Raw %q: %v", s.Raw, err)
			}
			_ = json.Unmarshal([]byte(tt.settings), &want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Raw (-want +got):\n%s", diff)
			}
			var brands struct {
				Brands struct {
					DefaultBrandID int64 `json:"default_brand_id"`
				} `json:"brands"`
			}
			if err := json.Unmarshal(s.Raw, &brands); err != nil || brands.Brands.DefaultBrandID != 1873 {
				t.Errorf("brands from Raw = %+v, %v", brands, err)
			}
		})
	}
}

func TestAccountSettingsMissing(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{}`, `{"settings":null}`, `{"settings":[]}`} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			mux.HandleFunc("/api/v2/account/settings", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, body)
			})
			s, _, err := c.Account.Settings(t.Context())
			var decErr *DecodeError
			if !errors.As(err, &decErr) || s != nil {
				t.Errorf("Settings = %+v, %v; want a *DecodeError", s, err)
			}
		})
	}
}

// roundTripFunc is a base transport written inline; like many hand-written transports, it
// leaves Response.Request unset.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestAccountSettingsMissingWithBareResponse: a response without Request (which
// http.RoundTripper does not promise) must give a *DecodeError, not a nil dereference.
func TestAccountSettingsMissingWithBareResponse(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{}`, `{"settings":"not an object"}`} {
		rt := roundTripFunc(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(body))}, nil
		})
		c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: rt}), WithAPIToken(testEmail, testToken))
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = c.Account.Settings(t.Context())
		var de *DecodeError
		if !errors.As(err, &de) || de.Path != "/api/v2/account/settings" {
			t.Errorf("body %s: err = %v, want *DecodeError for /api/v2/account/settings", body, err)
		}
	}
	rt := roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 404, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"error":"RecordNotFound"}`))}, nil
	})
	c, err := NewClient("example", WithHTTPClient(&http.Client{Transport: rt}), WithAPIToken(testEmail, testToken))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = c.Account.Settings(t.Context())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Method != "GET" || apiErr.Path != "/api/v2/account/settings" {
		t.Errorf("err = %v, want an *APIError naming GET /api/v2/account/settings", err)
	}
}
