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

	"github.com/mattn/go-sqlite3"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

// TestMain runs the tests and the example in a new folder holding the
// guide's users.db, as a learner's folder would, so that the log file lands
// there and not in the source tree.
func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

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
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	t.Chdir(filepath.Dir(path))
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), "users.db", &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	workbooktest.AssertPageShows(t, strings.TrimSuffix(stdout.String(), "\n"))
	// stderr has the bare message, the log file the dated line.
	if want := "Opened connection to users.db\n"; stderr.String() != want {
		t.Errorf("stderr = %q, want %q", stderr.String(), want)
	}
	if logged := workbooktest.ReadLogFile(t, "debugging.log"); len(logged) != 1 || logged[0] != "INFO - Opened connection to users.db" {
		t.Errorf("debugging.log = %q, want the Opened line", logged)
	}
	workbooktest.AssertPageShows(t, "Opened connection to users.db")
}

// TestRunOnLearnersTables runs the lesson on users tables unlike the
// guide's. Only the age column matters: on a table without it, the lesson
// stops with advice that names it, before it prints anything.
func TestRunOnLearnersTables(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup []string
		rows  int
		want  string // the error's advice; "" for none
	}{
		{"a text key, other columns in another order, a TIMESTAMP, a BOOLEAN and NULLs", []string{
			`CREATE TABLE users (email TEXT, user_id TEXT PRIMARY KEY, age INTEGER, created_at TIMESTAMP, is_active BOOLEAN, name TEXT)`,
			`INSERT INTO users VALUES ('a@example.com', 'u-1', 30, '2025-07-07 10:58:59', 1, NULL),
				(NULL, 'u-2', NULL, NULL, NULL, 'Bob'), ('c@example.com', 'u-3', 'unknown', 'yesterday', 'true', '')`,
		}, 3, ""},
		{"no rows", []string{`CREATE TABLE users (id INTEGER PRIMARY KEY, age INTEGER)`}, 0, ""},
		{"a view", []string{
			`CREATE TABLE people (id INTEGER PRIMARY KEY, first TEXT, born INTEGER)`,
			`INSERT INTO people (first, born) VALUES ('Alice', 1995), ('Bob', 1980)`,
			`CREATE VIEW users AS SELECT id, first AS name, 2025 - born AS age FROM people`,
		}, 2, ""},
		{"no age column", []string{
			`CREATE TABLE users (user_id TEXT PRIMARY KEY, name TEXT, created_at TIMESTAMP)`,
			`INSERT INTO users VALUES ('u-1', 'Alice', '2025-07-07 10:58:59')`,
		}, 1, "the users table in users.db has no age column: its columns are user_id, name, created_at (no such column: age): make the guide's table in a new file with "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := workbooktest.NewUsersDB(t, tc.setup...)
			t.Chdir(filepath.Dir(path))
			var stdout bytes.Buffer
			err := run(context.Background(), "users.db", &stdout, io.Discard)
			switch {
			case tc.want != "":
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("run error = %v, want the advice %q", err, tc.want)
				}
				if stdout.Len() != 0 {
					t.Errorf("stdout = %q, want nothing", stdout.String())
				}
			case err != nil:
				t.Fatal(err)
			}
			if tc.want == "" && stdout.String() != guideOutput(t, tc.rows) {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), guideOutput(t, tc.rows))
			}
		})
	}
}

// guideOutput is what the lesson prints on the guide's users.db, as the
// page shows it, with the count of rows changed to n.
func guideOutput(t *testing.T, n int) string {
	t.Helper()
	_, block, _ := strings.Cut(workbooktest.Page(t), "```\nSELEC * FROM users\n")
	block, _, _ = strings.Cut(block, "```")
	return "SELEC * FROM users\n" + strings.Replace(block, "FROM users = 3\n", fmt.Sprintf("FROM users = %d\n", n), 1)
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

// openUsersDB opens a new copy of the guide's users.db, and checks when the
// test ends that nothing was left open.
func openUsersDB(t *testing.T) (db *sql.DB, path string) {
	t.Helper()
	path = workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		workbooktest.AssertNothingOpen(t, db)
	})
	return db, path
}

