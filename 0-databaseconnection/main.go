//go:build cgo

// Lesson 0-databaseconnection is Task 0 of the guide (section 4.1,
// 0-databaseconnection.py): a connection that is always closed.
//
// Python writes a class whose __enter__ opens the connection and whose
// __exit__ closes it, and uses it with a with statement:
//
//	with DatabaseConnection('users.db') as conn:
//	    ...
//
// Go has no with statement. It opens, checks the error, and defers the close
// on the next line:
//
//	conn, err := OpenDatabaseConnection(ctx, "users.db", logger)
//	if err != nil {
//	    return err
//	}
//	defer conn.Close()
//
// A deferred call runs when the surrounding function returns, whichever way
// it returns, just as __exit__ runs however the with block ends. Errors are
// values that the function returns, where Python raises exceptions.
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

// run is the guide's `if __name__ == "__main__"` block. It returns its error
// instead of exiting, so that every deferred cleanup below runs first.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) (err error) {
	logger, closeLog := newLogger(stderr, "connection.log")
	defer closeLog()

	conn, err := OpenDatabaseConnection(ctx, dbPath, logger)
	if err != nil {
		return err
	}
	// Close returns an error too; joining it into err means a failed close
	// is reported rather than dropped.
	defer func() { err = errors.Join(err, conn.Close()) }()

	return printUsers(ctx, conn, stdout)
}

// DatabaseConnection is the Go form of the guide's class. It embeds the
// *sql.DB, so conn.QueryContext and the rest work on it directly, and adds
// the name and logger that Close needs for its log line.
type DatabaseConnection struct {
	*sql.DB
	name   string
	logger guideLogger
}

// OpenDatabaseConnection does the work of __enter__: it opens the database
// and returns the connection.
//
// sql.Open only checks its arguments and connects to nothing, so the
// connection is proved with PingContext before "Opened" is logged.
func OpenDatabaseConnection(ctx context.Context, name string, logger guideLogger) (*DatabaseConnection, error) {
	// A file: URI with mode=rw opens an existing file for reading and
	// writing and never creates one: a mistyped path is an error, not a new
	// empty database. Without the file: prefix the driver would drop the
	// mode. EscapedPath keeps a '?' or '#' in the path from ending it.
	// _busy_timeout makes a connection wait up to 5 s for another writer.
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
	return &DatabaseConnection{DB: db, name: name, logger: logger}, nil
}

// Close does the work of __exit__: it closes every connection in the pool.
func (c *DatabaseConnection) Close() error {
	err := c.DB.Close()
	c.logger.Info("Closed connection to %s", c.name)
	return err
}

// withConnection is the shape the with statement suggests: it opens, hands
// the connection to fn, and closes however fn ends, returning fn's error
// joined with Close's.
//
// Go code usually prefers the open-then-defer form of run: the connection's
// lifetime is visible where it is used, there is no closure, and returning
// early from the middle is natural. A helper that takes a func earns its
// place when the cleanup must decide something, such as commit or roll back
// (see extras/transactional-connection).
func withConnection(ctx context.Context, name string, logger guideLogger, fn func(*DatabaseConnection) error) (err error) {
	conn, err := OpenDatabaseConnection(ctx, name, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, conn.Close()) }()
	return fn(conn)
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

// printUsers runs the guide's query and prints each row as it is read. The
// guide selects *; naming the columns keeps them in the order Scan expects
// even if the table gains a column.
func printUsers(ctx context.Context, conn *DatabaseConnection, w io.Writer) error {
	rows, err := conn.QueryContext(ctx, "SELECT id, name, email, age FROM users")
	if err != nil {
		return describe(conn.name, err)
	}
	// Close the rows on every way out of this function, right after the
	// error check: an unclosed *sql.Rows keeps its connection busy.
	defer rows.Close()

	for rows.Next() {
		var u User
		if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.Age); err != nil {
			return err
		}
		fmt.Fprintln(w, u)
	}
	// Next returns false at the end of the rows and also on an error;
	// only rows.Err tells the two apart.
	return rows.Err()
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
