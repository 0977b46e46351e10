package zendesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// maxErrorBody caps how much of an error response is read. Zendesk error bodies are
// small; anything larger is an HTML page or a proxy's output and is cut.
const maxErrorBody = 64 << 10

// maxErrorText caps how much of a non-JSON body is kept in an APIError.
const maxErrorText = 512

// Sentinel errors that APIError matches with errors.Is, so callers can branch without
// inspecting status codes.
var (
	// ErrNotFound matches a 404 (Zendesk's RecordNotFound).
	ErrNotFound = errors.New("zendesk: not found")
	// ErrDuplicate matches a 422 whose details carry DuplicateValue (or the "already a
	// member" wording Zendesk uses for memberships).
	ErrDuplicate = errors.New("zendesk: duplicate value")
	// ErrForbidden matches a 403.
	ErrForbidden = errors.New("zendesk: forbidden")
	// ErrUnauthorized matches a 401.
	ErrUnauthorized = errors.New("zendesk: unauthorized")
	// ErrRateLimited matches a 429 (returned as *RateLimitError, which also covers a
	// 503 with a Retry-After).
	ErrRateLimited = errors.New("zendesk: rate limited")
	// ErrInvalid matches a 422 RecordInvalid of any kind.
	ErrInvalid = errors.New("zendesk: record invalid")
	// ErrHostNotFound matches a call that failed because DNS answered that Zendesk's host
	// (or the WithBaseURL host) does not exist: a mistyped subdomain, or a network whose
	// DNS resolves nothing. Such calls, and OAuth token fetches, fail at once without
	// retries, since asking again gets the same answer; the *net.DNSError stays in the
	// chain for errors.As. Temporary DNS failures (timeouts) are retried like other
	// transport errors and do not match.
	ErrHostNotFound = errors.New("zendesk: host not found")
)

// APIError is a non-2xx answer from Zendesk, decoded from whichever of Zendesk's error
// shapes the body used: {"error":"Code","description":...,"details":{...}},
// {"error":{"title":...,"message":...}}, {"errors":[{"code","title","detail"}]}, an
// OAuth error {"error":"invalid_token","error_description":...}, or plain text and HTML.
type APIError struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Method and Path identify the request (path only: queries are not repeated).
	Method, Path string
	// Code is Zendesk's error code: "RecordNotFound", "RecordInvalid", "Forbidden",
	// "invalid_token", the first code of an "errors" list, or "" for non-JSON bodies.
	Code string
	// Title is the title of an object-shaped error (e.g. "No help desk at x.zendesk.com").
	Title string
	// Description is the human-readable explanation, when Zendesk sent one.
	Description string
	// Details maps a field name to its validation failures (422 RecordInvalid).
	Details map[string][]ErrorDetail
	// Errors holds the items of a JSON:API style {"errors":[...]} body.
	Errors []ErrorItem
	// RequestID is X-Zendesk-Request-Id (or X-Request-Id); quote it to Zendesk support.
	RequestID string
	// Body is the start of a non-JSON body (HTML or plain text), trimmed; empty for JSON.
	Body string
}

// ErrorDetail is one validation failure for a field of a 422 RecordInvalid.
type ErrorDetail struct {
	// Error is the machine code, e.g. "DuplicateValue" or "ValueTooShort".
	Error string `json:"error,omitempty"`
	// Type is the older spelling of Error that some endpoints still send.
	Type string `json:"type,omitempty"`
	// Description is the human-readable message.
	Description string `json:"description,omitempty"`
}

// ErrorItem is one entry of a JSON:API style {"errors":[...]} body.
type ErrorItem struct {
	Code   string `json:"code,omitempty"`
	Title  string `json:"title,omitempty"`
	Detail string `json:"detail,omitempty"`
	Status string `json:"status,omitempty"`
}

// Error renders the error with what was requested and what Zendesk said.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "zendesk: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	msg := e.Description
	if msg == "" {
		msg = e.Title
	}
	if msg == "" && len(e.Errors) > 0 {
		msg = firstNonEmpty(e.Errors[0].Title, e.Errors[0].Detail)
	}
	if msg == "" {
		msg = e.Body
	}
	if msg != "" {
		b.WriteString(": " + msg)
	}
	for _, field := range sortedKeys(e.Details) {
		for _, d := range e.Details[field] {
			fmt.Fprintf(&b, "; %s: %s", field, strings.TrimSpace(firstNonEmpty(d.Description, d.Error, d.Type)))
		}
	}
	if e.RequestID != "" {
		b.WriteString(" (request id " + e.RequestID + ")")
	}
	return b.String()
}

