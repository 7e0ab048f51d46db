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
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// The lesson on the guide's users.db, which TestMain made in the folder
// where the tests run. The log line goes to stderr, discarded here.
func Example() {
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// SELEC * FROM users
	//   near "SELEC": syntax error
	//   sqlite3.ErrError: the SQL is wrong; fix the query, running it again will not help (Python: OperationalError)
	// SELECT * FROM usres
	//   no such table: usres
	//   sqlite3.ErrError: the SQL is wrong; fix the query, running it again will not help (Python: OperationalError)
	// SELECT nme FROM users
	//   no such column: nme
	//   sqlite3.ErrError: the SQL is wrong; fix the query, running it again will not help (Python: OperationalError)
	// SELECT * FROM users WHERE age > ?
	//   not enough args to execute query: want 1 got 0
	//   no sqlite3.Error: the driver refused the call before SQLite ran it (Python: ProgrammingError)
	// The same connection still works: SELECT count(*) FROM users = 3
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

func TestClassify(t *testing.T) {
	sqlError := sqlite3.Error{Code: sqlite3.ErrError}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"an SQL error", sqlError, "sqlite3.ErrError: "},
		{"wrapped on its way up", fmt.Errorf("listing users: %w", sqlError), "sqlite3.ErrError: "},
		{"busy", sqlite3.Error{Code: sqlite3.ErrBusy}, "sqlite3.ErrBusy: "},
		{"a constraint", fmt.Errorf("adding a user: %w", sqlite3.Error{Code: sqlite3.ErrConstraint}), "sqlite3.ErrConstraint: "},
		{"another code", sqlite3.Error{Code: sqlite3.ErrReadonly}, "sqlite3.Error with Code 8: attempt to write a readonly database"},
		{"the same text, not from SQLite", errors.New("no such table: usres"), "no sqlite3.Error: "},
		{"no error", nil, "no error: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.err); !strings.HasPrefix(got, tc.want) {
				t.Errorf("classify(%v) = %q, want it to start %q", tc.err, got, tc.want)
			}
		})
	}
}

func TestTheConnectionIsGivenBack(t *testing.T) {
	db, err := sql.Open("sqlite3", fileURI(newUsersDB(t, guideUsers...))+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	if err := tryInvalidQueries(context.Background(), db, io.Discard); err != nil {
		t.Fatal(err)
	}
	if s := db.Stats(); s.InUse != 0 || s.OpenConnections != 1 {
		t.Errorf("after tryInvalidQueries: %d in use, %d open; want 0 in use and the one connection they all used", s.InUse, s.OpenConnections)
	}
	db.Close()
	assertNothingOpen(t, db)
}

func TestTryQueryClosesTheRowsOfAValidQuery(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite3", fileURI(newUsersDB(t, guideUsers...))+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close(); assertNothingOpen(t, db) }()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tryQuery(ctx, conn, "SELECT * FROM users"); err != nil {
		t.Fatal(err)
	}
	// With rows left open, Close would wait for them for ever.
	closed := make(chan error, 1)
	go func() { closed <- conn.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(5 * time.Second):
		t.Error("conn.Close still waits after 5 s: tryQuery left the rows of a valid query open")
	}
}

func TestFailures(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, path, want string }{
		{"no such file", filepath.Join(dir, "missing.db"), "there is no such file; create it with: go run ./00-setup"},
		{"no users table", newUsersDB(t, "CREATE TABLE people (id INTEGER)"), "has no users table: its tables are people"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			var stderr bytes.Buffer
			err := run(context.Background(), tc.path, io.Discard, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run error = %v, want %q", err, tc.want)
			}
			if strings.Contains(stderr.String(), "Opened") != (tc.name != "no such file") {
				t.Errorf("log = %q: Opened only once PingContext succeeded", stderr.String())
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("%d entries created in %s, want none", len(entries), dir)
			}
		})
	}
}

// The page's "Try it" experiments.

func TestExperimentRowsClose(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "\tdefer rows.Close()\n", new: "",
		command: "go test -run TestTryQueryClosesTheRowsOfAValidQuery ./extras/debug-invalid-query",
		want:    []string{"conn.Close still waits after 5 s: tryQuery left the rows of a valid query open"}, fails: true,
	})
}

func TestExperimentConnClose(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "\tdefer conn.Close()\n", new: "",
		command: "go test -run TestTheConnectionIsGivenBack ./extras/debug-invalid-query",
		want:    []string{"after tryInvalidQueries: 1 in use, 1 open"}, fails: true,
	})
}

func TestExperimentTwoArguments(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "err := tryQuery(ctx, conn, query)", new: "err := tryQuery(ctx, conn, query, 30, 40)",
		command: "go test -run Example ./extras/debug-invalid-query",
		want:    []string{"no error: this query is valid on this table"}, fails: true,
	})
}

// TestMain runs the tests and the example in a new folder holding the
// guide's users.db, as a learner's folder would, so that the log file lands
// there and not in the source tree.
func TestMain(m *testing.M) { os.Exit(runInScratchFolder(m)) }

// pageCitations are the lines of main.go that README.md cites by number.
var pageCitations = []citation{
	{"`db.Conn(ctx)` takes from the pool (main.go line 70)", 70, "conn, err := db.Conn(ctx)"},
	{"`defer conn.Close()` (line 74)", 74, "defer conn.Close()"},
	{"`classify` (lines 101 to 118)", 101, "func classify("},
	{"`classify` (lines 101 to 118)", 118, "}"},
	{"`tryQuery` (lines 89 to 96)", 89, "func tryQuery("},
	{"`tryQuery` (lines 89 to 96)", 96, "}"},
}
