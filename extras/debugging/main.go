//go:build cgo

// Lesson extras/debugging is section 6.2 of the guide: debugging.
//
// The guide gives two pieces of advice: run asyncio with debug=True, and
// test edge cases such as database locks and invalid queries. asyncio's
// debug mode warns about coroutines that were never awaited, callbacks that
// block the event loop and resources left unclosed.
//
// Go has no event loop to watch; its tools for the same work are
//
//   - the race detector, go run -race and go test -race, which reports two
//     goroutines that touch the same variable without synchronization;
//   - go vet, which finds a context whose cancel is never called, a copied
//     mutex or a Printf whose arguments do not match its format;
//   - db.Stats(), whose InUse stays above 0 when rows or a transaction were
//     left open.
//
// The edge cases are errors, and Go classifies them by value: errors.As
// finds the sqlite3.Error inside the error, and its Code says what went
// wrong (sqlite3.ErrBusy for a locked database, sqlite3.ErrError for an
// invalid query), where Python writes except sqlite3.OperationalError.
// Never match the message's text: it is for people, and it may change.
//
// The last part is a trap of database/sql's pool that looks like a bug in
// your code: every connection to ":memory:" has its own empty database. It
// shows three fixes and how the third one still loses the database.
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
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// lockWait is connection B's _busy_timeout in the lock demonstration: how
// long it waits for the write lock before it gives up with SQLITE_BUSY.
const lockWait = 100 * time.Millisecond

// memdbDSN names an in-memory database of SQLite's memdb VFS. A name that
// begins with "/" is one database for every connection of this process that
// opens the same name; the name keeps it apart from other such databases.
const memdbDSN = "file:/debugdemo?vfs=memdb"

// sharedMemoryDSN names an in-memory database that every connection of this
// process shares through SQLite's shared cache. The name keeps it apart from
// other shared in-memory databases in the same process; plain
// "file::memory:?cache=shared" is one database for the whole process.
const sharedMemoryDSN = "file:debugdemo?mode=memory&cache=shared"

// memoryQueries is how many goroutines query the one-connection pool at once.
const memoryQueries = 10

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

// run shows each tool and edge case in turn. It opens users.db first, so
// that a wrong path fails before anything is printed; users.db is only read.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) (err error) {
	logger, closeLog := newLogger(stderr, "debugging.log")
	defer closeLog()

	db, err := openDatabase(ctx, dbPath, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()

	showRaceDetector(stdout, logger)
	if err := showLockedDatabase(ctx, stdout, logger); err != nil {
		return fmt.Errorf("locked database: %w", err)
	}
	if err := showInvalidQueries(ctx, db, stdout, logger); err != nil {
		return fmt.Errorf("invalid queries: %w", err)
	}
	if err := showMemoryTrap(ctx, stdout, logger); err != nil {
		return fmt.Errorf(":memory: trap: %w", err)
	}
	return nil
}

// openDatabase opens users.db, which must exist, and proves the connection
// with PingContext before it logs "Opened".
func openDatabase(ctx context.Context, dbPath string, logger guideLogger) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: dbPath}).EscapedPath()+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		err = describe(dbPath, err)
		logger.Error("Connection error: %v", err)
		return nil, err
	}
	logger.Info("Opened connection to %s", dbPath)
	return db, nil
}

// showRaceDetector says how to run the race detector. Whether this binary
// was built with it goes to the log only, so that stdout is the same both
// ways.
func showRaceDetector(stdout io.Writer, logger guideLogger) {
	fmt.Fprintln(stdout, "== The race detector ==")
	fmt.Fprintln(stdout, "Build with -race: go run -race ./extras/debugging, go test -race ./extras/debugging")
	fmt.Fprintln(stdout, "It reports two goroutines that touch the same variable without synchronization,")
	fmt.Fprintln(stdout, "at least one of them writing, with the stack of each. It sees only the races that")
	fmt.Fprintln(stdout, "happen while it runs, so run the tests that start goroutines with it.")
	logger.Info("This binary was built with the race detector: %t", builtWithRace())
}

