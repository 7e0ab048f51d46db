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
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The lesson's stdout: the rows in the order of the queries, whichever
// goroutine finished first, then the canceled context.
func Example() {
	// TestMain ran 00-setup in this scratch folder, so users.db is the
	// guide's database. The log lines go to stderr, discarded here.
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
	//
	// Users younger than 30:
	// (3, 'Charlie Brown', 'charlie.brown@example.com', 25)
	//
	// A canceled context:
	// db.Conn: context canceled
	// conn.QueryContext: context canceled
}

// logLine matches one line of the guide's log format.
var logLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - (INFO|ERROR) - (.*)$`)

func TestEachGoroutineHasItsOwnConnection(t *testing.T) {
	const n = 4
	db := openTestDatabase(t)
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Every goroutine puts its number in a TEMP table, which belongs to one
	// connection: two goroutines sharing a connection would collide on the
	// table's name. Then each waits until all n hold their connection at
	// the same time, a barrier the last one to arrive opens.
	var during sql.DBStats
	all := newBarrier(n, func() { during = db.Stats() })
	err := concurrently(ctx, db, n, func(ctx context.Context, conn *sql.Conn, i int) error {
		if _, err := conn.ExecContext(ctx, "CREATE TEMP TABLE owner AS SELECT ? AS i", i); err != nil {
			return fmt.Errorf("goroutine %d: %w", i, err)
		}
		if err := all.wait(ctx); err != nil {
			return fmt.Errorf("goroutine %d: %w", i, err)
		}
		var owner int
		if err := conn.QueryRowContext(ctx, "SELECT i FROM owner").Scan(&owner); err != nil {
			return fmt.Errorf("goroutine %d: %w", i, err)
		}
		if owner != i {
			return fmt.Errorf("goroutine %d reads the TEMP table of goroutine %d", i, owner)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("concurrently: %v", err)
	}

	t.Run("all held a connection at once", func(t *testing.T) {
		if during.InUse != n || during.OpenConnections != n {
			t.Errorf("at the barrier: %d in use, %d open, want %d and %d", during.InUse, during.OpenConnections, n, n)
		}
	})
	t.Run("Close gave every connection back to the pool", func(t *testing.T) {
		stats := db.Stats()
		if stats.InUse != 0 || stats.Idle != n || stats.OpenConnections != n {
			t.Errorf("after: %d in use, %d idle, %d open, want 0, %d, %d", stats.InUse, stats.Idle, stats.OpenConnections, n, n)
		}
	})
	t.Run("the connections came back alive, TEMP tables and all", func(t *testing.T) {
		// Holding all n connections at once again finds each goroutine's
		// TEMP table: Close returned the connections, it did not close
		// them.
		var mu sync.Mutex
		var owners []int
		all := newBarrier(n, func() {})
		err := concurrently(ctx, db, n, func(ctx context.Context, conn *sql.Conn, i int) error {
			if err := all.wait(ctx); err != nil {
				return err
			}
			var owner int
			if err := conn.QueryRowContext(ctx, "SELECT i FROM owner").Scan(&owner); err != nil {
				return err
			}
			mu.Lock()
			owners = append(owners, owner)
			mu.Unlock()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(owners)
		if want := []int{0, 1, 2, 3}; !slices.Equal(owners, want) {
			t.Errorf("owners = %v, want %v", owners, want)
		}
		assertNoneInUse(t, db)
	})
}

func TestConnectionStateOutlivesConnClose(t *testing.T) {
	ctx := context.Background()
	// One connection, so that the next borrower gets the same one.
	db := openTestDatabase(t)
	db.SetMaxOpenConns(1)
	assertForeignKeys(t, db, 0)

	// set turns foreign keys on and makes a TEMP table on a connection of
	// its own, then gives the connection back; undo first undoes both.
	set := func(undo bool) {
		t.Helper()
		conn, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close() // for t.Fatal; a no-op after the Close below
		for _, stmt := range []string{"PRAGMA foreign_keys = ON", "CREATE TEMP TABLE scratch (i INTEGER)"} {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		if undo {
			for _, stmt := range []string{"DROP TABLE temp.scratch", "PRAGMA foreign_keys = OFF"} {
				if _, err := conn.ExecContext(ctx, stmt); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := conn.Close(); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("the next borrower inherits it", func(t *testing.T) {
		set(false)
		assertForeignKeys(t, db, 1)
		assertTempTables(t, db, 1)
		// Clean up for the next subtest, as the lesson advises.
		if _, err := db.ExecContext(ctx, "DROP TABLE temp.scratch"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("undone before Close, it is gone", func(t *testing.T) {
		set(true)
		assertForeignKeys(t, db, 0)
		assertTempTables(t, db, 0)
	})
	t.Run("a setting in the DSN is on every connection", func(t *testing.T) {
		path := newDatabase(t)
		withFK, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=rw&_busy_timeout=5000&_foreign_keys=1")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := withFK.Close(); err != nil {
				t.Error(err)
			}
			if open := withFK.Stats().OpenConnections; open != 0 {
				t.Errorf("after close: %d open, want 0", open)
			}
		})
		// Two connections held at once: both have it.
		var conns []*sql.Conn
		for range 2 {
			conn, err := withFK.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close() // for t.Fatal; a no-op after the Close below
			conns = append(conns, conn)
		}
		for i, conn := range conns {
			var on int
			if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
				t.Fatal(err)
			}
			if on != 1 {
				t.Errorf("connection %d: foreign_keys = %d, want 1", i+1, on)
			}
		}
		if open := withFK.Stats().OpenConnections; open != 2 {
			t.Errorf("OpenConnections = %d, want 2", open)
		}
		for _, conn := range conns {
			if err := conn.Close(); err != nil {
				t.Fatal(err)
			}
		}
		assertNoneInUse(t, withFK)
	})
	assertNoneInUse(t, db)
}

// assertForeignKeys checks the foreign_keys setting of the connection the
// pool lends next.
func assertForeignKeys(t *testing.T, db *sql.DB, want int) {
	t.Helper()
	var on int
	if err := db.QueryRowContext(context.Background(), "PRAGMA foreign_keys").Scan(&on); err != nil {
		t.Fatal(err)
	}
	if on != want {
		t.Errorf("foreign_keys = %d, want %d", on, want)
	}
}

// assertTempTables checks how many TEMP tables the connection the pool
// lends next has.
func assertTempTables(t *testing.T, db *sql.DB, want int) {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM temp.sqlite_schema WHERE type = 'table'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Errorf("TEMP tables = %d, want %d", n, want)
	}
}

func TestFetchConcurrentlyKeepsTheOrderOfTheQueries(t *testing.T) {
	db := openTestDatabase(t)
	var stderr bytes.Buffer
	results, err := fetchConcurrently(context.Background(), db, queries, newTestLogger(&stderr))
	if err != nil {
		t.Fatal(err)
	}
	alice := User{1, "Alice Smith", "alice.smith@example.com", 30}
	bob := User{2, "Bob Johnson", "bob.johnson@example.com", 45}
	charlie := User{3, "Charlie Brown", "charlie.brown@example.com", 25}
	want := [][]User{{alice, bob, charlie}, {bob}, {charlie}}
	if len(results) != len(want) {
		t.Fatalf("got %d results, want %d", len(results), len(want))
	}
	for i := range want {
		if !slices.Equal(results[i], want[i]) {
			t.Errorf("%s got %v, want %v", queries[i].heading, results[i], want[i])
		}
	}
	assertLogLines(t, "stderr", stderr.String(), []string{
		"INFO - Fetched all users",
		"INFO - Fetched users older than 40",
		"INFO - Fetched users younger than 30",
	})
	assertNoneInUse(t, db)
}

func TestAFailingGoroutineReturnsItsErrorAndItsConnection(t *testing.T) {
	db := openTestDatabase(t)
	qs := []userQuery{
		queries[0],
		{"Orders:", "Fetched orders", "SELECT id, name, email, age FROM missing_table", nil},
	}
	results, err := fetchConcurrently(context.Background(), db, qs, newTestLogger(io.Discard))
	if err == nil || !strings.Contains(err.Error(), "Orders: no such table: missing_table") {
		t.Fatalf("error = %v, want the failing query's", err)
	}
	if len(results[0]) != 3 {
		t.Errorf("the other goroutine read %d users, want 3", len(results[0]))
	}
	assertNoneInUse(t, db)
}

func TestACanceledContextStopsTheWork(t *testing.T) {
	db := openTestDatabase(t)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	t.Run("db.Conn", func(t *testing.T) {
		conn, err := db.Conn(canceled)
		if err == nil {
			conn.Close()
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("db.Conn error = %v, want context.Canceled", err)
		}
		assertNoneInUse(t, db)
	})
	t.Run("a query on a connection taken before", func(t *testing.T) {
		conn, err := db.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		users, err := fetchUsers(canceled, conn, queries[0])
		if !errors.Is(err, context.Canceled) {
			t.Errorf("query error = %v, want context.Canceled", err)
		}
		if len(users) != 0 {
			t.Errorf("the query read %d users", len(users))
		}
		if err := conn.Close(); err != nil {
			t.Fatal(err)
		}
		assertNoneInUse(t, db)
	})
	t.Run("concurrently runs no job", func(t *testing.T) {
		var mu sync.Mutex
		ran := 0
		err := concurrently(canceled, db, 3, func(context.Context, *sql.Conn, int) error {
			mu.Lock()
			ran++
			mu.Unlock()
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
		if ran != 0 {
			t.Errorf("%d jobs ran, want 0", ran)
		}
		assertNoneInUse(t, db)
	})
}

func TestRunLogsToStderrAndFile(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())

	var stderr bytes.Buffer
	if err := run(context.Background(), path, io.Discard, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	assertRunLog(t, "stderr", stderr.String(), path)
	file, err := os.ReadFile("async.log")
	if err != nil {
		t.Fatal(err)
	}
	assertRunLog(t, "async.log", string(file), path)

	// A second run succeeds too and appends to the log file.
	if err := run(context.Background(), path, io.Discard, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	file, err = os.ReadFile("async.log")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(file), "\n")
	if len(lines) != 13 || lines[12] != "" {
		t.Fatalf("async.log after two runs has %d lines, want 12:\n%s", len(lines)-1, file)
	}
	assertRunLog(t, "async.log, first run", strings.Join(lines[:6], ""), path)
	assertRunLog(t, "async.log, second run", strings.Join(lines[6:], ""), path)
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
	if !strings.Contains(stdout.String(), "Users older than 40:\n(2, ") {
		t.Errorf("stdout = %q, want the rows", stdout.String())
	}
}

// poolLine is the log line with the pool's figures, which vary but always
// show no connection in use once every goroutine has finished.
var poolLine = regexp.MustCompile(`^INFO - Pool after the goroutines: [0-3] open, [0-3] idle, 0 in use$`)

// assertRunLog checks one run's log: opened first, the three fetches in any
// order, the pool's figures, closed last.
func assertRunLog(t *testing.T, name, log, path string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	if len(lines) != 6 {
		t.Fatalf("%s has %d lines, want 6:\n%s", name, len(lines), log)
	}
	assertLogLines(t, name, strings.Join(lines[:1], "\n"), []string{"INFO - Opened connection to " + path})
	assertLogLines(t, name, strings.Join(lines[1:4], "\n"), []string{
		"INFO - Fetched all users",
		"INFO - Fetched users older than 40",
		"INFO - Fetched users younger than 30",
	})
	if m := logLine.FindStringSubmatch(lines[4]); m == nil || !poolLine.MatchString(m[1]+" - "+m[2]) {
		t.Errorf("%s line 5 = %q, want the pool's figures with 0 in use", name, lines[4])
	}
	assertLogLines(t, name, lines[5], []string{"INFO - Closed connection to " + path})
}

// assertLogLines checks that log holds exactly the wanted lines, each in the
// guide's format, in any order: goroutines log in the order they finish.
// want gives each line's text after the timestamp.
func assertLogLines(t *testing.T, name, log string, want []string) {
	t.Helper()
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		m := logLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("%s line %q is not in the guide's format", name, line)
			continue
		}
		got = append(got, m[1]+" - "+m[2])
	}
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("%s holds %q, want %q in any order", name, got, want)
	}
}

// barrier makes n goroutines wait until all of them have arrived. The last
// to arrive runs atAll, then lets them all go on.
type barrier struct {
	mu      sync.Mutex
	waiting int
	atAll   func()
	open    chan struct{}
}

func newBarrier(n int, atAll func()) *barrier {
	return &barrier{waiting: n, atAll: atAll, open: make(chan struct{})}
}

// wait returns when all have arrived, or with ctx's error if ctx ends first.
func (b *barrier) wait(ctx context.Context) error {
	b.mu.Lock()
	b.waiting--
	if b.waiting == 0 {
		b.atAll()
		close(b.open)
	}
	b.mu.Unlock()
	select {
	case <-b.open:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waited for the others: %w", ctx.Err())
	}
}

// assertNoneInUse checks that every connection taken from the pool went
// back to it.
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
