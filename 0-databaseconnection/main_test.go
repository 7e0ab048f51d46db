package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

// The guide's expected output for Task 0 (section 4.1.4), run in a folder
// that holds the guide's users.db. The log lines go to stderr, discarded
// here; TestPrintsAndLogsWhatPythonDoes checks them.
func Example() {
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// (1, 'Alice Smith', 'alice.smith@example.com', 30)
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
	// (3, 'Charlie Brown', 'charlie.brown@example.com', 25)
}

// runLesson runs the lesson on the database at path, in a folder of its
// own, where connection.log goes.
func runLesson(t *testing.T, path string) workbooktest.Run {
	t.Helper()
	return workbooktest.RunLesson(t, run, "connection.log", path)
}

// guideProgram is the guide's 0-databaseconnection.py written again: a
// class whose __enter__ connects and logs it, or logs the error, and whose
// __exit__ closes and logs it; main prints every user, or "Database error:
// ..." on stdout.
const guideProgram = `
class DatabaseConnection:
    def __init__(self, path):
        self.path, self.conn = path, None

    def __enter__(self):
        try:
            self.conn = sqlite3.connect(self.path)
            log.info(f"Opened connection to {self.path}")
            return self.conn
        except sqlite3.Error as e:
            log.error(f"Connection error: {e}")
            raise

    def __exit__(self, *exc):
        if self.conn:
            self.conn.close()
            log.info(f"Closed connection to {self.path}")

def main(path):
    try:
        with DatabaseConnection(path) as conn:
            cursor = conn.cursor()
            cursor.execute("SELECT * FROM users")
            for row in cursor.fetchall():
                print(row)
    except sqlite3.Error as e:
        print(f"Database error: {e}")
`

// runPython runs guideProgram once on each database of paths, where
// python3 is installed.
func runPython(t *testing.T, paths ...string) []workbooktest.Run {
	t.Helper()
	return workbooktest.RunGuidePython(t, workbooktest.PythonWith(t, "sqlite3"), "connection.log", guideProgram, paths...)
}

// printed is what the guide's Python prints for SELECT * FROM users on
// each of workbooktest.UsersTables, by its name.
var printed = map[string]string{
	"the guide's": `(1, 'Alice Smith', 'alice.smith@example.com', 30)
(2, 'Bob Johnson', 'bob.johnson@example.com', 45)
(3, 'Charlie Brown', 'charlie.brown@example.com', 25)
`,
	"extra columns, a TIMESTAMP and a BOOLEAN": `(1, 'Alice Smith', 'alice@example.com', 30, '2025-07-07 10:58:59', 1, 'pbkdf2$x')
(2, 'Bob Johnson', 'bob@example.com', 45, 'yesterday', 0, None)
(3, 'Dana', 'dana@example.com', 61, '2025-07-07T10:58:59Z', 'true', '')
(4, 'Young', 'young@example.com', 20, '2025-01-01 00:00:00', 1, None)
`,
	"DATE and DATETIME columns and a TEXT key": `('u-1', 30, '1995-01-31', '2025-07-07 10:58:59.123', 1)
('u-2', 44, 19950131, 1751885939, 0)
('u-3', 50, None, '2025-13-45 99:99:99', 2)
`,
	"another column order": `('alice@example.com', 30, 'Alice Smith', 1)
('bob@example.com', 45, 'Bob Johnson', 2)
`,
	"NULLs": `(1, 'Alice Smith', None, 30)
(2, None, 'ghost@example.com', None)
(3, 'Bob Johnson', 'bob@example.com', 45)
`,
	"quotes, escapes and other scripts": `(1, "Finn O'Brien", 'finn@example.com', 33)
(2, 'Say "hi"', 'both\'"@example.com', 40)
(3, 'back\\slash\ttab\nnl\r\x01\x7f', 'zoë@exämple.com', 50)
(4, '🙂 \xa0\xad\u2028', '日本', 26)
`,
	"REAL ages, the int64 limits and BLOBs": `(2, 'half', 50.0, 1e+16, b'')
(3, 'tiny', 26.0, 0.1, b'"\'\\')
(4, 'low', 25.0, 1e-05, None)
(9223372036854775807, 'max', 41.5, -9223372036854775808, b"\x00\xff'")
`,
	"one column": `(30,)
(20,)
`,
	"a view": `(1, 'Alice Smith', 30, 0)
(2, 'Bob Johnson', 45, 1)
`,
	"no rows": ``,
}

