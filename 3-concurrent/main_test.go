package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

// asRunOpensIt are the settings with which run opens the database.
const asRunOpensIt = "?mode=rw&_busy_timeout=5000"

// The guide's expected output for Task 2 (section 4.3.4), run in a folder
// that holds the guide's users.db, with the blank line that the guide's
// print("\nUsers older than 40:") prints. The log lines go to stderr,
// discarded here; TestPrintsAndLogsWhatPythonDoes checks them.
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
// file open, on success and on failure alike.
func runLesson(t *testing.T, path string) workbooktest.Run {
	t.Helper()
	return workbooktest.RunLessonAndCheckClosed(t, run, "async.log", path)
}

// guideProgram is the guide's 3-concurrent.py written again: two
// coroutines, each with an aiosqlite connection of its own, run together by
// asyncio.gather, each logging once it has its rows. main(path) is its
// `if __name__ == "__main__"` block for the database at path.
const guideProgram = `import asyncio, aiosqlite

async def fetch_users(path):
    async with aiosqlite.connect(path) as conn:
        cursor = await conn.execute("SELECT * FROM users")
        rows = await cursor.fetchall()
        log.info("Fetched all users")
        return rows

async def fetch_older_users(path, age):
    async with aiosqlite.connect(path) as conn:
        cursor = await conn.execute("SELECT * FROM users WHERE age > ?", (age,))
        rows = await cursor.fetchall()
        log.info(f"Fetched users older than {age}")
        return rows

async def fetch_concurrently(path):
    return await asyncio.gather(fetch_users(path), fetch_older_users(path, 40))

def main(path):
    all_users, older_users = asyncio.run(fetch_concurrently(path))
    print("All users:")
    for user in all_users:
        print(user)
    print("\nUsers older than 40:")
    for user in older_users:
        print(user)
`

// The two lines each run logs, on stderr as they are and in async.log
// dated. The fetches run at once, so either may come first.
var (
	fetchedInOneOrder   = []string{"Fetched all users", "Fetched users older than 40"}
	fetchedInTheOther   = []string{"Fetched users older than 40", "Fetched all users"}
	logFileInOneOrder   = []string{"INFO - Fetched all users", "INFO - Fetched users older than 40"}
	logFileInTheOther   = []string{"INFO - Fetched users older than 40", "INFO - Fetched all users"}
	stderrInEitherOrder = []string{strings.Join(fetchedInOneOrder, "\n") + "\n", strings.Join(fetchedInTheOther, "\n") + "\n"}
)

// assertLoggedBothFetches fails unless stderr holds exactly the two bare
// lines and the log file the same two lines in the guide's format, each in
// either order and nothing else.
func assertLoggedBothFetches(t *testing.T, got workbooktest.Run) {
	t.Helper()
	if !slices.Contains(stderrInEitherOrder, got.Stderr) {
		t.Errorf("stderr is %q, want the two lines %q in either order and nothing else", got.Stderr, fetchedInOneOrder)
	}
	if !slices.Equal(got.Log, logFileInOneOrder) && !slices.Equal(got.Log, logFileInTheOther) {
		t.Errorf("async.log holds %q, want %q in either order", got.Log, logFileInOneOrder)
	}
}

// Users tables of several shapes, with what the lesson prints for each,
// written out here and checked against the guide's way in Python, with
// aiosqlite and asyncio.gather, where Python has aiosqlite.
var usersTables = []struct {
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
	{"other and extra columns, a TIMESTAMP and a BOOLEAN, NULLs", []string{
		`CREATE TABLE users (user_id TEXT PRIMARY KEY, age INTEGER, name TEXT, email TEXT,
			created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, is_active BOOLEAN DEFAULT 1, photo BLOB)`,
		`INSERT INTO users VALUES
			('u1', 45, 'Finn O''Brien', NULL, '2025-07-07 10:58:59', 1, x'00ff'),
			('u2', 30, NULL, 'alice@example.com', 'yesterday', 0, NULL),
			('u3', 52.5, 'Dora', 'dora@example.com', NULL, 'yes', x'')`,
	}, `All users:
('u1', 45, "Finn O'Brien", None, '2025-07-07 10:58:59', 1, b'\x00\xff')
('u2', 30, None, 'alice@example.com', 'yesterday', 0, None)
('u3', 52.5, 'Dora', 'dora@example.com', None, 'yes', b'')

Users older than 40:
('u1', 45, "Finn O'Brien", None, '2025-07-07 10:58:59', 1, b'\x00\xff')
('u3', 52.5, 'Dora', 'dora@example.com', None, 'yes', b'')
`},
	{"one column", []string{`CREATE TABLE users (age INTEGER)`, `INSERT INTO users VALUES (45), (20)`}, `All users:
(45,)
(20,)

Users older than 40:
(45,)
`},
	{"no users yet", workbooktest.GuideUsers[:1], "All users:\n\nUsers older than 40:\n"},
}

