//go:build cgo

package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/mattn/go-sqlite3"
)

// The guide's expected output for setup_database.py (section 2.2).
func Example() {
	if err := run(context.Background(), "users.db", 0, os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Sample database created successfully.
}

func TestRunTwiceLeavesTheThreeSampleUsers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.db")
	for range 2 {
		if err := run(context.Background(), path, 0, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	db := openForTest(t, path)
	got := queryStrings(t, db, "SELECT id || ' ' || name || ' ' || email || ' ' || age FROM users ORDER BY id")
	want := []string{
		"1 Alice Smith alice.smith@example.com 30",
		"2 Bob Johnson bob.johnson@example.com 45",
		"3 Charlie Brown charlie.brown@example.com 25",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("users = %q, want %q", got, want)
	}
}

func TestTheTableIsTheGuides(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.db")
	if err := run(context.Background(), path, 0, io.Discard); err != nil {
		t.Fatal(err)
	}
	db := openForTest(t, path)
	got := queryStrings(t, db, "SELECT name || ' ' || type || ' ' || \"notnull\" || ' ' || pk FROM pragma_table_info('users')")
	want := []string{"id INTEGER 0 1", "name TEXT 1 0", "email TEXT 1 0", "age INTEGER 1 0"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("columns = %q, want %q", got, want)
	}
	// The email column is UNIQUE: SQLite keeps a unique index for it.
	if got := queryStrings(t, db, "SELECT count(*) FROM pragma_index_list('users') WHERE \"unique\""); got[0] != "1" {
		t.Errorf("unique indexes = %s, want 1", got[0])
	}
}

func TestSyntheticUsers(t *testing.T) {
	// Sizes around the 100-row statement, so that full and short batches
	// are both counted.
	for _, n := range []int{1, 99, 100, 101, 250} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "users.db")
			if err := run(context.Background(), path, n, io.Discard); err != nil {
				t.Fatal(err)
			}
			db := openForTest(t, path)
			if got := countUsers(t, db); got != 3+n {
				t.Errorf("%d users, want %d", got, 3+n)
			}
		})
	}
}

func TestSyntheticUsersAreTheSameEveryRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.db")
	for _, n := range []int{1000, 1000, 400} {
		if err := run(context.Background(), path, n, io.Discard); err != nil {
			t.Fatal(err)
		}
	}
	db := openForTest(t, path)
	if got := countUsers(t, db); got != 1003 {
		t.Errorf("after runs with 1000, 1000 and 400 users: %d users, want 1003", got)
	}
	got := queryStrings(t, db, "SELECT min(age) || ' ' || max(age) || ' ' || count(DISTINCT age) FROM users WHERE id > 3")
	if got[0] != "18 87 70" {
		t.Errorf("ages: min, max, distinct = %s, want 18 87 70", got[0])
	}
	got = queryStrings(t, db, "SELECT name || ' ' || email || ' ' || age FROM users WHERE id = 4")
	if want := "User 1 user0000001@example.com 55"; got[0] != want {
		t.Errorf("first synthetic user = %q, want %q", got[0], want)
	}
}

func TestAFailedInsertSavesNothing(t *testing.T) {
	// A database with the users table and a trigger that refuses the
	// 250th synthetic user: by then the samples and the first two
	// statements' 200 users are written inside the transaction, and the
	// rollback must take them all away.
	path := filepath.Join(t.TempDir(), "users.db")
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=rwc")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		schema,
		`CREATE TRIGGER refuse AFTER INSERT ON users WHEN NEW.email = 'user0000250@example.com'
		 BEGIN SELECT RAISE(ABORT, 'refused on purpose'); END`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}

	err = run(context.Background(), path, 1000, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "refused on purpose") {
		t.Fatalf("run error = %v, want the trigger's", err)
	}
	if got := countUsers(t, db); got != 0 {
		t.Errorf("%d users after the failed run, want 0", got)
	}
	if inUse := db.Stats().InUse; inUse != 0 {
		t.Errorf("%d connections in use, want 0", inUse)
	}
}

func TestCommandLine(t *testing.T) {
	dir := t.TempDir()
	notADatabase := filepath.Join(dir, "notes.txt")
	notes := []byte("these are my notes, not a database\n")
	if err := os.WriteFile(notADatabase, notes, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantStatus int
		wantStderr string
	}{
		{"unknown flag", []string{"-dbb", "x.db"}, 2, "flag provided but not defined: -dbb"},
		{"extra argument", []string{"x.db"}, 2, `unexpected argument "x.db"`},
		{"negative users", []string{"-db", "x.db", "-users", "-5"}, 2, "invalid value -5 for flag -users"},
		{"users not a number", []string{"-db", "x.db", "-users", "many"}, 2, `invalid value "many" for flag -users`},
		{"folder missing", []string{"-db", filepath.Join(dir, "no-such-folder", "x.db")}, 1, "check that its folder exists"},
		{"not a database", []string{"-db", notADatabase}, 1, "is not an SQLite database"},
		{"a folder", []string{"-db", dir}, 1, "is a folder (unable to open database file"},
		{"empty path", []string{"-db", ""}, 2, "the -db path is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, status := runProgram(t, dir, setupProgram, tt.args...)
			if status != tt.wantStatus {
				t.Fatalf("exit status %d, want %d\nstderr: %s", status, tt.wantStatus, stderr)
			}
			assertOneClearLine(t, stderr, tt.wantStderr)
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			assertDirHolds(t, dir, "notes.txt")
			if got, _ := os.ReadFile(notADatabase); !bytes.Equal(got, notes) {
				t.Errorf("notes.txt changed to %q", got)
			}
		})
	}
}

// assertOneClearLine checks that the first line of stderr names the problem
// (the flag package adds its usage after it) and that no stack trace follows.
func assertOneClearLine(t *testing.T, stderr, want string) {
	t.Helper()
	first, _, _ := strings.Cut(stderr, "\n")
	if !strings.Contains(first, want) {
		t.Errorf("first line of stderr = %q, want it to contain %q", first, want)
	}
	assertNoStackTrace(t, stderr)
}

// assertDirHolds checks that dir holds exactly the named entries.
func assertDirHolds(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}

func countUsers(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// queryStrings returns the first column of every row of query.
func queryStrings(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// openForTest opens an existing database read-only and closes it when the
// test ends, checking that nothing was left in use.
func openForTest(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if inUse := db.Stats().InUse; inUse != 0 {
			t.Errorf("%d connections in use at the end of the test, want 0", inUse)
		}
		db.Close()
	})
	return db
}

// setupProgram is this lesson built as a program, and sourceDir its source
// folder; TestMain sets both.
var setupProgram, sourceDir string

// TestMain builds the lesson as a program, for the command-line tests, and
// runs every test and example in a scratch folder, so that the users.db the
// example makes lands there and not in the source tree.
func TestMain(m *testing.M) {
	code, err := testMain(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(code)
}

func testMain(m *testing.M) (int, error) {
	dir, err := os.MkdirTemp("", "lesson-test-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)

	if sourceDir, err = os.Getwd(); err != nil {
		return 0, err
	}
	setupProgram = filepath.Join(dir, "00-setup")
	if out, err := exec.Command("go", "build", "-o", setupProgram, ".").CombinedOutput(); err != nil {
		return 0, fmt.Errorf("build 00-setup: %v\n%s", err, out)
	}
	if err := os.Chdir(dir); err != nil {
		return 0, err
	}
	return m.Run(), nil
}
