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
// connection.log lands there. Log lines go to stderr, discarded here.
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

// wantLog is what run logs, each line's "LEVEL - message".
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

func TestRunLogsLeavesUsersAloneAndRunsAgain(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	t.Chdir(t.TempDir())
	users := dumpUsers(t, path)

	var first, stderr bytes.Buffer
	if err := run(context.Background(), path, &first, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	assertLines(t, "stderr", logMessages(t, stderr.String()), wantLog(path))
	assertNoFileOpen(t, path)

	var second bytes.Buffer
	if err := run(context.Background(), path, &second, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if second.String() != first.String() {
		t.Errorf("second run printed\n%s\nfirst run printed\n%s", &second, &first)
	}
	log, err := os.ReadFile("connection.log")
	if err != nil {
		t.Fatal(err)
	}
	assertLines(t, "connection.log after two runs", logMessages(t, string(log)), append(wantLog(path), wantLog(path)...))
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

func TestWithTransaction(t *testing.T) {
	t.Run("commits when fn returns nil", func(t *testing.T) {
		path, db := openAccounts(t)
		var log bytes.Buffer
		if err := withTransaction(deadline(t), db, testLogger(&log), func(tx *sql.Tx) error {
			return transfer(deadline(t), tx, "Alice", "Bob", 30)
		}); err != nil {
			t.Fatalf("withTransaction: %v", err)
		}
		assertAccounts(t, db, 70, 80)
		assertLines(t, "log", logMessages(t, log.String()), []string{"INFO - Transaction committed"})
		assertWriteLockFree(t, path)
	})

	t.Run("an error from fn rolls back what fn wrote and comes back unchanged", func(t *testing.T) {
		path, db := openAccounts(t)
		var log bytes.Buffer
		errFn := errors.New("fn failed")
		err := withTransaction(deadline(t), db, testLogger(&log), func(tx *sql.Tx) error {
			if err := transfer(deadline(t), tx, "Alice", "Bob", 30); err != nil {
				return err
			}
			return errFn
		})
		if err != errFn {
			t.Errorf("withTransaction error = %v, want fn's error itself", err)
		}
		assertAccounts(t, db, 100, 50)
		assertLines(t, "log", logMessages(t, log.String()), []string{"ERROR - Transaction rolled back: fn failed"})
		assertWriteLockFree(t, path)
	})

	t.Run("a refused debit takes back the credit written before it", func(t *testing.T) {
		_, db := openAccounts(t)
		err := withTransaction(deadline(t), db, testLogger(io.Discard), func(tx *sql.Tx) error {
			return transfer(deadline(t), tx, "Bob", "Alice", 500)
		})
		assertCode(t, err, sqlite3.ErrConstraintCheck)
		assertAccounts(t, db, 100, 50)
	})

	t.Run("a failed COMMIT is returned and nothing is saved", func(t *testing.T) {
		path, db := openAccounts(t)
		var log bytes.Buffer
		err := withTransaction(deadline(t), db, testLogger(&log), func(tx *sql.Tx) error {
			return transfer(deadline(t), tx, "Alice", "Carol", 10)
		})
		// Carol has no account: the deferred foreign key fails at COMMIT.
		assertCode(t, err, sqlite3.ErrConstraintForeignKey)
		assertAccounts(t, db, 100, 50)
		assertLines(t, "log", logMessages(t, log.String()), []string{"ERROR - Transaction rolled back: FOREIGN KEY constraint failed"})
		assertWriteLockFree(t, path)
	})

	t.Run("a panic rolls back and goes on as the same panic", func(t *testing.T) {
		path, db := openAccounts(t)
		value := &struct{ msg string }{"boom"}
		got := recovered(func() {
			withTransaction(deadline(t), db, testLogger(io.Discard), func(tx *sql.Tx) error {
				if err := transfer(deadline(t), tx, "Alice", "Bob", 30); err != nil {
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
		path, db := openAccounts(t)
		done := make(chan struct{})
		go func() {
			defer close(done)
			withTransaction(deadline(t), db, testLogger(io.Discard), func(tx *sql.Tx) error {
				if err := transfer(deadline(t), tx, "Alice", "Bob", 30); err != nil {
					return err
				}
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
		assertAccounts(t, db, 100, 50)
	})

	t.Run("a canceled context rolls back", func(t *testing.T) {
		_, db := openAccounts(t)
		ctx, cancel := context.WithCancel(deadline(t))
		err := withTransaction(ctx, db, testLogger(io.Discard), func(tx *sql.Tx) error {
			if err := transfer(ctx, tx, "Alice", "Bob", 30); err != nil {
				return err
			}
			cancel()
			return transfer(ctx, tx, "Alice", "Bob", 30)
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("withTransaction error = %v, want context.Canceled", err)
		}
		// The cancel made database/sql roll back on a goroutine of its own,
		// so the deferred Rollback returned sql.ErrTxDone at once: the
		// connection comes back when that goroutine is done, not before.
		waitForConnections(t, db, 5*time.Second)
		assertAccounts(t, db, 100, 50)
	})
}

func TestTransferUsesPlaceholders(t *testing.T) {
	// A name with a quote breaks SQL built from strings.
	_, db := openAccounts(t)
	if _, err := db.ExecContext(deadline(t), "INSERT INTO demo_accounts VALUES ('Finn O''Brien', 0)"); err != nil {
		t.Fatal(err)
	}
	if err := withTransaction(deadline(t), db, testLogger(io.Discard), func(tx *sql.Tx) error {
		return transfer(deadline(t), tx, "Alice", "Finn O'Brien", 30)
	}); err != nil {
		t.Fatalf("transfer to Finn O'Brien: %v", err)
	}
	var got string
	for _, owner := range []string{"Alice", "Bob", "Finn O'Brien"} {
		var balance int
		if err := db.QueryRowContext(deadline(t), "SELECT balance FROM demo_accounts WHERE owner = ?", owner).Scan(&balance); err != nil {
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
	path, db := openAccounts(t)
	read, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- withTransaction(deadline(t), db, testLogger(io.Discard), func(tx *sql.Tx) error {
			var balance int
			if err := tx.QueryRowContext(deadline(t), "SELECT balance FROM demo_accounts WHERE owner = 'Bob'").Scan(&balance); err != nil {
				return err
			}
			close(read)
			<-release
			_, err := tx.ExecContext(deadline(t), "UPDATE demo_accounts SET balance = ? WHERE owner = 'Bob'", balance+1)
			return err
		})
	}()
	select {
	case <-read:
	case err := <-done:
		t.Fatalf("withTransaction returned %v before its read", err)
	case <-time.After(10 * time.Second):
		t.Fatal("fn did not read within 10 s")
	}

	// Between fn's read and its write, another connection asks for the
	// write lock.
	otherTx, err := openOther(t, path).BeginTx(deadline(t), nil)
	if err == nil {
		otherTx.Rollback()
		t.Error("another connection took the write lock between fn's read and its write: BeginTx did not take it (is _txlock=immediate in the DSN?)")
	} else {
		assertCode(t, err, sqlite3.ErrBusy.Extend(0))
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("withTransaction: %v", err)
	}
}

// The lesson's pool has one connection: a second transaction waits in
// database/sql for it, rather than on a connection of its own in SQLite's
// busy handler, which is no queue.
func TestTransactionsWaitForThePoolsOneConnection(t *testing.T) {
	_, db := openAccounts(t)
	tx, err := db.BeginTx(deadline(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	done := make(chan error, 1)
	go func() {
		done <- withTransaction(deadline(t), db, testLogger(io.Discard), func(tx *sql.Tx) error {
			return transfer(deadline(t), tx, "Alice", "Bob", 30)
		})
	}()
	for stop := time.After(10 * time.Second); db.Stats().WaitCount == 0; time.Sleep(time.Millisecond) {
		select {
		case <-stop:
			t.Fatal("the second transaction did not wait for the pool's connection within 10 s")
		default:
		}
		if s := db.Stats(); s.OpenConnections > 1 {
			t.Fatalf("the pool opened %d connections, want 1: transactions queue in SQLite's busy handler (is db.SetMaxOpenConns(1) there?)", s.OpenConnections)
		}
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
	path := newUsersDB(t, guideUsers...)
	var stdout, stderr bytes.Buffer
	t.Run("run", func(t *testing.T) {
		t.Chdir(t.TempDir())
		if err := run(context.Background(), path, &stdout, &stderr); err != nil {
			t.Fatal(err)
		}
	})
	assertPageShows(t, "```text\n"+stdout.String()+"```\n")
	for _, line := range wantLog("users.db") {
		if !strings.Contains(page(t), " - "+line+"\n") {
			t.Errorf("README.md does not show the log line %q", line)
		}
	}
}

func TestExperimentDeleteDeferRollback(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "\tdefer tx.Rollback()\n",
		command: "go test -run TestWithTransaction ./extras/transactional-connection",
		want: []string{
			"--- FAIL: TestWithTransaction/runtime.Goexit_in_fn_rolls_back",
			"another connection cannot take the write lock: database is locked",
		},
		fails: true,
	})
}

func TestExperimentIgnoreCommitsError(t *testing.T) {
	runExperiment(t, experiment{
		file: "main.go",
		old: `	if err := tx.Commit(); err != nil {
		logger.Error("Transaction rolled back: " + err.Error())
		return err
	}
`,
		new:     "\ttx.Commit()\n",
		command: "go test -run Example ./extras/transactional-connection",
		want:    []string{"Alice pays Carol 10: committed"},
		fails:   true,
	})
}

func TestExperimentRemoveForeignKeys(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "&_foreign_keys=1",
		command: "go test -run Example ./extras/transactional-connection",
		want:    []string{"Alice pays Carol 10: committed", "('Alice', 60)"},
		fails:   true,
	})
}

func TestExperimentRemoveTxlockImmediate(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "&_txlock=immediate",
		command: "go test -run TestATransactionHoldsTheWriteLockFromItsStart ./extras/transactional-connection",
		want:    []string{"another connection took the write lock between fn's read and its write"},
		fails:   true,
	})
}

// openAccounts makes the guide's users.db, opens it with the lesson's
// openDB, and resets the lesson's accounts. Its cleanup closes the pool
// and checks that nothing was left open.
func openAccounts(t *testing.T) (string, *sql.DB) {
	t.Helper()
	path := newUsersDB(t, guideUsers...)
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
	if err := withTransaction(deadline(t), db, testLogger(io.Discard), func(tx *sql.Tx) error {
		return resetAccounts(deadline(t), tx)
	}); err != nil {
		t.Fatal(err)
	}
	return path, db
}

// openOther opens a second pool on path that never waits for a lock.
func openOther(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw&_busy_timeout=0&_txlock=immediate")
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
	tx, err := openOther(t, path).BeginTx(deadline(t), nil)
	if err != nil {
		t.Errorf("another connection cannot take the write lock: %v: a transaction was left open", err)
		return
	}
	tx.Rollback()
}

// assertAccounts reads Alice's and Bob's balances afresh, with nothing of
// the pool in use.
// waitForConnections waits until no connection of db is in use, and fails
// the test if one still is after limit.
func waitForConnections(t *testing.T, db *sql.DB, limit time.Duration) {
	t.Helper()
	for start := time.Now(); db.Stats().InUse != 0; time.Sleep(time.Millisecond) {
		if time.Since(start) > limit {
			t.Fatalf("%d connections still in use %v after the transaction, want 0", db.Stats().InUse, limit)
		}
	}
}

func assertAccounts(t *testing.T, db *sql.DB, alice, bob int) {
	t.Helper()
	if s := db.Stats(); s.InUse != 0 {
		t.Errorf("%d connections in use after the transaction, want 0", s.InUse)
		return
	}
	var out bytes.Buffer
	if err := printAccounts(deadline(t), db, &out); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("('Alice', %d)\n('Bob', %d)\n", alice, bob); out.String() != want {
		t.Errorf("accounts:\n%swant:\n%s", &out, want)
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

// assertLines compares lines one by one.
func assertLines(t *testing.T, name string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("%s:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// assertNoFileOpen fails if the process still has path open (Linux only):
// every connection of every pool run opened was closed.
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

// deadline is a context that ends with the test or after 10 s, whichever
// comes first, so that a query or a wait for the pool cannot hang.
func deadline(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
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
