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
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

// The lesson on the guide's users.db, which TestMain made in the folder
// where the tests run. The log line goes to stderr, discarded here.
func Example() {
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// One pool: 30 lookups from 10 goroutines at once, through at most 4 connections (SetMaxOpenConns)
	//   connections closed and opened again: 0 (SetMaxIdleConns)
	// A new connection per lookup, as async_pooled_query does: 30 connections opened and closed
	// (1, 'Alice Smith', 'alice.smith@example.com', 30)
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
	// (3, 'Charlie Brown', 'charlie.brown@example.com', 25)
	// User 4: <nil> (Scan returned sql.ErrNoRows; Python's fetchone() returns None)
}

// nullableUsers is a users table as a learner may have made it: age may be
// NULL, and one user's is. The page shows the same SQL.
var nullableUsers = []string{
	`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, age INTEGER)`,
	`INSERT INTO users (name, email, age) VALUES ('Alice Smith', 'alice.smith@example.com', 30), ('Dana White', 'dana.white@example.com', NULL)`,
}

// runLesson runs the lesson on path in a folder of its own (for the log
// file) and returns what it printed; it fails the test on an error.
func runLesson(t *testing.T, path string) (stdout, stderr string) {
	t.Helper()
	t.Chdir(t.TempDir())
	var out, errOut bytes.Buffer
	if err := run(context.Background(), path, &out, &errOut); err != nil {
		t.Fatalf("run: %v", err)
	}
	return out.String(), errOut.String()
}

func TestANullAgePrintsAsNone(t *testing.T) {
	stdout, _ := runLesson(t, newUsersDB(t, nullableUsers...))
	want := `One pool: 20 lookups from 10 goroutines at once, through at most 4 connections (SetMaxOpenConns)
  connections closed and opened again: 0 (SetMaxIdleConns)
A new connection per lookup, as async_pooled_query does: 20 connections opened and closed
(1, 'Alice Smith', 'alice.smith@example.com', 30)
(2, 'Dana White', 'dana.white@example.com', None)
User 3: <nil> (Scan returned sql.ErrNoRows; Python's fetchone() returns None)
`
	if stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout, want)
	}
}

func TestPageShowsTheOutput(t *testing.T) {
	for name, setup := range map[string][]string{"guide": guideUsers, "nullable": nullableUsers} {
		t.Run(name, func(t *testing.T) {
			stdout, stderr := runLesson(t, newUsersDB(t, setup...))
			t.Chdir(lessonFolder)
			assertPageShows(t, strings.TrimSuffix(stdout, "\n"))
			if got := logMessages(t, stderr); len(got) != 1 || !strings.HasPrefix(got[0], "INFO - Opened connection pool to ") {
				t.Errorf("log = %q, want the one Opened line", got)
			}
		})
	}
	t.Chdir(lessonFolder)
	for _, stmt := range nullableUsers {
		assertPageShows(t, stmt)
	}
}

// openTestPool opens the lesson's pool on path, and at the end of the test
// closes it and checks that nothing is left open.
func openTestPool(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := openPool(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
		assertNothingOpen(tb, db)
	})
	return db
}

// holdConnections takes n connections of db at once from goroutines of
// their own, waits until want of them are in use and the others wait, then
// gives them all back. It fails within seconds if the pool never gets there.
func holdConnections(t *testing.T, db *sql.DB, n, want int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	release := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			conn, err := db.Conn(ctx)
			if err != nil {
				return // the deadline: the test fails below
			}
			<-release
			conn.Close()
		})
	}
	for s := db.Stats(); s.InUse != want || s.WaitCount != int64(n-want); s = db.Stats() {
		if ctx.Err() != nil || s.InUse > want {
			t.Errorf("the pool never had %d in use and %d waiting: InUse=%d OpenConnections=%d WaitCount=%d",
				want, n-want, s.InUse, s.OpenConnections, s.WaitCount)
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
}

func TestThePoolOpensAtMostMaxOpenConns(t *testing.T) {
	db := openTestPool(t, newUsersDB(t, guideUsers...))
	// The ten goroutines each ask for a connection: four get one, and six
	// wait until they are given back.
	holdConnections(t, db, goroutines, maxOpenConns)
}

func TestIdleConnectionsAreKept(t *testing.T) {
	db := openTestPool(t, newUsersDB(t, guideUsers...))
	// Four connections in use at once, then all four given back.
	holdConnections(t, db, maxOpenConns, maxOpenConns)
	if s := db.Stats(); s.MaxIdleClosed != 0 || s.Idle != maxOpenConns {
		t.Errorf("MaxIdleClosed = %d, Idle = %d; want 0 and %d: every connection given back is kept for the next query",
			s.MaxIdleClosed, s.Idle, maxOpenConns)
	}
}

// openFiles counts the file descriptors of this process open on path or
// its journal. The garbage collector is off meanwhile, so that it cannot
// close a forgotten connection behind the test's back.
func openFiles(t *testing.T, path string) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd on this system")
	}
	n := 0
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err == nil && strings.HasPrefix(target, path) {
			n++
		}
	}
	return n
}