// builtWithRace reports whether the -race flag built this binary, as
// recorded in the binary's build information.
func builtWithRace() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// showLockedDatabase makes connection A hold the write lock of a database of
// its own, in a temporary folder removed at the end, while connection B
// tries to write.
func showLockedDatabase(ctx context.Context, stdout io.Writer, logger guideLogger) (err error) {
	fmt.Fprintln(stdout, "== A database locked by another connection ==")
	dir, err := os.MkdirTemp("", "debugging-lock-")
	if err != nil {
		return err
	}
	// Deferred first, so it runs last, after both databases are closed.
	defer func() { err = errors.Join(err, os.RemoveAll(dir)) }()
	fileURI := "file:" + (&url.URL{Path: filepath.Join(dir, "lock.db")}).EscapedPath()
	logger.Info("Lock demonstration database: %s", filepath.Join(dir, "lock.db"))

	// A creates the file. _txlock=immediate makes its BeginTx run BEGIN
	// IMMEDIATE, which takes the write lock at once.
	a, err := sql.Open("sqlite3", fileURI+"?mode=rwc&_busy_timeout=5000&_txlock=immediate")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, a.Close()) }()
	if _, err := a.ExecContext(ctx, "CREATE TABLE notes (id INTEGER PRIMARY KEY, author TEXT NOT NULL)"); err != nil {
		return err
	}
	// B waits at most lockWait for a lock, instead of the 5 s of the other
	// connections, so that the demonstration gives up quickly.
	b, err := sql.Open("sqlite3", fmt.Sprintf("%s?mode=rw&_busy_timeout=%d", fileURI, lockWait.Milliseconds()))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.Close()) }()

	return writeWhileLocked(ctx, a, b, stdout, logger)
}

// writeWhileLocked has B write while A's transaction holds the write lock,
// then again after A commits.
func writeWhileLocked(ctx context.Context, a, b *sql.DB, stdout io.Writer, logger guideLogger) error {
	const insertNote = "INSERT INTO notes (author) VALUES (?)"
	tx, err := a.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, insertNote, "A"); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "A: BEGIN IMMEDIATE took the write lock; A inserted a row and has not committed")

	// B's busy handler retries for up to _busy_timeout, then gives up. A
	// context does not cut this wait short, so keep _busy_timeout below any
	// deadline you set.
	start := time.Now()
	_, err = b.ExecContext(ctx, insertNote, "B")
	logger.Info("B waited %v for the lock, then: %v", time.Since(start).Round(time.Millisecond), err)
	if code, ok := sqliteCode(err); !ok || code != sqlite3.ErrBusy {
		return fmt.Errorf("B's write while A held the write lock: got error %v, want database is locked", err)
	}
	fmt.Fprintf(stdout, "B (_busy_timeout=%d): INSERT failed after waiting: %v\n", lockWait.Milliseconds(), err)
	printCode(stdout, err, sqlite3.ErrBusy, "sqlite3.ErrBusy")

	if err := tx.Commit(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "A: COMMIT released the lock")
	if _, err := b.ExecContext(ctx, insertNote, "B"); err != nil {
		return fmt.Errorf("B's retry after the commit: %w", err)
	}
	var n int
	if err := b.QueryRowContext(ctx, "SELECT COUNT(*) FROM notes").Scan(&n); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "B: the retry succeeded; notes has %d rows\n", n)
	return nil
}

// showInvalidQueries runs two invalid queries and then a valid one, all on
// the same connection: an SQL error fails the statement, not the connection.
func showInvalidQueries(ctx context.Context, db *sql.DB, stdout io.Writer, logger guideLogger) (err error) {
	fmt.Fprintln(stdout, "== Invalid queries ==")
	// db.Conn pins one connection of the pool, so every query below runs
	// on the same one. Close gives it back to the pool.
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, conn.Close()) }()

	for _, query := range []string{
		"SELECT id, nme FROM users", // a misspelt column
		"SELECT id, name FROM user", // a missing table
	} {
		var id int64
		var name string
		err := conn.QueryRowContext(ctx, query).Scan(&id, &name)
		logger.Info("%s: %v", query, err)
		if code, ok := sqliteCode(err); !ok || code != sqlite3.ErrError {
			return fmt.Errorf("%s: got error %v, want an SQL error", query, err)
		}
		fmt.Fprintf(stdout, "%s: %v\n", query, err)
		printCode(stdout, err, sqlite3.ErrError, "sqlite3.ErrError")
	}

	var n int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "The same connection still works: SELECT COUNT(*) FROM users = %d\n", n)
	return nil
}

