package workbooktest

import (
	"slices"
	"testing"

	"workbook/internal/lesson"
)

// OnEveryUsersTable calls check, in a subtest of its own, with the path of
// a database that holds each of UsersTables and with want[table.Name],
// what the lesson must do on it. A table that want does not list fails the
// test, so that a table added to UsersTables is never passed over.
func OnEveryUsersTable[T any](t *testing.T, want map[string]T, check func(t *testing.T, path string, want T)) {
	t.Helper()
	for _, table := range UsersTables {
		t.Run(table.Name, func(t *testing.T) {
			w, ok := want[table.Name]
			if !ok {
				t.Fatalf("the test does not say what the lesson does on the users table %q", table.Name)
			}
			check(t, NewUsersDB(t, table.Setup...), w)
		})
	}
}

// AssertRefusesBadDatabases runs a lesson's run on each of BadDatabases,
// and on each of missingColumns (databases whose users table lacks a
// column the lesson reads), and checks each run as
// RunLessonOnABadDatabase does. It checks the log too, for a lesson that
// logs "Connection error: " and the error when PingContext fails: on a
// path that is no database, that one line; on an empty file, a database
// without a users table and each of missingColumns, which PingContext
// reads well and only the query fails on, the lines of opened(path).
func AssertRefusesBadDatabases(t *testing.T, run lesson.Run, logFile string, opened func(path string) []string, missingColumns ...BadDatabase) {
	t.Helper()
	databases := map[string]bool{"an empty file": true, "no users table": true}
	for _, bad := range missingColumns {
		databases[bad.Name] = true
	}
	for _, bad := range append(slices.Clip(BadDatabases), missingColumns...) {
		t.Run(bad.Name, func(t *testing.T) {
			path := bad.Make(t)
			got := RunLessonOnABadDatabase(t, run, logFile, path, bad.Advice)
			switch {
			case got.Err == nil:
				// RunLessonOnABadDatabase has said so.
			case databases[bad.Name]:
				AssertLogged(t, got, opened(path)...)
			default:
				AssertLogged(t, got, "ERROR - Connection error: "+got.Err.Error())
			}
		})
	}
}
