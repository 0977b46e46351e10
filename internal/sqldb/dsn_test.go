package sqldb

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseDSN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dsn  string
		want Location
	}{
		{"sqlite:///var/lib/zgov/zgov.db", Location{Dialect: SQLite, Path: "/var/lib/zgov/zgov.db"}},
		{"sqlite:zgov.db", Location{Dialect: SQLite, Path: "zgov.db"}},
		{"sqlite:./data/zgov.db", Location{Dialect: SQLite, Path: "./data/zgov.db"}},
		{"sqlite:/tmp/x.db", Location{Dialect: SQLite, Path: "/tmp/x.db"}},
		{"SQLite:///tmp/x.db", Location{Dialect: SQLite, Path: "/tmp/x.db"}},
		{"sqlite:///tmp/my%20file%3F.db", Location{Dialect: SQLite, Path: "/tmp/my file?.db"}},
		{"sqlite:///C:/zgov/zgov.db", Location{Dialect: SQLite, Path: "C:/zgov/zgov.db"}},
		{"sqlite::memory:", Location{Dialect: SQLite, Memory: true}},
		{"postgres://ann:s3cret@db.example.com:5432/zgov?sslmode=verify-full", Location{Dialect: Postgres, Host: "db.example.com:5432", Database: "zgov", User: "ann"}},
		{"postgresql://ann:p%2Fss@db.example.com/zgov", Location{Dialect: Postgres, Host: "db.example.com", Database: "zgov", User: "ann"}},
		{"POSTGRES://db1:5432,db2:5433/zgov?target_session_attrs=read-write", Location{Dialect: Postgres, Host: "db1:5432,db2:5433", Database: "zgov"}},
		{"postgres:///zgov", Location{Dialect: Postgres, Database: "zgov"}},
		{"postgres://", Location{Dialect: Postgres}},
	} {
		got, err := ParseDSN(tc.dsn)
		if err != nil {
			t.Errorf("ParseDSN(%q): %v", tc.dsn, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseDSN(%q) (-want +got):\n%s", tc.dsn, diff)
		}
	}
}

func TestParseDSNRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		dsn    string
		want   error
		reason string // in the message
	}{
		{"", ErrInvalidDSN, "no scheme"},
		{"zgov.db", ErrInvalidDSN, "no scheme"},
		{"/var/lib/zgov.db", ErrInvalidDSN, "no scheme"},
		{"host=db password=s3cret", ErrInvalidDSN, "keyword/value DSN"},
		{"dbname=zgov", ErrInvalidDSN, "keyword/value DSN"},
		{"mysql://ann:s3cret@db/zgov", ErrInvalidDSN, `unknown scheme "mysql"`},
		{"sqlite:", ErrInvalidDSN, "no path"},
		{"sqlite://", ErrInvalidDSN, "no host"},
		{"sqlite:///", ErrInvalidDSN, ""}, // a directory: Open says so
		{"sqlite://db.example.com/zgov.db", ErrInvalidDSN, "no host"},
		{"sqlite:///tmp/x.db?_pragma=foo", ErrInvalidDSN, "no parameters"},
		{"sqlite:x.db#frag", ErrInvalidDSN, "no parameters"},
		{"sqlite:///tmp/%zz.db", ErrInvalidDSN, "percent-encoding"},
		{"sqlite:///tmp/a%00.db", ErrInvalidDSN, "NUL"},
		{"sqlite:file:x.db", ErrInvalidDSN, "URI"},
		{"sqlite:%3Amemory%3A", ErrInvalidDSN, "URI"},
		{"postgres:ann:s3cret@db.example.com/zgov", ErrInvalidDSN, "is a URL"},
		{"postgres://ann:s3cret@db.example.com/zgov#s3cret", ErrInvalidDSN, "'#'"},
		{"postgres://ann:s3cret#x@db.example.com/zgov", ErrInvalidDSN, "'#'"},
		{"postgres://ann:s3c/ret@db.example.com/zgov", ErrInvalidDSN, "percent-encod"},
		{"postgres://ann:12/s3cret@db.example.com/zgov", ErrInvalidDSN, "names no database"},
		{"postgres://ann:s3cret@db.example.com/zgov/more", ErrInvalidDSN, "names no database"},
		{"postgres://ann:s3cret@db.example.com:port/zgov", ErrInvalidDSN, "cannot be read as a URL"},
	} {
		_, err := ParseDSN(tc.dsn)
		if tc.dsn == "sqlite:///" {
			if err != nil {
				t.Errorf("ParseDSN(%q) = %v, want the path / (which Open refuses)", tc.dsn, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("ParseDSN(%q) = %v, want an error wrapping %v", tc.dsn, err, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("ParseDSN(%q) = %q, want it to say %q", tc.dsn, err, tc.reason)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseDSN(%q) = %q: the error shows the password", tc.dsn, err)
		}
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ dsn, want string }{
		{"sqlite:///var/lib/zgov.db", "sqlite:///var/lib/zgov.db"},
		{"sqlite::memory:", "sqlite::memory:"},
		{"sqlite:x.db?password=s3cret", "sqlite:x.db?password=xxxxx"},
		{"postgres://ann:s3cret@db.example.com:5432/zgov", "postgres://ann:xxxxx@db.example.com:5432/zgov"},
		{"postgres://ann@db.example.com/zgov", "postgres://ann@db.example.com/zgov"},
		{"postgres://db.example.com/zgov?user=ann&password=s3cret&sslmode=require", "postgres://db.example.com/zgov?user=ann&password=xxxxx"},
		{"postgres://db/zgov?sslpassword=s3cret&PassWord=s3cret", "postgres://db/zgov?sslpassword=xxxxx"},
		{"postgres://db/zgov?pass%77ord=s3cret", "postgres://db/zgov?pass%77ord=xxxxx"},
		// Passwords that were not percent-encoded, holding the characters
		// that end a URL's parts.
		{"postgres://ann:s3/cr?et#x@db/zgov", "postgres://ann:xxxxx@db/zgov"},
		{"postgres://ann:s3@cret@db/zgov", "postgres://ann:xxxxx@db/zgov"},
		{"postgres://ann:1234#s3cret@db/zgov", "postgres://ann:xxxxx@db/zgov"},
		{"postgres://ann:1234#s3cret", "postgres://ann:1234"}, // the fragment is dropped
		{"postgres://db/zgov?user=ann@example.com&password=s3cret", "postgres://db/zgov?user=ann@example.com&password=xxxxx"},
		{"postgresql:ann:s3cret@db", "postgresql:xxxxx"},
		{"host=db user=ann password=s3cret dbname=zgov", "host=db user=ann password=xxxxx dbname=zgov"},
		{"host=db password = 's3 \\' cret' dbname=zgov", "host=db password=xxxxx dbname=zgov"},
		{"host=db password='s3cret", "host=db password=xxxxx"},
		{"host=db s3cret", "host=db xxxxx"},
		{"host=db =s3cret", "host=db xxxxx"},
		{"zgov.db", "zgov.db"},
		{" postgres://ann:s3cret@db/zgov", "postgres://ann:xxxxx@db/zgov"},
		{"//ann:s3cret@db/zgov", "//ann:xxxxx@db/zgov"},
		{"ann:s3cret@db/zgov", "ann:xxxxx"},
		{"\tpostgres://ann:s3cret@db/zgov\n", "postgres://ann:xxxxx@db/zgov"},
	} {
		got := Redact(tc.dsn)
		if got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
		if strings.Contains(got, "s3") {
			t.Errorf("Redact(%q) = %q shows the password", tc.dsn, got)
		}
	}
}

// FuzzRedact puts passwords in the DSN forms PostgreSQL takes: Redact must
// never show one, and neither Redact nor ParseDSN may panic.
func FuzzRedact(f *testing.F) {
	for _, pw := range []string{"s3cret", "p@ss/w?rd#1", "'quoted' \\ pass", "with space", "%41%42", "a=b c=d"} {
		f.Add(pw)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		quoted := "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(pw) + "'"
		dsns := []string{
			"postgres://ann:" + pw + "@db.example.com:5432/zgov?sslmode=require",
			"postgres://db.example.com/zgov?sslmode=require&password=" + pw,
			"host=db.example.com user=ann password=" + quoted + " dbname=zgov",
		}
		if !strings.ContainsAny(pw, " \t\n\v\f\r'") {
			dsns = append(dsns, "host=db.example.com user=ann password="+pw+" dbname=zgov")
		}
		for _, dsn := range dsns {
			got := Redact(dsn)
			_, _ = ParseDSN(dsn)
			// Only a password that could not be mistaken for the rest of
			// the DSN can be looked for.
			if len(pw) >= 4 && !strings.Contains(strings.Replace(dsn, pw, "", 1), pw) &&
				!strings.Contains("postgres://ann:xxxxx@db.example.com:5432/zgov?sslmode=require&password=xxxxx host=db.example.com user=ann dbname=zgov", pw) &&
				strings.Contains(got, pw) {
				t.Errorf("Redact(%q) = %q shows the password %q", dsn, got, pw)
			}
		}
	})
}
