// Package workbooktest holds the test helpers every lesson's tests use: a
// users table made to order, a scratch folder to run in, Python to compare
// with, the guide's log format, the lesson's page, its experiments, and its
// program built and run as a learner runs it.
package workbooktest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"workbook/internal/dbfile"

	_ "github.com/mattn/go-sqlite3" // the driver the tests open "sqlite3" with
)

// GuideUsers is the guide's users table with its three users, for
// NewUsersDB.
var GuideUsers = []string{
	`CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    age INTEGER NOT NULL
)`,
	`INSERT INTO users (name, email, age) VALUES
    ('Alice Smith', 'alice.smith@example.com', 30),
    ('Bob Johnson', 'bob.johnson@example.com', 45),
    ('Charlie Brown', 'charlie.brown@example.com', 25)`,
}

// ManyUsers is the guide's users table with n users, made by SQLite itself.
func ManyUsers(n int) []string {
	return []string{GuideUsers[0], fmt.Sprintf(`WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < %d)
INSERT INTO users (name, email, age) SELECT 'User ' || n, 'user' || n || '@example.com', 18 + n %% 60 FROM i`, n)}
}

// NewUsersDB makes a database file in a new temporary folder, runs each SQL
// statement of setup in it (CREATE TABLE, INSERT ...), and returns its path.
func NewUsersDB(t testing.TB, setup ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.db")
	if err := MakeDB(path, setup...); err != nil {
		t.Fatal(err)
	}
	return path
}

// MakeDB makes the database file at path and runs each SQL statement of
// setup in it: NewUsersDB for TestMain and Examples, which have no
// *testing.T.
func MakeDB(path string, setup ...string) error {
	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rwc")
	if err != nil {
		return err
	}
	for _, stmt := range setup {
		if _, err := db.ExecContext(context.Background(), stmt); err != nil {
			db.Close()
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return db.Close()
}

// OpenReadOnly opens path read-only and closes it when the test ends,
// checking then that nothing was left open.
func OpenReadOnly(t testing.TB, path string) *sql.DB {
	t.Helper()
	return OpenDSN(t, dbfile.URI(path)+"?mode=ro")
}

// AssertNothingOpen fails unless db's pool has no connection open: every
// Rows, Stmt, Tx and Conn was closed and the pool itself was closed.
func AssertNothingOpen(t testing.TB, db *sql.DB) {
	t.Helper()
	if s := db.Stats(); s.OpenConnections != 0 || s.InUse != 0 {
		t.Errorf("db.Stats: %d open, %d in use; want nothing left open", s.OpenConnections, s.InUse)
	}
}

// OpenDescriptors lists the descriptors by which this process has the file
// at path (or its journal) open, as Linux shows them in /proc/self/fd;
// elsewhere it finds none.
func OpenDescriptors(path string) []string {
	fds, _ := os.ReadDir("/proc/self/fd")
	var open []string
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(target, path) {
			open = append(open, fd.Name())
		}
	}
	return open
}

// DirEntries lists the names in dir.
func DirEntries(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