// TestPrintsAndLogsWhatPythonDoes runs the lesson on each users table: it
// prints what the guide's Python prints, writes the bare messages on
// stderr and the dated lines in connection.log, closes the file, and where
// python3 is installed, all three are the Python's, byte for byte (the log
// file's times aside).
func TestPrintsAndLogsWhatPythonDoes(t *testing.T) {
	workbooktest.RunOnUsersTables(t, runLesson, runPython, func(t *testing.T, table workbooktest.UsersTable, path string, got workbooktest.Run) {
		if want := printed[table.Name]; got.Stdout != want {
			t.Errorf("printed:\n%s\nwant:\n%s", got.Stdout, want)
		}
		workbooktest.AssertLogged(t, got, "INFO - Opened connection to "+path, "INFO - Closed connection to "+path)
		workbooktest.AssertFileClosed(t, path)
	})
}

// openedAndClosed is what the lesson, or Python, logs when the file opened.
var openedAndClosed = []string{"INFO - Opened connection to %s", "INFO - Closed connection to %s"}

// logged is what the lesson logs on each of workbooktest.BadDatabases, and
// what the guide's Python logs and prints, by its name ("%s" stands for
// the path).
var logged = map[string]struct {
	logs, python []string
	pythonPrints string
}{
	// Python's connect creates the missing file; mode=rw does not.
	"a missing file": {[]string{"ERROR - Connection error: unable to open database file: no such file or directory"},
		openedAndClosed, "no such table: users"},
	"a mistyped name beside the real file": {[]string{"ERROR - Connection error: unable to open database file: no such file or directory"},
		openedAndClosed, "no such table: users"},
	// The driver adds the system's reason to SQLite's message. Python's
	// __enter__ raises, so its __exit__ never runs: no "Closed" line.
	"a folder": {[]string{"ERROR - Connection error: unable to open database file: is a directory"},
		[]string{"ERROR - Connection error: unable to open database file"}, "unable to open database file"},
	// PingContext reads the file before "Opened"; Python's connect reads
	// nothing.
	"a file that is not a database": {[]string{"ERROR - Connection error: file is not a database"},
		openedAndClosed, "file is not a database"},
	"an empty file":  {openedAndClosed, openedAndClosed, "no such table: users"},
	"no users table": {openedAndClosed, openedAndClosed, "no such table: users"},
}

// withPath puts path in place of each "%s" of lines.
func withPath(lines []string, path string) []string {
	var out []string
	for _, line := range lines {
		out = append(out, strings.ReplaceAll(line, "%s", path))
	}
	return out
}

// TestBadDatabasesFailWithAdvice: the lesson fails with one line that says
// what to do, prints nothing, changes nothing in the folder (mode=rw
// creates no file at a mistyped path) and leaves nothing open. It logs
// "Closed connection" only after "Opened connection": when the file does
// not open, as when Python's __enter__ raises, there is nothing to close.
func TestBadDatabasesFailWithAdvice(t *testing.T) {
	var paths []string
	for _, bad := range workbooktest.BadDatabases {
		path := bad.Make(t)
		paths = append(paths, path)
		t.Run(bad.Name, func(t *testing.T) {
			before := workbooktest.FolderSnapshot(t, filepath.Dir(path))
			got := runLesson(t, path)
			workbooktest.AssertRefusedWithAdvice(t, got, path, bad.Advice)
			workbooktest.AssertLogged(t, got, withPath(logged[bad.Name].logs, path)...)
			if after := workbooktest.FolderSnapshot(t, filepath.Dir(path)); after != before {
				t.Errorf("the folder changed from\n%s\nto\n%s", before, after)
			}
			workbooktest.AssertFileClosed(t, path)
		})
	}
	// Python runs last: it creates a file at a path that has none.
	for i, python := range runPython(t, paths...) {
		bad := workbooktest.BadDatabases[i]
		t.Run(bad.Name+", as Python", func(t *testing.T) {
			workbooktest.AssertLogged(t, python, withPath(logged[bad.Name].python, paths[i])...)
			if want := "Database error: " + logged[bad.Name].pythonPrints + "\n"; python.Stdout != want {
				t.Errorf("Python printed %q, want %q", python.Stdout, want)
			}
		})
	}
}

