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

	"github.com/mattn/go-sqlite3"
)

// The lesson's stdout: the order of every open and close, then the failure.
func Example() {
	// TestMain ran 00-setup in this scratch folder, so users.db is the
	// guide's database. The log lines go to stderr, discarded here.
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Two resources, released in reverse order:
	// open connection to users.db
	// open query: SELECT id, name, email, age FROM users
	// (1, 'Alice Smith', 'alice.smith@example.com', 30)
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
	// (3, 'Charlie Brown', 'charlie.brown@example.com', 25)
	// close query
	// close connection to users.db
	//
	// The second open fails, and the first is still closed:
	// open connection to users.db
	// close connection to users.db
	// Returned error: open query "SELECT id, name, email, age FROM missing_table": no such table: missing_table
}

// logLine matches one line of the guide's log format.
var logLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - (INFO|ERROR) - (.*)$`)

// recorder collects the lesson's notes in a slice and keeps the connection
// that listUsers opened, so a test can look at it afterwards.
type recorder struct {
	events []string
	conn   *DatabaseConnection
	// inUseAtClose is the pool's in-use count when the connection's close
	// began: 0 means the query had given its connection back already.
	inUseAtClose int
}

func (r *recorder) note(line string) {
	if strings.HasPrefix(line, "close connection") && r.conn != nil {
		r.inUseAtClose = r.conn.Stats().InUse
	}
	r.events = append(r.events, line)
}

func (r *recorder) open(path string, logger guideLogger) func(context.Context) (*DatabaseConnection, error) {
	return func(ctx context.Context) (*DatabaseConnection, error) {
		conn, err := OpenDatabaseConnection(ctx, path, logger, r.note)
		r.conn = conn
		return conn, err
	}
}

func TestResourcesCloseInReverseOrder(t *testing.T) {
	path := newDatabase(t)
	var stderr bytes.Buffer
	logger := newTestLogger(&stderr)
	r := &recorder{inUseAtClose: -1}

	if err := listUsers(context.Background(), r.open(path, logger), usersQuery, logger, r.note); err != nil {
		t.Fatalf("listUsers: %v", err)
	}
	assertLines(t, "events", r.events, []string{
		"open connection to " + path,
		"open query: " + usersQuery,
		"(1, 'Alice Smith', 'alice.smith@example.com', 30)",
		"(2, 'Bob Johnson', 'bob.johnson@example.com', 45)",
		"(3, 'Charlie Brown', 'charlie.brown@example.com', 25)",
		"close query",
		"close connection to " + path,
	})
	if r.inUseAtClose != 0 {
		t.Errorf("when the connection's close began, %d connections were in use, want 0: the query was not closed first", r.inUseAtClose)
	}
	assertClosed(t, r.conn)
	assertLog(t, "stderr", stderr.String(), []string{
		"INFO - Opened connection to " + path,
		"INFO - Executed query: " + usersQuery,
		"INFO - Closed query",
		"INFO - Closed connection to " + path,
	})
}

func TestBodyErrorClosesTheQueryThenTheConnection(t *testing.T) {
	// The age column holds text that Scan cannot turn into an int64, so the
	// loop stops at the first row. The rows are not at their end, so only
	// the query's Close gives their connection back to the pool, and it
	// must do so before the connection's Close begins.
	path := newDatabase(t)
	logger := newTestLogger(io.Discard)
	r := &recorder{inUseAtClose: -1}
	query := "SELECT id, name, email, 'forty' FROM users"

	err := listUsers(context.Background(), r.open(path, logger), query, logger, r.note)
	if err == nil || !strings.Contains(err.Error(), "forty") {
		t.Fatalf("error = %v, want Scan's error about %q", err, "forty")
	}
	assertLines(t, "events", r.events, []string{
		"open connection to " + path,
		"open query: " + query,
		"close query",
		"close connection to " + path,
	})
	if r.inUseAtClose != 0 {
		t.Errorf("when the connection's close began, %d connections were in use, want 0: the query was not closed first", r.inUseAtClose)
	}
	assertClosed(t, r.conn)
}

func TestSecondOpenFailingStillClosesTheFirst(t *testing.T) {
	path := newDatabase(t)
	var stderr bytes.Buffer
	logger := newTestLogger(&stderr)
	r := &recorder{inUseAtClose: -1}

	err := listUsers(context.Background(), r.open(path, logger), missingTableQuery, logger, r.note)
	t.Run("the error names what failed", func(t *testing.T) {
		if err == nil {
			t.Fatal("listUsers succeeded on a missing table")
		}
		for _, want := range []string{"open query", missingTableQuery, "no such table: missing_table"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %q", err, want)
			}
		}
		var sqliteErr sqlite3.Error
		if !errors.As(err, &sqliteErr) || sqliteErr.Code != sqlite3.ErrError {
			t.Errorf("error %v is not an sqlite3.Error with code ErrError", err)
		}
		if !isSQLError(err) {
			t.Errorf("isSQLError(%v) = false, want true", err)
		}
	})
	t.Run("only the first resource opened, and it closed", func(t *testing.T) {
		assertLines(t, "events", r.events, []string{
			"open connection to " + path,
			"close connection to " + path,
		})
		if r.inUseAtClose != 0 {
			t.Errorf("when the connection's close began, %d connections were in use, want 0", r.inUseAtClose)
		}
		assertClosed(t, r.conn)
	})
	t.Run("the log says so", func(t *testing.T) {
		assertLog(t, "stderr", stderr.String(), []string{
			"INFO - Opened connection to " + path,
			"ERROR - Query error: " + err.Error(),
			"INFO - Closed connection to " + path,
		})
	})
}

func TestFirstOpenFailingOpensAndClosesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	logger := newTestLogger(io.Discard)
	r := &recorder{inUseAtClose: -1}

	err := listUsers(context.Background(), r.open(path, logger), usersQuery, logger, r.note)
	if err == nil || !strings.Contains(err.Error(), "go run ./00-setup -db "+path) {
		t.Fatalf("error = %v, want one telling to run 00-setup", err)
	}
	if len(r.events) != 0 {
		t.Errorf("events = %q, want none", r.events)
	}
	if r.conn != nil {
		t.Error("a connection came back with the error")
	}
	assertDirEntries(t, filepath.Dir(path), nil)
}

func TestRunPrintsTheOrderAndLogsToStderrAndFile(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())

	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), path, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := []string{
		"INFO - Opened connection to " + path,
		"INFO - Executed query: " + usersQuery,
		"INFO - Closed query",
		"INFO - Closed connection to " + path,
		"INFO - Opened connection to " + path,
		`ERROR - Query error: open query "` + missingTableQuery + `": no such table: missing_table`,
		"INFO - Closed connection to " + path,
	}
	assertLog(t, "stderr", stderr.String(), want)
	file, err := os.ReadFile("connection.log")
	if err != nil {
		t.Fatal(err)
	}
	assertLog(t, "connection.log", string(file), want)

	// A second run succeeds too and appends to the log file.
	if err := run(context.Background(), path, io.Discard, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	file, err = os.ReadFile("connection.log")
	if err != nil {
		t.Fatal(err)
	}
	assertLog(t, "connection.log after two runs", string(file), append(want, want...))
}

func TestRunOnAMissingDatabaseFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "missing.db")
	t.Chdir(t.TempDir())
	err := run(context.Background(), path, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "go run ./00-setup -db "+path) {
		t.Fatalf("error = %v, want one telling to run 00-setup", err)
	}
	assertDirEntries(t, dir, nil)
}

func TestRunFailsWhenTheMissingTableExists(t *testing.T) {
	// If someone creates missing_table, the demonstration cannot show a
	// failing second open, and run says so instead of claiming it did.
	path := newDatabase(t)
	t.Chdir(t.TempDir())
	conn, err := OpenDatabaseConnection(context.Background(), path, newTestLogger(io.Discard), func(string) {})
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(context.Background(), "CREATE TABLE missing_table (id, name, email, age)")
	if closeErr := conn.Close(); err != nil || closeErr != nil {
		t.Fatal(err, closeErr)
	}
	err = run(context.Background(), path, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "should fail") {
		t.Fatalf("run error = %v, want one saying the query should have failed", err)
	}
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
	if !strings.Contains(stdout.String(), "close connection to "+path) {
		t.Errorf("stdout = %q, want the demonstration", stdout.String())
	}
}

// assertClosed checks that a connection's pool is closed and holds nothing.
func assertClosed(t *testing.T, conn *DatabaseConnection) {
	t.Helper()
	if conn == nil {
		t.Fatal("no connection was opened")
	}
	if stats := conn.Stats(); stats.OpenConnections != 0 || stats.InUse != 0 {
		t.Errorf("after close: %d open, %d in use, want 0 and 0", stats.OpenConnections, stats.InUse)
	}
	if err := conn.PingContext(context.Background()); err == nil {
		t.Error("Ping after close succeeded, want sql: database is closed")
	}
}

// assertLines compares two lists of lines, got and want.
func assertLines(t *testing.T, name string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\ngot:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
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
	build := exec.Command("go", "build", "-o", setupProgram, "../../00-setup")
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
