//go:build cgo

// Lesson extras/pooling is section 5.3 of the guide (Listing 10,
// async_pooled_query): connection pooling.
//
// The guide's async_pooled_query opens a connection on every call and closes
// it when the call ends:
//
//	async def async_pooled_query(db_name, query):
//	    async with aiosqlite.connect(db_name, uri=True) as conn:
//	        ...
//
// Despite its name, nothing is pooled there: a hundred calls open a hundred
// connections, and each new connection opens the file and reads the schema
// again before its first query.
//
// In Go the pool is built in. A *sql.DB is not a connection but a pool of
// them, safe to share between goroutines: open it once, keep it for the
// life of the program, and every query borrows a connection and gives it
// back. Three settings shape the pool:
//
//	db.SetMaxOpenConns(4)              // never more than 4 connections; a 5th query waits
//	db.SetMaxIdleConns(4)              // keep up to 4 unused ones for the next queries
//	db.SetConnMaxIdleTime(time.Minute) // close a connection unused for a minute
//
// and db.Stats() reports what the pool is doing: OpenConnections, InUse,
// Idle, and WaitCount (how many queries had to wait for a connection).
//
// This program runs the same burst of point queries twice, from several
// goroutines at once: through one pool, and with a new sql.Open + Close per
// query as the guide does. It counts the SQLite connections each way really
// opens. How long each burst takes goes to the log only, because it varies
// from run to run and machine to machine; measure it on yours with
//
//	go test -run '^$' -bench . ./extras/pooling
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
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// The pool's settings and the size of the burst. More goroutines than
// connections means some queries must wait for a connection to come back.
const (
	maxOpenConns    = 4
	maxIdleConns    = 4
	connMaxIdleTime = time.Minute

	burstQueries    = 50
	burstGoroutines = 10
)

// selectUser is the point query of the burst: one user by id.
const selectUser = "SELECT id, name, email, age FROM users WHERE id = ?"

// countingDriver is the name of the SQLite driver with a ConnectHook that
// counts every connection it opens. It is the "sqlite3" driver in every
// other way; it exists only so that this lesson can show how many
// connections each approach opens. Your own programs use "sqlite3".
const countingDriver = "sqlite3-counting"

// connectionsOpened counts the SQLite connections opened through
// countingDriver since the program started. Goroutines open connections at
// the same time, so the counter is atomic.
var connectionsOpened atomic.Int64

func init() {
	sql.Register(countingDriver, &sqlite3.SQLiteDriver{
		ConnectHook: func(*sqlite3.SQLiteConn) error {
			connectionsOpened.Add(1)
			return nil
		},
	})
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

// run opens one pool, runs the burst through it, then runs the same burst
// with a new connection per query, and compares the two.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) (err error) {
	logger, closeLog := newLogger(stderr, "async.log")
	defer closeLog()

	openedBefore := connectionsOpened.Load()
	db, err := openPool(ctx, dbPath, logger)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	fmt.Fprintf(stdout, "One *sql.DB is the pool: MaxOpenConns=%d MaxIdleConns=%d ConnMaxIdleTime=%v\n",
		maxOpenConns, maxIdleConns, connMaxIdleTime)

	ids, err := burstIDs(ctx, db, burstQueries)
	if err != nil {
		return err
	}
	s := db.Stats()
	fmt.Fprintf(stdout, "Before the burst: OpenConnections=%d InUse=%d Idle=%d WaitCount=%d\n",
		s.OpenConnections, s.InUse, s.Idle, s.WaitCount)

	pooled, err := runPooled(ctx, db, ids, openedBefore, stdout, logger)
	if err != nil {
		return err
	}
	perQuery, err := runNewConnectionPerQuery(ctx, dbPath, ids, stdout, logger)
	if err != nil {
		return err
	}
	if !slices.Equal(pooled, perQuery) {
		return errors.New("the two bursts returned different rows")
	}
	fmt.Fprintf(stdout, "Both bursts returned the same %d rows, which cycle through:\n", len(pooled))
	for _, u := range pooled[:min(len(pooled), distinct(ids))] {
		fmt.Fprintln(stdout, u)
	}
	return nil
}

// openPool opens the pool, sets its limits and proves that the database is
// there. sql.Open connects to nothing, so PingContext opens the first
// connection before "Opened" is logged.
func openPool(ctx context.Context, dbPath string, logger guideLogger) (*sql.DB, error) {
	db, err := sql.Open(countingDriver, dsn(dbPath))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(maxOpenConns)
	// MaxIdleConns defaults to 2. Below MaxOpenConns, every connection
	// beyond the idle limit is closed as soon as its query ends and opened
	// again for the next one (db.Stats().MaxIdleClosed counts them).
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		err = describe(dbPath, err)
		logger.Error("Connection error: %v", err)
		return nil, err
	}
	logger.Info("Opened a pool of up to %d connections to %s", maxOpenConns, dbPath)
	return db, nil
}

// dsn opens an existing database for reading and writing and never creates
// one. _busy_timeout makes a connection wait up to 5 s for another writer.
func dsn(dbPath string) string {
	return "file:" + (&url.URL{Path: dbPath}).EscapedPath() + "?mode=rw&_busy_timeout=5000"
}

