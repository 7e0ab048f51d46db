//go:build cgo

package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
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
	// ":memory:": 3 users copied on connection 1; connection 2 says: no such table: users
	// Fix 1, "file:/users?vfs=memdb": connection 2 counts 3 users
	// Fix 2, ":memory:" with SetMaxOpenConns(1): 4 goroutines at once count [3 3 3 3] users, through at most 1 connection
	//   but after a transaction whose context ended before Commit: no such table: users
}

func TestPageShowsTheOutput(t *testing.T) {
	t.Chdir(t.TempDir())
	var stdout, stderr bytes.Buffer
	path := newUsersDB(t, guideUsers...)
	if err := run(context.Background(), path, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if got := logMessages(t, stderr.String()); len(got) != 1 || got[0] != "INFO - Opened connection to "+path {
		t.Errorf("log = %q, want the Opened line", got)
	}
	t.Chdir(lessonFolder)
	assertPageShows(t, strings.TrimSuffix(stdout.String(), "\n"))
}

func TestRunTwiceInOneProcess(t *testing.T) {
	// The memdb database lives while a connection to it is open. Unless
	// run closed every one, the second run finds the first one's table.
	// The garbage collector is off, so that it cannot close them instead.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	t.Chdir(t.TempDir())
	path := newUsersDB(t, guideUsers...)
	for i := range 2 {
		if err := run(context.Background(), path, io.Discard, io.Discard); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
}

// TestRunClosesEveryPool guards the deferred Close of each of run's four
// pools. A plain ":memory:" pool that nobody closes frees nothing before the
// program ends; each open pool keeps a goroutine of database/sql's, which
// db.Close ends.
func TestRunClosesEveryPool(t *testing.T) {
	t.Chdir(t.TempDir())
	path := newUsersDB(t, guideUsers...)
	before := openPools()
	if err := run(context.Background(), path, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	// The goroutine ends a moment after Close returns.
	for start := time.Now(); openPools() > before; time.Sleep(time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("%d pools still open after run, want 0", openPools()-before)
		}
	}
}

// openPools counts the *sql.DB pools of this process not yet closed.
func openPools() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "database/sql.(*DB).connectionOpener(")
}

func TestCopyThenCount(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{":memory:", "0, no such table: users"},
		{memdbDSN, "2, <nil>"},
	} {
		t.Run(tc.dsn, func(t *testing.T) {
			db, err := sql.Open("sqlite3", tc.dsn)
			if err != nil {
				t.Fatal(err)
			}
			n, err := copyThenCount(context.Background(), db, []string{"Ann", "Bo"})
			if got := fmt.Sprintf("%d, %v", n, err); got != tc.want {
				t.Errorf("copyThenCount = %s, want %s", got, tc.want)
			}
			if s := db.Stats(); s.InUse != 0 || s.OpenConnections != 2 {
				t.Errorf("%d in use, %d open; want none in use and the two connections it used", s.InUse, s.OpenConnections)
			}
			db.Close()
			assertNothingOpen(t, db)
		})
	}
}

func TestUserNames(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup []string
		want  string
	}{
		{"guide's users", guideUsers, "[Alice Smith Bob Johnson Charlie Brown]"},
		// Scan fails on the second row; the rows must still be closed.
		{"a NULL name", []string{`CREATE TABLE users (name TEXT)`, `INSERT INTO users VALUES ('Ann'), (NULL)`},
			`sql: Scan error on column index 0, name "name": converting NULL to string is unsupported`},
		// SQLite fails while it steps through the rows: rows.Next stops
		// and rows.Err tells why.
		{"an error while stepping", []string{`CREATE TABLE numbers (n INTEGER)`,
			`INSERT INTO numbers VALUES (1), (-9223372036854775807 - 1)`,
			`CREATE VIEW users AS SELECT abs(n) AS name FROM numbers`}, "integer overflow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sql.Open("sqlite3", fileURI(newUsersDB(t, tc.setup...)))
			if err != nil {
				t.Fatal(err)
			}
			names, err := userNames(context.Background(), db)
			got := fmt.Sprint(names)
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("userNames = %s, want %s", got, tc.want)
			}
			if inUse := db.Stats().InUse; inUse != 0 {
				t.Errorf("%d connection in use after userNames returned: the rows were not closed", inUse)
			}
			db.Close()
			assertNothingOpen(t, db)
		})
	}
}

func TestFailures(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, path, want string }{
		{"no such file", filepath.Join(dir, "missing.db"), "there is no such file; create it with: go run ./00-setup"},
		{"no name column", newUsersDB(t, "CREATE TABLE users (id INTEGER, age INTEGER)"), "has no name column: its columns are id, age"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.path, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run error = %v, want %q", err, tc.want)
			}
			if strings.Contains(stderr.String(), "Opened") != (tc.name != "no such file") {
				t.Errorf("log = %q: Opened only once PingContext succeeded", stderr.String())
			}
			if entries, _ := os.ReadDir(dir); stdout.Len() != 0 || len(entries) != 0 {
				t.Errorf("printed %q and left %d entries in %s, want nothing", stdout.String(), len(entries), dir)
			}
		})
	}
}

// The page's "Try it" experiments.

func TestExperimentNoMemdb(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: `const memdbDSN = "file:/users?vfs=memdb"`, new: `const memdbDSN = ":memory:"`,
		command: "go test -run Example ./extras/debug-memory",
		want:    []string{"no such table: users"}, fails: true,
	})
}

func TestExperimentNoMaxOpenConns(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "\tone.SetMaxOpenConns(1)\n", new: "",
		command: "go test -run Example ./extras/debug-memory",
		want:    []string{"--- FAIL: Example"}, fails: true,
	})
}

func TestExperimentNoClose(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "\tdefer memdb.Close()\n", new: "",
		command: "go test -run TestRunTwiceInOneProcess ./extras/debug-memory",
		want:    []string{"run 2: table users already exists"}, fails: true,
	})
}

// TestMain runs the tests and the example in a new folder holding the
// guide's users.db, as a learner's folder would, so that the log file lands
// there and not in the source tree.
func TestMain(m *testing.M) { os.Exit(runInScratchFolder(m)) }

// pageCitations are the lines of main.go that README.md cites by number.
var pageCitations = []citation{
	{"`copyThenCount` (main.go lines 137 to 148)", 137, "func copyThenCount("},
	{"`copyThenCount` (main.go lines 137 to 148)", 148, "}"},
	{"(line 38): `const memdbDSN = \"file:/users?vfs=memdb\"`", 38, `const memdbDSN = "file:/users?vfs=memdb"`},
	{"`defer memdb.Close()` (line 73)", 73, "defer memdb.Close()"},
	{"(line 85): `one.SetMaxOpenConns(1)`", 85, "one.SetMaxOpenConns(1)"},
	{"`insertThenCancel` (line 167)", 167, "func insertThenCancel("},
}
