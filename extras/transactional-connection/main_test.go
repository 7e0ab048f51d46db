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
	"testing"
	"time"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

// The lesson on the guide's users.db, in the scratch folder, so that
// connection.log lands there. Log lines go to stderr, discarded here.
func Example() {
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ('Alice', 100)
	// ('Bob', 50)
	// Alice pays Bob 30: committed
	// ('Alice', 70)
	// ('Bob', 80)
	// Bob pays Alice 500: rolled back: CHECK constraint failed: balance >= 0
	// ('Alice', 70)
	// ('Bob', 80)
	// Alice pays Carol 10: rolled back: FOREIGN KEY constraint failed
	// ('Alice', 70)
	// ('Bob', 80)
}

// wantLog is what run logs, each line's "LEVEL - message"; stderr shows
// the messages alone.
func wantLog(path string) []string {
	return []string{
		"INFO - Opened connection to " + path,
		"INFO - Transaction committed",
		"INFO - Transaction committed",
		"ERROR - Transaction rolled back: CHECK constraint failed: balance >= 0",
		"ERROR - Transaction rolled back: FOREIGN KEY constraint failed",
		"INFO - Closed connection to " + path,
	}
}

// messages is each line of log without its "LEVEL - " part: what stderr
// shows.
func messages(log []string) []string {
	var bare []string
	for _, line := range log {
		_, message, _ := strings.Cut(line, " - ")
		bare = append(bare, message)
	}
	return bare
}