// TestNotADatabaseIsNeverOpened guards the PingContext before "Opened":
// sql.Open reads nothing, so without it the lesson says it opened a file
// that it cannot read.
func TestNotADatabaseIsNeverOpened(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	workbooktest.WriteFile(t, path, "these are my notes, not a database\n")
	got := runLesson(t, path)
	if strings.Contains(got.Stderr, "Opened connection") {
		t.Errorf("logged %q for a file that is not a database", got.Log)
	}
	if !strings.Contains(got.Stderr, "Connection error: file is not a database") {
		t.Errorf("stderr = %q, want the connection error", got.Stderr)
	}
}

// poolGoroutines counts the goroutines that run a pool's connection
// opener: every *sql.DB starts one, which waits until the pool is closed
// and then ends. It counts those that wait, and those that are about to
// run (a pool's just opened, or just closed).
func poolGoroutines() (waiting, running int) {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "database/sql.(*DB).connectionOpener") {
			continue
		}
		if header, _, _ := strings.Cut(g, "\n"); strings.Contains(header, "[select") {
			waiting++
		} else {
			running++
		}
	}
	return waiting, running
}

// TestAFailedOpenLeavesNothingRunning guards the db.Close on Open's failure
// path: sql.Open starts a goroutine for the pool that only Close stops.
// The test waits until no pool's goroutine is about to run (a closed
// pool's goroutine ends, one never closed waits for ever), then counts
// those left waiting.
func TestAFailedOpenLeavesNothingRunning(t *testing.T) {
	settled := func() bool { _, running := poolGoroutines(); return running == 0 }
	workbooktest.WaitFor(t, "the pools' goroutines to settle", settled)
	before, _ := poolGoroutines()

	// One pool left open shows that the count sees a waiting goroutine.
	open, err := sql.Open("sqlite3", dbfile.URI(workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)))
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	path := filepath.Join(t.TempDir(), "missing.db")
	for range 20 {
		if conn, err := Open(workbooktest.Context(t), workbooktest.Discard(), path); err == nil {
			conn.Close()
			t.Fatal("Open succeeded on a missing file")
		}
	}
	workbooktest.WaitFor(t, "the pools' goroutines to settle", settled)
	if after, _ := poolGoroutines(); after != before+1 {
		t.Errorf("%d pools wait for a Close after 20 failed opens and one pool left open, want 1: each failed open must close its pool", after-before)
	}
}

// openGuide opens a users table made by NewUsersDB with the lesson's Open.
func openGuide(t *testing.T, setup ...string) *DatabaseConnection {
	t.Helper()
	conn, err := Open(workbooktest.Context(t), workbooktest.Discard(), workbooktest.NewUsersDB(t, setup...))
	if err != nil {
		t.Fatal(err)
	}
	return conn
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
		{"a row that cannot be read", append(workbooktest.GuideUsers[:1:1],
			`INSERT INTO users (name, email, age) VALUES ('Alice Smith', 'a@example.com', 30),
				(CAST(x'ff' AS TEXT), 'b@example.com', 45)`),
			io.Discard, "holds text that is not UTF-8"},
		{"output that cannot be written", workbooktest.GuideUsers, workbooktest.FailingWriter(1), "the reader went away"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := openGuide(t, tt.setup...)
			err := printUsers(workbooktest.Context(t), conn, tt.out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("printUsers error = %v, want %q", err, tt.want)
			}
			conn.Close()
			workbooktest.AssertNothingOpen(t, conn.DB)
		})
	}
}

// TestAnErrorAfterTheFirstRowIsReported guards rows.Err: rows.Next says
// false both at the end and on an error, so without it the lesson prints
// one row and reports success. Python fails too, and both log the open
// and the close.
func TestAnErrorAfterTheFirstRowIsReported(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.OverflowOnRowTwo...)
	got := runLesson(t, path)
	if got.Err == nil || !strings.Contains(got.Err.Error(), "integer overflow") {
		t.Errorf("run error = %v, want integer overflow", got.Err)
	}
	if want := "(1, 'Alice Smith', 'alice.smith@example.com', 30)\n"; got.Stdout != want {
		t.Errorf("printed %q, want the first row only, %q", got.Stdout, want)
	}
	workbooktest.AssertLogged(t, got, "INFO - Opened connection to "+path, "INFO - Closed connection to "+path)
	workbooktest.AssertFileClosed(t, path)
	for _, python := range runPython(t, path) {
		if want := "Database error: integer overflow\n"; python.Stdout != want {
			t.Errorf("Python printed %q, want %q", python.Stdout, want)
		}
		workbooktest.AssertSameLogAsPython(t, got, python)
	}
}

