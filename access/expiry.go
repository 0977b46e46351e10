package access

import (
	"fmt"
	"maps"
	"time"
)

// AttrExpiresAt is the grant attribute that marks a time-bound grant: the
// time its access ends, in RFC 3339 UTC to the second
// ("2026-03-01T17:00:00Z"). Sync sets it from SyncOptions.TimeBound; a
// backend may emit it itself. GrantRecord.ExpiresAt reads it.
const AttrExpiresAt = "expires_at"

// ExpiresAt returns the time the grant's time-bound access ends, in UTC, if
// the grant is marked time-bound (AttrExpiresAt holds an RFC 3339 time). A
// grant without the mark, or with a value that is not an RFC 3339 time, is
// standing access: ok is false.
func (g GrantRecord) ExpiresAt() (t time.Time, ok bool) {
	v, ok := g.attrs[AttrExpiresAt]
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// formatExpiry is the canonical spelling of an expiry: RFC 3339 in UTC, to
// the second (a fraction is cut, so that one expiry has one spelling and
// one hash).
func formatExpiry(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// checkTimeBound checks SyncOptions.TimeBound before a sync starts.
func checkTimeBound(m map[string]time.Time) error {
	for id, t := range m {
		if _, err := ParseGrantID(id); err != nil {
			return fmt.Errorf("SyncOptions.TimeBound: %w", err)
		}
		if t.IsZero() {
			return fmt.Errorf("SyncOptions.TimeBound: grant %s: zero expiry", quoteShort(id))
		}
		if y := t.UTC().Year(); y < 1 || y > 9999 {
			return fmt.Errorf("SyncOptions.TimeBound: grant %s: expiry %s is outside years 1 to 9999", quoteShort(id), t)
		}
	}
	return nil
}

// markTimeBound sets AttrExpiresAt on the grants m names, copying their
// attributes (a backend's maps are shared, not owned). Grants m names that
// are not in grants are ignored.
func markTimeBound(grants []GrantRecord, m map[string]time.Time) {
	if len(m) == 0 {
		return
	}
	for i := range grants {
		t, ok := m[grants[i].id]
		if !ok {
			continue
		}
		attrs := maps.Clone(grants[i].attrs)
		if attrs == nil {
			attrs = Attributes{}
		}
		attrs[AttrExpiresAt] = formatExpiry(t)
		grants[i].attrs = attrs
	}
}
