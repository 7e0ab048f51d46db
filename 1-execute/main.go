//go:build cgo

// Lesson 1-execute is Task 1 of the guide (section 4.2, 1-execute.py): a
// reusable query that binds its parameters and always cleans up.
//
// Python writes a class whose __enter__ connects, executes the query with
// its parameters and returns every row, and whose __exit__ closes:
//
//	with ExecuteQuery('users.db', "SELECT * FROM users WHERE age > ?", (25,)) as results:
//	    for user in results: ...
//
// Go calls a function that does the __enter__ part and returns a value
// whose Close method is the __exit__ part, deferred on the next line:
//
//	q, err := ExecuteQuery(ctx, logger, "users.db", "SELECT * FROM users WHERE age > ?", 25)
//	if err != nil {
//	    return err
//	}
//	defer q.Close()
//	for _, row := range q.Results { ... }
//
// The ? placeholders are the point of the lesson: the driver sends the
// values apart from the SQL text, so no value can ever change the query.
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
	"strconv"
	"strings"
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

// run is the guide's `if __name__ == "__main__"` block: users older than 25.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) (err error) {
	logger, closeLog := newLogger(stderr, "query.log")
	defer closeLog()

	q, err := ExecuteQuery(ctx, logger, dbPath, "SELECT * FROM users WHERE age > ?", 25)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, q.Close()) }()

	for _, row := range q.Results {
		fmt.Fprintln(stdout, row)
	}
	return nil
}

// Query holds what ExecuteQuery read, and the connection that Close closes,
// as the Python object holds self.results and self.conn.
type Query struct {
	Results []Row
	db      *sql.DB
	name    string
	logger  guideLogger
}

// ExecuteQuery does the work of __enter__: it opens the database, runs query
// with params bound to its ? placeholders, and reads every row.
//
// On success the caller owns the returned Query and must Close it. On failure
// ExecuteQuery has already closed everything it opened, so the caller has
// nothing to clean up, whichever step failed.
//
// Like the guide's class, it opens the database for one query and closes it
// afterwards. That suits a program that runs one query, as this one does; a
// program that runs many opens one *sql.DB at the start and shares it (see
// extras/pooling).
func ExecuteQuery(ctx context.Context, logger guideLogger, name, query string, params ...any) (q *Query, err error) {
	db, err := openDatabase(ctx, name)
	if err != nil {
		logger.Error("Query error: %v", err)
		return nil, err
	}
	q = &Query{db: db, name: name, logger: logger}
	// On any error below, close the connection before returning. Python
	// never calls __exit__ when __enter__ raises, so the guide's class leaves
	// its connection open after a bad query; this deferred function does not.
	defer func() {
		if err != nil {
			logger.Error("Query error: %v", err)
			err = errors.Join(err, q.Close())
			q = nil
		}
	}()

	q.Results, err = queryRows(ctx, db, query, params...)
	if err != nil {
		return q, fmt.Errorf("query %q: %w", query, describe(name, err))
	}
	logger.Info("Executed query: %s with params: %v", query, Row(params))
	return q, nil
}

// Close does the work of __exit__.
func (q *Query) Close() error {
	err := q.db.Close()
	q.logger.Info("Closed connection to %s", q.name)
	return err
}

// queryRows runs query and reads every row, whatever its columns, the way
// Python's cursor.fetchall does.
func queryRows(ctx context.Context, db *sql.DB, query string, params ...any) ([]Row, error) {
	rows, err := db.QueryContext(ctx, query, params...)
	if err != nil {
		return nil, err
	}
	// Close the rows on every way out, right after the error check.
	defer rows.Close()

	columns, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var results []Row
	for rows.Next() {
		// Scanning into *any keeps each value's own type: int64 for
		// INTEGER, string for TEXT, float64, []byte, or nil for NULL.
		row := make(Row, len(columns))
		dest := make([]any, len(columns))
		for i := range row {
			dest[i] = &row[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		results = append(results, row)
	}
	// Next stops at the last row and on an error alike; Err tells which.
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return results, nil
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

// Row is one result row. Its String method prints it as Python prints a
// tuple, so the output reads like the guide's.
type Row []any

func (r Row) String() string {
	var b strings.Builder
	b.WriteByte('(')
	for i, v := range r {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pythonRepr(v))
	}
	// Python writes a one-element tuple with a trailing comma: (25,).
	if len(r) == 1 {
		b.WriteByte(',')
	}
	b.WriteByte(')')
	return b.String()
}

// pythonRepr writes one value the way Python's repr would for the common
// cases; strings are quoted but not escaped.
func pythonRepr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case string:
		return "'" + v + "'"
	case []byte:
		return "b'" + string(v) + "'"
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eIN") {
			s += ".0" // Python prints 30.0, not 30
		}
		return s
	default:
		return fmt.Sprint(v)
	}
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