func TestPrintsAndLogsWhatPythonDoes(t *testing.T) {
	var paths []string
	var runs []workbooktest.Run
	for _, tt := range usersTables {
		path := workbooktest.NewUsersDB(t, tt.setup...)
		got := runLesson(t, path)
		if got.Err != nil {
			t.Fatalf("%s: %v", tt.name, got.Err)
		}
		if got.Stdout != tt.want {
			t.Errorf("%s: stdout:\n%s\nwant:\n%s", tt.name, got.Stdout, tt.want)
		}
		assertLoggedBothFetches(t, got)
		paths, runs = append(paths, path), append(runs, got)
	}
	python := workbooktest.PythonWith(t, "aiosqlite")
	if python == "" {
		return
	}
	for i, py := range workbooktest.RunGuidePython(t, python, "async.log", guideProgram, paths...) {
		if py.Stdout != runs[i].Stdout {
			t.Errorf("%s: the lesson prints\n%s\nPython prints\n%s", usersTables[i].name, runs[i].Stdout, py.Stdout)
		}
		// Python is held to what the lesson is held to.
		assertLoggedBothFetches(t, py)
	}
}

func TestPageShowsTheOutput(t *testing.T) {
	got := runLesson(t, workbooktest.NewUsersDB(t, workbooktest.GuideUsers...))
	if got.Err != nil {
		t.Fatal(got.Err)
	}
	workbooktest.AssertPageShows(t, got.Stdout)
	// The log lines in one of their two orders: bare on the terminal, and
	// dated in async.log, with the guide's times.
	workbooktest.AssertPageShows(t, stderrInEitherOrder[0])
	for _, line := range logFileInOneOrder {
		workbooktest.AssertPageShows(t, "2025-05-20 01:05:00,123 - "+line)
	}
}

// An open that fails is reported as such, before any fetch starts: sql.Open
// connected to nothing, PingContext did.
func TestAFailedOpenIsReportedBeforeAnyFetch(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	workbooktest.WriteFile(t, path, "these are my notes, not a database\n")
	got := runLesson(t, path)
	if got.Err == nil || !strings.Contains(got.Err.Error(), "is not an SQLite database") {
		t.Fatalf("error = %v, want that the file is not an SQLite database", got.Err)
	}
	if strings.Contains(got.Err.Error(), "fetch") {
		t.Errorf("error = %q: a fetch ran on a database that could not be opened; ping it first", got.Err)
	}
}

// mode=rw: a mistyped path creates nothing and says so, and a table
// without the age column that the second query needs says which columns
// it has.
func TestBadDatabasesFailWithAdviceAndCreateNothing(t *testing.T) {
	for _, tt := range []struct {
		name   string
		path   func(t *testing.T) string
		advice string
	}{
		{"a mistyped path", func(t *testing.T) string {
			return filepath.Join(filepath.Dir(workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)), "usres.db")
		}, "there is no such file; did you mean -db "},
		{"no age column", func(t *testing.T) string {
			return workbooktest.NewUsersDB(t, "CREATE TABLE users (id INTEGER, name TEXT)", "INSERT INTO users VALUES (1, 'Ann')")
		}, "has no age column: its columns are id, name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			workbooktest.RunLessonOnABadDatabase(t, run, "async.log", tt.path(t), tt.advice)
		})
	}
}

