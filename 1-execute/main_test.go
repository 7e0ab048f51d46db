//go:build cgo

package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The guide's expected output for Task 1 (section 4.2.4). The log lines go
// to stderr, discarded here; TestRunLogsQueryAndClose checks them.
func Example() {
	back, err := intoScratchFolder()
	if err != nil {
		panic(err)
	}
	defer back()
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// (1, 'Alice Smith', 'alice.smith@example.com', 30)
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
}

// lesson is what one run of the lesson did.
type lesson struct {
	stdout, stderr string
	err            error
	log            []string // the "LEVEL - message" part of each log line
}

// runLesson runs the lesson on the database at path, from a scratch folder
// of its own (where query.log goes), and fails the test if it takes more
// than 10 seconds.
func runLesson(t *testing.T, path string) lesson {
	t.Helper()
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, path, &stdout, &stderr)
	if ctx.Err() != nil {
		t.Fatalf("run did not finish within 10 s: %v", err)
	}
	return lesson{stdout.String(), stderr.String(), err, logMessages(t, stderr.String())}
}

// assertLog fails unless the lesson logged exactly want, in order.
func assertLog(t *testing.T, got lesson, want ...string) {
	t.Helper()
	if strings.Join(got.log, "\n") != strings.Join(want, "\n") {
		t.Errorf("logged:\n%s\nwant:\n%s", strings.Join(got.log, "\n"), strings.Join(want, "\n"))
	}
}

func TestRunLogsQueryAndClose(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	got := runLesson(t, path)
	if got.err != nil {
		t.Fatal(got.err)
	}
	assertLog(t, got,
		"INFO - Executed query: SELECT * FROM users WHERE age > ? with params: (25,)",
		"INFO - Closed connection to "+path)
	file, err := os.ReadFile("query.log")
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != got.stderr {
		t.Errorf("query.log holds %q, want what stderr shows, %q", file, got.stderr)
	}
}

// usersTables are users tables that learners' own setup scripts make, with
// what the guide's Python prints for SELECT * FROM users WHERE age > 25.
var usersTables = []struct {
	name  string
	setup []string
	want  string
}{
	{"the guide's", guideUsers, `(1, 'Alice Smith', 'alice.smith@example.com', 30)
(2, 'Bob Johnson', 'bob.johnson@example.com', 45)
`},
	{"extra columns, a TIMESTAMP and a BOOLEAN", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER,
			created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, is_active BOOLEAN DEFAULT 1, password_hash TEXT)`,
		`INSERT INTO users (name, email, age, created_at, is_active, password_hash) VALUES
			('Alice Smith', 'alice@example.com', 30, '2025-07-07 10:58:59', 1, 'pbkdf2$x'),
			('Bob Johnson', 'bob@example.com', 45, 'yesterday', 0, NULL),
			('Dana', 'dana@example.com', 61, '2025-07-07T10:58:59Z', 'true', ''),
			('Young', 'young@example.com', 20, '2025-01-01 00:00:00', 1, NULL)`,
	}, `(1, 'Alice Smith', 'alice@example.com', 30, '2025-07-07 10:58:59', 1, 'pbkdf2$x')
(2, 'Bob Johnson', 'bob@example.com', 45, 'yesterday', 0, None)
(3, 'Dana', 'dana@example.com', 61, '2025-07-07T10:58:59Z', 'true', '')
`},
	{"DATE and DATETIME columns and a TEXT key", []string{
		`CREATE TABLE users (user_id TEXT PRIMARY KEY, age INTEGER, born DATE, seen DATETIME, active BOOLEAN)`,
		`INSERT INTO users VALUES ('u-1', 30, '1995-01-31', '2025-07-07 10:58:59.123', 1),
			('u-2', 44, 19950131, 1751885939, 0), ('u-3', 50, NULL, '2025-13-45 99:99:99', 2)`,
	}, `('u-1', 30, '1995-01-31', '2025-07-07 10:58:59.123', 1)
('u-2', 44, 19950131, 1751885939, 0)
('u-3', 50, None, '2025-13-45 99:99:99', 2)
`},
	{"another column order", []string{
		`CREATE TABLE users (email TEXT, age INTEGER, name TEXT, id INTEGER PRIMARY KEY)`,
		`INSERT INTO users (id, name, email, age) VALUES (1, 'Alice Smith', 'alice@example.com', 30), (2, 'Bob Johnson', 'bob@example.com', 45)`,
	}, `('alice@example.com', 30, 'Alice Smith', 1)
('bob@example.com', 45, 'Bob Johnson', 2)
`},
	{"NULLs", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)`,
		`INSERT INTO users (name, email, age) VALUES ('Alice Smith', NULL, 30), (NULL, 'ghost@example.com', NULL), ('Bob Johnson', 'bob@example.com', 45)`,
	}, `(1, 'Alice Smith', None, 30)
(3, 'Bob Johnson', 'bob@example.com', 45)
`},
	{"quotes, escapes and other scripts", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)`,
		`INSERT INTO users (name, email, age) VALUES ('Finn O''Brien', 'finn@example.com', 33),
			('Say "hi"', 'both''"@example.com', 40),
			('back\slash' || char(9) || 'tab' || char(10) || 'nl' || char(13) || char(1) || char(127), 'zoë@exämple.com', 50),
			('🙂 ' || char(160) || char(173) || char(8232), '日本', 26)`,
	}, `(1, "Finn O'Brien", 'finn@example.com', 33)
