package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

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

func TestPageShowsTheRun(t *testing.T) {
	workbooktest.AssertPageShowsTheRun(t, run, "debugging.log")
}

// copies is what the lesson does on a users table: copy users, or stop
// with advice.
type copies struct {
	users  int
	advice string
}

// copied lists, for each of workbooktest.UsersTables by its name, the
// number of users the lesson copies, or where the table has no name
// column, the advice it stops with.
var copied = map[string]copies{
	"the guide's": {users: 3},
	"extra columns, a TIMESTAMP and a BOOLEAN": {users: 4},
	"DATE and DATETIME columns and a TEXT key": {advice: "has no name column: its columns are user_id, age, born, seen, active"},
	"another column order":                     {users: 2},
	"NULLs":                                    {users: 3},
	"quotes, escapes and other scripts":        {users: 4},
	"REAL ages, the int64 limits and BLOBs":    {users: 4},
	"one column":                               {advice: "has no name column: its columns are age"},
	"a view":                                   {users: 2},
	"no rows":                                  {advice: "has no name column: its columns are id, age"},
}

// TestEveryUsersTableWithANameColumn runs the lesson on the users tables
// that learners make: it reads any table with a name column, and stops
// with advice on one without.
func TestEveryUsersTableWithANameColumn(t *testing.T) {
	workbooktest.OnEveryUsersTable(t, copied, func(t *testing.T, path string, want copies) {
		if want.advice != "" {
			got := workbooktest.RunLessonOnABadDatabase(t, run, "debugging.log", path, want.advice)
			workbooktest.AssertLogged(t, got, "INFO - Opened connection to "+path)
			return
		}
		assertCopies(t, path, want.users)
	})
	for _, tc := range []struct {
		name  string
		setup []string
		users int
	}{
		{"a text key, no id, a NULL name", []string{
			`CREATE TABLE users (user_id TEXT PRIMARY KEY, age INTEGER, email TEXT, name TEXT)`,
			`INSERT INTO users VALUES ('u-1', 30, 'alice@example.com', 'Alice'), ('u-2', 41, 'dana@example.com', NULL)`,
		}, 2},
		{"the name column alone, of no type", []string{`CREATE TABLE users (name)`, `INSERT INTO users VALUES (42), (x'00ff'), (NULL)`}, 3},
		{"the name column alone, no rows", []string{`CREATE TABLE users (name TEXT)`}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertCopies(t, workbooktest.NewUsersDB(t, tc.setup...), tc.users)
		})
	}
}

// assertCopies runs the lesson on the database at path and checks that it
// copied users users and logged that it opened the file.
func assertCopies(t *testing.T, path string, users int) {
	t.Helper()
	got := workbooktest.RunLessonAndCheckClosed(t, run, "debugging.log", path)
	if got.Err != nil {
		t.Fatal(got.Err)
	}
	want := fmt.Sprintf(`":memory:": %d users copied on connection 1; connection 2 says: no such table: users
Fix 1, "file:/users?vfs=memdb": connection 2 counts %d users
Fix 2, ":memory:" with SetMaxOpenConns(1): 4 goroutines at once count [%d %d %d %d] users, through at most 1 connection
  but after a transaction whose context ended before Commit: no such table: users
`, users, users, users, users, users, users)
	if got.Stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got.Stdout, want)
	}
	workbooktest.AssertLogged(t, got, "INFO - Opened connection to "+path)
}

func TestRunTwiceInOneProcess(t *testing.T) {
	// The memdb database lives while a connection to it is open. Unless
	// run closed every one, the second run finds the first one's table.
	// The garbage collector is off, so that it cannot close them instead.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	t.Chdir(t.TempDir())
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	for i := range 2 {
		if err := run(context.Background(), path, io.Discard, io.Discard); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
	}
}

// TestRunClosesEveryPool guards the deferred Close of each of run's four
// pools. A plain ":memory:" pool that nobody closes frees nothing before the
// program ends, and each open pool keeps a goroutine of database/sql's.
func TestRunClosesEveryPool(t *testing.T) {
	t.Chdir(t.TempDir())
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	before := openPools()
	if err := run(context.Background(), path, io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if left := openPools() - before; left != 0 {
		t.Errorf("%d of run's pools are still open after it returned, want 0: a deferred Close is missing", left)
	}
}

// openPools counts the *sql.DB pools of this process that are open. Each
// pool has a goroutine of database/sql's, connectionOpener, that waits in a
// select until the pool is closed. db.Close wakes it before it returns, so
// from then on the goroutine is no longer waiting (it is about to end),
// and no time needs to pass before counting.
func openPools() int {
	buf := make([]byte, 1<<20)
	open := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if strings.Contains(header, "[select") && strings.Contains(g, "database/sql.(*DB).connectionOpener(") {
			open++
		}
	}
	return open
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
			names := []sql.Null[string]{{V: "Ann", Valid: true}, {V: "Bo", Valid: true}}
			n, err := copyThenCount(context.Background(), db, names)
			if got := fmt.Sprintf("%d, %v", n, err); got != tc.want {
				t.Errorf("copyThenCount = %s, want %s", got, tc.want)
			}
			if s := db.Stats(); s.InUse != 0 || s.OpenConnections != 2 {
				t.Errorf("%d in use, %d open; want none in use and the two connections it used", s.InUse, s.OpenConnections)
			}
			db.Close()
			workbooktest.AssertNothingOpen(t, db)
		})
	}
}

func TestUserNames(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup []string
		want  string
	}{
		{"guide's users", workbooktest.GuideUsers, "[{Alice Smith true} {Bob Johnson true} {Charlie Brown true}]"},
		{"a NULL name", []string{`CREATE TABLE users (name TEXT)`, `INSERT INTO users VALUES ('Ann'), (NULL)`}, "[{Ann true} { false}]"},
		// SQLite fails while it steps through the rows: rows.Next stops
		// and rows.Err tells why.
		{"an error while stepping", []string{`CREATE TABLE numbers (n INTEGER)`,
			`INSERT INTO numbers VALUES (1), (-9223372036854775807 - 1)`,
			`CREATE VIEW users AS SELECT abs(n) AS name FROM numbers`}, "integer overflow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sql.Open("sqlite3", dbfile.URI(workbooktest.NewUsersDB(t, tc.setup...)))
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
			workbooktest.AssertNothingOpen(t, db)
		})
	}
}

// TestBadDatabasesFailWithAdvice: the lesson fails with one line that says
// what to do, prints nothing and creates nothing (mode=rw), and logs
// "Opened" only where PingContext succeeded.
func TestBadDatabasesFailWithAdvice(t *testing.T) {
	workbooktest.AssertRefusesBadDatabases(t, run, "debugging.log", func(path string) []string {
		return []string{"INFO - Opened connection to " + path}
	})
}

// The page's "Try it" experiments.

func TestExperimentNoMemdb(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: `const memdbDSN = "file:/users?vfs=memdb"`, New: `const memdbDSN = ":memory:"`,
		Command: "go test -run Example ./extras/debug-memory",
		Want:    []string{"no such table: users"}, Fails: true,
	})
}

func TestExperimentNoMaxOpenConns(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "\tone.SetMaxOpenConns(1)\n", New: "",
		Command: "go test -run Example ./extras/debug-memory",
		Want:    []string{"--- FAIL: Example"}, Fails: true,
	})
}

func TestExperimentNoClose(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "\tdefer memdb.Close()\n", New: "",
		Command: "go test -run TestRunTwiceInOneProcess ./extras/debug-memory",
		Want:    []string{"run 2: table users already exists"}, Fails: true,
	})
}
