// Your turn: write the guide's section 4.1.5, TransactionalConnection, in
// Go: a with block that is one transaction, committed when the block ends
// normally and rolled back when it fails.
//
// This is the lesson's main.go with its teaching lines taken out. Fill in
// each TODO, in order, as the guide's steps go: the connection that
// __enter__ opens, with the settings a transaction needs; then __exit__,
// which withTransaction plays: begin, roll back on every way out, report a
// failed block, commit and check that COMMIT worked; last, the body of the
// block, a payment written through the transaction alone. Run your program
// and the checker from the top folder:
//
//	go run ./extras/transactional-connection/exercise
//	go test -tags exercise ./extras/transactional-connection/exercise
//
// The checker runs your program on real database files and says, step by
// step, what it did and what the lesson does instead. When it passes,
// compare your file with ../main.go.
//
// TODO 1 is below withTransaction, in openDB and dataSourceName. It has no
// placeholder that stops the program, so the program's own message names
// TODO 2 to 4 first: write TODO 1 anyway, before them.
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

func main() { lesson.Main("extras/transactional-connection/exercise", run) }

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
	// TODO 2: begin the transaction with db.BeginTx(ctx, nil), and return
	// its error if it fails. Python's sqlite3 begins by itself; Go says so.
	//
	// TODO 2: on the line after that error check, defer tx.Rollback(). It
	// is the safety net for every way out but Commit (an error, a panic):
	// it rolls back, which frees the write lock and gives the pool's one
	// connection back. After Commit it does nothing. Without it, a failed
	// payment keeps that connection, and the next printAccounts waits for
	// it forever.
	//
	// TODO 3: run fn(tx). If it returns an error, log "Transaction rolled
	// back: " + the error, as an error, and return that same error,
	// unchanged: the deferred Rollback does the rolling back.
	//
	// TODO 4: commit with tx.Commit(), and check its error: COMMIT checks
	// the deferred foreign keys (Carol has no account) and may meet a full
	// disk. When it fails, the driver has rolled back and nothing was
	// saved: log "Transaction rolled back: " + the error, as an error, and
	// return it. Only after a Commit that worked, log "Transaction
	// committed" and return nil.
	return errors.New("withTransaction is not written yet: TODO 2 to 4 in extras/transactional-connection/exercise/main.go")
}

// openDB opens the existing file with dataSourceName's settings and a pool
// of one connection, and proves it with PingContext: sql.Open connects to
// nothing.
func openDB(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", dataSourceName(path))
	if err != nil {
		return nil, err
	}
	// TODO 1: keep the pool to one connection, with db.SetMaxOpenConns(1):
	// the transactions then take turns on it, waiting in database/sql
	// rather than failing in SQLite's busy handler.
	if err := db.PingContext(ctx); err != nil {
		err = dbfile.Explain(ctx, db, path, err)
		db.Close()
		return nil, err
	}
	return db, nil
}

// dataSourceName is what openDB opens: the existing file (mode=rw never
// creates one), with settings the driver applies to each connection it
// opens. _busy_timeout=5000 waits up to 5 s for another program's lock.
func dataSourceName(path string) string {
	// TODO 1: add three settings, each as &name=value:
	//   - _foreign_keys=1: SQLite checks foreign keys only when asked, and
	//     the transfers table's foreign keys are what refuse Carol.
	//   - _txlock=immediate: BeginTx runs BEGIN IMMEDIATE, which takes the
	//     write lock at once, before fn reads or writes anything.
	//   - _synchronous=FULL: a committed transaction survives a power loss
	//     (this driver would set NORMAL).
	return dbfile.URI(path) + "?mode=rw&_busy_timeout=5000"
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

// transfer is the body of the with block: it records a payment and moves
// the money.
func transfer(ctx context.Context, tx *sql.Tx, p payment) error {
	// TODO 5: run three statements, each with tx.ExecContext and a ?
	// placeholder for every value, and return the first error:
	//   - INSERT INTO demo_transfers (payer, payee, amount) the payment;
	//   - UPDATE demo_accounts to add the amount to the payee's balance;
	//   - UPDATE demo_accounts to take it from the payer's balance.
	// Only tx.* calls are in the transaction: a db.* call here would wait
	// for the one connection the transaction holds. Credit the payee first,
	// so that when the payer's debit is refused, only the rollback takes
	// the credit back.
	return errors.New("transfer is not written yet: TODO 5 in extras/transactional-connection/exercise/main.go")
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
