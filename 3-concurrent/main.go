// Lesson 3-concurrent is Task 2 of the guide (section 4.3, 3-concurrent.py):
// two queries at once. Python awaits asyncio.gather on an event loop, and
// aiosqlite runs each query on a thread of its own. Go starts each fetch on
// a goroutine, and a sync.WaitGroup waits for both, as the await does:
//
//	wg.Go(func() { ... fetchUsers(ctx, db, logger) ... })
//	wg.Go(func() { ... fetchOlderUsers(ctx, db, logger, 40) ... })
//	wg.Wait()
//
// asyncio.gather cancels nothing when one coroutine fails. Here the first
// error cancels the other fetch's context, as Python's asyncio.TaskGroup
// (or errgroup.WithContext in Go) does. One *sql.DB, a pool of connections
// that is safe for concurrent use, serves both goroutines.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"workbook/internal/dbfile"
	"workbook/internal/guidelog"
	"workbook/internal/lesson"
	"workbook/internal/pyrow"
)

// main runs the lesson as a program: lesson.Main reads -db, turns Ctrl-C
// into a cancelled ctx, and prints run's error as one line.
func main() { lesson.Main("3-concurrent", run) }

// run is the guide's `if __name__ == "__main__"` block: both fetches at
// once, then the rows of each.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "async.log")
	defer closeLog()

	// mode=rw opens a file that exists and never creates one, so a mistyped
	// path fails. _busy_timeout=5000 waits up to 5 s for another program's
	// write; 5000 ms is this driver's default anyway.
	db, err := sql.Open("sqlite3", dbfile.URI(dbPath)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	// sql.Open connects to nothing. Ping opens a connection, so that a
	// wrong path is reported before any fetch starts.
	if err := db.PingContext(ctx); err != nil {
		return dbfile.Explain(ctx, db, dbPath, err)
	}

	allUsers, olderUsers, err := fetchConcurrently(ctx, db, logger)
	if err != nil {
		// The second query needs the age column: Explain names the
		// columns the table has, if age is not one of them.
		return dbfile.Explain(ctx, db, dbPath, err, "age")
	}
	fmt.Fprintln(stdout, "All users:")
	for _, user := range allUsers {
		fmt.Fprintln(stdout, user)
	}
	fmt.Fprintln(stdout, "\nUsers older than 40:")
	for _, user := range olderUsers {
		fmt.Fprintln(stdout, user)
	}
	return nil
}

// fetchConcurrently is the guide's fetch_concurrently: it runs both fetches
// at the same time and returns both results, or the first error.
func fetchConcurrently(ctx context.Context, db *sql.DB, logger *slog.Logger) (all, older []pyrow.Row, err error) {
	// Both fetches share this context. The first one to fail cancels it,
	// with its own error as the cause, and the other one stops.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var errAll, errOlder error
	var wg sync.WaitGroup
	wg.Go(func() {
		all, errAll = fetchUsers(ctx, db, logger)
		if errAll != nil {
			cancel(errAll)
		}
	})
	wg.Go(func() {
		older, errOlder = fetchOlderUsers(ctx, db, logger, 40)
		if errOlder != nil {
			cancel(errOlder)
		}
	})
	// Each goroutine writes only its own variables, and they may be read
	// only once Wait has returned.
	wg.Wait()

	// The fetches' own errors decide, not ctx: a caller may cancel ctx
	// just after both fetches succeeded, and the results are whole.
	if errAll != nil || errOlder != nil {
		return nil, nil, context.Cause(ctx) // the error that cancelled first
	}
	return all, older, nil
}

// fetchUsers is the guide's async_fetch_users: every user.
func fetchUsers(ctx context.Context, db *sql.DB, logger *slog.Logger) ([]pyrow.Row, error) {
	users, err := fetchAll(ctx, db, "SELECT * FROM users")
	if err != nil {
		return nil, fmt.Errorf("fetch all users: %w", err)
	}
	logger.Info("Fetched all users")
	return users, nil
}

// fetchOlderUsers is the guide's async_fetch_older_users: the users older
// than age.
func fetchOlderUsers(ctx context.Context, db *sql.DB, logger *slog.Logger, age int) ([]pyrow.Row, error) {
	users, err := fetchAll(ctx, db, "SELECT * FROM users WHERE age > ?", age)
	if err != nil {
		return nil, fmt.Errorf("fetch users older than %d: %w", age, err)
	}
	logger.Info(fmt.Sprintf("Fetched users older than %d", age))
	return users, nil
}

// fetchAll reads every row of the query, as Python's cursor.fetchall does,
// each row as Python's sqlite3 returns it.
func fetchAll(ctx context.Context, db *sql.DB, query string, params ...any) ([]pyrow.Row, error) {
	rows, err := pyrow.Query(ctx, db, query, params...)
	if err != nil {
		return nil, err
	}
	// Close the rows however this function returns, a failed scan too:
	// until then they hold one of the pool's connections.
	defer rows.Close()
	var all []pyrow.Row
	for rows.Next() {
		row, err := pyrow.Scan(rows)
		if err != nil {
			return nil, err
		}
		all = append(all, row)
	}
	// Next returns false at the end of the rows and on an error alike (a
	// cancelled context, a value SQLite cannot compute on a later row):
	// only rows.Err tells them apart.
	return all, rows.Err()
}