// sqliteCode returns the SQLite result code inside err, found with
// errors.As, and false if err holds no sqlite3.Error.
func sqliteCode(err error) (sqlite3.ErrNo, bool) {
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) {
		return 0, false
	}
	return sqliteErr.Code, true
}

// printCode prints what errors.As finds in err and compares its Code with
// the constant that a program would test.
func printCode(w io.Writer, err error, want sqlite3.ErrNo, wantName string) {
	code, ok := sqliteCode(err)
	fmt.Fprintf(w, "  errors.As finds a sqlite3.Error: %t; Code %d (%v); Code == %s: %t\n",
		ok, int(code), code, wantName, code == want)
}

// showMemoryTrap shows that ":memory:" loses a table on a second connection,
// that three fixes keep it, and how the third one can still lose it.
func showMemoryTrap(ctx context.Context, stdout io.Writer, logger guideLogger) error {
	fmt.Fprintln(stdout, "== The :memory: trap ==")
	if err := showSeparateMemoryDatabases(ctx, stdout, logger); err != nil {
		return err
	}
	if err := showSharedMemory(ctx, stdout, "Fix 1", memdbDSN); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "  SQLite's memdb VFS: a name that begins with \"/\" is shared by the whole process.")
	if err := showSharedMemory(ctx, stdout, "Fix 2", sharedMemoryDSN); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "  Shared cache works too, but SQLite's documentation discourages any use of it.")
	if err := showOneConnection(ctx, stdout); err != nil {
		return err
	}
	return showCanceledTransaction(ctx, stdout)
}

// showSeparateMemoryDatabases creates a table on one connection to
// ":memory:" and looks for it on another.
func showSeparateMemoryDatabases(ctx context.Context, stdout io.Writer, logger guideLogger) (err error) {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()

	n, err := countOnSecondConnection(ctx, db)
	logger.Info(":memory: on a second connection: %d rows, error %v", n, err)
	if code, ok := sqliteCode(err); !ok || code != sqlite3.ErrError {
		return fmt.Errorf("a second connection to :memory: counted %d rows, error %v, want no such table", n, err)
	}
	fmt.Fprintf(stdout, "\":memory:\": table created on connection 1; on connection 2: %v\n", err)
	fmt.Fprintln(stdout, "  Every new connection to \":memory:\" opens a new, empty database of its own.")
	return nil
}

// showSharedMemory does the same with dsn, an in-memory database that every
// connection of the process shares. Such a database lives as long as one
// connection to it is open; closing the pool frees it.
//
// Fix 1, memdbDSN, is SQLite's memdb VFS. Its connections take turns
// through locks: while one is in a transaction that writes, the others wait
// up to their _busy_timeout to read or to write, then fail with SQLITE_BUSY
// (sqlite3.ErrBusy).
//
// Fix 2, sharedMemoryDSN, is SQLite's shared cache. SQLite's documentation
// discourages any use of it; it remains for backward compatibility.
// Connections that share a cache lock whole tables, and a conflict fails at
// once with SQLITE_LOCKED (sqlite3.ErrLocked), which _busy_timeout does not
// wait for.
func showSharedMemory(ctx context.Context, stdout io.Writer, fix, dsn string) (err error) {
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()

	n, err := countOnSecondConnection(ctx, db)
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("%s: connection 2 counted %d rows, want 1", dsn, n)
	}
	fmt.Fprintf(stdout, "%s, %q: connection 2 counts 1 row\n", fix, dsn)
	return nil
}

