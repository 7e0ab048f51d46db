//go:build cgo

package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// The lesson's stdout. The times it prints are the constants it uses, not
// measured ones, so the output is the same on every run.
func Example() {
	// TestMain ran 00-setup in this scratch folder, so users.db is the
	// guide's database. The log lines go to stderr, discarded here.
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// A query that never ends, with a deadline of 200ms:
	// Stopped: context deadline exceeded
	//
	// The same query, canceled by another goroutine after 100ms:
	// Stopped: context canceled
	//
	// The same pool answers the next query. Users older than 40:
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
}

// logLine matches one line of the guide's log format.
var logLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - (INFO|ERROR) - (.*)$`)

// promptly is the generous bound within which a stopped query must return.
// The claim is that the query stops, not how fast: without the interrupt
// it would never return at all.
const promptly = 5 * time.Second

func TestADeadlineStopsTheSlowQuery(t *testing.T) {
	// One connection only: the query after the stopped one must run on the
	// very connection that was interrupted.
	db := openTestDatabase(t)
	db.SetMaxOpenConns(1)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	rows, err := executeQuery(ctx, db, slowQuery)
	elapsed := time.Since(start)

	t.Run("the error is context.DeadlineExceeded", func(t *testing.T) {
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want context.DeadlineExceeded", err)
		}
		if rows != nil {
			t.Errorf("rows = %v, want none", rows)
		}
	})
	t.Run("it returns promptly", func(t *testing.T) {
		if elapsed > promptly {
			t.Errorf("the query returned after %v, want well under %v", elapsed, promptly)
		}
	})
	t.Run("the connection is back in the pool", func(t *testing.T) {
		stats := db.Stats()
		if stats.InUse != 0 || stats.Idle != 1 {
			t.Errorf("after: %d in use, %d idle, want 0 and 1", stats.InUse, stats.Idle)
		}
	})
	t.Run("the same connection answers the next query", func(t *testing.T) {
		assertOlderThan40(t, db)
	})
}

func TestACancelFromAnotherGoroutineStopsTheSlowQuery(t *testing.T) {
	db := openTestDatabase(t)
	db.SetMaxOpenConns(1)
	// The deadline is only a backstop should the cancel never come: it
	// would end the query with context.DeadlineExceeded, not Canceled.
	ctx, stop := context.WithTimeout(context.Background(), 2*promptly)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Another goroutine cancels once the query holds the pool's only
	// connection, and 100 ms more: the connection is taken before the
	// statement starts, and the query never ends on its own, so by then it
	// is running inside SQLite and only the cancel can stop it. If the
	// query is not seen holding its connection within promptly, the
	// goroutine does not cancel and the test fails.
	canceledAt := make(chan time.Time, 1)
	go func() {
		for wait := time.Now(); time.Since(wait) < promptly; time.Sleep(time.Millisecond) {
			if db.Stats().InUse == 1 {
				time.Sleep(100 * time.Millisecond)
				canceledAt <- time.Now()
				cancel()
				return
			}
		}
		canceledAt <- time.Time{}
	}()
	// The query runs on a goroutine of its own, so that a broken
	// interrupt makes the test fail instead of hanging.
	result := make(chan error, 1)
	go func() {
		_, err := executeQuery(ctx, db, slowQuery)
		result <- err
	}()
	var err error
	select {
	case err = <-result:
	case <-time.After(4 * promptly):
		t.Fatalf("the query was still running %v after it started", 4*promptly)
	}
	returned := time.Now()

	at := <-canceledAt
	if at.IsZero() {
		t.Fatalf("the query was never seen holding its connection within %v; it ended with %v", promptly, err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if elapsed := returned.Sub(at); elapsed > promptly {
		t.Errorf("the query returned %v after the cancel, want well under %v", elapsed, promptly)
	}
	assertNoneInUse(t, db)
	assertOlderThan40(t, db)
}

func TestAReaderWaitsForAWriteTransactionThatOutgrewItsCache(t *testing.T) {
	// The writer's page cache is 64 KiB, so that a few hundred rows of 1000
	// bytes outgrow it; the reader waits at most readerWait for a lock.
	const readerWait = 100 * time.Millisecond
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		journal string
		rows    int
		locked  bool
	}{
		{"rollback journal, small write", "DELETE", 1, false},
		{"rollback journal, write bigger than the cache", "DELETE", 500, true},
		{"WAL, write bigger than the cache", "WAL", 500, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := "file:" + (&url.URL{Path: filepath.Join(t.TempDir(), "big.db")}).EscapedPath()
			writer := openDSN(t, file+"?mode=rwc&_cache_size=-64&_journal_mode="+tc.journal)
			reader := openDSN(t, fmt.Sprintf("%s?mode=rw&_busy_timeout=%d", file, readerWait.Milliseconds()))
			if _, err := writer.ExecContext(ctx, "CREATE TABLE notes (text TEXT NOT NULL)"); err != nil {
				t.Fatal(err)
			}
			tx, err := writer.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			for range tc.rows {
				if _, err := tx.ExecContext(ctx, "INSERT INTO notes (text) VALUES (?)", strings.Repeat("x", 1000)); err != nil {
					t.Fatal(err)
				}
			}

			var n int
			start := time.Now()
			err = reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM notes").Scan(&n)
			elapsed := time.Since(start)
			if tc.locked {
				var sqliteErr sqlite3.Error
				if !errors.As(err, &sqliteErr) || sqliteErr.Code != sqlite3.ErrBusy {
					t.Fatalf("read: %d rows, error %v, want database is locked (ErrBusy)", n, err)
				}
				if elapsed < readerWait {
					t.Errorf("the reader gave up after %v, before its _busy_timeout of %v", elapsed, readerWait)
				}
			} else if err != nil || n != 0 {
				t.Fatalf("read: %d rows, error %v, want the 0 committed rows", n, err)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			assertNoneInUse(t, writer)
			assertNoneInUse(t, reader)
		})
	}
}

// openDSN opens dsn; Cleanup closes it and checks that the pool is empty.
func openDSN(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
		if stats := db.Stats(); stats.OpenConnections != 0 || stats.InUse != 0 {
			t.Errorf("after close: %d open, %d in use, want 0 and 0", stats.OpenConnections, stats.InUse)
		}
	})
	return db
}

func TestTheDemonstrationsStopAndLogHowLong(t *testing.T) {
	db := openTestDatabase(t)
	tests := []struct {
		name  string
		query func(context.Context, *sql.DB, time.Duration, guideLogger) error
		want  error
		log   *regexp.Regexp
	}{
		{"deadline", queryWithDeadline, context.DeadlineExceeded,
			regexp.MustCompile(`^INFO - Slow query with a 100ms deadline stopped after \d+(\.\d+)?m?s: context deadline exceeded$`)},
		{"cancel", queryCanceledAfter, context.Canceled,
			regexp.MustCompile(`^INFO - Slow query canceled after 100ms stopped after \d+(\.\d+)?m?s: context canceled$`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			start := time.Now()
			err := tt.query(context.Background(), db, 100*time.Millisecond, newTestLogger(&stderr))
			if elapsed := time.Since(start); elapsed > promptly {
				t.Errorf("returned after %v, want well under %v", elapsed, promptly)
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
			assertLogMatches(t, "stderr", stderr.String(), []*regexp.Regexp{tt.log})
			assertNoneInUse(t, db)
		})
	}
}

func TestExecuteQueryReturnsTheQueryError(t *testing.T) {
	db := openTestDatabase(t)
	rows, err := executeQuery(context.Background(), db, "SELECT * FROM missing_table")
	if err == nil || !strings.Contains(err.Error(), "no such table: missing_table") {
		t.Errorf("error = %v, want no such table", err)
	}
	if rows != nil {
		t.Errorf("rows = %v, want none", rows)
	}
	assertNoneInUse(t, db)
}

func TestRowsPrintLikePythonTuples(t *testing.T) {
	db := openTestDatabase(t)
	tests := []struct {
		query string
		args  []any
		want  []string
	}{
		{olderThanQuery, []any{20}, []string{
			"(1, 'Alice Smith', 'alice.smith@example.com', 30)",
			"(2, 'Bob Johnson', 'bob.johnson@example.com', 45)",
			"(3, 'Charlie Brown', 'charlie.brown@example.com', 25)",
		}},
		{"SELECT count(*) FROM users", nil, []string{"(3,)"}},
		{"SELECT ?, ?, NULL, 2.0, 2.5, x'6869'", []any{7, "seven"}, []string{"(7, 'seven', None, 2.0, 2.5, b'hi')"}},
		{olderThanQuery, []any{100}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			rows, err := executeQuery(context.Background(), db, tt.query, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, row := range rows {
				got = append(got, row.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			assertNoneInUse(t, db)
		})
	}
}

func TestRunLogsToStderrAndFile(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())

	want := []*regexp.Regexp{
		regexp.MustCompile(`^INFO - Opened connection to ` + regexp.QuoteMeta(path) + `$`),
		regexp.MustCompile(`^INFO - Slow query with a 200ms deadline stopped after \d+(\.\d+)?m?s: context deadline exceeded$`),
		regexp.MustCompile(`^INFO - Slow query canceled after 100ms stopped after \d+(\.\d+)?m?s: context canceled$`),
		regexp.MustCompile(`^INFO - Pool after the stopped queries: [12] open, 0 in use$`),
		regexp.MustCompile(`^INFO - Fetched users older than 40$`),
		regexp.MustCompile(`^INFO - Closed connection to ` + regexp.QuoteMeta(path) + `$`),
	}
	var stderr bytes.Buffer
	if err := run(context.Background(), path, io.Discard, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	assertLogMatches(t, "stderr", stderr.String(), want)
	file, err := os.ReadFile("async.log")
	if err != nil {
		t.Fatal(err)
	}
	assertLogMatches(t, "async.log", string(file), want)

	// A second run succeeds too and appends to the log file.
	if err := run(context.Background(), path, io.Discard, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	file, err = os.ReadFile("async.log")
	if err != nil {
		t.Fatal(err)
	}
	assertLogMatches(t, "async.log after two runs", string(file), append(want, want...))
}

func TestRunOnAMissingDatabaseFails(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "missing.db")
	t.Chdir(t.TempDir())
	var stdout bytes.Buffer
	err := run(context.Background(), path, &stdout, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "go run ./00-setup -db "+path) {
		t.Fatalf("error = %v, want one telling to run 00-setup", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
	assertDirEntries(t, dir, nil)
}

func TestLogFileThatCannotBeOpenedOnlyWarns(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())
	// A folder where the log file should be makes opening it fail.
	if err := os.Mkdir("async.log", 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), path, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := strings.Count(stderr.String(), "warning:"); got != 1 {
		t.Errorf("stderr has %d warnings, want 1:\n%s", got, stderr.String())
	}
	if !strings.Contains(stdout.String(), "(2, 'Bob Johnson', 'bob.johnson@example.com', 45)") {
		t.Errorf("stdout = %q, want the users older than 40", stdout.String())
	}
}

// assertOlderThan40 checks that db answers the guide's query.
func assertOlderThan40(t *testing.T, db *sql.DB) {
	t.Helper()
	rows, err := executeQuery(context.Background(), db, olderThanQuery, 40)
	if err != nil {
		t.Fatalf("the next query: %v", err)
	}
	want := "(2, 'Bob Johnson', 'bob.johnson@example.com', 45)"
	if len(rows) != 1 || rows[0].String() != want {
		t.Errorf("the next query returned %v, want [%s]", rows, want)
	}
	assertNoneInUse(t, db)
}

// assertLogMatches checks that log holds one line per pattern, in order,
// each in the guide's format; a pattern matches the text after the
// timestamp.
func assertLogMatches(t *testing.T, name, log string, want []*regexp.Regexp) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%s has %d lines, want %d:\n%s", name, len(lines), len(want), log)
	}
	for i, line := range lines {
		m := logLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("%s line %d = %q, not in the guide's format", name, i+1, line)
			continue
		}
		if text := m[1] + " - " + m[2]; !want[i].MatchString(text) {
			t.Errorf("%s line %d = %q, want it to match %q", name, i+1, line, want[i])
		}
	}
}

// assertNoneInUse checks that every connection the pool lent went back.
func assertNoneInUse(t *testing.T, db *sql.DB) {
	t.Helper()
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connections in use, want 0", inUse)
	}
}

// openTestDatabase opens a fresh users.db with the lesson's openDatabase.
// Cleanup closes it and checks that the pool is empty.
func openTestDatabase(t *testing.T) *sql.DB {
	t.Helper()
	db, err := openDatabase(context.Background(), newDatabase(t), newTestLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
		if stats := db.Stats(); stats.OpenConnections != 0 || stats.InUse != 0 {
			t.Errorf("after close: %d open, %d in use, want 0 and 0", stats.OpenConnections, stats.InUse)
		}
	})
	return db
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
