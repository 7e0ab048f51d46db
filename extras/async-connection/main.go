//go:build cgo

// Extra async-connection is section 4.3.5 of the guide (Listing 7): an
// asynchronous context manager that gives one coroutine a connection of its
// own and closes it afterwards.
//
// Python writes it with @asynccontextmanager and uses it with async with:
//
//	@asynccontextmanager
//	async def async_db_connection(db_name: str):
//	    conn = await aiosqlite.connect(db_name)
//	    try:
//	        yield conn
//	    finally:
//	        await conn.close()
//
// Go has no coroutines to await: it runs ordinary code in goroutines. A
// *sql.DB is already a pool of connections that goroutines may share, and
// db.Conn takes one connection out of the pool for one goroutine alone.
// Deferring its Close gives it back however the goroutine's work ends:
//
//	conn, err := db.Conn(ctx)
//	if err != nil {
//	    return err
//	}
//	defer conn.Close() // back to the pool: the file stays open
//
// Closing a *sql.Conn does not close the database connection. The pool
// keeps it for the next db.Conn, or closes it when it already holds enough
// idle ones (SetMaxIdleConns, 2 by default).
//
// Most code does not need db.Conn: db.QueryContext takes a connection and
// gives it back by itself. db.Conn earns its place when several statements
// must run on the same connection, because a connection has state of its
// own, such as a TEMP table or a PRAGMA setting.
//
// That state outlives conn.Close. The driver does not reset a connection
// that goes back to the pool (it implements no driver.SessionResetter), so
// the next db.Conn or db.QueryContext that gets the same connection finds
// the TEMP table and the PRAGMA still set, without a word. Undo such state
// in a deferred call made right after setting it, so that an early return
// undoes it too (DROP TABLE temp.name, the PRAGMA's old value), and put a
// setting that every connection needs in the DSN (_foreign_keys=1,
// _busy_timeout=5000), or in a ConnectHook of a registered
// sqlite3.SQLiteDriver for one the DSN cannot set, so that every
// connection the pool opens has it.
package main

import (
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
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// userQuery is one query of the demonstration, with the heading that
// introduces its rows and the line it logs.
type userQuery struct {
	heading string
	logLine string
	sql     string
	args    []any
}

// queries are the guide's two queries of Listing 6 and a third one, each
// run in a goroutine of its own.
var queries = []userQuery{
	{"All users:", "Fetched all users",
		"SELECT id, name, email, age FROM users", nil},
	{"Users older than 40:", "Fetched users older than 40",
		"SELECT id, name, email, age FROM users WHERE age > ?", []any{40}},
	{"Users younger than 30:", "Fetched users younger than 30",
		"SELECT id, name, email, age FROM users WHERE age < ?", []any{30}},
}

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

// run is the guide's asyncio.run: it runs the queries at the same time,
// prints their rows in a fixed order, then shows what a canceled context
// does. The pool's figures vary from run to run, so they go to the log.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) (err error) {
	logger, closeLog := newLogger(stderr, "async.log")
	defer closeLog()

	db, err := openDatabase(ctx, dbPath, logger)
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, db.Close())
		logger.Info("Closed connection to %s", dbPath)
	}()

	results, err := fetchConcurrently(ctx, db, queries, logger)
	if err != nil {
		return err
	}
	stats := db.Stats()
	logger.Info("Pool after the goroutines: %d open, %d idle, %d in use",
		stats.OpenConnections, stats.Idle, stats.InUse)

	// The goroutines finished in any order; their results are printed in
	// the order of the queries.
	for i, q := range queries {
		fmt.Fprintln(stdout, q.heading)
		for _, u := range results[i] {
			fmt.Fprintln(stdout, u)
		}
		fmt.Fprintln(stdout)
	}
	return showCanceled(ctx, db, stdout)
}

// openDatabase opens the pool. sql.Open connects to nothing, so PingContext
// proves the connection before it is logged as opened. mode=rw opens an
// existing file and never creates one.
func openDatabase(ctx context.Context, name string, logger guideLogger) (*sql.DB, error) {
	dsn := "file:" + (&url.URL{Path: name}).EscapedPath() + "?mode=rw&_busy_timeout=5000"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		err = describe(name, err)
		logger.Error("Connection error: %v", err)
		return nil, err
	}
	logger.Info("Opened connection to %s", name)
	return db, nil
}

