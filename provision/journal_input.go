package provision

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/zgov-io/zgov/access"
)

// Limits on what an entry holds, so that an entry stays small enough for any
// store and a bad caller cannot fill the journal with one call.
const (
	maxChangeID   = 128
	maxWho        = 256
	maxReason     = 1024
	maxSource     = 256
	maxEmail      = 254
	maxRole       = 128
	maxText       = 4096 // Note and Error, which are cut rather than refused
	maxParams     = 32
	maxParamKey   = 64
	maxParamValue = 1024
	maxRequestIDs = 32
	maxRequestID  = 128
	maxIDList     = 10000 // Added, Replaced
)

// deprovisionSteps are the rungs of the ladder (access.DeprovisionStep).
var deprovisionSteps = []string{"none", "suspend", "downgrade", "soft_delete", "permanent_delete"}

func inputErr(field, format string, args ...any) error {
	return &JournalInputError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// checkChangeID checks a caller's change ID: printable ASCII without
// spaces, so that it is one token in logs, URLs and SQL.
func checkChangeID(id string) error {
	switch {
	case id == "":
		return inputErr("change_id", "empty")
	case len(id) > maxChangeID:
		return inputErr("change_id", "longer than %d bytes", maxChangeID)
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return inputErr("change_id", "%q holds a byte other than printable ASCII without spaces", id)
		}
	}
	return nil
}

// checkLine checks a one-line text field: valid UTF-8, no control
// characters, at most max bytes.
func checkLine(field, s string, max int) error {
	if len(s) > max {
		return inputErr(field, "longer than %d bytes", max)
	}
	if !utf8.ValidString(s) {
		return inputErr(field, "not valid UTF-8")
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return inputErr(field, "holds a control character")
	}
	return nil
}

