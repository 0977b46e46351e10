package zendesk

import (
	"fmt"
	"sort"
	"strings"
)

// secret holds a credential. Every way fmt can render it prints a placeholder, so a
// secret stored in a struct never reaches a log line or an error through %v, %+v or %#v.
type secret string

const redacted = "[REDACTED]"

func (s secret) String() string   { return redacted }
func (s secret) GoString() string { return `"` + redacted + `"` }

// Format makes every verb, including %q, %x and %s, print the placeholder.
func (s secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// reveal returns the credential itself; call it only where the credential is sent.
func (s secret) reveal() string { return string(s) }

// redactor replaces known secret values in text that may have echoed them back (an
// OAuth server's error body, a proxy's error page).
type redactor []string

func (r redactor) apply(s string) string {
	for _, v := range r {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	return s
}

// applyAPIError redacts every text field of an error decoded from a response that may
// have echoed a secret back.
func (r redactor) applyAPIError(e *APIError) {
	e.Code = r.apply(e.Code)
	e.Title = r.apply(e.Title)
	e.Description = r.apply(e.Description)
	e.Body = r.apply(e.Body)
	for i := range e.Errors {
		it := &e.Errors[i]
		it.Code, it.Title, it.Detail, it.Status = r.apply(it.Code), r.apply(it.Title), r.apply(it.Detail), r.apply(it.Status)
	}
	for field, ds := range e.Details {
		for i := range ds {
			d := &ds[i]
			d.Error, d.Type, d.Description = r.apply(d.Error), r.apply(d.Type), r.apply(d.Description)
		}
		if f := r.apply(field); f != field {
			delete(e.Details, field)
			e.Details[f] = ds
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
