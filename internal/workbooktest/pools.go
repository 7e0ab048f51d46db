package workbooktest

import (
	"database/sql"
	"strings"
	"testing"
)

// LargerPool opens dsn, a lesson's DSN with the busy timeout of 5 s it
// gives a pool of one connection, as a pool of two connections that wait
// 100 ms instead: for a test of what a second connection of the same
// program meets, which fails after the busy timeout. Its cleanup closes
// the pool.
func LargerPool(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	quick := strings.Replace(dsn, "_busy_timeout=5000", "_busy_timeout=100", 1)
	if quick == dsn {
		t.Fatalf("the lesson's DSN has no _busy_timeout=5000: %s", dsn)
	}
	db, err := sql.Open("sqlite3", quick)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(2)
	return db
}
