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
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The guide's expected output for Task 0 (section 4.1.4). The log lines go
// to stderr, discarded here; TestRunLogsOpenAndClose checks them.
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
	// (3, 'Charlie Brown', 'charlie.brown@example.com', 25)
}

// lesson is what one run of the lesson did.
type lesson struct {
	stdout, stderr string
	err            error
	log            []string // the "LEVEL - message" part of each log line
}

// runLesson runs the lesson on the database at path, from a scratch folder
// of its own (where connection.log goes), and fails the test if it takes
// more than 10 seconds.
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

func TestRunLogsOpenAndClose(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	got := runLesson(t, path)
	if got.err != nil {
		t.Fatal(got.err)
	}
	assertLog(t, got, "INFO - Opened connection to "+path, "INFO - Closed connection to "+path)
	file, err := os.ReadFile("connection.log")
	if err != nil {
		t.Fatal(err)
	}
	if string(file) != got.stderr {
		t.Errorf("connection.log holds %q, want what stderr shows, %q", file, got.stderr)
	}
}

// usersTables are users tables that learners' own setup scripts make, with
// what the guide's Python prints for SELECT * FROM users on each.
var usersTables = []struct {
	name  string
	setup []string
	want  string
}{
	{"the guide's", guideUsers, `(1, 'Alice Smith', 'alice.smith@example.com', 30)
(2, 'Bob Johnson', 'bob.johnson@example.com', 45)
(3, 'Charlie Brown', 'charlie.brown@example.com', 25)
`},
	{"extra columns, a TIMESTAMP and a BOOLEAN", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER,
			created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, is_active BOOLEAN DEFAULT 1, password_hash TEXT)`,
		`INSERT INTO users (name, email, age, created_at, is_active, password_hash) VALUES
			('Alice Smith', 'alice@example.com', 30, '2025-07-07 10:58:59', 1, 'pbkdf2$x'),
			('Bob Johnson', 'bob@example.com', 45, 'yesterday', 0, NULL),
			('Dana', 'dana@example.com', 61, '2025-07-07T10:58:59Z', 'true', '')`,
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
(2, None, 'ghost@example.com', None)
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
	{"REALs, the int64 limits and BLOBs", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age REAL, balance, avatar BLOB)`,
		`INSERT INTO users (id, name, age, balance, avatar) VALUES
			(9223372036854775807, 'max', 41.5, -9223372036854775808, x'00ff27'), (2, 'half', 50.0, 1e16, x''),
			(3, 'tiny', 26, 0.1, x'22275c'), (4, 'low', 25.0, 1e-05, NULL)`,
	}, `(2, 'half', 50.0, 1e+16, b'')
(3, 'tiny', 26.0, 0.1, b'"\'\\')
(4, 'low', 25.0, 1e-05, None)
(9223372036854775807, 'max', 41.5, -9223372036854775808, b"\x00\xff'")
`},
	{"one column", []string{`CREATE TABLE users (age INTEGER)`, `INSERT INTO users VALUES (30), (20)`}, `(30,)
(20,)
`},
	{"a view", []string{
		`CREATE TABLE people (id INTEGER PRIMARY KEY, first TEXT, last TEXT, age INTEGER)`,
		`INSERT INTO people (first, last, age) VALUES ('Alice', 'Smith', 30), ('Bob', 'Johnson', 45)`,
		`CREATE VIEW users AS SELECT id, first || ' ' || last AS name, age, age > 40 AS senior FROM people`,
	}, `(1, 'Alice Smith', 30, 0)
(2, 'Bob Johnson', 45, 1)
`},
	{"no rows", []string{`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`}, ``},
}

