package dbfile_test

// These tests hold Explain's advice to what a learner meets: each wrong -db
// gets one line that says what is wrong and what to do. The advice names
// commands to run from the current folder, so each test runs in a
// workbook of its own, made in a temporary folder.

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

// newWorkbook makes the top folder of a workbook in a temporary folder: a
// go.mod for the module workbook, and a few lesson folders, empty. It
// returns the top folder's path.
func newWorkbook(t *testing.T) string {
	t.Helper()
	top := t.TempDir()
	if err := os.WriteFile(filepath.Join(top, "go.mod"), []byte("module workbook\n\ngo 1.25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"00-setup", "1-execute", "extras/nested"} {
		if err := os.MkdirAll(filepath.Join(top, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return top
}

// openError opens path as the lessons do and returns Explain's error for
// the open, or for query when the open succeeds.
func openError(t *testing.T, path, query string, columns ...string) error {
	t.Helper()
	ctx := t.Context()
	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw&_busy_timeout=100")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return dbfile.Explain(ctx, db, path, err)
	}
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return dbfile.Explain(ctx, db, path, err, columns...)
	}
	rows.Close()
	return nil
}

// queryError runs query on the database at path and returns the driver's
// error, unexplained.
func queryError(t *testing.T, path, query string) error {
	t.Helper()
	db := workbooktest.OpenReadOnly(t, path)
	rows, err := db.QueryContext(t.Context(), query)
	if err == nil {
		rows.Close()
		t.Fatalf("%s: no error", query)
	}
	return err
}

// assertAdvice checks that err is one line that says each of want, and
// still wraps the driver's error.
func assertAdvice(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q\ndoes not say %q", err, w)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is more than one line", err)
	}
	if !dbfile.IsDriverError(err) {
		t.Errorf("error %q no longer wraps the driver's sqlite3.Error", err)
	}
}

