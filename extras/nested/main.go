//go:build cgo

// Extra nested is section 5.1 of the guide (Listing 8): two context
// managers in one with statement.
//
// Python opens both resources in one line and releases them in reverse
// order when the block ends, the last opened first:
//
//	with DatabaseConnection('users.db') as conn, ExecuteQuery('users.db', "SELECT * FROM users") as results:
//	    print(results)
//
// If the second __enter__ raises, the first __exit__ still runs.
//
// Go opens the first resource and defers its close, then opens the second
// and defers its close:
//
//	conn, err := OpenDatabaseConnection(ctx, "users.db", logger, note)
//	if err != nil {
//	    return err
//	}
//	defer conn.Close()
//	query, err := OpenExecuteQuery(ctx, conn, "SELECT ...", logger, note)
//	if err != nil {
//	    return err // conn.Close still runs: it was deferred above
//	}
//	defer query.Close()
//
// Deferred calls run last in, first out, so the query is closed before the
// connection. A close that was never deferred cannot run: when the query
// fails to open, only the connection is closed.
package main

import (
	"bytes"
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
	"time"

	"github.com/mattn/go-sqlite3"
)

// usersQuery is the guide's query with its columns named, so that they come
// in the order Scan expects.
const usersQuery = "SELECT id, name, email, age FROM users"

// missingTableQuery names a table that users.db does not have, so the second
// open fails after the first has succeeded.
const missingTableQuery = "SELECT id, name, email, age FROM missing_table"

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

// run opens both resources twice: once where everything works, and once
// where the second open fails. Each open and close is noted in the order it
// happens. The notes are printed once the demo has run through, so that a
// wrong -db prints its error line and nothing else.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := newLogger(stderr, "connection.log")
	defer closeLog()

	var notes bytes.Buffer
	note := func(line string) { fmt.Fprintln(&notes, line) }
	open := func(ctx context.Context) (*DatabaseConnection, error) {
		return OpenDatabaseConnection(ctx, dbPath, logger, note)
	}

	note("Two resources, released in reverse order:")
	if err := listUsers(ctx, open, usersQuery, logger, note); err != nil {
		return err
	}

	note("")
	note("The second open fails, and the first is still closed:")
	err := listUsers(ctx, open, missingTableQuery, logger, note)
	if !isSQLError(err) {
		return fmt.Errorf("the query on a missing table should fail with an SQL error, got: %v", err)
	}
	note("Returned error: " + err.Error())
	_, err = notes.WriteTo(stdout)
	return err
}

// listUsers is Listing 8's with statement. open opens the first resource
// (run passes OpenDatabaseConnection with its arguments; a test passes its
// own to keep hold of the connection). Both closes are deferred with a
// named result, so an error from either close is joined to err, not lost.
func listUsers(ctx context.Context, open func(context.Context) (*DatabaseConnection, error),
	query string, logger guideLogger, note func(string)) (err error) {
	conn, err := open(ctx)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, conn.Close()) }()

	results, err := OpenExecuteQuery(ctx, conn, query, logger, note)
	if err != nil {
		// Only the connection's close was deferred so far, and it runs
		// now, on the way out.
		return err
	}
	defer func() { err = errors.Join(err, results.Close()) }()

	for results.Next() {
		var u User
		if err := results.Scan(&u.ID, &u.Name, &u.Email, &u.Age); err != nil {
			return err
		}
		note(u.String())
	}
	// Next returns false at the end of the rows and also on an error;
	// only Err tells the two apart.
	return results.Err()
}

// DatabaseConnection is the first resource: the database, as in
// 0-databaseconnection. It embeds the *sql.DB and keeps what Close needs to
// report itself.
type DatabaseConnection struct {
	*sql.DB
	name   string
	logger guideLogger
	note   func(string)
}

// OpenDatabaseConnection does the work of __enter__. sql.Open connects to
// nothing, so PingContext proves the connection before it is reported open.
// mode=rw opens an existing file and never creates one.
func OpenDatabaseConnection(ctx context.Context, name string, logger guideLogger, note func(string)) (*DatabaseConnection, error) {
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
	note("open connection to " + name)
	return &DatabaseConnection{DB: db, name: name, logger: logger, note: note}, nil
}

// Close does the work of __exit__: it closes every connection in the pool.
func (c *DatabaseConnection) Close() error {
	c.note("close connection to " + c.name)
	err := c.DB.Close()
	c.logger.Info("Closed connection to %s", c.name)
	return err
}

// ExecuteQuery is the second resource: the rows of a running query. The
// rows hold one of the pool's connections until they are closed, which is
// why they must be closed before the pool. Next closes them itself when it
// reaches their end, but a return from the middle of the loop, on an error,
// leaves that to Close.
type ExecuteQuery struct {
	*sql.Rows
	logger guideLogger
	note   func(string)
}

// OpenExecuteQuery runs query on conn. On failure it returns an error that
// names the query, so the caller can tell which of the two opens failed.
func OpenExecuteQuery(ctx context.Context, conn *DatabaseConnection, query string, logger guideLogger, note func(string)) (*ExecuteQuery, error) {
	rows, err := conn.QueryContext(ctx, query)
	if err != nil {
		err = fmt.Errorf("open query %q: %w", query, err)
		logger.Error("Query error: %v", err)
		return nil, err
	}
	logger.Info("Executed query: %s", query)
	note("open query: " + query)
	return &ExecuteQuery{Rows: rows, logger: logger, note: note}, nil
}

// Close gives the query's connection back to the pool.
func (q *ExecuteQuery) Close() error {
	q.note("close query")
	err := q.Rows.Close()
	q.logger.Info("Closed query")
	return err
}

// isSQLError reports whether err comes from SQLite's SQL engine, such as
// "no such table". It looks at the SQLite code with errors.As, never at the
// message's text.
func isSQLError(err error) bool {
	var sqliteErr sqlite3.Error
	return errors.As(err, &sqliteErr) && sqliteErr.Code == sqlite3.ErrError
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
