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

	"github.com/mattn/go-sqlite3"
)

// The lesson's stdout. The times it prints are the lesson's own constants,
// not measured ones, so the output is the same on every run.
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
	// Users older than 40:
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
	//
	// A query that never ends, with a deadline of 200ms:
	// Stopped: context deadline exceeded
	//
	// The same query, canceled by another goroutine after 100ms:
	// Stopped: context canceled
}

func TestPageShowsTheOutput(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	stdout, stderr, err := runLesson(t, context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	assertPageShows(t, "```\n$ go run ./00-setup && go run ./extras/async-query\n"+stdout+"```")
	var log []string
	for _, line := range logMessages(t, strings.ReplaceAll(stderr, path, "users.db")) {
		log = append(log, "... - "+line)
	}
	assertPageShows(t, "```\n"+strings.Join(log, "\n")+"\n```")
}

// pythonListing is the guide's Listing 9 used as the lesson uses it, run by
// TestRunPrintsWhatPythonPrints where Python has aiosqlite.
const pythonListing = `
import asyncio, aiosqlite
from contextlib import asynccontextmanager

@asynccontextmanager
async def async_execute_query(db_name, query, params=()):
    async with aiosqlite.connect(db_name) as conn:
        cursor = await conn.execute(query, params)
        results = await cursor.fetchall()
        yield results

async def main():
    async with async_execute_query('users.db', "SELECT * FROM users WHERE age > ?", (40,)) as results:
        print("Users older than 40:")
        for row in results:
            print(row)

asyncio.run(main())
`

func TestRunPrintsWhatPythonPrints(t *testing.T) {
	stops := "\nA query that never ends, with a deadline of 200ms:\nStopped: context deadline exceeded\n" +
		"\nThe same query, canceled by another goroutine after 100ms:\nStopped: context canceled\n"
	for _, tt := range []struct {
		name  string
		setup []string
		want  string
	}{
		{"the guide's table", guideUsers, "Users older than 40:\n(2, 'Bob Johnson', 'bob.johnson@example.com', 45)\n"},
		{"other columns, NULLs, quotes, floats and a DATE", []string{
			`CREATE TABLE users (user_id TEXT PRIMARY KEY, age REAL, name TEXT, born DATE, photo BLOB)`,
			`INSERT INTO users VALUES ('u1', 41.5, 'Finn O''Brien', '1984-02-29', x'00ff'),
			('u2', NULL, NULL, NULL, NULL), ('u3', 1e16, 'back\slash', 'soon', x'')`,
		}, `Users older than 40:
('u1', 41.5, "Finn O'Brien", '1984-02-29', b'\x00\xff')
('u3', 1e+16, 'back\\slash', 'soon', b'')
`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := newUsersDB(t, tt.setup...)
			stdout, _, err := runLesson(t, context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			if stdout != tt.want+stops {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.want+stops)
			}
			if python := pythonWith(t, "aiosqlite"); python != "" {
				if py := runPython(t, python, filepath.Dir(path), pythonListing); !strings.HasPrefix(stdout, py+"\n") {
					t.Errorf("stdout:\n%s\ndoes not start with what Python prints:\n%s", stdout, py)
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
	want := []string{"INFO - Opened connection to " + path, "INFO - Fetched users older than 40"}
	if got := logMessages(t, stderr.String()); !slices.Equal(got, want) {
		t.Errorf("stderr logs %q, want %q", got, want)
	}
	file, err := os.ReadFile(filepath.Join(dir, "async.log"))
	if err != nil {
		t.Fatal(err)
	}
	if got := logMessages(t, string(file)); !slices.Equal(got, append(want, want...)) {
		t.Errorf("async.log after two runs holds %q, want both runs' lines", got)
	}
}

// backstop is the test's own deadline for run, which stops a query that
// nothing else stops; run itself needs about 300 ms.
const backstop = 5 * time.Second

func TestRunStopsTheQueriesThatNeverEnd(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	ctx, cancel := context.WithTimeout(context.Background(), backstop)
	defer cancel()
	start := time.Now()
	stdout, _, err := runLesson(t, ctx, path)
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("a query ran until the test's own %v backstop: nothing else stopped it (run returned %v)", backstop, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	// The queries started at once and stopped at 200 and 100 ms: run
	// cannot have taken less than that unless they never ran.
	if elapsed < 300*time.Millisecond {
		t.Errorf("run took %v, want at least 300ms: the queries ran until they were stopped", elapsed)
	}
	if !strings.Contains(stdout, "Stopped: context deadline exceeded") || !strings.Contains(stdout, "Stopped: context canceled") {
		t.Errorf("stdout = %q, want both queries stopped", stdout)
	}
}

func TestRunFails(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T) string // returns the -db path
		want  string
	}{
		{"missing file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing.db") },
			"there is no such file"},
		{"empty file", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "users.db")
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return path
		}, "is an empty file with no tables"},
		{"no users table", func(t *testing.T) string { return newUsersDB(t, "CREATE TABLE orders (id INTEGER)") },
			"has no users table: its tables are orders"},
		{"no age column", func(t *testing.T) string { return newUsersDB(t, "CREATE TABLE users (id INTEGER, name TEXT)") },
			"has no age column: its columns are id, name"},
		{"Ctrl-C before it starts", func(t *testing.T) string { return newUsersDB(t, guideUsers...) },
			"context canceled"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t)
			before := dirEntries(t, filepath.Dir(path))
			ctx, cancel := context.WithCancel(context.Background())
			if strings.HasPrefix(tt.name, "Ctrl-C") {
				cancel()
			}
			defer cancel()
			stdout, stderr, err := runLesson(t, ctx, path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one that says %q", err, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if opened := strings.Contains(stderr, "Opened connection"); opened != strings.HasPrefix(tt.name, "no ") && tt.name != "empty file" {
				t.Errorf("stderr:\n%s\nwant %q only once PingContext has opened the file", stderr, "Opened connection")
			}
			if after := dirEntries(t, filepath.Dir(path)); !slices.Equal(before, after) {
				t.Errorf("the database's folder held %q, now %q: want nothing created", before, after)
			}
		})
	}
}

