//go:build cgo

package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The lesson prints the guide's output of section 4.3 on the guide's table.
func Example() {
	back, err := intoScratchFolder()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer back()
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

func TestPageShowsTheOutput(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	stdout, stderr, err := runLesson(t, context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	assertPageShows(t, "```\n$ go run ./00-setup && go run ./extras/async-connection\n"+stdout+"```")
	// The log lines, without their timestamps; the two fetches log in the
	// order they finish.
	for _, line := range logMessages(t, strings.ReplaceAll(stderr, path, "users.db")) {
		assertPageShows(t, "... - "+line)
	}
}

// pythonListing is the guide's Listing 6 written with Listing 7's
// async_db_connection, run by TestRunPrintsWhatPythonPrints where Python
// has aiosqlite.
const pythonListing = `
import asyncio, aiosqlite
from contextlib import asynccontextmanager

@asynccontextmanager
async def async_db_connection(db_name):
    conn = await aiosqlite.connect(db_name)
    try:
        yield conn
    finally:
        await conn.close()

async def fetch(query, params=()):
    async with async_db_connection('users.db') as conn:
        cursor = await conn.execute(query, params)
        return await cursor.fetchall()

async def main():
    return await asyncio.gather(fetch("SELECT * FROM users"), fetch("SELECT * FROM users WHERE age > ?", (40,)))

all_users, older_users = asyncio.run(main())
print("All users:")
for user in all_users:
    print(user)
print("\nUsers older than 40:")
for user in older_users:
    print(user)
`

func TestRunPrintsWhatPythonPrints(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup []string
		want  string
	}{
		{"the guide's table", guideUsers, `All users:
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
		{"an empty table", []string{guideUsers[0]}, "All users:\n\nUsers older than 40:\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := newUsersDB(t, tt.setup...)
			stdout, _, err := runLesson(t, context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if stdout != tt.want {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.want)
			}
			if python := pythonWith(t, "aiosqlite"); python != "" {
				if py := runPython(t, python, filepath.Dir(path), pythonListing); stdout != py {
					t.Errorf("stdout:\n%s\nPython prints:\n%s", stdout, py)
				}
			}
		})
	}
}

func TestRunLogsToStderrAndAsyncLog(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	dir := t.TempDir()
	var stderr bytes.Buffer
	for range 2 {
		stderr.Reset()
		inDir(dir, func() {
			if err := run(context.Background(), path, io.Discard, &stderr); err != nil {
				t.Fatal(err)
			}
		})
	}
	want := []string{"INFO - Opened connection to " + path, "INFO - Fetched all users", "INFO - Fetched users older than 40"}
	got := logMessages(t, stderr.String())
	if len(got) != 3 || got[0] != want[0] || !slices.Equal(slices.Sorted(slices.Values(got[1:])), want[1:]) {
		t.Errorf("stderr logs %q, want %q with the fetches in any order", got, want)
	}
	file, err := os.ReadFile(filepath.Join(dir, "async.log"))
	if err != nil {
		t.Fatal(err)
	}
	if got := logMessages(t, string(file)); len(got) != 6 || got[0] != want[0] || got[3] != want[0] {
		t.Errorf("async.log after two runs holds %q, want both runs' lines", got)
	}
}

func TestRunFails(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T) string // returns the -db path
		want  string
		err   error
	}{
		{"missing file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing.db") },
			"there is no such file", nil},
		{"not a database", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "notes.db")
			if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 100)), 0o644); err != nil {
				t.Fatal(err)
			}
			return path
		}, "is not an SQLite database", nil},
		{"no users table", func(t *testing.T) string { return newUsersDB(t, "CREATE TABLE orders (id INTEGER)") },
			"has no users table: its tables are orders", nil},
		{"no age column", func(t *testing.T) string { return newUsersDB(t, "CREATE TABLE users (id INTEGER, name TEXT)") },
			"the users table in", nil},
		{"Ctrl-C before it starts", func(t *testing.T) string { return newUsersDB(t, guideUsers...) },
			"context canceled", context.Canceled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t)
			before := dirEntries(t, filepath.Dir(path))
			ctx, cancel := context.WithCancel(context.Background())
			if tt.err != nil {
				cancel()
			}
			defer cancel()
			stdout, stderr, err := runLesson(t, ctx, path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one that says %q", err, tt.want)
			}
			if tt.err != nil && !errors.Is(err, tt.err) {
				t.Errorf("error = %v, want %v", err, tt.err)
			}
			if tt.name == "no age column" && !strings.Contains(err.Error(), "has no age column: its columns are id, name") {
				t.Errorf("error = %v, want it to name the missing age column", err)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if strings.Contains(stderr, "Opened connection") != (tt.name == "no users table" || tt.name == "no age column") {
				t.Errorf("stderr:\n%s\nwant %q only once PingContext has opened the file", stderr, "Opened connection")
			}
			if after := dirEntries(t, filepath.Dir(path)); !slices.Equal(before, after) {
				t.Errorf("the database's folder held %q, now %q: want nothing created", before, after)
			}
		})
	}
}

func TestRunWaitsForALockThatAnotherProgramHolds(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	other, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
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

	stdout, _, err := runLesson(t, ctx, path)
	if err != nil {
		t.Fatalf("run while another program held the lock for 300 ms: %v", err)
	}
	if !strings.Contains(stdout, "Users older than 40:\n(2, 'Bob Johnson'") {
		t.Errorf("stdout = %q, want the guide's rows", stdout)
	}
}

func TestFetchUsersGivesTheConnectionBack(t *testing.T) {
	db := openPool(t, newUsersDB(t, guideUsers...))
	// With one connection in the pool, each call can take it only if the
	// one before gave it back.
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for i := 1; i <= 3; i++ {
		if _, err := fetchUsers(ctx, db, "SELECT * FROM users"); err != nil {
			t.Fatalf("fetch %d of 3 with a pool of one connection: %v", i, err)
		}
		if inUse := db.Stats().InUse; inUse != 0 {
			t.Fatalf("after fetch %d of 3: %d connection still in use, want 0: conn.Close gives it back", i, inUse)
		}
	}
	if _, err := fetchUsers(ctx, db, "SELECT * FROM missing"); err == nil {
		t.Fatal("a query on a missing table succeeded")
	}
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("after a failed query: %d connection in use, want 0", inUse)
	}
}

func TestFetchUsersClosesTheRowsOnAnEarlyReturn(t *testing.T) {
	// The first row holds text that is not UTF-8, so the loop returns
	// with rows still to read.
	db := openPool(t, newUsersDB(t,
		"CREATE TABLE users (name TEXT)",
		"INSERT INTO users VALUES (CAST(x'ff' AS TEXT)), ('Bob'), ('Charlie')"))
	// The context is a backstop that ends a wait for rows never closed.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := fetchUsers(ctx, db, "SELECT * FROM users")
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not UTF-8") {
			t.Errorf("error = %v, want the row's", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("fetchUsers did not return within 3s: conn.Close is waiting for rows that were never closed")
	}
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connection in use, want 0", inUse)
	}
}

func TestFetchUsersReportsAnErrorAfterTheFirstRow(t *testing.T) {
	// abs() of the smallest integer overflows: SQLite returns the first
	// row, then fails on the second.
	db := openPool(t, newUsersDB(t,
		"CREATE VIEW users AS SELECT abs(column1) AS n FROM (VALUES (1), (-9223372036854775807 - 1))"))
	users, err := fetchUsers(context.Background(), db, "SELECT * FROM users")
	if err == nil || !strings.Contains(err.Error(), "integer overflow") {
		t.Errorf("fetchUsers = %v, %v; want the integer overflow of row 2, not a short result", users, err)
	}
}

func TestConcurrentlyRunsAllAtOnceAndReturnsEveryError(t *testing.T) {
	// Each function waits for the other to start: run one after the
	// other, they would wait until the timeout.
	started := [2]chan struct{}{make(chan struct{}), make(chan struct{})}
	both := func(i int, err error) func() error {
		return func() error {
			close(started[i])
			select {
			case <-started[1-i]:
				return err
			case <-time.After(3 * time.Second):
				return fmt.Errorf("function %d ran alone for 3s", i)
			}
		}
	}
	first, second := errors.New("first failed"), errors.New("second failed")
	err := concurrently(both(0, first), both(1, second))
	if !errors.Is(err, first) || !errors.Is(err, second) {
		t.Errorf("error = %v, want both functions' errors", err)
	}
	if err := concurrently(func() error { return nil }, func() error { return nil }); err != nil {
		t.Errorf("error = %v, want nil when all succeed", err)
	}
}

func TestConnectionStateOutlivesConnClose(t *testing.T) {
	ctx := context.Background()
	path := newUsersDB(t, guideUsers...)
	t.Run("a PRAGMA and a TEMP table made on a Conn are there for the next borrower", func(t *testing.T) {
		db := openPool(t, path)
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
		db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw&_foreign_keys=1")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { db.Close(); assertNothingOpen(t, db) }()
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

func TestExperimentDeleteDeferConnClose(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "\tdefer conn.Close()\n", new: "",
		command: "go test -run TestFetchUsersGivesTheConnectionBack ./extras/async-connection",
		want:    []string{"after fetch 1 of 3: 1 connection still in use, want 0: conn.Close gives it back"},
		fails:   true,
	})
}

func TestExperimentDeleteDeferRowsClose(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "\tdefer rows.Close()\n", new: "",
		command: "go test -run TestFetchUsersClosesTheRowsOnAnEarlyReturn ./extras/async-connection",
		want:    []string{"fetchUsers did not return within 3s: conn.Close is waiting for rows that were never closed"},
		fails:   true,
	})
}

func TestExperimentDropAGoroutinesError(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "return errors.Join(errs...)", new: "return errors.Join()",
		command: "go test -run TestRunFails ./extras/async-connection",
		want:    []string{"--- FAIL: TestRunFails/no_age_column", `error = <nil>, want one that says "the users table in"`},
		fails:   true,
	})
}

func TestExperimentNoBusyTimeout(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "_busy_timeout=5000", new: "_busy_timeout=0",
		command: "go test -run TestRunWaitsForALock ./extras/async-connection",
		want:    []string{"run while another program held the lock for 300 ms:", "is locked by another program"},
		fails:   true,
	})
}

// runLesson runs the lesson on path in a folder of its own, where its log
// file goes, and returns what it printed. It fails the test if run left the
// database file open: run must close all it opened.
func runLesson(t *testing.T, ctx context.Context, path string) (stdout, stderr string, err error) {
	t.Helper()
	var out, log bytes.Buffer
	before := openDescriptors(path)
	inDir(t.TempDir(), func() { err = run(ctx, path, &out, &log) })
	if after := openDescriptors(path); len(after) > len(before) {
		t.Errorf("%s is still open after run: a connection was not closed", path)
	}
	return out.String(), log.String(), err
}

// openPool opens path as the lesson does; Cleanup closes the pool and
// checks that nothing was left open or in use.
func openPool(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		assertNothingOpen(t, db)
	})
	return db
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

// pageCitations are the lines of main.go that README.md cites by number.
var pageCitations = []citation{
	{"is opened once (line 50)", 50, `sql.Open("sqlite3", fileURI(dbPath)+"?mode=rw&_busy_timeout=5000")`},
	{"(lines 118 to 122)", 118, "conn, err := db.Conn(ctx)"},
	{"(lines 118 to 122)", 122, "defer conn.Close()"},
	{"`defer db.Close()` of `run`\n(line 54)", 54, "defer db.Close()"},
	{"`defer rows.Close()` (line 131)", 131, "defer rows.Close()"},
	{"`rows.Err()` (line 143)", 143, "rows.Err()"},
	{"`concurrently` (lines 101 to 111)", 101, "func concurrently("},
	{"`concurrently` (lines 101 to 111)", 111, "}"},
}
