package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

// asRunOpensIt are the settings with which run opens the database.
const asRunOpensIt = "?mode=rw&_busy_timeout=5000"

// The lesson's stdout, run in a folder that holds the guide's users.db. The
// times it prints are the lesson's own constants, not measured ones, so the
// output is the same on every run.
func Example() {
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

// runLesson runs the lesson on the database at path, in a folder of its
// own, where async.log goes. It fails the test if run left the database
// file open: run must close all it opened.
func runLesson(t *testing.T, path string) workbooktest.Run {
	t.Helper()
	return workbooktest.RunLessonAndCheckClosed(t, run, "async.log", path)
}

func TestPageShowsTheOutput(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	got := runLesson(t, path)
	if got.Err != nil {
		t.Fatal(got.Err)
	}
	workbooktest.AssertPageShows(t, "$ go run ./00-setup && go run ./extras/async-query\n"+got.Stdout+"```")
	workbooktest.AssertPageShows(t, strings.ReplaceAll(got.Stderr, path, "users.db")+"```")
	for _, line := range got.Log {
		workbooktest.AssertPageShows(t, "2025-05-20 01:05:00,123 - "+strings.ReplaceAll(line, path, "users.db"))
	}
}

// guideListing is the guide's Listing 9 used as the lesson uses it: main
// prints the users older than 40 of the database at path.
const guideListing = `import asyncio, aiosqlite
from contextlib import asynccontextmanager

@asynccontextmanager
async def async_execute_query(db_name, query, params=()):
    async with aiosqlite.connect(db_name) as conn:
        cursor = await conn.execute(query, params)
        results = await cursor.fetchall()
        yield results

async def users_older_than_40(path):
    async with async_execute_query(path, "SELECT * FROM users WHERE age > ?", (40,)) as results:
        print("Users older than 40:")
        for row in results:
            print(row)

def main(path):
    asyncio.run(users_older_than_40(path))
`

func TestRunPrintsWhatPythonPrints(t *testing.T) {
	stops := "\nA query that never ends, with a deadline of 200ms:\nStopped: context deadline exceeded\n" +
		"\nThe same query, canceled by another goroutine after 100ms:\nStopped: context canceled\n"
	tables := []struct {
		name  string
		setup []string
		want  string
	}{
		{"the guide's table", workbooktest.GuideUsers, "Users older than 40:\n(2, 'Bob Johnson', 'bob.johnson@example.com', 45)\n"},
		{"other columns, NULLs, quotes, floats and a DATE", []string{
			`CREATE TABLE users (user_id TEXT PRIMARY KEY, age REAL, name TEXT, born DATE, photo BLOB)`,
			`INSERT INTO users VALUES ('u1', 41.5, 'Finn O''Brien', '1984-02-29', x'00ff'),
			('u2', NULL, NULL, NULL, NULL), ('u3', 1e16, 'back\slash', 'soon', x'')`,
		}, `Users older than 40:
('u1', 41.5, "Finn O'Brien", '1984-02-29', b'\x00\xff')
('u3', 1e+16, 'back\\slash', 'soon', b'')
`},
	}
	var paths, printed []string
	for _, tt := range tables {
		path := workbooktest.NewUsersDB(t, tt.setup...)
		got := runLesson(t, path)
		if got.Err != nil {
			t.Fatalf("%s: %v", tt.name, got.Err)
		}
		if got.Stdout != tt.want+stops {
			t.Errorf("%s: stdout:\n%s\nwant:\n%s", tt.name, got.Stdout, tt.want+stops)
		}
		paths, printed = append(paths, path), append(printed, got.Stdout)
	}
	python := workbooktest.PythonWith(t, "aiosqlite")
	if python == "" {
		return
	}
	for i, py := range workbooktest.RunGuidePython(t, python, "async.log", guideListing, paths...) {
		if !strings.HasPrefix(printed[i], py.Stdout+"\n") {
			t.Errorf("%s: stdout:\n%s\ndoes not start with what Python prints:\n%s", tables[i].name, printed[i], py.Stdout)
		}
	}
}

// stderr gets the bare messages, and async.log the dated lines, appended
// run after run.
func TestRunLogsToStderrAndAsyncLog(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	t.Chdir(t.TempDir())
	for i := range 2 {
		var stderr strings.Builder
		if err := run(context.Background(), path, io.Discard, &stderr); err != nil {
			t.Fatal(err)
		}
		if want := "Opened connection to " + path + "\nFetched users older than 40\n"; stderr.String() != want {
			t.Errorf("run %d: stderr is %q, want %q", i+1, stderr.String(), want)
		}
	}
	once := []string{"INFO - Opened connection to " + path, "INFO - Fetched users older than 40"}
	if got := workbooktest.ReadLogFile(t, "async.log"); !slices.Equal(got, slices.Concat(once, once)) {
		t.Errorf("async.log after two runs holds %q, want both runs' lines", got)
	}
}

// backstop is the test's own deadline for run: 25 times the longest of the
// lesson's own deadlines, which run must obey. Only a query that nothing in
// run stops lasts until then.
const backstop = 5 * time.Second

func TestRunStopsTheQueriesThatNeverEnd(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), backstop)
	defer cancel()
	start := time.Now()
	var stdout strings.Builder
	err := run(ctx, path, &stdout, io.Discard)
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		t.Fatalf("a query ran until the test's own %v backstop: nothing else stopped it (run returned %v)", backstop, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	// The queries stopped at 200 and 100 ms: run cannot have taken less
	// than that unless they never ran.
	if elapsed < 300*time.Millisecond {
		t.Errorf("run took %v, want at least 300ms: the queries run until they are stopped", elapsed)
	}
	if !strings.Contains(stdout.String(), "Stopped: context deadline exceeded") || !strings.Contains(stdout.String(), "Stopped: context canceled") {
		t.Errorf("stdout = %q, want both queries stopped", stdout.String())
	}
}