func TestRunLogsLeavesUsersAloneAndRunsAgain(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	t.Chdir(t.TempDir())
	users := workbooktest.TableRows(t, path, "users")

	var first, stderr bytes.Buffer
	if err := run(workbooktest.Context(t), path, &first, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	assertLines(t, "stderr", workbooktest.Lines(stderr.String()), messages(wantLog(path)))
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
	assertLines(t, "connection.log after two runs", workbooktest.ReadLogFile(t, "connection.log"), append(wantLog(path), wantLog(path)...))
	if got := workbooktest.TableRows(t, path, "users"); got != users {
		t.Errorf("users table after two runs:\n%s\nbefore:\n%s", got, users)
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

func TestWithTransaction(t *testing.T) {
	aliceToBob := payment{"Alice", "Bob", 30}

	t.Run("commits when fn returns nil", func(t *testing.T) {
		ctx := workbooktest.Context(t)
		path, db := openAccounts(t)
		logger, logged := workbooktest.GuideLogger(t, io.Discard)
		if err := withTransaction(ctx, db, logger, func(tx *sql.Tx) error {
			return transfer(ctx, tx, aliceToBob)
		}); err != nil {
			t.Fatalf("withTransaction: %v", err)
		}
		assertAccounts(t, db, 70, 80)
		assertLines(t, "log", logged(), []string{"INFO - Transaction committed"})
		assertWriteLockFree(t, path)
	})

	t.Run("an error from fn rolls back what fn wrote and comes back unchanged", func(t *testing.T) {
		ctx := workbooktest.Context(t)
		path, db := openAccounts(t)
		logger, logged := workbooktest.GuideLogger(t, io.Discard)
		errFn := errors.New("fn failed")
		err := withTransaction(ctx, db, logger, func(tx *sql.Tx) error {
			if err := transfer(ctx, tx, aliceToBob); err != nil {
				return err
			}
			return errFn
		})
		if err != errFn {
			t.Errorf("withTransaction error = %v, want fn's error itself", err)
		}
		assertAccounts(t, db, 100, 50)
		assertLines(t, "log", logged(), []string{"ERROR - Transaction rolled back: fn failed"})
		assertWriteLockFree(t, path)
	})

	t.Run("a refused debit takes back the credit written before it", func(t *testing.T) {
		ctx := workbooktest.Context(t)
		_, db := openAccounts(t)
		err := withTransaction(ctx, db, workbooktest.Discard(), func(tx *sql.Tx) error {
			return transfer(ctx, tx, payment{"Bob", "Alice", 500})
		})
		workbooktest.AssertSQLiteCode(t, err, workbooktest.SQLiteConstraintCheck)
		assertAccounts(t, db, 100, 50)
	})

	t.Run("a failed COMMIT is returned and nothing is saved", func(t *testing.T) {
		ctx := workbooktest.Context(t)
		path, db := openAccounts(t)
		logger, logged := workbooktest.GuideLogger(t, io.Discard)
		err := withTransaction(ctx, db, logger, func(tx *sql.Tx) error {
			return transfer(ctx, tx, payment{"Alice", "Carol", 10})
		})
		// Carol has no account: the deferred foreign key fails at COMMIT.
		workbooktest.AssertSQLiteCode(t, err, workbooktest.SQLiteConstraintForeignKey)
		assertAccounts(t, db, 100, 50)
		assertLines(t, "log", logged(), []string{"ERROR - Transaction rolled back: FOREIGN KEY constraint failed"})
		assertWriteLockFree(t, path)
	})

	t.Run("a panic rolls back and goes on as the same panic", func(t *testing.T) {
		ctx := workbooktest.Context(t)
		path, db := openAccounts(t)
		value := &struct{ msg string }{"boom"}
		got := recovered(func() {
			withTransaction(ctx, db, workbooktest.Discard(), func(tx *sql.Tx) error {
				if err := transfer(ctx, tx, aliceToBob); err != nil {
					return err
				}
				panic(value)
			})
		})
		if got != value {
			t.Errorf("recovered %v, want fn's own panic value %v", got, value)
		}
		assertWriteLockFree(t, path)
		assertAccounts(t, db, 100, 50)
	})

	t.Run("runtime.Goexit in fn rolls back", func(t *testing.T) {
		// t.Fatal in a test, or runtime.Goexit anywhere, ends the goroutine
		// and runs its deferred calls, but nothing after fn returns.
		ctx := workbooktest.Context(t)
		path, db := openAccounts(t)
		done := make(chan struct{})
		go func() {
			defer close(done)
			withTransaction(ctx, db, workbooktest.Discard(), func(tx *sql.Tx) error {
				if err := transfer(ctx, tx, aliceToBob); err != nil {
					return err
				}
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
		assertAccounts(t, db, 100, 50)
	})

	t.Run("a canceled context rolls back", func(t *testing.T) {
		_, db := openAccounts(t)
		ctx, cancel := context.WithCancel(workbooktest.Context(t))
		err := withTransaction(ctx, db, workbooktest.Discard(), func(tx *sql.Tx) error {
			if err := transfer(ctx, tx, aliceToBob); err != nil {
				return err
			}
			cancel()
			return transfer(ctx, tx, aliceToBob)
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("withTransaction error = %v, want context.Canceled", err)
		}
		// The cancel made database/sql roll back on a goroutine of its own,
		// so the deferred Rollback returned sql.ErrTxDone at once: the
		// connection comes back when that goroutine is done, not before.
		workbooktest.WaitFor(t, "the pool's connection to come back after the rollback", func() bool {
			return db.Stats().InUse == 0
		})
		assertAccounts(t, db, 100, 50)
	})
}

// Only tx.* calls are in the transaction. A db.* call inside fn asks the
// pool for a connection of its own; what happens next depends on the pool.
func TestADBCallInsideFnIsNotInTheTransaction(t *testing.T) {
	t.Run("on the lesson's pool of one it waits until its context ends", func(t *testing.T) {
		ctx := workbooktest.Context(t)
		_, db := openAccounts(t)
		err := withTransaction(ctx, db, workbooktest.Discard(), func(tx *sql.Tx) error {
			// The transaction holds the pool's one connection: db's calls
			// wait for it, here until this short deadline.
			shortCtx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
			defer cancel()
			var balance int
			err := db.QueryRowContext(shortCtx, "SELECT balance FROM demo_accounts WHERE owner = 'Alice'").Scan(&balance)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a read through db: %v, want context.DeadlineExceeded", err)
			}
			_, err = db.ExecContext(shortCtx, "UPDATE demo_accounts SET balance = 0")
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("a write through db: %v, want context.DeadlineExceeded", err)
		}
		assertAccounts(t, db, 100, 50)
	})

	t.Run("on a larger pool a write fails with database is locked", func(t *testing.T) {
		ctx := workbooktest.Context(t)
		db := openLargerPool(t)
		err := withTransaction(ctx, db, workbooktest.Discard(), func(tx *sql.Tx) error {
			_, err := db.ExecContext(ctx, "UPDATE demo_accounts SET balance = 0")
			return err
		})
		// The transaction's BEGIN IMMEDIATE holds the write lock: the other
		// connection waits the busy timeout, then gives up.
		workbooktest.AssertSQLiteCode(t, err, workbooktest.SQLiteBusy)
		assertAccounts(t, db, 100, 50)
	})

	t.Run("on a larger pool a read runs outside it", func(t *testing.T) {
		ctx := workbooktest.Context(t)
		db := openLargerPool(t)
		err := withTransaction(ctx, db, workbooktest.Discard(), func(tx *sql.Tx) error {
			if err := transfer(ctx, tx, payment{"Alice", "Bob", 30}); err != nil {
				return err
			}
			var outside, inside int
			if err := db.QueryRowContext(ctx, "SELECT balance FROM demo_accounts WHERE owner = 'Alice'").Scan(&outside); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, "SELECT balance FROM demo_accounts WHERE owner = 'Alice'").Scan(&inside); err != nil {
				return err
			}
			if outside != 100 || inside != 70 {
				t.Errorf("Alice's balance read through db = %d, through tx = %d; want 100, what was committed before, and 70", outside, inside)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("withTransaction: %v", err)
		}
		assertAccounts(t, db, 70, 80)
	})
}

// openLargerPool opens the lesson's DSN on a pool of two connections with
// a busy timeout of 100 ms, and resets the accounts.
func openLargerPool(t *testing.T) *sql.DB {
	t.Helper()
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	db := workbooktest.LargerPool(t, dataSourceName(path))
	resetForTest(t, db)
	return db
}

// The lesson's DSN asks for synchronous=FULL, where this driver would set
// NORMAL: a committed payment survives a power loss.
func TestEachConnectionSyncsFully(t *testing.T) {
	_, db := openAccounts(t)
	workbooktest.AssertSynchronous(t, db, "FULL")

	// Without the setting, the driver's own choice, as the page says.
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	driverDefaults, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer driverDefaults.Close()
	workbooktest.AssertSynchronous(t, driverDefaults, "NORMAL")
}

func TestTransferUsesPlaceholders(t *testing.T) {
	// A name with a quote breaks SQL built from strings.
	ctx := workbooktest.Context(t)
	_, db := openAccounts(t)
	if _, err := db.ExecContext(ctx, "INSERT INTO demo_accounts VALUES ('Finn O''Brien', 0)"); err != nil {
		t.Fatal(err)
	}
	if err := withTransaction(ctx, db, workbooktest.Discard(), func(tx *sql.Tx) error {
		return transfer(ctx, tx, payment{"Alice", "Finn O'Brien", 30})
	}); err != nil {
		t.Fatalf("transfer to Finn O'Brien: %v", err)
	}
	var got string
	for _, owner := range []string{"Alice", "Bob", "Finn O'Brien"} {
		var balance int
		if err := db.QueryRowContext(ctx, "SELECT balance FROM demo_accounts WHERE owner = ?", owner).Scan(&balance); err != nil {
			t.Fatal(err)
		}
		got += fmt.Sprintf("%s %d; ", owner, balance)
	}
	if want := "Alice 70; Bob 50; Finn O'Brien 30; "; got != want {
		t.Errorf("balances %q, want %q", got, want)
	}
}

// The lesson's DSN says _txlock=immediate: a transaction that openDB's pool
// begins holds the write lock from its BEGIN, before fn has written
// anything, so no other connection can write between fn's read and its
// write.
func TestATransactionHoldsTheWriteLockFromItsStart(t *testing.T) {
	ctx := workbooktest.Context(t)
	path, db := openAccounts(t)
	read, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- withTransaction(ctx, db, workbooktest.Discard(), func(tx *sql.Tx) error {
			var balance int
			if err := tx.QueryRowContext(ctx, "SELECT balance FROM demo_accounts WHERE owner = 'Bob'").Scan(&balance); err != nil {
				return err
			}
			close(read)
			<-release
			_, err := tx.ExecContext(ctx, "UPDATE demo_accounts SET balance = ? WHERE owner = 'Bob'", balance+1)
			return err
		})
	}()
	select {
	case <-read:
	case err := <-done:
		t.Fatalf("withTransaction returned %v before its read", err)
	case <-ctx.Done():
		t.Fatal("fn had not read when the test's time ran out")
	}

	// Between fn's read and its write, another connection asks for the
	// write lock.
	otherTx, err := openOther(t, path).BeginTx(ctx, nil)
	if err == nil {
		otherTx.Rollback()
		t.Error("another connection took the write lock between fn's read and its write: BeginTx did not take it (is _txlock=immediate in the DSN?)")
	} else {
		workbooktest.AssertSQLiteCode(t, err, workbooktest.SQLiteBusy)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("withTransaction: %v", err)
	}
}

// The lesson's pool has one connection: a second transaction waits in
// database/sql for it, rather than on a connection of its own in SQLite's
// busy handler, which gives up after the busy timeout.
func TestTransactionsWaitForThePoolsOneConnection(t *testing.T) {
	ctx := workbooktest.Context(t)
	_, db := openAccounts(t)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	done := make(chan error, 1)
	go func() {
		done <- withTransaction(ctx, db, workbooktest.Discard(), func(tx *sql.Tx) error {
			return transfer(ctx, tx, payment{"Alice", "Bob", 30})
		})
	}()
	workbooktest.WaitFor(t, "the second transaction to wait for a connection", func() bool {
		s := db.Stats()
		return s.WaitCount > 0 || s.OpenConnections > 1
	})
	if s := db.Stats(); s.OpenConnections > 1 {
		t.Fatalf("the pool opened %d connections, want 1: transactions wait in SQLite's busy handler (is db.SetMaxOpenConns(1) there?)", s.OpenConnections)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the second transaction: %v", err)
	}
	assertAccounts(t, db, 70, 80)
}

func TestPageShowsTheOutput(t *testing.T) {
	// users.db in a folder of its own, where connection.log goes too.
	t.Chdir(filepath.Dir(workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)))
	var stdout, stderr bytes.Buffer
	if err := run(workbooktest.Context(t), "users.db", &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	workbooktest.AssertPageShows(t, "```text\n"+stdout.String()+"```\n")
	workbooktest.AssertPageShows(t, "```text\n"+stderr.String()+"```\n")
	page := workbooktest.Page(t)
	for _, line := range workbooktest.ReadLogFile(t, "connection.log") {
		if !strings.Contains(page, " - "+line+"\n") {
			t.Errorf("README.md does not show the log file's line %q", line)
		}
	}
}

func TestExperimentDeleteDeferRollback(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\tdefer tx.Rollback()\n",
		Command: "go test -run TestWithTransaction ./extras/transactional-connection",
		Want: []string{
			"--- FAIL: TestWithTransaction/runtime.Goexit_in_fn_rolls_back",
			"another connection cannot take the write lock: database is locked",
		},
		Fails: true,
	})
}

func TestExperimentIgnoreCommitsError(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go",
		Old: `	if err := tx.Commit(); err != nil {
		logger.Error("Transaction rolled back: " + err.Error())
		return err
	}
`,
		New:     "\ttx.Commit()\n",
		Command: "go test -run Example ./extras/transactional-connection",
		Want:    []string{"Alice pays Carol 10: committed"},
		Fails:   true,
	})
}

func TestExperimentRemoveForeignKeys(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "&_foreign_keys=1",
		Command: "go test -run Example ./extras/transactional-connection",
		Want:    []string{"Alice pays Carol 10: committed", "('Alice', 60)"},
		Fails:   true,
	})
}

func TestExperimentRemoveTxlockImmediate(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "&_txlock=immediate",
		Command: "go test -run TestATransactionHoldsTheWriteLockFromItsStart ./extras/transactional-connection",
		Want:    []string{"another connection took the write lock between fn's read and its write"},
		Fails:   true,
	})
}

