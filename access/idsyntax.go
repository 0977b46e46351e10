package access

import (
	"fmt"
	"strconv"
)

// IDSyntax says which native IDs a resource type accepts, beyond the grammar
// every ID follows (see ParseResourceID). It exists so that one resource has
// one ID: "user:42", "user:+42" and "user:042" name the same Zendesk user, so
// the Zendesk backend declares its numeric types IDSyntaxPositiveInt and every
// spelling but the first is refused with ErrMalformedID, by System before any
// request reaches a backend, by backends themselves, and by Sync and Load.
type IDSyntax string

// The ID syntaxes.
const (
	// IDSyntaxAny accepts any native ID the grammar allows (the zero value).
	IDSyntaxAny IDSyntax = ""
	// IDSyntaxPositiveInt accepts a positive decimal integer that fits in an
	// int64, written without a sign or leading zeros: "1", "360001".
	IDSyntaxPositiveInt IDSyntax = "positive_int"
	// IDSyntaxEscaped accepts only what EscapeNativeID writes: every byte
	// outside its safe set percent-escaped. Backends whose native IDs are
	// free text (e-mail addresses, names) declare it, so that "a/b" and
	// "a%2Fb" cannot both name one resource.
	IDSyntaxEscaped IDSyntax = "escaped"
)

// Valid reports whether s is one of the defined syntaxes.
func (s IDSyntax) Valid() bool {
	return s == IDSyntaxAny || s == IDSyntaxPositiveInt || s == IDSyntaxEscaped
}

// check returns why native does not follow s, or "".
func (s IDSyntax) check(native string) string {
	switch s {
	case IDSyntaxPositiveInt:
		if _, ok := ParsePositiveInt(native); !ok {
			return "id must be a positive decimal integer without sign or leading zeros"
		}
	case IDSyntaxEscaped:
		raw, err := UnescapeNativeID(native)
		if err != nil || EscapeNativeID(raw) != native {
			return "id must be escaped exactly as EscapeNativeID writes it"
		}
	}
	return ""
}

// CheckID checks that id is a resource ID of type t in its canonical
// spelling: well-formed, of type t, and following t's IDSyntax. Errors wrap
// ErrMalformedID and are of type *IDError.
func (t ResourceType) CheckID(id string) error {
	ref, err := ParseResourceID(id)
	if err != nil {
		return err
	}
	if ref.Type != t.ID {
		return &IDError{Kind: "resource", ID: id, Reason: fmt.Sprintf("type is %q, want %q", ref.Type, t.ID)}
	}
	if reason := t.IDSyntax.check(ref.ID); reason != "" {
		return &IDError{Kind: "resource", ID: id, Reason: reason}
	}
	return nil
}

// ParsePositiveInt parses s as IDSyntaxPositiveInt defines it and reports
// whether it is one. Backends whose native IDs are numbers use it instead of
// strconv.ParseInt, which also accepts "+42" and "042".
func ParsePositiveInt(s string) (int64, bool) {
	if s == "" || len(s) > 19 || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// syntaxProblem returns why a resource ID breaks its declared type's syntax,
// or "". types maps a type ID to its syntax; unknown types are not checked
// here (they are reported as such elsewhere).
func syntaxProblem(types map[string]IDSyntax, resourceID string) string {
	typ := typeOf(resourceID)
	syn, ok := types[typ]
	if !ok || syn == IDSyntaxAny {
		return ""
	}
	return syn.check(resourceID[len(typ)+1:])
}
