//go:build cgo

// Extra transactional-query is the guide's extra example of section 4.2.5
// (Listing 5, TransactionalQuery): a query run inside a transaction that is
// committed when the with block ends normally and rolled back when it
// raises.
//
// Python keeps the query and its parameters in the object and commits or
// rolls back in __exit__ according to exc_type:
//
//	with TransactionalQuery('users.db', query, params) as conn:
//	    ...
//
// Go gives the same job to a helper that runs the query inside a new
// transaction and hands the transaction and the query's row to a function:
//
//	err := transactionalQuery(ctx, db, logger, query, args,
//	    func(tx *sql.Tx, row *sql.Row) error {
//	        ... row.Scan, then tx.ExecContext based on what was read ...
//	    })
//
// nil from the function commits; an error rolls back and is returned
// unchanged; a panic rolls back and goes on as the same panic.
//
// What the transaction buys here is a read and a write that nobody can come
// between: the demo reads a visit count and writes it plus one, also from
// several goroutines at once, and not one visit is lost. (A single UPDATE
// ... SET visits = visits + 1 would be atomic by itself; the read in Go
// stands for any decision made from what was read.)
//
// For that, the database is opened with _txlock=immediate in the DSN, so
// that BeginTx runs BEGIN IMMEDIATE instead of the default BEGIN (deferred).
// users.db is in SQLite's default rollback-journal mode, and there:
//
//   - A deferred transaction takes no lock at BEGIN. Its read takes a shared
//     (read) lock, and its first write must then upgrade to the write lock.
//     If another connection holds the write lock at that moment, the write
//     fails at once with SQLITE_BUSY ("database is locked"), whatever the
//     busy timeout: SQLite does not wait to upgrade a read lock, because the
//     other writer may itself be waiting for that read lock to go before it
//     can commit, and the two would wait for each other for ever.
//   - BEGIN IMMEDIATE takes the write lock before the read. A connection
//     that finds it taken holds no lock yet, so waiting cannot deadlock,
//     and the busy timeout applies.
//
// In WAL mode the deferred read-then-write fails too: with SQLITE_BUSY if
// another connection holds the write lock when it writes, and with
// SQLITE_BUSY_SNAPSHOT if another connection committed a write after its
// read began. BEGIN IMMEDIATE is the cure there as well.
//
// The busy timeout is not a queue, though. A connection that finds the lock
// taken sleeps and tries again, up to 100 ms between tries, until the
// timeout runs out; meanwhile the connection that has just committed may
// take the lock again at once. Under a steady stream of writers one of them
// can wait for seconds and fail with "database is locked" all the same. The
// busy timeout is the tool for waiting on other programs. Within one
// program the surest way is to line the writers up in Go: the lesson's pool
// has a single connection (db.SetMaxOpenConns(1)), so each BeginTx waits in
// database/sql until that connection is free. database/sql promises no
// order either, but it has no timeout: a waiter waits as long as its
// context allows, and never fails for being unlucky. The busy timeout is
// then left with only other programs to wait for. _txlock=immediate stays
// all the same, for those other programs and for the read-then-write.
//
// The price: with _txlock=immediate every BeginTx takes the write lock, even
// for a transaction that only reads. sql.TxOptions{ReadOnly: true} does not
// change that, because this driver ignores the transaction options and
// always runs the BEGIN that _txlock names. Reads that need no transaction
// are plain queries on the *sql.DB, which take no write lock (on a
// one-connection pool they wait for the connection like everyone else; a
// program that wants reads during writes opens a second pool for them).
//
// The lesson works on a table of its own, page_visits, which it creates in
// users.db and resets at the start of every run, so the users table is
// never touched and a second run prints the same as the first.
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
	"strings"
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

// The page whose visits the demo counts, and how many visitors arrive at
// the same time.
const (
	page     = "home"
	visitors = 5
)

