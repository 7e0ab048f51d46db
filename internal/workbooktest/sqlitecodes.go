package workbooktest

import "testing"

// SQLite's extended result codes that the tests expect, by SQLite's names
// (https://www.sqlite.org/rescode.html). They are numbers here because the
// driver's constants, such as sqlite3.ErrConstraintCheck, exist only in a
// build with cgo, and a lesson's tests compile without it too.
const (
	SQLiteBusy                 = 5    // SQLITE_BUSY: "database is locked"
	SQLiteConstraintCheck      = 275  // SQLITE_CONSTRAINT_CHECK
	SQLiteConstraintForeignKey = 787  // SQLITE_CONSTRAINT_FOREIGNKEY
	SQLiteConstraintTrigger    = 1811 // SQLITE_CONSTRAINT_TRIGGER: RAISE(ABORT, ...)
)

// AssertSQLiteCode fails unless err is, or wraps, the driver's
// sqlite3.Error, found with errors.As, with the extended result code want,
// such as SQLiteBusy.
func AssertSQLiteCode(t testing.TB, err error, want int) {
	t.Helper()
	if got, ok := extendedCode(err); !ok || got != want {
		t.Errorf("error = %v, want SQLite's extended result code %d", err, want)
	}
}
