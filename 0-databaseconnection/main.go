// Lesson 0-databaseconnection is Task 0 of the guide (section 4.1,
// 0-databaseconnection.py): a connection that is always closed.
//
// Python's DatabaseConnection is a class: __enter__ opens the connection,
// __exit__ closes it, and a with statement calls both. Go has no with
// statement: a function does __enter__, and the line after the error check
// defers the Close that does __exit__:
//
//	conn, err := Open(ctx, logger, "users.db")
//	if err != nil {
//		return err
//	}
//	defer conn.Close()
//
// A deferred call runs however the function returns, as __exit__ runs
// however the with block ends. The rows of a query are closed the same way,
// and must be: db.Close does not close a connection that open rows still
// hold.
package main

import (
	"context"
	"database/sql"
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
func main() { lesson.Main("0-databaseconnection", run) }

// run is the guide's `if __name__ == "__main__"` block.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "connection.log")
	defer closeLog()

	conn, err := Open(ctx, logger, dbPath)
	if err != nil {
		return err
	}
	defer conn.Close() // it only read, so its Close has nothing to lose
	return printUsers(ctx, conn, stdout)
}

// printUsers is the body of the guide's with block: every user, printed
// as Python prints the row's tuple.
func printUsers(ctx context.Context, conn *DatabaseConnection, stdout io.Writer) error {
	rows, err := pyrow.Query(ctx, conn, "SELECT * FROM users")
	if err != nil {
		return dbfile.Explain(ctx, conn.DB, conn.name, err)
	}
	// Close the rows however this function returns: until then they hold
	// one of the pool's connections, and conn.Close cannot close that one.
	defer rows.Close()
	for rows.Next() {
		row, err := pyrow.Scan(rows)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(stdout, row); err != nil {
			return err
		}
	}
	// Next returns false at the end of the rows and on an error alike:
	// only rows.Err tells them apart.
	return rows.Err()
}

// DatabaseConnection is the Go form of the guide's class. It embeds the
// *sql.DB, so that conn.QueryContext and the rest work on it, and keeps
// the name and logger that Close needs for its log line.
type DatabaseConnection struct {
	*sql.DB
	name   string
	logger *slog.Logger
}

// Open does __enter__: it opens the database file at path and proves that
// it can read it.
func Open(ctx context.Context, logger *slog.Logger, path string) (*DatabaseConnection, error) {
	// mode=rw opens a file that exists and never creates one, so a mistyped
	// path fails. _busy_timeout=5000 waits up to 5 s for another program's
	// write; 5000 ms is this driver's default anyway.
	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	// sql.Open only checks its arguments and connects to nothing. Ping
	// opens a connection and reads the file, so "Opened" is true.
	if err := db.PingContext(ctx); err != nil {
		logger.Error("Connection error: " + err.Error())
		err = dbfile.Explain(ctx, db, path, err)
		db.Close()
		return nil, err
	}
	logger.Info("Opened connection to " + path)
	return &DatabaseConnection{DB: db, name: path, logger: logger}, nil
}

// Close does __exit__. db.Close closes the pool's idle connections at once;
// one that open rows hold stays open until they are closed.
func (c *DatabaseConnection) Close() error {
	err := c.DB.Close()
	c.logger.Info("Closed connection to " + c.name)
	return err
}
