package review

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/zgov-io/zgov/internal/sqldb"
)

// maxParams bounds the parameters of one statement: SQLite allows 32,766,
// PostgreSQL 65,535.
const maxParams = 30000

// maxRows bounds the rows of one multi-row statement.
const maxRows = 1000

// bulkInserter inserts many rows into one table in a transaction, as
// multi-row INSERTs of up to maxRows rows, through one prepared statement
// for full batches.
type bulkInserter struct {
	ctx     context.Context
	tx      *sql.Tx
	db      *sqldb.DB
	head    string // INSERT INTO t (a, b, c) VALUES
	tail    string // ON CONFLICT ..., or ""
	cols    int
	perStmt int
	args    []any
	full    *sql.Stmt
}

func newBulkInserter(ctx context.Context, tx *sql.Tx, db *sqldb.DB, table string, cols []string, tail string) *bulkInserter {
	per := min(maxRows, maxParams/len(cols))
	return &bulkInserter{ctx: ctx, tx: tx, db: db, cols: len(cols), perStmt: per, tail: tail,
		head: "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ",
		args: make([]any, 0, per*len(cols))}
}

// add adds a row; it flushes a full batch.
func (b *bulkInserter) add(vals ...any) error {
	b.args = append(b.args, vals...)
	if len(b.args) >= b.perStmt*b.cols {
		return b.flush()
	}
	return nil
}

// statement returns the INSERT of n rows.
func (b *bulkInserter) statement(n int) string {
	row := "(" + strings.Repeat("?, ", b.cols-1) + "?)"
	var sb strings.Builder
	sb.Grow(len(b.head) + n*(len(row)+2) + len(b.tail))
	sb.WriteString(b.head)
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(row)
	}
	sb.WriteString(b.tail)
	return b.db.Rebind(sb.String())
}

// flush inserts the rows added since the last flush.
func (b *bulkInserter) flush() error {
	n := len(b.args) / b.cols
	if n == 0 {
		return nil
	}
	var err error
	if n == b.perStmt {
		if b.full == nil {
			if b.full, err = b.tx.PrepareContext(b.ctx, b.statement(n)); err != nil {
				return err
			}
		}
		_, err = b.full.ExecContext(b.ctx, b.args...)
	} else {
		_, err = b.tx.ExecContext(b.ctx, b.statement(n), b.args...)
	}
	clear(b.args)
	b.args = b.args[:0]
	return err
}

// close flushes what is left and releases the prepared statement.
func (b *bulkInserter) close() error {
	err := b.flush()
	if b.full != nil {
		if cerr := b.full.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// bulkUpdater updates many rows of one table of a campaign in a
// transaction. On PostgreSQL it sends UPDATE ... FROM unnest(arrays), a
// column an array, joined on the key columns, so that a batch of rows is
// one round trip rather than one per row (the planner takes unnest for a
// few rows and looks each up by key). On SQLite, where a statement costs
// no round trip and UPDATE ... FROM scans the table, it runs one prepared
// UPDATE per row.
type bulkUpdater struct {
	ctx     context.Context
	tx      *sql.Tx
	db      *sqldb.DB
	table   string
	cols    []string // key columns first
	ints    []bool   // which columns are integers (cast: VALUES has no types on PostgreSQL)
	keys    int
	pk      int64
	perStmt int
	args    []any
	full    *sql.Stmt
}

// newBulkUpdater updates table's rows of campaign pk: cols are the
// columns of each row, the first keys of them its key; ints marks the
// integer columns.
func newBulkUpdater(ctx context.Context, tx *sql.Tx, db *sqldb.DB, pk int64, table string, cols []string, ints []bool, keys int) *bulkUpdater {
	per := pgBatch
	return &bulkUpdater{ctx: ctx, tx: tx, db: db, table: table, cols: cols, ints: ints, keys: keys, pk: pk, perStmt: per,
		args: make([]any, 0, per*len(cols))}
}

// add adds a row; it flushes a full batch.
func (b *bulkUpdater) add(vals ...any) error {
	if b.db.Dialect == sqldb.SQLite {
		return b.one(vals)
	}
	b.args = append(b.args, vals...)
	if len(b.args) >= b.perStmt*len(b.cols) {
		return b.flush()
	}
	return nil
}

// one updates one row through a prepared statement.
func (b *bulkUpdater) one(vals []any) error {
	if b.full == nil {
		var sb strings.Builder
		sb.WriteString("UPDATE " + b.table + " SET ")
		for i, c := range b.cols[b.keys:] {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(c + " = ?")
		}
		sb.WriteString(" WHERE campaign = ?")
		for _, c := range b.cols[:b.keys] {
			sb.WriteString(" AND " + c + " = ?")
		}
		var err error
		if b.full, err = b.tx.PrepareContext(b.ctx, b.db.Rebind(sb.String())); err != nil {
			return err
		}
	}
	args := append(b.args[:0], vals[b.keys:]...)
	args = append(args, b.pk)
	args = append(args, vals[:b.keys]...)
	_, err := b.full.ExecContext(b.ctx, args...)
	b.args = args[:0]
	return err
}

// pgBatch is how many rows one UPDATE of a bulkUpdater carries on
// PostgreSQL.
const pgBatch = 5000

// statement returns the PostgreSQL UPDATE of the rows in arrays.
func (b *bulkUpdater) statement() string {
	var sb strings.Builder
	sb.WriteString("UPDATE " + b.table + " SET ")
	for i, c := range b.cols[b.keys:] {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(c + " = v." + c)
	}
	sb.WriteString(" FROM unnest(")
	for i := range b.cols {
		if i > 0 {
			sb.WriteString(", ")
		}
		if b.ints[i] {
			sb.WriteString(fmt.Sprintf("CAST($%d AS bigint[])", i+1))
		} else {
			sb.WriteString(fmt.Sprintf("CAST($%d AS text[])", i+1))
		}
	}
	sb.WriteString(") AS v (" + strings.Join(b.cols, ", ") + ")")
	sb.WriteString(fmt.Sprintf(" WHERE %s.campaign = $%d", b.table, len(b.cols)+1))
	for _, c := range b.cols[:b.keys] {
		sb.WriteString(" AND " + b.table + "." + c + " = v." + c)
	}
	return sb.String()
}

// flush updates the rows added since the last flush (PostgreSQL).
func (b *bulkUpdater) flush() error {
	n := len(b.args) / len(b.cols)
	if n == 0 {
		return nil
	}
	arrays := make([]any, len(b.cols)+1)
	for i := range b.cols {
		if b.ints[i] {
			col := make([]int64, n)
			for r := range n {
				col[r] = toInt64(b.args[r*len(b.cols)+i])
			}
			arrays[i] = col
		} else {
			col := make([]string, n)
			for r := range n {
				col[r] = b.args[r*len(b.cols)+i].(string)
			}
			arrays[i] = col
		}
	}
	arrays[len(b.cols)] = b.pk
	var err error
	if b.full == nil {
		if b.full, err = b.tx.PrepareContext(b.ctx, b.statement()); err != nil {
			return err
		}
	}
	_, err = b.full.ExecContext(b.ctx, arrays...)
	clear(b.args[:cap(b.args)])
	b.args = b.args[:0]
	return err
}

// toInt64 returns an integer argument as an int64.
func toInt64(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	}
	panic(fmt.Sprintf("review: bulk update: %T is not an integer", v))
}

// close flushes what is left and releases the prepared statement.
func (b *bulkUpdater) close() error {
	err := b.flush()
	if b.full != nil {
		if cerr := b.full.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
