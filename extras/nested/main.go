// Extra nested is the guide's section 5.1 (Listing 8): two context managers
// in one with statement, `with A as a, B as b:`. Python enters A, then B;
// on the way out it exits B first, then A; and if entering B raises, A is
// exited all the same.
//
// Go writes it with two defers. Each resource's close is deferred as soon
// as the resource is open, and deferred calls run last in, first out:
//
//	db, err := openDatabase(ctx, dbPath, logger) // DatabaseConnection(...) as conn
//	if err != nil {
//		return err
//	}
//	defer closeDatabase(db, dbPath, logger) // runs second
//	results, err := executeQuery(ctx, db, dbPath, query, logger) // ExecuteQuery(...) as results
//	if err != nil {
//		return err // closeDatabase still runs: it was deferred above
//	}
//	defer closeQuery(results, logger) // runs first
//
// The order matters because the second resource lives on the first: the
// rows hold one of the pool's connections until rows.Close. db.Close does
// not wait for them, nor does it close that connection: it returns at once,
// and the connection, with the file, stays open until the rows are closed.
// Closing the rows first means the file is closed when db.Close returns.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"workbook/internal/dbfile"
	"workbook/internal/guidelog"
	"workbook/internal/lesson"
	"workbook/internal/pyrow"
)

// main runs the lesson as a program: lesson.Main reads -db, turns Ctrl-C
// into a cancelled ctx, and prints run's error as one line.
func main() { lesson.Main("extras/nested", run) }

// query is the guide's query in Listing 8.
const query = "SELECT * FROM users"

// run is Listing 8: `with DatabaseConnection(...) as conn, ExecuteQuery(...)
// as results: print(results)`.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "connection.log")
	defer closeLog()

	db, err := openDatabase(ctx, dbPath, logger)
	if err != nil {
		return err
	}
	defer closeDatabase(db, dbPath, logger)
	results, err := executeQuery(ctx, db, dbPath, query, logger)
	if err != nil {
		return err // closeDatabase still runs: it was deferred above
	}
	defer closeQuery(results, logger)

	// print(results) prints the list of rows that fetchall returned.
	var rows pyList
	for results.Next() {
		row, err := pyrow.Scan(results)
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	// Next returns false at the end of the rows and on an error; only Err
	// tells the two apart.
	if err := results.Err(); err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, rows)
	return err
}

// openDatabase is DatabaseConnection's __enter__. sql.Open connects to
// nothing, so PingContext proves that the file opens before it is logged
// as opened. mode=rw opens an existing file and never creates one; 5000 ms
// of busy timeout is the driver's default too, written here to be seen.
func openDatabase(ctx context.Context, name string, logger *slog.Logger) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", dbfile.URI(name)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	if err := db.PingContext(ctx); err != nil {
		err = dbfile.Explain(ctx, db, name, err)
		db.Close()
		logger.Error("Connection error: " + err.Error())
		return nil, err
	}
	logger.Info("Opened connection to " + name)
	return db, nil
}

// closeDatabase is DatabaseConnection's __exit__: it closes the pool and
// every connection in it that nothing holds. A reader has nothing to lose
// if closing fails, so, as in the guide, the error is not reported.
func closeDatabase(db *sql.DB, name string, logger *slog.Logger) {
	db.Close()
	logger.Info("Closed connection to " + name)
}

// executeQuery is ExecuteQuery's __enter__, except that it returns the
// open rows instead of fetching them all: they hold one of db's
// connections until closeQuery. A failed query comes back with advice
// about the database file name.
func executeQuery(ctx context.Context, db *sql.DB, name, query string, logger *slog.Logger) (*sql.Rows, error) {
	rows, err := pyrow.Query(ctx, db, query)
	if err != nil {
		err = dbfile.Explain(ctx, db, name, err)
		logger.Error("Query error: " + err.Error())
		return nil, err
	}
	logger.Info("Executed query: " + query + " with params: ()")
	return rows, nil
}

// closeQuery is ExecuteQuery's __exit__: it gives the rows' connection back
// to the pool. Next closes the rows by itself at their end, but a return
// from inside the loop leaves them open until this.
func closeQuery(rows *sql.Rows, logger *slog.Logger) {
	rows.Close()
	logger.Info("Closed query")
}

// pyList prints as Python's print(list) of tuples does.
type pyList []pyrow.Row

func (l pyList) String() string {
	items := make([]string, len(l))
	for i, row := range l {
		items[i] = row.String()
	}
	return "[" + strings.Join(items, ", ") + "]"
}
