//go:build cgo

package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// scratchDir is a folder made by TestMain for the example: it holds the
// guide's users.db, as a learner's folder does after setup_database.py,
// and the lesson's async.log lands there too, not in the source tree.
var scratchDir string

func TestMain(m *testing.M) {
	code, err := testMain(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func testMain(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "3-concurrent-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	scratchDir = dir
	if err := makeDB(filepath.Join(dir, "users.db"), guideUsers...); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// The guide's expected output for Task 2 (section 4.3.4), with the blank
// line that its print("\nUsers older than 40:") prints. The two log lines
// go to stderr, discarded here.
func Example() {
	sourceDir, _ := os.Getwd()
	os.Chdir(scratchDir) // where users.db is
	defer os.Chdir(sourceDir)

	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// All users:
	// (1, 'Alice Smith', 'alice.smith@example.com', 30)
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
	// (3, 'Charlie Brown', 'charlie.brown@example.com', 25)
	//
	// Users older than 40:
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
}

// runLesson runs the lesson on path with a deadline, in a folder of the
// test's own, and returns what it printed.
func runLesson(t *testing.T, path string) (stdout, stderr string, err error) {
	t.Helper()
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, path, &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestPageShowsTheOutput(t *testing.T) {
	var stdout string
	t.Run("run", func(t *testing.T) { // runs in a folder of its own
		var err error
		if stdout, _, err = runLesson(t, newUsersDB(t, guideUsers...)); err != nil {
			t.Fatal(err)
		}
	})
	assertPageShows(t, stdout)
}

func TestRunLogsBothFetchesToStderrAndAsyncLog(t *testing.T) {
	_, stderr, err := runLesson(t, newUsersDB(t, guideUsers...))
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile("async.log")
	if err != nil {
		t.Fatal(err)
	}
	// The fetches run at once, so either may log first.
	want := []string{"INFO - Fetched all users", "INFO - Fetched users older than 40"}
	for name, log := range map[string]string{"stderr": stderr, "async.log": string(file)} {
		got := logMessages(t, log)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q in any order", name, got, want)
		}
	}
}

// The lesson's output for users tables of many shapes, written out here.
// TestPythonPrintsTheSame checks each against the guide's way in Python.
var tables = []struct {
	name  string
	setup []string
	want  string
}{
	{"the guide's table", guideUsers, `All users:
(1, 'Alice Smith', 'alice.smith@example.com', 30)
(2, 'Bob Johnson', 'bob.johnson@example.com', 45)
(3, 'Charlie Brown', 'charlie.brown@example.com', 25)

Users older than 40:
(2, 'Bob Johnson', 'bob.johnson@example.com', 45)
`},
	{"other and extra columns", []string{
		`CREATE TABLE users (user_id TEXT PRIMARY KEY, age INTEGER, name TEXT, email TEXT,
			created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, is_active BOOLEAN DEFAULT 1, password_hash TEXT)`,
		`INSERT INTO users VALUES
			('u1', 45, 'Bob Johnson', 'bob@example.com', '2025-07-07 10:58:59', 1, 'pbkdf2$x'),
			('u2', 30, 'Alice Smith', 'alice@example.com', '2025-07-07', 0, ''),
			('u3', 52, 'Dora Diaz', 'dora@example.com', 'yesterday', 'yes', 'abc')`,
	}, `All users:
('u1', 45, 'Bob Johnson', 'bob@example.com', '2025-07-07 10:58:59', 1, 'pbkdf2$x')
('u2', 30, 'Alice Smith', 'alice@example.com', '2025-07-07', 0, '')
('u3', 52, 'Dora Diaz', 'dora@example.com', 'yesterday', 'yes', 'abc')

Users older than 40:
('u1', 45, 'Bob Johnson', 'bob@example.com', '2025-07-07 10:58:59', 1, 'pbkdf2$x')
('u3', 52, 'Dora Diaz', 'dora@example.com', 'yesterday', 'yes', 'abc')
`},
	{"NULLs", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)`,
		`INSERT INTO users VALUES (1, 'Ann', NULL, 41), (2, NULL, 'x@example.com', NULL), (3, 'Cy', 'cy@example.com', 50)`,
	}, `All users:
(1, 'Ann', None, 41)
(2, None, 'x@example.com', None)
(3, 'Cy', 'cy@example.com', 50)

Users older than 40:
(1, 'Ann', None, 41)
(3, 'Cy', 'cy@example.com', 50)
`},
	{"quotes and escapes", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)`,
		`INSERT INTO users (name, age) VALUES
			('Finn O''Brien', 41), ('say "hi"', 42), ('It''s "both"', 43), ('back\slash', 44),
			('tab' || char(9) || 'new' || char(10) || 'ret' || char(13), 45),
			('bell' || char(7) || 'del' || char(127) || 'nel' || char(133) || 'nbsp' || char(160), 46),
			('Zoë 日本語 🙂', 47), ('zw' || char(8203) || 'ls' || char(8232) || 'bom' || char(65279), 48),
			('', 20)`,
	}, `All users:
(1, "Finn O'Brien", 41)
(2, 'say "hi"', 42)
(3, 'It\'s "both"', 43)
(4, 'back\\slash', 44)
(5, 'tab\tnew\nret\r', 45)
(6, 'bell\x07del\x7fnel\x85nbsp\xa0', 46)
(7, 'Zoë 日本語 🙂', 47)
(8, 'zw\u200bls\u2028bom\ufeff', 48)
(9, '', 20)

Users older than 40:
(1, "Finn O'Brien", 41)
(2, 'say "hi"', 42)
(3, 'It\'s "both"', 43)
(4, 'back\\slash', 44)
(5, 'tab\tnew\nret\r', 45)
(6, 'bell\x07del\x7fnel\x85nbsp\xa0', 46)
(7, 'Zoë 日本語 🙂', 47)
(8, 'zw\u200bls\u2028bom\ufeff', 48)
`},
	{"numbers", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, score REAL, age)`,
		`INSERT INTO users (score, age) VALUES (41.5, 41.5), (50.0, 50.0), (1e16, 1e16), (0.1, 0.1),
			(1e-5, 123456789.125), (-2.5e-7, 9223372036854775807), (3, -9223372036854775808), (NULL, '50')`,
	}, `All users:
(1, 41.5, 41.5)
(2, 50.0, 50.0)
(3, 1e+16, 1e+16)
(4, 0.1, 0.1)
(5, 1e-05, 123456789.125)
(6, -2.5e-07, 9223372036854775807)
(7, 3.0, -9223372036854775808)
(8, None, '50')

Users older than 40:
(1, 41.5, 41.5)
(2, 50.0, 50.0)
(3, 1e+16, 1e+16)
(5, 1e-05, 123456789.125)
(6, -2.5e-07, 9223372036854775807)
(8, None, '50')
`},
	{"blobs and dates", []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, photo BLOB, born DATE, seen DATETIME, ok BOOLEAN, age INTEGER)`,
		`INSERT INTO users (photo, born, seen, ok, age) VALUES
			(X'00FF275C', '1980-02-29', '2025-01-01T10:00:00Z', 1, 45),
			(X'', '2001-13-45', 1700000000, 0, 30),
			(X'2227', 19800229, NULL, 'true', 60),
			('just text', NULL, 2.5, NULL, 70)`,
	}, `All users:
(1, b"\x00\xff'\\", '1980-02-29', '2025-01-01T10:00:00Z', 1, 45)
(2, b'', '2001-13-45', 1700000000, 0, 30)
(3, b'"\'', 19800229, None, 'true', 60)
(4, 'just text', None, 2.5, None, 70)

Users older than 40:
(1, b"\x00\xff'\\", '1980-02-29', '2025-01-01T10:00:00Z', 1, 45)
(3, b'"\'', 19800229, None, 'true', 60)
(4, 'just text', None, 2.5, None, 70)
`},
	{"one column", []string{
		`CREATE TABLE users (age INTEGER)`,
		`INSERT INTO users VALUES (45), (20)`,
	}, `All users:
(45,)
(20,)

Users older than 40:
(45,)
`},
	{"no users yet", guideUsers[:1], `All users:

Users older than 40:
`},
}

