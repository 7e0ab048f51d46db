//go:build cgo

// Extra transactional-connection is the guide's extra example of section
// 4.1.5 (Listing 3, TransactionalConnection): a connection whose with block
// is one transaction, committed when the block ends normally and rolled back
// when it raises.
//
// Python's __exit__ looks at exc_type: None means commit, anything else
// means rollback, and returning False lets the exception carry on:
//
//	with TransactionalConnection('users.db') as conn:
//	    conn.execute(...)
//
// Go opens the database once, as lesson 0-databaseconnection does, and gives
// the transaction's part of the job to a helper that takes the body as a
// function:
//
//	err := withTransaction(ctx, db, logger, func(tx *sql.Tx) error {
//	    _, err := tx.ExecContext(ctx, ...)
//	    return err
//	})
//
// The body's returned error plays the part of the exception: nil commits,
// anything else rolls back and is returned unchanged. A panic in the body
// rolls back too, and then goes on as the same panic, as returning False
// from __exit__ lets the exception go on.
//
// The lesson works on a table of its own, accounts, which it creates in
// users.db and resets at the start of every run, so the users table is never
// touched and a second run prints the same as the first.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/mattn/go-sqlite3"
)

func main() {
	dbPath := flag.String("db", "users.db", "path of the SQLite database made by 00-setup")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "unexpected argument %q: give the database path with -db\n", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}
	if *dbPath == "" {
		fmt.Fprintln(os.Stderr, "the -db path is empty: give the database file, such as -db users.db")
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), *dbPath, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "Database error:", err)
		os.Exit(1)
	}
}

// run resets the accounts, then shows one transfer that commits, one that
// fails and one that panics, printing the accounts after each.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) (err error) {
	logger, closeLog := newLogger(stderr, "connection.log")
	defer closeLog()

	db, err := openDatabase(ctx, dbPath, logger)
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, db.Close())
		logger.Info("Closed connection to %s", dbPath)
	}()

	if err := withTransaction(ctx, db, logger, func(tx *sql.Tx) error {
		return resetAccounts(ctx, tx)
	}); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Accounts at the start:")
	if err := printAccounts(ctx, db, stdout); err != nil {
		return err
	}

	for _, step := range []func(context.Context, *sql.DB, guideLogger, io.Writer) error{
		showCommit, showErrorRollsBack, showPanicRollsBack,
	} {
		if err := step(ctx, db, logger, stdout); err != nil {
			return err
		}
		if err := printAccounts(ctx, db, stdout); err != nil {
			return err
		}
	}
	return nil
}

// showCommit makes a transfer that succeeds: both of its changes are kept.
func showCommit(ctx context.Context, db *sql.DB, logger guideLogger, w io.Writer) error {
	err := withTransaction(ctx, db, logger, func(tx *sql.Tx) error {
		return transfer(ctx, tx, "Alice", "Bob", 30)
	})
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "Transfer 30 from Alice to Bob: committed")
	return nil
}

// showErrorRollsBack makes a transfer that Bob cannot pay. Alice has been
// credited inside the transaction before Bob's debit is refused by the
// table's CHECK constraint; the rollback takes her credit away again.
func showErrorRollsBack(ctx context.Context, db *sql.DB, logger guideLogger, w io.Writer) error {
	err := withTransaction(ctx, db, logger, func(tx *sql.Tx) error {
		return transfer(ctx, tx, "Bob", "Alice", 500)
	})
	// Only the refusal this step expects is part of the story; any other
	// error ends the program.
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) || sqliteErr.Code != sqlite3.ErrConstraint {
		return fmt.Errorf("transfer 500 from Bob to Alice: want a CHECK constraint error, got %v", err)
	}
	fmt.Fprintln(w, "Transfer 500 from Bob to Alice: rolled back:", err)
	return nil
}

// showPanicRollsBack makes a transfer whose body panics after crediting
// Alice. withTransaction rolls back and panics again with the same value;
// catchPanic turns that panic into an error here, so that the program can
// go on to print the accounts.
func showPanicRollsBack(ctx context.Context, db *sql.DB, logger guideLogger, w io.Writer) error {
	err := catchPanic(func() error {
		return withTransaction(ctx, db, logger, func(tx *sql.Tx) error {
			if err := addToBalance(ctx, tx, "Alice", 1000); err != nil {
				return err
			}
			panic("the transfer crashed halfway")
		})
	})
	var p panicError
	if !errors.As(err, &p) {
		return fmt.Errorf("transfer that panics: want a panic, got %v", err)
	}
	fmt.Fprintln(w, "Transfer that panics halfway: rolled back, then the panic went on:", p.value)
	return nil
}

