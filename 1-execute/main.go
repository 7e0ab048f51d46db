// Lesson 1-execute is Task 1 of the guide (section 4.2, 1-execute.py): a
// reusable query that binds its parameters and always cleans up.
//
// Python's ExecuteQuery is a class: __enter__ connects, runs the query with
// its parameters and returns every row (fetchall), __exit__ closes. In Go,
// a function does __enter__ and returns a value whose Close does __exit__:
//
//	results, err := ExecuteQuery(ctx, logger, "users.db", "SELECT * FROM users WHERE age > ?", 25)
//	if err != nil {
//		return err
//	}
//	defer results.Close()
//
// The ? placeholder is the point: the value travels apart from the SQL
// text, so no value can change the query. Like Python's cursor.execute,
// ExecuteQuery refuses a wrong number of parameters and two statements.
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
	"workbook/internal/statement"
)

// main runs the lesson as a program: lesson.Main reads -db, turns Ctrl-C
// into a cancelled ctx, and prints run's error as one line.
func main() { lesson.Main("1-execute", run) }

// run is the guide's `if __name__ == "__main__"` block: the users older
// than 25.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "query.log")
	defer closeLog()

	results, err := ExecuteQuery(ctx, logger, dbPath, "SELECT * FROM users WHERE age > ?", 25)
	if err != nil {
		return err
	}
	defer results.Close() // it only read, so its Close has nothing to lose
	for _, row := range results.Rows {
		if _, err := fmt.Fprintln(stdout, row); err != nil {
			return err
		}
	}
	return nil
}

// Results is what __enter__ returns, every row, with what __exit__ needs.
type Results struct {
	Rows   []pyrow.Row
	db     *sql.DB
	name   string
	logger *slog.Logger
}

// ExecuteQuery does __enter__: it opens the database file at dbPath, runs
// query with params bound to its placeholders, and reads every row.
func ExecuteQuery(ctx context.Context, logger *slog.Logger, dbPath, query string, params ...any) (*Results, error) {
	// mode=rw never creates a file, so a mistyped path fails.
	// _busy_timeout=5000 waits up to 5 s for another program's write, as
	// this driver does by default.
	db, err := sql.Open("sqlite3", dbfile.URI(dbPath)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	rows, err := fetchAll(ctx, cursor{db}, query, params...)
	if err != nil {
		logger.Error("Query error: " + err.Error())
		// The guide's query needs the age column: Explain names the
		// columns the table has, if age is not one of them.
		err = dbfile.Explain(ctx, db, dbPath, err, "age")
		// The caller gets no Results to close, so close the database here,
		// but log no "Closed connection": Python never calls __exit__ when
		// __enter__ raises.
		db.Close()
		return nil, err
	}
	logger.Info("Executed query: " + query + " with params: " + pyrow.Row(params).String())
	return &Results{Rows: rows, db: db, name: dbPath, logger: logger}, nil
}

// Close does __exit__.
func (r *Results) Close() error {
	err := r.db.Close()
	r.logger.Info("Closed connection to " + r.name)
	return err
}

// fetchAll reads every row of the query, as Python's cursor.fetchall does.
func fetchAll(ctx context.Context, c cursor, query string, params ...any) ([]pyrow.Row, error) {
	rows, err := pyrow.Query(ctx, c, query, params...)
	if err != nil {
		return nil, err
	}
	// Close the rows however this function returns: until then they hold
	// one of the pool's connections, and db.Close cannot close that one.
	defer rows.Close()
	var all []pyrow.Row
	for rows.Next() {
		row, err := pyrow.Scan(rows)
		if err != nil {
			return nil, err
		}
		all = append(all, row)
	}
	// Next returns false at the end of the rows and on an error alike:
	// only rows.Err tells them apart.
	return all, rows.Err()
}

// cursor runs a query as Python's cursor.execute does: one statement only,
// prepared, so that database/sql counts the parameters. The driver does
// neither by itself: its Query runs every statement in the string and drops
// surplus parameters; its prepared statement ignores all but the first.
type cursor struct{ db *sql.DB }

func (c cursor) QueryContext(ctx context.Context, query string, params ...any) (*sql.Rows, error) {
	if err := statement.CheckOne(query); err != nil {
		return nil, err
	}
	stmt, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	// The rows keep the statement open until they are closed.
	defer stmt.Close()
	return stmt.QueryContext(ctx, params...)
}
