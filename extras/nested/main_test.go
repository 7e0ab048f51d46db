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

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

// The lesson prints what the guide's Listing 8 prints on the guide's table.
func Example() {
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// [(1, 'Alice Smith', 'alice.smith@example.com', 30), (2, 'Bob Johnson', 'bob.johnson@example.com', 45), (3, 'Charlie Brown', 'charlie.brown@example.com', 25)]
}

// wantLog is what run logs on a users table it can read, each line's
// "LEVEL - message"; stderr shows the messages alone.
func wantLog(path string) []string {
	return []string{
		"INFO - Opened connection to " + path,
		"INFO - Executed query: SELECT * FROM users with params: ()",
		"INFO - Closed query",
		"INFO - Closed connection to " + path,
	}
}

// messageOf is a log line without its "LEVEL - " part: what stderr shows.
func messageOf(line string) string {
	_, message, _ := strings.Cut(line, " - ")
	return message
}

func TestPageShowsTheOutput(t *testing.T) {
	// users.db in a folder of its own, where connection.log goes too.
	t.Chdir(filepath.Dir(workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)))
	var stdout, stderr bytes.Buffer
	if err := run(workbooktest.Context(t), "users.db", &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	workbooktest.AssertPageShows(t, "```\n$ go run ./00-setup && go run ./extras/nested\n"+stdout.String()+"```")
	workbooktest.AssertPageShows(t, "```\n"+stderr.String()+"```")
	var log []string
	for _, line := range workbooktest.ReadLogFile(t, "connection.log") {
		log = append(log, "... - "+line)
	}
	workbooktest.AssertPageShows(t, "```\n"+strings.Join(log, "\n")+"\n```")
}

// listing8 is the guide's Listing 8 as a Python program, for
// workbooktest.RunGuidePython: the guide's two classes, then main, the with
// statement. In the guide each class logs through the logger of its own
// file (connection.log, query.log); both write the bare message to stderr,
// as log does here.
const listing8 = `
class DatabaseConnection:
    def __init__(self, db_name):
        self.db_name, self.conn = db_name, None
    def __enter__(self):
        self.conn = sqlite3.connect(self.db_name)
        log.info(f"Opened connection to {self.db_name}")
        return self.conn
    def __exit__(self, *exc):
        self.conn.close()
        log.info(f"Closed connection to {self.db_name}")

class ExecuteQuery:
    def __init__(self, db_name, query, params=()):
        self.db_name, self.query, self.params, self.conn = db_name, query, params, None
    def __enter__(self):
        self.conn = sqlite3.connect(self.db_name)
        results = self.conn.execute(self.query, self.params).fetchall()
        log.info(f"Executed query: {self.query} with params: {self.params}")
        return results
    def __exit__(self, *exc):
        self.conn.close()
        log.info(f"Closed connection to {self.db_name}")

def main(path):
    with DatabaseConnection(path) as conn, ExecuteQuery(path, "SELECT * FROM users") as results:
        print(results)
`

// The lesson prints what Listing 8 prints, on any users table, and logs on
// stderr what it logs, but for one line: where Python's ExecuteQuery closes
// a connection of its own, the lesson closes its rows and says so.
func TestRunPrintsAndLogsWhatPythonDoes(t *testing.T) {
	tables := []struct {
		name  string
		setup []string
		want  string
	}{
		{"the guide's table", workbooktest.GuideUsers,
			"[(1, 'Alice Smith', 'alice.smith@example.com', 30), (2, 'Bob Johnson', 'bob.johnson@example.com', 45), (3, 'Charlie Brown', 'charlie.brown@example.com', 25)]\n"},
		{"one column, NULL, quotes, BOOLEAN", []string{
			`CREATE TABLE users (name TEXT, is_active BOOLEAN)`,
			`INSERT INTO users VALUES ('Finn O''Brien', 1), (NULL, 0), ('say "hi"', NULL)`,
		}, `[("Finn O'Brien", 1), (None, 0), ('say "hi"', None)]` + "\n"},
		{"one column", []string{`CREATE TABLE users (id INTEGER)`, `INSERT INTO users VALUES (7)`}, "[(7,)]\n"},
		{"an empty table", []string{workbooktest.GuideUsers[0]}, "[]\n"},
	}
	var paths []string
	for _, table := range tables {
		paths = append(paths, workbooktest.NewUsersDB(t, table.setup...))
	}
	var python []workbooktest.Run
	if py := workbooktest.PythonWith(t, "sqlite3"); py != "" {
		python = workbooktest.RunGuidePython(t, py, "connection.log", listing8, paths...)
	}
	for i, table := range tables {
		t.Run(table.name, func(t *testing.T) {
			got := workbooktest.RunLesson(t, run, "connection.log", paths[i])
			if got.Err != nil {
				t.Fatal(got.Err)
			}
			if got.Stdout != table.want {
				t.Errorf("stdout:\n%s\nwant:\n%s", got.Stdout, table.want)
			}
			if python == nil {
				return
			}
			if got.Stdout != python[i].Stdout {
				t.Errorf("stdout:\n%s\nPython prints:\n%s", got.Stdout, python[i].Stdout)
			}
			want := workbooktest.Lines(python[i].Stderr)
			if len(want) == 4 && want[2] == "Closed connection to "+paths[i] {
				want[2] = "Closed query"
			}
			if lines := workbooktest.Lines(got.Stderr); !slices.Equal(lines, want) {
				t.Errorf("stderr:\n%s\nwant Python's, with Closed query for its third line:\n%s", got.Stderr, strings.Join(want, "\n"))
			}
		})
	}
}