// Is reports whether the error matches one of the package's sentinel errors.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrInvalid:
		return e.StatusCode == http.StatusUnprocessableEntity
	case ErrDuplicate:
		return e.isDuplicate()
	}
	return false
}

// ErrorClass classifies the error for machines (journals, metrics):
// "duplicate", "rate_limited", "unauthorized", "forbidden", "not_found",
// "invalid" (422) or "zendesk_api" for any other answer. It lets code that
// does not import this package (access, provision) record what failed,
// through an interface of its own.
func (e *APIError) ErrorClass() string {
	switch {
	case e.isDuplicate():
		return "duplicate"
	case e.StatusCode == http.StatusTooManyRequests:
		return "rate_limited"
	case e.StatusCode == http.StatusUnauthorized:
		return "unauthorized"
	case e.StatusCode == http.StatusForbidden:
		return "forbidden"
	case e.StatusCode == http.StatusNotFound:
		return "not_found"
	case e.StatusCode == http.StatusUnprocessableEntity:
		return "invalid"
	}
	return "zendesk_api"
}

// TraceID returns RequestID: the id to quote to Zendesk support.
func (e *APIError) TraceID() string { return e.RequestID }

// HasDetail reports whether any field's validation failures carry the given code.
func (e *APIError) HasDetail(code string) bool {
	for _, ds := range e.Details {
		for _, d := range ds {
			if d.Error == code || d.Type == code {
				return true
			}
		}
	}
	return false
}

func (e *APIError) isDuplicate() bool {
	if e.StatusCode != http.StatusUnprocessableEntity && e.StatusCode != http.StatusConflict {
		return false
	}
	if e.HasDetail("DuplicateValue") || e.Code == "DuplicateValue" {
		return true
	}
	for _, ds := range e.Details {
		for _, d := range ds {
			if strings.Contains(strings.ToLower(d.Description), "already a member") {
				return true
			}
		}
	}
	return false
}

// RateLimitError is an answer that asked the caller to wait and was not retried, either
// because the retries ran out or because the wait exceeded the client's Retry-After cap
// (WithRetryAfterCap): every 429, and a 503 that carried a Retry-After (Zendesk's
// answer to a database timeout). StatusCode in the embedded APIError tells them apart;
// errors.Is(err, ErrRateLimited) matches the 429s only. It unwraps to the *APIError, so
// errors.As finds either type.
type RateLimitError struct {
	*APIError
	// RetryAfter is how long Zendesk asked the caller to wait (0 if it did not say). A
	// wait too long for a time.Duration is the longest one.
	RetryAfter time.Duration
}

// Error renders the error with the wait Zendesk asked for.
func (e *RateLimitError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s (retry after %s)", e.APIError.Error(), e.RetryAfter)
	}
	return e.APIError.Error()
}

// Unwrap exposes the APIError, so errors.As(err, &apiErr) works on rate-limit errors too.
func (e *RateLimitError) Unwrap() error { return e.APIError }

// ErrorClass returns "rate_limited", for a 429 and a 503 with Retry-After alike.
func (e *RateLimitError) ErrorClass() string { return "rate_limited" }

// DecodeError reports a 2xx response whose body could not be decoded: malformed or
// truncated JSON, or JSON of the wrong shape.
type DecodeError struct {
	Method, Path string
	StatusCode   int
	RequestID    string
	Err          error
}

// Error names the request and the decoding failure.
func (e *DecodeError) Error() string {
	s := fmt.Sprintf("zendesk: %s %s: %d: decode response: %v", e.Method, e.Path, e.StatusCode, e.Err)
	if e.RequestID != "" {
		s += " (request id " + e.RequestID + ")"
	}
	return s
}

// Unwrap returns the underlying decoding error.
func (e *DecodeError) Unwrap() error { return e.Err }

// ErrorClass returns "zendesk_decode": an answer that could not be read.
func (e *DecodeError) ErrorClass() string { return "zendesk_decode" }

// TraceID returns RequestID.
func (e *DecodeError) TraceID() string { return e.RequestID }

