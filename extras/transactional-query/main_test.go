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
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// The lesson on the guide's users.db, in a scratch folder so that
// query.log lands there. Log lines go to stderr, discarded here.
func Example() {
	restore, err := intoScratchFolder()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer restore()
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// One visit:
	// ('home', 1)
	// 5 visits at the same time:
	// ('home', 6)
}

const executed = "INFO - Executed query: SELECT visits FROM demo_visits WHERE page = ? with params: ('home',)"

func TestRunLogsLeavesUsersAloneAndRunsAgain(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	t.Chdir(t.TempDir())
	users := dumpUsers(t, path)

	var first, stderr bytes.Buffer
	if err := run(context.Background(), path, &first, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	// The goroutines' lines come in any order, so they are counted.
	want := map[string]int{
		"INFO - Opened connection to " + path: 1,
		executed:                              1 + visitors,
		"INFO - Transaction committed":        1 + visitors,
		"INFO - Closed connection to " + path: 1,
	}
	assertCounts(t, "stderr", stderr.String(), want)
	assertNoFileOpen(t, path)

	var second bytes.Buffer
	if err := run(context.Background(), path, &second, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if second.String() != first.String() {
		t.Errorf("second run printed\n%s\nfirst run printed\n%s", &second, &first)
	}
	log, err := os.ReadFile("query.log")
	if err != nil {
		t.Fatal(err)
	}
	for line, n := range want {
		want[line] = 2 * n
	}
	assertCounts(t, "query.log after two runs", string(log), want)
	if got := dumpUsers(t, path); got != users {
		t.Errorf("users table after two runs:\n%s\nbefore:\n%s", got, users)
	}
}

func TestRunOnAMissingFileSaysWhatToDoAndNeverSaysOpened(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), "missing.db", &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "there is no such file; create it with:") {
		t.Fatalf("run error = %v, want the advice to create the file", err)
	}
	if strings.Contains(stderr.String(), "Opened connection") {
		t.Errorf("stderr says the database was opened, though it does not exist:\n%s", &stderr)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout = %q, want nothing", &stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); err == nil {
		t.Error("run created missing.db")
	}
}