// pythonPrints is what Python's sqlite3 prints for query on each database
// of paths, each row with print(row) as the guide's program does. It runs
// python3 once for all of them, and skips the test where it is not
// installed.
func pythonPrints(t *testing.T, query string, paths ...string) []string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the lesson was compared with the expectations written here only")
	}
	const script = `import sqlite3, sys
for path in sys.argv[2:]:
    conn = sqlite3.connect(path)
    for row in conn.execute(sys.argv[1]).fetchall():
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
		for i, py := range pythonPrints(t, "SELECT * FROM users", paths...) {
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
		opened bool // whether the file opened before the query failed
	}{
		{"a missing file", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "users.db")
		}, "there is no such file; create it with: go run ", false},
		{"a mistyped name beside the real file", func(t *testing.T) string {
			return filepath.Join(filepath.Dir(newUsersDB(t, guideUsers...)), "usres.db")
		}, "there is no such file; did you mean -db ", false},
		{"a folder", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "data")
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
			return path
		}, "is a folder, not a database file", false},
		{"a file that is not a database", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "notes.txt")
			writeFile(t, path, "these are my notes, not a database\n")
			return path
		}, "is not an SQLite database", false},
		{"an empty file", func(t *testing.T) string {
			path := filepath.Join(t.TempDir(), "users.db")
			writeFile(t, path, "")
			return path
		}, "is an empty file with no tables", true},
		{"no users table", func(t *testing.T) string {
			return newUsersDB(t, `CREATE TABLE customers (id INTEGER PRIMARY KEY)`)
		}, "has no users table: its tables are customers", true},
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
			if tt.opened {
				assertLog(t, got, "INFO - Opened connection to "+path, "INFO - Closed connection to "+path)
			} else if len(got.log) != 1 || !strings.HasPrefix(got.log[0], "ERROR - Connection error: ") {
				t.Errorf("logged %q, want only the connection error", got.log)
			}
			if after := snapshot(t, filepath.Dir(path)); after != before {
				t.Errorf("the folder changed from\n%s\nto\n%s", before, after)
			}
		})
	}
}

// TestNotADatabaseIsNeverOpened guards the PingContext before "Opened":
// sql.Open reads nothing, so without it the lesson says it opened a file
// that it cannot read.
func TestNotADatabaseIsNeverOpened(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	writeFile(t, path, "these are my notes, not a database\n")
	got := runLesson(t, path)
	if strings.Contains(got.stderr, "Opened connection") {
		t.Errorf("logged %q for a file that is not a database", got.log)
	}
	if !strings.Contains(got.stderr, "ERROR - Connection error: file is not a database") {
		t.Errorf("stderr = %q, want the connection error", got.stderr)
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

// TestAFailedOpenLeavesNothingRunning guards the db.Close on Open's failure
// path: sql.Open starts a goroutine for the pool that only Close stops.
func TestAFailedOpenLeavesNothingRunning(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	before := runtime.NumGoroutine()
	for range 20 {
		if conn, err := Open(context.Background(), discard(), path); err == nil {
			conn.Close()
			t.Fatal("Open succeeded on a missing file")
		}
	}
	// A closed pool's goroutine ends soon after Close returns.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine() - before; n >= 10 {
		t.Errorf("%d goroutines are left running after 20 failed opens: each pool must be closed", n)
	}
}

// openGuide opens a users table made by newUsersDB with the lesson's Open.
func openGuide(t *testing.T, setup ...string) *DatabaseConnection {
	t.Helper()
	conn, err := Open(context.Background(), discard(), newUsersDB(t, setup...))
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

// failingWriter fails every write after the first n.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, errors.New("the reader went away")
	}
	w.n--
	return len(p), nil
}

// TestPrintUsersLeavesNothingInUse guards `defer rows.Close()`: when
// printUsers returns in the middle of the rows, only the deferred Close
// gives their connection back, and conn.Close cannot close it.
func TestPrintUsersLeavesNothingInUse(t *testing.T) {
	tests := []struct {
		name  string
		setup []string
		out   io.Writer
		want  string
	}{
		{"a row that cannot be read", append(guideUsers[:1:1],
			`INSERT INTO users (name, email, age) VALUES ('Alice Smith', 'a@example.com', 30),
				(CAST(x'ff' AS TEXT), 'b@example.com', 45)`),
			io.Discard, "holds text that is not UTF-8"},
		{"output that cannot be written", guideUsers, &failingWriter{n: 1}, "the reader went away"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := openGuide(t, tt.setup...)
			err := printUsers(context.Background(), conn, tt.out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("printUsers error = %v, want %q", err, tt.want)
			}
			conn.Close()
			assertNothingOpen(t, conn.DB)
		})
	}
}

// overflowOnRowTwo is a users view whose second row fails as SQLite
// computes it: abs of the smallest int64 overflows. The expression uses the
// row's id so that SQLite cannot compute it once before the first row.
var overflowOnRowTwo = append(guideUsers[:2:2],
	`ALTER TABLE users RENAME TO people`,
	`CREATE VIEW users AS SELECT id, name, email, CASE WHEN id = 2 THEN abs(id - id - 9223372036854775807 - 1) ELSE age END AS age FROM people`)

// TestAnErrorAfterTheFirstRowIsReported guards rows.Err: rows.Next says
// false both at the end and on an error, so without it the lesson prints
// one row and reports success.
func TestAnErrorAfterTheFirstRowIsReported(t *testing.T) {
	path := newUsersDB(t, overflowOnRowTwo...)
	got := runLesson(t, path)
	if got.err == nil || !strings.Contains(got.err.Error(), "integer overflow") {
		t.Errorf("run error = %v, want integer overflow", got.err)
	}
	if want := "(1, 'Alice Smith', 'alice.smith@example.com', 30)\n"; got.stdout != want {
		t.Errorf("printed %q, want the first row only, %q", got.stdout, want)
	}
	assertLog(t, got, "INFO - Opened connection to "+path, "INFO - Closed connection to "+path)

	t.Run("python3 fails too", func(t *testing.T) {
		if _, err := exec.LookPath("python3"); err != nil {
			t.Skip("python3 is not installed")
		}
		out, err := exec.Command("python3", "-c", `import sqlite3, sys
