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

// The race detector, a locked database, invalid queries and the :memory:
// trap. stdout is the same with and without -race; the log says which.
func Example() {
	// TestMain ran 00-setup in this scratch folder, so users.db is the
	// guide's database. The log lines go to stderr, discarded here.
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// == The race detector ==
	// Build with -race: go run -race ./extras/debugging, go test -race ./extras/debugging
	// It reports two goroutines that touch the same variable without synchronization,
	// at least one of them writing, with the stack of each. It sees only the races that
	// happen while it runs, so run the tests that start goroutines with it.
	// == A database locked by another connection ==
	// A: BEGIN IMMEDIATE took the write lock; A inserted a row and has not committed
	// B (_busy_timeout=100): INSERT failed after waiting: database is locked
	//   errors.As finds a sqlite3.Error: true; Code 5 (database is locked); Code == sqlite3.ErrBusy: true
	// A: COMMIT released the lock
	// B: the retry succeeded; notes has 2 rows
	// == Invalid queries ==
	// SELECT id, nme FROM users: no such column: nme
	//   errors.As finds a sqlite3.Error: true; Code 1 (SQL logic error); Code == sqlite3.ErrError: true
	// SELECT id, name FROM user: no such table: user
	//   errors.As finds a sqlite3.Error: true; Code 1 (SQL logic error); Code == sqlite3.ErrError: true
	// The same connection still works: SELECT COUNT(*) FROM users = 3
	// == The :memory: trap ==
	// ":memory:": table created on connection 1; on connection 2: no such table: notes
	//   Every new connection to ":memory:" opens a new, empty database of its own.
	// Fix 1, "file:/debugdemo?vfs=memdb": connection 2 counts 1 row
	//   SQLite's memdb VFS: a name that begins with "/" is shared by the whole process.
	// Fix 2, "file:debugdemo?mode=memory&cache=shared": connection 2 counts 1 row
	//   Shared cache works too, but SQLite's documentation discourages any use of it.
	// Fix 3, ":memory:" with db.SetMaxOpenConns(1): each of 10 goroutines at once counts 1 row; OpenConnections=1
	//   But when a transaction's context ends before Commit, the pool closes the connection: no such table: notes
}

// logLine matches one line of the guide's log format.
var logLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - (INFO|ERROR) - (.*)$`)

func TestRunLogsToStderrAndFileAndLeavesNoTrace(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())
	// The lock demonstration's temporary folder goes here, so that the test
	// can see it removed.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), path, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^Opened connection to ` + regexp.QuoteMeta(path) + `$`),
		regexp.MustCompile(fmt.Sprintf(`^This binary was built with the race detector: %t$`, raceBuild)),
		regexp.MustCompile(`^Lock demonstration database: ` + regexp.QuoteMeta(tmp) + `/debugging-lock-\d+/lock\.db$`),
		regexp.MustCompile(`^B waited \d+ms for the lock, then: database is locked$`),
		regexp.MustCompile(`^SELECT id, nme FROM users: no such column: nme$`),
		regexp.MustCompile(`^SELECT id, name FROM user: no such table: user$`),
		regexp.MustCompile(`^:memory: on a second connection: 0 rows, error no such table: notes$`),
	}
	assertLog(t, "stderr", stderr.String(), want)
	file, err := os.ReadFile("debugging.log")
	if err != nil {
		t.Fatal(err)
	}
	assertLog(t, "debugging.log", string(file), want)

	// A second run prints the same, appends to the log file, and neither
	// run changes users.db or leaves a temporary folder behind.
	var again bytes.Buffer
	if err := run(context.Background(), path, &again, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if again.String() != stdout.String() {
		t.Errorf("second run printed\n%s\nwant the first run's\n%s", again.String(), stdout.String())
	}
	file, err = os.ReadFile("debugging.log")
	if err != nil {
		t.Fatal(err)
	}
	assertLog(t, "debugging.log after two runs", string(file), append(want, want...))
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(after, before) {
		t.Error("users.db changed")
	}
	assertDirEntries(t, tmp, nil)
}

func TestBuiltWithRaceMatchesTheBuild(t *testing.T) {
	if got := builtWithRace(); got != raceBuild {
		t.Errorf("builtWithRace() = %t, want %t", got, raceBuild)
	}
}