func TestExplainSaysWhatIsWrongAndWhatToDo(t *testing.T) {
	// From the top of the workbook, as the README runs lessons.
	t.Chdir(newWorkbook(t))
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		workbooktest.WriteFile(t, path, content)
		return path
	}
	guide := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	noAge := workbooktest.NewUsersDB(t, `CREATE TABLE users (user_id TEXT, name TEXT)`)
	noUsers := workbooktest.NewUsersDB(t, `CREATE TABLE people (id INTEGER)`, `CREATE TABLE orders (id INTEGER)`)
	noTables := workbooktest.NewUsersDB(t, `CREATE TABLE x (id INTEGER)`, `DROP TABLE x`)
	empty := write("empty.db", "")
	notes := write("notes.txt", "my notes, not a database, but long enough to look like one to nobody\n")
	if err := os.Mkdir(filepath.Join(dir, "a-folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	write("users.db", "")

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
		{"another extension", filepath.Join(dir, "users.sqlite"), "", nil,
			[]string{"did you mean -db " + filepath.Join(dir, "users.db") + "?"}},
		{"a folder", filepath.Join(dir, "a-folder"), "", nil,
			[]string{"is a folder, not a database file", "give -db the file itself"}},
		{"a missing folder", filepath.Join(dir, "no-folder", "users.db"), "", nil,
			[]string{"there is no folder " + filepath.Join(dir, "no-folder")}},
		{"a file taken for a folder", filepath.Join(notes, "users.db"), "", nil,
			[]string{"there is no folder " + notes}},
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
			assertAdvice(t, openError(t, tt.path, tt.query, tt.columns...), tt.want...)
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
	t.Run("without the database to look in, a query's error comes back as it was", func(t *testing.T) {
		queryErr := queryError(t, noUsers, "SELECT * FROM users")
		if !dbfile.IsDriverError(queryErr) {
			t.Fatalf("error %v, want the driver's", queryErr)
		}
		if err := dbfile.Explain(t.Context(), nil, noUsers, queryErr); err != queryErr {
			t.Errorf("error %q, want the driver's own, %q", err, queryErr)
		}
	})
	t.Run("an error that is not the driver's comes back as it was", func(t *testing.T) {
		if err := dbfile.Explain(t.Context(), nil, guide, context.Canceled); err != context.Canceled {
			t.Errorf("error %v, want %v", err, context.Canceled)
		}
	})
	if entries := workbooktest.DirEntries(t, dir); len(entries) != 4 {
		t.Errorf("the folder holds %s after the tests, want the 4 entries it had: nothing created", entries)
	}
}

func TestExplainSaysWhoHoldsTheLock(t *testing.T) {
	t.Chdir(newWorkbook(t))
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	ctx := t.Context()
	holder, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw")
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
	defer conn.ExecContext(context.Background(), "ROLLBACK")

	err = openError(t, path, "SELECT * FROM users")
	if !dbfile.IsLocked(err) {
		t.Fatalf("error %v, want SQLite's busy error", err)
	}
	assertAdvice(t, err, "is locked by another program that is writing to it", "then run this again")
}

func TestExplainSaysWhenTheFileIsReadOnly(t *testing.T) {
	t.Chdir(newWorkbook(t))
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	db := workbooktest.OpenReadOnly(t, path)
	_, err := db.ExecContext(t.Context(), "DELETE FROM users")
	if err == nil {
		t.Fatal("a read-only connection deleted")
	}
	assertAdvice(t, dbfile.Explain(t.Context(), db, path, err), "cannot write to "+path, "check that you may write to the file and to its folder")
}

func TestExplainSaysWhenTheFileMayNotBeRead(t *testing.T) {
	t.Chdir(newWorkbook(t))
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	if err := os.Chmod(path, 0); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Open(path); err == nil {
		f.Close()
		t.Skip("this user may read a file whatever its permissions (root)")
	}
	assertAdvice(t, openError(t, path, "SELECT * FROM users"), "cannot open "+path, "check that you may read and write it")
}

func TestExplainFromALessonFolderPointsAtTheTopsDatabase(t *testing.T) {
	// The workbook's top, with users.db there, and the learner in a lesson
	// folder running go run . with the default -db users.db.
	top := newWorkbook(t)
	data, err := os.ReadFile(workbooktest.NewUsersDB(t, workbooktest.GuideUsers...))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(top, "users.db"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(filepath.Join(top, "1-execute"))

	assertAdvice(t, openError(t, "users.db", "SELECT * FROM users"),
		"cannot open users.db", "but there is one at the top of the workbook: give -db ../users.db")
	if _, err := os.Stat("users.db"); !errors.Is(err, os.ErrNotExist) {
		t.Error("users.db was created in the lesson folder")
	}

	t.Run("a file that is at the top neither", func(t *testing.T) {
		assertAdvice(t, openError(t, "other.db", "SELECT * FROM users"),
			"cannot open other.db", "there is no such file; create it with: go run ../00-setup -db other.db")
	})
}

func TestGoRunNamesACommandThatWorksFromHere(t *testing.T) {
	top := newWorkbook(t)
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A checkout on Windows may end go.mod's lines with "\r\n".
	crlf := t.TempDir()
	if err := os.WriteFile(filepath.Join(crlf, "go.mod"), []byte("module workbook\r\n\r\ngo 1.25\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(crlf, "1-execute"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, dir, want string }{
		{"the top", top, "go run ./00-setup"},
		{"the lesson itself", filepath.Join(top, "00-setup"), "go run ."},
		{"another lesson", filepath.Join(top, "1-execute"), "go run ../00-setup"},
		{"extras", filepath.Join(top, "extras"), "go run ../00-setup"},
		{"an extra", filepath.Join(top, "extras", "nested"), "go run ../../00-setup"},
		{"outside the workbook", t.TempDir(), "go run ./00-setup (from the workbook's folder)"},
		{"another module", other, "go run ./00-setup (from the workbook's folder)"},
		{"a go.mod with Windows line ends", filepath.Join(crlf, "1-execute"), "go run ../00-setup"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(tt.dir)
			command, where := dbfile.GoRun("00-setup")
			if got := command + where; got != tt.want {
				t.Errorf("in %s: got %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

func TestURIKeepsTheWholePath(t *testing.T) {
	dir := t.TempDir()
	// ping opens the database at uri, creating it (mode=rwc), and closes it.
	ping := func(t *testing.T, uri string) {
		t.Helper()
		db, err := sql.Open("sqlite3", uri)
		if err != nil {
			t.Fatal(err)
		}
		err = db.PingContext(t.Context())
		db.Close()
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
	}
	for _, name := range []string{"plain.db", "what?.db", "hash#1.db", "100%.db", "with space.db", "Zoë.db"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			ping(t, dbfile.URI(path)+"?mode=rwc")
			if _, err := os.Stat(path); err != nil {
				t.Errorf("the database is not at %s: %v", path, err)
			}
		})
	}
	t.Run("a path that starts with //", func(t *testing.T) {
		ping(t, dbfile.URI("/"+filepath.Join(dir, "slashes.db"))+"?mode=rwc")
		if _, err := os.Stat(filepath.Join(dir, "slashes.db")); err != nil {
			t.Error(err)
		}
	})
	t.Run("a relative path", func(t *testing.T) {
		t.Chdir(dir)
		ping(t, dbfile.URI("relative?.db")+"?mode=rwc")
		if _, err := os.Stat(filepath.Join(dir, "relative?.db")); err != nil {
			t.Error(err)
		}
	})
	t.Run("mode=rw never creates the file", func(t *testing.T) {
		path := filepath.Join(dir, "never.db")
		db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.PingContext(t.Context()); err == nil {
			t.Error("opened a missing file")
		}
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was created", path)
		}
	})
}