func TestCtrlCDuringTheQueryThatNeverEnds(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Ctrl-C 50 ms in, while the first query that never ends runs.
	time.AfterFunc(50*time.Millisecond, cancel)
	stdout, _, err := runLesson(t, ctx, path)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if strings.Contains(stdout, "Stopped") {
		t.Errorf("stdout = %q, want the program stopped before either query's own stop", stdout)
	}
}

func TestADeadlineStopsARunningQuery(t *testing.T) {
	db := openPool(t, newUsersDB(t, guideUsers...))
	// One connection only: the query after the stopped one runs on the
	// very connection that was interrupted.
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := queryInTime(t, ctx, db)
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error = %v, want context.DeadlineExceeded", err)
	}
	// The query started before the deadline and returned after it: it was
	// running when the deadline came, and the interrupt stopped it.
	if elapsed < 200*time.Millisecond {
		t.Errorf("the query returned after %v, before its deadline", elapsed)
	}
	assertNextQueryWorks(t, db)
}

func TestACancelFromAnotherGoroutineStopsARunningQuery(t *testing.T) {
	db := openPool(t, newUsersDB(t, guideUsers...))
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	result := make(chan error, 1)
	go func() {
		_, err := executeQuery(ctx, db, countForever)
		result <- err
	}()
	// The pool lends the query its connection as the statement starts.
	// Once it is lent and 100 ms have passed with no result, the query is
	// running inside SQLite, and only the cancel can end it.
	for deadline := time.Now().Add(2 * time.Second); db.Stats().InUse == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the query did not take a connection within 2s")
		}
	}
	select {
	case err := <-result:
		t.Fatalf("the query ended before the cancel: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-result:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the query was still running 3s after the cancel")
	}
	assertNextQueryWorks(t, db)
}

func TestAContextDoesNotCutALockWait(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	locker := openPool(t, path)
	ctx := context.Background()
	conn, err := locker.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK")

	reader, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw&_busy_timeout=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { reader.Close(); assertNothingOpen(t, reader) }()
	deadline, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = executeQuery(deadline, reader, "SELECT * FROM users")
	elapsed := time.Since(start)
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) || sqliteErr.Code != sqlite3.ErrBusy {
		t.Errorf("error = %v, want database is locked", err)
	}
	if elapsed < time.Second {
		t.Errorf("the query gave up after %v, want the busy timeout's 1s despite the 100ms deadline", elapsed)
	}
}

