package zendesktest

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// jw appends JSON to a byte slice. Records are encoded by hand on demand:
// it keeps the field order of real payloads, is deterministic, and keeps a
// page of 100 users cheap to serve.
type jw struct {
	b     []byte
	first bool
}

func (w *jw) open() {
	w.b = append(w.b, '{')
	w.first = true
}

func (w *jw) close() {
	w.b = append(w.b, '}')
	w.first = false
}

func (w *jw) openArray() {
	w.b = append(w.b, '[')
	w.first = true
}

func (w *jw) closeArray() {
	w.b = append(w.b, ']')
	w.first = false
}

// elem separates array elements.
func (w *jw) elem() {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
}

func (w *jw) key(k string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.b = append(w.b, '"')
	w.b = append(w.b, k...)
	w.b = append(w.b, '"', ':')
}

func (w *jw) str(k, v string) {
	w.key(k)
	w.b = appendString(w.b, v)
}

// strN writes null for "".
func (w *jw) strN(k, v string) {
	if v == "" {
		w.null(k)
		return
	}
	w.str(k, v)
}

func (w *jw) i64(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

// i64N writes null for 0.
func (w *jw) i64N(k string, v int64) {
	if v == 0 {
		w.null(k)
		return
	}
	w.i64(k, v)
}

func (w *jw) boolean(k string, v bool) {
	w.key(k)
	w.b = strconv.AppendBool(w.b, v)
}

func (w *jw) null(k string) {
	w.key(k)
	w.b = append(w.b, "null"...)
}

func (w *jw) raw(k, raw string) {
	w.key(k)
	w.b = append(w.b, raw...)
}

func (w *jw) time(k string, unix int64) {
	w.key(k)
	w.b = append(w.b, '"')
	w.b = appendTime(w.b, unix)
	w.b = append(w.b, '"')
}

// appendTime appends unix as 2006-01-02T15:04:05Z (UTC) without going
// through time.Time formatting, which dominates the cost of a user record.
func appendTime(b []byte, unix int64) []byte {
	days, secs := unix/86400, unix%86400
	if secs < 0 {
		days, secs = days-1, secs+86400
	}
	// Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	if y < 0 || y > 9999 {
		return time.Unix(unix, 0).UTC().AppendFormat(b, "2006-01-02T15:04:05Z")
	}
	two := func(b []byte, v int64) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	b = two(b, y/100)
	b = two(b, y%100)
	b = append(b, '-')
	b = two(b, m)
	b = append(b, '-')
	b = two(b, d)
	b = append(b, 'T')
	b = two(b, secs/3600)
	b = append(b, ':')
	b = two(b, secs/60%60)
	b = append(b, ':')
	b = two(b, secs%60)
	return append(b, 'Z')
}

// timeN writes null for 0.
func (w *jw) timeN(k string, unix int64) {
	if unix == 0 {
		w.null(k)
		return
	}
	w.time(k, unix)
}

func (w *jw) strs(k string, vs []string) {
	w.key(k)
	w.b = append(w.b, '[')
	for i, v := range vs {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendString(w.b, v)
	}
	w.b = append(w.b, ']')
}

// appendString appends s as a JSON string. Unlike encoding/json it does not
// escape <, > and & (Zendesk links contain raw &).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
