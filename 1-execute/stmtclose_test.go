package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync/atomic"
	"testing"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

// countingConnector opens the SQLite driver's connections and counts the
// prepared statements that are open on them. database/sql closes them all
// when the database closes, so only a count taken while it is open shows
// a statement that was never closed.
type countingConnector struct {
	dsn  string
	base driver.Driver
	open *atomic.Int64
}

func (c countingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.base.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return countingConn{conn, c.open}, nil
}

func (c countingConnector) Driver() driver.Driver { return c.base }

type countingConn struct {
	driver.Conn
	open *atomic.Int64
}

func (c countingConn) Prepare(query string) (driver.Stmt, error) {
	stmt, err := c.Conn.Prepare(query)
	if err != nil {
		return nil, err
	}
	c.open.Add(1)
	return countingStmt{stmt, c.open}, nil
}

type countingStmt struct {
	driver.Stmt
	open *atomic.Int64
}

func (s countingStmt) Close() error {
	s.open.Add(-1)
	return s.Stmt.Close()
}

// TestCursorClosesItsStatement guards `defer stmt.Close()` in
// cursor.QueryContext. Without it every query leaves a prepared statement
// on its connection for as long as the database stays open: in a program
// that keeps one *sql.DB, a leak that grows with every query.
func TestCursorClosesItsStatement(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	sqlite := workbooktest.OpenReadOnly(t, path).Driver()
	var open atomic.Int64
	db := sql.OpenDB(countingConnector{dbfile.URI(path) + "?mode=rw", sqlite, &open})
	defer db.Close()
	for age := 20; age <= 40; age += 10 {
		rows, err := fetchAll(workbooktest.Context(t), cursor{db}, "SELECT * FROM users WHERE age > ?", age)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			t.Fatalf("no users older than %d", age)
		}
	}
	if n := open.Load(); n != 0 {
		t.Errorf("%d prepared statements still open after 3 queries, want 0", n)
	}
}