(2, 'Say "hi"', 'both\'"@example.com', 40)
(3, 'back\\slash\ttab\nnl\r\x01\x7f', 'zoë@exämple.com', 50)
(4, '🙂 \xa0\xad\u2028', '日本', 26)
`},
	{"REAL ages, the int64 limits and BLOBs", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age REAL, balance, avatar BLOB)`,
		`INSERT INTO users (id, name, age, balance, avatar) VALUES
			(9223372036854775807, 'max', 41.5, -9223372036854775808, x'00ff27'), (2, 'half', 50.0, 1e16, x''),
			(3, 'tiny', 26, 0.1, x'22275c'), (4, 'low', 25.0, 1e-05, NULL)`,
	}, `(2, 'half', 50.0, 1e+16, b'')
(3, 'tiny', 26.0, 0.1, b'"\'\\')
(9223372036854775807, 'max', 41.5, -9223372036854775808, b"\x00\xff'")
`},
	{"one column", []string{`CREATE TABLE users (age INTEGER)`, `INSERT INTO users VALUES (30), (20)`}, `(30,)
`},
	{"a view", []string{
		`CREATE TABLE people (id INTEGER PRIMARY KEY, first TEXT, last TEXT, age INTEGER)`,
		`INSERT INTO people (first, last, age) VALUES ('Alice', 'Smith', 30), ('Bob', 'Johnson', 45)`,
		`CREATE VIEW users AS SELECT id, first || ' ' || last AS name, age, age > 40 AS senior FROM people`,
	}, `(1, 'Alice Smith', 30, 0)
(2, 'Bob Johnson', 45, 1)
`},
	{"no rows", []string{`CREATE TABLE users (id INTEGER PRIMARY KEY, age INTEGER)`}, ``},
}

// pythonPrints is what Python's sqlite3 prints for query with the
// parameters (25,) on each database of paths, each row with print(row) as
// the guide's program does. It runs python3 once for all of them, and
// skips the test where it is not installed.
func pythonPrints(t *testing.T, query string, paths ...string) []string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the lesson was compared with the expectations written here only")
	}
	const script = `import sqlite3, sys
for path in sys.argv[2:]:
    conn = sqlite3.connect(path)
    for row in conn.execute(sys.argv[1], (25,)).fetchall():
        print(row)
    conn.close()
    print("=== end of", path)
`
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{"-c", script, query}, paths...)...)
	cmd.Env = append(os.Environ(), "PYTHONIOENCODING=utf-8")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python3: %v\n%s", err, stderr.String())
	}
	var printed []string
	for _, path := range paths {
		before, after, ok := strings.Cut(string(out), "=== end of "+path+"\n")
		if !ok {
			t.Fatalf("python3 printed no end for %s:\n%s", path, out)
		}
		printed, out = append(printed, before), []byte(after)
	}
	return printed
}

func TestPrintsWhatPythonPrints(t *testing.T) {
	var paths, printed []string
	for _, tt := range usersTables {
		path := newUsersDB(t, tt.setup...)
		got := runLesson(t, path)
		if got.err != nil {
			t.Fatalf("%s: %v", tt.name, got.err)
		}
		if got.stdout != tt.want {
			t.Errorf("%s: printed:\n%s\nwant:\n%s", tt.name, got.stdout, tt.want)
		}
		paths, printed = append(paths, path), append(printed, got.stdout)
	}
	t.Run("python3", func(t *testing.T) {
		for i, py := range pythonPrints(t, "SELECT * FROM users WHERE age > ?", paths...) {
			if printed[i] != py {
				t.Errorf("%s: printed:\n%s\nPython prints:\n%s", usersTables[i].name, printed[i], py)
			}
		}
	})
}

