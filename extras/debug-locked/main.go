//go:build cgo

// Extra debug-locked is the first edge case that section 6.2 of the guide
// asks you to test: a database locked by another connection.
//
// SQLite lets one connection write at a time. In Python, a connection that
// wants to write while another holds the lock waits up to the timeout of
// sqlite3.connect (5 seconds unless you say otherwise), then raises
// sqlite3.OperationalError "database is locked", whose sqlite_errorcode is
// sqlite3.SQLITE_BUSY.
//
// In Go the wait is _busy_timeout in the data source name, in milliseconds
// (5000 is this driver's default), and the error is told apart with
// errors.As and SQLite's result code, never by its text, which is for people:
//
//	var sqliteErr sqlite3.Error
//	if errors.As(err, &sqliteErr) && sqliteErr.Code == sqlite3.ErrBusy {
//
// A context does not cut this wait short. When the context ends, the driver
// asks SQLite to interrupt the statement, but SQLite's busy handler sleeps
// on until _busy_timeout is used up; only then does BeginTx return, with
// "database is locked". Ctrl-C, which cancels the lesson's context, waits as
// long. Keep _busy_timeout below the deadlines you set.
//
// Here connection A plays the other program: it takes the write lock of the
// database file, and B, this program, asks for it. Neither of them writes
// or reads a table, so any SQLite database file will do.
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
	"strconv"
	"time"

	"github.com/mattn/go-sqlite3"

	"workbook/internal/dbfile"
	"workbook/internal/guidelog"
	"workbook/internal/lesson"
)

// main runs the lesson as a program: lesson.Main reads -db, turns Ctrl-C
// into a cancelled ctx, and prints run's error as one line.
func main() { lesson.Main("extras/debug-locked", run) }

// waitMillis is B's _busy_timeout, shorter than the default so that the
// lesson gives up quickly; deadline is shorter still.
const (
	waitMillis = 500
	deadline   = 100 * time.Millisecond
)

// run shows B waiting for the write lock that A holds, first with no
// deadline, then with one, and then taking the lock once A lets it go.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "debugging.log")
	defer closeLog()

	// A waits for the lock up to 5000 ms, which is the driver's default
	// anyway; it is written here to be seen.
	a, err := openDB(ctx, dbPath, 5000)
	if err != nil {
		logger.Error("Connection error: " + err.Error())
		return err
	}
	defer a.Close()
	b, err := openDB(ctx, dbPath, waitMillis)
	if err != nil {
		logger.Error("Connection error: " + err.Error())
		return err
	}
	defer b.Close()
	logger.Info("Opened connections A and B to " + dbPath)

	// _txlock=immediate makes BeginTx run BEGIN IMMEDIATE, which takes the
	// write lock at once. The deferred Rollback lets it go on every path.
	txA, err := a.BeginTx(ctx, nil)
	if err != nil {
		return dbfile.Explain(ctx, a, dbPath, err)
	}
	defer txA.Rollback()
	fmt.Fprintln(stdout, "A: BEGIN IMMEDIATE holds the write lock of", dbPath)

	start := time.Now()
	err = takeWriteLock(ctx, b)
	logger.Info(fmt.Sprintf("B waited %v, then: %v", time.Since(start).Round(time.Millisecond), err))
	if !isBusy(err) {
		return fmt.Errorf("B asked for the lock that A holds: got %v, want database is locked", err)
	}
	fmt.Fprintf(stdout, "B (_busy_timeout=%d): %v; errors.As finds Code sqlite3.ErrBusy: %t\n", waitMillis, err, isBusy(err))

	// The same with a context whose deadline comes first: B still waits
	// its whole busy timeout, and the error is still SQLite's.
	short, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	start = time.Now()
	err = takeWriteLock(short, b)
	waited := time.Since(start)
	if !isBusy(err) || waited < waitMillis*time.Millisecond {
		return fmt.Errorf("B with a %v deadline: got %v after %v, want database is locked after %d ms", deadline, err, waited, waitMillis)
	}
	fmt.Fprintf(stdout, "B with a %v deadline: %v, after the whole %d ms all the same\n", deadline, err, waitMillis)

	if err := txA.Rollback(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "A: ROLLBACK let the lock go")
	if err := takeWriteLock(ctx, b); err != nil {
		return dbfile.Explain(ctx, b, dbPath, err)
	}
	fmt.Fprintln(stdout, "B: took the write lock at once and let it go; nothing was written")
	return nil
}

// openDB opens the existing file at path with the given busy timeout, and
// proves with PingContext that it is there, since sql.Open connects to
// nothing. The settings are in the data source name, so that every
// connection the pool opens gets them.
func openDB(ctx context.Context, path string, busyMillis int) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw&_txlock=immediate&_busy_timeout="+strconv.Itoa(busyMillis))
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(dbfile.Explain(ctx, db, path, err), db.Close())
	}
	return db, nil
}

// takeWriteLock takes the write lock and lets it go without writing:
// BEGIN IMMEDIATE, then ROLLBACK.
func takeWriteLock(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	return tx.Rollback()
}

// isBusy reports whether err is SQLite's SQLITE_BUSY, also when it was
// wrapped by fmt.Errorf("...: %w", err) on its way up.
func isBusy(err error) bool {
	var sqliteErr sqlite3.Error
	return errors.As(err, &sqliteErr) && sqliteErr.Code == sqlite3.ErrBusy
}