func TestLockedDatabaseIsBusyUntilTheCommit(t *testing.T) {
	ctx := context.Background()
	fileURI := "file:" + (&url.URL{Path: filepath.Join(t.TempDir(), "lock.db")}).EscapedPath()
	a := openTestDB(t, fileURI+"?mode=rwc&_busy_timeout=5000&_txlock=immediate")
	b := openTestDB(t, fmt.Sprintf("%s?mode=rw&_busy_timeout=%d", fileURI, lockWait.Milliseconds()))
	if _, err := a.ExecContext(ctx, "CREATE TABLE notes (id INTEGER PRIMARY KEY, author TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}

	tx, err := a.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "INSERT INTO notes (author) VALUES (?)", "A"); err != nil {
		t.Fatal(err)
	}

	t.Run("B's write is busy", func(t *testing.T) {
		start := time.Now()
		_, err := b.ExecContext(ctx, "INSERT INTO notes (author) VALUES (?)", "B")
		elapsed := time.Since(start)
		var sqliteErr sqlite3.Error
		if !errors.As(err, &sqliteErr) || sqliteErr.Code != sqlite3.ErrBusy {
			t.Fatalf("error = %v, want a sqlite3.Error with Code ErrBusy", err)
		}
		if code, ok := sqliteCode(err); !ok || code != sqlite3.ErrBusy {
			t.Errorf("sqliteCode = %v, %t, want ErrBusy, true", code, ok)
		}
		// SQLite's busy handler sleeps until _busy_timeout is used up.
		if elapsed < lockWait {
			t.Errorf("B gave up after %v, before its _busy_timeout of %v", elapsed, lockWait)
		}
	})
	t.Run("B can still read the committed rows", func(t *testing.T) {
		assertCount(t, b, "SELECT COUNT(*) FROM notes", 0)
	})

	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	t.Run("B's retry after the commit succeeds", func(t *testing.T) {
		if _, err := b.ExecContext(ctx, "INSERT INTO notes (author) VALUES (?)", "B"); err != nil {
			t.Fatalf("retry: %v", err)
		}
		assertCount(t, b, "SELECT COUNT(*) FROM notes", 2)
	})
	assertNoneInUse(t, a)
	assertNoneInUse(t, b)
}

func TestWriteWhileLockedPrintsTheBusyError(t *testing.T) {
	var stdout bytes.Buffer
	if err := showLockedDatabase(context.Background(), &stdout, newTestLogger(io.Discard)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"INSERT failed after waiting: database is locked\n",
		"Code 5 (database is locked); Code == sqlite3.ErrBusy: true\n",
		"B: the retry succeeded; notes has 2 rows\n",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout does not contain %q:\n%s", want, stdout.String())
		}
	}
}

func TestInvalidQueriesFailWithErrErrorAndTheConnectionStillWorks(t *testing.T) {
	ctx := context.Background()
	db, err := openDatabase(ctx, newDatabase(t), newTestLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assertClosed(t, db) })

	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ query, message string }{
		{"SELECT id, nme FROM users", "no such column: nme"},
		{"SELECT id, name FROM user", "no such table: user"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			var id int64
			var name string
			err := conn.QueryRowContext(ctx, tc.query).Scan(&id, &name)
			var sqliteErr sqlite3.Error
			if !errors.As(err, &sqliteErr) || sqliteErr.Code != sqlite3.ErrError {
				t.Fatalf("error = %v, want a sqlite3.Error with Code ErrError", err)
			}
			if err.Error() != tc.message {
				t.Errorf("error = %q, want %q", err, tc.message)
			}
			// The next query on the same connection works.
			assertCount(t, conn, "SELECT COUNT(*) FROM users", 3)
		})
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoneInUse(t, db)

	var stdout bytes.Buffer
	if err := showInvalidQueries(ctx, db, &stdout, newTestLogger(io.Discard)); err != nil {
		t.Fatal(err)
	}
	if want := "The same connection still works: SELECT COUNT(*) FROM users = 3\n"; !strings.HasSuffix(stdout.String(), want) {
		t.Errorf("stdout = %q, want it to end %q", stdout.String(), want)
	}
	assertNoneInUse(t, db)
}

