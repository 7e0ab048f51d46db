package workbooktest

import (
	"database/sql"
	"testing"
)

// synchronousNames are the values of PRAGMA synchronous, by number.
var synchronousNames = []string{"OFF", "NORMAL", "FULL", "EXTRA"}

// AssertSynchronous fails unless a connection of db reads PRAGMA
// synchronous as want: "OFF", "NORMAL", "FULL" or "EXTRA". The setting is
// per connection, so db's DSN must set it for every connection to have it.
func AssertSynchronous(t testing.TB, db *sql.DB, want string) {
	t.Helper()
	var level int
	if err := db.QueryRowContext(Context(t), "PRAGMA synchronous").Scan(&level); err != nil {
		t.Fatal(err)
	}
	got := "an unknown value"
	if level >= 0 && level < len(synchronousNames) {
		got = synchronousNames[level]
	}
	if got != want {
		t.Errorf("PRAGMA synchronous = %s (%d), want %s", got, level, want)
	}
}