func TestTransactionalQuery(t *testing.T) {
	const query = "SELECT visits FROM demo_visits WHERE page = ?"
	// readThenWrite reads the count and writes it plus 100, in tx.
	readThenWrite := func(ctx context.Context) func(*sql.Tx, *sql.Row) error {
		return func(tx *sql.Tx, row *sql.Row) error {
			var visits int
			if err := row.Scan(&visits); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "UPDATE demo_visits SET visits = ? WHERE page = 'home'", visits+100)
			return err
		}
	}

	t.Run("countVisit commits", func(t *testing.T) {
		path, db := openVisits(t)
		var log bytes.Buffer
		if err := countVisit(deadline(t), db, testLogger(&log), home); err != nil {
			t.Fatalf("countVisit: %v", err)
		}
		assertVisits(t, db, 1)
		assertLines(t, logMessages(t, log.String()), executed, "INFO - Transaction committed")
		assertWriteLockFree(t, path)
	})

	t.Run("an error from fn rolls back and comes back unchanged", func(t *testing.T) {
		path, db := openVisits(t)
		var log bytes.Buffer
		errFn := errors.New("fn failed")
		err := transactionalQuery(deadline(t), db, testLogger(&log), query, []any{home}, func(tx *sql.Tx, row *sql.Row) error {
			if err := readThenWrite(deadline(t))(tx, row); err != nil {
				return err
			}
			return errFn
		})
		if err != errFn {
			t.Errorf("error = %v, want fn's error itself", err)
		}
		assertVisits(t, db, 0)
		assertLines(t, logMessages(t, log.String()), executed, "ERROR - Transaction rolled back: fn failed")
		assertWriteLockFree(t, path)
	})

	t.Run("a panic rolls back and goes on as the same panic", func(t *testing.T) {
		path, db := openVisits(t)
		value := &struct{ msg string }{"boom"}
		got := recovered(func() {
			transactionalQuery(deadline(t), db, testLogger(io.Discard), query, []any{home}, func(tx *sql.Tx, row *sql.Row) error {
				readThenWrite(deadline(t))(tx, row)
				panic(value)
			})
		})
		if got != value {
			t.Errorf("recovered %v, want fn's own panic value %v", got, value)
		}
		assertWriteLockFree(t, path)
		assertVisits(t, db, 0)
	})

	t.Run("runtime.Goexit in fn rolls back", func(t *testing.T) {
		path, db := openVisits(t)
		done := make(chan struct{})
		go func() {
			defer close(done)
			transactionalQuery(deadline(t), db, testLogger(io.Discard), query, []any{home}, func(tx *sql.Tx, row *sql.Row) error {
				readThenWrite(deadline(t))(tx, row)
				runtime.Goexit()
				return nil
			})
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("the goroutine did not end within 10 s")
		}
		assertWriteLockFree(t, path)
		assertVisits(t, db, 0)
	})

	t.Run("a failed COMMIT is returned and nothing is saved", func(t *testing.T) {
		// A foreign key checked at COMMIT, on a pool with foreign keys on.
		path := newUsersDB(t, append(guideUsers, visitsTable...)...)
		db := openPool(t, path, "_foreign_keys=1&_txlock=immediate")
		db.SetMaxOpenConns(1)
		if _, err := db.Exec("CREATE TABLE demo_pages (page TEXT PRIMARY KEY REFERENCES demo_visits DEFERRABLE INITIALLY DEFERRED)"); err != nil {
			t.Fatal(err)
		}
		var log bytes.Buffer
		err := transactionalQuery(deadline(t), db, testLogger(&log), query, []any{home}, func(tx *sql.Tx, row *sql.Row) error {
			if err := readThenWrite(deadline(t))(tx, row); err != nil {
				return err
			}
			_, err := tx.Exec("INSERT INTO demo_pages VALUES ('about')")
			return err
		})
		assertCode(t, err, sqlite3.ErrConstraintForeignKey)
		assertVisits(t, db, 0)
		assertLines(t, logMessages(t, log.String()), executed, "ERROR - Transaction rolled back: FOREIGN KEY constraint failed")
		assertWriteLockFree(t, path)
	})

	t.Run("a failed query is returned and fn never runs", func(t *testing.T) {
		_, db := openVisits(t)
		var log bytes.Buffer
		err := transactionalQuery(deadline(t), db, testLogger(&log), "SELECT visits FROM no_such_table", nil,
			func(*sql.Tx, *sql.Row) error { t.Error("fn ran after the query failed"); return nil })
		if err == nil || !strings.Contains(err.Error(), "no such table: no_such_table") {
			t.Errorf("error = %v, want no such table", err)
		}
		assertLines(t, logMessages(t, log.String()), "ERROR - Query error: no such table: no_such_table")
	})

	t.Run("an unknown page is an error and changes nothing", func(t *testing.T) {
		_, db := openVisits(t)
		err := countVisit(deadline(t), db, testLogger(io.Discard), "about")
		if err == nil || err.Error() != `no page "about" in demo_visits` {
			t.Errorf("error = %v, want no page \"about\" in demo_visits", err)
		}
		assertVisits(t, db, 0)
	})

	t.Run("a page name with a quote needs placeholders", func(t *testing.T) {
		_, db := openVisits(t)
		if _, err := db.Exec("INSERT INTO demo_visits VALUES ('O''Brien''s page', 41)"); err != nil {
			t.Fatal(err)
		}
		if err := countVisit(deadline(t), db, testLogger(io.Discard), "O'Brien's page"); err != nil {
			t.Fatalf("countVisit: %v", err)
		}
		var got int
		if err := db.QueryRow("SELECT visits FROM demo_visits WHERE page = 'O''Brien''s page'").Scan(&got); err != nil || got != 42 {
			t.Errorf("visits = %d, %v; want 42", got, err)
		}
	})
}