sqlite3.connect(sys.argv[1]).execute("SELECT * FROM users").fetchall()`, path).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "sqlite3.OperationalError: integer overflow") {
			t.Errorf("python3: %v\n%s", err, out)
		}
	})
}

// cancelingWriter cancels a context on its first write.
type cancelingWriter struct{ cancel context.CancelFunc }

func (w cancelingWriter) Write(p []byte) (int, error) { w.cancel(); return len(p), nil }

// TestCtrlCBetweenRowsStopsAndCloses cancels the context after the first
// row, as Ctrl-C does through main: the rows stop, rows.Err says why, and
// the connection is closed.
func TestCtrlCBetweenRowsStopsAndCloses(t *testing.T) {
	path := newUsersDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, n INTEGER)`,
		`INSERT INTO users (n) WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 100000) SELECT n FROM c`)
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	canceled, interrupt := context.WithCancel(ctx)
	var stderr bytes.Buffer
	err := run(canceled, path, cancelingWriter{interrupt}, &stderr)
	if ctx.Err() != nil {
		t.Fatal("run did not stop within 10 s")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("run error = %v, want context.Canceled", err)
	}
	assertLog(t, lesson{log: logMessages(t, stderr.String())}, "INFO - Opened connection to "+path, "INFO - Closed connection to "+path)
}

// TestCloseLeavesTheConnectionThatRowsHold shows why the rows must be
// closed: db.Close closes the idle connections and returns, but one that
// open rows hold stays open, and readable, until the rows are closed.
func TestCloseLeavesTheConnectionThatRowsHold(t *testing.T) {
	conn := openGuide(t, guideUsers...)
	rows, err := conn.QueryContext(context.Background(), "SELECT name FROM users")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	if s := conn.Stats(); s.OpenConnections != 1 || s.InUse != 1 {
		t.Errorf("after db.Close: %d open, %d in use; want the rows' connection still open and in use", s.OpenConnections, s.InUse)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if err := rows.Err(); err != nil || n != 3 {
		t.Errorf("read %d rows after db.Close (error %v), want all 3", n, err)
	}
	rows.Close()
	assertNothingOpen(t, conn.DB)
}

// TestWaitsForAnotherProgramsWrite holds the write lock in another
// connection for a moment, as another program would: the lesson waits for
// it (the busy timeout) instead of failing with "database is locked".
func TestWaitsForAnotherProgramsWrite(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	other, err := sql.Open("sqlite3", fileURI(path)+"?_txlock=exclusive")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Begin()
	if err != nil {
		t.Fatal(err)
	}
	release := time.AfterFunc(300*time.Millisecond, func() { tx.Rollback() })
	defer release.Stop()
	got := runLesson(t, path)
	if got.err != nil {
		t.Errorf("run: %v", got.err)
	}
	if strings.Count(got.stdout, "\n") != 3 {
		t.Errorf("printed %q, want the three users", got.stdout)
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

func TestExperimentRowsLeftOpen(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "defer rows.Close()", new: "",
		command: "go test -run TestPrintUsersLeavesNothingInUse ./0-databaseconnection",
		want:    []string{"db.Stats: 1 open, 1 in use; want nothing left open"},
		fails:   true,
	})
}

func TestExperimentAnErrorAfterTheFirstRow(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "return rows.Err()", new: "return nil",
		command: "go test -run TestAnErrorAfterTheFirstRowIsReported ./0-databaseconnection",
		want:    []string{"want integer overflow"},
		fails:   true,
	})
}

func TestExperimentAMistypedPath(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: "?mode=rw&_busy_timeout=5000", new: "?mode=rwc&_busy_timeout=5000",
		command: "go run ./0-databaseconnection -db usres.db; ls usres.db",
		want:    []string{"Opened connection to usres.db", "usres.db is an empty file with no tables"},
		// ls fails unless the lesson created usres.db.
	})
}

func TestExperimentOpenedBeforeAnythingWasOpened(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go",
		old: `	if err := db.PingContext(ctx); err != nil {
		logger.Error("Connection error: " + err.Error())
		err = advise(ctx, db, path, err)
		db.Close()
		return nil, err
	}
`,
		command: "go test -run TestNotADatabaseIsNeverOpened ./0-databaseconnection",
		want:    []string{"for a file that is not a database"},
		fails:   true,
	})
}

func TestExperimentNoPatienceForAnotherProgram(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go", old: `?mode=rw&_busy_timeout=5000"`, new: `?mode=rw&_busy_timeout=0"`,
		command: "go test -run TestWaitsForAnotherProgramsWrite ./0-databaseconnection",
		want:    []string{"is locked by another program"},
		fails:   true,
	})
}

// pageCitations are the lines of main.go that README.md cites by number:
// none, for the page quotes its lines instead.
var pageCitations []citation
