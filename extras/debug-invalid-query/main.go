//go:build cgo

// Extra debug-invalid-query is the second edge case that section 6.2 of the
// guide asks you to test: invalid queries.
//
// Python's sqlite3 raises sqlite3.OperationalError for a syntax error, a
// table that does not exist and a column that does not exist; all three
// carry sqlite_errorcode SQLITE_ERROR. A wrong number of parameters is a
// sqlite3.ProgrammingError, which Python raises before SQLite runs
// anything. Either way, the connection is still fine: the error fails the
// statement, not the connection.
//
// In Go, errors.As finds the sqlite3.Error inside the error, and its Code
// says what kind of failure it is:
//
//	var sqliteErr sqlite3.Error
//	if errors.As(err, &sqliteErr) && sqliteErr.Code == sqlite3.ErrError {
//	    // the SQL is wrong: fix the query, retrying will not help
//
// The three SQL mistakes share that code; only the message, which is for
// people, says which one it was. A missing argument is refused by the
// driver before SQLite runs anything, so there is no sqlite3.Error at all.
//
// The lesson needs a users table (or view) with an age column; its other
// columns and its rows may be anything.
//
// Unlike the other lessons, this one builds only with cgo, as its first
// line says: sqlite3.Error and its codes, which it classifies errors with,
// are defined in the driver's C part, which a build without cgo leaves out.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"

	"github.com/mattn/go-sqlite3"

	"workbook/internal/dbfile"
	"workbook/internal/guidelog"
	"workbook/internal/lesson"
)

// main runs the lesson as a program: lesson.Main reads -db, turns Ctrl-C
// into a cancelled ctx, and prints run's error as one line.
func main() { lesson.Main("extras/debug-invalid-query", run) }

// olderThan is a valid query with one placeholder; the last of
// invalidQueries is the same query run without its argument.
const olderThan = "SELECT * FROM users WHERE age > ?"

// invalidQueries are the mistakes the lesson makes on purpose.
var invalidQueries = []string{
	"SELEC * FROM users",    // a misspelt keyword
	"SELECT * FROM usres",   // a misspelt table
	"SELECT nme FROM users", // a misspelt column
	olderThan,               // a placeholder, run with no argument
}

// run opens the database, runs the invalid queries on one connection, and
// says what went wrong with each.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "debugging.log")
	defer closeLog()
	// mode=rw never creates a file; 5000 ms is the driver's default busy
	// timeout anyway, written here to be seen.
	db, err := sql.Open("sqlite3", dbfile.URI(dbPath)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	// sql.Open connects to nothing: PingContext proves the file is there.
	if err := db.PingContext(ctx); err != nil {
		err = dbfile.Explain(ctx, db, dbPath, err)
		logger.Error("Connection error: " + err.Error())
		return err
	}
	logger.Info("Opened connection to " + dbPath)
	if err := tryInvalidQueries(ctx, db, stdout); err != nil {
		// The advice names what the users table lacks, if that is why.
		return dbfile.Explain(ctx, db, dbPath, err, "age")
	}
	return nil
}

// tryInvalidQueries runs each invalid query, says what went wrong, and then
// runs a valid one. db.Conn takes one connection from the pool, so they all
// run on the same connection; Close gives it back.
func tryInvalidQueries(ctx context.Context, db *sql.DB, stdout io.Writer) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()

	// First the valid form of the last mistake. Preparing it makes SQLite
	// look up its table and columns without running it, so that on a users
	// table with no age column the lesson stops with advice instead of
	// showing "no such column: age" as the mistake.
	stmt, err := conn.PrepareContext(ctx, olderThan)
	if err != nil {
		return err
	}
	if err := stmt.Close(); err != nil {
		return err
	}
	for _, query := range invalidQueries {
		err := tryQuery(ctx, conn, query)
		fmt.Fprintf(stdout, "%s\n  %v\n  %s\n", query, err, classify(err))
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "The same connection still works: SELECT count(*) FROM users = %d\n", n)
	return nil
}

// tryQuery runs query and reads none of its rows: only its error matters.
// SQLite finds a mistake in the SQL as it prepares the query, and the
// driver a missing argument before SQLite runs it, so QueryContext
// returns those errors.
func tryQuery(ctx context.Context, conn *sql.Conn, query string, args ...any) error {
	rows, err := conn.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	// The rows hold the connection until they are closed, read or not.
	return rows.Close()
}

// classify says what kind of error err is, from SQLite's result code. It
// finds the sqlite3.Error with errors.As, so that an error wrapped on its
// way up with fmt.Errorf("...: %w", err) is classified the same.
func classify(err error) string {
	if err == nil {
		return "no error: this query is valid on this table"
	}
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) {
		return "no sqlite3.Error: the driver refused the call before SQLite ran it (Python: ProgrammingError)"
	}
	switch sqliteErr.Code {
	case sqlite3.ErrError:
		return "sqlite3.ErrError: the SQL is wrong; fix the query, running it again will not help (Python: OperationalError)"
	case sqlite3.ErrBusy:
		return "sqlite3.ErrBusy: another connection holds the lock; try again later"
	case sqlite3.ErrConstraint:
		return "sqlite3.ErrConstraint: the data breaks a rule of the table (Python: IntegrityError)"
	}
	return fmt.Sprintf("sqlite3.Error with Code %d: %v", int(sqliteErr.Code), sqliteErr.Code)
}