// runPooled runs the burst through the pool and reports what the pool did.
// The number of connections the burst needs depends on how the goroutines
// are scheduled, so stdout only says it stayed within the limit; the exact
// figures go to the log.
func runPooled(ctx context.Context, db *sql.DB, ids []int64, openedBefore int64, stdout io.Writer, logger guideLogger) ([]User, error) {
	fmt.Fprintf(stdout, "Pooled: %d queries from %d goroutines through one *sql.DB\n", len(ids), burstGoroutines)
	start := time.Now()
	users, err := burst(ctx, ids, burstGoroutines, pooledQuery(db))
	elapsed := time.Since(start)
	if err != nil {
		return nil, err
	}
	opened := connectionsOpened.Load() - openedBefore
	s := db.Stats()
	logger.Info("Pooled burst: %d queries in %v; %d connections opened; OpenConnections=%d Idle=%d WaitCount=%d WaitDuration=%v",
		len(ids), elapsed.Round(time.Microsecond), opened, s.OpenConnections, s.Idle, s.WaitCount, s.WaitDuration)
	if opened > maxOpenConns {
		return nil, fmt.Errorf("the pool opened %d connections, more than MaxOpenConns=%d", opened, maxOpenConns)
	}
	fmt.Fprintf(stdout, "  SQLite connections opened: no more than %d (MaxOpenConns), shared by all %d queries\n",
		maxOpenConns, len(ids))
	fmt.Fprintf(stdout, "  After the burst: InUse=%d\n", s.InUse)
	return users, nil
}

// runNewConnectionPerQuery runs the same burst the guide's way: every query
// opens a database of its own and closes it.
func runNewConnectionPerQuery(ctx context.Context, dbPath string, ids []int64, stdout io.Writer, logger guideLogger) ([]User, error) {
	fmt.Fprintf(stdout, "New connection per query: %d queries from %d goroutines, each with sql.Open, PingContext, query, Close\n",
		len(ids), burstGoroutines)
	openedBefore := connectionsOpened.Load()
	start := time.Now()
	users, err := burst(ctx, ids, burstGoroutines, newConnectionQuery(dbPath))
	elapsed := time.Since(start)
	if err != nil {
		return nil, err
	}
	opened := connectionsOpened.Load() - openedBefore
	logger.Info("New connection per query: %d queries in %v; %d connections opened",
		len(ids), elapsed.Round(time.Microsecond), opened)
	fmt.Fprintf(stdout, "  SQLite connections opened: %d\n", opened)
	return users, nil
}

// queryFunc runs one point query for the user with the given id.
type queryFunc func(ctx context.Context, id int64) (User, error)

// burst runs one query per id, spread over the given number of goroutines
// that all run at once, and returns the users in the order of ids. Each
// goroutine writes only its own elements of users and errs, so they need no
// lock; wg.Wait makes their writes visible here.
func burst(ctx context.Context, ids []int64, goroutines int, query queryFunc) ([]User, error) {
	users := make([]User, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for g := range goroutines {
		// wg.Go starts the function on a new goroutine and counts it;
		// wg.Wait returns when every counted function has returned.
		wg.Go(func() {
			for i := g; i < len(ids); i += goroutines {
				users[i], errs[i] = query(ctx, ids[i])
			}
		})
	}
	wg.Wait()
	return users, errors.Join(errs...)
}

// pooledQuery queries through the shared pool: QueryRowContext borrows a
// connection, and Scan gives it back.
func pooledQuery(db *sql.DB) queryFunc {
	return func(ctx context.Context, id int64) (User, error) {
		return scanUser(db.QueryRowContext(ctx, selectUser, id), id)
	}
}

// newConnectionQuery is the guide's async_pooled_query in Go: open, query,
// close, every time. sql.Open makes a pool of its own for this one query.
func newConnectionQuery(dbPath string) queryFunc {
	return func(ctx context.Context, id int64) (u User, err error) {
		db, err := sql.Open(countingDriver, dsn(dbPath))
		if err != nil {
			return u, err
		}
		defer func() { err = errors.Join(err, db.Close()) }()
		if err := db.PingContext(ctx); err != nil {
			return u, describe(dbPath, err)
		}
		// The query reuses the connection that PingContext opened.
		return scanUser(db.QueryRowContext(ctx, selectUser, id), id)
	}
}

// scanUser reads the one row of a point query. A user deleted since the ids
// were read is reported as not found.
func scanUser(row *sql.Row, id int64) (User, error) {
	var u User
	err := row.Scan(&u.ID, &u.Name, &u.Email, &u.Age)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("user %d: not found", id)
	}
	return u, err
}

// burstIDs reads the users' ids and repeats them until there are n, so the
// burst queries every user in turn.
func burstIDs(ctx context.Context, db *sql.DB, n int) ([]int64, error) {
	rows, err := db.QueryContext(ctx, "SELECT id FROM users ORDER BY id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()

	var userIDs []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		userIDs = append(userIDs, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(userIDs) == 0 {
		return nil, errors.New("the users table is empty: fill it with go run ./00-setup")
	}
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = userIDs[i%len(userIDs)]
	}
	return ids, nil
}

// distinct returns how many different ids there are.
func distinct(ids []int64) int {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	return len(slices.Compact(sorted))
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