func TestBadDatabasesFailWithAdvice(t *testing.T) {
	tests := []struct {
		name   string
		make   func(t *testing.T) string // returns the -db path
		advice string
	}{
		{"a missing file", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "users.db")
		}, "there is no such file; create it with: go run "},
		{"a mistyped name beside the real file", func(t *testing.T) string {
			return filepath.Join(filepath.Dir(newUsersDB(t, guideUsers...)), "usres.db")
		}, "there is no such file; did you mean -db "},
		{"a folder", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
			return path
		}, "is a folder, not a database file"},
		{"a file that is not a database", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "notes.txt")
			writeFile(t, path, "these are my notes, not a database\n")
			return path
		}, "is not an SQLite database"},
		{"an empty file", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "users.db")
			writeFile(t, path, "")
			return path
		}, "is an empty file with no tables"},
		{"no users table", func(t *testing.T) string {
			return newUsersDB(t, `CREATE TABLE customers (id INTEGER PRIMARY KEY)`)
		}, "has no users table: its tables are customers"},
		{"no age column", func(t *testing.T) string {
			return newUsersDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)`)
		}, "has no age column: its columns are id, name, email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.make(t)
			before := snapshot(t, filepath.Dir(path))
			got := runLesson(t, path)
			if got.err == nil {
				t.Fatal("run succeeded")
			}
			if msg := got.err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, tt.advice) || strings.Contains(msg, "\n") {
				t.Errorf("error %q: want one line that names %s and says %q", msg, path, tt.advice)
			}
			if got.stdout != "" {
				t.Errorf("printed %q, want nothing", got.stdout)
			}
			if len(got.log) != 2 || !strings.HasPrefix(got.log[0], "ERROR - Query error: ") || got.log[1] != "INFO - Closed connection to "+path {
				t.Errorf("logged %q, want the query error, then the close", got.log)
			}
			if after := snapshot(t, filepath.Dir(path)); after != before {
				t.Errorf("the folder changed from\n%s\nto\n%s", before, after)
			}
		})
	}
}

// TestMistypedPathCreatesNothing guards mode=rw: without it SQLite creates
// an empty file at a mistyped path, as Python's sqlite3.connect does.
func TestMistypedPathCreatesNothing(t *testing.T) {
	dir := filepath.Dir(newUsersDB(t, guideUsers...))
	path := filepath.Join(dir, "usres.db")
	got := runLesson(t, path)
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists after the run (stat: %v); a mistyped path must create nothing", path, err)
	}
	if got.err == nil || !strings.Contains(got.err.Error(), "did you mean -db "+filepath.Join(dir, "users.db")) {
		t.Errorf("error = %v, want it to suggest users.db", got.err)
	}
}

// execute runs ExecuteQuery with a 10-second deadline and closes what it
// returns; it gives the rows as Python prints them.
func execute(t *testing.T, path, query string, params ...any) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	results, err := ExecuteQuery(ctx, discard(), path, query, params...)
	if err != nil {
		if results != nil {
			t.Error("ExecuteQuery returned results with its error: the caller would have to close them")
		}
		return nil, err
	}
	defer results.Close()
	var rows []string
	for _, row := range results.Rows {
		rows = append(rows, row.String())
	}
	return rows, nil
}

func TestExecuteQueryBindsParameters(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	tests := []struct {
		name   string
		query  string
		params []any
		want   []string
	}{
		{"one int", "SELECT name FROM users WHERE age > ?", []any{40}, []string{"('Bob Johnson',)"}},
		{"no match", "SELECT name FROM users WHERE age > ?", []any{99}, nil},
		{"two", "SELECT id, age FROM users WHERE age BETWEEN ? AND ? ORDER BY id", []any{25, 30}, []string{"(1, 30)", "(3, 25)"}},
		{"text", "SELECT id FROM users WHERE email = ?", []any{"charlie.brown@example.com"}, []string{"(3,)"}},
		{"numbered", "SELECT ?2, ?1", []any{"a", int64(2)}, []string{"(2, 'a')"}},
		{"named", "SELECT :x, :x + 1", []any{sql.Named("x", 41)}, []string{"(41, 42)"}},
		{"none", "SELECT count(*) FROM users", nil, []string{"(3,)"}},
		{"one statement and a comment", "SELECT count(*) FROM users; -- all of them", nil, []string{"(3,)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := execute(t, path, tt.query, tt.params...)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestWrongNumberOfParametersIsRefused guards the prepared statement: the
// driver's own Query drops surplus parameters without a word, and Python
// refuses them ("Incorrect number of bindings supplied. The current
// statement uses 1, and there are 2 supplied.").
func TestWrongNumberOfParametersIsRefused(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	for _, params := range [][]any{{25, 30}, {}, {25, "x", nil}} {
		rows, err := execute(t, path, "SELECT * FROM users WHERE age > ?", params...)
		want := fmt.Sprintf("sql: expected 1 arguments, got %d", len(params))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%d parameters for 1 placeholder: rows %q, error %v; want %q", len(params), rows, err, want)
		}
	}
}

// TestTwoStatementsAreRefused guards checkOneStatement: a prepared
// statement runs the first statement and ignores the rest without a word,
// and the driver's own Query runs them all. Python refuses them.
func TestTwoStatementsAreRefused(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	for _, query := range []string{
		"SELECT * FROM users WHERE age > ?; DELETE FROM users",
		"SELECT * FROM users WHERE age > ?;; ",
		"SELECT * FROM users WHERE age > ? -- c\n; SELECT 2",
	} {
		rows, err := execute(t, path, query, 25)
		if !errors.Is(err, errTwoStatement) {
			t.Errorf("%q: rows %q, error %v; want %q", query, rows, err, errTwoStatement)
		}
	}
	if rows, _ := execute(t, path, "SELECT count(*) FROM users"); len(rows) != 1 || rows[0] != "(3,)" {
		t.Errorf("users left: %q, want (3,)", rows)
	}
}

// TestQueriesWithoutAStatementAreRefused: the driver's prepared statement
// crashes the program on them, so ExecuteQuery must never prepare one.
func TestQueriesWithoutAStatementAreRefused(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	for _, query := range []string{"", " ", ";", "-- nothing\n", "/* nothing */;", "\v"} {
		if _, err := execute(t, path, query); !errors.Is(err, errNoStatement) {
			t.Errorf("%q: error %v, want %q", query, err, errNoStatement)
		}
	}
	if _, err := execute(t, path, "SELECT 1 \x00; DELETE FROM users"); !errors.Is(err, errNulInQuery) {
		t.Errorf("a NUL character: error %v, want %q", err, errNulInQuery)
	}
}

// TestPythonRefusesTheSame checks the claims above about Python 3.
func TestPythonRefusesTheSame(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed")
	}
	path := newUsersDB(t, guideUsers...)
	out, err := exec.Command("python3", "-c", `import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
for query, params in [("SELECT * FROM users WHERE age > ?", (25, 30)),
                      ("SELECT * FROM users WHERE age > ?; DELETE FROM users", (25,))]:
    try:
        conn.execute(query, params)
    except sqlite3.ProgrammingError as e:
        print(e)
print(conn.execute("SELECT count(*) FROM users").fetchone())
`, path).CombinedOutput()
	want := "Incorrect number of bindings supplied. The current statement uses 1, and there are 2 supplied.\n" +
		"You can only execute one statement at a time.\n(3,)\n"
	if err != nil || string(out) != want {
		t.Errorf("python3 printed %q (%v), want %q", out, err, want)
	}
}

// openFiles counts this process's open files on path; it skips the test
// where /proc/self/fd does not list them.
func openFiles(t *testing.T, path string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd to list open files")
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && target == path {
			n++
		}
	}
	return n
}

// TestAFailedQueryClosesTheDatabase guards the Close on ExecuteQuery's
// failure path: the caller gets no Results to close, so without it the
// database file stays open.
func TestAFailedQueryClosesTheDatabase(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	var log bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := ExecuteQuery(ctx, slog.New(newGuideHandler(&log)), path, "SELECT * FROM users WHERE agee > ?", 25); err == nil {
		t.Fatal("ExecuteQuery succeeded on a misspelt column")
	}
	if n := openFiles(t, path); n != 0 {
		t.Errorf("the database file is still open %d times after ExecuteQuery failed", n)
	}
	if !strings.Contains(log.String(), "INFO - Closed connection to "+path) {
		t.Errorf("logged %q, want the close", log.String())
	}
}

// newGuideHandler is the lesson's log format, written to w alone.
func newGuideHandler(w io.Writer) slog.Handler {
	logger, closeLog := newLogger(w, os.DevNull)
	closeLog()
	return logger.Handler()
}

// TestFetchallLeavesNothingInUse guards `defer rows.Close()`: when a row
// cannot be read, fetchall returns in the middle of the rows, and only the
// deferred Close gives their connection back. db.Close cannot close it.
func TestFetchallLeavesNothingInUse(t *testing.T) {
	path := newUsersDB(t, guideUsers[0],
		`INSERT INTO users (name, email, age) VALUES ('Alice Smith', 'a@example.com', 30), (CAST(x'ff' AS TEXT), 'b@example.com', 45)`)
	db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := fetchall(ctx, cursor{db}, "SELECT * FROM users"); err == nil || !strings.Contains(err.Error(), "not UTF-8") {
		t.Errorf("fetchall error = %v, want the row that is not UTF-8", err)
	}
	db.Close()
	assertNothingOpen(t, db)
}

// overflowOnRowTwo is a users view whose second row fails as SQLite
// computes it: abs of the smallest int64 overflows. The expression uses the
// row's id so that SQLite cannot compute it once before the first row.
var overflowOnRowTwo = append(guideUsers[:2:2],
	`ALTER TABLE users RENAME TO people`,
	`CREATE VIEW users AS SELECT id, name, email, CASE WHEN id = 2 THEN abs(id - id - 9223372036854775807 - 1) ELSE age END AS age FROM people`)

// TestAnErrorAfterTheFirstRowIsReported guards rows.Err: rows.Next says
// false both at the end and on an error, so without it fetchall returns
// the first row alone as if it were all.
func TestAnErrorAfterTheFirstRowIsReported(t *testing.T) {
	path := newUsersDB(t, overflowOnRowTwo...)
	got := runLesson(t, path)
	if got.err == nil || !strings.Contains(got.err.Error(), "integer overflow") {
		t.Errorf("run error = %v, want integer overflow", got.err)
	}
	if got.stdout != "" {
		t.Errorf("printed %q, want nothing, as Python's fetchall fails before the first print", got.stdout)
	}
	assertLog(t, got, "ERROR - Query error: integer overflow", "INFO - Closed connection to "+path)
}

func TestACanceledContextStopsTheQuery(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // as Ctrl-C does through main
	var log bytes.Buffer
	if _, err := ExecuteQuery(ctx, slog.New(newGuideHandler(&log)), path, "SELECT * FROM users WHERE age > ?", 25); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if n := openFiles(t, path); n != 0 {
		t.Errorf("the database file is still open %d times", n)
	}
}

// hostileValues are classic attempts to change a query through its values,
// and values that trouble code which splices strings: a NUL byte, a long
// string, bytes that are not UTF-8.
var hostileValues = []string{
	"' OR 1=1 --",
	"'; DROP TABLE users; --",
	"Robert'); DROP TABLE users;--",
	"Alice Smith' --",
	"Alice Smith\x00' OR 1=1 --",
	"\xff\xfe\xfd' OR ''='",
	strings.Repeat("x' OR '1'='1", 10_000),
}

// FuzzParameterIsOnlyAValue checks that any string given as a parameter
// is only ever a value: it comes back byte for byte, matches a name only
// when it is that name, and leaves the table as it was. go test runs the
// seeds; go test -fuzz FuzzParameterIsOnlyAValue ./1-execute searches for
// more.
func FuzzParameterIsOnlyAValue(f *testing.F) {
	for _, v := range hostileValues {
		f.Add(v)
	}
	f.Add("Bob Johnson")
	path := newUsersDB(f, guideUsers...)
	names := map[string]bool{"Alice Smith": true, "Bob Johnson": true, "Charlie Brown": true}
	f.Fuzz(func(t *testing.T, v string) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		results, err := ExecuteQuery(ctx, discard(), path,
			"SELECT ?, (SELECT count(*) FROM users WHERE name = ?), (SELECT count(*) FROM users)", []byte(v), v)
		if err != nil {
			t.Fatal(err)
		}
		defer results.Close()
		row := results.Rows[0]
		if got, ok := row[0].([]byte); !ok || string(got) != v {
			t.Errorf("SELECT ? returned %.40q, want %.40q", row[0], v)
		}
		want := int64(0)
		if names[v] {
			want = 1
		}
		if row[1] != want || row[2] != int64(3) {
			t.Errorf("value %.40q matched %v of %v users, want %d of 3", v, row[1], row[2], want)
		}
	})
}

// TestNoQueryIsBuiltFromValues guards the placeholders: in main.go, every
// query is a string literal written in the code, or the query parameter
// passed on. A query built with fmt.Sprintf or + would let a value change
// the SQL, and no output shows it while the values are harmless.
func TestNoQueryIsBuiltFromValues(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	queryArg := map[string]int{"ExecuteQuery": 3, "fetchall": 2, "queryAsStored": 2, "QueryContext": 1, "PrepareContext": 1, "ExecContext": 1}
	calls := 0
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		name := ""
		switch fn := call.Fun.(type) {
		case *ast.Ident:
			name = fn.Name
		case *ast.SelectorExpr:
			if x, ok := fn.X.(*ast.Ident); ok && x.Name == "stmt" {
				return true // a prepared statement's arguments are values
			}
			name = fn.Sel.Name
		}
		i, ok := queryArg[name]
		if !ok || len(call.Args) <= i {
			return true
		}
		calls++
		switch arg := call.Args[i].(type) {
		case *ast.BasicLit:
			if arg.Kind == token.STRING {
				return true
			}
		case *ast.Ident:
			if arg.Name == "query" {
				return true
			}
		}
		t.Errorf("%s: the query given to %s is built when the program runs; write it with ? placeholders and pass the values apart",
			fset.Position(call.Args[i].Pos()), name)
		return true
	})
	if calls < 4 {
		t.Errorf("found only %d queries in main.go", calls)
	}
}

func TestPageShowsTheOutput(t *testing.T) {
	var stdout, stderr bytes.Buffer
	t.Run("run in the folder of users.db", func(t *testing.T) {
		t.Chdir(filepath.Dir(newUsersDB(t, guideUsers...)))
		if err := run(context.Background(), "users.db", &stdout, &stderr); err != nil {
			t.Fatal(err)
		}
	})
	assertPageShows(t, stdout.String())
	// The page shows the log lines with the guide's timestamps.
	stamp := regexp.MustCompile(`(?m)^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} `)
	assertPageShows(t, stamp.ReplaceAllString(stderr.String(), "2025-05-20 01:05:00,123 "))
}

// snapshot lists a folder's entries with their sizes.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %d\n", e.Name(), info.Size())
	}
	return b.String()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// The experiments of the page's "Try it", each made on a copy of the
// workbook.

func TestExperimentAQueryBuiltFromAValue(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     `dbPath, "SELECT * FROM users WHERE age > ?", 25)`,
		new:     `dbPath, fmt.Sprintf("SELECT * FROM users WHERE age > %d", 25))`,
		command: "go test ./1-execute",
		want:    []string{"--- FAIL: TestNoQueryIsBuiltFromValues", "age > 25 with params: ()"},
		fails:   true,
	})
}

func TestExperimentTwoStatementsInOneString(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go",
		old: `	if err := checkOneStatement(query); err != nil {
		return nil, err
	}