func TestMemoryDatabaseIsLostOnASecondConnection(t *testing.T) {
	ctx := context.Background()
	t.Run("a connection held while the pool queries", func(t *testing.T) {
		db := openTestDB(t, ":memory:")
		_, err := countOnSecondConnection(ctx, db)
		assertNoSuchTable(t, err)
		if open := db.Stats().OpenConnections; open != 2 {
			t.Errorf("OpenConnections = %d, want 2", open)
		}
		assertNoneInUse(t, db)
	})
	t.Run("one query after another with no idle connection kept", func(t *testing.T) {
		db := openTestDB(t, ":memory:")
		db.SetMaxIdleConns(0)
		if _, err := db.ExecContext(ctx, "CREATE TABLE notes (text TEXT NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		// The connection that made the table was closed when the
		// statement ended, and the database with it.
		var n int
		err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM notes").Scan(&n)
		assertNoSuchTable(t, err)
		if s := db.Stats(); s.OpenConnections != 0 || s.MaxIdleClosed != 2 {
			t.Errorf("OpenConnections=%d MaxIdleClosed=%d, want 0 and 2", s.OpenConnections, s.MaxIdleClosed)
		}
		assertNoneInUse(t, db)
	})
	t.Run("one query after another on the idle connection keeps it", func(t *testing.T) {
		// The trap does not show here: the second statement reuses the
		// first one's connection. That is why it surprises people later.
		db := openTestDB(t, ":memory:")
		if err := createNotes(ctx, db); err != nil {
			t.Fatal(err)
		}
		assertCount(t, db, "SELECT COUNT(*) FROM notes", 1)
		assertNoneInUse(t, db)
	})
}

func TestSharedInMemoryDatabasesKeepTheTableOnASecondConnection(t *testing.T) {
	ctx := context.Background()
	for _, dsn := range []string{memdbDSN, sharedMemoryDSN} {
		// Twice: closing the pool frees the shared database, so the
		// second time starts empty and CREATE TABLE works again.
		for i := range 2 {
			t.Run(fmt.Sprintf("%s pool %d", dsn, i+1), func(t *testing.T) {
				db := openTestDB(t, dsn)
				n, err := countOnSecondConnection(ctx, db)
				if err != nil || n != 1 {
					t.Fatalf("count = %d, %v, want 1 row", n, err)
				}
				if open := db.Stats().OpenConnections; open != 2 {
					t.Errorf("OpenConnections = %d, want 2: the count did not use a second connection", open)
				}
				assertNoneInUse(t, db)
				assertClosed(t, db)
			})
		}
	}
}

func TestSharedInMemoryDatabasesLockDifferently(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		dsn  string
		want sqlite3.ErrNo
		// wait is whether the second connection waited for its
		// _busy_timeout before it failed.
		wait bool
	}{
		{memdbDSN, sqlite3.ErrBusy, true},
		{sharedMemoryDSN, sqlite3.ErrLocked, false},
	} {
		t.Run(tc.dsn, func(t *testing.T) {
			db := openTestDB(t, fmt.Sprintf("%s&_busy_timeout=%d", tc.dsn, lockWait.Milliseconds()))
			if err := createNotes(ctx, db); err != nil {
				t.Fatal(err)
			}
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, "INSERT INTO notes (text) VALUES (?)", "uncommitted"); err != nil {
				t.Fatal(err)
			}
			// The pool runs these on a second connection, since the
			// transaction holds the first.
			for _, query := range []string{"INSERT INTO notes (text) VALUES ('second')", "SELECT COUNT(*) FROM notes"} {
				start := time.Now()
				_, err := db.ExecContext(ctx, query)
				elapsed := time.Since(start)
				if code, ok := sqliteCode(err); !ok || code != tc.want {
					t.Errorf("%s: error = %v, want Code %d", query, err, tc.want)
				}
				if waited := elapsed >= lockWait; waited != tc.wait {
					t.Errorf("%s failed after %v; waited for the %v busy timeout: %t, want %t", query, elapsed, lockWait, waited, tc.wait)
				}
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			assertCount(t, db, "SELECT COUNT(*) FROM notes", 1)
			assertNoneInUse(t, db)
		})
	}
}

func TestOneConnectionPoolKeepsTheTable(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t, ":memory:")
	db.SetMaxOpenConns(1)
	if err := createNotes(ctx, db); err != nil {
		t.Fatal(err)
	}
	counts, err := countFromGoroutines(ctx, db, memoryQueries)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range counts {
		if n != 1 {
			t.Errorf("goroutine %d counted %d rows, want 1", i, n)
		}
	}
	if s := db.Stats(); s.OpenConnections != 1 {
		t.Errorf("OpenConnections = %d, want 1", s.OpenConnections)
	}
	assertNoneInUse(t, db)
}

