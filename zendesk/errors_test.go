package zendesk

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestNewAPIErrorShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   APIError
		is     []error
	}{
		{"string error", 404, `{"error":"RecordNotFound","description":"Not found"}`,
			APIError{StatusCode: 404, Code: "RecordNotFound", Description: "Not found"}, []error{ErrNotFound}},
		{"object error", 404, `{"error":{"title":"No help desk at x.zendesk.com","message":"There is no help desk configured"}}`,
			APIError{StatusCode: 404, Title: "No help desk at x.zendesk.com", Description: "There is no help desk configured"}, []error{ErrNotFound}},
		{"record invalid duplicate", 422, `{"error":"RecordInvalid","description":"Record validation errors","details":{"user_id":[{"description":" This user is already a member of this organization.","error":"DuplicateValue"}]}}`,
			APIError{StatusCode: 422, Code: "RecordInvalid", Description: "Record validation errors", Details: map[string][]ErrorDetail{"user_id": {{Error: "DuplicateValue", Description: " This user is already a member of this organization."}}}},
			[]error{ErrDuplicate, ErrInvalid}},
		{"older detail shape", 422, `{"error":"RecordInvalid","details":{"email":[{"type":"DuplicateValue","description":"Email is already being used"}]}}`,
			APIError{StatusCode: 422, Code: "RecordInvalid", Details: map[string][]ErrorDetail{"email": {{Type: "DuplicateValue", Description: "Email is already being used"}}}},
			[]error{ErrDuplicate, ErrInvalid}},
		{"json api errors", 429, `{"errors":[{"code":"TooManyRequests","title":"Too many requests to update"}]}`,
			APIError{StatusCode: 429, Code: "TooManyRequests", Errors: []ErrorItem{{Code: "TooManyRequests", Title: "Too many requests to update"}}}, []error{ErrRateLimited}},
		{"oauth", 401, `{"error":"invalid_token","error_description":"The access token provided is expired"}`,
			APIError{StatusCode: 401, Code: "invalid_token", Description: "The access token provided is expired"}, []error{ErrUnauthorized}},
		{"html", 503, "<html><head><title>Service Unavailable</title></head><body>x</body></html>",
			APIError{StatusCode: 503, Body: "Service Unavailable"}, nil},
		{"html no title", 502, "<html><body><h1>Bad   Gateway</h1></body></html>",
			APIError{StatusCode: 502, Body: "Bad Gateway"}, nil},
		{"plain text", 429, "Rate limit for ticket updates exceeded, please wait",
			APIError{StatusCode: 429, Body: "Rate limit for ticket updates exceeded, please wait"}, []error{ErrRateLimited}},
		{"empty", 403, "", APIError{StatusCode: 403}, []error{ErrForbidden}},
		{"forbidden", 403, `{"error":"Forbidden"}`, APIError{StatusCode: 403, Code: "Forbidden"}, []error{ErrForbidden}},
		// A field of an unexpected type must not cost the rest of the error.
		{"json api numeric status", 429, `{"errors":[{"code":"RateLimitExceeded","title":"Too many requests","status":429}]}`,
			APIError{StatusCode: 429, Code: "RateLimitExceeded", Errors: []ErrorItem{{Code: "RateLimitExceeded", Title: "Too many requests"}}}, []error{ErrRateLimited}},
		{"details not a list", 422, `{"error":"RecordInvalid","description":"Record validation errors","details":"Seat limit reached"}`,
			APIError{StatusCode: 422, Code: "RecordInvalid", Description: "Record validation errors"}, []error{ErrInvalid}},
		{"json array", 500, `[1,2]`, APIError{StatusCode: 500, Body: "[1,2]"}, nil},
		{"broken json", 500, `{"error":`, APIError{StatusCode: 500, Body: `{"error":`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest("GET", "https://x.zendesk.com/api/v2/users/1?query=secret", nil)
			resp := &http.Response{StatusCode: tt.status, Header: http.Header{"X-Zendesk-Request-Id": {"req-1"}}, Body: io.NopCloser(strings.NewReader(tt.body)), Request: req}
			got := newAPIError(resp)
			tt.want.Method, tt.want.Path, tt.want.RequestID = "GET", "/api/v2/users/1", "req-1"
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
			for _, target := range tt.is {
				if !errors.Is(got, target) {
					t.Errorf("errors.Is(%v, %v) = false", got, target)
				}
			}
			if strings.Contains(got.Error(), "query=secret") {
				t.Errorf("Error() repeats the query: %s", got.Error())
			}
			if !strings.Contains(got.Error(), "req-1") {
				t.Errorf("Error() lacks the request id: %s", got.Error())
			}
		})
	}
}

func TestErrorBodyIsCapped(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", 10<<20)
	resp := &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(big)), Request: &http.Request{Method: "GET", URL: &url.URL{Path: "/p"}}}
	got := newAPIError(resp)
	if len(got.Body) > maxErrorText+4 {
		t.Errorf("Body has %d bytes, want at most %d", len(got.Body), maxErrorText)
	}
	rest, _ := io.ReadAll(resp.Body)
	if len(rest) != len(big)-maxErrorBody {
		t.Errorf("read %d bytes of the body, want exactly the %d-byte cap", len(big)-len(rest), maxErrorBody)
	}
}

func FuzzDecodeErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"error":"RecordNotFound","description":"Not found"}`,
		`{"error":{"title":"t","message":"m"}}`,
		`{"errors":[{"code":"c","title":"t"}]}`,
		`{"error":"RecordInvalid","details":{"f":[{"error":"DuplicateValue"}]}}`,
		`<html><title>x</title></html>`, ``, `null`, `{"details":{"a":null}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e := &APIError{StatusCode: 422, Method: "GET", Path: "/p"}
		decodeErrorBody(e, body)
		_ = e.Error()
		_ = errors.Is(e, ErrDuplicate)
		if len(e.Body) > maxErrorText+4 {
			t.Fatalf("Body not capped: %d bytes", len(e.Body))
		}
	})
}

func FuzzDecodePage(f *testing.F) {
	for _, s := range []string{
		`{"users":[{"id":1}],"meta":{"has_more":true,"after_cursor":"a"},"links":{"next":"https://x/y"}}`,
		`{"users":[],"next_page":null,"count":0}`,
		`{"users":[{"id":1}],"after_url":"u","end_of_stream":false}`,
		`{"users":null}`, `[]`, `{}`, `{"users":[{"id":"x"}]}`, `{"users":[]} trailing`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodePage[User](body, "users")
		if err == nil && p == nil {
			t.Fatal("nil page without error")
		}
	})
}

func TestDecodePage(t *testing.T) {
	t.Parallel()
	p, err := decodePage[User]([]byte(`{"count":2,"users":[{"id":1},{"id":2}],"extra":{"a":[1,2]},"meta":{"has_more":true,"after_cursor":"c"},"links":{"next":"n","prev":null},"next_page":null}`), "users")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 2 || !p.Meta.HasMore || p.Meta.AfterCursor != "c" || p.Links.Next != "n" || p.Count != 2 {
		t.Errorf("page = %+v", p)
	}
	for _, bad := range []string{`[]`, `{}`, `{"users":[]} {}`, `{"users":[{"id":"x"}]}`, `{"users":`} {
		if _, err := decodePage[User]([]byte(bad), "users"); err == nil {
			t.Errorf("decodePage(%s): want error", bad)
		}
	}
}