func TestRunFails(t *testing.T) {
	for _, tt := range []struct {
		name   string
		path   func(t *testing.T) string
		want   string
		opened bool // whether the file opened before the query failed
	}{
		{"missing file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing.db") },
			"there is no such file", false},
		{"not a database", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "notes.db")
			workbooktest.WriteFile(t, path, "these are my notes, not a database\n")
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

// ctrlCOnWrite is the lesson's stdout: it cancels the program's context,
// as Ctrl-C does, when the lesson prints the text after.
type ctrlCOnWrite struct {
	after string
	ctrlC context.CancelFunc
}

func (w ctrlCOnWrite) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.after) {
		w.ctrlC()
	}
	return len(p), nil
}

// Ctrl-C as the query that never ends starts stops the program before the
// query's own deadline would.
func TestCtrlCStopsTheQueryThatNeverEnds(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	t.Chdir(t.TempDir())
	ctx, ctrlC := context.WithCancel(context.Background())
	defer ctrlC()
	err := run(ctx, path, ctrlCOnWrite{"A query that never ends", ctrlC}, io.Discard)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "the query with a deadline: ") {
		t.Errorf("error = %v, want the query with a deadline stopped by Ctrl-C: context.Canceled", err)
	}
}

// Always defer cancel(): each cancel function that run gets from the
// context package is called by a defer on the next line, so that it runs
// however run returns. In this lesson the queries end only when their
// context does, so no run of it shows a difference; the idiom is checked
// in the code instead. (go vet's lostcancel check finds a cancel function
// that is dropped, but not one that is called late, as time.AfterFunc
// calls cancelQuery.)
func TestEveryCancelFunctionIsDeferredAtOnce(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "main.go", workbooktest.Source(t, "main.go"), 0)
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	ast.Inspect(file, func(n ast.Node) bool {
		block, ok := n.(*ast.BlockStmt)
		if !ok {
			return true
		}
		for i, stmt := range block.List {
			assign, ok := stmt.(*ast.AssignStmt)
			if !ok || len(assign.Lhs) != 2 || len(assign.Rhs) != 1 {
				continue
			}
			call, ok := assign.Rhs[0].(*ast.CallExpr)
			if !ok {
				continue
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !strings.HasPrefix(sel.Sel.Name, "With") {
				continue
			}
			if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "context" {
				continue
			}
			found++
			where := fset.Position(assign.Pos())
			cancel, ok := assign.Lhs[1].(*ast.Ident)
			if !ok || cancel.Name == "_" {
				t.Errorf("main.go:%d: the cancel function of context.%s is dropped: keep it and defer it", where.Line, sel.Sel.Name)
				continue
			}
			if !isDeferredCall(block.List[i+1:], cancel.Name) {
				t.Errorf("main.go:%d: %s, the cancel function of context.%s, is not deferred on the next line: defer %s()", where.Line, cancel.Name, sel.Sel.Name, cancel.Name)
			}
		}
		return true
	})
	if found != 2 {
		t.Errorf("main.go makes %d contexts with the context package, want the deadline's and cancelQuery's", found)
	}
}