// hostNotFoundError is a transport failure whose cause is a DNS answer that the host does
// not exist. It matches ErrHostNotFound and unwraps to the transport error.
type hostNotFoundError struct {
	host string
	err  error
}

func (e *hostNotFoundError) Error() string {
	return fmt.Sprintf("host %s not found (no DNS record: check the subdomain or base URL, and the network's DNS); not retried: %v", e.host, e.err)
}

func (e *hostNotFoundError) Unwrap() []error { return []error{ErrHostNotFound, e.err} }

// hostNotFound reports whether err says that a host name does not resolve.
func hostNotFound(err error) bool {
	if errors.Is(err, ErrHostNotFound) {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// classifyHostNotFound wraps err as a hostNotFoundError for host when it says the host
// does not resolve and is not already so wrapped; other errors are returned as they are.
func classifyHostNotFound(err error, host string) error {
	if err == nil || errors.Is(err, ErrHostNotFound) || !hostNotFound(err) {
		return err
	}
	return &hostNotFoundError{host: host, err: err}
}

// IsNotFound reports whether err is (or wraps) a 404 from Zendesk.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsDuplicate reports whether err is (or wraps) Zendesk's refusal of a duplicate, such as
// a membership that already exists.
func IsDuplicate(err error) bool { return errors.Is(err, ErrDuplicate) }

// IsRateLimited reports whether err is (or wraps) a 429 from Zendesk.
func IsRateLimited(err error) bool { return errors.Is(err, ErrRateLimited) }

// errorBody is the union of the JSON error shapes Zendesk sends.
type errorBody struct {
	Error            json.RawMessage          `json:"error"`
	Description      string                   `json:"description"`
	ErrorDescription string                   `json:"error_description"`
	Details          map[string][]ErrorDetail `json:"details"`
	Errors           []ErrorItem              `json:"errors"`
	Message          string                   `json:"message"`
}

// newAPIError builds an APIError from a response, reading at most maxErrorBody bytes of
// its body. It never fails: what cannot be decoded is kept as text.
func newAPIError(resp *http.Response) *APIError {
	e := &APIError{StatusCode: resp.StatusCode, RequestID: requestID(resp.Header)}
	if resp.Request != nil {
		e.Method = resp.Request.Method
		e.Path = resp.Request.URL.Path
	}
	var body []byte
	if resp.Body != nil {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	}
	decodeErrorBody(e, body)
	return e
}

// decodeErrorBody fills e from body in whichever shape it has.
func decodeErrorBody(e *APIError, body []byte) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return
	}
	var eb errorBody
	if trimmed[0] != '{' {
		e.Body = textOf(trimmed)
		return
	}
	if err := json.Unmarshal(trimmed, &eb); err != nil {
		// A field of an unexpected type (a numeric "status", a "details" string) is
		// skipped by Unmarshal, which still fills the others: keep those.
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			e.Body = textOf(trimmed)
			return
		}
	}
	e.Description = firstNonEmpty(eb.Description, eb.ErrorDescription, eb.Message)
	e.Details = eb.Details
	e.Errors = eb.Errors
	if len(eb.Error) > 0 {
		var code string
		var obj struct {
			Title   string `json:"title"`
			Message string `json:"message"`
		}
		switch {
		case json.Unmarshal(eb.Error, &code) == nil:
			e.Code = code
		case json.Unmarshal(eb.Error, &obj) == nil:
			e.Title = obj.Title
			e.Description = firstNonEmpty(e.Description, obj.Message)
		}
	}
	if e.Code == "" && len(eb.Errors) > 0 {
		e.Code = eb.Errors[0].Code
	}
}

// textOf reduces an HTML or plain-text body to a short single line.
func textOf(b []byte) string {
	s := string(b)
	if i := strings.Index(strings.ToLower(s), "<title>"); i >= 0 {
		rest := s[i+len("<title>"):]
		if j := strings.Index(strings.ToLower(rest), "</title>"); j >= 0 {
			s = rest[:j]
		}
	} else if strings.HasPrefix(s, "<") {
		s = stripTags(s)
	}
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxErrorText {
		s = s[:maxErrorText] + "…"
	}
	return strings.ToValidUTF8(s, "")
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func requestID(h http.Header) string {
	return firstNonEmpty(h.Get("X-Zendesk-Request-Id"), h.Get("X-Request-Id"))
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