// fetchConcurrently is the guide's asyncio.gather: it runs each query in a
// goroutine with a connection of its own and returns the rows in the order
// of qs, whichever goroutine finished first.
func fetchConcurrently(ctx context.Context, db *sql.DB, qs []userQuery, logger guideLogger) ([][]User, error) {
	results := make([][]User, len(qs))
	err := concurrently(ctx, db, len(qs), func(ctx context.Context, conn *sql.Conn, i int) error {
		users, err := fetchUsers(ctx, conn, qs[i])
		if err != nil {
			return fmt.Errorf("%s %w", qs[i].heading, err)
		}
		// Each goroutine writes only its own element, so no lock is
		// needed; Wait in concurrently makes the writes visible after.
		results[i] = users
		logger.Info("%s", qs[i].logLine)
		return nil
	})
	return results, err
}

// job is the work of one goroutine: i is its number, conn its connection.
type job func(ctx context.Context, conn *sql.Conn, i int) error

// concurrently runs n goroutines, each doing fn on a connection of its own,
// waits for all of them, and returns their errors joined.
//
// "Of its own" means no other goroutine uses that connection while fn runs.
// A goroutine that gives its connection back before another starts may see
// the pool hand the same connection on: the log's pool figures show how
// many connections were opened.
func concurrently(ctx context.Context, db *sql.DB, n int, fn job) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		// wg.Go starts the goroutine and marks it done when it returns.
		wg.Go(func() { errs[i] = onOwnConn(ctx, db, i, fn) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// onOwnConn is the Go form of async_db_connection: it takes a connection
// from the pool, hands it to fn, and gives it back however fn ends. A
// failed Close is joined to the result rather than lost.
func onOwnConn(ctx context.Context, db *sql.DB, i int, fn job) (err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, conn.Close()) }()
	return fn(ctx, conn, i)
}

// fetchUsers runs one query on conn and reads all its rows, like the
// guide's fetchall.
func fetchUsers(ctx context.Context, conn *sql.Conn, q userQuery) ([]User, error) {
	rows, err := conn.QueryContext(ctx, q.sql, q.args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	var users []User
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.Age); err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	return users, rows.Err()
}

// showCanceled shows that a context canceled before the work starts stops
// it at once: db.Conn does not take a connection, and a query on a
// connection already taken does not run. Both return context.Canceled.
func showCanceled(ctx context.Context, db *sql.DB, w io.Writer) (err error) {
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	fmt.Fprintln(w, "A canceled context:")

	conn, err := db.Conn(canceled)
	if err == nil {
		return errors.Join(errors.New("db.Conn on a canceled context took a connection"), conn.Close())
	}
	if !errors.Is(err, context.Canceled) {
		return fmt.Errorf("db.Conn on a canceled context: %w, want context.Canceled", err)
	}
	fmt.Fprintln(w, "db.Conn:", err)

	conn, err = db.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, conn.Close()) }()
	_, err = fetchUsers(canceled, conn, queries[0])
	if !errors.Is(err, context.Canceled) {
		return fmt.Errorf("a query on a canceled context returned %v, want context.Canceled", err)
	}
	fmt.Fprintln(w, "conn.QueryContext:", err)
	return nil
}

// User is one row of the users table.
type User struct {
	ID    int64
	Name  string
	Email string
	Age   int64
}

// String prints a user the way Python prints the row's tuple. (For a name
// with a ' in it, Python would switch to double quotes; the workbook's
// users need no such care.)
func (u User) String() string {
	return fmt.Sprintf("(%d, '%s', '%s', %d)", u.ID, u.Name, u.Email, u.Age)
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
// a single write, so goroutines may share one.
type guideLogger struct{ *log.Logger }

func (l guideLogger) Info(format string, args ...any)  { l.line("INFO", format, args...) }
func (l guideLogger) Error(format string, args ...any) { l.line("ERROR", format, args...) }

func (l guideLogger) line(level, format string, args ...any) {
	now := time.Now().Format("2006-01-02 15:04:05,000")
	l.Printf("%s - %s - %s", now, level, fmt.Sprintf(format, args...))
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