// run counts one visit, then several at once, then shows a plain BEGIN
// transaction failing where BEGIN IMMEDIATE waits.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) (err error) {
	logger, closeLog := newLogger(stderr, "query.log")
	defer closeLog()

	db, err := openDatabase(ctx, dbPath, "immediate", logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeDatabase(db, dbPath, logger)) }()

	if err := resetVisits(ctx, db); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "One visit, counted by a transaction that reads the count and writes it plus one:")
	if _, err := countVisit(ctx, db, logger, page); err != nil {
		return err
	}
	if err := printVisits(ctx, db, stdout); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "%d visits at the same time, each counted the same way:\n", visitors)
	if err := countVisitsAtOnce(ctx, db, logger, visitors); err != nil {
		return err
	}
	if err := printVisits(ctx, db, stdout); err != nil {
		return err
	}

	fmt.Fprintln(stdout, "The same read-then-write in a plain BEGIN (deferred) transaction:")
	if err := showDeferredWriteFails(ctx, dbPath, db, logger, stdout); err != nil {
		return err
	}
	return printVisits(ctx, db, stdout)
}

// transactionalQuery is the Go form of TransactionalQuery. It begins a
// transaction, runs query with args in it, and passes the transaction and
// the query's row to fn. If fn returns nil, it commits. If fn returns an
// error, it rolls back and returns that error unchanged (joined with the
// rollback's own error, should the rollback fail too). If fn panics, it
// rolls back and panics again with the same value.
//
// fn should call row.Scan: Scan reads the row and frees it. Inside fn, use
// only tx: a query on the *sql.DB would not run in the transaction. It needs
// a connection of its own, and on the lesson's one-connection pool it would
// wait, until its context ends, for the one the transaction holds.
func transactionalQuery(ctx context.Context, db *sql.DB, logger guideLogger,
	query string, args []any, fn func(tx *sql.Tx, row *sql.Row) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// The safety net: the transaction is never left open. After Commit or
	// an earlier Rollback it does nothing.
	defer tx.Rollback()

	// The deferred Rollback above would roll back on a panic by itself;
	// recover is here so the log line can name the panic's value, and
	// panic(p) lets the same panic go on.
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			logger.Error("Transaction rolled back: %v", p)
			panic(p)
		}
	}()

	row := tx.QueryRowContext(ctx, query, args...)
	// Row.Err reports an error the query met before any row was read,
	// such as a missing table; an error reading the row comes from Scan.
	if err := row.Err(); err != nil {
		logger.Error("Query error: %v", err)
		return err
	}
	logger.Info("Executed query: %s with params: %s", query, pythonTuple(args))

	if err := fn(tx, row); err != nil {
		// ErrTxDone means the transaction is over already: database/sql
		// rolls back by itself when ctx is canceled.
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			err = errors.Join(err, rbErr)
		}
		logger.Error("Transaction rolled back: %v", err)
		return err
	}
	// A failed Commit is rolled back by the driver; its error is returned.
	if err := tx.Commit(); err != nil {
		logger.Error("Transaction rolled back: commit failed: %v", err)
		return err
	}
	logger.Info("Transaction committed")
	return nil
}

// countVisit reads a page's visit count and writes it plus one, in one
// transaction, and returns the new count.
func countVisit(ctx context.Context, db *sql.DB, logger guideLogger, page string) (int64, error) {
	var visits int64
	err := transactionalQuery(ctx, db, logger,
		"SELECT visits FROM page_visits WHERE page = ?", []any{page},
		func(tx *sql.Tx, row *sql.Row) error {
			if err := row.Scan(&visits); errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("no page %q in page_visits", page)
			} else if err != nil {
				return err
			}
			visits++
			_, err := tx.ExecContext(ctx,
				"UPDATE page_visits SET visits = ? WHERE page = ?", visits, page)
			return err
		})
	return visits, err
}