// showOneConnection limits the pool to one connection, so that every query
// runs on the connection that holds the database, even from several
// goroutines at once; they take turns.
//
// A pool of one connection keeps an in-memory database only while that
// connection lives, and the pool closes it more often than it seems: when
// MaxIdleConns is 0 (the default is 2), when ConnMaxLifetime or
// ConnMaxIdleTime runs out, and when a transaction's context ends before
// Commit or Rollback (see showCanceledTransaction). The data goes with it.
func showOneConnection(ctx context.Context, stdout io.Writer) (err error) {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	db.SetMaxOpenConns(1)

	if err := createNotes(ctx, db); err != nil {
		return err
	}
	counts, err := countFromGoroutines(ctx, db, memoryQueries)
	if err != nil {
		return err
	}
	open := db.Stats().OpenConnections
	if slices.ContainsFunc(counts, func(c int) bool { return c != 1 }) || open != 1 {
		return fmt.Errorf("a pool of one connection counted %v rows with %d open, want 1 row each with 1 open", counts, open)
	}
	fmt.Fprintf(stdout, "Fix 3, \":memory:\" with db.SetMaxOpenConns(1): each of %d goroutines at once counts 1 row; OpenConnections=1\n",
		len(counts))
	return nil
}

// showCanceledTransaction shows how Fix 3 loses its database. When a
// transaction's context ends before Commit or Rollback, database/sql rolls
// the transaction back by itself and closes the connection, since it cannot
// tell whether the connection is still fit for use: go-sqlite3 implements
// neither driver.SessionResetter nor driver.Validator, which would let the
// pool keep it. The next query opens a new connection, to a new and empty
// ":memory:" database. A Rollback called after the context ended races
// database/sql's own rollback and may or may not keep the connection; only
// Commit or Rollback before the context ends is sure to keep it.
//
// The count below waits for the pool's one connection, which the
// transaction holds until database/sql has closed it, so the result is the
// same on every run.
func showCanceledTransaction(ctx context.Context, stdout io.Writer) (err error) {
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	db.SetMaxOpenConns(1)

	if err := createNotes(ctx, db); err != nil {
		return err
	}
	n, err := countAfterCanceledTransaction(ctx, db)
	if code, ok := sqliteCode(err); !ok || code != sqlite3.ErrError {
		return fmt.Errorf("after a canceled transaction the one-connection pool counted %d rows, error %v, want no such table", n, err)
	}
	fmt.Fprintf(stdout, "  But when a transaction's context ends before Commit, the pool closes the connection: %v\n", err)
	return nil
}

// countAfterCanceledTransaction inserts a row in a transaction, cancels the
// transaction's context before Commit and then counts the rows of notes
// through the pool.
func countAfterCanceledTransaction(ctx context.Context, db *sql.DB) (n int, err error) {
	txCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	tx, err := db.BeginTx(txCtx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(txCtx, "INSERT INTO notes (text) VALUES (?)", "lost"); err != nil {
		return 0, err
	}
	cancel()
	err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM notes").Scan(&n)
	return n, err
}

// countOnSecondConnection creates the table notes with one row on a
// connection it holds, and meanwhile counts the rows through the pool, which
// must use a second connection for it.
func countOnSecondConnection(ctx context.Context, db *sql.DB) (n int, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { err = errors.Join(err, conn.Close()) }()

	if err := createNotes(ctx, conn); err != nil {
		return 0, err
	}
	err = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM notes").Scan(&n)
	return n, err
}

// countFromGoroutines counts the rows of notes from several goroutines at
// once and returns each one's count. Each goroutine writes only its own
// element of counts and errs, so they need no lock.
func countFromGoroutines(ctx context.Context, db *sql.DB, goroutines int) ([]int, error) {
	counts := make([]int, goroutines)
	errs := make([]error, goroutines)
	var wg sync.WaitGroup
	for i := range goroutines {
		wg.Go(func() {
			errs[i] = db.QueryRowContext(ctx, "SELECT COUNT(*) FROM notes").Scan(&counts[i])
		})
	}
	wg.Wait()
	return counts, errors.Join(errs...)
}

// execer is what *sql.DB, *sql.Conn and *sql.Tx have in common for running
// a statement.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// createNotes creates the table notes with one row.
func createNotes(ctx context.Context, db execer) error {
	if _, err := db.ExecContext(ctx, "CREATE TABLE notes (text TEXT NOT NULL)"); err != nil {
		return err
	}
	_, err := db.ExecContext(ctx, "INSERT INTO notes (text) VALUES (?)", "still here?")
	return err
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
