package workbooktest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"workbook/internal/lesson"
)

// A Run is what one run of a lesson, or of a Python program written like
// the guide's, did: what it printed on stdout and on stderr, the lesson's
// error (the guide's programs catch theirs and print it on stdout), and
// the "LEVEL - message" part of each line of its log file.
type Run struct {
	Stdout, Stderr string
	Err            error
	Log            []string
}

// RunLesson calls run, a lesson's run function, on the database at dbPath,
// with a new temporary folder as the current folder, as a learner runs the
// program in a folder of their own, and returns what it did. logFile is
// the name of the lesson's log file, such as "query.log".
func RunLesson(t *testing.T, run lesson.Run, logFile, dbPath string) Run {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	var stdout, stderr strings.Builder
	err := run(Context(t), dbPath, &stdout, &stderr)
	return Run{Stdout: stdout.String(), Stderr: stderr.String(), Err: err, Log: logFileIfAny(t, filepath.Join(dir, logFile))}
}

// AssertLogged fails unless got wrote exactly the messages of want, each
// "LEVEL - message", in order: on stderr the bare messages, one a line, as
// Python's StreamHandler writes them, and in the log file each with its
// level.
func AssertLogged(t testing.TB, got Run, want ...string) {
	t.Helper()
	var stderr strings.Builder
	for _, line := range want {
		_, msg, _ := strings.Cut(line, " - ")
		stderr.WriteString(msg + "\n")
	}
	if got.Stderr != stderr.String() {
		t.Errorf("stderr:\n%s\nwant:\n%s", got.Stderr, stderr.String())
	}
	if strings.Join(got.Log, "\n") != strings.Join(want, "\n") {
		t.Errorf("the log file holds:\n%s\nwant:\n%s", strings.Join(got.Log, "\n"), strings.Join(want, "\n"))
	}
}

// AssertSameLogAsPython fails unless got wrote on stderr and in its log
// file what python, the run of the guide's Python, wrote (the log file's
// times aside).
func AssertSameLogAsPython(t testing.TB, got, python Run) {
	t.Helper()
	if got.Stderr != python.Stderr {
		t.Errorf("stderr:\n%s\nPython's stderr:\n%s", got.Stderr, python.Stderr)
	}
	if strings.Join(got.Log, "\n") != strings.Join(python.Log, "\n") {
		t.Errorf("the log file holds:\n%s\nPython's holds:\n%s", strings.Join(got.Log, "\n"), strings.Join(python.Log, "\n"))
	}
}