// cancelingWriter cancels a context on its first write.
type cancelingWriter struct{ cancel context.CancelFunc }

func (w cancelingWriter) Write(p []byte) (int, error) { w.cancel(); return len(p), nil }

// TestCtrlCBetweenRowsStopsAndCloses cancels the context after the first
// row, as Ctrl-C does through main: the rows stop, rows.Err says why, and
// the connection is closed.
func TestCtrlCBetweenRowsStopsAndCloses(t *testing.T) {
	path := workbooktest.NewUsersDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, n INTEGER)`,
		`INSERT INTO users (n) WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 100000) SELECT n FROM c`)
	got := workbooktest.RunLesson(t, func(ctx context.Context, dbPath string, _, stderr io.Writer) error {
		ctx, interrupt := context.WithCancel(ctx)
		defer interrupt()
		return run(ctx, dbPath, cancelingWriter{interrupt}, stderr)
	}, "connection.log", path)
	if !errors.Is(got.Err, context.Canceled) {
		t.Errorf("run error = %v, want context.Canceled", got.Err)
	}
	workbooktest.AssertLogged(t, got, "INFO - Opened connection to "+path, "INFO - Closed connection to "+path)
	workbooktest.AssertFileClosed(t, path)
}

// TestCloseLeavesTheConnectionThatRowsHold shows why the rows must be
// closed: db.Close closes the idle connections and returns, but one that
// open rows hold stays open, and readable, until the rows are closed.
func TestCloseLeavesTheConnectionThatRowsHold(t *testing.T) {
	conn := openGuide(t, workbooktest.GuideUsers...)
	rows, err := conn.QueryContext(workbooktest.Context(t), "SELECT name FROM users")
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
	workbooktest.AssertNothingOpen(t, conn.DB)
}

// TestWaitsForAnotherProgramsWrite holds the write lock in another
// connection for a moment, as another program would: the lesson waits for
// it (the busy timeout) instead of failing with "database is locked".
func TestWaitsForAnotherProgramsWrite(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	other, err := sql.Open("sqlite3", dbfile.URI(path)+"?_txlock=exclusive")
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
	if got.Err != nil {
		t.Errorf("run: %v", got.Err)
	}
	if strings.Count(got.Stdout, "\n") != 3 {
		t.Errorf("printed %q, want the three users", got.Stdout)
	}
}

// TestPageShowsTheOutput runs the lesson as the page's "Run it" does and
// checks that the page shows what it printed and logged.
func TestPageShowsTheOutput(t *testing.T) {
	workbooktest.AssertPageShowsTheRun(t, run, "connection.log")
}

// The experiments of the page's "Try it".

func TestExperimentRowsLeftOpen(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "\tdefer rows.Close()\n", New: "",
		Command: "go test -run TestPrintUsersLeavesNothingInUse ./0-databaseconnection",
		Want:    []string{"db.Stats: 1 open, 1 in use; want nothing left open"},
		Fails:   true,
	})
}

func TestExperimentAnErrorAfterTheFirstRow(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "return rows.Err()", New: "return nil",
		Command: "go test -run TestAnErrorAfterTheFirstRowIsReported ./0-databaseconnection",
		Want:    []string{"want integer overflow"},
		Fails:   true,
	})
}

func TestExperimentAMistypedPath(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "?mode=rw&_busy_timeout=5000", New: "?mode=rwc&_busy_timeout=5000",
		Command: "go run ./0-databaseconnection -db usres.db; ls usres.db",
		Want:    []string{"Opened connection to usres.db", "usres.db is an empty file with no tables"},
		// ls fails unless the lesson created usres.db.
	})
}

func TestExperimentOpenedBeforeAnythingWasOpened(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go",
		Old: `	if err := db.PingContext(ctx); err != nil {
		logger.Error("Connection error: " + err.Error())
		err = dbfile.Explain(ctx, db, path, err)
		db.Close()
		return nil, err
	}
`,
		Command: "go test -run TestNotADatabaseIsNeverOpened ./0-databaseconnection",
		Want:    []string{"for a file that is not a database"},
		Fails:   true,
	})
}

func TestExperimentNoPatienceForAnotherProgram(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: `?mode=rw&_busy_timeout=5000"`, New: `?mode=rw&_busy_timeout=0"`,
		Command: "go test -run TestWaitsForAnotherProgramsWrite ./0-databaseconnection",
		Want:    []string{"is locked by another program"},
		Fails:   true,
	})
}
