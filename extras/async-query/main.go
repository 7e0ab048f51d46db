// Extra async-query is the guide's section 5.2 (Listing 9):
// async_execute_query, an @asynccontextmanager that connects with
// aiosqlite, runs one query with its parameters, fetches every row and
// yields the rows to the async with block. Because the query is awaited, a
// caller can give up on it: asyncio.wait_for gives it a timeout, and
// task.cancel() cancels it.
//
// In Go the query is an ordinary function call, and giving up on it is the
// job of the context.Context passed to it. When the context's deadline
// passes, or another goroutine cancels it, the driver interrupts the
// statement that SQLite is running, and the query returns the context's
// error:
//
//	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
//	defer cancel() // frees the timer if the query ends first
//	rows, err := executeQuery(ctx, db, query)
//	// errors.Is(err, context.DeadlineExceeded)
//
// The connection goes back to the pool in working order, ready for the next
// query. Ctrl-C cancels the program's context the same way.
//
// A context does not cut short a wait for another connection's lock: SQLite
// waits up to the busy timeout (_busy_timeout, 5000 ms here), whatever the
// deadline, and the query returns only then. What it returns depends on
// where it waited. On a connection already in the pool, the usual case,
// the wait is in the query's first step, and the query returns the
// context's error, context.DeadlineExceeded. On a connection that the pool
// opens for the query, the wait is in the driver's Open, which takes no
// context, and the query fails with "database is locked" (sqlite3.ErrBusy).
// Either way, keep the busy timeout shorter than a deadline that must be
// kept.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"workbook/internal/dbfile"
	"workbook/internal/guidelog"
	"workbook/internal/lesson"
	"workbook/internal/pyrow"
)

// main runs the lesson as a program: lesson.Main reads -db, turns Ctrl-C
// into a cancelled ctx, and prints run's error as one line.
func main() { lesson.Main("extras/async-query", run) }

// countForever never ends on its own: the recursive CTE counts 1, 2, 3, ...
// with no end, and count(*) waits for the last row. Only an interrupt stops
// it. It holds one row at a time, so it takes no more memory as it runs.
const countForever = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"

// run does what the guide's section 5.2 shows, the users older than 40,
// then stops a query that never ends in the two ways a context can.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "async.log")
	defer closeLog()

	// mode=rw opens an existing file and never creates one; 5000 ms of busy
	// timeout is the driver's default too, written here so it can be seen.
	db, err := sql.Open("sqlite3", dbfile.URI(dbPath)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	// sql.Open connects to nothing: PingContext proves that the file opens.
	if err := db.PingContext(ctx); err != nil {
		err = dbfile.Explain(ctx, db, dbPath, err)
		logger.Error("Connection error: " + err.Error())
		return err
	}
	logger.Info("Opened connection to " + dbPath)

	// async with async_execute_query('users.db', ..., (40,)) as results:
	results, err := executeQuery(ctx, db, "SELECT * FROM users WHERE age > ?", 40)
	if err != nil {
		return dbfile.Explain(ctx, db, dbPath, err, "age")
	}
	logger.Info("Fetched users older than 40")
	fmt.Fprintln(stdout, "Users older than 40:")
	for _, row := range results {
		fmt.Fprintln(stdout, row)
	}

	// A deadline stops a query that would never end.
	fmt.Fprintln(stdout, "\nA query that never ends, with a deadline of 200ms:")
	withDeadline, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = executeQuery(withDeadline, db, countForever)
	if !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the query with a deadline: %w", err)
	}
	fmt.Fprintln(stdout, "Stopped:", err)

	// So does a cancel from another goroutine: time.AfterFunc calls
	// cancelQuery in a goroutine of its own 100 ms from now. The deferred
	// call frees the context at once if run returns before then.
	fmt.Fprintln(stdout, "\nThe same query, canceled by another goroutine after 100ms:")
	canceled, cancelQuery := context.WithCancel(ctx)
	defer cancelQuery()
	time.AfterFunc(100*time.Millisecond, cancelQuery)
	_, err = executeQuery(canceled, db, countForever)
	if !errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return fmt.Errorf("the canceled query: %w", err)
	}
	fmt.Fprintln(stdout, "Stopped:", err)
	return nil
}

// executeQuery is async_execute_query: it runs query with params as the
// placeholders' values and reads every row, as fetchall does. ctx bounds
// all of it, the query and the reading of the rows. The pool lends it a
// connection and takes it back when the rows are closed, so once it has
// returned there is nothing left to close.
func executeQuery(ctx context.Context, db *sql.DB, query string, params ...any) ([]pyrow.Row, error) {
	rows, err := pyrow.Query(ctx, db, query, params...)
	if err != nil {
		return nil, err
	}
	// Close the rows however this function returns: until then they hold
	// one of the pool's connections.
	defer rows.Close()

	var results []pyrow.Row
	for rows.Next() {
		row, err := pyrow.Scan(rows)
		if err != nil {
			return nil, err
		}
		results = append(results, row)
	}
	// Next returns false at the end of the rows and on an error, a
	// deadline or a cancel included; only Err tells them apart.
	return results, rows.Err()
}
