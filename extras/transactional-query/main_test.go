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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// The demo's narrative: counts that add up, and the plain BEGIN failing.
func Example() {
	// TestMain ran 00-setup in this scratch folder, so users.db is the
	// guide's database. The log lines go to stderr, discarded here.
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// One visit, counted by a transaction that reads the count and writes it plus one:
	// ('home', 1)
	// 5 visits at the same time, each counted the same way:
	// ('home', 6)
	// The same read-then-write in a plain BEGIN (deferred) transaction:
	//   it reads 6 visits;
	//   another connection takes the write lock and counts a visit;
	//   its own write fails at once: database is locked (SQLITE_BUSY); it rolls back.
	// ('home', 7)
}

// logLine matches one line of the guide's log format.
var logLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - (INFO|ERROR) - (.*)$`)

// executed is the log line of every counted visit.
const executed = "INFO - Executed query: SELECT visits FROM page_visits WHERE page = ? with params: ('home',)"

func TestRunLogsToStderrAndFileAndCanRunAgain(t *testing.T) {
	path := newDatabase(t)
	users := usersTable(t, path)
	t.Chdir(t.TempDir())

	var first, stderr bytes.Buffer
	if err := run(context.Background(), path, &first, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	// The goroutines' lines interleave in any order, so the lines are
	// counted rather than compared one by one.
	want := map[string]int{
		"INFO - Opened connection to " + path: 2,
		executed:                              1 + visitors,
		"INFO - Transaction committed":        1 + visitors,
		"INFO - Closed connection to " + path: 2,
	}
	assertLogCounts(t, "stderr", stderr.String(), want)
	assertLogCounts(t, "query.log", readFile(t, "query.log"), want)

	var second bytes.Buffer
	if err := run(context.Background(), path, &second, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if second.String() != first.String() {
		t.Errorf("second run printed\n%s\nfirst run printed\n%s", second.String(), first.String())
	}
	for line, n := range want {
		want[line] = 2 * n
	}
	assertLogCounts(t, "query.log after two runs", readFile(t, "query.log"), want)
	if after := usersTable(t, path); after != users {
		t.Errorf("users table after two runs:\n%s\nbefore:\n%s", after, users)
	}
}

// The claim behind _txlock=immediate, in rollback-journal mode: a plain
// BEGIN transaction that has read cannot wait for the write lock, however
// long its busy timeout; BEGIN IMMEDIATE waits for it.
func TestLockModes(t *testing.T) {
	const busyTimeout = 10 * time.Second

	t.Run("deferred read-then-write gets SQLITE_BUSY at once", func(t *testing.T) {
		path := newVisitsDatabase(t)
		deferred := openTestPool(t, path, "deferred", busyTimeout)
		writer := openTestPool(t, path, "immediate", busyTimeout)
		ctx := context.Background()

		tx, err := deferred.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		var visits int64
		if err := tx.QueryRow("SELECT visits FROM page_visits WHERE page = ?", page).Scan(&visits); err != nil {
			t.Fatal(err)
		}
		other := beginWrite(t, writer)

		start := time.Now()
		_, err = tx.Exec("UPDATE page_visits SET visits = ? WHERE page = ?", visits+1, page)
		elapsed := time.Since(start)
		var sqliteErr sqlite3.Error
		if !errors.As(err, &sqliteErr) || sqliteErr.Code != sqlite3.ErrBusy {
			t.Fatalf("deferred write error = %v, want SQLITE_BUSY", err)
		}
		// A generous bound: the claim is that the busy timeout is not
		// used at all, not that the failure is fast.
		if elapsed >= busyTimeout/2 {
			t.Errorf("deferred write failed after %v, want well before the %v busy timeout", elapsed, busyTimeout)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if err := other.Commit(); err != nil {
			t.Fatalf("other writer's commit: %v", err)
		}
		assertVisits(t, writer, 1)
	})

	t.Run("immediate read-then-write waits for the other writer", func(t *testing.T) {
		path := newVisitsDatabase(t)
		pool := openTestPool(t, path, "immediate", busyTimeout)
		writer := openTestPool(t, path, "immediate", busyTimeout)
		other := beginWrite(t, writer)

		done := startCountVisit(pool)
		assertWaiting(t, pool, 1, done)
		if err := other.Commit(); err != nil {
			t.Fatalf("other writer's commit: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatalf("countVisit after the other writer committed: %v", err)
		}
		// It read the other writer's count, so neither visit is lost.
		assertVisits(t, pool, 2)
	})
}

// The same claims in WAL mode, on a copy of users.db switched to WAL (the
// lesson itself leaves users.db in rollback-journal mode).
func TestLockModesInWALMode(t *testing.T) {
	t.Run("another writer holds the lock: SQLITE_BUSY", func(t *testing.T) {
		deferred, writer := openWALPools(t)
		tx := beginAndRead(t, deferred)
		other := beginWrite(t, writer)
		defer other.Rollback()
		start := time.Now()
		_, err := tx.Exec("UPDATE page_visits SET visits = 1 WHERE page = ?", page)
		elapsed := time.Since(start)
		assertCodes(t, err, sqlite3.ErrBusy, sqlite3.ErrBusy.Extend(0))
		// A generous bound: the claim is that the busy timeout is not
		// used at all, not that the failure is fast.
		if elapsed >= walBusyTimeout/2 {
			t.Errorf("deferred write failed after %v, want well before the %v busy timeout", elapsed, walBusyTimeout)
		}
	})

	t.Run("another writer committed after the read: SQLITE_BUSY_SNAPSHOT", func(t *testing.T) {
		deferred, writer := openWALPools(t)
		tx := beginAndRead(t, deferred)
		other := beginWrite(t, writer)
		// In WAL mode a reader does not stop a commit.
		if err := other.Commit(); err != nil {
			t.Fatalf("other writer's commit: %v", err)
		}
		_, err := tx.Exec("UPDATE page_visits SET visits = 1 WHERE page = ?", page)
		assertCodes(t, err, sqlite3.ErrBusy, sqlite3.ErrBusySnapshot)
	})

	t.Run("BEGIN IMMEDIATE waits for the other writer", func(t *testing.T) {
		_, writer := openWALPools(t)
		other := beginWrite(t, writer)
		done := startCountVisit(writer)
		// One connection holds the write lock, the other waits for it.
		assertWaiting(t, writer, 2, done)
		if err := other.Commit(); err != nil {
			t.Fatalf("other writer's commit: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatalf("countVisit after the other writer committed: %v", err)
		}
		assertVisits(t, writer, 2)
	})
}

func TestConcurrentCountsAreExact(t *testing.T) {
	path := newVisitsDatabase(t)
	db, err := openDatabase(context.Background(), path, "immediate", newTestLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assertClosed(t, db) })
	if got := db.Stats().MaxOpenConnections; got != 1 {
		t.Fatalf("the lesson's pool allows %d connections, want 1", got)
	}

	// 8 goroutines, each counting 500 visits through the lesson's helper
	// on the lesson's pool: every BeginTx waits in database/sql for the
	// pool's one connection, with no timeout, so none can reach the caller
	// as "database is locked".
	goroutines, each := 8, 500
	if testing.Short() {
		each = 50
	}
	var logs syncBuffer
	countAtOnce(t, db, newTestLogger(&logs), goroutines, each)
	assertVisits(t, db, int64(goroutines*each))
	if got := strings.Count(logs.String(), "Transaction committed"); got != goroutines*each {
		t.Errorf("%d commits logged, want %d", got, goroutines*each)
	}
	if strings.Contains(logs.String(), "ERROR") {
		t.Errorf("log has errors:\n%s", logs.String())
	}
}

// The SQLite-level mechanism, without the one-connection pool: several
// connections of one pool contend for the write lock through SQLite's busy
// handler. With BEGIN IMMEDIATE and a generous busy timeout under a modest
// load, the counts are exact too.
func TestConnectionsContendThroughSQLiteLock(t *testing.T) {
	const goroutines, each = 4, 25
	path := newVisitsDatabase(t)
	pool := openTestPool(t, path, "immediate", 60*time.Second)
	writer := openTestPool(t, path, "immediate", 60*time.Second)

	// While another connection holds the write lock, all the goroutines'
	// first BeginTx calls are under way at once, each on a connection of
	// its own: they can only be waiting in SQLite's busy handler.
	other := beginWrite(t, writer)
	done := make(chan struct{})
	go func() {
		defer close(done)
		countAtOnce(t, pool, newTestLogger(io.Discard), goroutines, each)
	}()
	// Should the test stop early, the lock is let go and the goroutines
	// finish before the pools are closed.
	defer func() {
		other.Rollback()
		<-done
	}()
	waitInUse(t, pool, goroutines)
	if err := other.Commit(); err != nil {
		t.Fatalf("other writer's commit: %v", err)
	}
	<-done
	assertVisits(t, pool, 1+goroutines*each)
}

// A one-connection pool makes a second transaction wait in database/sql,
// not in SQLite: it waits even with a busy timeout of 0, where a pool of
// several connections fails at once.
func TestOneConnectionPoolWaitsInDatabaseSQL(t *testing.T) {
	ctx := context.Background()
	logger := newTestLogger(io.Discard)

	t.Run("one connection: BeginTx waits for it", func(t *testing.T) {
		path := newVisitsDatabase(t)
		pool := openTestPool(t, path, "immediate", 0)
		pool.SetMaxOpenConns(1)
		other := beginWrite(t, pool)
		defer other.Rollback()
		done := startCountVisit(pool)
		deadline := time.Now().Add(10 * time.Second)
		for pool.Stats().WaitCount == 0 {
			if time.Now().After(deadline) {
				t.Fatal("countVisit is not waiting for the pool's connection after 10 s")
			}
			time.Sleep(time.Millisecond)
		}
		if err := other.Commit(); err != nil {
			t.Fatalf("other transaction's commit: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatalf("countVisit after the other transaction committed: %v", err)
		}
		assertVisits(t, pool, 2)
	})

	t.Run("several connections: SQLITE_BUSY at once", func(t *testing.T) {
		path := newVisitsDatabase(t)
		pool := openTestPool(t, path, "immediate", 0)
		other := beginWrite(t, pool)
		defer other.Rollback()
		_, err := countVisit(ctx, pool, logger, page)
		assertCodes(t, err, sqlite3.ErrBusy, sqlite3.ErrBusy.Extend(0))
		if err := other.Rollback(); err != nil {
			t.Fatal(err)
		}
		assertVisits(t, pool, 0)
	})
}

// This driver ignores sql.TxOptions: a transaction begun as read-only on
// the lesson's pool still runs BEGIN IMMEDIATE and holds the write lock.
func TestReadOnlyOptionStillTakesTheWriteLock(t *testing.T) {
	ctx := context.Background()
	path := newVisitsDatabase(t)
	db, err := openDatabase(ctx, path, "immediate", newTestLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assertClosed(t, db) })
	other := openTestPool(t, path, "immediate", 0)

	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, err = other.BeginTx(ctx, nil)
	assertCodes(t, err, sqlite3.ErrBusy, sqlite3.ErrBusy.Extend(0))
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
}

func TestTransactionalQuery(t *testing.T) {
	ctx := context.Background()
	query := "SELECT visits FROM page_visits WHERE page = ?"
	// writeAndRead reads the row, then sets the visits to 100 in tx.
	writeAndRead := func(tx *sql.Tx, row *sql.Row) error {
		var visits int64
		if err := row.Scan(&visits); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, "UPDATE page_visits SET visits = 100 WHERE page = ?", page)
		return err
	}

	t.Run("commits when the body succeeds", func(t *testing.T) {
		db := openVisits(t)
		var logs bytes.Buffer
		if err := transactionalQuery(ctx, db, newTestLogger(&logs), query, []any{page}, writeAndRead); err != nil {
			t.Fatal(err)
		}
		assertVisits(t, db, 100)
		assertLog(t, "log", logs.String(), []string{executed, "INFO - Transaction committed"})
	})

	t.Run("rolls back and returns the body's error unchanged", func(t *testing.T) {
		db := openVisits(t)
		var logs bytes.Buffer
		errBody := errors.New("the body failed")
		err := transactionalQuery(ctx, db, newTestLogger(&logs), query, []any{page}, func(tx *sql.Tx, row *sql.Row) error {
			if err := writeAndRead(tx, row); err != nil {
				return err
			}
			return errBody
		})
		if err != errBody || !errors.Is(err, errBody) {
			t.Errorf("transactionalQuery error = %v, want the body's error itself", err)
		}
		assertVisits(t, db, 0)
		assertLog(t, "log", logs.String(), []string{executed, "ERROR - Transaction rolled back: the body failed"})
	})

	t.Run("rolls back on a panic and panics again with the same value", func(t *testing.T) {
		db := openVisits(t)
		var logs bytes.Buffer
		value := &struct{ msg string }{"boom"}
		got := catchValue(func() {
			transactionalQuery(ctx, db, newTestLogger(&logs), query, []any{page}, func(tx *sql.Tx, row *sql.Row) error {
				if err := writeAndRead(tx, row); err != nil {
					return err
				}
				panic(value)
			})
		})
		if got != value {
			t.Errorf("recovered %v, want the body's own panic value %v", got, value)
		}
		assertInUse(t, db)
		assertVisits(t, db, 0)
		assertLog(t, "log", logs.String(), []string{executed, "ERROR - Transaction rolled back: &{boom}"})
	})

	t.Run("a failed query is returned and the body never runs", func(t *testing.T) {
		db := openVisits(t)
		var logs bytes.Buffer
		ran := false
		err := transactionalQuery(ctx, db, newTestLogger(&logs), "SELECT visits FROM no_such_table", nil,
			func(*sql.Tx, *sql.Row) error { ran = true; return nil })
		if err == nil || !strings.Contains(err.Error(), "no such table: no_such_table") {
			t.Errorf("transactionalQuery error = %v, want no such table", err)
		}
		if ran {
			t.Error("the body ran after the query failed")
		}
		assertInUse(t, db)
		assertLog(t, "log", logs.String(), []string{"ERROR - Query error: no such table: no_such_table"})
	})

	t.Run("a body that ignores the row still commits", func(t *testing.T) {
		db := openVisits(t)
		err := transactionalQuery(ctx, db, newTestLogger(io.Discard), query, []any{page}, func(tx *sql.Tx, _ *sql.Row) error {
			_, err := tx.ExecContext(ctx, "UPDATE page_visits SET visits = 5 WHERE page = ?", page)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		assertVisits(t, db, 5)
	})

	t.Run("a canceled context rolls back without a second error", func(t *testing.T) {
		db := openVisits(t)
		var logs bytes.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		err := transactionalQuery(ctx, db, newTestLogger(&logs), query, []any{page}, func(tx *sql.Tx, row *sql.Row) error {
			if err := writeAndRead(tx, row); err != nil {
				return err
			}
			// database/sql rolls the transaction back by itself when its
			// context ends, in a goroutine of its own. Waiting here until
			// that rollback has given the connection back makes sure the
			// helper's own Rollback comes second and finds the
			// transaction done (sql.ErrTxDone).
			cancel()
			waitInUse(t, db, 0)
			_, err := tx.ExecContext(ctx, "UPDATE page_visits SET visits = 0 WHERE page = ?", page)
			return err
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("transactionalQuery error = %v, want context.Canceled", err)
		}
		if errors.Is(err, sql.ErrTxDone) {
			t.Errorf("transactionalQuery error = %v, has sql.ErrTxDone joined to it", err)
		}
		assertVisits(t, db, 0)
		assertLog(t, "log", logs.String(), []string{executed, "ERROR - Transaction rolled back: context canceled"})
	})

	t.Run("an unknown page is an error and changes nothing", func(t *testing.T) {
		db := openVisits(t)
		_, err := countVisit(ctx, db, newTestLogger(io.Discard), "about")
		if err == nil || !strings.Contains(err.Error(), `no page "about"`) {
			t.Errorf("countVisit error = %v, want no page \"about\"", err)
		}
		assertVisits(t, db, 0)
	})
}

func TestPythonTuple(t *testing.T) {
	for _, tc := range []struct {
		args []any
		want string
	}{
		{nil, "()"},
		{[]any{25}, "(25,)"},
		{[]any{"home"}, "('home',)"},
		{[]any{25, "x"}, "(25, 'x')"},
	} {
		if got := pythonTuple(tc.args); got != tc.want {
			t.Errorf("pythonTuple(%v) = %s, want %s", tc.args, got, tc.want)
		}
	}
}

func TestMissingDatabaseFailsAndCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "missing.db")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), path, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "go run ./00-setup -db "+path) {
		t.Fatalf("run error = %v, want one naming go run ./00-setup -db %s", err, path)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", stdout.String())
	}
	if strings.Contains(stderr.String(), "Opened connection") {
		t.Errorf("stderr = %q, says opened though nothing was", stderr.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%s holds %d entries, want none", dir, len(entries))
	}
}

// newVisitsDatabase returns a fresh users.db with the lesson's table reset.
func newVisitsDatabase(t *testing.T) string {
	t.Helper()
	path := newDatabase(t)
	db := openTestPool(t, path, "immediate", 5*time.Second)
	if err := resetVisits(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	return path
}

// openVisits opens a fresh users.db with the lesson's table reset, through
// the lesson's openDatabase.
func openVisits(t *testing.T) *sql.DB {
	t.Helper()
	db, err := openDatabase(context.Background(), newVisitsDatabase(t), "immediate", newTestLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assertClosed(t, db) })
	return db
}

// openTestPool opens path with the given _txlock and busy timeout.
func openTestPool(t *testing.T, path, txlock string, busy time.Duration) *sql.DB {
	t.Helper()
	dsn := fmt.Sprintf("file:%s?mode=rw&_txlock=%s&_busy_timeout=%d", path, txlock, busy.Milliseconds())
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { assertClosed(t, db) })
	return db
}

// openWALPools switches a fresh copy of users.db to WAL mode and opens it
// twice: once with plain BEGIN, once with BEGIN IMMEDIATE.
func openWALPools(t *testing.T) (deferred, writer *sql.DB) {
	t.Helper()
	path := newVisitsDatabase(t)
	deferred = openTestPool(t, path, "deferred", walBusyTimeout)
	var mode string
	if err := deferred.QueryRow("PRAGMA journal_mode = WAL").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v, want wal", mode, err)
	}
	return deferred, openTestPool(t, path, "immediate", walBusyTimeout)
}

// walBusyTimeout is the busy timeout of the WAL tests' pools.
const walBusyTimeout = 10 * time.Second

// beginAndRead begins a transaction on db and reads the visit count in it.
func beginAndRead(t *testing.T, db *sql.DB) *sql.Tx {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback() })
	var visits int64
	if err := tx.QueryRow("SELECT visits FROM page_visits WHERE page = ?", page).Scan(&visits); err != nil {
		t.Fatal(err)
	}
	return tx
}

// beginWrite begins a transaction on db and counts a visit in it, so that
// it holds the write lock until it commits or rolls back.
func beginWrite(t *testing.T, db *sql.DB) *sql.Tx {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec("UPDATE page_visits SET visits = visits + 1 WHERE page = ?", page); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	return tx
}

// startCountVisit runs countVisit on pool in a goroutine and returns the
// channel that gets its error.
func startCountVisit(pool *sql.DB) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := countVisit(context.Background(), pool, newTestLogger(io.Discard), page)
		done <- err
	}()
	return done
}

// assertWaiting checks that a countVisit started on pool while another
// connection holds the write lock is blocked in its BeginTx: once pool has
// inUse connections in use, the waiter's among them, it has still neither
// finished nor failed 300 ms later, and still holds its connection. Its
// BEGIN IMMEDIATE cannot get past a write lock that is held.
func assertWaiting(t *testing.T, pool *sql.DB, inUse int, done <-chan error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for pool.Stats().InUse != inUse {
		select {
		case err := <-done:
			t.Fatalf("countVisit returned %v while another connection held the write lock", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connections in use after 10 s, want %d", pool.Stats().InUse, inUse)
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("countVisit returned %v while another connection held the write lock", err)
	case <-time.After(300 * time.Millisecond):
	}
	if got := pool.Stats().InUse; got != inUse {
		t.Fatalf("%d connections in use, want %d: the waiter let go of its connection", got, inUse)
	}
}

// countAtOnce runs countVisit each times in each of n goroutines on db and
// reports every error.
func countAtOnce(t *testing.T, db *sql.DB, logger guideLogger, n, each int) {
	t.Helper()
	errs := make(chan error, n*each)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for range each {
				if _, err := countVisit(context.Background(), db, logger, page); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("countVisit: %v", err)
	}
}

// waitInUse waits until want connections of the pool are in use, and fails
// the test if that takes more than a generous 10 s.
func waitInUse(t *testing.T, db *sql.DB, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for db.Stats().InUse != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections in use after 10 s, want %d", db.Stats().InUse, want)
		}
		time.Sleep(time.Millisecond)
	}
}

// assertCodes checks err's SQLite primary and extended codes.
func assertCodes(t *testing.T, err error, code sqlite3.ErrNo, extended sqlite3.ErrNoExtended) {
	t.Helper()
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) {
		t.Fatalf("error = %v, want an SQLite error", err)
	}
	if sqliteErr.Code != code || sqliteErr.ExtendedCode != extended {
		t.Errorf("codes = %d, %d (%v), want %d, %d", sqliteErr.Code, sqliteErr.ExtendedCode, err, code, extended)
	}
}

// assertVisits reads the page's count afresh, outside any transaction.
func assertVisits(t *testing.T, db *sql.DB, want int64) {
	t.Helper()
	var got int64
	if err := db.QueryRow("SELECT visits FROM page_visits WHERE page = ?", page).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("visits = %d, want %d", got, want)
	}
	assertInUse(t, db)
}

// assertInUse checks that no connection of the pool is in use.
func assertInUse(t *testing.T, db *sql.DB) {
	t.Helper()
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connections in use, want 0", inUse)
	}
}

// assertClosed checks that nothing is in use, closes db, and checks that
// nothing is left open.
func assertClosed(t *testing.T, db *sql.DB) {
	t.Helper()
	assertInUse(t, db)
	if err := db.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
	if open := db.Stats().OpenConnections; open != 0 {
		t.Errorf("after Close %d connections are open, want 0", open)
	}
}

// catchValue runs fn and returns the value it panicked with, or nil.
func catchValue(fn func()) (value any) {
	defer func() { value = recover() }()
	fn()
	return nil
}

// syncBuffer is a bytes.Buffer that goroutines may write to together.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// usersTable returns every row of the users table, one per line.
func usersTable(t *testing.T, path string) string {
	t.Helper()
	db := openTestPool(t, path, "deferred", 5*time.Second)
	rows, err := db.Query("SELECT id, name, email, age FROM users ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, age int64
		var name, email string
		if err := rows.Scan(&id, &name, &email, &age); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "(%d, '%s', '%s', %d)\n", id, name, email, age)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if b.Len() == 0 {
		t.Fatal("users table is empty")
	}
	return b.String()
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// assertLogCounts checks that every line of log is in the guide's format and
// that log holds each wanted line (its text after the timestamp) exactly as
// many times as wanted, and no other line.
func assertLogCounts(t *testing.T, name, log string, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		m := logLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("%s line %q is not in the guide's format", name, line)
			continue
		}
		got[m[1]+" - "+m[2]]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s lines counted %v, want %v", name, got, want)
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