// withTransaction is the Go form of TransactionalConnection: it begins a
// transaction, runs fn in it, and commits if fn returns nil. If fn returns
// an error, it rolls back and returns that error unchanged (joined with the
// rollback's own error, should the rollback fail too). If fn panics, it
// rolls back and panics again with the same value.
//
// Inside fn, use only tx: a query on the *sql.DB would run on another
// connection, outside the transaction.
func withTransaction(ctx context.Context, db *sql.DB, logger guideLogger, fn func(*sql.Tx) error) (err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// The safety net: whichever way this function is left, the transaction
	// is not left open. After Commit or an earlier Rollback it does nothing
	// (it returns sql.ErrTxDone, which is of no interest here).
	defer tx.Rollback()

	// The deferred Rollback above would roll back on a panic by itself.
	// recover is here only so the log line can name the panic's value, as
	// the guide logs exc_val; panic(p) then lets the same panic go on, as
	// __exit__ returning False does. runtime.Goexit (t.Fatal in a test) is
	// not a panic: recover returns nil and the safety net rolls back.
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			logger.Error("Transaction rolled back: %v", p)
			panic(p)
		}
	}()

	if err := fn(tx); err != nil {
		// ErrTxDone means the transaction is over already: database/sql
		// rolls back by itself when ctx is canceled.
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			err = errors.Join(err, rbErr)
		}
		logger.Error("Transaction rolled back: %v", err)
		return err
	}
	// A failed Commit is rolled back by the driver; its error is returned.
	if err := tx.Commit(); err != nil {
		logger.Error("Transaction rolled back: commit failed: %v", err)
		return err
	}
	logger.Info("Transaction committed")
	return nil
}

// panicError carries a recovered panic's value as an error.
type panicError struct{ value any }

func (p panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// catchPanic runs fn and turns a panic in it into a panicError. Ordinary
// code lets panics crash the program; the demo catches this one only to
// show that withTransaction let it go on.
func catchPanic(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = panicError{p}
		}
	}()
	return fn()
}

// openDatabase opens an existing database and proves the connection with
// PingContext before logging that it is open.
func openDatabase(ctx context.Context, name string, logger guideLogger) (*sql.DB, error) {
	// mode=rw never creates a file, so a mistyped path is an error.
	// _busy_timeout makes a connection wait up to 5 s for another writer.
	// _txlock=immediate makes every BeginTx take the write lock at once,
	// which a transaction that reads and then writes needs (see
	// extras/transactional-query); these transfers only write, but the
	// helper is meant to be copied.
	dsn := "file:" + (&url.URL{Path: name}).EscapedPath() +
		"?mode=rw&_busy_timeout=5000&_txlock=immediate"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		err = describe(name, err)
		logger.Error("Connection error: %v", err)
		return nil, err
	}
	logger.Info("Opened connection to %s", name)
	return db, nil
}

// The lesson's own table. The CHECK constraint makes SQLite refuse a
// balance below zero, which is how a transfer fails here.
const createAccounts = `CREATE TABLE IF NOT EXISTS accounts (
    owner TEXT PRIMARY KEY,
    balance INTEGER NOT NULL CHECK (balance >= 0)
)`

