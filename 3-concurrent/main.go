//go:build cgo

// Lesson 3-concurrent is Task 2 of the guide (section 4.3, 3-concurrent.py):
// two queries run at the same time.
//
// Python writes two coroutines (async def) and runs them together with
// asyncio.gather on one event loop; aiosqlite runs each query on a thread of
// its own, and each coroutine opens its own connection with async with.
//
// Go needs no async keyword: any function can run concurrently by starting
// it on a goroutine with the go statement. A sync.WaitGroup waits for the
// goroutines to finish, as await asyncio.gather(...) does, and a context
// carries cancelation from one to the others.
//
// Go also shares one *sql.DB between the goroutines where the Python opens a
// connection per coroutine. A *sql.DB is not a connection but a pool of
// them, safe for concurrent use: each query borrows a connection, opening a
// new one if none is idle, and returns it when its rows are closed. Two
// queries at once get two connections from the same pool.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

func main() {
	dbPath := flag.String("db", "users.db", "path of the SQLite database made by 00-setup")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "unexpected argument %q: give the database path with -db\n", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}
	if *dbPath == "" {
		fmt.Fprintln(os.Stderr, "the -db path is empty: give the database file, such as -db users.db")
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), *dbPath, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "Database error:", err)
		os.Exit(1)
	}
}

// run is the guide's `if __name__ == "__main__"` block: fetch both lists at
// once, then print them.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) (err error) {
	logger, closeLog := newLogger(stderr, "async.log")
	defer closeLog()

	db, err := openDatabase(ctx, dbPath)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()

	allUsers, olderUsers, err := fetchConcurrently(ctx, db, logger)
	if err != nil {
		return err
	}

	// A buffered writer collects the output and writes it in large pieces
	// instead of one system call per line.
	w := bufio.NewWriterSize(stdout, 64<<10)
	w.WriteString("All users:\n")
	writeUsers(w, allUsers)
	w.WriteString("\nUsers older than 40:\n")
	writeUsers(w, olderUsers)
	// Flush writes what is still buffered; its error is the first write
	// error of all, since a bufio.Writer stops writing after one.
	return w.Flush()
}

// writeUsers writes one line per user. Each line is built straight into the
// writer's free buffer space (AvailableBuffer) and then written, so printing
// a user allocates nothing: at a million users, that is most of the cost.
func writeUsers(w *bufio.Writer, users []User) {
	for _, u := range users {
		line := u.appendTuple(w.AvailableBuffer())
		w.Write(append(line, '\n'))
	}
}

// asyncFetchUsers is the guide's async_fetch_users: every user.
func asyncFetchUsers(ctx context.Context, db *sql.DB, logger guideLogger) ([]User, error) {
	users, err := queryUsers(ctx, db,
		"SELECT count(*) FROM users",
		"SELECT id, name, email, age FROM users")
	if err != nil {
		return nil, fmt.Errorf("fetch all users: %w", err)
	}
	logger.Info("Fetched all users")
	return users, nil
}

// asyncFetchOlderUsers is the guide's async_fetch_older_users: the users
// older than age, which is bound to the ? placeholder.
func asyncFetchOlderUsers(ctx context.Context, db *sql.DB, logger guideLogger, age int) ([]User, error) {
	users, err := queryUsers(ctx, db,
		"SELECT count(*) FROM users WHERE age > ?",
		"SELECT id, name, email, age FROM users WHERE age > ?", age)
	if err != nil {
		return nil, fmt.Errorf("fetch users older than %d: %w", age, err)
	}
	logger.Info("Fetched users older than %d", age)
	return users, nil
}

// fetchConcurrently is the guide's fetch_concurrently: both fetches at once,
// both results, or the first error.
func fetchConcurrently(ctx context.Context, db *sql.DB, logger guideLogger) (all, older []User, err error) {
	results, err := gather(ctx,
		func(ctx context.Context) ([]User, error) { return asyncFetchUsers(ctx, db, logger) },
		func(ctx context.Context) ([]User, error) { return asyncFetchOlderUsers(ctx, db, logger, 40) },
	)
	if err != nil {
		return nil, nil, err
	}
	return results[0], results[1], nil
}

// gather is asyncio.gather for fetches: it runs each on its own goroutine,
// waits for all of them, and returns their results in the order given.
//
// The first fetch to fail cancels the context the others run with, so the
// driver interrupts their queries instead of letting them run on for
// results nobody will use; that first error is the one returned. gather
// returns only after every goroutine has finished, so nothing is left
// running behind the caller's back.
func gather(ctx context.Context, fetches ...func(context.Context) ([]User, error)) ([][]User, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	results := make([][]User, len(fetches))
	var wg sync.WaitGroup
	for i, fetch := range fetches {
		// wg.Go starts the function on a new goroutine and counts it;
		// each goroutine writes only its own element of results.
		wg.Go(func() {
			users, err := fetch(ctx)
			if err != nil {
				cancel(err) // only the first cause is kept
				return
			}
			results[i] = users
		})
	}
	wg.Wait()

	// The cause is the first fetch's error, or the caller's own
	// cancelation; nil means every fetch succeeded.
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	return results, nil
}

