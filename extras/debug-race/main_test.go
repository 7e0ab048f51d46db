package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

// The lesson on the guide's users.db, which TestMain made in the folder
// where the tests run. It prints the same with and without -race; the log
// lines, which say which, go to stderr, discarded here.
func Example() {
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Users older than 20: 3
	// Users older than 30: 1
	// Users older than 40: 1
	// Users older than 50: 0
	// Look for data races with: go test -race ./extras/debug-race
}

// raceBuild reports whether go test built this test binary with -race, as
// the go command reads it from the binary, apart from the code of
// builtWithRace.
func raceBuild(t *testing.T) bool {
	t.Helper()
	binary, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "version", "-m", binary).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	return strings.Contains(string(out), "\tbuild\t-race=true\n")
}

func TestBuiltWithRaceMatchesTheBuild(t *testing.T) {
	if got, want := builtWithRace(), raceBuild(t); got != want {
		t.Errorf("builtWithRace() = %t, but go version -m says -race=%t", got, want)
	}
}

func TestPageShowsTheRun(t *testing.T) {
	// The page shows both: what the lesson logs when go test builds it
	// with -race and without.
	workbooktest.AssertPageShowsTheRun(t, run, "debugging.log")
}

// olderThan lists, for each of workbooktest.UsersTables by its name, the
// number of users older than 20, 30, 40 and 50. A NULL age is older than
// nothing, as in SQL.
var olderThan = map[string][4]int{
	"the guide's": {3, 1, 1, 0},
	"extra columns, a TIMESTAMP and a BOOLEAN": {3, 2, 2, 1},
	"DATE and DATETIME columns and a TEXT key": {3, 2, 2, 0},
	"another column order":                     {2, 1, 1, 0},
	"NULLs":                                    {2, 1, 1, 0},
	"quotes, escapes and other scripts":        {4, 3, 1, 0},
	"REAL ages, the int64 limits and BLOBs":    {4, 2, 2, 0},
	"one column":                               {1, 0, 0, 0},
	"a view":                                   {2, 1, 1, 0},
	"no rows":                                  {0, 0, 0, 0},
}

// TestEveryUsersTable runs the lesson on the users tables that learners
// make: every one has an age column, all the lesson needs.
func TestEveryUsersTable(t *testing.T) {
	workbooktest.OnEveryUsersTable(t, olderThan, assertCounts)
	t.Run("a text key, no id", func(t *testing.T) {
		assertCounts(t, workbooktest.NewUsersDB(t,
			`CREATE TABLE users (user_id TEXT PRIMARY KEY, age INTEGER, email TEXT, name TEXT)`,
			`INSERT INTO users VALUES ('u-1', 30, 'alice@example.com', 'Alice'), ('u-2', 41, NULL, NULL), ('u-3', 55, 'eve@example.com', 'Eve')`),
			[4]int{3, 2, 2, 1})
	})
}

// assertCounts runs the lesson on the database at path and checks that it
// printed the counts of users older than 20, 30, 40 and 50, and logged what
// the page shows.
func assertCounts(t *testing.T, path string, counts [4]int) {
	t.Helper()
	got := workbooktest.RunLessonAndCheckClosed(t, run, "debugging.log", path)
	if got.Err != nil {
		t.Fatal(got.Err)
	}
	want := fmt.Sprintf("Users older than 20: %d\nUsers older than 30: %d\nUsers older than 40: %d\nUsers older than 50: %d\n"+
		"Look for data races with: go test -race ./extras/debug-race\n", counts[0], counts[1], counts[2], counts[3])
	if got.Stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got.Stdout, want)
	}
	workbooktest.AssertLogged(t, got, "INFO - Opened connection to "+path,
		fmt.Sprintf("INFO - Built with the race detector: %t", raceBuild(t)))
}

// TestCountOlderThan is the test to run with -race: its goroutines are the
// ones the race detector watches. It has no timer of its own: if the
// goroutines never finish, go test's -timeout stops it and prints where
// each goroutine waits.
func TestCountOlderThan(t *testing.T) {
	db, err := sql.Open("sqlite3", dbfile.URI(workbooktest.NewUsersDB(t, workbooktest.GuideUsers...))+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		db.Close()
		workbooktest.AssertNothingOpen(t, db)
	}()
	counts, err := countOlderThan(context.Background(), db, ages)
	want := []count{{20, 3}, {30, 1}, {40, 1}, {50, 0}}
	if err != nil || !slices.Equal(counts, want) {
		t.Errorf("countOlderThan = %v, %v; want %v", counts, err, want)
	}
}

// TestBadDatabasesFailWithAdvice: the lesson fails with one line that says
// what to do, prints nothing and creates nothing (mode=rw), and logs
// "Opened" only where PingContext succeeded.
func TestBadDatabasesFailWithAdvice(t *testing.T) {
	noAge := workbooktest.BadDatabase{Name: "no age column", Make: func(t *testing.T) string {
		return workbooktest.NewUsersDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`)
	}, Advice: "has no age column: its columns are id, name"}
	workbooktest.AssertRefusesBadDatabases(t, run, "debugging.log", func(path string) []string {
		return []string{"INFO - Opened connection to " + path, fmt.Sprintf("INFO - Built with the race detector: %t", raceBuild(t))}
	}, noAge)
}

// The page's "Try it" experiments. The two that run go test -race build
// the lesson, and SQLite's C code with it, with the race detector: the
// first time, that alone takes minutes on a slow machine. So they run only
// with go test -tags experiments, and wait for as long as the test may
// run (go test -timeout).

func TestExperimentNoLock(t *testing.T) {
	t.Log("go test -race compiles SQLite again the first time: minutes on a slow machine")
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "\tr.mu.Lock()\n\tdefer r.mu.Unlock()\n", New: "",
		Command: "go test -race -run TestCountOlderThan ./extras/debug-race",
		Want:    []string{"WARNING: DATA RACE", "race detected during execution of test"}, Fails: true,
	})
}

func TestExperimentNoUnlock(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "\tdefer r.mu.Unlock()\n", New: "",
		Command: "go test -timeout 10s -run TestCountOlderThan ./extras/debug-race",
		Want:    []string{"panic: test timed out after 10s", "sync.(*Mutex).Lock", "debug-race.(*results).add"}, Fails: true,
	})
}

func TestExperimentReadBeforeWait(t *testing.T) {
	t.Log("go test -race compiles SQLite again the first time: minutes on a slow machine")
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\twg.Wait()\n\tslices.SortFunc(r.counts, func(a, b count) int { return a.age - b.age })\n",
		New:     "\tslices.SortFunc(r.counts, func(a, b count) int { return a.age - b.age })\n\twg.Wait()\n",
		Command: "go test -race -run TestCountOlderThan ./extras/debug-race",
		Want:    []string{"WARNING: DATA RACE"}, Fails: true,
	})
}
