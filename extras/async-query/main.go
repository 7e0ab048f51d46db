//go:build cgo

// Extra async-query is section 5.2 of the guide (Listing 9): an asynchronous
// context manager that runs one query and yields its rows.
//
// Python awaits the query, so other coroutines run while it waits, and a
// task can be canceled while it is suspended in an await:
//
//	@asynccontextmanager
//	async def async_execute_query(db_name: str, query: str, params: Tuple = ()):
//	    async with aiosqlite.connect(db_name) as conn:
//	        cursor = await conn.execute(query, params)
//	        results = await cursor.fetchall()
//	        yield results
//
// Go runs the query in an ordinary function that takes a context.Context,
// and other goroutines run meanwhile. The context is how the caller says
// "stop": when its deadline passes or it is canceled, the driver interrupts
// the running SQLite statement, and the query returns the context's error:
//
//	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
//	defer cancel()
//	rows, err := executeQuery(ctx, db, query, args...)
//	// errors.Is(err, context.DeadlineExceeded) when the deadline passed
//
// The connection goes back to the pool in working order, so the next query
// runs as usual. A context does not cut short a wait for another writer's
// lock (_busy_timeout below), so keep that wait shorter than any deadline
// that must be kept.
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

// slowQuery never ends on its own: the recursive CTE counts 1, 2, 3, ...
// with no upper bound, and count(*) waits for the last row. Only an
// interrupt stops it. It holds one row at a time, so it uses no more memory
// the longer it runs.
const slowQuery = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c`

// olderThanQuery is the guide's query for the users older than an age.
const olderThanQuery = "SELECT id, name, email, age FROM users WHERE age > ?"

// deadline is how long the slow query may run; cancelAfter is when another
// goroutine cancels it in the second demonstration.
const (
	deadline    = 200 * time.Millisecond
	cancelAfter = 100 * time.Millisecond
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

// run stops the slow query twice, by a deadline and by a cancel, and then
// asks the same pool for the users older than 40. How long each query ran
// varies from run to run, so it goes to the log, not to stdout.
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

	fmt.Fprintf(stdout, "A query that never ends, with a deadline of %v:\n", deadline)
	err = queryWithDeadline(ctx, db, deadline, logger)
	if !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("the slow query with a deadline returned %v, want context.DeadlineExceeded", err)
	}
	fmt.Fprintln(stdout, "Stopped:", err)

	fmt.Fprintf(stdout, "\nThe same query, canceled by another goroutine after %v:\n", cancelAfter)
	err = queryCanceledAfter(ctx, db, cancelAfter, logger)
	if !errors.Is(err, context.Canceled) {
		return fmt.Errorf("the slow query canceled by another goroutine returned %v, want context.Canceled", err)
	}
	fmt.Fprintln(stdout, "Stopped:", err)

	stats := db.Stats()
	logger.Info("Pool after the stopped queries: %d open, %d in use", stats.OpenConnections, stats.InUse)

	fmt.Fprintln(stdout, "\nThe same pool answers the next query. Users older than 40:")
	rows, err := executeQuery(ctx, db, olderThanQuery, 40)
	if err != nil {
		return err
	}
	logger.Info("Fetched users older than 40")
	for _, row := range rows {
		fmt.Fprintln(stdout, row)
	}
	return nil
}

// queryWithDeadline runs the slow query with a deadline d from now.
// defer cancel releases the context's timer even when the query ends first.
func queryWithDeadline(ctx context.Context, db *sql.DB, d time.Duration, logger guideLogger) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()

	start := time.Now()
	_, err := executeQuery(ctx, db, slowQuery)
	logger.Info("Slow query with a %v deadline stopped after %v: %v", d, time.Since(start).Round(time.Millisecond), err)
	return err
}

// queryCanceledAfter runs the slow query and cancels it from another
// goroutine after d: time.AfterFunc calls cancel in a goroutine of its own.
func queryCanceledAfter(ctx context.Context, db *sql.DB, d time.Duration, logger guideLogger) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := time.AfterFunc(d, cancel)
	defer timer.Stop()

	start := time.Now()
	_, err := executeQuery(ctx, db, slowQuery)
	logger.Info("Slow query canceled after %v stopped after %v: %v", d, time.Since(start).Round(time.Millisecond), err)
	return err
}

// executeQuery is the Go form of async_execute_query: it runs query with
// its arguments as placeholders' values and reads all the rows, like
// fetchall. ctx bounds the whole of it: the query and the reading of rows.
// It takes the *sql.DB, whose pool lends it a connection for the query and
// takes it back when the rows are closed.
func executeQuery(ctx context.Context, db *sql.DB, query string, args ...any) ([]Row, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	columns, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var results []Row
	for rows.Next() {
		// Scan fills each element of row through a pointer to it.
		row := make(Row, len(columns))
		pointers := make([]any, len(columns))
		for i := range row {
			pointers[i] = &row[i]
		}
		if err := rows.Scan(pointers...); err != nil {
			return nil, err
		}
		results = append(results, row)
	}
	// Next returns false at the end of the rows and also on an error, a
	// canceled context included; only Err tells the two apart.
	return results, rows.Err()
}

// Row is one row of any query: the driver gives int64, float64, string,
// []byte or nil for each column.
type Row []any

// String prints a row the way Python prints the row's tuple, with a
// trailing comma when it has one column: (3,).
func (r Row) String() string {
	values := make([]string, len(r))
	for i, v := range r {
		values[i] = pythonValue(v)
	}
	if len(values) == 1 {
		return "(" + values[0] + ",)"
	}
	return "(" + strings.Join(values, ", ") + ")"
}

// pythonValue prints one value of a row as Python prints it in a tuple.
func pythonValue(v any) string {
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
			s += ".0" // Python prints the float 2 as 2.0
		}
		return s
	}
	return fmt.Sprint(v)
}

// openDatabase opens the pool. sql.Open connects to nothing, so PingContext
// proves the connection before it is logged as opened. mode=rw opens an
// existing file and never creates one. _busy_timeout lets a connection
// wait up to 5 s for a lock that another connection holds while it writes,
// and the context does not cut that wait short. The queries here only read,
// but a reader waits too. In SQLite's default rollback-journal mode it
// waits while another connection commits, and for the rest of a write
// transaction that has outgrown its page cache (such as 00-setup -users
// 1000000): that writer holds the exclusive lock until its transaction
// ends. A reader still locked out after _busy_timeout fails with "database
// is locked" (sqlite3.ErrBusy). In WAL mode (_journal_mode=WAL) readers go
// on reading the last committed data while another connection writes.
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
