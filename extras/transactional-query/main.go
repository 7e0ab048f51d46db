// Transactional-query is the guide's section 4.2.5, TransactionalQuery: a
// query and its parameters run inside a transaction that __exit__ commits
// when the with block ends normally and rolls back when it raises.
//
// In Go, transactionalQuery runs the query in a new transaction and hands
// the transaction and the query's row to a function; what the function
// returns decides, as exc_type does in __exit__:
//
//	err := transactionalQuery(ctx, db, logger, query, args,
//	    func(tx *sql.Tx, row *sql.Row) error { ... row.Scan ... tx.ExecContext ... })
//
// nil commits, and Commit's own error is returned; an error is returned
// unchanged; `defer tx.Rollback()` rolls back on every way out but Commit
// (an error, a panic, runtime.Goexit) and does nothing after Commit. Only
// tx.* calls are in the transaction: a db.* call inside the function waits
// for the pool's one connection, which the transaction holds, until its
// context ends.
//
// The demo reads a visit count and writes it plus one, from several
// goroutines at once, and loses no visit. A transaction that reads, then
// writes needs two things, and a copy of this helper (or of
// withTransaction in extras/transactional-connection) needs both:
//
//   - _txlock=immediate in the DSN, so that BeginTx runs BEGIN IMMEDIATE and
//     takes the write lock before the read. A plain BEGIN takes it at the
//     first write; if another connection holds it then, that write fails at
//     once with SQLITE_BUSY, whatever the busy timeout: waiting while
//     holding a read lock could deadlock, so SQLite does not wait.
//   - one writer pool: db.SetMaxOpenConns(1). Two connections of one program
//     would wait for each other in SQLite's busy handler, which polls: it
//     sleeps and tries again (up to 100 ms apart) until the busy timeout
//     runs out, then fails with "database is locked". With one connection,
//     the program's transactions wait for it in database/sql instead, which
//     is no queue either (it hands a freed connection to one of its waiters
//     picked at random) but does not poll: a waiter sleeps until it is
//     handed the connection, for as long as its context allows, and no
//     transaction fails with "database is locked" because of another of the
//     same program. The busy timeout is left for other programs.
//
// Reads that need no transaction are plain queries on the pool. WAL mode
// lets them go on while a writer writes: see this lesson's README.md.
//
// The count is kept in a table of the lesson's own in users.db,
// demo_visits, reset at each run; the users table is never touched.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"workbook/internal/dbfile"
	"workbook/internal/guidelog"
	"workbook/internal/lesson"
	"workbook/internal/pyrow"
)

// main runs the lesson as a program: lesson.Main reads -db, turns Ctrl-C
// into a cancelled ctx, and prints run's error as one line.
func main() { lesson.Main("extras/transactional-query", run) }

// home is the page whose visits are counted; visitors arrive at once.
const (
	home     = "home"
	visitors = 5
)

// run counts one visit, then several at once, and prints the count.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) (err error) {
	logger, closeLog := guidelog.New(stderr, "query.log")
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

	if _, err := db.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS demo_visits (page TEXT PRIMARY KEY, visits INTEGER NOT NULL)"); err != nil {
		return dbfile.Explain(ctx, db, dbPath, err)
	}
	if _, err := db.ExecContext(ctx, "INSERT OR REPLACE INTO demo_visits (page, visits) VALUES (?, 0)", home); err != nil {
		return dbfile.Explain(ctx, db, dbPath, err)
	}
	fmt.Fprintln(stdout, "One visit:")
	if err := countVisit(ctx, db, logger, home); err != nil {
		return err
	}
	if err := printVisits(ctx, db, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d visits at the same time:\n", visitors)
	var wg sync.WaitGroup
	errs := make([]error, visitors)
	for i := range visitors {
		wg.Go(func() { errs[i] = countVisit(ctx, db, logger, home) })
	}
	wg.Wait()
	// Each visit's error is kept and checked: a visit that failed must not
	// pass unseen, and the count printed after it would be wrong.
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return printVisits(ctx, db, stdout)
}

// transactionalQuery is TransactionalQuery: it begins a transaction, runs
// query with args in it, and passes the transaction and the row to fn. It
// commits if fn returns nil, and rolls back otherwise.
func transactionalQuery(ctx context.Context, db *sql.DB, logger *slog.Logger,
	query string, args []any, fn func(tx *sql.Tx, row *sql.Row) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// The safety net: rolls back on every way out but Commit, freeing the
	// write lock and the connection. After Commit it does nothing.
	defer tx.Rollback()

	row := tx.QueryRowContext(ctx, query, args...)
	if err := row.Err(); err != nil {
		logger.Error("Query error: " + err.Error())
		return err
	}
	logger.Info(fmt.Sprintf("Executed query: %s with params: %v", query, pyrow.Row(args)))
	if err := fn(tx, row); err != nil {
		logger.Error("Transaction rolled back: " + err.Error())
		return err
	}
	// If COMMIT fails, the driver rolls back: nothing was saved.
	if err := tx.Commit(); err != nil {
		logger.Error("Transaction rolled back: " + err.Error())
		return err
	}
	logger.Info("Transaction committed")
	return nil
}

// countVisit reads the page's count and writes it plus one, in one
// transaction, with a placeholder for every value.
func countVisit(ctx context.Context, db *sql.DB, logger *slog.Logger, page string) error {
	return transactionalQuery(ctx, db, logger, "SELECT visits FROM demo_visits WHERE page = ?", []any{page},
		func(tx *sql.Tx, row *sql.Row) error {
			var visits int64
			err := row.Scan(&visits)
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("no page %q in demo_visits", page)
			}
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, "UPDATE demo_visits SET visits = ? WHERE page = ?", visits+1, page)
			return err
		})
}

// openDB opens the existing file with dataSourceName's settings and a pool
// of one connection, explained above, and proves it with PingContext:
// sql.Open connects to nothing.
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
//   - _txlock=immediate: explained above.
//   - _synchronous=FULL: a counted visit survives a power loss. This driver
//     sets NORMAL on every connection unless told, where Python's sqlite3
//     and the sqlite3 shell keep SQLite's FULL; with NORMAL and the default
//     rollback journal, SQLite's documentation gives a power loss at the
//     wrong moment a small chance to corrupt the file, and under WAL the
//     last commits may be lost.
func dataSourceName(path string) string {
	return dbfile.URI(path) + "?mode=rw&_busy_timeout=5000&_txlock=immediate&_synchronous=FULL"
}

// printVisits prints the page's row as Python prints it.
func printVisits(ctx context.Context, db *sql.DB, w io.Writer) error {
	var visits int64
	err := db.QueryRowContext(ctx, "SELECT visits FROM demo_visits WHERE page = ?", home).Scan(&visits)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, pyrow.Row{home, visits})
	return err
}