func TestRunPrintsTablesOfEveryShape(t *testing.T) {
	for _, tt := range tables {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := runLesson(t, newUsersDB(t, tt.setup...))
			if err != nil {
				t.Fatal(err)
			}
			if stdout != tt.want {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.want)
			}
		})
	}
}

// TestRunFailsWithAdvice covers every way the lesson fails on a bad -db:
// one error that says what to do, nothing printed on stdout, and no file
// created or changed.
func TestRunFailsWithAdvice(t *testing.T) {
	cases := []struct {
		name string
		// setup makes the database in dir and returns the -db path.
		setup func(t *testing.T, dir string) string
		want  string
	}{
		{"missing file", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "users.db")
		}, "there is no such file; create it with: go run"},
		{"a similar file nearby", func(t *testing.T, dir string) string {
			writeFile(t, filepath.Join(dir, "users.db"), nil)
			return filepath.Join(dir, "user.db")
		}, "did you mean -db " + "DIR/users.db"},
		{"a folder", func(t *testing.T, dir string) string {
			return dir
		}, "is a folder, not a database file"},
		{"no such folder", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "nowhere", "users.db")
		}, "there is no folder"},
		{"not a database", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "users.db")
			writeFile(t, path, []byte("name,email,age\nAlice,alice@example.com,30\n"))
			return path
		}, "is not an SQLite database"},
		{"an empty file", func(t *testing.T, dir string) string {
			path := filepath.Join(dir, "users.db")
			writeFile(t, path, nil)
			return path
		}, "is an empty file with no tables"},
		{"no users table", func(t *testing.T, dir string) string {
			return copyInto(t, dir, newUsersDB(t, "CREATE TABLE customers (id INTEGER)"))
		}, "has no users table: its tables are customers"},
		{"no age column", func(t *testing.T, dir string) string {
			return copyInto(t, dir, newUsersDB(t, "CREATE TABLE users (id INTEGER, name TEXT)", "INSERT INTO users VALUES (1, 'Ann')"))
		}, "has no age column: its columns are id, name"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tt.setup(t, dir)
			before := listFolder(t, dir)
			stdout, _, err := runLesson(t, path)
			want := strings.ReplaceAll(tt.want, "DIR/", dir+string(filepath.Separator))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error = %v, want one containing %q", err, want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is more than one line", err)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if after := listFolder(t, dir); !slices.Equal(after, before) {
				t.Errorf("the folder held %q, and after the run %q", before, after)
			}
		})
	}
}

