package sqldb

import "testing"

func TestRebind(t *testing.T) {
	t.Parallel()
	pg, lite := &DB{Dialect: Postgres}, &DB{Dialect: SQLite}
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{"INSERT INTO t VALUES (?, ?, ?)", "INSERT INTO t VALUES ($1, $2, $3)"},
		{"SELECT '?', 'it''s ?', ? FROM t", "SELECT '?', 'it''s ?', $1 FROM t"},
		{`SELECT "a?b" FROM t WHERE x = ?`, `SELECT "a?b" FROM t WHERE x = $1`},
		{"SELECT ? -- why?\n, ?", "SELECT $1 -- why?\n, $2"},
		{"SELECT ? /* who? */ , ?", "SELECT $1 /* who? */ , $2"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
		{"SELECT ? /* unterminated ?", "SELECT $1 /* unterminated ?"},
		{"SELECT ? -- to the end?", "SELECT $1 -- to the end?"},
	} {
		if got := pg.Rebind(tc.in); got != tc.want {
			t.Errorf("postgres: Rebind(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := lite.Rebind(tc.in); got != tc.in {
			t.Errorf("sqlite: Rebind(%q) = %q, want it unchanged", tc.in, got)
		}
	}
}
