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

// The guide's expected output for Task 2 (section 4.3.4), timestamps aside.
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
}

// logLine matches one line of the guide's log format.
var logLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - INFO - (.*)$`)

func TestRunLogsBothFetchesToStderrAndFile(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())

	var stderr bytes.Buffer
	if err := run(context.Background(), path, io.Discard, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	file, err := os.ReadFile("async.log")
	if err != nil {
		t.Fatal(err)
	}
	// The two fetches run at once, so either may log first.
	want := []string{"Fetched all users", "Fetched users older than 40"}
	for name, log := range map[string]string{"stderr": stderr.String(), "async.log": string(file)} {
		var got []string
		for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
			m := logLine.FindStringSubmatch(line)
			if m == nil {
				t.Errorf("%s line %q is not in the guide's format", name, line)
				continue
			}
			got = append(got, m[1])
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s messages = %q, want %q in any order", name, got, want)
		}
	}
}

func TestFetchConcurrentlyReturnsBothResults(t *testing.T) {
	db := openTestDatabase(t)
	all, older, err := fetchConcurrently(context.Background(), db, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	if got := idsOf(all); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Errorf("all users = %v, want ids 1, 2, 3", got)
	}
	if got := idsOf(older); !slices.Equal(got, []int64{2}) {
		t.Errorf("older users = %v, want id 2", got)
	}
	assertNothingInUse(t, db)
}

func TestAsyncFetchOlderUsersTakesTheAge(t *testing.T) {
	db := openTestDatabase(t)
	for age, want := range map[int][]int64{24: {1, 2, 3}, 29: {1, 2}, 45: nil} {
		users, err := asyncFetchOlderUsers(context.Background(), db, discardLogger(), age)
		if err != nil {
			t.Fatal(err)
		}
		if got := idsOf(users); !slices.Equal(got, want) {
			t.Errorf("older than %d: ids %v, want %v", age, got, want)
		}
	}
}

func TestAFailingFetchStopsTheOther(t *testing.T) {
	db := openTestDatabase(t)
	errBoom := errors.New("boom")
	started := make(chan struct{})
	var slowErr error

	// The slow fetch runs a query that never ends by itself: a recursive
	// count with no limit. Only a canceled context can stop it.
	slow := func(ctx context.Context) ([]User, error) {
		close(started)
		var n int64
		slowErr = db.QueryRowContext(ctx,
			"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c").Scan(&n)
		return nil, slowErr
	}
	failing := func(ctx context.Context) ([]User, error) {
		<-started
		waitUntilInUse(t, db, 1)
		return nil, errBoom
	}

	// The deadline is a guard: if gather ran the fetches one after the
	// other, the slow one would end at the deadline, not be canceled, and
	// the test would fail instead of hanging.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	results, err := gather(ctx, slow, failing)
	if !errors.Is(err, errBoom) {
		t.Fatalf("gather error = %v, want the failing fetch's error", err)
	}
	if results != nil {
		t.Errorf("gather returned results %v with its error", results)
	}
	// gather returned, so the slow fetch has returned too: its error was
	// set before wg.Wait let gather go on.
	if !errors.Is(slowErr, context.Canceled) {
		t.Errorf("slow fetch error = %v, want context.Canceled", slowErr)
	}
	assertNothingInUse(t, db)

	// The pool still answers after an interrupted query.
	if _, _, err := fetchConcurrently(context.Background(), db, discardLogger()); err != nil {
		t.Errorf("fetch after the failure: %v", err)
	}
}

func TestGatherRunsTheFetchesAtTheSameTime(t *testing.T) {
	// Each fetch waits until the other has started. Run one after the
	// other, the first would wait in vain and give up.
	var wg sync.WaitGroup
	wg.Add(2)
	meet := func(ctx context.Context) ([]User, error) {
		wg.Done()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
			return []User{}, nil
		case <-time.After(10 * time.Second):
			return nil, errors.New("the other fetch did not start within 10 s")
		}
	}
	if _, err := gather(context.Background(), meet, meet); err != nil {
		t.Fatal(err)
	}
}

func TestQueryUsersReleasesItsConnectionOnAScanError(t *testing.T) {
	db := openTestDatabase(t)
	// An age that is not a number makes Scan fail in the middle of the
	// rows; only the deferred rows.Close gives the connection back then.
	if _, err := db.Exec("INSERT INTO users (name, email, age) VALUES ('Dora', 'dora@example.com', 'old')"); err != nil {
		t.Fatal(err)
	}
	if _, err := asyncFetchUsers(context.Background(), db, discardLogger()); err == nil {
		t.Fatal("asyncFetchUsers succeeded on an age that is not a number")
	}
	assertNothingInUse(t, db)
}

func TestFetchConcurrentlyReturnsTheQueryError(t *testing.T) {
	db := openTestDatabase(t)
	if _, err := db.Exec("DROP TABLE users"); err != nil {
		t.Fatal(err)
	}
	all, older, err := fetchConcurrently(context.Background(), db, discardLogger())
	if err == nil || !strings.Contains(err.Error(), "no such table: users") {
		t.Fatalf("error = %v, want no such table", err)
	}
	if all != nil || older != nil {
		t.Errorf("results %v and %v came back with the error", all, older)
	}
	assertNothingInUse(t, db)
}

func TestGatherReturnsTheCallersCancelation(t *testing.T) {
	db := openTestDatabase(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := fetchConcurrently(ctx, db, discardLogger())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	assertNothingInUse(t, db)
}

func TestMissingDatabaseFailsAndCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	// The lesson's log file goes to the current folder: nothing else may
	// appear there.
	cwd := t.TempDir()
	t.Chdir(cwd)
	path := filepath.Join(dir, "missing.db")
	var stdout bytes.Buffer
	err := run(context.Background(), path, &stdout, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "go run ./00-setup -db "+path) {
		t.Fatalf("error = %v, want one saying to run 00-setup", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the folder holds %d entries, want none", len(entries))
	}
	if entries, _ := os.ReadDir(cwd); len(entries) != 1 || entries[0].Name() != "async.log" {
		t.Errorf("the current folder holds %v, want only async.log", entries)
	}
}

func TestLogFileThatCannotBeOpenedOnlyWarns(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())
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
	if !strings.HasPrefix(stdout.String(), "All users:\n") {
		t.Errorf("stdout = %q, want the users", stdout.String())
	}
}

// waitUntilInUse waits until n connections of db are busy, so that a test
// acts while a query is really running.
func waitUntilInUse(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); db.Stats().InUse < n; {
		if time.Now().After(deadline) {
			t.Errorf("no query started within 10 s")
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// assertNothingInUse checks that every connection is back in the pool.
func assertNothingInUse(t *testing.T, db *sql.DB) {
	t.Helper()
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connections still in use, want 0", inUse)
	}
}

func idsOf(users []User) []int64 {
	var ids []int64
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	return ids
}

func discardLogger() guideLogger { return guideLogger{log.New(io.Discard, "", 0)} }

// openTestDatabase opens a fresh users.db the way the lesson does and closes
// it when the test ends, checking that the pool is empty by then.
func openTestDatabase(t *testing.T) *sql.DB {
	t.Helper()
	db, err := openDatabase(context.Background(), newDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
		if open := db.Stats().OpenConnections; open != 0 {
			t.Errorf("%d connections open after Close, want 0", open)
		}
	})
	return db
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