// An open that fails is reported as such, before any fetch starts: sql.Open
// connected to nothing, PingContext did.
func TestRunReportsAFailedOpenBeforeFetching(t *testing.T) {
	_, stderr, err := runLesson(t, filepath.Join(t.TempDir(), "users.db"))
	if err == nil {
		t.Fatal("run succeeded on a missing file")
	}
	if strings.Contains(err.Error(), "fetch") {
		t.Errorf("error = %q: a fetch ran on a database that could not be opened; ping it first", err)
	}
	if stderr != "" {
		t.Errorf("stderr = %q, want nothing logged", stderr)
	}
}

// Each fetch's error reaches the caller, whichever goroutine it happened in.
func TestRunReturnsTheErrorOfEachFetch(t *testing.T) {
	cases := []struct {
		name  string
		setup []string
		want  string
	}{
		// Only the first query reads the young user, whose name is
		// not UTF-8 text.
		{"all users", []string{
			`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)`,
			`INSERT INTO users VALUES (1, CAST(X'FF' AS TEXT), 20), (2, 'Bob', 45)`,
		}, "fetch all users: column name holds text that is not UTF-8"},
		// Only the second query needs the age column.
		{"users older than 40", []string{
			`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`,
			`INSERT INTO users VALUES (1, 'Ann')`,
		}, "fetch users older than 40: no such column: age"},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := runLesson(t, newUsersDB(t, tt.setup...))
			if err == nil {
				t.Fatalf("run succeeded and printed:\n%s\nwant the error of the fetch of %s", stdout, tt.name)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want one containing %q", err, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

func TestRunStopsOnACanceledContext(t *testing.T) {
	t.Chdir(t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout bytes.Buffer
	err := run(ctx, newUsersDB(t, guideUsers...), &stdout, io.Discard)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
}

// When run returns, it has closed the database file: no file descriptor of
// the process still points at it, on success or on failure.
func TestRunLeavesNothingOpen(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("needs Linux's /proc/self/fd to list open files")
	}
	for name, setup := range map[string][]string{
		"success":      guideUsers,
		"a scan error": {`CREATE TABLE users (name TEXT, age INTEGER)`, `INSERT INTO users VALUES (CAST(X'FF' AS TEXT), 50)`},
	} {
		t.Run(name, func(t *testing.T) {
			path := newUsersDB(t, setup...)
			runLesson(t, path)
			if open := openFilesUnder(t, filepath.Dir(path)); len(open) > 0 {
				t.Errorf("after run, the process still has %q open", open)
			}
		})
	}
}

// A writer holds the database for a moment while the lesson starts: the
// lesson's connections wait for it (the busy timeout) instead of failing
// with "database is locked".
func TestRunWaitsForAWriterToFinish(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	writer := openLikeTheLesson(t, path)
	conn, err := writer.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	release := time.AfterFunc(300*time.Millisecond, func() {
		conn.ExecContext(context.Background(), "ROLLBACK")
	})
	defer release.Stop()
	stdout, _, err := runLesson(t, path)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if !strings.HasPrefix(stdout, "All users:\n(1, ") {
		t.Errorf("stdout = %q, want the users", stdout)
	}
}

// The two fetches are in progress at the same time. A writer locks the
// database, so that every query waits; the test then waits until the pool
// lends two connections at once, which happens only when both fetches have
// started, and lets them go.
func TestFetchesRunAtTheSameTime(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	db := openLikeTheLesson(t, path)
	locker := openLikeTheLesson(t, path)
	conn, err := locker.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}

	type result struct {
		all, older []pyRow
		err        error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		all, older, err := fetchConcurrently(ctx, db, discard())
		done <- result{all, older, err}
	}()

	// The busy timeout (5 s) is longer than this wait, so a fetch that
	// runs alone is still waiting for the lock when it ends.
	both := waitUntilInUse(db, 2, 3*time.Second)
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if !both {
		t.Errorf("the two fetches never ran at the same time: at most one connection was in use")
	}
	if r.err != nil {
		t.Fatalf("fetchConcurrently: %v", r.err)
	}
	if len(r.all) != 3 || len(r.older) != 1 {
		t.Errorf("fetchConcurrently returned %d and %d users, want 3 and 1", len(r.all), len(r.older))
	}
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connections still in use after fetchConcurrently returned, want 0", inUse)
	}
}

// When one fetch fails, the other is canceled at once instead of running to
// its end. The failing fetch is the first one, whose first row has a name
// that is not UTF-8; the other reads a view of endless rows, none older
// than 40, which only a cancel can stop.
func TestAFailingFetchCancelsTheOther(t *testing.T) {
	db := openLikeTheLesson(t, newUsersDB(t,
		`CREATE VIEW users AS
			WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
			SELECT i AS id, CASE WHEN i = 1 THEN CAST(X'FF' AS TEXT) ELSE 'user' END AS name, i % 40 AS age FROM n`))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	all, older, err := fetchConcurrently(ctx, db, discard())
	if ctx.Err() != nil {
		t.Errorf("the other fetch ran on until the test's deadline: nothing canceled it")
	}
	if err == nil || !strings.Contains(err.Error(), "fetch all users: column name holds text that is not UTF-8") {
		t.Errorf("error = %v, want the failing fetch's own error", err)
	}
	if all != nil || older != nil {
		t.Errorf("results %v and %v came back with the error", all, older)
	}
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connections still in use, want 0", inUse)
	}
}