func TestRunClosesInReverseOrder(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	t.Chdir(t.TempDir())
	for range 2 {
		var stderr bytes.Buffer
		if err := run(workbooktest.Context(t), path, io.Discard, &stderr); err != nil {
			t.Fatal(err)
		}
		assertNoneOpen(t, path)
		var want []string
		for _, line := range wantLog(path) {
			want = append(want, messageOf(line))
		}
		assertLines(t, "stderr", workbooktest.Lines(stderr.String()), want)
	}
	assertLines(t, "connection.log after two runs", workbooktest.ReadLogFile(t, "connection.log"), append(wantLog(path), wantLog(path)...))
}

func TestRunFails(t *testing.T) {
	opened := "INFO - Opened connection to "
	closed := []string{"INFO - Closed query", "INFO - Closed connection to "}
	for _, tt := range []struct {
		name  string
		setup func(t *testing.T) string // returns the -db path
		ctrlC bool
		want  string
		log   []string // each log line's start: "LEVEL - message"
	}{
		{"missing file", func(t *testing.T) string { return filepath.Join(t.TempDir(), "missing.db") }, false,
			"there is no such file", []string{"ERROR - Connection error: "}},
		{"no users table", func(t *testing.T) string { return workbooktest.NewUsersDB(t, "CREATE TABLE orders (id INTEGER)") }, false,
			"has no users table: its tables are orders",
			[]string{opened, "ERROR - Query error: ", closed[1]}},
		{"a row that cannot be read", func(t *testing.T) string {
			return workbooktest.NewUsersDB(t, "CREATE TABLE users (name TEXT)",
				"INSERT INTO users VALUES (CAST(x'ff' AS TEXT)), ('Bob'), ('Charlie')")
		}, false, "not UTF-8", []string{opened, "INFO - Executed query: ", closed[0], closed[1]}},
		{"an error on row 2", func(t *testing.T) string {
			// abs() of the smallest integer overflows: SQLite returns the
			// first row, then fails on the second.
			return workbooktest.NewUsersDB(t, "CREATE VIEW users AS SELECT abs(column1) AS n FROM (VALUES (1), (-9223372036854775807 - 1))")
		}, false, "integer overflow", []string{opened, "INFO - Executed query: ", closed[0], closed[1]}},
		{"Ctrl-C before it starts", func(t *testing.T) string { return workbooktest.NewUsersDB(t, workbooktest.GuideUsers...) }, true,
			"context canceled", []string{"ERROR - Connection error: context canceled"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.setup(t)
			before := workbooktest.DirEntries(t, filepath.Dir(path))
			ctx, cancel := context.WithCancel(workbooktest.Context(t))
			if tt.ctrlC {
				cancel()
			}
			defer cancel()
			got := runLesson(t, ctx, path)
			if got.Err == nil || !strings.Contains(got.Err.Error(), tt.want) {
				t.Errorf("error = %v, want one that says %q", got.Err, tt.want)
			}
			if tt.ctrlC && !errors.Is(got.Err, context.Canceled) {
				t.Errorf("error = %v, want context.Canceled", got.Err)
			}
			if got.Stdout != "" {
				t.Errorf("stdout = %q, want nothing", got.Stdout)
			}
			stderr := workbooktest.Lines(got.Stderr)
			ok := len(got.Log) == len(tt.log) && len(stderr) == len(tt.log)
			for i := 0; ok && i < len(tt.log); i++ {
				ok = strings.HasPrefix(got.Log[i], tt.log[i]) && strings.HasPrefix(stderr[i], messageOf(tt.log[i]))
			}
			if !ok {
				t.Errorf("log file:\n%s\nstderr:\n%s\nwant lines that start:\n%s", strings.Join(got.Log, "\n"), got.Stderr, strings.Join(tt.log, "\n"))
			}
			if after := workbooktest.DirEntries(t, filepath.Dir(path)); !slices.Equal(before, after) {
				t.Errorf("the database's folder held %q, now %q: want nothing created", before, after)
			}
		})
	}
}

