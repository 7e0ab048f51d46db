package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

// asRunOpensIt are the settings with which run opens the database.
const asRunOpensIt = "?mode=rw&_busy_timeout=5000"

// The lesson prints the guide's output of section 4.3, run in a folder that
// holds the guide's users.db.
func Example() {
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// All users:
	// (1, 'Alice Smith', 'alice.smith@example.com', 30)
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
	// (3, 'Charlie Brown', 'charlie.brown@example.com', 25)
	//
	// Users older than 40:
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
}

// runLesson runs the lesson on the database at path, in a folder of its
// own, where async.log goes. It fails the test if run left the database
// file open: run must close all it opened.
func runLesson(t *testing.T, path string) workbooktest.Run {
	t.Helper()
	return workbooktest.RunLessonAndCheckClosed(t, run, "async.log", path)
}

// The log of a run: the bare lines on stderr and the dated ones in
// async.log. The two fetches log in the order they finish.
var (
	fetchedInOneOrder = []string{"Fetched all users", "Fetched users older than 40"}
	fetchedInTheOther = []string{"Fetched users older than 40", "Fetched all users"}
)

// assertLogged fails unless stderr and async.log hold the run's three
// lines, "Opened connection to PATH" first, then the two fetches' in
// either order, and nothing else.
func assertLogged(t *testing.T, got workbooktest.Run, path string) {
	t.Helper()
	opened := "Opened connection to " + path
	stderr := workbooktest.Lines(got.Stderr)
	if !slices.Equal(stderr, slices.Concat([]string{opened}, fetchedInOneOrder)) && !slices.Equal(stderr, slices.Concat([]string{opened}, fetchedInTheOther)) {
		t.Errorf("stderr is %q, want %q, then %q in either order", got.Stderr, opened, fetchedInOneOrder)
	}
	var bare []string
	for _, line := range got.Log {
		bare = append(bare, strings.TrimPrefix(line, "INFO - "))
	}
	if !slices.Equal(bare, stderr) {
		t.Errorf("async.log holds %q, want the lines of stderr as INFO lines", got.Log)
	}
}

func TestPageShowsTheOutput(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	got := runLesson(t, path)
	if got.Err != nil {
		t.Fatal(got.Err)
	}
	workbooktest.AssertPageShows(t, "$ go run ./00-setup && go run ./extras/async-connection\n"+got.Stdout+"```")
	workbooktest.AssertPageShows(t, strings.Join(slices.Concat([]string{"Opened connection to users.db"}, fetchedInOneOrder), "\n")+"\n```")
	for _, line := range slices.Concat([]string{"Opened connection to users.db"}, fetchedInOneOrder) {
		workbooktest.AssertPageShows(t, "2025-05-20 01:05:00,123 - INFO - "+line)
	}
}

// guideListing is the guide's Listing 6 written with Listing 7's
// async_db_connection: main prints what the guide's program prints for the
// database at path.
const guideListing = `import asyncio, aiosqlite
from contextlib import asynccontextmanager

@asynccontextmanager
async def async_db_connection(db_name):
    conn = await aiosqlite.connect(db_name)
    try:
        yield conn
    finally:
        await conn.close()

async def fetch(path, query, params=()):
    async with async_db_connection(path) as conn:
        cursor = await conn.execute(query, params)
        return await cursor.fetchall()

async def both(path):
    return await asyncio.gather(fetch(path, "SELECT * FROM users"), fetch(path, "SELECT * FROM users WHERE age > ?", (40,)))

def main(path):
    all_users, older_users = asyncio.run(both(path))
    print("All users:")
    for user in all_users:
        print(user)
    print("\nUsers older than 40:")
    for user in older_users:
        print(user)
`