// A caller's cancel that arrives after both fetches succeeded throws
// nothing away: the results are complete.
func TestACancelAfterBothFetchesKeepsTheResults(t *testing.T) {
	db := openLikeTheLesson(t, newUsersDB(t, guideUsers...))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Each fetch logs once it has all its rows; the second log cancels.
	logger := slog.New(&cancelOnLog{after: 2, cancel: cancel})
	all, older, err := fetchConcurrently(ctx, db, logger)
	if err != nil {
		t.Fatalf("fetchConcurrently: %v, want both results", err)
	}
	if len(all) != 3 || len(older) != 1 {
		t.Errorf("got %d and %d users, want 3 and 1", len(all), len(older))
	}
}

// A failed Scan still gives the connection back to the pool.
func TestAFailedScanReleasesTheConnection(t *testing.T) {
	db := openLikeTheLesson(t, newUsersDB(t,
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)`,
		`INSERT INTO users VALUES (1, 'Ann', 30), (2, CAST(X'FF' AS TEXT), 45)`))
	if _, err := asyncFetchUsers(context.Background(), db, discard()); err == nil {
		t.Fatal("asyncFetchUsers succeeded on a name that is not UTF-8")
	}
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connection still in use after a failed scan: the rows were never closed", inUse)
	}
}

// An error that SQLite meets on the second row, after the first was read,
// is an error of the fetch, not the end of the rows. Here it is an
// integer overflow computed for row 2.
func TestAnErrorAfterTheFirstRowFailsTheFetch(t *testing.T) {
	db := openLikeTheLesson(t, newUsersDB(t,
		`CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)`,
		`INSERT INTO people VALUES (1, 'Ann', 30), (2, 'Bob', 45), (3, 'Cy', 50)`,
		`CREATE VIEW users AS SELECT id, name, CASE WHEN id = 2 THEN abs(1 - 9223372036854775807 - id) ELSE age END AS age FROM people`))
	users, err := asyncFetchUsers(context.Background(), db, discard())
	if err == nil || !strings.Contains(err.Error(), "integer overflow") {
		t.Errorf("asyncFetchUsers returned %d row(s) and error %v: an error after the first row was taken for the end of the rows", len(users), err)
	}
}

func TestAsyncFetchOlderUsersBindsTheAge(t *testing.T) {
	db := openLikeTheLesson(t, newUsersDB(t, guideUsers...))
	for age, want := range map[int]int{24: 3, 29: 2, 44: 1, 45: 0} {
		users, err := asyncFetchOlderUsers(context.Background(), db, discard(), age)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != want {
			t.Errorf("older than %d: %d users, want %d", age, len(users), want)
		}
	}
}

// cancelOnLog is a slog.Handler that calls cancel at its after'th record.
type cancelOnLog struct {
	n      atomic.Int32
	after  int32
	cancel func()
}

func (h *cancelOnLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *cancelOnLog) Handle(context.Context, slog.Record) error {
	if h.n.Add(1) == h.after {
		h.cancel()
	}
	return nil
}
func (h *cancelOnLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *cancelOnLog) WithGroup(string) slog.Handler      { return h }

// openLikeTheLesson opens path as run does. When the test ends, it closes
// the pool and checks that nothing was left open.
func openLikeTheLesson(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		assertNothingOpen(t, db)
	})
	return db
}

// waitUntilInUse waits until n connections of db are lent out at once, and
// says whether that happened within limit.
func waitUntilInUse(db *sql.DB, n int, limit time.Duration) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if db.Stats().InUse >= n {
			return true
		}
	}
	return false
}

// openFilesUnder lists the files under dir that the process has open.
func openFilesUnder(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var open []string
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err == nil && strings.HasPrefix(target, dir+string(filepath.Separator)) {
			open = append(open, target)
		}
	}
	return open
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// copyInto copies the database file src into dir as users.db.
func copyInto(t *testing.T, dir, src string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "users.db")
	writeFile(t, path, data)
	return path
}

// listFolder lists the names and sizes of the files in dir.
func listFolder(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var list []string
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		list = append(list, fmt.Sprintf("%s %d %v", e.Name(), info.Size(), info.ModTime()))
	}
	return list
}

// The page shows the log lines that run writes, timestamps aside.
func TestPageShowsTheLogLines(t *testing.T) {
	text := page(t)
	_, stderr, err := runLesson(t, newUsersDB(t, guideUsers...))
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if m := logLine.FindStringSubmatch(line); m != nil {
			shown[m[1]+" - "+m[2]] = true
		}
	}
	for _, msg := range logMessages(t, stderr) {
		if !shown[msg] {
			t.Errorf("README.md shows no log line %q", msg)
		}
	}
}

// pageCitations are the lines of main.go that README.md cites by number:
// none, for the page quotes its lines instead.
var pageCitations []citation