func TestExperimentRemoveSynchronousFull(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "&_synchronous=FULL",
		Command: "go test -run TestEachConnectionSyncsFully ./extras/transactional-connection",
		Want:    []string{"PRAGMA synchronous = NORMAL (1), want FULL"},
		Fails:   true,
	})
}

// openAccounts makes the guide's users.db, opens it with the lesson's
// openDB, and resets the lesson's accounts. Its cleanup closes the pool
// and checks that nothing was left open.
func openAccounts(t *testing.T) (string, *sql.DB) {
	t.Helper()
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
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
	resetForTest(t, db)
	return path, db
}

// resetForTest gives Alice 100 and Bob 50, with the lesson's resetAccounts.
func resetForTest(t *testing.T, db *sql.DB) {
	t.Helper()
	ctx := workbooktest.Context(t)
	if err := withTransaction(ctx, db, workbooktest.Discard(), func(tx *sql.Tx) error {
		return resetAccounts(ctx, tx)
	}); err != nil {
		t.Fatal(err)
	}
}

// openOther opens a second pool on path that never waits for a lock.
func openOther(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw&_busy_timeout=0&_txlock=immediate")
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
	tx, err := openOther(t, path).BeginTx(workbooktest.Context(t), nil)
	if err != nil {
		t.Errorf("another connection cannot take the write lock: %v: a transaction was left open", err)
		return
	}
	tx.Rollback()
}

// assertAccounts reads Alice's and Bob's balances afresh, with nothing of
// the pool in use.
func assertAccounts(t *testing.T, db *sql.DB, alice, bob int) {
	t.Helper()
	if s := db.Stats(); s.InUse != 0 {
		t.Errorf("%d connections in use after the transaction, want 0", s.InUse)
		return
	}
	var out bytes.Buffer
	if err := printAccounts(workbooktest.Context(t), db, &out); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("('Alice', %d)\n('Bob', %d)\n", alice, bob); out.String() != want {
		t.Errorf("accounts:\n%swant:\n%s", &out, want)
	}
}

// assertLines compares lines one by one.
func assertLines(t *testing.T, name string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// recovered runs fn and returns the value it panicked with, or nil.
func recovered(fn func()) (value any) {
	defer func() { value = recover() }()
	fn()
	return nil
}