func TestRunPrintsWhatPythonPrints(t *testing.T) {
	tables := []struct {
		name  string
		setup []string
		want  string
	}{
		{"the guide's table", workbooktest.GuideUsers, `All users:
(1, 'Alice Smith', 'alice.smith@example.com', 30)
(2, 'Bob Johnson', 'bob.johnson@example.com', 45)
(3, 'Charlie Brown', 'charlie.brown@example.com', 25)

Users older than 40:
(2, 'Bob Johnson', 'bob.johnson@example.com', 45)
`},
		{"other columns, NULLs, quotes, TIMESTAMP and BOOLEAN", []string{
			`CREATE TABLE users (user_id TEXT PRIMARY KEY, age REAL, name TEXT, created_at TIMESTAMP, is_active BOOLEAN)`,
			`INSERT INTO users VALUES ('u1', 41.5, 'Finn O''Brien', '2025-07-07 10:58:59', 1),
			('u2', NULL, NULL, NULL, 0), ('u3', 50, 'tab	here', 'not a time', NULL)`,
		}, `All users:
('u1', 41.5, "Finn O'Brien", '2025-07-07 10:58:59', 1)
('u2', None, None, None, 0)
('u3', 50.0, 'tab\there', 'not a time', None)

Users older than 40:
('u1', 41.5, "Finn O'Brien", '2025-07-07 10:58:59', 1)
('u3', 50.0, 'tab\there', 'not a time', None)
`},
		{"an empty table", workbooktest.GuideUsers[:1], "All users:\n\nUsers older than 40:\n"},
	}
	var paths, printed []string
	for _, tt := range tables {
		path := workbooktest.NewUsersDB(t, tt.setup...)
		got := runLesson(t, path)
		if got.Err != nil {
			t.Fatalf("%s: %v", tt.name, got.Err)
		}
		if got.Stdout != tt.want {
			t.Errorf("%s: stdout:\n%s\nwant:\n%s", tt.name, got.Stdout, tt.want)
		}
		assertLogged(t, got, path)
		paths, printed = append(paths, path), append(printed, got.Stdout)
	}
	python := workbooktest.PythonWith(t, "aiosqlite")
	if python == "" {
		return
	}
	for i, py := range workbooktest.RunGuidePython(t, python, "async.log", guideListing, paths...) {
		if py.Stdout != printed[i] {
			t.Errorf("%s: stdout:\n%s\nPython prints:\n%s", tables[i].name, printed[i], py.Stdout)
		}
	}
}

// async.log keeps the lines of every run.
func TestAsyncLogKeepsEveryRunsLines(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	t.Chdir(t.TempDir())
	for range 2 {
		if err := run(context.Background(), path, io.Discard, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	got := workbooktest.ReadLogFile(t, "async.log")
	if opened := "INFO - Opened connection to " + path; len(got) != 6 || got[0] != opened || got[3] != opened {
		t.Errorf("async.log after two runs holds %q, want both runs' lines", got)
	}
}

func TestRunFails(t *testing.T) {
	for _, tt := range []struct {
		name   string
		path   func(t *testing.T) string
		want   string
		opened bool // whether the file opened before a query failed
	}{
		{"missing file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing.db") },
			"there is no such file", false},
		{"not a database", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "notes.db")
			workbooktest.WriteFile(t, path, strings.Repeat("not a database\n", 100))
			return path
		}, "is not an SQLite database", false},
		{"no users table", func(t *testing.T) string { return workbooktest.NewUsersDB(t, "CREATE TABLE orders (id INTEGER)") },
			"has no users table: its tables are orders", true},
		{"no age column", func(t *testing.T) string {
			return workbooktest.NewUsersDB(t, "CREATE TABLE users (id INTEGER, name TEXT)")
		},
			"has no age column: its columns are id, name", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := workbooktest.RunLessonOnABadDatabase(t, run, "async.log", tt.path(t), tt.want)
			if opened := strings.HasPrefix(got.Stderr, "Opened connection"); opened != tt.opened {
				t.Errorf("stderr:\n%s\nwant %q only once PingContext has opened the file", got.Stderr, "Opened connection")
			}
		})
	}
}