func TestTheConnectionIsGivenBack(t *testing.T) {
	db, _ := openUsersDB(t)
	if err := tryInvalidQueries(context.Background(), db, io.Discard); err != nil {
		t.Fatal(err)
	}
	if s := db.Stats(); s.InUse != 0 || s.OpenConnections != 1 {
		t.Errorf("after tryInvalidQueries: %d in use, %d open; want 0 in use and the one connection they all used", s.InUse, s.OpenConnections)
	}
}

func TestTryQueryClosesTheRowsOfAValidQuery(t *testing.T) {
	ctx := context.Background()
	db, path := openUsersDB(t)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tryQuery(ctx, conn, "SELECT * FROM users"); err != nil {
		t.Fatal(err)
	}
	// Rows left open would keep reading the file, and another connection
	// could not take it for itself.
	other, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw&_busy_timeout=0&_txlock=exclusive")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.BeginTx(ctx, nil)
	if err != nil {
		// conn.Close would wait for the open rows for ever: leave it.
		t.Fatalf("after tryQuery, another connection cannot take the file: the rows of a valid query are still open (%v)", err)
	}
	tx.Rollback()
	conn.Close()
}

// TestTheDriversQuery checks what the page says this driver's QueryContext
// does where Python's execute raises ProgrammingError.
func TestTheDriversQuery(t *testing.T) {
	ctx := context.Background()
	db, _ := openUsersDB(t)
	for _, tc := range []struct {
		name, query string
		args        []any
		want        []int // the first column of each row
	}{
		{"a surplus argument is dropped", "SELECT age FROM users WHERE age > ? ORDER BY age", []any{30, 40}, []int{45}},
		{"each statement runs, and the rows are the last one's", "SELECT 1; SELECT 2", nil, []int{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := db.QueryContext(ctx, tc.query, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []int
			for rows.Next() {
				var n int
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				got = append(got, n)
			}
			if err := rows.Err(); err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%s with %v: rows %v, error %v; want rows %v", tc.query, tc.args, got, err, tc.want)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, path, want string }{
		{"no such file", filepath.Join(dir, "missing.db"), "there is no such file; create it with: "},
		{"no users table", workbooktest.NewUsersDB(t, "CREATE TABLE people (id INTEGER)"), "has no users table: its tables are people"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := workbooktest.RunLesson(t, run, "debugging.log", tc.path)
			if got.Err == nil || !strings.Contains(got.Err.Error(), tc.want) {
				t.Fatalf("run error = %v, want %q", got.Err, tc.want)
			}
			// "Opened" only once PingContext succeeded.
			want := []string{"ERROR - Connection error: " + got.Err.Error()}
			if tc.name == "no users table" {
				want = []string{"INFO - Opened connection to " + tc.path}
			}
			if strings.Join(got.Log, "\n") != strings.Join(want, "\n") {
				t.Errorf("debugging.log = %q, want %q", got.Log, want)
			}
			// mode=rw created nothing.
			if entries := workbooktest.DirEntries(t, dir); got.Stdout != "" || len(entries) != 0 {
				t.Errorf("printed %q and left %v in %s, want nothing", got.Stdout, entries, dir)
			}
		})
	}
}

// The page's "Try it" experiments.

func TestExperimentConnClose(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "\tdefer conn.Close()\n", New: "",
		Command: "go test -run TestTheConnectionIsGivenBack ./extras/debug-invalid-query",
		Want:    []string{"after tryInvalidQueries: 1 in use, 1 open"}, Fails: true,
	})
}

func TestExperimentRowsClose(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "return rows.Close()", New: "return rows.Err()",
		Command: "go test -run TestTryQueryClosesTheRowsOfAValidQuery ./extras/debug-invalid-query",
		Want:    []string{"after tryQuery, another connection cannot take the file: the rows of a valid query are still open (database is locked)"}, Fails: true,
	})
}

func TestExperimentTwoArguments(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "err := tryQuery(ctx, conn, query)", New: "err := tryQuery(ctx, conn, query, 30, 40)",
		Command: "go test -run Example ./extras/debug-invalid-query",
		Want:    []string{"no error: this query is valid on this table"}, Fails: true,
	})
}