func TestOneConnectionPoolLosesTheTableWithACanceledTransaction(t *testing.T) {
	ctx := context.Background()
	t.Run("canceled before Commit", func(t *testing.T) {
		db := openTestDB(t, ":memory:")
		db.SetMaxOpenConns(1)
		if err := createNotes(ctx, db); err != nil {
			t.Fatal(err)
		}
		_, err := countAfterCanceledTransaction(ctx, db)
		assertNoSuchTable(t, err)
		// The count ran on a new connection: the pool closed the one
		// that held the database, and not because it was idle.
		if s := db.Stats(); s.OpenConnections != 1 || s.MaxIdleClosed != 0 {
			t.Errorf("OpenConnections=%d MaxIdleClosed=%d, want 1 and 0", s.OpenConnections, s.MaxIdleClosed)
		}
		assertNoneInUse(t, db)
	})
	t.Run("Rollback before the cancel keeps it", func(t *testing.T) {
		db := openTestDB(t, ":memory:")
		db.SetMaxOpenConns(1)
		if err := createNotes(ctx, db); err != nil {
			t.Fatal(err)
		}
		txCtx, cancel := context.WithCancel(ctx)
		tx, err := db.BeginTx(txCtx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(txCtx, "INSERT INTO notes (text) VALUES (?)", "rolled back"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		cancel()
		assertCount(t, db, "SELECT COUNT(*) FROM notes", 1)
		assertNoneInUse(t, db)
	})
	t.Run("showCanceledTransaction prints the error", func(t *testing.T) {
		var stdout bytes.Buffer
		if err := showCanceledTransaction(ctx, &stdout); err != nil {
			t.Fatal(err)
		}
		if want := "  But when a transaction's context ends before Commit, the pool closes the connection: no such table: notes\n"; stdout.String() != want {
			t.Errorf("stdout = %q, want %q", stdout.String(), want)
		}
	})
}

func TestMissingDatabaseFailsBeforePrintingAnything(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(t.TempDir())
	path := filepath.Join(dir, "missing.db")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), path, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "go run ./00-setup -db "+path) {
		t.Fatalf("run error = %v, want one telling to run 00-setup", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
	if !strings.Contains(stderr.String(), " - ERROR - Connection error: ") {
		t.Errorf("stderr = %q, want an ERROR line", stderr.String())
	}
	assertDirEntries(t, dir, nil)
}

// openTestDB opens dsn and closes it at the end of the test, checking that
// nothing is left open.
func openTestDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assertClosed(t, db) })
	return db
}

// querier is what *sql.DB and *sql.Conn have in common for one row.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// assertCount checks that query, a SELECT COUNT(*), returns want.
func assertCount(t *testing.T, db querier, query string, want int) {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	if n != want {
		t.Errorf("%s = %d, want %d", query, n, want)
	}
}

// assertNoSuchTable checks that err is SQLite's SQL error for the missing
// table notes.
func assertNoSuchTable(t *testing.T, err error) {
	t.Helper()
	code, ok := sqliteCode(err)
	if !ok || code != sqlite3.ErrError || err.Error() != "no such table: notes" {
		t.Errorf("error = %v, want no such table: notes with Code ErrError", err)
	}
}

// assertNoneInUse checks that every connection went back to the pool.
func assertNoneInUse(t *testing.T, db *sql.DB) {
	t.Helper()
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connections in use, want 0", inUse)
	}
}

// assertClosed closes db and checks that it holds nothing.
func assertClosed(t *testing.T, db *sql.DB) {
	t.Helper()
	if err := db.Close(); err != nil {
		t.Error(err)
	}
	if s := db.Stats(); s.OpenConnections != 0 || s.InUse != 0 {
		t.Errorf("after Close: %d open, %d in use, want 0 and 0", s.OpenConnections, s.InUse)
	}
}

// assertLog checks that log holds exactly the wanted lines, in order, each in
// the guide's format; want matches each line's message after the level.
func assertLog(t *testing.T, name, log string, want []*regexp.Regexp) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%s has %d lines, want %d:\n%s", name, len(lines), len(want), log)
	}
	for i, line := range lines {
		m := logLine.FindStringSubmatch(line)
		if m == nil || m[1] != "INFO" {
			t.Errorf("%s line %d = %q, not an INFO line in the guide's format", name, i+1, line)
			continue
		}
		if !want[i].MatchString(m[2]) {
			t.Errorf("%s line %d = %q, want it to match %q", name, i+1, m[2], want[i])
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
