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
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// The demo's narrative: one transfer committed, one rolled back by an
// error, one rolled back by a panic, with the accounts after each.
func Example() {
	// TestMain ran 00-setup in this scratch folder, so users.db is the
	// guide's database. The log lines go to stderr, discarded here.
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Accounts at the start:
	// ('Alice', 100)
	// ('Bob', 50)
	// Transfer 30 from Alice to Bob: committed
	// ('Alice', 70)
	// ('Bob', 80)
	// Transfer 500 from Bob to Alice: rolled back: take 500 from Bob: CHECK constraint failed: balance >= 0
	// ('Alice', 70)
	// ('Bob', 80)
	// Transfer that panics halfway: rolled back, then the panic went on: the transfer crashed halfway
	// ('Alice', 70)
	// ('Bob', 80)
}

// logLine matches one line of the guide's log format.
var logLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - (INFO|ERROR) - (.*)$`)

func TestRunLogsToStderrAndFileAndCanRunAgain(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())

	var first, stderr bytes.Buffer
	if err := run(context.Background(), path, &first, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	want := []string{
		"INFO - Opened connection to " + path,
		"INFO - Transaction committed",
		"INFO - Transaction committed",
		"ERROR - Transaction rolled back: take 500 from Bob: CHECK constraint failed: balance >= 0",
		"ERROR - Transaction rolled back: the transfer crashed halfway",
		"INFO - Closed connection to " + path,
	}
	assertLog(t, "stderr", stderr.String(), want)
	assertLog(t, "connection.log", readFile(t, "connection.log"), want)

	// A second run starts from the same accounts, so it prints the same,
	// and the log file grows as Python's FileHandler makes it grow.
	var second bytes.Buffer
	if err := run(context.Background(), path, &second, io.Discard); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if second.String() != first.String() {
		t.Errorf("second run printed\n%s\nfirst run printed\n%s", second.String(), first.String())
	}
	assertLog(t, "connection.log after two runs", readFile(t, "connection.log"), append(want, want...))
}

func TestRunLeavesTheUsersTableAlone(t *testing.T) {
	path := newDatabase(t)
	t.Chdir(t.TempDir())
	before := usersTable(t, path)
	if err := run(context.Background(), path, io.Discard, io.Discard); err != nil {
		t.Fatalf("run: %v", err)
	}
	if after := usersTable(t, path); after != before {
		t.Errorf("users table after run:\n%s\nbefore:\n%s", after, before)
	}
}

func TestWithTransaction(t *testing.T) {
	t.Run("commits when the body succeeds", func(t *testing.T) {
		db := openAccounts(t)
		var logs bytes.Buffer
		err := withTransaction(context.Background(), db, newTestLogger(&logs), func(tx *sql.Tx) error {
			return transfer(context.Background(), tx, "Alice", "Bob", 30)
		})
		if err != nil {
			t.Fatalf("withTransaction: %v", err)
		}
		assertBalances(t, db, 70, 80)
		assertLog(t, "log", logs.String(), []string{"INFO - Transaction committed"})
	})

	t.Run("rolls back and returns the body's error unchanged", func(t *testing.T) {
		db := openAccounts(t)
		var logs bytes.Buffer
		errBody := errors.New("the body failed")
		err := withTransaction(context.Background(), db, newTestLogger(&logs), func(tx *sql.Tx) error {
			if err := addToBalance(context.Background(), tx, "Alice", 1000); err != nil {
				return err
			}
			return errBody
		})
		if err != errBody {
			t.Errorf("withTransaction error = %v, want the body's error itself", err)
		}
		if !errors.Is(err, errBody) {
			t.Errorf("errors.Is(%v, errBody) = false", err)
		}
		assertBalances(t, db, 100, 50)
		assertLog(t, "log", logs.String(), []string{"ERROR - Transaction rolled back: the body failed"})
	})

	t.Run("rolls back an earlier write when a later one is refused", func(t *testing.T) {
		db := openAccounts(t)
		err := withTransaction(context.Background(), db, newTestLogger(io.Discard), func(tx *sql.Tx) error {
			return transfer(context.Background(), tx, "Bob", "Alice", 500)
		})
		var sqliteErr sqlite3.Error
		if !errors.As(err, &sqliteErr) || sqliteErr.Code != sqlite3.ErrConstraint {
			t.Fatalf("withTransaction error = %v, want a constraint error", err)
		}
		// Alice's credit was written before Bob's debit failed; it is gone.
		assertBalances(t, db, 100, 50)
	})

	t.Run("rolls back on a panic and panics again with the same value", func(t *testing.T) {
		db := openAccounts(t)
		var logs bytes.Buffer
		value := &struct{ msg string }{"boom"}
		got := catchValue(func() {
			withTransaction(context.Background(), db, newTestLogger(&logs), func(tx *sql.Tx) error {
				if err := addToBalance(context.Background(), tx, "Alice", 1000); err != nil {
					return err
				}
				panic(value)
			})
		})
		if got != value {
			t.Errorf("recovered %v, want the body's own panic value %v", got, value)
		}
		assertInUse(t, db, 0)
		assertBalances(t, db, 100, 50)
		assertLog(t, "log", logs.String(), []string{"ERROR - Transaction rolled back: &{boom}"})
	})

	t.Run("an unknown account is an error and changes nothing", func(t *testing.T) {
		db := openAccounts(t)
		err := withTransaction(context.Background(), db, newTestLogger(io.Discard), func(tx *sql.Tx) error {
			return transfer(context.Background(), tx, "Alice", "Carol", 10)
		})
		if err == nil || !strings.Contains(err.Error(), "no account for Carol") {
			t.Fatalf("withTransaction error = %v, want no account for Carol", err)
		}
		assertBalances(t, db, 100, 50)
	})

	t.Run("a canceled context rolls back without a second error", func(t *testing.T) {
		db := openAccounts(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		err := withTransaction(ctx, db, newTestLogger(io.Discard), func(tx *sql.Tx) error {
			if err := addToBalance(ctx, tx, "Alice", 1000); err != nil {
				return err
			}
			// database/sql rolls the transaction back by itself when its
			// context ends, in a goroutine of its own. Waiting here until
			// that rollback has given the connection back makes sure the
			// helper's own Rollback comes second and finds the
			// transaction done (sql.ErrTxDone).
			cancel()
			waitNoneInUse(t, db)
			_, err := tx.ExecContext(ctx, "UPDATE accounts SET balance = 0")
			return err
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("withTransaction error = %v, want context.Canceled", err)
		}
		if errors.Is(err, sql.ErrTxDone) {
			t.Errorf("withTransaction error = %v, has sql.ErrTxDone joined to it", err)
		}
		assertBalances(t, db, 100, 50)
	})
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

// openAccounts opens a fresh users.db with the lesson's openDatabase and
// resets its accounts table. Cleanup checks that no connection is left in
// use and that Close leaves none open.
func openAccounts(t *testing.T) *sql.DB {
	t.Helper()
	ctx := context.Background()
	db, err := openDatabase(ctx, newDatabase(t), newTestLogger(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		assertInUse(t, db, 0)
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if open := db.Stats().OpenConnections; open != 0 {
			t.Errorf("after Close %d connections are open, want 0", open)
		}
	})
	err = withTransaction(ctx, db, newTestLogger(io.Discard), func(tx *sql.Tx) error {
		return resetAccounts(ctx, tx)
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// assertBalances reads the accounts afresh, after the transaction is over,
// and checks Alice's and Bob's balances.
func assertBalances(t *testing.T, db *sql.DB, alice, bob int64) {
	t.Helper()
	var out bytes.Buffer
	if err := printAccounts(context.Background(), db, &out); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("('Alice', %d)\n('Bob', %d)\n", alice, bob)
	if out.String() != want {
		t.Errorf("accounts =\n%swant\n%s", out.String(), want)
	}
	assertInUse(t, db, 0)
}

// assertInUse checks how many of the pool's connections are in use.
func assertInUse(t *testing.T, db *sql.DB, want int) {
	t.Helper()
	if inUse := db.Stats().InUse; inUse != want {
		t.Errorf("%d connections in use, want %d", inUse, want)
	}
}

// waitNoneInUse waits until no connection of the pool is in use, and fails
// the test if that takes more than a generous 10 s.
func waitNoneInUse(t *testing.T, db *sql.DB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for db.Stats().InUse != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still in use after 10 s, want 0", db.Stats().InUse)
		}
		time.Sleep(time.Millisecond)
	}
}

// catchValue runs fn and returns the value it panicked with, or nil.
func catchValue(fn func()) (value any) {
	defer func() { value = recover() }()
	fn()
	return nil
}

// usersTable returns every row of the users table, one per line.
func usersTable(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
