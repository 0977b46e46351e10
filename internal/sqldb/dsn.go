package sqldb

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Dialect is the kind of database a DSN names.
type Dialect string

// The dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Location is where a DSN points. It holds no secret: a PostgreSQL DSN's
// password stays in the DSN, which Open hands to the driver.
type Location struct {
	// Dialect is the kind of database.
	Dialect Dialect
	// Path is the SQLite file, as the operating system names it; "" for a
	// database in memory and for PostgreSQL.
	Path string
	// Memory is set for a private SQLite database in memory.
	Memory bool
	// Host is a PostgreSQL DSN's host and port as written
	// ("db.example.com:5432"; "" for the driver's default, a comma-separated
	// list for several hosts).
	Host string
	// Database is a PostgreSQL DSN's database ("" for the driver's default:
	// the user's name).
	Database string
	// User is a PostgreSQL DSN's user ("" for the driver's default).
	User string
}

// ErrInvalidDSN means a DSN could not be read. Errors wrapping it name the
// DSN (redacted) and what is wrong with it.
var ErrInvalidDSN = errors.New("invalid DSN")

// ParseDSN reads a DSN (see the package documentation). A malformed DSN is
// refused with an error wrapping ErrInvalidDSN that shows the DSN redacted.
// It checks the form of a PostgreSQL DSN only; its parameters are checked by
// Open.
func ParseDSN(dsn string) (Location, error) {
	bad := func(reason string) (Location, error) {
		return Location{}, fmt.Errorf("DSN %q: %s: %w", Redact(dsn), reason, ErrInvalidDSN)
	}
	scheme, rest, ok := strings.Cut(dsn, ":")
	if !ok || !isScheme(scheme) {
		if looksLikeKeywords(dsn) {
			return bad(`a keyword/value DSN (host=... dbname=...) is not supported: write postgres://user:password@host:5432/database?sslmode=verify-full`)
		}
		return bad(`no scheme: write sqlite:///absolute/path.db, sqlite:relative/path.db, sqlite::memory: or postgres://user:password@host:5432/database`)
	}
	switch strings.ToLower(scheme) {
	case "sqlite":
	case "postgres", "postgresql":
		return parsePostgres(dsn, rest, bad)
	default:
		return bad(fmt.Sprintf("unknown scheme %q: want sqlite, postgres or postgresql", scheme))
	}
	if rest == ":memory:" {
		return Location{Dialect: SQLite, Memory: true}, nil
	}
	if strings.ContainsAny(rest, "?#") {
		return bad(`a sqlite DSN takes no parameters (write '?' in a path as %3F, '#' as %23)`)
	}
	if after, ok := strings.CutPrefix(rest, "//"); ok {
		if !strings.HasPrefix(after, "/") {
			return bad(`a sqlite DSN names no host: write sqlite:///absolute/path.db (three slashes) or sqlite:relative/path.db`)
		}
		rest = after
	}
	path, err := url.PathUnescape(rest)
	if err != nil {
		return bad("bad percent-encoding in the path")
	}
	switch {
	case path == "":
		return bad("no path: write sqlite:///absolute/path.db, sqlite:relative/path.db or sqlite::memory:")
	case strings.ContainsRune(path, 0):
		return bad("a NUL byte in the path")
	case path == ":memory:" || strings.HasPrefix(path, "file:"):
		return bad(`an SQLite URI is not a path: write sqlite::memory: for a database in memory`)
	}
	// sqlite:///C:/zgov.db names a Windows drive.
	if len(path) >= 4 && path[0] == '/' && path[2] == ':' && path[3] == '/' && isLetter(path[1]) {
		path = path[1:]
	}
	return Location{Dialect: SQLite, Path: path}, nil
}

// parsePostgres reads a PostgreSQL DSN, whose part after the scheme is
// rest. It reports what is wrong in its own words: url.Parse's errors quote
// the URL, password and all.
func parsePostgres(dsn, rest string, bad func(string) (Location, error)) (Location, error) {
	const form = "postgres://user:password@host:5432/database?sslmode=verify-full"
	if !strings.HasPrefix(rest, "//") {
		return bad("a PostgreSQL DSN is a URL: write " + form)
	}
	if strings.Contains(dsn, "#") {
		return bad("a '#' in a PostgreSQL DSN must be percent-encoded (%23)")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return bad("it cannot be read as a URL: write " + form + ", percent-encoding any of @ : / ? # % in the user name and password (@ as %40)")
	}
	// An '@' or a second '/' in the path is most likely a password's '/'
	// that was not percent-encoded; the path is not quoted, so as not to
	// show part of it.
	db := strings.TrimPrefix(u.Path, "/")
	if strings.Contains(u.EscapedPath(), "@") || strings.Contains(db, "/") {
		return bad("the path names no database: write " + form + ", percent-encoding a '/' in the password as %2F")
	}
	return Location{Dialect: Postgres, Host: u.Host, Database: db, User: u.User.Username()}, nil
}

