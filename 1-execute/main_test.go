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

func TestMissingDatabaseFailsAndCreatesNothing(t *testing.T) {
	dir := t.TempDir()
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
func newDatabase(t *testing.T) string {
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

	setupProgram = filepath.Join(dir, "00-setup")
	build := exec.Command("go", "build", "-o", setupProgram, "../00-setup")
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
