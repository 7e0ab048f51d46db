// Your turn: write Task 1 in Go (the guide's 1-execute.py).
//
// This is the lesson's main.go with its teaching lines taken out. Fill in
// each TODO, in order, as the guide's steps go: ExecuteQuery opens the
// database and runs the query with its parameter in a placeholder, fetchAll
// reads every row and closes them, Close closes the database, and run
// defers that Close. Run your program and the checker from the top folder:
//
//	go run ./1-execute/exercise
//	go test -tags exercise ./1-execute/exercise
//
// The checker runs your program and says, step by step, what it did and
// what the lesson does instead. When it passes, compare your file with
// ../main.go.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"workbook/internal/guidelog"
	"workbook/internal/lesson"
	"workbook/internal/pyrow"
	"workbook/internal/statement"
)

func main() { lesson.Main("1-execute/exercise", run) }

// run is the guide's `if __name__ == "__main__"` block: the users older
// than 25.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "query.log")
	defer closeLog()

	// TODO 1: the query: the users older than 25. Its text is a constant
	// with a ? where the age goes, and 25 is passed after it, never
	// written into the text.
	results, err := ExecuteQuery(ctx, logger, dbPath, "TODO 1")
	if err != nil {
		return err
	}
	// TODO 5: close the results however run returns, with one line here.
	for _, row := range results.Rows {
		if _, err := fmt.Fprintln(stdout, row); err != nil {
			return err
		}
	}
	return nil
}

// Results is what __enter__ returns, every row, with what __exit__ needs.
type Results struct {
	Rows   []pyrow.Row
	db     *sql.DB
	name   string
	logger *slog.Logger
}

// ExecuteQuery does __enter__: it opens the database file at dbPath, runs
// query with params bound to its placeholders, and reads every row.
func ExecuteQuery(ctx context.Context, logger *slog.Logger, dbPath, query string, params ...any) (*Results, error) {
	// TODO 2: open dbPath with sql.Open("sqlite3", ...): dbfile.URI(dbPath)
	// (import "workbook/internal/dbfile")
	// and SQLite's mode=rw, so that a mistyped path is an error instead of
	// a new, empty database.
	//
	// TODO 3: read every row with fetchAll(ctx, cursor{db}, query,
	// params...). If it fails: log "Query error: " + the error as an
	// error; then err = dbfile.Explain(ctx, db, dbPath, err, "age") while
	// db is still open (it reads the table's columns to say which it has);
	// then close the database without logging it (Python never calls
	// __exit__ when __enter__ raises), and return nil, err. If it works:
	// log "Executed query: " + query + " with params: " +
	// pyrow.Row(params).String(), and return
	// &Results{Rows: rows, db: db, name: dbPath, logger: logger}.
	//
	// The return below is a placeholder: replace it, and delete the
	// "errors" import with it, or Go refuses to build ("imported and not
	// used").
	return nil, errors.New("ExecuteQuery is not written yet: TODO 2 and TODO 3 in 1-execute/exercise/main.go")
}

// Close does __exit__.
func (r *Results) Close() error {
	// TODO 4: close the database, then log "Closed connection to " + the
	// name, and return Close's error.
	return nil
}

// fetchAll reads every row of the query, as Python's cursor.fetchall does.
func fetchAll(ctx context.Context, c cursor, query string, params ...any) ([]pyrow.Row, error) {
	rows, err := pyrow.Query(ctx, c, query, params...)
	if err != nil {
		return nil, err
	}
	// TODO 3: close the rows however fetchAll returns, right here, after
	// the error check: open rows hold one of the pool's connections. The
	// checker cannot see this line missing (the program ends and the system
	// closes the file anyway); the diff with ../main.go shows it, and the
	// page's "Try it" 5 shows what it guards.
	var all []pyrow.Row
	for rows.Next() {
		row, err := pyrow.Scan(rows)
		if err != nil {
			return nil, err
		}
		all = append(all, row)
	}
	// TODO 3: rows.Next returns false at the end and on an error alike:
	// return what tells them apart, instead of nil.
	return all, nil
}

// cursor runs a query as Python's cursor.execute does: one statement only,
// prepared, so that database/sql counts the parameters. The driver does
// neither by itself: its Query runs every statement in the string and drops
// surplus parameters; its prepared statement ignores all but the first.
type cursor struct{ db *sql.DB }

func (c cursor) QueryContext(ctx context.Context, query string, params ...any) (*sql.Rows, error) {
	if err := statement.CheckOne(query); err != nil {
		return nil, err
	}
	stmt, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	// The rows keep the statement open until they are closed.
	defer stmt.Close()
	return stmt.QueryContext(ctx, params...)
}