// isDeferredCall reports whether the first of stmts is defer name().
func isDeferredCall(stmts []ast.Stmt, name string) bool {
	if len(stmts) == 0 {
		return false
	}
	d, ok := stmts[0].(*ast.DeferStmt)
	if !ok {
		return false
	}
	fn, ok := d.Call.Fun.(*ast.Ident)
	return ok && fn.Name == name
}

func TestADeadlineStopsARunningQuery(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	db := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	// One connection only: the query after the stopped one runs on the
	// very connection that was interrupted.
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := <-startQueryThatNeverEnds(ctx, db)
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
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	db := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(workbooktest.Context(t))
	defer cancel()
	result := startQueryThatNeverEnds(ctx, db)
	// The pool lends the query its connection as the statement starts.
	// Once it is lent and 100 ms have passed with no result, the query is
	// running inside SQLite, and only the cancel can end it.
	workbooktest.WaitFor(t, "the query to take the pool's connection", func() bool { return db.Stats().InUse == 1 })
	select {
	case err := <-result:
		t.Fatalf("the query ended before the cancel: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	if err := <-result; !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	assertNextQueryWorks(t, db)
}

// A wait for another connection's lock lasts the busy timeout, 500 ms here,
// whatever the query's deadline, 100 ms here. What the query then returns
// depends on where it waited: in its first step, on a connection that the
// pool already had, or in the driver's Open, which takes no context, on a
// connection that the pool opens for the query.
func TestALockWaitLastsTheBusyTimeoutWhateverTheDeadline(t *testing.T) {
	const busyTimeout = 500 * time.Millisecond
	for _, tt := range []struct {
		connection string
		// warm says whether the pool has a connection open before the
		// lock: then the query returns the context's error, and otherwise
		// the driver's "database is locked".
		warm bool
	}{
		{"a connection already in the pool", true},
		{"a connection the pool opens for the query", false},
	} {
		t.Run(tt.connection, func(t *testing.T) {
			path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
			reader, err := sql.Open("sqlite3", dbfile.URI(path)+fmt.Sprintf("?mode=rw&_busy_timeout=%d", busyTimeout.Milliseconds()))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { reader.Close(); workbooktest.AssertNothingOpen(t, reader) }()
			if tt.warm {
				// Ping opens the pool's connection, as run's Ping does.
				if err := reader.PingContext(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			holdExclusiveLock(t, path)

			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			_, err = executeQuery(ctx, reader, "SELECT * FROM users")
			elapsed := time.Since(start)
			if tt.warm && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error = %v, want context.DeadlineExceeded", err)
			}
			if !tt.warm {
				workbooktest.AssertSQLiteCode(t, err, workbooktest.SQLiteBusy)
			}
			if elapsed < busyTimeout {
				t.Errorf("the query gave up after %v, want the busy timeout's %v despite the 100ms deadline", elapsed, busyTimeout)
			}
		})
	}
}

func TestExecuteQueryGivesTheConnectionBackOnAnEarlyReturn(t *testing.T) {
	// The first row holds text that is not UTF-8, so the loop returns
	// with rows still to read.
	path := workbooktest.NewUsersDB(t,
		"CREATE TABLE users (name TEXT)",
		"INSERT INTO users VALUES (CAST(x'ff' AS TEXT)), ('Bob'), ('Charlie')")
	db := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
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
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	db := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	rows, err := executeQuery(context.Background(), db,
		"SELECT abs(column1) FROM (VALUES (?), (?))", 1, -9223372036854775807-1)
	if err == nil || !strings.Contains(err.Error(), "integer overflow") {
		t.Errorf("executeQuery = %v, %v; want the integer overflow of row 2, not a short result", rows, err)
	}
}

// startQueryThatNeverEnds runs countForever with ctx on a goroutine of its
// own, and returns the channel its error comes on.
func startQueryThatNeverEnds(ctx context.Context, db *sql.DB) <-chan error {
	result := make(chan error, 1)
	go func() {
		_, err := executeQuery(ctx, db, countForever)
		result <- err
	}()
	return result
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

// holdExclusiveLock takes the exclusive lock on the database at path, as
// another program in the middle of a write does, until the test ends.
func holdExclusiveLock(t *testing.T, path string) {
	t.Helper()
	locker := workbooktest.OpenDSN(t, dbfile.URI(path)+asRunOpensIt)
	ctx := context.Background()
	conn, err := locker.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.ExecContext(ctx, "ROLLBACK")
		conn.Close()
	})
}
