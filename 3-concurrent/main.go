//go:build cgo

// Lesson 3-concurrent is Task 2 of the guide (section 4.3, 3-concurrent.py):
// two queries at once. Python awaits asyncio.gather on an event loop, and
// aiosqlite runs each query on a thread; Go starts each fetch on a goroutine,
// and a sync.WaitGroup waits for both as the await does:
//
//	wg.Go(func() { all, errAll = asyncFetchUsers(ctx, db, logger) })
//	wg.Go(func() { older, errOlder = asyncFetchOlderUsers(ctx, db, logger, 40) })
//	wg.Wait()
//
// asyncio.gather cancels nothing when one fails; here the first error cancels
// the other's context, as asyncio.TaskGroup (or Go's errgroup.WithContext)
// does. One *sql.DB, a pool safe for concurrent use, serves both goroutines.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"sync"
)

// run is the guide's __main__ block: both fetches at once, then the rows.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := newLogger(stderr, "async.log")
	defer closeLog()
	// mode=rw never creates the file; 5000 ms is the driver's default.
	db, err := sql.Open("sqlite3", fileURI(dbPath)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	// sql.Open connects to nothing: a wrong path fails here, not in a fetch.
	if err := db.PingContext(ctx); err != nil {
		return advise(ctx, db, dbPath, err)
	}

	allUsers, olderUsers, err := fetchConcurrently(ctx, db, logger)
	if err != nil {
		return advise(ctx, db, dbPath, err, "age")
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

// fetchConcurrently is fetch_concurrently: both results, or the first error.
func fetchConcurrently(ctx context.Context, db *sql.DB, logger *slog.Logger) (all, older []pyRow, err error) {
	// The first fetch to fail cancels the other, its error as the cause.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var errAll, errOlder error
	var wg sync.WaitGroup
	wg.Go(func() {
		if all, errAll = asyncFetchUsers(ctx, db, logger); errAll != nil {
			cancel(errAll)
		}
	})
	wg.Go(func() {
		if older, errOlder = asyncFetchOlderUsers(ctx, db, logger, 40); errOlder != nil {
			cancel(errOlder)
		}
	})
	// Both returned. Success is what they say, not ctx: it may be canceled late.
	wg.Wait()
	if errAll != nil || errOlder != nil {
		return nil, nil, context.Cause(ctx) // the first error
	}
	return all, older, nil
}

// asyncFetchUsers is the guide's async_fetch_users: every user.
func asyncFetchUsers(ctx context.Context, db *sql.DB, logger *slog.Logger) ([]pyRow, error) {
	users, err := fetchAll(ctx, db, "SELECT * FROM users")
	if err != nil {
		return nil, fmt.Errorf("fetch all users: %w", err)
	}
	logger.Info("Fetched all users")
	return users, nil
}

// asyncFetchOlderUsers is async_fetch_older_users: the users older than age.
func asyncFetchOlderUsers(ctx context.Context, db *sql.DB, logger *slog.Logger, age int) ([]pyRow, error) {
	users, err := fetchAll(ctx, db, "SELECT * FROM users WHERE age > ?", age)
	if err != nil {
		return nil, fmt.Errorf("fetch users older than %d: %w", age, err)
	}
	logger.Info(fmt.Sprintf("Fetched users older than %d", age))
	return users, nil
}

// fetchAll is cursor.fetchall: every row as Python's sqlite3 returns it.
func fetchAll(ctx context.Context, db *sql.DB, query string, args ...any) ([]pyRow, error) {
	rows, err := queryAsStored(ctx, db, query, args...)
	if err != nil {
		return nil, err
	}
	// Close on every way out, a failed scan too: it frees the pool's connection.
	defer rows.Close()
	var users []pyRow
	for rows.Next() {
		user, err := scanRow(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, user)
	}
	// Next stops at the end and on an error (a canceled context, a value
	// SQLite cannot compute on a later row) alike: Err tells which.
	return users, rows.Err()
}