// resetAccounts creates the accounts table if needed and gives it the same
// two rows at the start of every run.
func resetAccounts(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range []string{
		createAccounts,
		"DELETE FROM accounts",
		"INSERT INTO accounts (owner, balance) VALUES ('Alice', 100), ('Bob', 50)",
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// transfer moves amount from one account to another. The credit comes
// first on purpose: when the debit is refused, the credit has already been
// written inside the transaction, and only the rollback takes it away.
func transfer(ctx context.Context, tx *sql.Tx, from, to string, amount int64) error {
	if err := addToBalance(ctx, tx, to, amount); err != nil {
		return fmt.Errorf("pay %d to %s: %w", amount, to, err)
	}
	if err := addToBalance(ctx, tx, from, -amount); err != nil {
		return fmt.Errorf("take %d from %s: %w", amount, from, err)
	}
	return nil
}

// addToBalance adds amount (negative to take money away) to one account.
// An UPDATE that matches no row is not an error in SQL, so RowsAffected
// is checked: a misspelt owner must not pass silently.
func addToBalance(ctx context.Context, tx *sql.Tx, owner string, amount int64) error {
	res, err := tx.ExecContext(ctx,
		"UPDATE accounts SET balance = balance + ? WHERE owner = ?", amount, owner)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return fmt.Errorf("no account for %s", owner)
	}
	return nil
}

// Account is one row of the accounts table.
type Account struct {
	Owner   string
	Balance int64
}

// String prints an account the way Python prints the row's tuple.
func (a Account) String() string {
	return fmt.Sprintf("('%s', %d)", a.Owner, a.Balance)
}

// printAccounts prints every account, read afresh from the database.
func printAccounts(ctx context.Context, db *sql.DB, w io.Writer) error {
	rows, err := db.QueryContext(ctx, "SELECT owner, balance FROM accounts ORDER BY owner")
	if err != nil {
		return err
	}
	defer rows.Close()

	for rows.Next() {
		var a Account
		if err := rows.Scan(&a.Owner, &a.Balance); err != nil {
			return err
		}
		fmt.Fprintln(w, a)
	}
	return rows.Err()
}

// describe adds what to do to the driver's error when the -db path is wrong:
// a missing file, a folder, a path in a folder that does not exist, a file
// that cannot be opened, or a file that is not an SQLite database. It
// classifies the error by its SQLite code with errors.As, never by the
// message's text.
func describe(name string, err error) error {
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) {
		return err
	}
	switch sqliteErr.Code {
	case sqlite3.ErrCantOpen:
		// SQLite says only that it could not open the file; the file
		// system says why, so that the advice fits.
		dir := filepath.Dir(name)
		info, statErr := os.Stat(name)
		dirInfo, dirErr := os.Stat(dir)
		switch {
		case statErr == nil && info.IsDir():
			return fmt.Errorf("%s is a folder, not a database file (%w): give -db the file itself", name, err)
		case errors.Is(dirErr, fs.ErrNotExist) || dirErr == nil && !dirInfo.IsDir():
			return fmt.Errorf("cannot open %s (%w): there is no folder %s", name, err, dir)
		case errors.Is(statErr, fs.ErrNotExist):
			return fmt.Errorf("cannot open %s (%w): create it first with: go run ./00-setup -db %s", name, err, name)
		}
		return fmt.Errorf("cannot open %s (%w): check that you may read and write it", name, err)
	case sqlite3.ErrNotADB:
		return fmt.Errorf("%s is not an SQLite database (%w): give -db the file that go run ./00-setup made", name, err)
	}
	return err
}

// guideLogger writes lines the way the guide's logging.Formatter does:
// "2025-05-20 01:05:00,123 - INFO - message". A log.Logger makes each line
// a single write, so goroutines may share one.
type guideLogger struct{ *log.Logger }

func (l guideLogger) Info(format string, args ...any)  { l.line("INFO", format, args...) }
func (l guideLogger) Error(format string, args ...any) { l.line("ERROR", format, args...) }

func (l guideLogger) line(level, format string, args ...any) {
	now := time.Now().Format("2006-01-02 15:04:05,000")
	l.Printf("%s - %s - %s", now, level, fmt.Sprintf(format, args...))
}

// newLogger logs to stderr and appends to fileName in the current folder,
// as the guide's StreamHandler and FileHandler do, every line in the format
// of the guide's expected output (the guide's code gives the format to the
// file only). If the file cannot be opened, it warns once and logs to
// stderr alone. Each line goes to the file in a write of its own, so
// closing it has nothing left to save, and its error is not reported.
func newLogger(stderr io.Writer, fileName string) (guideLogger, func()) {
	f, err := os.OpenFile(fileName, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(stderr, "warning: logging to stderr only: %v\n", err)
		return guideLogger{log.New(stderr, "", 0)}, func() {}
	}
	return guideLogger{log.New(io.MultiWriter(stderr, f), "", 0)}, func() { f.Close() }
}