// AssertPageShowsTheRun runs run, a lesson's run function, as the page's
// "Run it" does, in the folder of the guide's users.db with "users.db",
// and checks that the page shows what it printed on stdout and on stderr,
// and the lines of its log file, logFile, with the guide's time,
// "2025-05-20 01:05:00,123", in place of the run's.
func AssertPageShowsTheRun(t *testing.T, run lesson.Run, logFile string) {
	t.Helper()
	dir := filepath.Dir(NewUsersDB(t, GuideUsers...))
	t.Chdir(dir)
	var stdout, stderr strings.Builder
	if err := run(Context(t), "users.db", &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	AssertPageShows(t, stdout.String())
	AssertPageShows(t, stderr.String())
	log, err := os.ReadFile(filepath.Join(dir, logFile))
	if err != nil {
		t.Fatal(err)
	}
	stamp := regexp.MustCompile(`(?m)^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} `)
	AssertPageShows(t, stamp.ReplaceAllString(string(log), "2025-05-20 01:05:00,123 "))
}

// guideLogging is the guide's logging set-up in Python, for a log file
// named %[1]q: a logger, log, whose FileHandler writes each message to the
// file in the guide's dated format, and whose StreamHandler writes it to
// stderr as it is.
const guideLogging = `import logging, os, sqlite3, sys

log = logging.getLogger("lesson")
log.setLevel(logging.INFO)
to_file = logging.FileHandler(%[1]q)
to_file.setFormatter(logging.Formatter("%%(asctime)s - %%(levelname)s - %%(message)s"))
log.addHandler(to_file)
log.addHandler(logging.StreamHandler())

`

// eachDatabase runs main once for each database named on the command
// line. After each run, its log file moves aside, and the next message
// opens a new one; a line on stdout and on stderr ends the run's output.
const eachDatabase = `
for i, path in enumerate(sys.argv[1:]):
    main(path)
    to_file.close()
    if os.path.exists(%[1]q):
        os.rename(%[1]q, %[1]q + "." + str(i))
    for out in (sys.stdout, sys.stderr):
        print(%[2]q, file=out, flush=True)
`

// endOfRun is the line that ends each run's output in RunGuidePython.
const endOfRun = "=== end of run ==="

// RunGuidePython runs program, Python written like the guide's program,
// once for each database of dbPaths, and returns what each run did; where
// python is "" (PythonWith found none), it returns nothing. program
// defines main(path), the guide's `if __name__ == "__main__"` block for
// the database at path. Before it comes the guide's logging set-up for a
// log file named logFile, which logs with log.info and log.error, and
// imports sqlite3 and sys.
//
// The runs share one Python process, which saves its start-up time, in a
// new temporary folder; each gets its own output and its own log file, as
// a process of its own would. The guide's programs catch every
// sqlite3.Error, so the test fails if Python ends with another status
// than 0.
func RunGuidePython(t testing.TB, python, logFile, program string, dbPaths ...string) []Run {
	t.Helper()
	if python == "" {
		return nil
	}
	dir := t.TempDir()
	script := fmt.Sprintf(guideLogging, logFile) + program + fmt.Sprintf(eachDatabase, logFile, endOfRun)
	stdout, stderr, status := RunPython(t, python, dir, script, dbPaths...)
	if status != 0 {
		t.Fatalf("python3 ended with status %d:\n%s", status, stderr)
	}
	stdouts := strings.SplitAfter(stdout, endOfRun+"\n")
	stderrs := strings.SplitAfter(stderr, endOfRun+"\n")
	if len(stdouts) != len(dbPaths)+1 || len(stderrs) != len(dbPaths)+1 {
		t.Fatalf("python3 did not finish %d runs:\nstdout:\n%s\nstderr:\n%s", len(dbPaths), stdout, stderr)
	}
	runs := make([]Run, len(dbPaths))
	for i := range runs {
		runs[i] = Run{
			Stdout: strings.TrimSuffix(stdouts[i], endOfRun+"\n"),
			Stderr: strings.TrimSuffix(stderrs[i], endOfRun+"\n"),
			Log:    logFileIfAny(t, filepath.Join(dir, fmt.Sprintf("%s.%d", logFile, i))),
		}
	}
	return runs
}

// logFileIfAny is ReadLogFile, or nothing when there is no file at path.
func logFileIfAny(t testing.TB, path string) []string {
	t.Helper()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return ReadLogFile(t, path)
}

// A UsersTable is a users table as a learner's own setup script makes it,
// for NewUsersDB.
type UsersTable struct {
	Name  string
	Setup []string
}

// UsersTables are users tables that learners' setup scripts make: other
// columns, types and orders than the guide's, values that Python prints
// in its own way, a view, no rows. A lesson's tests say what the guide's
// Python prints on each.
var UsersTables = []UsersTable{
	{"the guide's", GuideUsers},
	{"extra columns, a TIMESTAMP and a BOOLEAN", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER,
			created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, is_active BOOLEAN DEFAULT 1, password_hash TEXT)`,
		`INSERT INTO users (name, email, age, created_at, is_active, password_hash) VALUES
			('Alice Smith', 'alice@example.com', 30, '2025-07-07 10:58:59', 1, 'pbkdf2$x'),
			('Bob Johnson', 'bob@example.com', 45, 'yesterday', 0, NULL),
			('Dana', 'dana@example.com', 61, '2025-07-07T10:58:59Z', 'true', ''),
			('Young', 'young@example.com', 20, '2025-01-01 00:00:00', 1, NULL)`,
	}},
	{"DATE and DATETIME columns and a TEXT key", []string{
		`CREATE TABLE users (user_id TEXT PRIMARY KEY, age INTEGER, born DATE, seen DATETIME, active BOOLEAN)`,
		`INSERT INTO users VALUES ('u-1', 30, '1995-01-31', '2025-07-07 10:58:59.123', 1),
			('u-2', 44, 19950131, 1751885939, 0), ('u-3', 50, NULL, '2025-13-45 99:99:99', 2)`,
	}},
	{"another column order", []string{
		`CREATE TABLE users (email TEXT, age INTEGER, name TEXT, id INTEGER PRIMARY KEY)`,
		`INSERT INTO users (id, name, email, age) VALUES (1, 'Alice Smith', 'alice@example.com', 30), (2, 'Bob Johnson', 'bob@example.com', 45)`,
	}},
	{"NULLs", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)`,
		`INSERT INTO users (name, email, age) VALUES ('Alice Smith', NULL, 30), (NULL, 'ghost@example.com', NULL), ('Bob Johnson', 'bob@example.com', 45)`,
	}},
	{"quotes, escapes and other scripts", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)`,
		`INSERT INTO users (name, email, age) VALUES ('Finn O''Brien', 'finn@example.com', 33),
			('Say "hi"', 'both''"@example.com', 40),
			('back\slash' || char(9) || 'tab' || char(10) || 'nl' || char(13) || char(1) || char(127), 'zoë@exämple.com', 50),
			('🙂 ' || char(160) || char(173) || char(8232), '日本', 26)`,
	}},
	{"REAL ages, the int64 limits and BLOBs", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age REAL, balance, avatar BLOB)`,
		`INSERT INTO users (id, name, age, balance, avatar) VALUES
			(9223372036854775807, 'max', 41.5, -9223372036854775808, x'00ff27'), (2, 'half', 50.0, 1e16, x''),
			(3, 'tiny', 26, 0.1, x'22275c'), (4, 'low', 25.0, 1e-05, NULL)`,
	}},
	{"one column", []string{`CREATE TABLE users (age INTEGER)`, `INSERT INTO users VALUES (30), (20)`}},
	{"a view", []string{
		`CREATE TABLE people (id INTEGER PRIMARY KEY, first TEXT, last TEXT, age INTEGER)`,
		`INSERT INTO people (first, last, age) VALUES ('Alice', 'Smith', 30), ('Bob', 'Johnson', 45)`,
		`CREATE VIEW users AS SELECT id, first || ' ' || last AS name, age, age > 40 AS senior FROM people`,
	}},
	{"no rows", []string{`CREATE TABLE users (id INTEGER PRIMARY KEY, age INTEGER)`}},
}

