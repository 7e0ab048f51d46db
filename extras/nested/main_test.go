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
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The lesson prints what the guide's Listing 8 prints on the guide's table.
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
	// [(1, 'Alice Smith', 'alice.smith@example.com', 30), (2, 'Bob Johnson', 'bob.johnson@example.com', 45), (3, 'Charlie Brown', 'charlie.brown@example.com', 25)]
}

func TestPageShowsTheOutput(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	stdout, stderr, err := runLesson(t, context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	assertPageShows(t, "```\n$ go run ./00-setup && go run ./extras/nested\n"+stdout+"```")
	var log []string
	for _, line := range logMessages(t, strings.ReplaceAll(stderr, path, "users.db")) {
		log = append(log, "... - "+line)
	}
	assertPageShows(t, "```\n"+strings.Join(log, "\n")+"\n```")
}

// pythonListing prints what Listing 8's print(results) prints: the list
// that ExecuteQuery's fetchall returns.
const pythonListing = `
import sqlite3
conn = sqlite3.connect('users.db')
print(conn.execute("SELECT * FROM users").fetchall())
conn.close()
`

func TestRunPrintsWhatPythonPrints(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup []string
		want  string
	}{
		{"the guide's table", guideUsers,
			"[(1, 'Alice Smith', 'alice.smith@example.com', 30), (2, 'Bob Johnson', 'bob.johnson@example.com', 45), (3, 'Charlie Brown', 'charlie.brown@example.com', 25)]\n"},
		{"one column, NULL, quotes, BOOLEAN", []string{
			`CREATE TABLE users (name TEXT, is_active BOOLEAN)`,
			`INSERT INTO users VALUES ('Finn O''Brien', 1), (NULL, 0), ('say "hi"', NULL)`,
		}, `[("Finn O'Brien", 1), (None, 0), ('say "hi"', None)]` + "\n"},
		{"one column", []string{`CREATE TABLE users (id INTEGER)`, `INSERT INTO users VALUES (7)`}, "[(7,)]\n"},
		{"an empty table", []string{guideUsers[0]}, "[]\n"},
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
			if python := pythonWith(t, "sqlite3"); python != "" {
				if py := runPython(t, python, filepath.Dir(path), pythonListing); stdout != py {
					t.Errorf("stdout:\n%s\nPython prints:\n%s", stdout, py)
				}
			}
		})
	}
}

func TestRunClosesInReverseOrder(t *testing.T) {
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
		assertNoneOpen(t, path)
	}
	want := []string{
		"INFO - Opened connection to " + path,
		"INFO - Executed query: SELECT * FROM users with params: ()",
		"INFO - Closed query",
		"INFO - Closed connection to " + path,
	}
	assertLog(t, "stderr", stderr.String(), want)
	file, err := os.ReadFile(filepath.Join(dir, "connection.log"))
	if err != nil {
		t.Fatal(err)
	}
	assertLog(t, "connection.log after two runs", string(file), append(want, want...))
}

func TestRunFails(t *testing.T) {
	opened := "INFO - Opened connection to "
	closed := []string{"INFO - Closed query", "INFO - Closed connection to "}
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T) string // returns the -db path
		ctrlC bool
		want  string
		log   []string // each line's start, after the timestamp
	}{
		{"missing file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing.db") }, false,
			"there is no such file", []string{"ERROR - Connection error: "}},
		{"no users table", func(t *testing.T) string { return newUsersDB(t, "CREATE TABLE orders (id INTEGER)") }, false,
			"has no users table: its tables are orders",
			[]string{opened, "ERROR - Query error: ", closed[1]}},
		{"a row that cannot be read", func(t *testing.T) string {
			return newUsersDB(t, "CREATE TABLE users (name TEXT)",
				"INSERT INTO users VALUES (CAST(x'ff' AS TEXT)), ('Bob'), ('Charlie')")
		}, false, "not UTF-8", []string{opened, "INFO - Executed query: ", closed[0], closed[1]}},
		{"an error on row 2", func(t *testing.T) string {
			// abs() of the smallest integer overflows: SQLite returns the
			// first row, then fails on the second.
			return newUsersDB(t, "CREATE VIEW users AS SELECT abs(column1) AS n FROM (VALUES (1), (-9223372036854775807 - 1))")
		}, false, "integer overflow", []string{opened, "INFO - Executed query: ", closed[0], closed[1]}},
		{"Ctrl-C before it starts", func(t *testing.T) string { return newUsersDB(t, guideUsers...) }, true,
			"context canceled", []string{"ERROR - Connection error: context canceled"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t)
			before := dirEntries(t, filepath.Dir(path))
			ctx, cancel := context.WithCancel(context.Background())
			if tt.ctrlC {
				cancel()
			}
			defer cancel()
			stdout, stderr, err := runLesson(t, ctx, path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one that says %q", err, tt.want)
			}
			if tt.ctrlC && !errors.Is(err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", err)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			got := logMessages(t, stderr)
			ok := len(got) == len(tt.log)
			for i := 0; ok && i < len(got); i++ {
				ok = strings.HasPrefix(got[i], tt.log[i])
			}
			if !ok {
				t.Errorf("log:\n%s\nwant lines that start:\n%s", strings.Join(got, "\n"), strings.Join(tt.log, "\n"))
			}
			if after := dirEntries(t, filepath.Dir(path)); !slices.Equal(before, after) {
				t.Errorf("the database's folder held %q, now %q: want nothing created", before, after)
			}
		})
	}
}

