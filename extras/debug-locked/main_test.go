//go:build cgo

package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

// TestMain runs the tests in a new folder holding the guide's users.db, as
// a learner's folder would, so that the log file lands there and not in
// the source tree.
func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

// guideOutput is what the lesson prints on the guide's users.db, as the
// page shows it.
const guideOutput = `A: BEGIN IMMEDIATE holds the write lock of users.db
B (_busy_timeout=500): database is locked; errors.As finds Code sqlite3.ErrBusy: true
B with a 100ms deadline: database is locked, after the whole 500 ms all the same
A: ROLLBACK let the lock go
B: took the write lock at once and let it go; nothing was written
`

// pageLog is what the page shows the lesson writes on stderr; the time B
// waited varies from run to run, as bWaited allows.
const pageLog = `Opened connections A and B to users.db
B waited 501ms, then: database is locked`

var bWaited = regexp.MustCompile(`^B waited [0-9.]+m?s, then: database is locked$`)

func TestPageShowsTheOutput(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	t.Chdir(filepath.Dir(path))
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), "users.db", &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if stdout.String() != guideOutput {
		t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), guideOutput)
	}
	workbooktest.AssertPageShows(t, strings.TrimSuffix(guideOutput, "\n"))

	// stderr has the bare messages, the log file the dated lines.
	want := workbooktest.Lines(pageLog)
	got := workbooktest.Lines(stderr.String())
	if len(got) != 2 || got[0] != want[0] || !bWaited.MatchString(got[1]) || !bWaited.MatchString(want[1]) {
		t.Errorf("stderr = %q, want lines like %q", got, want)
	}
	workbooktest.AssertPageShows(t, pageLog)
	if logged := workbooktest.ReadLogFile(t, "debugging.log"); len(logged) != 2 || len(got) != 2 ||
		logged[0] != "INFO - "+got[0] || logged[1] != "INFO - "+got[1] {
		t.Errorf("debugging.log = %q, want the lines of stderr %q, each after INFO", logged, got)
	}
	// The deferred Closes of A and B closed the file.
	if open := workbooktest.OpenDescriptors(path); len(open) != 0 {
		t.Errorf("after run, this process still has %s open: descriptors %v", path, open)
	}
}

// TestRunOnAnyDatabaseFile runs the lesson on databases unlike the guide's:
// it reads no table, so it prints the same on each.
func TestRunOnAnyDatabaseFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup []string
	}{
		{"a users table with a text key, other columns in another order, a TIMESTAMP, a BOOLEAN and NULLs", []string{
			`CREATE TABLE users (email TEXT, user_id TEXT PRIMARY KEY, created_at TIMESTAMP, is_active BOOLEAN, name TEXT)`,
			`INSERT INTO users VALUES ('a@example.com', 'u-1', '2025-07-07 10:58:59', 1, NULL), (NULL, 'u-2', NULL, NULL, 'Bob')`,
		}},
		// No table at all, so no users table and no rows.
		{"an empty file", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "users.db")
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := workbooktest.MakeDB(path, tc.setup...); err != nil {
				t.Fatal(err)
			}
			var stdout bytes.Buffer
			if err := run(context.Background(), path, &stdout, io.Discard); err != nil {
				t.Fatal(err)
			}
			if want := strings.ReplaceAll(guideOutput, "users.db", path); stdout.String() != want {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), want)
			}
		})
	}
}

// holdLock takes a lock of the file at path on a connection of the test's
// own, as another program would, until release is called (at the latest
// when the test ends). begin is "immediate" for the write lock that BEGIN
// IMMEDIATE takes (others may still read), "exclusive" for the lock of a
// program that is writing its changes to the file (nobody else may read).
// It fails the test if the lock is not free.
func holdLock(t *testing.T, path, begin string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw&_busy_timeout=0&_txlock="+begin)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatalf("the lock of %s is not free: %v", filepath.Base(path), err)
	}
	release = sync.OnceFunc(func() {
		tx.Rollback()
		db.Close()
		workbooktest.AssertNothingOpen(t, db)
	})
	t.Cleanup(release)
	return release
}