// countVisitsAtOnce counts n visits from n goroutines at the same time.
// The pool has one connection, so the goroutines' transactions take it one
// after another: each BeginTx waits in database/sql until it is free. It
// returns every error, joined.
func countVisitsAtOnce(ctx context.Context, db *sql.DB, logger guideLogger, n int) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = countVisit(ctx, db, logger, page)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// showDeferredWriteFails runs the read-then-write by hand in a plain BEGIN
// transaction, on a second pool opened without _txlock=immediate, while
// writer, the lesson's own pool, plays another program that writes.
func showDeferredWriteFails(ctx context.Context, dbPath string, writer *sql.DB, logger guideLogger, w io.Writer) (err error) {
	deferred, err := openDatabase(ctx, dbPath, "deferred", logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, closeDatabase(deferred, dbPath, logger)) }()

	// BEGIN takes no lock; the SELECT takes the shared (read) lock, which
	// the transaction keeps until it ends.
	tx, err := deferred.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var visits int64
	err = tx.QueryRowContext(ctx, "SELECT visits FROM page_visits WHERE page = ?", page).Scan(&visits)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "  it reads %d visits;\n", visits)

	// BEGIN IMMEDIATE on the other pool takes the write lock: a read lock
	// does not stop that. Its change stays in its page cache until commit.
	other, err := writer.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer other.Rollback()
	_, err = other.ExecContext(ctx, "UPDATE page_visits SET visits = visits + 1 WHERE page = ?", page)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "  another connection takes the write lock and counts a visit;")

	// The plain transaction must now upgrade its read lock, and cannot.
	_, err = tx.ExecContext(ctx, "UPDATE page_visits SET visits = ? WHERE page = ?", visits+1, page)
	if !isBusy(err) {
		return fmt.Errorf("plain BEGIN read-then-write: want SQLITE_BUSY, got %v", err)
	}
	fmt.Fprintf(w, "  its own write fails at once: %v (SQLITE_BUSY); it rolls back.\n", err)

	// Its rollback lets go of the read lock, which the other connection's
	// commit must wait for: in rollback-journal mode a commit needs every
	// reader gone.
	if err := tx.Rollback(); err != nil {
		return err
	}
	return other.Commit()
}

// isBusy tells whether err is SQLite's SQLITE_BUSY, by its code.
func isBusy(err error) bool {
	var sqliteErr sqlite3.Error
	return errors.As(err, &sqliteErr) && sqliteErr.Code == sqlite3.ErrBusy
}

// openDatabase opens an existing database with the given _txlock and
// proves the connection with PingContext before logging that it is open.
// The pool keeps to one connection, so that the program's transactions wait
// for each other in database/sql, not in SQLite's busy handler.
func openDatabase(ctx context.Context, name, txlock string, logger guideLogger) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", dsn(name, txlock))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		err = describe(name, err)
		logger.Error("Connection error: %v", err)
		return nil, err
	}
	logger.Info("Opened connection to %s", name)
	return db, nil
}

// dsn opens the existing file name read-write (mode=rw never creates a
// file). _busy_timeout makes a connection wait up to 5 s for a write lock
// that another program (or another pool) holds, where SQLite can wait;
// _txlock is "immediate" for BEGIN IMMEDIATE, or "deferred" for the plain
// BEGIN that is the driver's default.
func dsn(name, txlock string) string {
	return "file:" + (&url.URL{Path: name}).EscapedPath() +
		"?mode=rw&_busy_timeout=5000&_txlock=" + txlock
}

// closeDatabase closes a pool and logs it, as the guide's __exit__ does.
func closeDatabase(db *sql.DB, name string, logger guideLogger) error {
	err := db.Close()
	logger.Info("Closed connection to %s", name)
	return err
}

// resetVisits creates the lesson's table if needed and sets the page's
// count to 0. Each statement is atomic on its own.
func resetVisits(ctx context.Context, db *sql.DB) error {
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS page_visits (
    page TEXT PRIMARY KEY,
    visits INTEGER NOT NULL
)`)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "REPLACE INTO page_visits (page, visits) VALUES (?, 0)", page)
	return err
}

// printVisits prints the page's row the way Python prints a tuple.
func printVisits(ctx context.Context, db *sql.DB, w io.Writer) error {
	var visits int64
	err := db.QueryRowContext(ctx, "SELECT visits FROM page_visits WHERE page = ?", page).Scan(&visits)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "('%s', %d)\n", page, visits)
	return nil
}

// pythonTuple prints query parameters the way the guide's log line shows
// them: ('home',) for one, (25, 'x') for two.
func pythonTuple(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok {
			parts[i] = "'" + s + "'"
		} else {
			parts[i] = fmt.Sprint(a)
		}
	}
	if len(parts) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
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
