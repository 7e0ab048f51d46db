//go:build cgo

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// The guide's expected output for Task 1 (section 4.2.4), timestamps aside.
func Example() {
	// TestMain ran 00-setup in this scratch folder, so users.db is the
	// guide's database. The log lines go to stderr, discarded here.
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// (1, 'Alice Smith', 'alice.smith@example.com', 30)
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
}

// logLine matches one line of the guide's log format.
var logLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - (INFO|ERROR) - (.*)$`)

func TestRunLogsQueryAndCloseToStderrAndFile(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())

	var stderr bytes.Buffer
	if err := run(context.Background(), path, io.Discard, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := []string{
		"INFO - Executed query: SELECT * FROM users WHERE age > ? with params: (25,)",
		"INFO - Closed connection to " + path,
	}
	assertLog(t, "stderr", stderr.String(), want)
	file, err := os.ReadFile("query.log")
	if err != nil {
		t.Fatal(err)
	}
	assertLog(t, "query.log", string(file), want)
}

func TestExecuteQueryBindsParameters(t *testing.T) {
	path := newDatabase(t)
	tests := []struct {
		name   string
		query  string
		params []any
		want   []string
	}{
		{"one int", "SELECT name FROM users WHERE age > ?", []any{40}, []string{"('Bob Johnson',)"}},
		{"no match", "SELECT name FROM users WHERE age > ?", []any{99}, nil},
		{"two params", "SELECT id, age FROM users WHERE age BETWEEN ? AND ? ORDER BY id", []any{25, 30},
			[]string{"(1, 30)", "(3, 25)"}},
		{"text", "SELECT id FROM users WHERE email = ?", []any{"charlie.brown@example.com"}, []string{"(3,)"}},
		{"no params", "SELECT count(*) FROM users", nil, []string{"(3,)"}},
		{"null and real", "SELECT NULL, 2.5, 30.0, x'6869'", nil, []string{"(None, 2.5, 30.0, b'hi')"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := ExecuteQuery(context.Background(), discardLogger(), path, tt.query, tt.params...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, row := range q.Results {
				got = append(got, row.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if err := q.Close(); err != nil {
				t.Fatal(err)
			}
			if stats := q.db.Stats(); stats.OpenConnections != 0 || stats.InUse != 0 {
				t.Errorf("after Close: %d open, %d in use, want 0 and 0", stats.OpenConnections, stats.InUse)
			}
		})
	}
}

func TestBadQueryIsLoggedAndClosesTheConnection(t *testing.T) {
	path := newDatabase(t)
	tests := []struct{ name, query, wantErr string }{
		{"misspelt column", "SELECT * FROM users WHERE agee > ?", "no such column: agee"},
		{"missing table", "SELECT * FROM customers WHERE age > ?", "no such table: customers"},
		{"syntax", "SELEC * FROM users WHERE age > ?", "syntax error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			q, err := ExecuteQuery(context.Background(), guideLogger{log.New(&stderr, "", 0)}, path, tt.query, 25)
			if err == nil {
				q.Close()
				t.Fatal("ExecuteQuery succeeded on a bad query")
			}
			if q != nil {
				t.Error("ExecuteQuery returned a Query with its error; the caller would have to close it")
			}
			for _, want := range []string{tt.query, tt.wantErr} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			log := stderr.String()
			if !strings.Contains(log, " - ERROR - Query error: ") || !strings.Contains(log, " - INFO - Closed connection to "+path) {
				t.Errorf("log = %q, want an ERROR line and a Closed line", log)
			}
			assertNoOpenFile(t, path)
		})
	}
}

// hostileValues are classic attempts to change a query through its values,
// plus values that trouble code which splices strings: a NUL byte, a long
// string, and bytes that are not UTF-8.
var hostileValues = []string{
	"' OR 1=1 --",
	"'; DROP TABLE users; --",
	"Robert'); DROP TABLE users;--",
	"Alice Smith' --",
	"Alice Smith\x00' OR 1=1 --",
	"\xff\xfe\xfd' OR ''='",
	strings.Repeat("x' OR '1'='1", 10_000),
}

func TestHostileParametersMatchNothingAndChangeNothing(t *testing.T) {
	path := newDatabase(t)
	for _, value := range hostileValues {
		q, err := ExecuteQuery(context.Background(), discardLogger(), path, "SELECT * FROM users WHERE name = ?", value)
		if err != nil {
			t.Fatalf("ExecuteQuery(%.40q): %v", value, err)
		}
		if len(q.Results) != 0 {
			t.Errorf("value %.40q matched %d rows, want 0", value, len(q.Results))
		}
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
	}
	q, err := ExecuteQuery(context.Background(), discardLogger(), path, "SELECT count(*) FROM users")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if got := q.Results[0].String(); got != "(3,)" {
		t.Errorf("users afterwards: %s, want (3,)", got)
	}
}

// FuzzExecuteQueryParameter checks that any string given as a parameter is
// only ever a value: it comes back from SQLite byte for byte, matches a name
// only when it is that name, and leaves the table as it was. go test runs
// the seeds; go test -fuzz FuzzExecuteQueryParameter ./1-execute searches
// for more.
func FuzzExecuteQueryParameter(f *testing.F) {
	for _, value := range hostileValues {
		f.Add(value)
	}
	f.Add("Bob Johnson")
	path := newDatabase(f)
	names := map[string]bool{"Alice Smith": true, "Bob Johnson": true, "Charlie Brown": true}

	f.Fuzz(func(t *testing.T, value string) {
		q, err := ExecuteQuery(context.Background(), discardLogger(), path,
			"SELECT ?, (SELECT count(*) FROM users WHERE name = ?), (SELECT count(*) FROM users)", value, value)
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		row := q.Results[0]
		if row[0] != value {
			t.Errorf("SELECT ? returned %.40q, want %.40q", row[0], value)
		}
		wantMatches := int64(0)
		if names[value] {
			wantMatches = 1
		}
		if row[1] != wantMatches {
			t.Errorf("value %.40q matched %v users, want %d", value, row[1], wantMatches)
		}
		if row[2] != int64(3) {
			t.Errorf("the table holds %v users, want 3", row[2])
		}
	})
}

func TestMissingDatabaseFailsAndCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	// The lesson's log file goes to the current folder: nothing else may
	// appear there.
	cwd := t.TempDir()
	t.Chdir(cwd)
	path := filepath.Join(dir, "missing.db")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), path, &stdout, &stderr)
	if err == nil {
		t.Fatal("run succeeded on a missing database")
	}
	if want := "go run ./00-setup -db " + path; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
	if !strings.Contains(stderr.String(), " - ERROR - Query error: ") {
		t.Errorf("stderr = %q, want an ERROR line", stderr.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the folder holds %d entries, want none", len(entries))
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 1 || entries[0].Name() != "query.log" {
		t.Errorf("the current folder holds %v, want only query.log", entries)
	}
}

func TestRowPrintsLikeAPythonTuple(t *testing.T) {
	tests := []struct {
		row  Row
		want string
	}{
		{Row{}, "()"},
		{Row{25}, "(25,)"},
		{Row{int64(1), "Alice Smith", "alice.smith@example.com", int64(30)}, "(1, 'Alice Smith', 'alice.smith@example.com', 30)"},
		{Row{nil, 1.5, 2.0}, "(None, 1.5, 2.0)"},
	}
	for _, tt := range tests {
		if got := tt.row.String(); got != tt.want {
			t.Errorf("Row%v.String() = %q, want %q", []any(tt.row), got, tt.want)
		}
	}
}

func TestLogFileThatCannotBeOpenedOnlyWarns(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())
	if err := os.Mkdir("query.log", 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), path, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := strings.Count(stderr.String(), "warning:"); got != 1 {
		t.Errorf("stderr has %d warnings, want 1:\n%s", got, stderr.String())
	}
	if got := strings.Count(stdout.String(), "\n"); got != 2 {
		t.Errorf("printed %d users, want 2", got)
	}
}

// assertNoOpenFile checks that this process holds no file descriptor on
// path: proof that the connection was really closed, not merely forgotten.
func assertNoOpenFile(t *testing.T, path string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Log("skipping the open-file check: it reads /proc/self/fd")
		return
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && target == path {
			t.Errorf("file descriptor %s is still open on %s", fd.Name(), path)
		}
	}
}

// assertLog checks that log holds exactly the wanted lines, in order, each in
// the guide's format; want gives each line's text after the timestamp.
func assertLog(t *testing.T, name, log string, want []string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%s has %d lines, want %d:\n%s", name, len(lines), len(want), log)
	}
	for i, line := range lines {
		if !logLine.MatchString(line) {
			t.Errorf("%s line %d = %q, not in the guide's format", name, i+1, line)
		}
		if !strings.HasSuffix(line, " - "+want[i]) {
			t.Errorf("%s line %d = %q, want it to end %q", name, i+1, line, want[i])
		}
	}
}

func discardLogger() guideLogger { return guideLogger{log.New(io.Discard, "", 0)} }

// setupProgram is the real 00-setup, built once by TestMain.
var setupProgram string

// newDatabase returns the path of a fresh users.db made by 00-setup in a
// folder of the test's own.
func newDatabase(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.db")
	if out, err := exec.Command(setupProgram, "-db", path).CombinedOutput(); err != nil {
		t.Fatalf("00-setup: %v\n%s", err, out)
	}
	return path
}

// TestMain builds the real 00-setup and runs every test and example in a
// scratch folder where 00-setup has made users.db, as a learner would. The
// lesson's log file lands there too, not in the source tree.
func TestMain(m *testing.M) {
	code, err := testMain(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func testMain(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "lesson-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)

	// go test -fuzz runs this binary again as worker processes, which start
	// in the scratch folder; the environment tells them where the source is.
	source := os.Getenv("EXECUTE_TEST_SOURCE")
	if source == "" {
		if source, err = os.Getwd(); err != nil {
			return 0, err
		}
		os.Setenv("EXECUTE_TEST_SOURCE", source)
	}
	setupProgram = filepath.Join(dir, "00-setup")
	build := exec.Command("go", "build", "-o", setupProgram, "../00-setup")
	build.Dir = source
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build 00-setup: %v\n%s", err, out)
	}
	if err := os.Chdir(dir); err != nil {
		return 0, err
	}
	if out, err := exec.Command(setupProgram).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("00-setup: %v\n%s", err, out)
	}
	return m.Run(), nil
}
