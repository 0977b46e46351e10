package access

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on the parts of an ID. They keep IDs small enough to index and print,
// and make the grammar easy to state.
const (
	// MaxTypeLen is the maximum length in bytes of a resource type or slug.
	MaxTypeLen = 64
	// MaxNativeIDLen is the maximum length in bytes of a native ID segment.
	MaxNativeIDLen = 256
)

// ResourceRef is a parsed resource ID: "type:id".
type ResourceRef struct {
	// Type is the resource type, such as "user" or "group".
	Type string
	// ID is the backend's native ID of the resource, such as "12345".
	ID string
}

// String returns the resource ID "type:id".
func (r ResourceRef) String() string { return r.Type + ":" + r.ID }

// EntitlementRef is a parsed entitlement ID: "type:id:slug".
type EntitlementRef struct {
	// Resource is the resource the entitlement belongs to.
	Resource ResourceRef
	// Slug names the entitlement within its resource, such as "member".
	Slug string
}

// String returns the entitlement ID "type:id:slug".
func (e EntitlementRef) String() string { return e.Resource.String() + ":" + e.Slug }

// GrantRef is a parsed grant ID: "entitlementID@principalType:principalID".
type GrantRef struct {
	// Entitlement is the entitlement granted.
	Entitlement EntitlementRef
	// Principal is the resource holding the grant.
	Principal ResourceRef
}

// String returns the grant ID "type:id:slug@principalType:principalID".
func (g GrantRef) String() string { return g.Entitlement.String() + "@" + g.Principal.String() }

// ResourceID returns the resource ID "typ:id". It does not validate; use
// ParseResourceID for that.
func ResourceID(typ, id string) string { return typ + ":" + id }

// EntitlementID returns the entitlement ID "resourceID:slug". It does not
// validate; use ParseEntitlementID for that.
func EntitlementID(resourceID, slug string) string { return resourceID + ":" + slug }

// GrantID returns the grant ID "entitlementID@principalID". It does not
// validate; use ParseGrantID for that.
func GrantID(entitlementID, principalID string) string { return entitlementID + "@" + principalID }

// ParseResourceID parses a resource ID of the form "type:id".
//
// The type is a lower-case name ([a-z][a-z0-9_]*, at most MaxTypeLen bytes).
// The id is 1 to MaxNativeIDLen bytes of valid UTF-8 without ':', '@', white
// space or control characters; backends whose native IDs contain those use
// EscapeNativeID. A '%' must begin an escape exactly as EscapeNativeID writes
// it (upper-case hex, of a byte it escapes), so that one native ID has one
// spelling. A resource type may narrow the id further (see IDSyntax). Errors
// wrap ErrMalformedID and are of type *IDError.
func ParseResourceID(s string) (ResourceRef, error) {
	ref, reason := parseResource(s)
	if reason != "" {
		return ResourceRef{}, &IDError{Kind: "resource", ID: s, Reason: reason}
	}
	return ref, nil
}

// ParseEntitlementID parses an entitlement ID of the form "type:id:slug",
// where "type:id" is the ID of the resource the entitlement belongs to and
// slug follows the same rules as a type (hyphens are also allowed). Errors
// wrap ErrMalformedID and are of type *IDError.
func ParseEntitlementID(s string) (EntitlementRef, error) {
	ref, reason := parseEntitlement(s)
	if reason != "" {
		return EntitlementRef{}, &IDError{Kind: "entitlement", ID: s, Reason: reason}
	}
	return ref, nil
}

// ParseGrantID parses a grant ID of the form
// "entitlementID@principalType:principalID". Errors wrap ErrMalformedID and
// are of type *IDError.
func ParseGrantID(s string) (GrantRef, error) {
	ref, reason := parseGrant(s)
	if reason != "" {
		return GrantRef{}, &IDError{Kind: "grant", ID: s, Reason: reason}
	}
	return ref, nil
}

func parseResource(s string) (ResourceRef, string) {
	typ, id, ok := strings.Cut(s, ":")
	if !ok {
		return ResourceRef{}, `want "type:id", missing ':'`
	}
	if r := checkName("type", typ, false); r != "" {
		return ResourceRef{}, r
	}
	if r := checkNative(id); r != "" {
		return ResourceRef{}, r
	}
	return ResourceRef{Type: typ, ID: id}, ""
}