// Two copies of the program, each with the lesson's pool and several
// goroutines, count visits at the same time: not one is lost, and none
// fails with "database is locked".
func TestCountsAreExactUnderConcurrentReadThenWrite(t *testing.T) {
	const pools, goroutines, each = 2, 4, 25
	path, _ := openVisits(t)
	var wg sync.WaitGroup
	errs := make(chan error, pools*goroutines*each)
	for range pools {
		db := openLessonPool(t, path)
		for range goroutines {
			wg.Go(func() {
				for range each {
					if err := countVisit(deadline(t), db, testLogger(io.Discard), home); err != nil {
						errs <- err
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("countVisit: %v", err)
	}
	assertVisits(t, openLessonPool(t, path), pools*goroutines*each)
}

// The lesson's DSN says _txlock=immediate: a transaction holds the write
// lock from its BEGIN, so no other connection can write between its read
// and its write.
func TestATransactionHoldsTheWriteLockFromItsStart(t *testing.T) {
	path, db := openVisits(t)
	read, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- transactionalQuery(deadline(t), db, testLogger(io.Discard), "SELECT visits FROM demo_visits WHERE page = ?", []any{home},
			func(tx *sql.Tx, row *sql.Row) error {
				var visits int
				if err := row.Scan(&visits); err != nil {
					return err
				}
				close(read)
				<-release
				_, err := tx.Exec("UPDATE demo_visits SET visits = ? WHERE page = 'home'", visits+1)
				return err
			})
	}()
	select {
	case <-read:
	case err := <-done:
		t.Fatalf("transactionalQuery returned %v before fn read", err)
	case <-time.After(10 * time.Second):
		t.Fatal("fn did not read within 10 s")
	}
	// Between the read and the write, another connection asks for the
	// write lock.
	otherTx, err := openPool(t, path, "_busy_timeout=0&_txlock=immediate").BeginTx(deadline(t), nil)
	if err == nil {
		otherTx.Rollback()
		t.Error("another connection took the write lock between the read and the write: BeginTx did not take it (is _txlock=immediate in the DSN?)")
	} else {
		assertCode(t, err, sqlite3.ErrBusy.Extend(0))
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("transactionalQuery: %v", err)
	}
}

// Why a plain BEGIN will not do: its read takes a read lock, and its write
// then cannot wait for a write lock that another connection holds, even
// with a busy timeout of ten minutes. It fails at once with SQLITE_BUSY.
func TestPlainBeginReadThenWriteFailsAtOnce(t *testing.T) {
	path, _ := openVisits(t)
	plain := openPool(t, path, "_busy_timeout=600000&_txlock=deferred")
	tx, err := plain.BeginTx(deadline(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var visits int
	if err := tx.QueryRow("SELECT visits FROM demo_visits WHERE page = 'home'").Scan(&visits); err != nil {
		t.Fatal(err)
	}
	other, err := openLessonPool(t, path).BeginTx(deadline(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()

	result := make(chan error, 1)
	go func() {
		_, err := tx.Exec("UPDATE demo_visits SET visits = ? WHERE page = 'home'", visits+1)
		result <- err
	}()
	select {
	case err := <-result:
		assertCode(t, err, sqlite3.ErrBusy.Extend(0))
	case <-time.After(10 * time.Second):
		other.Rollback() // lets the waiting write finish
		t.Fatal("the plain BEGIN's write is still waiting after 10 s")
	}
}

// The lesson's pool has one connection: a second transaction waits in
// database/sql for it, not on a connection of its own in SQLite's busy
// handler, which is no queue.
func TestWritersWaitForThePoolsOneConnection(t *testing.T) {
	_, db := openVisits(t)
	tx, err := db.BeginTx(deadline(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	done := make(chan error, 1)
	go func() { done <- countVisit(deadline(t), db, testLogger(io.Discard), home) }()
	for stop := time.After(10 * time.Second); db.Stats().WaitCount == 0; time.Sleep(time.Millisecond) {
		select {
		case <-stop:
			t.Fatal("countVisit did not wait for the pool's connection within 10 s")
		default:
		}
		if s := db.Stats(); s.OpenConnections > 1 {
			t.Fatalf("the pool opened %d connections, want 1: writers queue in SQLite's busy handler (is db.SetMaxOpenConns(1) there?)", s.OpenConnections)
		}
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("countVisit: %v", err)
	}
	assertVisits(t, db, 1)
}

// The README's WAL recipe: journal_mode=WAL set once in the file, the
// lesson's writer pool, readers in a pool of their own. A writer's
// transaction that outgrows its page cache locks readers out in the
// default rollback-journal mode until it commits; under WAL they read the
// last committed count at once.
func TestReadersDoNotWaitForAWriterUnderWAL(t *testing.T) {
	for _, tc := range []struct {
		journal string
		wait    bool
	}{{"delete", true}, {"wal", false}} {
		t.Run(tc.journal, func(t *testing.T) {
			path := newUsersDB(t, append(visitsTable, "PRAGMA journal_mode = "+tc.journal, "CREATE TABLE demo_big (b BLOB)")...)
			writer := openLessonPool(t, path)
			readers := openPool(t, path, "mode=ro&_busy_timeout=0")

			written, release := make(chan struct{}), make(chan struct{})
			done := make(chan error, 1)
			go func() {
				done <- countVisitAndMore(t, writer, written, release)
			}()
			select {
			case <-written:
			case err := <-done:
				t.Fatalf("the writer returned %v before it had written", err)
			case <-time.After(10 * time.Second):
				t.Fatal("the writer did not write within 10 s")
			}

			var visits int
			err := readers.QueryRowContext(deadline(t), "SELECT visits FROM demo_visits WHERE page = 'home'").Scan(&visits)
			close(release)
			switch {
			case tc.wait && err == nil:
				t.Errorf("a reader read %d while the writer held its lock, want SQLITE_BUSY: it would have to wait", visits)
			case tc.wait:
				assertCode(t, err, sqlite3.ErrBusy.Extend(0))
			case err != nil:
				t.Errorf("a reader under WAL: %v, want the last committed count at once", err)
			case visits != 0:
				t.Errorf("a reader under WAL read %d, want 0, the last committed count", visits)
			}
			if err := <-done; err != nil {
				t.Fatalf("the writer: %v", err)
			}
			if err := readers.QueryRowContext(deadline(t), "SELECT visits FROM demo_visits WHERE page = 'home'").Scan(&visits); err != nil || visits != 1 {
				t.Errorf("after the commit a reader read %d, %v; want 1", visits, err)
			}
		})
	}
}

// countVisitAndMore counts a visit and writes 4 MB more, twice SQLite's
// default page cache, in one transaction; then it closes written and waits
// for release before it commits.
func countVisitAndMore(t *testing.T, db *sql.DB, written, release chan struct{}) error {
	return transactionalQuery(deadline(t), db, testLogger(io.Discard), "SELECT visits FROM demo_visits WHERE page = ?", []any{home},
		func(tx *sql.Tx, row *sql.Row) error {
			var visits int
			if err := row.Scan(&visits); err != nil {
				return err
			}
			if _, err := tx.Exec("UPDATE demo_visits SET visits = ? WHERE page = 'home'", visits+1); err != nil {
				return err
			}
			_, err := tx.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) INSERT INTO demo_big SELECT randomblob(4000) FROM n")
			close(written)
			<-release
			return err
		})
}

func TestPageShowsTheOutput(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	var stdout bytes.Buffer
	t.Run("run", func(t *testing.T) {
		t.Chdir(t.TempDir())
		if err := run(context.Background(), path, &stdout, io.Discard); err != nil {
			t.Fatal(err)
		}
	})
	assertPageShows(t, "```text\n"+stdout.String()+"```\n")
	for _, line := range []string{"INFO - Opened connection to users.db", executed, "INFO - Transaction committed", "INFO - Closed connection to users.db"} {
		if !strings.Contains(page(t), " - "+line+"\n") {
			t.Errorf("README.md does not show the log line %q", line)
		}
	}
}

func TestExperimentRemoveTxlockImmediate(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "&_txlock=immediate",
		command: "go test -run TestATransactionHoldsTheWriteLockFromItsStart ./extras/transactional-query",
		want:    []string{"another connection took the write lock between the read and the write"},
		fails:   true,
	})
}

func TestExperimentRemoveSetMaxOpenConns(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "\tdb.SetMaxOpenConns(1)\n",
		command: "go test -run TestWritersWaitForThePoolsOneConnection ./extras/transactional-query",
		want:    []string{"the pool opened 2 connections, want 1"},
		fails:   true,
	})
}

func TestExperimentDeleteDeferRollback(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "\tdefer tx.Rollback()\n",
		command: "go test -run TestTransactionalQuery ./extras/transactional-query",
		want: []string{
			"--- FAIL: TestTransactionalQuery/runtime.Goexit_in_fn_rolls_back",
			"another connection cannot take the write lock: database is locked",
		},
		fails: true,
	})
}

func TestExperimentWriteThroughDBInsteadOfTx(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     `_, err := tx.ExecContext(ctx, "UPDATE demo_visits`,
		new:     `_, err := db.ExecContext(ctx, "UPDATE demo_visits`,
		command: "go test -run TestTransactionalQuery/countVisit_commits ./extras/transactional-query",
		want:    []string{"countVisit: context deadline exceeded"},
		fails:   true,
	})
}

// visitsTable is the lesson's table with the home page at 0 visits.
var visitsTable = []string{
	"CREATE TABLE demo_visits (page TEXT PRIMARY KEY, visits INTEGER NOT NULL)",
	"INSERT INTO demo_visits VALUES ('home', 0)",
}

// openVisits makes the guide's users.db with the lesson's table and opens
// it with the lesson's openDB.
func openVisits(t *testing.T) (string, *sql.DB) {
	t.Helper()
	path := newUsersDB(t, append(guideUsers, visitsTable...)...)
	return path, openLessonPool(t, path)
}

// openLessonPool opens path with the lesson's openDB. Its cleanup closes
// the pool and checks that nothing was left open.
func openLessonPool(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := openDB(deadline(t), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("db.Close: %v", err)
		}
		assertNothingOpen(t, db)
	})
	return db
}

