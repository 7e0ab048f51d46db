// Your turn: write Task 0 in Go (the guide's 0-databaseconnection.py).
//
// This is the lesson's main.go with its teaching lines taken out. Fill in
// each TODO, in order, as the guide's steps go: open the connection in
// Open and prove it, close it in Close, defer that Close, log both, and
// close the query's rows and check rows.Err. Run your program and the
// checker from the top folder:
//
//	go run ./0-databaseconnection/exercise
//	go test -tags exercise ./0-databaseconnection/exercise
//
// The checker runs your program and says, step by step, what it did and
// what the lesson does instead. When it passes, compare your file with
// ../main.go.
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

func main() { lesson.Main("0-databaseconnection/exercise", run) }

// run is the guide's `if __name__ == "__main__"` block.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "connection.log")
	defer closeLog()

	conn, err := Open(ctx, logger, dbPath)
	if err != nil {
		return err
	}
	// TODO 3: close the connection however run returns, with one line here.
	return printUsers(ctx, conn, stdout)
}

// printUsers is the body of the guide's with block: every user, printed
// as Python prints the row's tuple.
func printUsers(ctx context.Context, conn *DatabaseConnection, stdout io.Writer) error {
	rows, err := pyrow.Query(ctx, conn, "SELECT * FROM users")
	if err != nil {
		return dbfile.Explain(ctx, conn.DB, conn.name, err)
	}
	// TODO 4: close the rows however printUsers returns, right here, after
	// the error check: open rows hold one of the pool's connections. The
	// checker cannot see this line missing (the program ends and the system
	// closes the file anyway); the diff with ../main.go shows it, and the
	// page's "Try it" 1 shows what it guards.
	for rows.Next() {
		row, err := pyrow.Scan(rows)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(stdout, row); err != nil {
			return err
		}
	}
	// TODO 4: rows.Next returns false at the end and on an error alike:
	// return what tells them apart, instead of nil.
	return nil
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
	// TODO 1: open path with sql.Open("sqlite3", ...). Use dbfile.URI(path)
	// and SQLite's mode=rw, so that a mistyped path is an error instead of a
	// new, empty database.
	//
	// TODO 2: sql.Open connects to nothing. Prove the file is a database
	// with db.PingContext(ctx) before you log "Opened connection to " +
	// path. If the ping fails: log "Connection error: " + the error as an
	// error, then err = dbfile.Explain(ctx, db, path, err) while db is
	// still open (it says what is wrong and what to do), then close db and
	// return nil, err.
	//
	// Then return &DatabaseConnection{DB: db, name: path, logger: logger}.
	// The return below is a placeholder: replace it, and delete the
	// "errors" import with it, or Go refuses to build ("imported and not
	// used").
	return nil, errors.New("Open is not written yet: TODO 1 and TODO 2 in 0-databaseconnection/exercise/main.go")
}

// Close does __exit__.
func (c *DatabaseConnection) Close() error {
	// TODO 3: close the database, then log "Closed connection to " + the
	// name, and return Close's error.
	return nil
}