// TestDBCloseLeavesTheConnectionThatRowsHold is the reason for the order:
// db.Close returns at once, and the connection the rows hold stays open, and
// the file with it, until the rows are closed.
func TestDBCloseLeavesTheConnectionThatRowsHold(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(workbooktest.Context(t), "SELECT name FROM users")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("no first row: %v", rows.Err())
	}

	// db.Close does not wait for the rows: were it to, the test would wait
	// here for ever, as the rows are closed below.
	if err := db.Close(); err != nil {
		t.Errorf("db.Close = %v, want nil", err)
	}
	if s := db.Stats(); s.OpenConnections != 1 || s.InUse != 1 {
		t.Errorf("after db.Close: %d open, %d in use, want the rows' 1 and 1", s.OpenConnections, s.InUse)
	}
	if len(workbooktest.OpenDescriptors(path)) == 0 {
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
	workbooktest.AssertNothingOpen(t, db)
	assertNoneOpen(t, path)
}

func TestExperimentDeferTheFirstCloseLast(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go",
		Old: `	defer closeDatabase(db, dbPath, logger)
	results, err := executeQuery(ctx, db, dbPath, query, logger)
	if err != nil {
		return err // closeDatabase still runs: it was deferred above
	}
	defer closeQuery(results, logger)
`,
		New: `	results, err := executeQuery(ctx, db, dbPath, query, logger)
	if err != nil {
		return err
	}
	defer closeQuery(results, logger)
	defer closeDatabase(db, dbPath, logger)
`,
		Command: "go test -run 'TestRunClosesInReverseOrder|TestRunFails' ./extras/nested",
		Want: []string{
			`stderr line 3 = "Closed connection to`,
			"--- FAIL: TestRunFails/no_users_table",
			"users.db is still open after run: a connection was not closed",
		},
		Fails: true,
	})
}

func TestExperimentDeleteDeferCloseQuery(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "\tdefer closeQuery(results, logger)\n", New: "",
		Command: "go test -run TestRunFails ./extras/nested",
		Want: []string{
			"--- FAIL: TestRunFails/a_row_that_cannot_be_read",
			"users.db is still open after run: a connection was not closed",
		},
		Fails: true,
	})
}

func TestExperimentDeleteRowsErr(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go",
		Old: `	if err := results.Err(); err != nil {
		return err
	}
`,
		New:     "",
		Command: "go test -run TestRunFails ./extras/nested",
		Want: []string{
			"--- FAIL: TestRunFails/an_error_on_row_2",
			`error = <nil>, want one that says "integer overflow"`,
			`stdout = "[(1,)]\n", want nothing`,
		},
		Fails: true,
	})
}

func TestExperimentModeRWC(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "?mode=rw&", New: "?mode=rwc&",
		Command: "go test -run TestRunFails/missing_file ./extras/nested",
		Want:    []string{`the database's folder held [], now ["missing.db"]: want nothing created`},
		Fails:   true,
	})
}

// assertLines checks that got holds exactly the wanted lines, in order.
func assertLines(t *testing.T, name string, got, want []string) {
	t.Helper()
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
	if open := workbooktest.OpenDescriptors(path); len(open) > 0 {
		t.Errorf("%s is still open: a connection was not closed", path)
	}
}

// runLesson runs the lesson on path with ctx, in a folder of its own,
// where its log file goes, and returns what it did. It fails the test if
// run left the database file or a pool open: run must close all it opened.
func runLesson(t *testing.T, ctx context.Context, path string) workbooktest.Run {
	t.Helper()
	before, goroutines := workbooktest.OpenDescriptors(path), runtime.NumGoroutine()
	got := workbooktest.RunLesson(t, func(_ context.Context, dbPath string, stdout, stderr io.Writer) error {
		return run(ctx, dbPath, stdout, stderr)
	}, "connection.log", path)
	if after := workbooktest.OpenDescriptors(path); len(after) > len(before) {
		t.Errorf("%s is still open after run: a connection was not closed", path)
		return got
	}
	// An open pool keeps a goroutine of its own, even with no connection
	// open, until db.Close; it ends a moment after.
	workbooktest.WaitFor(t, "the goroutines of run's pool to end: was the pool closed?", func() bool {
		return runtime.NumGoroutine() <= goroutines
	})
	return got
}
