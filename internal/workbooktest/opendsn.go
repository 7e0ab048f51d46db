package workbooktest

import (
	"database/sql"
	"testing"
)

// OpenDSN opens the database that dsn names, such as
// dbfile.URI(path)+"?mode=rw&_busy_timeout=0", and closes it when the test
// ends, checking then that nothing was left open: for a test that opens a
// database with settings of its own, or as a lesson opens it.
func OpenDSN(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		AssertNothingOpen(t, db)
	})
	return db
}