func TestRunClosesThePool(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	path := newUsersDB(t, guideUsers...)
	runLesson(t, path)
	if n := openFiles(t, path); n != 0 {
		t.Errorf("after run, %d file descriptors are still open on %s: a pool was not closed", n, filepath.Base(path))
	}
}

func TestEachLookupClosesItsPool(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	path := newUsersDB(t, guideUsers...)
	u, err := findUserNewPool(context.Background(), path, 2)
	if err != nil || u == nil || u.Name != "Bob Johnson" {
		t.Fatalf("findUserNewPool = %v, %v; want Bob Johnson", u, err)
	}
	if n := openFiles(t, path); n != 0 {
		t.Errorf("after one lookup, %d file descriptors are still open on %s: its pool was not closed", n, filepath.Base(path))
	}
}

func TestNoSuchUserIsNil(t *testing.T) {
	db := openTestPool(t, newUsersDB(t, guideUsers...))
	u, err := findUser(context.Background(), db, 4)
	if u != nil || err != nil {
		t.Errorf("findUser(4) = %v, %v; want nil, nil, as fetchone() returns None", u, err)
	}
}

func TestUserIDs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup []string
		want  string // the ids, or the error
	}{
		{"guide's users", guideUsers, "[1 2 3]"},
		{"no rows", guideUsers[:1], "[]"},
		// Scan fails on the second row; the rows must still be closed.
		{"an id that is text", []string{`CREATE TABLE users (id TEXT)`, `INSERT INTO users VALUES ('1'), ('x')`},
			`sql: Scan error on column index 0, name "id": converting driver.Value type string ("x") to a int64: invalid syntax`},
		// SQLite fails while it steps through the rows: rows.Next stops
		// and rows.Err tells why.
		{"an error while stepping", []string{`CREATE TABLE numbers (n INTEGER)`,
			`INSERT INTO numbers VALUES (1), (-9223372036854775807 - 1)`,
			`CREATE VIEW users AS SELECT abs(n) AS id FROM numbers`}, "integer overflow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTestPool(t, newUsersDB(t, tc.setup...))
			ids, err := userIDs(context.Background(), db)
			got := fmt.Sprint(ids)
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("userIDs = %s, want %s", got, tc.want)
			}
			if inUse := db.Stats().InUse; inUse != 0 {
				t.Errorf("%d connection in use after userIDs returned: the rows were not closed", inUse)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want string
	}{
		{"no such file", filepath.Join(dir, "missing.db"), "there is no such file; create it with: go run ./00-setup"},
		{"an empty file", empty, "is an empty file with no tables"},
		{"no users table", newUsersDB(t, "CREATE TABLE people (id INTEGER)"), "has no users table: its tables are people"},
		{"no id column", newUsersDB(t, "CREATE TABLE users (user_id TEXT, name TEXT)"), "has no id column: its columns are user_id, name"},
		{"no age column", newUsersDB(t, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)", "INSERT INTO users VALUES (1, 'A', 'a@x')"),
			"has no age column: its columns are id, name, email"},
		{"no users", newUsersDB(t, guideUsers[0]), "has no rows: add the guide's users with go run ./00-setup"},
		{"a name that is NULL", newUsersDB(t, "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)", "INSERT INTO users VALUES (1, NULL, 'a@x', 1)"),
			"converting NULL to string is unsupported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			before, _ := os.ReadDir(dir)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.path, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("run error = %v, want one line with %q", err, tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
			if after, _ := os.ReadDir(dir); len(after) != len(before) {
				t.Errorf("%s held %d entries, now %d: nothing may be created", dir, len(before), len(after))
			}
		})
	}
}

func TestOpenedIsLoggedOnlyAfterPing(t *testing.T) {
	var stderr bytes.Buffer
	t.Chdir(t.TempDir())
	err := run(context.Background(), filepath.Join(t.TempDir(), "missing.db"), io.Discard, &stderr)
	got := logMessages(t, stderr.String())
	if err == nil || len(got) != 1 || !strings.HasPrefix(got[0], "ERROR - Connection error: cannot open ") {
		t.Errorf("run = %v, log %q; want one ERROR line and no Opened", err, got)
	}
}