// openPool opens a pool of the test's own on path with the given options.
func openPool(t *testing.T, path, options string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", fileURI(path)+"?"+options)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// assertWriteLockFree fails unless another connection can take the write
// lock at once: no transaction was left open.
func assertWriteLockFree(t *testing.T, path string) {
	t.Helper()
	tx, err := openPool(t, path, "_busy_timeout=0&_txlock=immediate").BeginTx(deadline(t), nil)
	if err != nil {
		t.Errorf("another connection cannot take the write lock: %v: a transaction was left open", err)
		return
	}
	tx.Rollback()
}

// assertVisits reads the home page's count afresh, with nothing of the
// pool in use.
func assertVisits(t *testing.T, db *sql.DB, want int) {
	t.Helper()
	if s := db.Stats(); s.InUse != 0 {
		t.Errorf("%d connections in use after the transaction, want 0", s.InUse)
		return
	}
	var got int
	if err := db.QueryRowContext(deadline(t), "SELECT visits FROM demo_visits WHERE page = 'home'").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("visits = %d, want %d", got, want)
	}
}

// assertCode checks err's extended SQLite code, classified with errors.As.
func assertCode(t *testing.T, err error, want sqlite3.ErrNoExtended) {
	t.Helper()
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) || sqliteErr.ExtendedCode != want {
		t.Errorf("error = %v, want SQLite's extended code %d", err, want)
	}
}

