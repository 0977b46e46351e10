// Package contract validates HTTP requests against Zendesk's official Support API
// OpenAPI document (a copy lives beside the repository at
// ../shared/zendesk-api/support-oas.yaml). The client's and the simulator's tests use it
// to prove that every request they send or serve is one the real API accepts.
package contract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// EnvDir names the environment variable that points at the folder holding Zendesk's API
// material (support-oas.yaml, FACTS.md, fixtures/). When it is unset, the folder is looked
// for as shared/zendesk-api beside the repository, walking up from the working directory.
const EnvDir = "ZGOV_ZENDESK_API_DIR"

// dirRelPath is where the API material sits relative to the directory that holds the
// repository.
const dirRelPath = "shared/zendesk-api"

// specName is the spec's file name inside the API folder.
const specName = "support-oas.yaml"

// specHost is the concrete server the loaded spec is pinned to; requests are rewritten
// to it before routing, whatever host they were sent to.
const specHost = "example.zendesk.com"

// Spec is a loaded OpenAPI document ready to validate requests.
type Spec struct {
	router routers.Router
}

// Dir returns the folder of Zendesk's API material: $ZGOV_ZENDESK_API_DIR when set, else
// ../shared/zendesk-api beside the repository, found by walking up from the working
// directory. It reports whether the folder exists.
func Dir() (string, bool) {
	if d := os.Getenv(EnvDir); d != "" {
		st, err := os.Stat(d)
		return filepath.Clean(d), err == nil && st.IsDir()
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, "..", dirRelPath)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return filepath.Clean(p), true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

// Find returns the path of support-oas.yaml in [Dir] and whether the file exists.
func Find() (string, bool) {
	dir, ok := Dir()
	if !ok {
		return "", false
	}
	p := filepath.Join(dir, specName)
	_, err := os.Stat(p)
	return p, err == nil
}

// FixturesDir returns the folder of real Zendesk payloads in [Dir] and whether it exists.
func FixturesDir() (string, bool) {
	dir, ok := Dir()
	if !ok {
		return "", false
	}
	p := filepath.Join(dir, "fixtures")
	st, err := os.Stat(p)
	return p, err == nil && st.IsDir()
}

// Where says, for a skip message, where the API material was looked for and how to
// point the tests at it.
func Where() string {
	return "Zendesk's API material (support-oas.yaml, fixtures/) was not found in ../" + dirRelPath +
		" beside the repository; set " + EnvDir + " to its folder to run these tests"
}

// Load reads and prepares the spec at path.
func Load(path string) (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("contract: load %s: %w", path, err)
	}
	// The document's server has a templated host; pin it so routes match.
	doc.Servers = openapi3.Servers{{URL: "https://" + specHost}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: route %s: %w", path, err)
	}
	return &Spec{router: router}, nil
}

var (
	shared     *Spec
	sharedErr  error
	sharedPath string
	sharedOnce sync.Once
)

// ForTest returns the spec, loaded once per test binary. It skips the test with a clear
// message when the spec is not found (see [Dir]), and
// fails it when the file is there but cannot be loaded.
func ForTest(t testing.TB) *Spec {
	t.Helper()
	sharedOnce.Do(func() {
		var ok bool
		sharedPath, ok = Find()
		if !ok {
			sharedErr = errAbsent
			return
		}
		shared, sharedErr = Load(sharedPath)
	})
	if errors.Is(sharedErr, errAbsent) {
		t.Skipf("contract: skipping validation against Zendesk's OpenAPI spec: %s", Where())
	}
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

var errAbsent = errors.New("spec absent")

// Optional returns the spec, loaded once per test binary, or nil when it is not found
// (see [Dir]): for tests that validate requests as a bonus but test something else, and
// so must run everywhere. It fails the test when the file is there but cannot be loaded.
func Optional(t testing.TB) *Spec {
	t.Helper()
	if _, ok := Find(); !ok {
		return nil
	}
	return ForTest(t)
}

// ValidateRequest checks r against the spec: the route must exist (a trailing .json is
// stripped, as Zendesk accepts both forms), and its path, query and JSON body must fit
// the operation. Authentication is not checked (the spec declares only basic auth, while
// Zendesk also takes OAuth bearer tokens). r's body is read and restored.
func (s *Spec) ValidateRequest(r *http.Request) error {
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(r.Body)
		if err != nil {
			return fmt.Errorf("contract: read body: %w", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	u := *r.URL
	u.Scheme, u.Host = "https", specHost
	u.Path = strings.TrimSuffix(u.Path, ".json")
	u.RawPath = ""
	req, err := http.NewRequestWithContext(context.Background(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("contract: %w", err)
	}
	req.Header = r.Header.Clone()
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("contract: %s %s: no such operation in the spec: %w", r.Method, u.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    req,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
			MultiError:         true,
		},
	}
	if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
		return fmt.Errorf("contract: %s %s (%s): %w", r.Method, u.Path, route.Operation.OperationID, err)
	}
	return nil
}

// OperationID returns the spec's operationId for r, or "" if no operation matches.
func (s *Spec) OperationID(r *http.Request) string {
	u := *r.URL
	u.Scheme, u.Host = "https", specHost
	u.Path = strings.TrimSuffix(u.Path, ".json")
	req, err := http.NewRequest(r.Method, u.String(), nil)
	if err != nil {
		return ""
	}
	route, _, err := s.router.FindRoute(req)
	if err != nil {
		return ""
	}
	return route.Operation.OperationID
}