`,
		command: "go test -run TestTwoStatementsAreRefused ./1-execute",
		want:    []string{`want "You can only execute one statement at a time."`},
		fails:   true,
	})
}

func TestExperimentNoPreparedStatement(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go",
		old: `	stmt, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer stmt.Close() // the rows keep it open until they are closed
	return stmt.QueryContext(ctx, params...)
`,
		new:     "	return c.db.QueryContext(ctx, query, params...)\n",
		command: "go test -run TestWrongNumberOfParametersIsRefused ./1-execute",
		want:    []string{"2 parameters for 1 placeholder"},
		fails:   true,
	})
}

func TestExperimentNobodyClosesAFailedQuery(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "\t\tresults.Close()\n\t\treturn nil, err",
		new:     "\t\treturn nil, err",
		command: "go test -run TestAFailedQueryClosesTheDatabase ./1-execute",
		want:    []string{"the database file is still open 1 times after", "ExecuteQuery failed"},
		fails:   true,
	})
}

func TestExperimentRowsLeftOpen(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "defer rows.Close()", new: "",
		command: "go test -run TestFetchallLeavesNothingInUse ./1-execute",
		want:    []string{"db.Stats: 1 open, 1 in use; want nothing left open"},
		fails:   true,
	})
}

func TestExperimentAStatementLeftOpen(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "\tdefer stmt.Close() // the rows keep it open until they are closed\n", new: "",
		command: "go test -run TestCursorClosesItsStatement ./1-execute",
		want:    []string{"3 prepared statements still open after 3 queries, want 0"},
		fails:   true,
	})
}

// pageCitations are the lines of main.go that README.md cites by number:
// none, for the page quotes its lines instead.
var pageCitations []citation
