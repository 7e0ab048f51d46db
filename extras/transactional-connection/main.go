//go:build cgo

// Transactional-connection is the guide's section 4.1.5,
// TransactionalConnection: a with block that is one transaction, committed
// when the block ends normally and rolled back when it raises.
//
// Python's __exit__ decides from exc_type. Go has no with statement:
// withTransaction takes the block as a function and decides from its result:
//
//	with TransactionalConnection('users.db') as conn:
//	    conn.execute(...)
//
//	err := withTransaction(ctx, db, logger, func(tx *sql.Tx) error {
//	    _, err := tx.ExecContext(ctx, ...)
//	    return err
//	})
//
// No exception: fn returns nil, and tx.Commit() runs, whose error is
// returned (COMMIT can fail too). An exception: fn returns an error, which
// comes back unchanged, and `defer tx.Rollback()` rolls back. A panic goes
// on by itself, as return False lets the exception go on, and the same
// deferred Rollback rolls back on its way out: it is the safety net for
// every way out but Commit, and a no-op after Commit. Only tx.* calls are
// in the transaction; a db.* call would run outside it.
//
// The lesson keeps two tables of its own in users.db, demo_accounts and
// demo_transfers, and resets them at each run; it never touches users.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/mattn/go-sqlite3"
)

// run makes three transfers and prints the accounts after each.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) (err error) {
	logger, closeLog := newLogger(stderr, "connection.log")
	defer closeLog()

	db, err := openDB(ctx, dbPath)
	if err != nil {
		logger.Error("Connection error: " + err.Error())
		return err
	}
	logger.Info("Opened connection to " + dbPath)
	defer func() {
		err = errors.Join(err, db.Close())
		logger.Info("Closed connection to " + dbPath)
	}()

	if err := withTransaction(ctx, db, logger, func(tx *sql.Tx) error { return resetAccounts(ctx, tx) }); err != nil {
		return advise(ctx, db, dbPath, err)
	}
	if err := printAccounts(ctx, db, stdout); err != nil {
		return err
	}
	// Bob cannot pay 500, Carol has no account; any other error ends it.
	for _, t := range []struct {
		payer, payee string
		amount       int
	}{{"Alice", "Bob", 30}, {"Bob", "Alice", 500}, {"Alice", "Carol", 10}} {
		err := withTransaction(ctx, db, logger, func(tx *sql.Tx) error {
			return transfer(ctx, tx, t.payer, t.payee, t.amount)
		})
		result, sqliteErr := "committed", sqlite3.Error{}
		if errors.As(err, &sqliteErr) && sqliteErr.Code == sqlite3.ErrConstraint {
			result = "rolled back: " + err.Error()
		} else if err != nil {
			return advise(ctx, db, dbPath, err)
		}
		fmt.Fprintf(stdout, "%s pays %s %d: %s\n", t.payer, t.payee, t.amount, result)
		if err := printAccounts(ctx, db, stdout); err != nil {
			return err
		}
	}
	return nil
}

// withTransaction is TransactionalConnection's __exit__: it runs fn in a
// new transaction, commits if fn returns nil, and rolls back otherwise.
func withTransaction(ctx context.Context, db *sql.DB, logger *slog.Logger, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// Every way out but Commit rolls back here (an error, a panic, t.Fatal),
	// freeing the write lock and the connection. After Commit it does nothing
	// (sql.ErrTxDone); so too once a canceled ctx has made database/sql roll
	// back by itself, on a goroutine of its own that frees them a moment later.
	defer tx.Rollback()

	if err := fn(tx); err != nil {
		logger.Error("Transaction rolled back: " + err.Error())
		return err
	}
	// COMMIT checks deferred foreign keys and may meet a full disk. If it
	// fails, the driver rolls back: nothing was saved, and we must say so.
	if err := tx.Commit(); err != nil {
		logger.Error("Transaction rolled back: " + err.Error())
		return err
	}
	logger.Info("Transaction committed")
	return nil
}

// openDB opens the existing file (mode=rw never creates one) and proves it
// with PingContext: sql.Open connects to nothing. Each connection gets from
// the DSN: _busy_timeout=5000, a 5 s wait for another program's lock (the
// driver's default, written out); _foreign_keys=1 (SQLite checks foreign
// keys only when asked); _txlock=immediate, so that BeginTx takes the write
// lock at once. A copy of withTransaction whose fn reads, then writes,
// needs that and a pool of one connection (see extras/transactional-query).
func openDB(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw&_busy_timeout=5000&_foreign_keys=1&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		err = advise(ctx, db, path, err)
		db.Close()
		return nil, err
	}
	return db, nil
}

// resetAccounts gives Alice 100 and Bob 50. No balance may go below 0, and
// payer and payee must have accounts, checked at COMMIT (DEFERRED).
func resetAccounts(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range []string{
		"CREATE TABLE IF NOT EXISTS demo_accounts (owner TEXT PRIMARY KEY, balance INTEGER NOT NULL CHECK (balance >= 0))",
		`CREATE TABLE IF NOT EXISTS demo_transfers (amount INTEGER NOT NULL,
    payer TEXT NOT NULL REFERENCES demo_accounts (owner) DEFERRABLE INITIALLY DEFERRED,
    payee TEXT NOT NULL REFERENCES demo_accounts (owner) DEFERRABLE INITIALLY DEFERRED)`,
		"DELETE FROM demo_transfers", "DELETE FROM demo_accounts",
		"INSERT INTO demo_accounts (owner, balance) VALUES ('Alice', 100), ('Bob', 50)",
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// transfer records a payment and moves the money, all through tx, with a
// placeholder for every value. The payee is credited first, so when the
// payer's debit is refused, only the rollback takes the credit back.
func transfer(ctx context.Context, tx *sql.Tx, payer, payee string, amount int) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO demo_transfers (payer, payee, amount) VALUES (?, ?, ?)", payer, payee, amount)
	if err == nil {
		_, err = tx.ExecContext(ctx, "UPDATE demo_accounts SET balance = balance + ? WHERE owner = ?", amount, payee)
	}
	if err == nil {
		_, err = tx.ExecContext(ctx, "UPDATE demo_accounts SET balance = balance - ? WHERE owner = ?", amount, payer)
	}
	return err
}

// printAccounts prints each account as Python prints a row.
func printAccounts(ctx context.Context, db *sql.DB, w io.Writer) error {
	rows, err := db.QueryContext(ctx, "SELECT owner, balance FROM demo_accounts ORDER BY owner")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		row, err := scanRow(rows)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, row)
	}
	return rows.Err()
}
