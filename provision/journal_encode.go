package provision

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJournalEntry bounds the canonical encoding of an entry with its hash:
// the longest line of an export. maxJournalBody bounds the encoding without
// the hash (the hash member adds 74 bytes, the newline one).
const (
	maxJournalEntry = 1 << 20
	maxJournalBody  = maxJournalEntry - 100
)

// journalTimeLayout is the canonical form of an entry's time: UTC, always
// six fractional digits.
const journalTimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// journalHash returns the hash of e: the hex SHA-256 of its canonical
// encoding without the hash member.
func journalHash(e *JournalEntry) string {
	return hashJournalBody(appendJournalJSON(nil, e, false))
}

func hashJournalBody(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// appendJournalJSON appends the canonical encoding of e, with its hash
// member if withHash, without a newline. The members of each object are
// written in sorted order by hand (the test re-encodes through
// encoding/json's sorted maps to check it); members with empty values are
// left out.
func appendJournalJSON(buf []byte, e *JournalEntry, withHash bool) []byte {
	o := beginCanon(buf)
	o.object("actor", func(a *canonObject) {
		a.str("reason", e.Actor.Reason)
		a.str("source", e.Actor.Source)
		a.str("who", e.Actor.Who)
	})
	o.str("change_id", e.ChangeID)
	if withHash {
		o.str("hash", e.Hash)
	}
	o.str("kind", string(e.Kind))
	o.object("op", func(p *canonObject) {
		p.str("email", e.Op.Email)
		p.str("entitlement_id", e.Op.EntitlementID)
		p.str("name", string(e.Op.Name))
		p.strMap("params", e.Op.Params)
		p.str("principal_id", e.Op.PrincipalID)
		p.str("role", e.Op.Role)
		p.str("step", e.Op.Step)
	})
	if r := e.Outcome; r != nil {
		o.object("outcome", func(p *canonObject) {
			p.strs("added", r.Added)
			p.str("error", r.Error)
			p.str("error_class", r.ErrorClass)
			p.str("grant_id", r.GrantID)
			p.str("note", r.Note)
			p.strMap("params", r.Params)
			p.str("principal_id", r.PrincipalID)
			p.strs("replaced", r.Replaced)
			p.strs("request_ids", r.RequestIDs)
			p.str("status", r.Status)
		})
	}
	o.str("prev_hash", e.PrevHash)
	if e.Seq != 0 {
		o.key("seq")
		o.buf = strconv.AppendInt(o.buf, e.Seq, 10)
	}
	if !e.Time.IsZero() {
		o.key("time")
		o.buf = append(o.buf, '"')
		o.buf = e.Time.UTC().AppendFormat(o.buf, journalTimeLayout)
		o.buf = append(o.buf, '"')
	}
	return o.end()
}

// canonObject writes one JSON object of the canonical encoding; the caller
// adds members in sorted order.
type canonObject struct {
	buf   []byte
	empty bool
}

func beginCanon(buf []byte) canonObject { return canonObject{buf: append(buf, '{'), empty: true} }

func (o *canonObject) end() []byte { return append(o.buf, '}') }

func (o *canonObject) key(k string) {
	if !o.empty {
		o.buf = append(o.buf, ',')
	}
	o.empty = false
	o.buf = append(o.buf, '"')
	o.buf = append(o.buf, k...)
	o.buf = append(o.buf, '"', ':')
}

func (o *canonObject) str(k, v string) {
	if v != "" {
		o.key(k)
		o.buf = appendCanonString(o.buf, v)
	}
}

func (o *canonObject) strs(k string, vs []string) {
	if len(vs) == 0 {
		return
	}
	o.key(k)
	o.buf = append(o.buf, '[')
	for i, v := range vs {
		if i > 0 {
			o.buf = append(o.buf, ',')
		}
		o.buf = appendCanonString(o.buf, v)
	}
	o.buf = append(o.buf, ']')
}

func (o *canonObject) strMap(k string, m map[string]string) {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v != "" {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	o.key(k)
	slices.Sort(keys) // byte order, which is code point order in UTF-8
	o.buf = append(o.buf, '{')
	for i, k := range keys {
		if i > 0 {
			o.buf = append(o.buf, ',')
		}
		o.buf = appendCanonString(o.buf, k)
		o.buf = append(o.buf, ':')
		o.buf = appendCanonString(o.buf, m[k])
	}
	o.buf = append(o.buf, '}')
}

// object writes the member k with the object fill writes, or nothing if
// fill writes no member.
func (o *canonObject) object(k string, fill func(*canonObject)) {
	mark, wasEmpty := len(o.buf), o.empty
	o.key(k)
	sub := beginCanon(o.buf)
	fill(&sub)
	if sub.empty {
		o.buf, o.empty = sub.buf[:mark], wasEmpty
		return
	}
	o.buf = sub.end()
}

const lowerHex = "0123456789abcdef"

// appendCanonString appends s as a canonical JSON string: printable ASCII
// as is, except '"' and '\\'; the short escapes \b \t \n \f \r; every
// other character as \u with four lowercase hex digits, above U+FFFF as a
// UTF-16 surrogate pair. Invalid UTF-8 (which Journal never writes) is
// encoded as U+FFFD, as a JSON decoder would read it.
func appendCanonString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c == '\b':
				buf = append(buf, '\\', 'b')
			case c == '\t':
				buf = append(buf, '\\', 't')
			case c == '\n':
				buf = append(buf, '\\', 'n')
			case c == '\f':
				buf = append(buf, '\\', 'f')
			case c == '\r':
				buf = append(buf, '\\', 'r')
			case c >= 0x20 && c < 0x7f:
				buf = append(buf, c)
			default:
				buf = appendU(buf, rune(c))
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r > 0xFFFF {
			r1, r2 := utf16.EncodeRune(r)
			buf = appendU(appendU(buf, r1), r2)
		} else {
			buf = appendU(buf, r)
		}
	}
	return append(buf, '"')
}