// User is one row of the users table.
type User struct {
	ID    int64
	Name  string
	Email string
	Age   int64
}

// appendTuple appends the user to b as Python prints the row's tuple, with
// strconv's Append functions instead of fmt: fmt is the simple choice, but it
// costs an allocation per value.
func (u User) appendTuple(b []byte) []byte {
	b = append(b, '(')
	b = strconv.AppendInt(b, u.ID, 10)
	b = append(b, ", '"...)
	b = append(b, u.Name...)
	b = append(b, "', '"...)
	b = append(b, u.Email...)
	b = append(b, "', "...)
	b = strconv.AppendInt(b, u.Age, 10)
	return append(b, ')')
}

// queryUsers reads every row of query, whose columns are id, name, email
// and age, as the guide's cursor.fetchall does.
//
// It first asks countQuery how many rows to expect, so that the slice is
// allocated once: at a million users, growing it step by step costs more
// than the count. The count is only a hint; if rows arrive in between,
// append still makes room. For results of a few rows, leave the count out:
// a second statement buys nothing there.
func queryUsers(ctx context.Context, db *sql.DB, countQuery, query string, args ...any) ([]User, error) {
	var n int
	if err := db.QueryRowContext(ctx, countQuery, args...).Scan(&n); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	// Close the rows on every way out, right after the error check: this
	// returns the connection to the pool.
	defer rows.Close()

	users := make([]User, 0, n)
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.Age); err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	// Next stops at the last row and on an error alike, a canceled context
	// included; Err tells which.
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return users, nil
}

// openDatabase opens an existing database file and proves the connection
// works: sql.Open connects to nothing, PingContext does.
func openDatabase(ctx context.Context, name string) (*sql.DB, error) {
	// A file: URI with mode=rw never creates a file, so a mistyped path is
	// an error, not a new empty database. _busy_timeout makes a connection
	// wait up to 5 s for another writer.
	dsn := "file:" + (&url.URL{Path: name}).EscapedPath() + "?mode=rw&_busy_timeout=5000"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, describe(name, err)
	}
	return db, nil
}

// describe adds what to do to the driver's error when the -db path is wrong:
// a missing file, a folder, a path in a folder that does not exist, a file
// that cannot be opened, or a file that is not an SQLite database. It
// classifies the error by its SQLite code with errors.As, never by the
// message's text.
func describe(name string, err error) error {
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) {
		return err
	}
	switch sqliteErr.Code {
	case sqlite3.ErrCantOpen:
		// SQLite says only that it could not open the file; the file
		// system says why, so that the advice fits.
		dir := filepath.Dir(name)
		info, statErr := os.Stat(name)
		dirInfo, dirErr := os.Stat(dir)
		switch {
		case statErr == nil && info.IsDir():
			return fmt.Errorf("%s is a folder, not a database file (%w): give -db the file itself", name, err)
		case errors.Is(dirErr, fs.ErrNotExist) || dirErr == nil && !dirInfo.IsDir():
			return fmt.Errorf("cannot open %s (%w): there is no folder %s", name, err, dir)
		case errors.Is(statErr, fs.ErrNotExist):
			return fmt.Errorf("cannot open %s (%w): create it first with: go run ./00-setup -db %s", name, err, name)
		}
		return fmt.Errorf("cannot open %s (%w): check that you may read and write it", name, err)
	case sqlite3.ErrNotADB:
		return fmt.Errorf("%s is not an SQLite database (%w): give -db the file that go run ./00-setup made", name, err)
	}
	return err
}

// guideLogger writes lines the way the guide's logging.Formatter does:
// "2025-05-20 01:05:00,123 - INFO - message". A log.Logger makes each line
// a single write, so the two goroutines may share one.
type guideLogger struct{ *log.Logger }

func (l guideLogger) Info(format string, args ...any) {
	now := time.Now().Format("2006-01-02 15:04:05,000")
	l.Printf("%s - INFO - %s", now, fmt.Sprintf(format, args...))
}

// newLogger logs to stderr and appends to fileName in the current folder,
// as the guide's StreamHandler and FileHandler do, every line in the format
// of the guide's expected output (the guide's code gives the format to the
// file only). If the file cannot be opened, it warns once and logs to
// stderr alone. Each line goes to the file in a write of its own, so
// closing it has nothing left to save, and its error is not reported.
func newLogger(stderr io.Writer, fileName string) (guideLogger, func()) {
	f, err := os.OpenFile(fileName, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(stderr, "warning: logging to stderr only: %v\n", err)
		return guideLogger{log.New(stderr, "", 0)}, func() {}
	}
	return guideLogger{log.New(io.MultiWriter(stderr, f), "", 0)}, func() { f.Close() }
}