// tryWriteLock takes the write lock of the file at path and lets it go, on a
// connection of the test's own that does not wait.
func tryWriteLock(t *testing.T, path string) error {
	t.Helper()
	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw&_busy_timeout=0&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	return takeWriteLock(context.Background(), db)
}

// runRecovering runs the lesson on path, and returns a panic in it as an
// error, with how long it took.
func runRecovering(ctx context.Context, path string, stdout io.Writer) (err error, took time.Duration) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
		took = time.Since(start)
	}()
	return run(ctx, path, stdout, io.Discard), 0
}

func TestRunWaitsForALockHeldByAnotherProgram(t *testing.T) {
	t.Parallel()
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	release := holdLock(t, path, "immediate")
	time.AfterFunc(300*time.Millisecond, release)
	// A waits up to its busy timeout for the other program, then goes on.
	var stdout bytes.Buffer
	err, took := runRecovering(context.Background(), path, &stdout)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if took < 300*time.Millisecond {
		t.Errorf("run took %v; it should have waited 0.3 s for the lock", took)
	}
	holdLock(t, path, "immediate") // the lesson left the lock free
}

func TestRunFailsWhenTheLockIsNeverReleased(t *testing.T) {
	workbooktest.Slow(t, "waits A's whole busy timeout of 5 s")
	t.Parallel()
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	holdLock(t, path, "immediate")
	// Ctrl-C while A waits, as lesson.Main turns it into a cancelled
	// context: A waits on all the same.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(deadline, cancel)
	var stdout bytes.Buffer
	err, took := runRecovering(ctx, path, &stdout)
	if err == nil || !strings.Contains(err.Error(), "is locked by another program that is writing to it") || !isBusy(err) {
		t.Errorf("run error = %v, want the advice for a locked database", err)
	}
	if took < 5*time.Second {
		t.Errorf("run gave up after %v, before A's busy timeout of 5 s", took)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
}

// onLine is an output for run that calls do once, when run writes a line
// starting with prefix, and notes when.
type onLine struct {
	prefix string
	do     func()
	at     time.Time
	out    strings.Builder
}

func (w *onLine) Write(p []byte) (int, error) {
	if w.at.IsZero() && bytes.HasPrefix(p, []byte(w.prefix)) {
		w.at = time.Now()
		w.do()
	}
	return w.out.Write(p)
}

func TestCtrlCDoesNotCutAsWait(t *testing.T) {
	t.Parallel()
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	release := holdLock(t, path, "immediate")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Ctrl-C comes while A waits for the other program's lock, which the
	// other program lets go a little later.
	stderr := &onLine{prefix: "Opened connections A and B", do: func() {
		time.AfterFunc(deadline, cancel)
		time.AfterFunc(waitMillis*time.Millisecond, release)
	}}
	err := run(ctx, path, io.Discard, stderr)
	took := time.Since(stderr.at)
	if ctx.Err() == nil || err == nil {
		t.Fatalf("run returned %v, and the context's error is %v: want both after Ctrl-C", err, ctx.Err())
	}
	if took < waitMillis*time.Millisecond {
		t.Errorf("run returned %v after A began to wait: Ctrl-C cut the wait, which lasts until the other program lets go (%d ms)", took, waitMillis)
	}
	// database/sql rolls back A's transaction in the background when its
	// context ends, perhaps just after run has returned.
	workbooktest.WaitFor(t, "A's lock to be let go", func() bool { return tryWriteLock(t, path) == nil })
}

func TestCtrlCWhileBWaitsEndsAsTransaction(t *testing.T) {
	t.Parallel()
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Ctrl-C comes while B waits for A's lock. It ends A's transaction
	// too, which database/sql rolls back, and the lock is free before B's
	// busy timeout is used up.
	stdout := &onLine{prefix: "A: BEGIN IMMEDIATE", do: func() { time.AfterFunc(deadline, cancel) }}
	err := run(ctx, path, stdout, io.Discard)
	if ctx.Err() == nil || err == nil {
		t.Fatalf("run returned %v, and the context's error is %v: want both after Ctrl-C", err, ctx.Err())
	}
	if gaveUp := "B (_busy_timeout=500): database is locked"; strings.Contains(stdout.out.String(), gaveUp) {
		t.Errorf("stdout = %q: B waited its whole busy timeout, though Ctrl-C ended A's transaction", stdout.out.String())
	}
}

// TestWhereAContextIsNotObeyed checks what the page says a context's end
// does to a lock wait, and what error comes back, beyond the lesson's own
// case (BeginTx), which run checks itself. B's pool has one connection
// open before the other program takes its lock. The waits are checked
// from below only: a busy machine makes them longer.
func TestWhereAContextIsNotObeyed(t *testing.T) {
	t.Parallel()
	withDeadline := func(t *testing.T) context.Context {
		short, cancel := context.WithTimeout(context.Background(), deadline)
		t.Cleanup(cancel)
		return short
	}
	for _, tc := range []struct {
		name    string
		holder  string // the lock the other program holds, as holdLock takes it
		wait    func(t *testing.T, b *sql.DB, path string) error
		wantErr func(error) bool
	}{
		{"QueryContext on a connection already in the pool", "exclusive", func(t *testing.T, b *sql.DB, path string) error {
			var n int
			return b.QueryRowContext(withDeadline(t), "SELECT count(*) FROM sqlite_schema").Scan(&n)
		}, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
		{"a connection the pool opens", "exclusive", func(t *testing.T, b *sql.DB, path string) error {
			_, err := openDB(withDeadline(t), path, waitMillis)
			return err
		}, isBusy},
		{"COMMIT", "", commitWhileReaderReads, isBusy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
			b, err := openDB(context.Background(), path, waitMillis)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { b.Close(); workbooktest.AssertNothingOpen(t, b) }()
			if tc.holder != "" {
				holdLock(t, path, tc.holder)
			}
			start := time.Now()
			err = tc.wait(t, b, path)
			if took := time.Since(start); !tc.wantErr(err) || took < waitMillis*time.Millisecond {
				t.Errorf("got %v after %v; want the error the page says, after the whole busy timeout of %d ms", err, took, waitMillis)
			}
		})
	}
}

// commitWhileReaderReads writes in a transaction on b while another
// connection is in the middle of reading, and commits. While COMMIT waits
// for the reader, the transaction's context is cancelled, as Ctrl-C would.
func commitWhileReaderReads(t *testing.T, b *sql.DB, path string) error {
	reader := workbooktest.OpenReadOnly(t, path)
	rows, err := reader.QueryContext(context.Background(), "SELECT * FROM users")
	if err != nil {
		t.Fatal(err)
	}
	// Until the rows are closed, the reader keeps the file from changing.
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("the reader read no row: %v", rows.Err())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tx, err := b.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "UPDATE users SET age = age + 1"); err != nil {
		t.Fatal(err)
	}
	committed := make(chan error, 1)
	go func() { committed <- tx.Commit() }()
	// A COMMIT that waits for readers keeps new ones out: a read that
	// would wait no time fails then.
	newReader, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=ro&_busy_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	defer newReader.Close()
	workbooktest.WaitFor(t, "COMMIT to wait for the reader", func() bool {
		var n int
		err := newReader.QueryRowContext(context.Background(), "SELECT count(*) FROM sqlite_schema").Scan(&n)
		return isBusy(err) || len(committed) > 0
	})
	cancel()
	return <-committed
}