func appendU(buf []byte, r rune) []byte {
	return append(buf, '\\', 'u', lowerHex[r>>12&0xF], lowerHex[r>>8&0xF], lowerHex[r>>4&0xF], lowerHex[r&0xF])
}

// ExportJSONL writes the journal's entries, from the first to the head as
// it is when the export starts, to w: one entry per line, each line the
// canonical encoding of the entry with its hash member (see the package
// documentation). An auditor verifies the export with VerifyJSONL, or with
// any tool, by the recipe in the package documentation. The export is not
// verified while written: run Verify, or verify the export.
func (j *Journal) ExportJSONL(ctx context.Context, w io.Writer) error {
	head, err := j.Head(ctx)
	if err != nil {
		return fmt.Errorf("provision: journal: export: %w", err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var buf []byte
	for e, err := range j.Entries(ctx, 1) {
		if err != nil {
			return fmt.Errorf("provision: journal: export: %w", err)
		}
		if e.Seq > head.Seq {
			break
		}
		buf = appendJournalJSON(buf[:0], &e, true)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("provision: journal: export: %w", err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("provision: journal: export: %w", err)
	}
	return nil
}

// decodeJournalLine decodes one line of an export (without its newline)
// and checks that it is in canonical form, so that the recipe an auditor
// runs on the line and the hash VerifyJSONL computes from the entry agree.
// It returns a reason for a line that is not.
func decodeJournalLine(line []byte) (JournalEntry, string) {
	var e JournalEntry
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return JournalEntry{}, "not a journal entry: " + err.Error()
	}
	if dec.More() {
		return JournalEntry{}, "more than one JSON value"
	}
	if !bytes.Equal(line, appendJournalJSON(nil, &e, true)) {
		return JournalEntry{}, "not in canonical form (sorted members, no white space, no empty members, ASCII escapes)"
	}
	return e, ""
}