func TestACanceledContextStopsTheLesson(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	t.Chdir(t.TempDir())
	var stdout bytes.Buffer
	err := run(ctx, newUsersDB(t, guideUsers...), &stdout, io.Discard)
	if !errors.Is(err, context.Canceled) || stdout.Len() != 0 {
		t.Errorf("run = %v, printed %q; want context.Canceled and nothing printed", err, stdout.String())
	}
}

// BenchmarkPooledQuery is one lookup through one pool, with the statement
// prepared once.
func BenchmarkPooledQuery(b *testing.B) {
	ctx := context.Background()
	db := openTestPool(b, newUsersDB(b, guideUsers...))
	stmt, err := db.PrepareContext(ctx, "SELECT id, name, email, age FROM users WHERE id = ?")
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	for i := 0; b.Loop(); i++ {
		var u User
		if err := stmt.QueryRowContext(ctx, i%3+1).Scan(&u.ID, &u.Name, &u.Email, &u.Age); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPooledQueryNotPrepared is the lesson's findUser: one lookup
// through one pool, the SQL prepared again each time.
func BenchmarkPooledQueryNotPrepared(b *testing.B) {
	ctx := context.Background()
	db := openTestPool(b, newUsersDB(b, guideUsers...))
	for i := 0; b.Loop(); i++ {
		if u, err := findUser(ctx, db, int64(i%3+1)); err != nil || u == nil {
			b.Fatal(u, err)
		}
	}
}

// BenchmarkNewConnectionPerQuery is the guide's way, the lesson's
// findUserNewPool: open, ping, look up, close, every time.
func BenchmarkNewConnectionPerQuery(b *testing.B) {
	ctx := context.Background()
	path := newUsersDB(b, guideUsers...)
	for i := 0; b.Loop(); i++ {
		if u, err := findUserNewPool(ctx, path, int64(i%3+1)); err != nil || u == nil {
			b.Fatal(u, err)
		}
	}
}

// The page's "Try it" experiments. runExperiment reads the page, so each
// one runs in the lesson's folder.

func TestExperimentIdleConnections(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "\tdb.SetMaxIdleConns(maxOpenConns)\n", new: "",
		command: "go test -run TestIdleConnectionsAreKept ./extras/pooling",
		want:    []string{"MaxIdleClosed = 2, Idle = 2; want 0 and 4"}, fails: true,
	})
}

func TestExperimentMaxOpenConnections(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "\tdb.SetMaxOpenConns(maxOpenConns)\n", new: "",
		command: "go test -run TestThePoolOpensAtMostMaxOpenConns ./extras/pooling",
		want:    []string{"the pool never had 4 in use and 6 waiting"}, fails: true,
	})
}

func TestExperimentClosePool(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "\tdefer db.Close()\n\treturn findUser(ctx, db, id)\n", new: "\treturn findUser(ctx, db, id)\n",
		command: "go test -run TestEachLookupClosesItsPool ./extras/pooling",
		want:    []string{"file descriptors are still open"}, fails: true,
	})
}

func TestExperimentNoRows(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "\tif errors.Is(err, sql.ErrNoRows) {\n\t\treturn nil, nil\n\t}\n", new: "",
		command: "go test -run TestNoSuchUserIsNil ./extras/pooling",
		want:    []string{"sql: no rows in result set"}, fails: true,
	})
}

func TestExperimentRowsClose(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "\tdefer rows.Close()\n", new: "",
		command: "go test -run TestUserIDs ./extras/pooling",
		want:    []string{"1 open, 1 in use; want nothing left open"}, fails: true,
	})
}

// TestMain runs the tests and the example in a new folder holding the
// guide's users.db, as a learner's folder would, so that the log file lands
// there and not in the source tree.
func TestMain(m *testing.M) { os.Exit(runInScratchFolder(m)) }

// pageCitations are the lines of main.go that README.md cites by number.
var pageCitations = []citation{
	{"(main.go line 52,\n`defer db.Close()`)", 52, "defer db.Close()"},
	{"`openPool` (lines 89 to 102)", 89, "func openPool("},
	{"`openPool` (lines 89 to 102)", 102, "}"},
	{"`db.SetMaxOpenConns(maxOpenConns)` (line 94)", 94, "db.SetMaxOpenConns(maxOpenConns)"},
	{"`db.SetMaxIdleConns(maxOpenConns)` (line 97)", 97, "db.SetMaxIdleConns(maxOpenConns)"},
	{"`db.PingContext(ctx)` (line 98)", 98, "db.PingContext(ctx)"},
	{"`findUser` (lines 141 to 152)", 141, "func findUser("},
	{"`findUser` (lines 141 to 152)", 152, "}"},
	{"`Age sql.Null[int64]` (line 126)", 126, "Age         sql.Null[int64]"},
	{"`userIDs` (lines 105 to 120)", 105, "func userIDs("},
	{"`userIDs` (lines 105 to 120)", 120, "}"},
}
