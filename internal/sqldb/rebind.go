package sqldb

import (
	"strconv"
	"strings"
)

// Rebind returns query with its '?' placeholders written as the database
// takes them: $1, $2, ... for PostgreSQL; unchanged for SQLite. So a layer
// writes each query once, with '?'. A '?' in a quoted string or
// identifier or in a comment is left alone; any other '?' is a
// placeholder (PostgreSQL's jsonb operators ?, ?| and ?& cannot be written
// in a query passed through Rebind).
func (db *DB) Rebind(query string) string {
	if db.Dialect != Postgres || !strings.Contains(query, "?") {
		return query
	}
	return rebindDollar(query)
}

// rebindDollar numbers the '?' placeholders of query $1, $2, ...
func rebindDollar(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 8)
	n := 0
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			i++
			continue
		case c == '\'' || c == '"':
			// A quoted string or identifier; a doubled quote is one
			// quote inside it.
			j := i + 1
			for j < len(query) {
				if query[j] == c {
					if j+1 < len(query) && query[j+1] == c {
						j += 2
						continue
					}
					j++
					break
				}
				j++
			}
			b.WriteString(query[i:min(j, len(query))])
			i = j
			continue
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j
			continue
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			end := len(query)
			if j >= 0 {
				end = i + 2 + j + 2
			}
			b.WriteString(query[i:end])
			i = end
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}