// looksLikeKeywords reports whether s reads as a keyword/value DSN
// (host=db dbname=zgov).
func looksLikeKeywords(s string) bool {
	k, _, ok := strings.Cut(strings.TrimSpace(s), "=")
	return ok && k != "" && !strings.ContainsAny(strings.TrimSpace(k), " /:")
}

func isScheme(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLetter(c) && !('0' <= c && c <= '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// redacted replaces secrets in Redact's output.
const redacted = "xxxxx"

// Redact returns dsn with its secrets replaced by "xxxxx", for errors and
// logs: the password of a URL's user information
// (postgres://ann:xxxxx@db/zgov), and the values of parameters whose names
// contain "password", "secret" or "token", in a URL's query (with the
// parameters after them) or in a keyword/value DSN (host=db password=xxxxx). The fragment of a URL is
// dropped: in a DSN it can only be part of a password that was not
// percent-encoded. A DSN of another scheme than sqlite without "//" is
// redacted whole after its scheme.
func Redact(dsn string) string {
	// Spaces around a DSN hide its scheme: read it without them.
	dsn = strings.TrimSpace(dsn)
	scheme, rest, ok := strings.Cut(dsn, ":")
	if !ok || !isScheme(scheme) {
		if !strings.Contains(dsn, "=") && strings.Contains(dsn, "@") {
			// A URL without its scheme ("//ann:s3cret@db/zgov").
			return strings.TrimPrefix(Redact("x:"+dsn), "x:")
		}
		return redactKeywords(dsn)
	}
	after, hier := strings.CutPrefix(rest, "//")
	if !hier {
		if !strings.EqualFold(scheme, "sqlite") {
			return scheme + ":" + redacted // no telling where a secret is
		}
		rest, query, hasQuery := strings.Cut(rest, "?")
		if hasQuery {
			rest += "?" + redactQuery(query)
		}
		return scheme + ":" + rest
	}
	// The user information ends at the last '@' of the whole DSN, not at
	// the first '/', '?' or '#': a password that was not percent-encoded
	// may hold any of them, and must not be shown in part. (An '@' after a
	// user name that holds one of them is in the path or query.)
	var b strings.Builder
	b.WriteString(scheme + "://")
	if at := strings.LastIndexByte(after, '@'); at >= 0 {
		if user, _, hasPassword := strings.Cut(after[:at], ":"); !strings.ContainsAny(user, "/?#") {
			b.WriteString(user)
			if hasPassword {
				b.WriteString(":" + redacted)
			}
			b.WriteByte('@')
			after = after[at+1:]
		}
	}
	after, _, _ = strings.Cut(after, "#")
	after, query, hasQuery := strings.Cut(after, "?")
	b.WriteString(after)
	if hasQuery {
		b.WriteString("?" + redactQuery(query))
	}
	return b.String()
}

// isSecretKey reports whether a parameter named key holds a secret.
func isSecretKey(key string) bool {
	k := strings.ToLower(key)
	return strings.Contains(k, "password") || strings.Contains(k, "secret") || strings.Contains(k, "token")
}

// redactQuery redacts a URL query from its first secret parameter on: a
// password that was not percent-encoded may hold '&' and look like more
// parameters.
func redactQuery(query string) string {
	parts := strings.Split(query, "&")
	for i, p := range parts {
		k, _, hasValue := strings.Cut(p, "=")
		if key, err := url.QueryUnescape(k); hasValue && (err != nil || isSecretKey(key)) {
			return strings.Join(append(parts[:i:i], k+"="+redacted), "&")
		}
	}
	return query
}

// redactKeywords redacts a keyword/value DSN (host=db user=ann
// password='s e cret'): the values of secret keywords become "xxxxx".
// From the first point where it cannot read keywords and values on, the
// rest is redacted whole. A string with no '=' (a path, a name) is returned
// as it is.
func redactKeywords(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	var parts []string
	for i := 0; ; {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i == len(s) {
			return strings.Join(parts, " ")
		}
		start := i
		for i < len(s) && s[i] != '=' && !isSpace(s[i]) {
			i++
		}
		key := s[start:i]
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if key == "" || i == len(s) || s[i] != '=' {
			return strings.Join(append(parts, redacted), " ")
		}
		i++
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		vstart := i
		if i < len(s) && s[i] == '\'' {
			for i++; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' {
					i++
				}
			}
			if i >= len(s) {
				return strings.Join(append(parts, key+"="+redacted), " ") // unterminated quote
			}
			i++
		} else {
			for i < len(s) && !isSpace(s[i]) {
				i++
			}
		}
		value := s[vstart:i]
		if isSecretKey(key) {
			value = redacted
		}
		parts = append(parts, key+"="+value)
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}