func TestOpenDBSetsTheBusyTimeout(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	// 0 is not the driver's default (5000), so it comes from the data
	// source name.
	for _, millis := range []int{0, waitMillis} {
		db, err := openDB(context.Background(), path, millis)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if err := db.QueryRowContext(context.Background(), "PRAGMA busy_timeout").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != millis {
			t.Errorf("openDB(ctx, path, %d): PRAGMA busy_timeout = %d", millis, got)
		}
		db.Close()
	}
}

// panicOn is stdout for run that panics when run prints a line starting
// with prefix, as a bug in any code that run calls might.
type panicOn struct {
	prefix string
	bytes.Buffer
}

func (w *panicOn) Write(p []byte) (int, error) {
	if bytes.HasPrefix(p, []byte(w.prefix)) {
		panic("a bug in the middle of run")
	}
	return w.Buffer.Write(p)
}

func TestTheLockIsFreedWhenRunStopsEarly(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	// run panics right after A took the lock.
	err, _ := runRecovering(context.Background(), path, &panicOn{prefix: "A: BEGIN IMMEDIATE"})
	if !strings.Contains(fmt.Sprint(err), "a bug in the middle of run") {
		t.Errorf("run error = %v, want the panic", err)
	}
	if err := tryWriteLock(t, path); err != nil {
		t.Errorf("after run stopped early, the write lock is still held: %v", err)
	}
}

