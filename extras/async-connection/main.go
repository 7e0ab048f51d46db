// Extra async-connection is the guide's section 4.3.5 (Listing 7): an
// asynchronous context manager, written with @asynccontextmanager, that
// opens an aiosqlite connection, yields it to the async with block, and
// closes it in finally however the block ends.
//
// Go has no async with: it runs ordinary functions in goroutines. The pool,
// a *sql.DB, is opened once and shared by all of them. Each goroutine takes
// a connection of its own from it, a *sql.Conn, and defers giving it back:
//
//	conn, err := db.Conn(ctx) // conn = await aiosqlite.connect(db_name)
//	if err != nil {
//		return nil, err
//	}
//	defer conn.Close() // finally: await conn.close()
//
// conn.Close does not close the SQLite connection: it returns it to the
// pool for the next goroutine, and db.Close closes what the pool holds at
// the end. A connection never given back stays in use: db.Close leaves it
// open, and a pool with a limit on its connections runs out.
//
// Most code does not need db.Conn, since db.QueryContext takes a connection
// and gives it back by itself. db.Conn is for several statements that must
// run on one connection, because a connection has state of its own (a
// PRAGMA, a TEMP table). That state stays with the connection in the pool,
// after conn.Close, and the next borrower finds it: a setting that every
// connection needs goes in the DSN, as _busy_timeout does below.
//
// run does the guide's two queries of section 4.3 at the same time, each in
// a goroutine on a connection of its own, and prints them as Python does.
package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sync"

	"workbook/internal/dbfile"
	"workbook/internal/guidelog"
	"workbook/internal/lesson"
	"workbook/internal/pyrow"
)

// main runs the lesson as a program: lesson.Main reads -db, turns Ctrl-C
// into a cancelled ctx, and prints run's error as one line.
func main() { lesson.Main("extras/async-connection", run) }

// run opens the pool, runs both queries at once, and prints their rows.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "async.log")
	defer closeLog()

	// mode=rw opens an existing file and never creates one. Every connection
	// the pool opens gets the DSN's settings: 5000 ms of busy timeout is the
	// driver's default too, written here so that it can be seen.
	db, err := sql.Open("sqlite3", dbfile.URI(dbPath)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	// sql.Open connects to nothing: PingContext proves that the file opens.
	if err := db.PingContext(ctx); err != nil {
		err = dbfile.Explain(ctx, db, dbPath, err)
		logger.Error("Connection error: " + err.Error())
		return err
	}
	logger.Info("Opened connection to " + dbPath)

	var allUsers, olderUsers []pyrow.Row
	err = concurrently(
		func() (err error) {
			allUsers, err = fetchOnOwnConnection(ctx, db, "SELECT * FROM users")
			if err != nil {
				return dbfile.Explain(ctx, db, dbPath, err)
			}
			logger.Info("Fetched all users")
			return nil
		},
		func() (err error) {
			olderUsers, err = fetchOnOwnConnection(ctx, db, "SELECT * FROM users WHERE age > ?", 40)
			if err != nil {
				return dbfile.Explain(ctx, db, dbPath, err, "age")
			}
			logger.Info("Fetched users older than 40")
			return nil
		},
	)
	if err != nil {
		return err
	}

	fmt.Fprintln(stdout, "All users:")
	for _, user := range allUsers {
		fmt.Fprintln(stdout, user)
	}
	fmt.Fprintln(stdout, "\nUsers older than 40:")
	for _, user := range olderUsers {
		fmt.Fprintln(stdout, user)
	}
	return nil
}

// concurrently runs each function in a goroutine of its own and waits for
// all of them. Every error comes back, joined: a goroutine's error is never
// dropped. Like asyncio.gather, it cancels nothing when one fails; unlike
// it, it returns only once all have ended.
func concurrently(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		// Each goroutine writes its own element of errs, and wg.Wait
		// makes the writes visible after it.
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// fetchOnOwnConnection is one coroutine of the guide, async with
// async_db_connection(...) as conn: it takes a connection of its own from
// the pool, runs one query on it, reads every row, and gives the connection
// back however it returns.
func fetchOnOwnConnection(ctx context.Context, db *sql.DB, query string, params ...any) ([]pyrow.Row, error) {
	// The caller's ctx, not context.Background(): when every connection of
	// the pool is in use, db.Conn waits for one, and Ctrl-C must end that
	// wait too.
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()

	rows, err := pyrow.Query(ctx, conn, query, params...)
	if err != nil {
		return nil, err
	}
	// Rows hold conn until they are closed, and conn.Close waits for
	// them: without this line, a return from inside the loop would wait
	// until ctx is canceled, for ever if it never is.
	defer rows.Close()

	var users []pyrow.Row
	for rows.Next() {
		user, err := pyrow.Scan(rows)
		if err != nil {
			return nil, err
		}
		users = append(users, user)
	}
	// Next returns false at the end of the rows and on an error; only Err
	// tells the two apart.
	return users, rows.Err()
}
