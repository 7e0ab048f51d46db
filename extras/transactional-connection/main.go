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
// every way out but Commit, and a no-op after Commit.
//
// Only tx.* calls are in the transaction. A db.* call inside fn is not in
// it, and does not run beside it either: this lesson's pool has one
// connection, which the transaction holds, so the call waits for it until
// its context ends (for the program's own context, until Ctrl-C). With a
// larger pool, a write would wait for the transaction's write lock and fail
// with "database is locked" after the busy timeout; only a read would run,
// outside the transaction, seeing what was committed before it began.
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

	"workbook/internal/dbfile"
	"workbook/internal/guidelog"
	"workbook/internal/lesson"
	"workbook/internal/pyrow"
)

// main runs the lesson as a program: lesson.Main reads -db, turns Ctrl-C
// into a cancelled ctx, and prints run's error as one line.
func main() { lesson.Main("extras/transactional-connection", run) }

// A payment is one transfer of the demo.
type payment struct {
	payer, payee string
	amount       int
}

// payments are the demo's transfers: the first goes through, Bob cannot pay
// 500, and Carol has no account.
var payments = []payment{
	{"Alice", "Bob", 30},
	{"Bob", "Alice", 500},
	{"Alice", "Carol", 10},
}

// run makes each payment in a transaction of its own and prints the
// accounts after each. A payment that fails, for whatever reason (a rule of
// the tables, a lock held too long), is rolled back and reported, and the
// next one is tried: each is all or nothing on its own.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) (err error) {
	logger, closeLog := guidelog.New(stderr, "connection.log")
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

	err = withTransaction(ctx, db, logger, func(tx *sql.Tx) error {
		return resetAccounts(ctx, tx)
	})
	if err != nil {
		return dbfile.Explain(ctx, db, dbPath, err)
	}
	if err := printAccounts(ctx, db, stdout); err != nil {
		return err
	}
	for _, p := range payments {
		err := withTransaction(ctx, db, logger, func(tx *sql.Tx) error {
			return transfer(ctx, tx, p)
		})
		result := "committed"
		if err != nil {
			result = "rolled back: " + err.Error()
		}
		fmt.Fprintf(stdout, "%s pays %s %d: %s\n", p.payer, p.payee, p.amount, result)
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
	// Every way out but Commit rolls back here (an error, a panic),
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

// openDB opens the existing file with dataSourceName's settings and a pool
// of one connection, and proves it with PingContext: sql.Open connects to
// nothing.
//
// One connection, and _txlock=immediate in the DSN, matter to a copy of
// withTransaction whose fn reads, then writes (see
// extras/transactional-query): these payments only write.
func openDB(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", dataSourceName(path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		err = dbfile.Explain(ctx, db, path, err)
		db.Close()
		return nil, err
	}
	return db, nil
}

// dataSourceName is what openDB opens: the existing file (mode=rw never
// creates one), with settings the driver applies to each connection it
// opens.
//
//   - _busy_timeout=5000: wait up to 5 s for another program's lock (the
//     driver's default, written out).
//   - _foreign_keys=1: SQLite checks foreign keys only when asked.
//   - _txlock=immediate: BeginTx runs BEGIN IMMEDIATE, which takes the
//     write lock at once.
//   - _synchronous=FULL: a committed transaction survives a power loss.
//     This driver sets NORMAL on every connection unless told, where
//     Python's sqlite3 and the sqlite3 shell keep SQLite's FULL; with
//     NORMAL and the default rollback journal, SQLite's documentation gives
//     a power loss at the wrong moment a small chance to corrupt the file.
func dataSourceName(path string) string {
	return dbfile.URI(path) + "?mode=rw&_busy_timeout=5000&_foreign_keys=1&_txlock=immediate&_synchronous=FULL"
}

// resetAccounts gives Alice 100 and Bob 50. No balance may go below 0, and
// payer and payee must have accounts, checked at COMMIT (DEFERRED).
func resetAccounts(ctx context.Context, tx *sql.Tx) error {
	for _, stmt := range []string{
		"CREATE TABLE IF NOT EXISTS demo_accounts (owner TEXT PRIMARY KEY, balance INTEGER NOT NULL CHECK (balance >= 0))",
		`CREATE TABLE IF NOT EXISTS demo_transfers (amount INTEGER NOT NULL,
    payer TEXT NOT NULL REFERENCES demo_accounts (owner) DEFERRABLE INITIALLY DEFERRED,
    payee TEXT NOT NULL REFERENCES demo_accounts (owner) DEFERRABLE INITIALLY DEFERRED)`,
		"DELETE FROM demo_transfers",
		"DELETE FROM demo_accounts",
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
func transfer(ctx context.Context, tx *sql.Tx, p payment) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO demo_transfers (payer, payee, amount) VALUES (?, ?, ?)", p.payer, p.payee, p.amount)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "UPDATE demo_accounts SET balance = balance + ? WHERE owner = ?", p.amount, p.payee)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, "UPDATE demo_accounts SET balance = balance - ? WHERE owner = ?", p.amount, p.payer)
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
		var owner string
		var balance int64
		if err := rows.Scan(&owner, &balance); err != nil {
			return err
		}
		if _, err := fmt.Fprintln(w, pyrow.Row{owner, balance}); err != nil {
			return err
		}
	}
	// Next returns false at the end of the rows and on an error alike:
	// only rows.Err tells them apart.
	return rows.Err()
}
