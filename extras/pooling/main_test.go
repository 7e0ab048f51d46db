//go:build cgo

package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The pool's limits, one burst through it and one with a new connection per
// query. How many connections the pooled burst needed and how long each
// burst took vary from run to run, so they are in the log, not here.
func Example() {
	// TestMain ran 00-setup in this scratch folder, so users.db is the
	// guide's database. The log lines go to stderr, discarded here.
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// One *sql.DB is the pool: MaxOpenConns=4 MaxIdleConns=4 ConnMaxIdleTime=1m0s
	// Before the burst: OpenConnections=1 InUse=0 Idle=1 WaitCount=0
	// Pooled: 50 queries from 10 goroutines through one *sql.DB
	//   SQLite connections opened: no more than 4 (MaxOpenConns), shared by all 50 queries
	//   After the burst: InUse=0
	// New connection per query: 50 queries from 10 goroutines, each with sql.Open, PingContext, query, Close
	//   SQLite connections opened: 50
	// Both bursts returned the same 50 rows, which cycle through:
	// (1, 'Alice Smith', 'alice.smith@example.com', 30)
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
	// (3, 'Charlie Brown', 'charlie.brown@example.com', 25)
}

// sampleUsers are the users 00-setup makes, by id.
var sampleUsers = map[int64]User{
	1: {1, "Alice Smith", "alice.smith@example.com", 30},
	2: {2, "Bob Johnson", "bob.johnson@example.com", 45},
	3: {3, "Charlie Brown", "charlie.brown@example.com", 25},
}

