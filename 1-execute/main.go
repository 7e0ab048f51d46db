//go:build cgo

// Lesson 1-execute is Task 1 of the guide (section 4.2, 1-execute.py): a
// reusable query that binds its parameters and always cleans up.
//
// Python's ExecuteQuery is a class: __enter__ connects, runs the query with
// its parameters and returns every row (fetchall), __exit__ closes. In Go,
// a function does __enter__ and returns a value whose Close is __exit__:
//
//	results, err := ExecuteQuery(ctx, logger, "users.db", "SELECT * FROM users WHERE age > ?", 25)
//	if err != nil {
//		return err
//	}
//	defer results.Close()
//
// The ? placeholder is the point: the value travels apart from the SQL
// text, so no value can change the query. ExecuteQuery refuses what Python's
// cursor.execute refuses: a wrong number of parameters, which database/sql
// checks for a prepared statement, and two statements in one string.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
)

// run is the guide's `if __name__ == "__main__"` block: users older than 25.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := newLogger(stderr, "query.log")
	defer closeLog()

	results, err := ExecuteQuery(ctx, logger, dbPath, "SELECT * FROM users WHERE age > ?", 25)
	if err != nil {
		return err
	}
	defer results.Close() // it only read, so its Close has nothing to lose
	for _, row := range results.Rows {
		fmt.Fprintln(stdout, row) // main reports a failed write to stdout
	}
	return nil
}

// Results is what __enter__ returns, the rows, with what __exit__ needs.
type Results struct {
	Rows   []pyRow
	db     *sql.DB
	name   string
	logger *slog.Logger
}

// ExecuteQuery does __enter__: it opens dbPath, runs query with params
// bound to its placeholders, and reads every row. On failure it closes what
// it opened before it returns, which Python's class does not: Python never
// calls __exit__ when __enter__ raises.
func ExecuteQuery(ctx context.Context, logger *slog.Logger, dbPath, query string, params ...any) (*Results, error) {
	// mode=rw never creates a file. _busy_timeout=5000 waits up to 5 s for
	// another program's write; 5000 ms is this driver's default anyway.
	db, err := sql.Open("sqlite3", fileURI(dbPath)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	results := &Results{db: db, name: dbPath, logger: logger}
	results.Rows, err = fetchall(ctx, cursor{db}, query, params...)
	if err != nil {
		logger.Error("Query error: " + err.Error())
		// The guide's query needs the age column: advise names the
		// columns the table has, if age is not one of them.
		err = advise(ctx, db, dbPath, err, "age")
		results.Close()
		return nil, err
	}
	logger.Info("Executed query: " + query + " with params: " + pyRow(params).String())
	return results, nil
}

// Close does __exit__.
func (r *Results) Close() error {
	err := r.db.Close()
	r.logger.Info("Closed connection to " + r.name)
	return err
}

// fetchall reads every row of the query, as Python's cursor.fetchall does.
func fetchall(ctx context.Context, c cursor, query string, params ...any) ([]pyRow, error) {
	rows, err := queryAsStored(ctx, c, query, params...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var all []pyRow
	for rows.Next() {
		row, err := scanRow(rows)
		if err != nil {
			return nil, err
		}
		all = append(all, row)
	}
	return all, rows.Err() // Next stops at the end and on an error alike
}

// cursor runs a query as Python's cursor.execute does: one statement only,
// prepared, so that database/sql refuses a wrong number of parameters. (The
// driver's unprepared Query runs every statement in the string and drops
// surplus parameters; its prepared statement ignores all but the first.)
type cursor struct{ db *sql.DB }

func (c cursor) QueryContext(ctx context.Context, query string, params ...any) (*sql.Rows, error) {
	if err := checkOneStatement(query); err != nil {
		return nil, err
	}
	stmt, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer stmt.Close() // the rows keep it open until they are closed
	return stmt.QueryContext(ctx, params...)
}
