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

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
