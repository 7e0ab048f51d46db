//go:build cgo

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The guide's expected output for Task 0 (section 4.1.4), timestamps aside.
func Example() {
	// TestMain ran 00-setup in this scratch folder, so users.db is the
	// guide's database. The log lines go to stderr, discarded here.
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// (1, 'Alice Smith', 'alice.smith@example.com', 30)
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
	// (3, 'Charlie Brown', 'charlie.brown@example.com', 25)
}

// logLine matches one line of the guide's log format.
var logLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - (INFO|ERROR) - (.*)$`)

func TestRunLogsOpenAndCloseToStderrAndFile(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())

	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), path, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := []string{
		"INFO - Opened connection to " + path,
		"INFO - Closed connection to " + path,
	}
	assertLog(t, "stderr", stderr.String(), want)
	file, err := os.ReadFile("connection.log")
	if err != nil {
		t.Fatal(err)
	}
	assertLog(t, "connection.log", string(file), want)

	// A second run appends to the log file, as Python's FileHandler does.
	if err := run(context.Background(), path, io.Discard, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	file, err = os.ReadFile("connection.log")
	if err != nil {
		t.Fatal(err)
	}
	assertLog(t, "connection.log after two runs", string(file), append(want, want...))
}

func TestMissingDatabaseFailsAndCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "a-folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a-file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, path, wantAdvice string }{
		{"missing file", "missing.db", "create it first with: go run ./00-setup -db "},
		{"missing folder", "no-such-folder/users.db", "there is no folder " + filepath.Join(dir, "no-such-folder")},
		{"a file as its folder", "a-file/users.db", "there is no folder " + filepath.Join(dir, "a-file")},
		{"URI option in the name", "users.db?mode=rwc", "create it first with: go run ./00-setup -db "},
		{"a folder", "a-folder", "is a folder, not a database file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The lesson's log file goes to the current folder: nothing
			// else may appear there.
			cwd := t.TempDir()
			t.Chdir(cwd)
			path := filepath.Join(dir, tt.path)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), path, &stdout, &stderr)
			if err == nil {
				t.Fatal("run succeeded on a missing database")
			}
			for _, want := range []string{path, tt.wantAdvice} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout.String())
			}
			if !strings.Contains(stderr.String(), " - ERROR - Connection error: ") {
				t.Errorf("stderr = %q, want an ERROR line", stderr.String())
			}
			if strings.Contains(stderr.String(), "Opened connection") {
				t.Errorf("stderr = %q, says opened though nothing was", stderr.String())
			}
			assertDirEntries(t, dir, []string{"a-file", "a-folder"})
			assertDirEntries(t, cwd, []string{"connection.log"})
		})
	}
}

func TestNotADatabaseFailsAndLeavesTheFileAlone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	content := []byte("these are my notes, not a database\n")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), path, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "is not an SQLite database") {
		t.Fatalf("run error = %v, want one saying the file is not an SQLite database", err)
	}
	got, readErr := os.ReadFile(path)
	if readErr != nil {
		t.Fatal(readErr)
	}
	if !bytes.Equal(got, content) {
		t.Errorf("file changed to %q", got)
	}
	assertDirEntries(t, filepath.Dir(path), []string{"notes.txt"})
}

func TestWithConnectionClosesWhenTheBodyFails(t *testing.T) {
	path := newDatabase(t)
	var stderr bytes.Buffer
	logger := newTestLogger(&stderr)
	errBody := errors.New("the body failed")

	var conn *DatabaseConnection
	err := withConnection(context.Background(), path, logger, func(c *DatabaseConnection) error {
		conn = c
		return errBody
	})
	if !errors.Is(err, errBody) {
		t.Fatalf("withConnection error = %v, want the body's error", err)
	}
	assertClosed(t, conn)
	assertLog(t, "stderr", stderr.String(), []string{
		"INFO - Opened connection to " + path,
		"INFO - Closed connection to " + path,
	})
}

func TestWithConnectionClosesWhenTheBodySucceeds(t *testing.T) {
	path := newDatabase(t)
	logger := newTestLogger(io.Discard)
	var conn *DatabaseConnection
	var out bytes.Buffer
	err := withConnection(context.Background(), path, logger, func(c *DatabaseConnection) error {
		conn = c
		return printUsers(context.Background(), c, &out)
	})
	if err != nil {
		t.Fatalf("withConnection: %v", err)
	}
	if got := strings.Count(out.String(), "\n"); got != 3 {
		t.Errorf("printed %d users, want 3", got)
	}
	assertClosed(t, conn)
}

func TestPrintUsersReleasesItsConnection(t *testing.T) {
	path := newDatabase(t)
	conn, err := OpenDatabaseConnection(context.Background(), path, newTestLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })

	t.Run("every row read", func(t *testing.T) {
		if err := printUsers(context.Background(), conn, io.Discard); err != nil {
			t.Fatal(err)
		}
		assertNothingInUse(t, conn)
	})
	t.Run("a row that cannot be scanned", func(t *testing.T) {
		// An age that is not a number makes Scan fail and printUsers
		// return in the middle of the rows. Reaching the end would have
		// closed the rows by itself; here only the deferred rows.Close
		// gives the connection back.
		if _, err := conn.Exec("INSERT INTO users (name, email, age) VALUES ('Dora', 'dora@example.com', 'old')"); err != nil {
			t.Fatal(err)
		}
		if err := printUsers(context.Background(), conn, io.Discard); err == nil {
			t.Fatal("printUsers succeeded on an age that is not a number")
		}
		assertNothingInUse(t, conn)
	})
}

// assertNothingInUse checks that every connection is back in the pool.
func assertNothingInUse(t *testing.T, conn *DatabaseConnection) {
	t.Helper()
	if inUse := conn.Stats().InUse; inUse != 0 {
		t.Errorf("%d connections are in use, want 0: rows were not closed", inUse)
	}
}

func TestQueryErrorIsReturnedAndTheConnectionClosed(t *testing.T) {
	// A database with no users table: the query fails, and the connection is
	// closed all the same.
	path := newDatabase(t)
	logger := newTestLogger(io.Discard)
	var conn *DatabaseConnection
	err := withConnection(context.Background(), path, logger, func(c *DatabaseConnection) error {
		conn = c
		if _, err := c.ExecContext(context.Background(), "DROP TABLE users"); err != nil {
			return err
		}
		return printUsers(context.Background(), c, io.Discard)
	})
	if err == nil || !strings.Contains(err.Error(), "no such table: users") {
		t.Fatalf("error = %v, want no such table", err)
	}
	assertClosed(t, conn)
}

func TestLogFileThatCannotBeOpenedOnlyWarns(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())
	// A folder where the log file should be makes opening it fail.
	if err := os.Mkdir("connection.log", 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), path, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := strings.Count(stderr.String(), "warning:"); got != 1 {
		t.Errorf("stderr has %d warnings, want 1:\n%s", got, stderr.String())
	}
	if got := strings.Count(stdout.String(), "\n"); got != 3 {
		t.Errorf("printed %d users, want 3", got)
	}
}

// assertClosed checks that a connection's pool is closed and holds nothing.
func assertClosed(t *testing.T, conn *DatabaseConnection) {
	t.Helper()
	if conn == nil {
		t.Fatal("the body never ran")
	}
	if stats := conn.Stats(); stats.OpenConnections != 0 || stats.InUse != 0 {
		t.Errorf("after close: %d open, %d in use, want 0 and 0", stats.OpenConnections, stats.InUse)
	}
	if err := conn.PingContext(context.Background()); err == nil {
		t.Error("Ping after close succeeded, want sql: database is closed")
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

// assertDirEntries checks that dir holds exactly the named entries.
func assertDirEntries(t *testing.T, dir string, want []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}

// newTestLogger is the lesson's logger writing to w alone.
func newTestLogger(w io.Writer) guideLogger {
	return guideLogger{log.New(w, "", 0)}
}

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
