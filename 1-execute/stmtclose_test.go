//go:build cgo

package main

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// countingDriver is the real SQLite driver with a count of the prepared
// statements that are open. database/sql closes them all when the
// database closes, so only a count taken while it is open shows a leak.
type countingDriver struct {
	sqlite3.SQLiteDriver
	open atomic.Int64
}

func (d *countingDriver) Open(dsn string) (driver.Conn, error) {
	c, err := d.SQLiteDriver.Open(dsn)
	if err != nil {
		return nil, err
	}
	return countingConn{c.(*sqlite3.SQLiteConn), d}, nil
}

type countingConn struct {
	*sqlite3.SQLiteConn
	d *countingDriver
}

func (c countingConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	s, err := c.SQLiteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.d.open.Add(1)
	return &countingStmt{s.(*sqlite3.SQLiteStmt), c.d}, nil
}

type countingStmt struct {
	*sqlite3.SQLiteStmt
	d *countingDriver
}

func (s *countingStmt) Close() error {
	s.d.open.Add(-1)
	return s.SQLiteStmt.Close()
}

var statements = &countingDriver{}

func init() { sql.Register("sqlite3-counting-statements", statements) }

// TestCursorClosesItsStatement guards `defer stmt.Close()` in
// cursor.QueryContext. Without it every query leaves a prepared statement
// on its connection for as long as the database stays open: in a program
// that keeps one *sql.DB, a leak that grows with every query.
func TestCursorClosesItsStatement(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	db, err := sql.Open("sqlite3-counting-statements", fileURI(path)+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for age := range 3 {
		rows, err := fetchall(ctx, cursor{db}, "SELECT * FROM users WHERE age > ?", 20+10*age)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			t.Fatalf("no users older than %d", 20+10*age)
		}
	}
	if n := statements.open.Load(); n != 0 {
		t.Errorf("%d prepared statements still open after 3 queries, want 0", n)
	}
}
