// Your turn: write Task 2 in Go (the guide's 3-concurrent.py).
//
// This is the lesson's main.go with its teaching lines taken out. Fill in
// each TODO, in order, as the guide's steps go: one pool for both fetches,
// the two fetch functions, and fetchConcurrently, which runs them at the
// same time as asyncio.gather does and cancels the other when one fails.
// Run your program and the checker from the top folder:
//
//	go run ./3-concurrent/exercise
//	go test -tags exercise ./3-concurrent/exercise
//
// The checker runs your program and says, step by step, what it did and
// what the lesson does instead. When it passes, compare your file with
// ../main.go.
//
// The imports are the stub's: once TODO 1 and TODO 4 have replaced the
// placeholders, nothing uses "errors" (go build stops: "errors" imported
// and not used), so delete it; and TODO 4 needs "sync", so add it.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"workbook/internal/dbfile"
	"workbook/internal/guidelog"
	"workbook/internal/lesson"
	"workbook/internal/pyrow"
)

func main() { lesson.Main("3-concurrent/exercise", run) }

// run is the guide's `if __name__ == "__main__"` block: both fetches at
// once, then the rows of each.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "async.log")
	defer closeLog()

	// TODO 1: open one pool for both fetches: sql.Open("sqlite3", ...)
	// with dbfile.URI(dbPath) and SQLite's mode=rw (the lesson adds
	// &_busy_timeout=5000, this driver's default written out), close it
	// however run returns, and prove the file is a database with
	// db.PingContext (on failure, return dbfile.Explain(ctx, db, dbPath,
	// err)) before any fetch starts. Your lines replace the four below.
	var db *sql.DB
	if db == nil {
		return errors.New("the pool is not opened yet: TODO 1 in 3-concurrent/exercise/main.go")
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
	// TODO 4: run fetchUsers and fetchOlderUsers (age 40) at the same
	// time, each on a goroutine of its own (a sync.WaitGroup's Go method),
	// each writing only its own result and error variables, and wait for
	// both, as await asyncio.gather does. Then return both results, or the
	// error of a fetch that failed (TODO 5 changes which error).
	//
	// TODO 5: asyncio.gather leaves the other task running when one fails;
	// cancel it instead. Give both fetches a context from
	// context.WithCancelCause(ctx) (and defer cancel(nil)); a fetch that
	// fails calls cancel with its error. After Wait, if either fetch
	// failed, return context.Cause of that context: the first error.
	return nil, nil, errors.New("fetchConcurrently is not written yet: TODO 4 and TODO 5 in 3-concurrent/exercise/main.go")
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
	// TODO 3: the users older than age: a constant query with a ? where
	// the age goes, and age passed after it, never written into the text.
	users, err := fetchAll(ctx, db, "TODO 3")
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
	// TODO 2: close the rows however fetchAll returns, right here, after
	// the error check: open rows hold one of the pool's connections.
	var all []pyrow.Row
	for rows.Next() {
		row, err := pyrow.Scan(rows)
		if err != nil {
			return nil, err
		}
		all = append(all, row)
	}
	// TODO 2: rows.Next returns false at the end and on an error alike:
	// return what tells them apart, instead of nil.
	return all, nil
}