func TestCtrlCBeforeItStarts(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := run(ctx, workbooktest.NewUsersDB(t, workbooktest.GuideUsers...), io.Discard, io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestRunWaitsForALockThatAnotherProgramHolds(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	other := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	ctx := workbooktest.Context(t)
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// An exclusive lock keeps every reader out until it ends, 300 ms later.
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(300*time.Millisecond, func() { conn.ExecContext(ctx, "COMMIT") })

	got := runLesson(t, path)
	if got.Err != nil {
		t.Fatalf("run while another program held the lock for 300 ms: %v", got.Err)
	}
	if !strings.Contains(got.Stdout, "Users older than 40:\n(2, 'Bob Johnson'") {
		t.Errorf("stdout = %q, want the guide's rows", got.Stdout)
	}
}

func TestFetchGivesTheConnectionBack(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	db := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	// With one connection in the pool, each call can take it only if the
	// one before gave it back.
	db.SetMaxOpenConns(1)
	ctx := workbooktest.Context(t)
	for i := 1; i <= 3; i++ {
		if _, err := fetchOnOwnConnection(ctx, db, "SELECT * FROM users"); err != nil {
			t.Fatalf("fetch %d of 3 with a pool of one connection: %v", i, err)
		}
		if inUse := db.Stats().InUse; inUse != 0 {
			t.Fatalf("after fetch %d of 3: %d connection still in use, want 0: conn.Close gives it back", i, inUse)
		}
	}
	if _, err := fetchOnOwnConnection(ctx, db, "SELECT * FROM missing"); err == nil {
		t.Fatal("a query on a missing table succeeded")
	}
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("after a failed query: %d connection in use, want 0", inUse)
	}
}

// fetchUnlessStuck calls fetchOnOwnConnection(ctx, db, "SELECT * FROM
// users") on a goroutine of its own, and waits until it returns or until
// stuck reports that it waits for something that will not happen. Then it
// calls release, which must let the fetch go on, and fails the test with
// why. It returns the fetch's error.
func fetchUnlessStuck(t *testing.T, ctx context.Context, db *sql.DB, stuck func() bool, release func(), why string) error {
	t.Helper()
	result := make(chan error, 1)
	go func() {
		_, err := fetchOnOwnConnection(ctx, db, "SELECT * FROM users")
		result <- err
	}()
	var err error
	returned := false
	workbooktest.WaitFor(t, "the fetch to return, or to get stuck", func() bool {
		select {
		case err = <-result:
			returned = true
			return true
		default:
			return stuck()
		}
	})
	if !returned {
		t.Error(why)
		release()
		err = <-result
	}
	return err
}

// A fetch whose context is cancelled, by Ctrl-C, while the pool's only
// connection is in use returns at once with context.Canceled: it does not
// wait for a connection.
func TestACancelledFetchDoesNotWaitForAConnection(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	db := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	db.SetMaxOpenConns(1)
	held, err := db.Conn(workbooktest.Context(t))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	ctx, ctrlC := context.WithCancel(context.Background())
	ctrlC()
	waiting := func() bool { return db.Stats().WaitCount > 0 }
	err = fetchUnlessStuck(t, ctx, db, waiting, func() { held.Close() },
		"the fetch waits for the pool's only connection although its context was cancelled: take the connection with the caller's context")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

func TestFetchClosesTheRowsOnAnEarlyReturn(t *testing.T) {
	// The first row holds text that is not UTF-8, so the loop returns
	// with rows still to read.
	path := workbooktest.NewUsersDB(t,
		"CREATE TABLE users (name TEXT)",
		"INSERT INTO users VALUES (CAST(x'ff' AS TEXT)), ('Bob'), ('Charlie')")
	db := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	// Rows that were never closed close when their context ends.
	ctx, closeTheRows := context.WithCancel(workbooktest.Context(t))
	defer closeTheRows()
	err := fetchUnlessStuck(t, ctx, db, waitingInConnClose, closeTheRows,
		"the fetch waits in conn.Close for rows that were never closed")
	if err == nil || !strings.Contains(err.Error(), "not UTF-8") {
		t.Errorf("error = %v, want the row's", err)
	}
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connection in use, want 0", inUse)
	}
}

// waitingInConnClose reports whether a goroutine of the test is blocked in
// a *sql.Conn's Close, which waits for the conn's open rows to be closed.
func waitingInConnClose() bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, goroutine := range strings.Split(string(buf), "\n\n") {
		header, _, _ := strings.Cut(goroutine, "\n")
		if strings.Contains(header, "[sync.RWMutex.Lock") && strings.Contains(goroutine, "database/sql.(*Conn).close(") {
			return true
		}
	}
	return false
}