func TestExecuteQueryGivesTheConnectionBackOnAnEarlyReturn(t *testing.T) {
	// The first row holds text that is not UTF-8, so the loop returns
	// with rows still to read.
	db := openPool(t, newUsersDB(t,
		"CREATE TABLE users (name TEXT)",
		"INSERT INTO users VALUES (CAST(x'ff' AS TEXT)), ('Bob'), ('Charlie')"))
	_, err := executeQuery(context.Background(), db, "SELECT * FROM users")
	if err == nil || !strings.Contains(err.Error(), "not UTF-8") {
		t.Errorf("error = %v, want the row's", err)
	}
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connection still in use after a row failed to scan, want 0", inUse)
	}
}

func TestExecuteQueryReportsAnErrorAfterTheFirstRow(t *testing.T) {
	// abs() of the smallest integer overflows: SQLite returns the first
	// row, then fails on the second.
	db := openPool(t, newUsersDB(t, guideUsers...))
	rows, err := executeQuery(context.Background(), db,
		"SELECT abs(column1) FROM (VALUES (?), (?))", 1, -9223372036854775807-1)
	if err == nil || !strings.Contains(err.Error(), "integer overflow") {
		t.Errorf("executeQuery = %v, %v; want the integer overflow of row 2, not a short result", rows, err)
	}
}

func TestExperimentRemoveTheDeadline(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "withDeadline, cancel := context.WithTimeout(ctx, 200*time.Millisecond)",
		new:     "withDeadline, cancel := context.WithCancel(ctx)",
		command: "go test -run TestRunStopsTheQueriesThatNeverEnd ./extras/async-query",
		want:    []string{"a query ran until the test's own 5s backstop: nothing else stopped it"},
		fails:   true,
	})
}

func TestExperimentRemoveTheCancel(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "time.AfterFunc(100*time.Millisecond, cancelQuery)", new: "time.AfterFunc(time.Hour, cancelQuery)",
		command: "go test -run TestRunStopsTheQueriesThatNeverEnd ./extras/async-query",
		want:    []string{"a query ran until the test's own 5s backstop: nothing else stopped it"},
		fails:   true,
	})
}

func TestExperimentDeleteRowsErr(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "return results, rows.Err()", new: "return results, nil",
		command: "go test -run TestExecuteQueryReportsAnErrorAfterTheFirstRow ./extras/async-query",
		want:    []string{"executeQuery = [(1,)], <nil>; want the integer overflow of row 2, not a short result"},
		fails:   true,
	})
}

func TestExperimentDeleteDeferRowsClose(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "\tdefer rows.Close()\n", new: "",
		command: "go test -run TestExecuteQueryGivesTheConnectionBack ./extras/async-query",
		want:    []string{"1 connection still in use after a row failed to scan, want 0"},
		fails:   true,
	})
}

// queryInTime runs countForever with ctx, and fails the test if it is
// still running 5s later.
func queryInTime(t *testing.T, ctx context.Context, db *sql.DB) error {
	t.Helper()
	result := make(chan error, 1)
	go func() {
		_, err := executeQuery(ctx, db, countForever)
		result <- err
	}()
	select {
	case err := <-result:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("the query was still running after 5s")
		return nil
	}
}

// assertNextQueryWorks checks that db's connection came back to the pool
// and answers the guide's query.
func assertNextQueryWorks(t *testing.T, db *sql.DB) {
	t.Helper()
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connection in use after the query stopped, want 0", inUse)
	}
	rows, err := executeQuery(context.Background(), db, "SELECT * FROM users WHERE age > ?", 40)
	if err != nil {
		t.Fatalf("the next query: %v", err)
	}
	if want := "(2, 'Bob Johnson', 'bob.johnson@example.com', 45)"; len(rows) != 1 || rows[0].String() != want {
		t.Errorf("the next query returned %v, want [%s]", rows, want)
	}
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

// pageCitations are the lines of main.go that README.md cites by number.
var pageCitations = []citation{
	{"`executeQuery` (lines 97 to\n120 of `main.go`)", 97, "// executeQuery is async_execute_query"},
	{"`executeQuery` (lines 97 to\n120 of `main.go`)", 120, "}"},
	{"(lines 76 and 77)", 76, "withDeadline, cancel := context.WithTimeout(ctx, 200*time.Millisecond)"},
	{"(lines 76 and 77)", 77, "defer cancel()"},
	{"(lines 87 and 88)", 87, "canceled, cancelQuery := context.WithCancel(ctx)"},
	{"(lines 87 and 88)", 88, "time.AfterFunc(100*time.Millisecond, cancelQuery)"},
	{"`defer rows.Close()` (line 107)", 107, "defer rows.Close()"},
	{"`return results, rows.Err()` (line 119)", 119, "return results, rows.Err()"},
}