// assertLines compares log messages one by one.
func assertLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// assertCounts checks how many times each log message appears, and that
// no other appears.
func assertCounts(t *testing.T, name, log string, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	for _, m := range logMessages(t, log) {
		got[m]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s messages counted %v, want %v", name, got, want)
	}
}

// assertNoFileOpen fails if the process still has path open (Linux only):
// every connection run opened was closed.
func assertNoFileOpen(t *testing.T, path string) {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Log("cannot list open files here:", err)
		return
	}
	for _, e := range entries {
		if target, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); target == path {
			t.Errorf("%s is still open after run returned", path)
		}
	}
}

// dumpUsers returns the users table as Python prints it.
func dumpUsers(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", fileURI(path)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := queryAsStored(deadline(t), db, "SELECT * FROM users")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		row, err := scanRow(rows)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// deadline is a context that ends with the test or after 5 s, whichever
// comes first, so that a query or a wait for the pool cannot hang.
func deadline(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testLogger is the lesson's logger, writing to w alone.
func testLogger(w io.Writer) *slog.Logger {
	return slog.New(&guideHandler{mu: new(sync.Mutex), out: []io.Writer{w}})
}

// recovered runs fn and returns the value it panicked with, or nil.
func recovered(fn func()) (value any) {
	defer func() { value = recover() }()
	fn()
	return nil
}

// pageCitations are the lines of main.go that README.md cites by number:
// none, for the page quotes its lines instead.
var pageCitations []citation