func TestIsBusy(t *testing.T) {
	busy := sqlite3.Error{Code: sqlite3.ErrBusy}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"SQLite's busy error", busy, true},
		{"wrapped on its way up", fmt.Errorf("listing users: %w", busy), true},
		{"another SQLite error", sqlite3.Error{Code: sqlite3.ErrLocked}, false},
		{"the same text, not from SQLite", errors.New("database is locked"), false},
		{"no error", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := isBusy(tc.err); got != tc.want {
				t.Errorf("isBusy(%v) = %t, want %t", tc.err, got, tc.want)
			}
		})
	}
}

func TestFailures(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, path, want string }{
		{"no such file", filepath.Join(dir, "missing.db"), "there is no such file; create it with: "},
		{"a folder", dir, "is a folder, not a database file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := workbooktest.RunLesson(t, run, "debugging.log", tc.path)
			if got.Err == nil || !strings.Contains(got.Err.Error(), tc.want) {
				t.Fatalf("run error = %v, want %q", got.Err, tc.want)
			}
			// PingContext found the problem before anything was logged as
			// opened.
			want := "Connection error: " + got.Err.Error()
			if got.Stderr != want+"\n" || len(got.Log) != 1 || got.Log[0] != "ERROR - "+want {
				t.Errorf("stderr = %q and debugging.log = %q, want the one line %q", got.Stderr, got.Log, want)
			}
			// mode=rw created nothing.
			if entries := workbooktest.DirEntries(t, dir); got.Stdout != "" || len(entries) != 0 {
				t.Errorf("printed %q and left %v in %s, want nothing", got.Stdout, entries, dir)
			}
		})
	}
}

// The page's "Try it" experiments.

func TestExperimentBusyTimeoutZero(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "a, err := openDB(ctx, dbPath, 5000)", New: "a, err := openDB(ctx, dbPath, 0)",
		Command: "go test -run TestRunWaitsForALockHeldByAnotherProgram ./extras/debug-locked",
		Want:    []string{"is locked by another program that is writing to it"}, Fails: true,
	})
}

func TestExperimentTypeAssertion(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "return errors.As(err, &sqliteErr) && sqliteErr.Code == sqlite3.ErrBusy",
		New:     "sqliteErr, ok := err.(sqlite3.Error)\n\treturn ok && sqliteErr.Code == sqlite3.ErrBusy",
		Command: "go test -run TestIsBusy ./extras/debug-locked",
		Want:    []string{"isBusy(listing users: database is locked) = false, want true"}, Fails: true,
	})
}

func TestExperimentNoDeferredRollback(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "\tdefer txA.Rollback()\n", New: "",
		Command: "go test -run TestTheLockIsFreedWhenRunStopsEarly ./extras/debug-locked",
		Want:    []string{"after run stopped early, the write lock is still held: database is locked"}, Fails: true,
	})
}