func parseEntitlement(s string) (EntitlementRef, string) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 || strings.Count(s, ":") != 2 {
		return EntitlementRef{}, `want "type:id:slug"`
	}
	res, r := parseResource(s[:i])
	if r != "" {
		return EntitlementRef{}, r
	}
	slug := s[i+1:]
	if r := checkName("slug", slug, true); r != "" {
		return EntitlementRef{}, r
	}
	return EntitlementRef{Resource: res, Slug: slug}, ""
}

func parseGrant(s string) (GrantRef, string) {
	ent, principal, ok := strings.Cut(s, "@")
	if !ok || strings.Contains(principal, "@") {
		return GrantRef{}, `want "type:id:slug@principalType:principalID" with exactly one '@'`
	}
	e, r := parseEntitlement(ent)
	if r != "" {
		return GrantRef{}, "entitlement: " + r
	}
	p, r := parseResource(principal)
	if r != "" {
		return GrantRef{}, "principal: " + r
	}
	return GrantRef{Entitlement: e, Principal: p}, ""
}

// checkName validates a type or slug: [a-z][a-z0-9_]* (and '-' when
// hyphen is set). It returns a reason or "".
func checkName(what, s string, hyphen bool) string {
	if s == "" {
		return what + " is empty"
	}
	if len(s) > MaxTypeLen {
		return what + " is longer than 64 bytes"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_' || hyphen && c == '-'):
		default:
			if hyphen {
				return what + " must match [a-z][a-z0-9_-]*"
			}
			return what + " must match [a-z][a-z0-9_]*"
		}
	}
	return ""
}

// checkNative validates a native ID segment and returns a reason or "".
func checkNative(s string) string {
	if s == "" {
		return "id is empty"
	}
	if len(s) > MaxNativeIDLen {
		return "id is longer than 256 bytes"
	}
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !validRuneAt(s, i):
			return "id is not valid UTF-8"
		case r == ':' || r == '@':
			return "id contains '" + string(r) + "' (escape it with EscapeNativeID)"
		case r == '%':
			if !canonicalEscapeAt(s, i) {
				return "id holds a percent escape that is not canonical (EscapeNativeID writes %XX, upper-case, only for bytes it must escape)"
			}
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return "id contains white space or a control character"
		}
	}
	return ""
}

// canonicalEscapeAt reports whether s[i] ('%') begins an escape that
// EscapeNativeID writes: two upper-case hex digits of a byte that is not safe.
// Any other escape would be a second spelling of the same native ID.
func canonicalEscapeAt(s string, i int) bool {
	if i+2 >= len(s) {
		return false
	}
	hi, lo := s[i+1], s[i+2]
	upperHex := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }
	if !upperHex(hi) || !upperHex(lo) {
		return false
	}
	return !safeByte(byte(unhex(hi)<<4 | unhex(lo)))
}

func validRuneAt(s string, i int) bool {
	_, size := utf8.DecodeRuneInString(s[i:])
	return size > 1 // a literal U+FFFD is three bytes; an invalid byte decodes with size 1
}

// EscapeNativeID returns native with every byte outside
// [A-Za-z0-9._~!$&'()*+,;=-] percent-encoded (as in RFC 3986), so any native
// ID (an e-mail address, a distinguished name) can be used as the id segment
// of a resource ID. IDs that need no escaping, such as Zendesk's numeric IDs,
// are returned unchanged.
func EscapeNativeID(native string) string {
	n := 0
	for i := 0; i < len(native); i++ {
		if !safeByte(native[i]) {
			n++
		}
	}
	if n == 0 {
		return native
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(native) + 2*n)
	for i := 0; i < len(native); i++ {
		c := native[i]
		if safeByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// UnescapeNativeID reverses EscapeNativeID. It returns an *IDError wrapping
// ErrMalformedID if s contains a malformed percent escape.
func UnescapeNativeID(s string) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(s) || unhex(s[i+1]) < 0 || unhex(s[i+2]) < 0 {
			return "", &IDError{Kind: "native", ID: s, Reason: "malformed percent escape"}
		}
		b.WriteByte(byte(unhex(s[i+1])<<4 | unhex(s[i+2])))
		i += 2
	}
	return b.String(), nil
}

func safeByte(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("._~!$&'()*+,;=-", c) >= 0
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c - 'a' + 10)
	case c >= 'A' && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