// Each fetch's error reaches the caller, whichever goroutine it happened
// in, with the name of the fetch that failed.
func TestRunReturnsTheErrorOfEachFetch(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup []string
		want  string
	}{
		// Only the first query reads the young user, whose name is not
		// UTF-8 text.
		{"all users", []string{
			`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)`,
			`INSERT INTO users VALUES (1, CAST(X'FF' AS TEXT), 20), (2, 'Bob', 45)`,
		}, "fetch all users: column name holds text that is not UTF-8"},
		// Only the second query needs the age column.
		{"users older than 40", []string{
			`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`,
			`INSERT INTO users VALUES (1, 'Ann')`,
		}, "fetch users older than 40: no such column: age"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := runLesson(t, workbooktest.NewUsersDB(t, tt.setup...))
			if got.Err == nil || !strings.Contains(got.Err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", got.Err, tt.want)
			}
			if got.Stdout != "" {
				t.Errorf("stdout = %q, want nothing", got.Stdout)
			}
		})
	}
}

func TestRunStopsOnACancelledContext(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout strings.Builder
	err := run(ctx, workbooktest.NewUsersDB(t, workbooktest.GuideUsers...), &stdout, io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
}

// A writer holds the database for a moment while the lesson starts: the
// lesson's connections wait for it (the busy timeout) instead of failing
// with "database is locked".
func TestRunWaitsForAWriterToFinish(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	writer := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	conn, err := writer.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	release := time.AfterFunc(300*time.Millisecond, func() {
		conn.ExecContext(context.Background(), "ROLLBACK")
	})
	defer release.Stop()
	got := runLesson(t, path)
	if got.Err != nil {
		t.Fatalf("run while another program held the lock for 300 ms: %v", got.Err)
	}
	if !strings.HasPrefix(got.Stdout, "All users:\n(1, ") {
		t.Errorf("stdout = %q, want the users", got.Stdout)
	}
}

// A caller's cancel that arrives after both fetches succeeded throws
// nothing away: the results are complete.
func TestACancelAfterBothFetchesKeepsTheResults(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	db := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Each fetch logs once it has all its rows; the second log cancels.
	logger := slog.New(&cancelOnLog{after: 2, cancel: cancel})
	all, older, err := fetchConcurrently(ctx, db, logger)
	if err != nil {
		t.Fatalf("fetchConcurrently: %v, want both results", err)
	}
	if len(all) != 3 || len(older) != 1 {
		t.Errorf("got %d and %d users, want 3 and 1", len(all), len(older))
	}
}

// A failed scan still gives the connection back to the pool.
func TestAFailedScanReleasesTheConnection(t *testing.T) {
	path := workbooktest.NewUsersDB(t,
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)`,
		`INSERT INTO users VALUES (1, 'Ann', 30), (2, CAST(X'FF' AS TEXT), 45)`)
	db := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	if _, err := fetchUsers(context.Background(), db, workbooktest.Discard()); err == nil {
		t.Fatal("fetchUsers succeeded on a name that is not UTF-8")
	}
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connection still in use after a failed scan: the rows were never closed", inUse)
	}
}

// An error that SQLite meets on the second row, after the first was read,
// is an error of the fetch, not the end of the rows. Here it is an integer
// overflow computed for row 2.
func TestAnErrorAfterTheFirstRowFailsTheFetch(t *testing.T) {
	path := workbooktest.NewUsersDB(t,
		`CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)`,
		`INSERT INTO people VALUES (1, 'Ann', 30), (2, 'Bob', 45), (3, 'Cy', 50)`,
		`CREATE VIEW users AS SELECT id, name, CASE WHEN id = 2 THEN abs(1 - 9223372036854775807 - id) ELSE age END AS age FROM people`)
	db := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	users, err := fetchUsers(context.Background(), db, workbooktest.Discard())
	if err == nil || !strings.Contains(err.Error(), "integer overflow") {
		t.Errorf("fetchUsers returned %d row(s) and error %v: an error after the first row was taken for the end of the rows", len(users), err)
	}
}

func TestFetchOlderUsersBindsTheAge(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	db := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	for age, want := range map[int]int{24: 3, 29: 2, 44: 1, 45: 0} {
		users, err := fetchOlderUsers(context.Background(), db, workbooktest.Discard(), age)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != want {
			t.Errorf("older than %d: %d users, want %d", age, len(users), want)
		}
	}
}

// cancelOnLog is a slog.Handler that calls cancel at its after'th record.
type cancelOnLog struct {
	n      atomic.Int32
	after  int32
	cancel func()
}

func (h *cancelOnLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *cancelOnLog) Handle(context.Context, slog.Record) error {
	if h.n.Add(1) == h.after {
		h.cancel()
	}
	return nil
}
func (h *cancelOnLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *cancelOnLog) WithGroup(string) slog.Handler      { return h }