// logLine matches one line of the guide's log format.
var logLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - (INFO|ERROR) - (.*)$`)

func TestRunLogsBothBurstsToStderrAndFile(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())

	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), path, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := []*regexp.Regexp{
		regexp.MustCompile(`^Opened a pool of up to 4 connections to ` + regexp.QuoteMeta(path) + `$`),
		regexp.MustCompile(`^Pooled burst: 50 queries in \S+; [1-4] connections opened; OpenConnections=[1-4] Idle=[1-4] WaitCount=\d+ WaitDuration=\S+$`),
		regexp.MustCompile(`^New connection per query: 50 queries in \S+; 50 connections opened$`),
	}
	assertLog(t, "stderr", stderr.String(), want)
	file, err := os.ReadFile("async.log")
	if err != nil {
		t.Fatal(err)
	}
	assertLog(t, "async.log", string(file), want)

	// A second run works too, and appends to the log file.
	var again bytes.Buffer
	if err := run(context.Background(), path, &again, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if again.String() != stdout.String() {
		t.Errorf("second run printed\n%s\nwant the first run's\n%s", again.String(), stdout.String())
	}
	file, err = os.ReadFile("async.log")
	if err != nil {
		t.Fatal(err)
	}
	assertLog(t, "async.log after two runs", string(file), append(want, want...))
}

func TestPoolNeverOpensMoreThanMaxOpenConns(t *testing.T) {
	// A barrier makes the limit bite: every goroutine takes a connection
	// and keeps it until all the connections are out and the other
	// goroutines are waiting for one.
	ctx := context.Background()
	openedBefore := connectionsOpened.Load()
	db := openTestPool(t, newDatabase(t))

	release := make(chan struct{})
	errs := make([]error, burstGoroutines)
	var wg sync.WaitGroup
	for g := range burstGoroutines {
		wg.Go(func() {
			conn, err := db.Conn(ctx)
			if err != nil {
				errs[g] = err
				return
			}
			defer conn.Close()
			<-release
			var n int
			errs[g] = conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM users").Scan(&n)
		})
	}
	// finish releases the goroutines and waits for them, also when the
	// test fails before the end.
	finish := sync.OnceFunc(func() { close(release); wg.Wait() })
	defer finish()

	waiting := burstGoroutines - maxOpenConns
	waitForStats(t, db, func(s sql.DBStats) bool {
		return s.InUse == maxOpenConns && s.WaitCount == int64(waiting)
	})
	s := db.Stats()
	if s.OpenConnections != maxOpenConns || s.InUse != maxOpenConns {
		t.Errorf("at the barrier: OpenConnections=%d InUse=%d, want %d and %d", s.OpenConnections, s.InUse, maxOpenConns, maxOpenConns)
	}
	finish()
	for g, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", g, err)
		}
	}

	s = db.Stats()
	if s.WaitCount != int64(waiting) {
		t.Errorf("WaitCount = %d, want %d: one wait for each goroutine beyond the limit", s.WaitCount, waiting)
	}
	if s.OpenConnections > maxOpenConns {
		t.Errorf("OpenConnections = %d after the burst, want at most %d", s.OpenConnections, maxOpenConns)
	}
	if opened := connectionsOpened.Load() - openedBefore; opened != maxOpenConns {
		t.Errorf("the pool opened %d connections, want %d: the waiting goroutines reuse them", opened, maxOpenConns)
	}
	assertNoneInUse(t, db)
}

func TestPooledBurstStaysWithinTheLimit(t *testing.T) {
	ctx := context.Background()
	openedBefore := connectionsOpened.Load()
	db := openTestPool(t, newDatabase(t))
	ids, err := burstIDs(ctx, db, burstQueries)
	if err != nil {
		t.Fatal(err)
	}

	// A sampler goroutine reads db.Stats() for as long as the burst runs
	// and keeps the highest figures it saw.
	var maxOpen, maxInUse int
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			s := db.Stats()
			maxOpen, maxInUse = max(maxOpen, s.OpenConnections), max(maxInUse, s.InUse)
			select {
			case <-stop:
				return
			default:
				runtime.Gosched()
			}
		}
	}()
	users, err := burst(ctx, ids, burstGoroutines, pooledQuery(db))
	close(stop)
	<-stopped
	if err != nil {
		t.Fatal(err)
	}

	if maxOpen > maxOpenConns || maxInUse > maxOpenConns {
		t.Errorf("during the burst: up to %d open and %d in use, want at most %d", maxOpen, maxInUse, maxOpenConns)
	}
	if opened := connectionsOpened.Load() - openedBefore; opened < 1 || opened > maxOpenConns {
		t.Errorf("the pool opened %d connections, want 1 to %d", opened, maxOpenConns)
	}
	assertUsers(t, ids, users)
	assertNoneInUse(t, db)
}

func TestNewConnectionPerQueryOpensOneConnectionPerQuery(t *testing.T) {
	ctx := context.Background()
	path := newDatabase(t)
	db := openTestPool(t, path)
	ids, err := burstIDs(ctx, db, burstQueries)
	if err != nil {
		t.Fatal(err)
	}
	pooled, err := burst(ctx, ids, burstGoroutines, pooledQuery(db))
	if err != nil {
		t.Fatal(err)
	}

	openedBefore := connectionsOpened.Load()
	perQuery, err := burst(ctx, ids, burstGoroutines, newConnectionQuery(path))
	if err != nil {
		t.Fatal(err)
	}
	if opened := connectionsOpened.Load() - openedBefore; opened != int64(len(ids)) {
		t.Errorf("%d queries opened %d connections, want one each", len(ids), opened)
	}
	assertUsers(t, ids, perQuery)
	if !slices.Equal(perQuery, pooled) {
		t.Errorf("the two ways returned different rows:\n%v\n%v", perQuery, pooled)
	}
	assertNoneInUse(t, db)
}

func TestBurstIDsCycleThroughTheUsers(t *testing.T) {
	db := openTestPool(t, newDatabase(t))
	ids, err := burstIDs(context.Background(), db, 7)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{1, 2, 3, 1, 2, 3, 1}; !slices.Equal(ids, want) {
		t.Errorf("ids = %v, want %v", ids, want)
	}
	if got := distinct(ids); got != 3 {
		t.Errorf("distinct = %d, want 3", got)
	}
	assertNoneInUse(t, db)
}

func TestMissingUserIsNotFound(t *testing.T) {
	path := newDatabase(t)
	db := openTestPool(t, path)
	for name, query := range map[string]queryFunc{
		"pooled":                   pooledQuery(db),
		"new connection per query": newConnectionQuery(path),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := burst(context.Background(), []int64{1, 99}, 2, query)
			if err == nil || !strings.Contains(err.Error(), "user 99: not found") {
				t.Errorf("error = %v, want user 99: not found", err)
			}
		})
	}
	assertNoneInUse(t, db)
}

func TestMissingDatabaseFailsAndCreatesNothing(t *testing.T) {
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
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("%s holds %d entries, want none", dir, len(entries))
	}
}

// BenchmarkPooledQuery is one point query per iteration through one pool and
// a statement prepared once.
func BenchmarkPooledQuery(b *testing.B) {
	ctx := context.Background()
	db := openTestPool(b, newDatabase(b))
	stmt, err := db.PrepareContext(ctx, selectUser)
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	for i := 0; b.Loop(); i++ {
		if _, err := scanUser(stmt.QueryRowContext(ctx, int64(i%3+1)), int64(i%3+1)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPooledQueryNotPrepared is the lesson's pooledQuery: the same
// point query through one pool, with the SQL prepared again every time.
func BenchmarkPooledQueryNotPrepared(b *testing.B) {
	ctx := context.Background()
	query := pooledQuery(openTestPool(b, newDatabase(b)))
	for i := 0; b.Loop(); i++ {
		if _, err := query(ctx, int64(i%3+1)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewConnectionPerQuery is the guide's way: every iteration opens
// the database, proves the connection, queries and closes.
func BenchmarkNewConnectionPerQuery(b *testing.B) {
	ctx := context.Background()
	query := newConnectionQuery(newDatabase(b))
	for i := 0; b.Loop(); i++ {
		if _, err := query(ctx, int64(i%3+1)); err != nil {
			b.Fatal(err)
		}
	}
}

// openTestPool opens the lesson's pool on path and closes it at the end of
// the test, checking that nothing is left open.
func openTestPool(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := openPool(context.Background(), path, guideLogger{log.New(io.Discard, "", 0)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
		if s := db.Stats(); s.OpenConnections != 0 || s.InUse != 0 {
			tb.Errorf("after Close: %d open, %d in use, want 0 and 0", s.OpenConnections, s.InUse)
		}
	})
	return db
}

// waitForStats waits until db.Stats() satisfies ok, for at most 10 s.
func waitForStats(t *testing.T, db *sql.DB, ok func(sql.DBStats) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok(db.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("the pool never got there: %+v", db.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// assertNoneInUse checks that every connection went back to the pool.
func assertNoneInUse(t *testing.T, db *sql.DB) {
	t.Helper()
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connections in use, want 0", inUse)
	}
}

// assertUsers checks that users[i] is the sample user with id ids[i].
func assertUsers(t *testing.T, ids []int64, users []User) {
	t.Helper()
	if len(users) != len(ids) {
		t.Fatalf("got %d users, want %d", len(users), len(ids))
	}
	for i, id := range ids {
		if users[i] != sampleUsers[id] {
			t.Errorf("query %d got %v, want %v", i, users[i], sampleUsers[id])
		}
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

// setupProgram is the real 00-setup, built once by TestMain.
var setupProgram string

// newDatabase returns the path of a fresh users.db made by 00-setup in a
// folder of the test's own.
func newDatabase(tb testing.TB) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "users.db")
	if out, err := exec.Command(setupProgram, "-db", path).CombinedOutput(); err != nil {
		tb.Fatalf("00-setup: %v\n%s", err, out)
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
