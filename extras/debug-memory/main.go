// Extra debug-memory is a trap to know before you test edge cases (section
// 6.2 of the guide) on a database in memory.
//
// In Python, sqlite3.connect(":memory:") makes a new, empty database that
// lives as long as that one connection. In Go, sql.Open("sqlite3",
// ":memory:") is a pool, and each connection it opens to ":memory:" gets a
// new, empty database of its own: a table made on one connection is missing
// on the next, "no such table". The pool opens another connection whenever
// two uses overlap (open rows, a transaction, goroutines), so the bug comes
// and goes with the load. Two fixes:
//
//   - SQLite's memdb VFS: "file:/NAME?vfs=memdb", a name that begins with
//     "/", is one database for every connection of the process that opens
//     that name. It lives while one of them is open.
//   - db.SetMaxOpenConns(1): every query runs on the one connection, and the
//     database lives as long as it does. The pool closes it more often than
//     it seems: with SetMaxIdleConns(0), when SetConnMaxLifetime or
//     SetConnMaxIdleTime runs out, and when a transaction's context ends
//     before Commit or Rollback.
//
// A shared cache ("file::memory:?cache=shared") works too, but SQLite's
// documentation discourages any use of it, and its locks fail at once with
// SQLITE_LOCKED instead of waiting for the busy timeout.
//
// The lesson copies one column of the users table, name, which may have any
// type and hold NULLs.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sync"

	"workbook/internal/dbfile"
	"workbook/internal/guidelog"
	"workbook/internal/lesson"
)

// main runs the lesson as a program: lesson.Main reads -db, turns Ctrl-C
// into a cancelled ctx, and prints run's error as one line.
func main() { lesson.Main("extras/debug-memory", run) }

// memdbDSN names the memdb database of this lesson.
const memdbDSN = "file:/users?vfs=memdb"

// run copies the names of the users in the file at dbPath into databases in
// memory, and shows the trap and its two fixes.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "debugging.log")
	defer closeLog()
	// mode=rw never creates a file; 5000 ms is the driver's busy timeout
	// anyway, written here to be seen.
	disk, err := sql.Open("sqlite3", dbfile.URI(dbPath)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer disk.Close()
	// sql.Open connects to nothing: PingContext proves the file is there.
	if err := disk.PingContext(ctx); err != nil {
		err = dbfile.Explain(ctx, disk, dbPath, err)
		logger.Error("Connection error: " + err.Error())
		return err
	}
	logger.Info("Opened connection to " + dbPath)
	names, err := userNames(ctx, disk)
	if err != nil {
		return dbfile.Explain(ctx, disk, dbPath, err, "name")
	}
	trap, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		return err
	}
	defer trap.Close()
	_, err = copyThenCount(ctx, trap, names)
	fmt.Fprintf(stdout, "\":memory:\": %d users copied on connection 1; connection 2 says: %v\n", len(names), err)

	memdb, err := sql.Open("sqlite3", memdbDSN)
	if err != nil {
		return err
	}
	defer memdb.Close()
	n, err := copyThenCount(ctx, memdb, names)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Fix 1, %q: connection 2 counts %d users\n", memdbDSN, n)

	one, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		return err
	}
	defer one.Close()
	one.SetMaxOpenConns(1)
	if err := copyUsers(ctx, one, names); err != nil {
		return err
	}
	counts, err := countFromGoroutines(ctx, one, 4)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Fix 2, \":memory:\" with SetMaxOpenConns(1): 4 goroutines at once count %v users, through at most %d connection\n",
		counts, one.Stats().MaxOpenConnections)
	fmt.Fprintf(stdout, "  but after a transaction whose context ended before Commit: %v\n", insertThenCancel(ctx, one))
	return nil
}

// userNames reads the names of users.db's users. A name may be NULL, so
// each is a sql.Null[string], which the copy writes back as NULL.
func userNames(ctx context.Context, db *sql.DB) ([]sql.Null[string], error) {
	rows, err := db.QueryContext(ctx, "SELECT name FROM users")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []sql.Null[string]
	for rows.Next() {
		var name sql.Null[string]
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	return names, rows.Err()
}

// execer is what *sql.DB and *sql.Conn have in common to run a statement.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// copyUsers makes the table users in db and adds the names to it.
func copyUsers(ctx context.Context, db execer, names []sql.Null[string]) error {
	if _, err := db.ExecContext(ctx, "CREATE TABLE users (name TEXT)"); err != nil {
		return err
	}
	for _, name := range names {
		if _, err := db.ExecContext(ctx, "INSERT INTO users (name) VALUES (?)", name); err != nil {
			return err
		}
	}
	return nil
}

// copyThenCount copies the users on a connection it holds, and meanwhile
// counts them through the pool, which must open a second connection.
func copyThenCount(ctx context.Context, db *sql.DB, names []sql.Null[string]) (n int, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if err := copyUsers(ctx, conn, names); err != nil {
		return 0, err
	}
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n)
	return n, err
}

// countFromGoroutines counts the users from several goroutines at once;
// each writes only its own element of counts and errs.
func countFromGoroutines(ctx context.Context, db *sql.DB, goroutines int) ([]int, error) {
	counts := make([]int, goroutines)
	errs := make([]error, goroutines)
	var wg sync.WaitGroup
	for i := range goroutines {
		wg.Go(func() {
			errs[i] = db.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&counts[i])
		})
	}
	wg.Wait()
	return counts, errors.Join(errs...)
}

// insertThenCancel inserts a user in a transaction and cancels its context
// before Commit or Rollback, the mistake it shows. database/sql then rolls
// back and closes the connection, since it cannot tell whether the
// connection is still fit, and the in-memory database goes with it. It
// returns the error of the next count.
func insertThenCancel(ctx context.Context, db *sql.DB) error {
	txCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	tx, err := db.BeginTx(txCtx, nil)
	if err != nil {
		return err
	}
	// The usual guard, which finds nothing left to do here: once txCtx
	// has ended, database/sql has rolled back already.
	defer tx.Rollback()
	if _, err := tx.ExecContext(txCtx, "INSERT INTO users (name) VALUES (?)", "lost"); err != nil {
		return err
	}
	cancel()
	var n int
	return db.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n)
}