func TestFetchReportsAnErrorAfterTheFirstRow(t *testing.T) {
	// abs() of the smallest integer overflows: SQLite returns the first
	// row, then fails on the second.
	path := workbooktest.NewUsersDB(t,
		"CREATE VIEW users AS SELECT abs(column1) AS n FROM (VALUES (1), (-9223372036854775807 - 1))")
	db := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	users, err := fetchOnOwnConnection(context.Background(), db, "SELECT * FROM users")
	if err == nil || !strings.Contains(err.Error(), "integer overflow") {
		t.Errorf("fetchOnOwnConnection = %v, %v; want the integer overflow of row 2, not a short result", users, err)
	}
}

// Each function waits for the other to start: run one after the other,
// the first would wait for ever. synctest.Wait returns once every
// goroutine of the test is blocked, so the test sees that at once.
func TestConcurrentlyRunsAllAtOnceAndReturnsEveryError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		started := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
		giveUp := make(chan struct{})
		both := func(i int, err error) func() error {
			return func() error {
				close(started[i])
				select {
				case <-started[1-i]:
					return err
				case <-giveUp:
					return fmt.Errorf("function %d ran alone", i)
				}
			}
		}
		first, second := errors.New("first failed"), errors.New("second failed")
		result := make(chan error, 1)
		go func() { result <- concurrently(both(0, first), both(1, second)) }()
		synctest.Wait()
		select {
		case err := <-result:
			if !errors.Is(err, first) || !errors.Is(err, second) {
				t.Errorf("error = %v, want both functions' errors", err)
			}
		default:
			t.Error("one function waits for the other to start, which never happens: they ran one after the other")
			close(giveUp)
			<-result
		}
		if err := concurrently(func() error { return nil }, func() error { return nil }); err != nil {
			t.Errorf("error = %v, want nil when all succeed", err)
		}
	})
}

func TestConnectionStateOutlivesConnClose(t *testing.T) {
	ctx := context.Background()
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	t.Run("a PRAGMA and a TEMP table made on a Conn are there for the next borrower", func(t *testing.T) {
		db := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
		db.SetMaxOpenConns(1) // the next borrower gets the same connection
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range []string{"PRAGMA foreign_keys = ON", "CREATE TEMP TABLE scratch (i INTEGER)"} {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		if err := conn.Close(); err != nil {
			t.Fatal(err)
		}
		if on := foreignKeys(t, db); on != 1 {
			t.Errorf("foreign_keys = %d after conn.Close, want 1: the connection keeps its state", on)
		}
		var temp int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM temp.sqlite_schema WHERE name = 'scratch'").Scan(&temp); err != nil || temp != 1 {
			t.Errorf("TEMP table scratch: %d, %v after conn.Close; want it still there", temp, err)
		}
	})
	t.Run("a setting in the DSN is on every connection", func(t *testing.T) {
		db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw&_foreign_keys=1")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { db.Close(); workbooktest.AssertNothingOpen(t, db) }()
		var conns []*sql.Conn
		for range 2 {
			conn, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conns = append(conns, conn)
		}
		for i, conn := range conns {
			var on int
			if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
				t.Fatal(err)
			}
			if on != 1 {
				t.Errorf("connection %d: foreign_keys = %d, want 1", i+1, on)
			}
		}
	})
}

// foreignKeys is the foreign_keys setting of the connection the pool lends
// next.
func foreignKeys(t *testing.T, db *sql.DB) int {
	t.Helper()
	var on int
	if err := db.QueryRowContext(context.Background(), "PRAGMA foreign_keys").Scan(&on); err != nil {
		t.Fatal(err)
	}
	return on
}
