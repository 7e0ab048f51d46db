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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// The lesson on the guide's users.db, which TestMain made in the folder
// where the tests run. The log lines go to stderr, discarded here.
func Example() {
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// A: BEGIN IMMEDIATE holds the write lock of users.db
	// B (_busy_timeout=500): database is locked; errors.As finds Code sqlite3.ErrBusy: true
	// B with a 100ms deadline: database is locked, after the whole 500 ms all the same
	// A: ROLLBACK let the lock go
	// B: took the write lock at once and let it go; nothing was written
}

func TestPageShowsTheOutput(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	t.Chdir(filepath.Dir(path))
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), "users.db", &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	got := logMessages(t, stderr.String())
	if len(got) != 2 || got[0] != "INFO - Opened connections A and B to users.db" || !strings.HasSuffix(got[1], ", then: database is locked") {
		t.Errorf("log = %q", got)
	}
	t.Chdir(lessonFolder)
	assertPageShows(t, strings.TrimSuffix(stdout.String(), "\n"))
}

// holdWriteLock takes the write lock of path on a connection of the test's
// own, as another program would, until release is called (at the latest
// when the test ends). It checks that the lesson left it free.
func holdWriteLock(t *testing.T, path string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw&_busy_timeout=0&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatalf("the write lock of %s is not free: %v", filepath.Base(path), err)
	}
	release = sync.OnceFunc(func() {
		tx.Rollback()
		db.Close()
		assertNothingOpen(t, db)
	})
	t.Cleanup(release)
	return release
}

// runWithin runs the lesson on path and fails the test if it has not
// returned within limit; a panic comes back as an error. Its log file goes
// to the folder TestMain made.
func runWithin(t *testing.T, limit time.Duration, ctx context.Context, path string, stdout io.Writer) (err error, took time.Duration) {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("panic: %v", p)
			}
		}()
		done <- run(ctx, path, stdout, io.Discard)
	}()
	select {
	case err := <-done:
		return err, time.Since(start)
	case <-time.After(limit):
		t.Fatalf("run did not return within %v", limit)
		return nil, 0
	}
}

func TestRunWaitsForALockHeldByAnotherProgram(t *testing.T) {
	t.Parallel()
	path := newUsersDB(t, guideUsers...)
	release := holdWriteLock(t, path)
	time.AfterFunc(time.Second, release)
	// A waits up to its busy timeout for the other program, then goes on.
	var stdout bytes.Buffer
	err, took := runWithin(t, 20*time.Second, context.Background(), path, &stdout)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if took < time.Second {
		t.Errorf("run took %v; it should have waited for the lock for a second", took)
	}
	holdWriteLock(t, path) // the lesson left the lock free
}

func TestRunFailsWhenTheLockIsNeverReleased(t *testing.T) {
	t.Parallel()
	path := newUsersDB(t, guideUsers...)
	holdWriteLock(t, path)
	var stdout bytes.Buffer
	err, took := runWithin(t, 20*time.Second, context.Background(), path, &stdout)
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
	path := newUsersDB(t, guideUsers...)
	// run panics right after A took the lock.
	err, _ := runWithin(t, 20*time.Second, context.Background(), path, &panicOn{prefix: "A: BEGIN IMMEDIATE"})
	if !strings.Contains(fmt.Sprint(err), "a bug in the middle of run") {
		t.Errorf("run error = %v, want the panic", err)
	}
	db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw&_busy_timeout=0&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := takeWriteLock(context.Background(), db); err != nil {
		t.Errorf("after run stopped early, the write lock is still held: %v", err)
	}
}

func TestADeadlineDoesNotCutTheBusyWait(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	holdWriteLock(t, path)
	b, err := openDB(context.Background(), path, waitMillis)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { b.Close(); assertNothingOpen(t, b) }()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	err = takeWriteLock(ctx, b)
	if took := time.Since(start); !isBusy(err) || took < waitMillis*time.Millisecond {
		t.Errorf("takeWriteLock with a %v deadline: %v after %v; want database is locked after %d ms", deadline, err, took, waitMillis)
	}
	if inUse := b.Stats().InUse; inUse != 0 {
		t.Errorf("%d connections in use after the failed BeginTx", inUse)
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
		{"no such file", filepath.Join(dir, "missing.db"), "there is no such file; create it with: go run ./00-setup"},
		{"a folder", dir, "is a folder, not a database file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.path, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("run error = %v, want %q", err, tc.want)
			}
			if got := logMessages(t, stderr.String()); len(got) != 1 || !strings.HasPrefix(got[0], "ERROR - Connection error: ") {
				t.Errorf("log = %q, want one ERROR line and no Opened", got)
			}
			if entries, _ := os.ReadDir(dir); stdout.Len() != 0 || len(entries) != 0 {
				t.Errorf("printed %q and left %d entries in %s, want nothing", stdout.String(), len(entries), dir)
			}
		})
	}
}

// The page's "Try it" experiments.

func TestExperimentBusyTimeoutZero(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "a, err := openDB(ctx, dbPath, 5000)", new: "a, err := openDB(ctx, dbPath, 0)",
		command: "go test -run TestRunWaitsForALockHeldByAnotherProgram ./extras/debug-locked",
		want:    []string{"is locked by another program that is writing to it"}, fails: true,
	})
}

func TestExperimentTypeAssertion(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "return errors.As(err, &sqliteErr) && sqliteErr.Code == sqlite3.ErrBusy",
		new:     "sqliteErr, ok := err.(sqlite3.Error)\n\treturn ok && sqliteErr.Code == sqlite3.ErrBusy",
		command: "go test -run TestIsBusy ./extras/debug-locked",
		want:    []string{"isBusy(listing users: database is locked) = false, want true"}, fails: true,
	})
}

func TestExperimentNoDeferredRollback(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "\tdefer txA.Rollback()\n", new: "",
		command: "go test -run TestTheLockIsFreedWhenRunStopsEarly ./extras/debug-locked",
		want:    []string{"after run stopped early, the write lock is still held: database is locked"}, fails: true,
	})
}

// TestMain runs the tests and the example in a new folder holding the
// guide's users.db, as a learner's folder would, so that the log file lands
// there and not in the source tree.
func TestMain(m *testing.M) { os.Exit(runInScratchFolder(m)) }

// pageCitations are the lines of main.go that README.md cites by number.
var pageCitations = []citation{
	{"`txA, err := a.BeginTx(ctx, nil)` (main.go line\n68)", 68, "txA, err := a.BeginTx(ctx, nil)"},
	{"`_txlock=immediate` (line 110)", 110, "_txlock=immediate"},
	{"A waits up to 5000 ms (line 52)", 52, "a, err := openDB(ctx, dbPath, 5000)"},
	{"(line 134):\n  `return errors.As(err, &sqliteErr) && sqliteErr.Code == sqlite3.ErrBusy`", 134, "return errors.As(err, &sqliteErr) && sqliteErr.Code == sqlite3.ErrBusy"},
	{"(line 85,\n  `context.WithTimeout(ctx, deadline)`)", 85, "context.WithTimeout(ctx, deadline)"},
	{"(line 72, `defer txA.Rollback()`)", 72, "defer txA.Rollback()"},
}