// TestDBCloseLeavesTheConnectionThatRowsHold is the reason for the order:
// db.Close returns at once, and the connection the rows hold stays open, and
// the file with it, until the rows are closed.
func TestDBCloseLeavesTheConnectionThatRowsHold(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(context.Background(), "SELECT name FROM users")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("no first row: %v", rows.Err())
	}

	start := time.Now()
	if err := db.Close(); err != nil {
		t.Errorf("db.Close = %v, want nil", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("db.Close took %v: it waited for the rows", elapsed)
	}
	if s := db.Stats(); s.OpenConnections != 1 || s.InUse != 1 {
		t.Errorf("after db.Close: %d open, %d in use, want the rows' 1 and 1", s.OpenConnections, s.InUse)
	}
	if len(openDescriptors(path)) == 0 {
		t.Error("the file was closed by db.Close, want it open while the rows are")
	}
	var names []string
	for ok := true; ok; ok = rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if err := rows.Err(); err != nil || len(names) != 3 {
		t.Errorf("after db.Close the rows read %q, %v; want all 3 names", names, err)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	assertNothingOpen(t, db)
	assertNoneOpen(t, path)
}

func TestExperimentDeferTheFirstCloseLast(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go",
		old: `	defer closeDatabase(db, dbPath, logger)
	results, err := executeQuery(ctx, db, dbPath, query, logger)
	if err != nil {
		return err // closeDatabase still runs: it was deferred above
	}
	defer closeQuery(results, logger)
`,
		new: `	results, err := executeQuery(ctx, db, dbPath, query, logger)
	if err != nil {
		return err
	}
	defer closeQuery(results, logger)
	defer closeDatabase(db, dbPath, logger)
`,
		command: "go test -run 'TestRunClosesInReverseOrder|TestRunFails' ./extras/nested",
		want: []string{
			`stderr line 3 = "INFO - Closed connection to`,
			"--- FAIL: TestRunFails/no_users_table",
			"users.db is still open after run: a connection was not closed",
		},
		fails: true,
	})
}

func TestExperimentDeleteDeferCloseQuery(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "\tdefer closeQuery(results, logger)\n", new: "",
		command: "go test -run TestRunFails ./extras/nested",
		want: []string{
			"--- FAIL: TestRunFails/a_row_that_cannot_be_read",
			"users.db is still open after run: a connection was not closed",
		},
		fails: true,
	})
}

func TestExperimentDeleteRowsErr(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go",
		old: `	if err := results.Err(); err != nil {
		return err
	}
`,
		new:     "",
		command: "go test -run TestRunFails ./extras/nested",
		want: []string{
			"--- FAIL: TestRunFails/an_error_on_row_2",
			`error = <nil>, want one that says "integer overflow"`,
			`stdout = "[(1,)]\n", want nothing`,
		},
		fails: true,
	})
}

func TestExperimentModeRWC(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "?mode=rw&", new: "?mode=rwc&",
		command: "go test -run TestRunFails/missing_file ./extras/nested",
		want:    []string{`the database's folder held [], now ["missing.db"]: want nothing created`},
		fails:   true,
	})
}

// assertLog checks that log holds exactly the wanted lines, in order, each
// in the guide's format; want gives each line's text after the timestamp.
func assertLog(t *testing.T, name, log string, want []string) {
	t.Helper()
	got := logMessages(t, log)
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("%s has no line %d, want %q", name, i+1, want[i])
		case i >= len(want):
			t.Errorf("%s line %d = %q, want no such line", name, i+1, got[i])
		case got[i] != want[i]:
			t.Errorf("%s line %d = %q, want %q", name, i+1, got[i], want[i])
		}
	}
}

// assertNoneOpen fails if this process still has the file at path open.
func assertNoneOpen(t *testing.T, path string) {
	t.Helper()
	if open := openDescriptors(path); len(open) > 0 {
		t.Errorf("%s is still open: a connection was not closed", path)
	}
}

// runLesson runs the lesson on path in a folder of its own, where its log
// file goes, and returns what it printed. It fails the test if run left the
// database file open: run must close all it opened.
func runLesson(t *testing.T, ctx context.Context, path string) (stdout, stderr string, err error) {
	t.Helper()
	var out, log bytes.Buffer
	before, goroutines := openDescriptors(path), runtime.NumGoroutine()
	inDir(t.TempDir(), func() { err = run(ctx, path, &out, &log) })
	if after := openDescriptors(path); len(after) > len(before) {
		t.Errorf("%s is still open after run: a connection was not closed", path)
	}
	// An open pool keeps a goroutine of its own, even with no connection
	// open, until db.Close.
	for wait := time.Now(); runtime.NumGoroutine() > goroutines; time.Sleep(time.Millisecond) {
		if time.Since(wait) > time.Second {
			t.Errorf("run left %d goroutines behind: a pool was not closed", runtime.NumGoroutine()-goroutines)
			break
		}
	}
	return out.String(), log.String(), err
}

// pageCitations are the lines of main.go that README.md cites by number.
var pageCitations = []citation{
	{"`run` (lines 44 to 53 of\n`main.go`)", 44, "db, err := openDatabase(ctx, dbPath, logger)"},
	{"`run` (lines 44 to 53 of\n`main.go`)", 53, "defer closeQuery(results, logger)"},
	{"`results.Err()` (line 66)", 66, "results.Err()"},
}
