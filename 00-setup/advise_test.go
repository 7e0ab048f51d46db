//go:build cgo

package main

// These tests hold workbook.go's advice to what a learner meets: each wrong
// -db gets one line that says what is wrong and what to do.

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mattn/go-sqlite3"
)

// openError opens path as the lessons do and returns advise's error for
// the open, or for query when the open succeeds.
func openError(t *testing.T, path, query string, columns ...string) error {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw&_busy_timeout=100")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return advise(ctx, db, path, err)
	}
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return advise(ctx, db, path, err, columns...)
	}
	rows.Close()
	return nil
}

func TestAdviseSaysWhatIsWrongAndWhatToDo(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	guide := newUsersDB(t, guideUsers...)
	noAge := newUsersDB(t, `CREATE TABLE users (user_id TEXT, name TEXT)`)
	noUsers := newUsersDB(t, `CREATE TABLE people (id INTEGER)`, `CREATE TABLE orders (id INTEGER)`)
	noTables := newUsersDB(t, `CREATE TABLE x (id INTEGER)`, `DROP TABLE x`)
	empty := write("empty.db", nil)
	notes := write("notes.txt", []byte("my notes, not a database, but long enough to look like one to nobody\n"))
	os.Mkdir(filepath.Join(dir, "a-folder"), 0o755)
	write("users.db", nil)

	tests := []struct {
		name, path, query string
		columns           []string
		want              []string
	}{
		{"missing file", filepath.Join(dir, "nothing-like-it.sqlite3"), "", nil,
			[]string{"there is no such file; create it with: go run ./00-setup -db " + filepath.Join(dir, "nothing-like-it.sqlite3")}},
		{"a slip of the finger", filepath.Join(dir, "usres.db"), "", nil,
			[]string{"did you mean -db " + filepath.Join(dir, "users.db") + "?"}},
		{"another case", filepath.Join(dir, "Users.db"), "", nil,
			[]string{"did you mean -db " + filepath.Join(dir, "users.db") + "?"}},
		{"a folder", filepath.Join(dir, "a-folder"), "", nil,
			[]string{"is a folder, not a database file", "give -db the file itself"}},
		{"a missing folder", filepath.Join(dir, "no-folder", "users.db"), "", nil,
			[]string{"there is no folder " + filepath.Join(dir, "no-folder")}},
		{"not a database", notes, "SELECT * FROM users", nil,
			[]string{"is not an SQLite database", "check the -db path; go run ./00-setup makes a database to use"}},
		{"an empty file", empty, "SELECT * FROM users", nil,
			[]string{"is an empty file with no tables", "go run ./00-setup -db guide.db"}},
		{"no users table", noUsers, "SELECT * FROM users", nil,
			[]string{"has no users table: its tables are orders, people", "go run ./00-setup -db guide.db"}},
		{"no tables", noTables, "SELECT * FROM users", nil,
			[]string{"has no users table: it has no tables at all"}},
		{"no age column", noAge, "SELECT * FROM users WHERE age > 25", []string{"age"},
			[]string{"the users table in " + noAge + " has no age column: its columns are user_id, name", "go run ./00-setup -db guide.db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// From the top of the workbook, as the README runs lessons.
			t.Chdir("..")
			err := openError(t, tt.path, tt.query, tt.columns...)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q is more than one line", err)
			}
			var sqliteErr sqlite3.Error
			if !errors.As(err, &sqliteErr) {
				t.Errorf("error %q no longer wraps the driver's sqlite3.Error", err)
			}
		})
	}
	t.Run("a table as the guide makes it", func(t *testing.T) {
		if err := openError(t, guide, "SELECT * FROM users WHERE age > 25", "age"); err != nil {
			t.Errorf("error %v on the guide's table", err)
		}
	})
	t.Run("an error it has no advice for comes back as it was", func(t *testing.T) {
		err := openError(t, guide, "SELECT * FROM users WHERE", "age")
		if err == nil || err.Error() != `incomplete input` {
			t.Errorf("error %v, want SQLite's own", err)
		}
	})
	if entries, _ := os.ReadDir(dir); len(entries) != 4 {
		t.Errorf("the folder holds %d entries after the tests, want the 4 it had: nothing created", len(entries))
	}
}

func TestAdviseSaysWhoHoldsTheLock(t *testing.T) {
	path := newUsersDB(t, guideUsers...)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	holder, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, "ROLLBACK")

	err = openError(t, path, "SELECT * FROM users")
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) || sqliteErr.Code != sqlite3.ErrBusy {
		t.Fatalf("error %v, want SQLite's busy error", err)
	}
	if !strings.Contains(err.Error(), "is locked by another program that is writing to it") {
		t.Errorf("error %q does not say another program holds the file", err)
	}
}

func TestGoRunNamesACommandThatWorksFromHere(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ dir, want string }{
		{root, "go run ./00-setup"},
		{filepath.Join(root, "00-setup"), "go run ."},
		{filepath.Join(root, "1-execute"), "go run ../00-setup"},
		{filepath.Join(root, "extras"), "go run ../00-setup"},
		{t.TempDir(), "go run ./00-setup (from the workbook's folder)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Chdir(tt.dir)
			command, where := goRun("00-setup")
			if got := command + where; got != tt.want {
				t.Errorf("in %s: got %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

func TestFileURIKeepsTheWholePath(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"plain.db", "what?.db", "hash#1.db", "100%.db", "with space.db"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rwc")
			if err != nil {
				t.Fatal(err)
			}
			err = db.Ping()
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("the database is not at %s: %v", path, err)
			}
		})
	}
	t.Run("a path that starts with //", func(t *testing.T) {
		path := "/" + filepath.Join(dir, "slashes.db")
		db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rwc")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Ping(); err != nil {
			t.Fatalf("%s: %v", fileURI(path), err)
		}
		if _, err := os.Stat(filepath.Join(dir, "slashes.db")); err != nil {
			t.Error(err)
		}
	})
	t.Run("mode=rw never creates the file", func(t *testing.T) {
		path := filepath.Join(dir, "never.db")
		db, _ := sql.Open("sqlite3", fileURI(path)+"?mode=rw")
		defer db.Close()
		if err := db.Ping(); err == nil {
			t.Error("opened a missing file")
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was created", path)
		}
	})
}

func TestAdviseFromALessonFolderPointsAtTheTopsDatabase(t *testing.T) {
	// The workbook's top, with users.db there, and the learner in a lesson
	// folder running go run . with the default -db users.db.
	top := t.TempDir()
	os.WriteFile(filepath.Join(top, "go.mod"), []byte("module workbook\n\ngo 1.25\n"), 0o644)
	os.Mkdir(filepath.Join(top, "1-execute"), 0o755)
	db := newUsersDB(t, guideUsers...)
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(top, "users.db"), data, 0o644)
	t.Chdir(filepath.Join(top, "1-execute"))

	err = openError(t, "users.db", "SELECT * FROM users")
	if err == nil || !strings.Contains(err.Error(), "but there is one at the top of the workbook: give -db ../users.db") {
		t.Errorf("error %v, want it to point at ../users.db", err)
	}
	if _, err := os.Stat("users.db"); !errors.Is(err, os.ErrNotExist) {
		t.Error("users.db was created in the lesson folder")
	}
}