// OverflowOnRowTwo is the guide's users table behind a users view whose
// second row fails as SQLite computes it: abs of the smallest int64
// overflows. The expression uses the row's id so that SQLite cannot
// compute it once before the first row.
var OverflowOnRowTwo = append(GuideUsers[:2:2],
	`ALTER TABLE users RENAME TO people`,
	`CREATE VIEW users AS SELECT id, name, email, CASE WHEN id = 2 THEN abs(id - id - 9223372036854775807 - 1) ELSE age END AS age FROM people`)

// A BadDatabase is a -db path that the guide's query cannot read, as a
// learner gives one by mistake, with the advice that a lesson's error
// gives for it.
type BadDatabase struct {
	Name   string
	Make   func(t *testing.T) string // makes it, and returns the -db path
	Advice string
}

// BadDatabases are the -db paths that every lesson must refuse with
// advice, creating nothing: a mistyped name is not created, as Python's
// sqlite3.connect would create it.
var BadDatabases = []BadDatabase{
	{"a missing file", func(t *testing.T) string {
		return filepath.Join(t.TempDir(), "users.db")
	}, "there is no such file; create it with: go run "},
	{"a mistyped name beside the real file", func(t *testing.T) string {
		return filepath.Join(filepath.Dir(NewUsersDB(t, GuideUsers...)), "usres.db")
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
		WriteFile(t, path, "these are my notes, not a database\n")
		return path
	}, "is not an SQLite database"},
	{"an empty file", func(t *testing.T) string {
		path := filepath.Join(t.TempDir(), "users.db")
		WriteFile(t, path, "")
		return path
	}, "is an empty file with no tables"},
	{"no users table", func(t *testing.T) string {
		return NewUsersDB(t, `CREATE TABLE customers (id INTEGER PRIMARY KEY)`)
	}, "has no users table: its tables are customers"},
}

// AssertRefusedWithAdvice fails unless got, a run of a lesson on the bad
// database at path, failed with one line that names path and gives advice,
// and printed nothing on stdout.
func AssertRefusedWithAdvice(t testing.TB, got Run, path, advice string) {
	t.Helper()
	if got.Err == nil {
		t.Fatal("run succeeded")
	}
	if msg := got.Err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, advice) || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line that names %s and says %q", msg, path, advice)
	}
	if got.Stdout != "" {
		t.Errorf("printed %q, want nothing", got.Stdout)
	}
}

// FolderSnapshot lists the entries of the folder dir with their sizes, to
// compare before and after a run that must change nothing there.
func FolderSnapshot(t testing.TB, dir string) string {
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

// WriteFile writes content to the file at path, such as a text file given
// to a lesson in place of a database.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// FailingWriter is an output that takes n writes, then fails every write
// after them, as a closed pipe does: stdout for a lesson that must still
// close what it opened.
func FailingWriter(n int) io.Writer { return &failingWriter{n: n} }

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, errors.New("the reader went away")
	}
	w.n--
	return len(p), nil
}

// AssertFileClosed fails if this process still has the file at path open,
// as Linux shows in /proc/self/fd; elsewhere it checks nothing.
func AssertFileClosed(t testing.TB, path string) {
	t.Helper()
	if open := OpenDescriptors(path); len(open) != 0 {
		t.Errorf("%s is still open %d times", path, len(open))
	}
}

// RunOnUsersTables runs a lesson on each of UsersTables, with runLesson,
// and calls check with what each run did; a run that fails fails the test.
// Then it runs the guide's Python on all of them, with runPython, and
// checks that the lesson printed, on stdout and stderr, and logged what
// Python did.
func RunOnUsersTables(t *testing.T, runLesson func(t *testing.T, path string) Run, runPython func(t *testing.T, paths ...string) []Run, check func(t *testing.T, table UsersTable, path string, got Run)) {
	t.Helper()
	var paths []string
	var runs []Run
	for _, table := range UsersTables {
		path := NewUsersDB(t, table.Setup...)
		t.Run(table.Name, func(t *testing.T) {
			got := runLesson(t, path)
			if got.Err != nil {
				t.Fatal(got.Err)
			}
			check(t, table, path, got)
			paths, runs = append(paths, path), append(runs, got)
		})
	}
	for i, python := range runPython(t, paths...) {
		t.Run(UsersTables[i].Name+", as Python", func(t *testing.T) {
			if runs[i].Stdout != python.Stdout {
				t.Errorf("printed:\n%s\nPython prints:\n%s", runs[i].Stdout, python.Stdout)
			}
			AssertSameLogAsPython(t, runs[i], python)
		})
	}
}
