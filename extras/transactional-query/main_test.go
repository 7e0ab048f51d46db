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
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

// The lesson on the guide's users.db, in the scratch folder, so that
// query.log lands there. Log lines go to stderr, discarded here.
func Example() {
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// One visit:
	// ('home', 1)
	// 5 visits at the same time:
	// ('home', 6)
}

// executed is the line each visit logs first, as the log file has it;
// stderr shows the message alone.
const executed = "INFO - Executed query: SELECT visits FROM demo_visits WHERE page = ? with params: ('home',)"

func TestRunLogsLeavesUsersAloneAndRunsAgain(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	t.Chdir(t.TempDir())
	users := workbooktest.TableRows(t, path, "users")

	var first, stderr bytes.Buffer
	if err := run(workbooktest.Context(t), path, &first, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	// The goroutines' lines come in any order, so they are counted.
	want := map[string]int{
		"INFO - Opened connection to " + path: 1,
		executed:                              1 + visitors,
		"INFO - Transaction committed":        1 + visitors,
		"INFO - Closed connection to " + path: 1,
	}
	lines := workbooktest.Lines(stderr.String())
	if first, last := lines[0], lines[len(lines)-1]; first != "Opened connection to "+path || last != "Closed connection to "+path {
		t.Errorf("stderr starts %q and ends %q, want the opening and the closing", first, last)
	}
	assertCounts(t, "stderr", lines, messagesOf(want))
	if open := workbooktest.OpenDescriptors(path); len(open) > 0 {
		t.Errorf("%s is still open after run returned", path)
	}

	var second bytes.Buffer
	if err := run(workbooktest.Context(t), path, &second, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if second.String() != first.String() {
		t.Errorf("second run printed\n%s\nfirst run printed\n%s", &second, &first)
	}
	for line, n := range want {
		want[line] = 2 * n
	}
	assertCounts(t, "query.log after two runs", workbooktest.ReadLogFile(t, "query.log"), want)
	if got := workbooktest.TableRows(t, path, "users"); got != users {
		t.Errorf("users table after two runs:\n%s\nbefore:\n%s", got, users)
	}
}

// messagesOf counts log lines by their message alone, as stderr shows
// them: "INFO - Transaction committed" becomes "Transaction committed".
func messagesOf(counts map[string]int) map[string]int {
	bare := map[string]int{}
	for line, n := range counts {
		_, message, _ := strings.Cut(line, " - ")
		bare[message] += n
	}
	return bare
}

// run checks the error of every concurrent visit: a visit that fails makes
// run fail with its error, and the count is not printed as if all went
// well.
func TestRunReturnsTheErrorOfAFailedVisit(t *testing.T) {
	// A trigger refuses the fourth visit, so the first concurrent visits
	// go through and the others fail.
	path := workbooktest.NewUsersDB(t, append(workbooktest.GuideUsers, visitsTable[0],
		`CREATE TRIGGER refuse_fourth_visit BEFORE UPDATE ON demo_visits WHEN NEW.visits = 4
BEGIN SELECT RAISE(ABORT, 'the fourth visit is refused'); END`)...)
	t.Chdir(t.TempDir())
	var stdout bytes.Buffer
	err := run(workbooktest.Context(t), path, &stdout, io.Discard)
	workbooktest.AssertSQLiteCode(t, err, workbooktest.SQLiteConstraintTrigger)
	if err == nil || !strings.Contains(err.Error(), "the fourth visit is refused") {
		t.Errorf("run error = %v, want the failed visit's error", err)
	}
	if want := "One visit:\n('home', 1)\n5 visits at the same time:\n"; stdout.String() != want {
		t.Errorf("stdout:\n%swant no count after the failed visits:\n%s", &stdout, want)
	}
}

func TestRunOnAMissingFileSaysWhatToDoAndNeverSaysOpened(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var stdout, stderr bytes.Buffer
	err := run(workbooktest.Context(t), "missing.db", &stdout, &stderr)
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
		logger, logged := workbooktest.GuideLogger(t, io.Discard)
		if err := countVisit(workbooktest.Context(t), db, logger, home); err != nil {
			t.Fatalf("countVisit: %v", err)
		}
		assertVisits(t, db, 1)
		assertLines(t, logged(), executed, "INFO - Transaction committed")
		assertWriteLockFree(t, path)
	})

	t.Run("an error from fn rolls back and comes back unchanged", func(t *testing.T) {
		path, db := openVisits(t)
		logger, logged := workbooktest.GuideLogger(t, io.Discard)
		errFn := errors.New("fn failed")
		err := transactionalQuery(workbooktest.Context(t), db, logger, query, []any{home}, func(tx *sql.Tx, row *sql.Row) error {
			if err := readThenWrite(workbooktest.Context(t))(tx, row); err != nil {
				return err
			}
			return errFn
		})
		if err != errFn {
			t.Errorf("error = %v, want fn's error itself", err)
		}
		assertVisits(t, db, 0)
		assertLines(t, logged(), executed, "ERROR - Transaction rolled back: fn failed")
		assertWriteLockFree(t, path)
	})

	t.Run("a panic rolls back and goes on as the same panic", func(t *testing.T) {
		path, db := openVisits(t)
		value := &struct{ msg string }{"boom"}
		got := recovered(func() {
			transactionalQuery(workbooktest.Context(t), db, workbooktest.Discard(), query, []any{home}, func(tx *sql.Tx, row *sql.Row) error {
				readThenWrite(workbooktest.Context(t))(tx, row)
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
		ctx := workbooktest.Context(t)
		path, db := openVisits(t)
		done := make(chan struct{})
		go func() {
			defer close(done)
			transactionalQuery(workbooktest.Context(t), db, workbooktest.Discard(), query, []any{home}, func(tx *sql.Tx, row *sql.Row) error {
				readThenWrite(workbooktest.Context(t))(tx, row)
				runtime.Goexit()
				return nil
			})
		}()
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatal("the goroutine was still running when the test's time ran out")
		}
		assertWriteLockFree(t, path)
		assertVisits(t, db, 0)
	})

	t.Run("a failed COMMIT is returned and nothing is saved", func(t *testing.T) {
		// A foreign key checked at COMMIT, on a pool with foreign keys on.
		path := workbooktest.NewUsersDB(t, append(workbooktest.GuideUsers, visitsTable...)...)
		db := openPool(t, path, "_foreign_keys=1&_txlock=immediate")
		db.SetMaxOpenConns(1)
		if _, err := db.Exec("CREATE TABLE demo_pages (page TEXT PRIMARY KEY REFERENCES demo_visits DEFERRABLE INITIALLY DEFERRED)"); err != nil {
			t.Fatal(err)
		}
		logger, logged := workbooktest.GuideLogger(t, io.Discard)
		err := transactionalQuery(workbooktest.Context(t), db, logger, query, []any{home}, func(tx *sql.Tx, row *sql.Row) error {
			if err := readThenWrite(workbooktest.Context(t))(tx, row); err != nil {
				return err
			}
			_, err := tx.Exec("INSERT INTO demo_pages VALUES ('about')")
			return err
		})
		workbooktest.AssertSQLiteCode(t, err, workbooktest.SQLiteConstraintForeignKey)
		assertVisits(t, db, 0)
		assertLines(t, logged(), executed, "ERROR - Transaction rolled back: FOREIGN KEY constraint failed")
		assertWriteLockFree(t, path)
	})

	t.Run("a failed query is returned and fn never runs", func(t *testing.T) {
		_, db := openVisits(t)
		logger, logged := workbooktest.GuideLogger(t, io.Discard)
		err := transactionalQuery(workbooktest.Context(t), db, logger, "SELECT visits FROM no_such_table", nil,
			func(*sql.Tx, *sql.Row) error { t.Error("fn ran after the query failed"); return nil })
		if err == nil || !strings.Contains(err.Error(), "no such table: no_such_table") {
			t.Errorf("error = %v, want no such table", err)
		}
		assertLines(t, logged(), "ERROR - Query error: no such table: no_such_table")
	})

	t.Run("an unknown page is an error and changes nothing", func(t *testing.T) {
		_, db := openVisits(t)
		err := countVisit(workbooktest.Context(t), db, workbooktest.Discard(), "about")
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
		if err := countVisit(workbooktest.Context(t), db, workbooktest.Discard(), "O'Brien's page"); err != nil {
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
	const pools, goroutines, each = 2, 4, 10
	path, _ := openVisits(t)
	var wg sync.WaitGroup
	errs := make(chan error, pools*goroutines*each)
	for range pools {
		db := openLessonPool(t, path)
		for range goroutines {
			wg.Go(func() {
				for range each {
					if err := countVisit(workbooktest.Context(t), db, workbooktest.Discard(), home); err != nil {
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
	ctx := workbooktest.Context(t)
	path, db := openVisits(t)
	read, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- transactionalQuery(workbooktest.Context(t), db, workbooktest.Discard(), "SELECT visits FROM demo_visits WHERE page = ?", []any{home},
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
	case <-ctx.Done():
		t.Fatal("fn had not read when the test's time ran out")
	}
	// Between the read and the write, another connection asks for the
	// write lock.
	otherTx, err := openPool(t, path, "_busy_timeout=0&_txlock=immediate").BeginTx(workbooktest.Context(t), nil)
	if err == nil {
		otherTx.Rollback()
		t.Error("another connection took the write lock between the read and the write: BeginTx did not take it (is _txlock=immediate in the DSN?)")
	} else {
		workbooktest.AssertSQLiteCode(t, err, workbooktest.SQLiteBusy)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("transactionalQuery: %v", err)
	}
}

// Why a plain BEGIN will not do: its read takes a read lock, and its write
// then cannot wait for a write lock that another connection holds, even
// with a busy timeout of an hour. It fails at once with SQLITE_BUSY.
func TestPlainBeginReadThenWriteFailsAtOnce(t *testing.T) {
	ctx := workbooktest.Context(t)
	path, _ := openVisits(t)
	plain := openPool(t, path, "_busy_timeout=3600000&_txlock=deferred")
	tx, err := plain.BeginTx(workbooktest.Context(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var visits int
	if err := tx.QueryRow("SELECT visits FROM demo_visits WHERE page = 'home'").Scan(&visits); err != nil {
		t.Fatal(err)
	}
	other, err := openLessonPool(t, path).BeginTx(workbooktest.Context(t), nil)
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
		workbooktest.AssertSQLiteCode(t, err, workbooktest.SQLiteBusy)
	case <-ctx.Done():
		other.Rollback() // lets the waiting write finish
		t.Fatal("the plain BEGIN's write was still waiting for the lock when the test's time ran out")
	}
}

// The lesson's pool has one connection: a second transaction waits in
// database/sql for it, not on a connection of its own in SQLite's busy
// handler, which polls and gives up after the busy timeout.
func TestWritersWaitForThePoolsOneConnection(t *testing.T) {
	_, db := openVisits(t)
	tx, err := db.BeginTx(workbooktest.Context(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	done := make(chan error, 1)
	go func() { done <- countVisit(workbooktest.Context(t), db, workbooktest.Discard(), home) }()
	workbooktest.WaitFor(t, "countVisit to wait for a connection", func() bool {
		s := db.Stats()
		return s.WaitCount > 0 || s.OpenConnections > 1
	})
	if s := db.Stats(); s.OpenConnections > 1 {
		t.Fatalf("the pool opened %d connections, want 1: writers wait in SQLite's busy handler (is db.SetMaxOpenConns(1) there?)", s.OpenConnections)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("countVisit: %v", err)
	}
	assertVisits(t, db, 1)
}

// Only tx.* calls are in the transaction. On the lesson's pool of one, a
// db.* call inside fn waits for the connection that the transaction holds,
// until its context ends.
func TestADBCallInsideFnWaitsForThePoolsOneConnection(t *testing.T) {
	ctx := workbooktest.Context(t)
	_, db := openVisits(t)
	err := transactionalQuery(ctx, db, workbooktest.Discard(), "SELECT visits FROM demo_visits WHERE page = ?", []any{home},
		func(tx *sql.Tx, row *sql.Row) error {
			shortCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			_, err := db.ExecContext(shortCtx, "UPDATE demo_visits SET visits = 100 WHERE page = 'home'")
			return err
		})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a write through db inside fn: %v, want context.DeadlineExceeded", err)
	}
	assertVisits(t, db, 0)
}

// On a pool of more than one connection, a write through db inside fn gets
// a connection of its own and waits for the write lock that the
// transaction holds: it fails with "database is locked" after the busy
// timeout. countVisit writes through tx, so it counts.
func TestCountVisitWritesThroughItsTransaction(t *testing.T) {
	ctx := workbooktest.Context(t)
	path := workbooktest.NewUsersDB(t, append(workbooktest.GuideUsers, visitsTable...)...)
	db := workbooktest.LargerPool(t, dataSourceName(path))
	err := transactionalQuery(ctx, db, workbooktest.Discard(), "SELECT visits FROM demo_visits WHERE page = ?", []any{home},
		func(tx *sql.Tx, row *sql.Row) error {
			_, err := db.ExecContext(ctx, "UPDATE demo_visits SET visits = 100 WHERE page = 'home'")
			return err
		})
	workbooktest.AssertSQLiteCode(t, err, workbooktest.SQLiteBusy)
	if err := countVisit(ctx, db, workbooktest.Discard(), home); err != nil {
		t.Errorf("countVisit: %v", err)
	}
	assertVisits(t, db, 1)
}

// The lesson's DSN asks for synchronous=FULL, where this driver would set
// NORMAL: a counted visit survives a power loss.
func TestEachConnectionSyncsFully(t *testing.T) {
	_, db := openVisits(t)
	workbooktest.AssertSynchronous(t, db, "FULL")
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
			ctx := workbooktest.Context(t)
			path := workbooktest.NewUsersDB(t, append(visitsTable, "PRAGMA journal_mode = "+tc.journal, "CREATE TABLE demo_big (b BLOB)")...)
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
			case <-ctx.Done():
				t.Fatal("the writer had not written when the test's time ran out")
			}

			var visits int
			err := readers.QueryRowContext(workbooktest.Context(t), "SELECT visits FROM demo_visits WHERE page = 'home'").Scan(&visits)
			close(release)
			switch {
			case tc.wait && err == nil:
				t.Errorf("a reader read %d while the writer held its lock, want SQLITE_BUSY: it would have to wait", visits)
			case tc.wait:
				workbooktest.AssertSQLiteCode(t, err, workbooktest.SQLiteBusy)
			case err != nil:
				t.Errorf("a reader under WAL: %v, want the last committed count at once", err)
			case visits != 0:
				t.Errorf("a reader under WAL read %d, want 0, the last committed count", visits)
			}
			if err := <-done; err != nil {
				t.Fatalf("the writer: %v", err)
			}
			if err := readers.QueryRowContext(workbooktest.Context(t), "SELECT visits FROM demo_visits WHERE page = 'home'").Scan(&visits); err != nil || visits != 1 {
				t.Errorf("after the commit a reader read %d, %v; want 1", visits, err)
			}
		})
	}
}

// countVisitAndMore counts a visit and writes 4 MB more, twice SQLite's
// default page cache, in one transaction; then it closes written and waits
// for release before it commits.
func countVisitAndMore(t *testing.T, db *sql.DB, written, release chan struct{}) error {
	return transactionalQuery(workbooktest.Context(t), db, workbooktest.Discard(), "SELECT visits FROM demo_visits WHERE page = ?", []any{home},
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
	// users.db in a folder of its own, where query.log goes too.
	t.Chdir(filepath.Dir(workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)))
	var stdout, stderr bytes.Buffer
	if err := run(workbooktest.Context(t), "users.db", &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	workbooktest.AssertPageShows(t, "```text\n"+stdout.String()+"```\n")
	page := workbooktest.Page(t)
	for _, line := range workbooktest.Lines(stderr.String()) {
		if !strings.Contains(page, "\n"+line+"\n") {
			t.Errorf("README.md does not show stderr's line %q", line)
		}
	}
	for _, line := range workbooktest.ReadLogFile(t, "query.log") {
		if !strings.Contains(page, " - "+line+"\n") {
			t.Errorf("README.md does not show the log file's line %q", line)
		}
	}
}

func TestExperimentRemoveTxlockImmediate(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "&_txlock=immediate",
		Command: "go test -run TestATransactionHoldsTheWriteLockFromItsStart ./extras/transactional-query",
		Want:    []string{"another connection took the write lock between the read and the write"},
		Fails:   true,
	})
}

func TestExperimentRemoveSetMaxOpenConns(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\tdb.SetMaxOpenConns(1)\n",
		Command: "go test -run TestWritersWaitForThePoolsOneConnection ./extras/transactional-query",
		Want:    []string{"the pool opened 2 connections, want 1"},
		Fails:   true,
	})
}

func TestExperimentDeleteDeferRollback(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\tdefer tx.Rollback()\n",
		Command: "go test -run TestTransactionalQuery ./extras/transactional-query",
		Want: []string{
			"--- FAIL: TestTransactionalQuery/runtime.Goexit_in_fn_rolls_back",
			"another connection cannot take the write lock: database is locked",
		},
		Fails: true,
	})
}

func TestExperimentWriteThroughDBInsteadOfTx(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     `_, err = tx.ExecContext(ctx, "UPDATE demo_visits`,
		New:     `_, err = db.ExecContext(ctx, "UPDATE demo_visits`,
		Command: "go test -run TestCountVisitWritesThroughItsTransaction ./extras/transactional-query",
		Want:    []string{"countVisit: database is locked"},
		Fails:   true,
	})
}

func TestExperimentRemoveSynchronousFull(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "&_synchronous=FULL",
		Command: "go test -run TestEachConnectionSyncsFully ./extras/transactional-query",
		Want:    []string{"PRAGMA synchronous = NORMAL (1), want FULL"},
		Fails:   true,
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
	path := workbooktest.NewUsersDB(t, append(workbooktest.GuideUsers, visitsTable...)...)
	return path, openLessonPool(t, path)
}

// openLessonPool opens path with the lesson's openDB. Its cleanup closes
// the pool and checks that nothing was left open.
func openLessonPool(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := openDB(workbooktest.Context(t), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("db.Close: %v", err)
		}
		workbooktest.AssertNothingOpen(t, db)
	})
	return db
}

// openPool opens a pool of the test's own on path with the given options.
func openPool(t *testing.T, path, options string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?"+options)
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
	tx, err := openPool(t, path, "_busy_timeout=0&_txlock=immediate").BeginTx(workbooktest.Context(t), nil)
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
	if err := db.QueryRowContext(workbooktest.Context(t), "SELECT visits FROM demo_visits WHERE page = 'home'").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Errorf("visits = %d, want %d", got, want)
	}
}

// assertLines compares log messages one by one.
func assertLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// assertCounts checks how many times each line appears, and that no
// other appears.
func assertCounts(t *testing.T, name string, lines []string, want map[string]int) {
	t.Helper()
	got := map[string]int{}
	for _, line := range lines {
		got[line]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s lines counted %v, want %v", name, got, want)
	}
}

// recovered runs fn and returns the value it panicked with, or nil.
func recovered(fn func()) (value any) {
	defer func() { value = recover() }()
	fn()
	return nil
}
