package review

import (
	"context"
	"database/sql"
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