// validate checks an actor: Who, and a Reason or a Source.
func (a JournalActor) validate() error {
	if strings.TrimSpace(a.Who) == "" {
		return inputErr("actor.who", "empty: the journal records who asked for every change")
	}
	if strings.TrimSpace(a.Who) != a.Who {
		return inputErr("actor.who", "leading or trailing white space")
	}
	if err := checkLine("actor.who", a.Who, maxWho); err != nil {
		return err
	}
	if strings.TrimSpace(a.Reason) == "" && a.Source == "" {
		return inputErr("actor", "neither reason nor source: the journal records why every change was asked for")
	}
	if len(a.Reason) > maxReason {
		return inputErr("actor.reason", "longer than %d bytes", maxReason)
	}
	if !utf8.ValidString(a.Reason) {
		return inputErr("actor.reason", "not valid UTF-8")
	}
	if strings.IndexFunc(a.Reason, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0 {
		return inputErr("actor.reason", "holds a control character other than newline and tab")
	}
	if a.Source != "" {
		if err := checkLine("actor.source", a.Source, maxSource); err != nil {
			return err
		}
		kind, ref, ok := strings.Cut(a.Source, ":")
		if !ok || kind == "" || ref == "" || strings.TrimSpace(ref) != ref || !isToken(kind, "_-") {
			return inputErr("actor.source", "%q is not kind:reference, such as ticket:JIRA-1", a.Source)
		}
	}
	return nil
}

// isToken reports whether s is lowercase ASCII letters and digits, and the
// bytes of extra.
func isToken(s, extra string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return s != ""
}

// validate checks an operation: a known name, its required fields set and
// well-formed, the fields it does not take empty.
func (op JournalOp) validate() error {
	if op.Name == "" {
		return inputErr("op.name", "empty")
	}
	fields, ok := journalOpFields[op.Name]
	if !ok {
		return inputErr("op.name", "unknown operation %q", op.Name)
	}
	for _, f := range []struct {
		name, value string
		check       func(string) error
	}{
		{"entitlement_id", op.EntitlementID, func(v string) error { _, err := access.ParseEntitlementID(v); return err }},
		{"principal_id", op.PrincipalID, func(v string) error { _, err := access.ParseResourceID(v); return err }},
		{"email", op.Email, checkEmail},
		{"role", op.Role, func(v string) error { return checkLine("op.role", v, maxRole) }},
		{"step", op.Step, func(v string) error {
			if !slices.Contains(deprovisionSteps, v) {
				return fmt.Errorf("unknown step %q, want one of %s", v, strings.Join(deprovisionSteps, ", "))
			}
			return nil
		}},
	} {
		required, allowed := fields[f.name]
		switch {
		case f.value == "" && required:
			return inputErr("op."+f.name, "empty: %s requires it", op.Name)
		case f.value != "" && !allowed:
			return inputErr("op."+f.name, "set, but %s takes none", op.Name)
		case f.value != "":
			if err := f.check(f.value); err != nil {
				if ie, ok := err.(*JournalInputError); ok {
					return ie
				}
				return inputErr("op."+f.name, "%v", err)
			}
		}
	}
	return checkParams("op.params", op.Params)
}

func checkEmail(s string) error {
	if err := checkLine("op.email", s, maxEmail); err != nil {
		return err
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.ContainsAny(s, " <>") {
		return inputErr("op.email", "%q is not an e-mail address of the form name@example.com", s)
	}
	return nil
}

func checkParams(field string, p map[string]string) error {
	if len(p) > maxParams {
		return inputErr(field, "%d entries, more than %d", len(p), maxParams)
	}
	for k, v := range p {
		if k == "" || len(k) > maxParamKey || k[0] < 'a' || k[0] > 'z' || !isToken(k, "_") {
			return inputErr(field, "key %q is not lowercase letters, digits and '_' starting with a letter, at most %d bytes", k, maxParamKey)
		}
		if v == "" || len(v) > maxParamValue || !utf8.ValidString(v) {
			return inputErr(field+"."+k, "not 1 to %d bytes of valid UTF-8", maxParamValue)
		}
	}
	return nil
}

// normalize repairs what an outcome may carry from error messages (invalid
// UTF-8, great length) instead of refusing it, so that a change can always
// be finished, and copies its slices and map.
func (o JournalOutcome) normalize() JournalOutcome {
	o = o.clone()
	o.Note = cutText(o.Note)
	o.Error = cutText(o.Error)
	return o
}

// cutText makes s valid UTF-8 of at most maxText bytes, marking a cut with
// "...".
func cutText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= maxText {
		return s
	}
	s = s[:maxText-3]
	for !utf8.ValidString(s) { // drop a rune cut in half
		s = s[:len(s)-1]
	}
	return s + "..."
}

// validate checks a normalized outcome.
func (o JournalOutcome) validate() error {
	if o.Status == "" && o.Error == "" {
		return inputErr("outcome", "neither status nor error: the journal records how every change ended")
	}
	if o.Status != "" && (len(o.Status) > 64 || !isToken(o.Status, "_-")) {
		return inputErr("outcome.status", "%q is not lowercase letters, digits, '_' and '-'", o.Status)
	}
	if o.ErrorClass != "" {
		if o.Error == "" {
			return inputErr("outcome.error_class", "set without an error")
		}
		if len(o.ErrorClass) > 64 || !isToken(o.ErrorClass, "_-.:") {
			return inputErr("outcome.error_class", "%q is not lowercase letters, digits, '_', '-', '.' and ':'", o.ErrorClass)
		}
	}
	if o.GrantID != "" {
		if _, err := access.ParseGrantID(o.GrantID); err != nil {
			return inputErr("outcome.grant_id", "%v", err)
		}
	}
	if o.PrincipalID != "" {
		if _, err := access.ParseResourceID(o.PrincipalID); err != nil {
			return inputErr("outcome.principal_id", "%v", err)
		}
	}
	for _, l := range []struct {
		name string
		ids  []string
	}{{"added", o.Added}, {"replaced", o.Replaced}} {
		if len(l.ids) > maxIDList {
			return inputErr("outcome."+l.name, "%d grants, more than %d", len(l.ids), maxIDList)
		}
		for i, id := range l.ids {
			if _, err := access.ParseGrantID(id); err != nil {
				return inputErr(fmt.Sprintf("outcome.%s[%d]", l.name, i), "%v", err)
			}
		}
	}
	if len(o.RequestIDs) > maxRequestIDs {
		return inputErr("outcome.request_ids", "%d ids, more than %d", len(o.RequestIDs), maxRequestIDs)
	}
	for i, id := range o.RequestIDs {
		if id == "" || len(id) > maxRequestID || strings.IndexFunc(id, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
			return inputErr(fmt.Sprintf("outcome.request_ids[%d]", i), "%q is not 1 to %d bytes of printable ASCII", id, maxRequestID)
		}
	}
	return checkParams("outcome.params", o.Params)
}
