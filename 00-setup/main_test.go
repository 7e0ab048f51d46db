package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"workbook/internal/dbfile"
	"workbook/internal/pyrow"
	"workbook/internal/workbooktest"
)

// TestMain runs the tests in a scratch folder of their own, so that
// nothing they make lands in the source folder.
func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

// The guide's expected output for setup_database.py (section 2.2).
func Example() {
	dir, err := os.MkdirTemp("", "00-setup-example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	if err := run(context.Background(), filepath.Join(dir, "users.db"), os.Stdout, os.Stderr); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Sample database created successfully.
}

func TestPageShowsTheOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.db")
	stdout, err := runSetup(t, path)
	if err != nil {
		t.Fatal(err)
	}
	workbooktest.AssertPageShows(t, "```\n"+stdout+"```\n")
	workbooktest.AssertPageShows(t, "```\n"+strings.Join(pyRows(t, path, "SELECT * FROM users"), "\n")+"\n```\n")
}

func TestTheTableIsTheGuides(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.db")
	if _, err := runSetup(t, path); err != nil {
		t.Fatal(err)
	}
	got := pyRows(t, path, `SELECT name, type, "notnull", pk FROM pragma_table_info('users')`)
	want := []string{"('id', 'INTEGER', 0, 1)", "('name', 'TEXT', 1, 0)", "('email', 'TEXT', 1, 0)", "('age', 'INTEGER', 1, 0)"}
	if !slices.Equal(got, want) {
		t.Errorf("columns = %q, want %q", got, want)
	}
	if got := pyRows(t, path, `SELECT count(*) FROM pragma_index_list('users') WHERE "unique"`); got[0] != "(1,)" {
		t.Errorf("unique indexes = %s, want (1,): email is UNIQUE", got[0])
	}
	got = pyRows(t, path, "SELECT * FROM users")
	want = []string{
		"(1, 'Alice Smith', 'alice.smith@example.com', 30)",
		"(2, 'Bob Johnson', 'bob.johnson@example.com', 45)",
		"(3, 'Charlie Brown', 'charlie.brown@example.com', 25)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("users = %q, want %q", got, want)
	}
}

// sampleEmails are the sample users' emails, in the order they are added.
var sampleEmails = []string{"alice.smith@example.com", "bob.johnson@example.com", "charlie.brown@example.com"}

// TestRerunAddsNobodyTwice runs 00-setup twice on users tables of the
// shapes learners make. The first run adds the sample users that are
// missing and keeps every row that was there; the second changes nothing,
// byte for byte.
func TestRerunAddsNobodyTwice(t *testing.T) {
	learnersRow := `INSERT INTO users (name, email, age) VALUES ('Finn O''Brien', 'finn@example.com', 41)`
	tests := []struct {
		name   string
		setup  []string
		before int // rows before the first run
	}{
		{"no table yet", nil, 0},
		{"the guide's table", workbooktest.GuideUsers, 3},
		{"the guide's table, one user deleted", append(slices.Clone(workbooktest.GuideUsers), `DELETE FROM users WHERE name = 'Bob Johnson'`), 2},
		{"without UNIQUE on email", []string{`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)`, learnersRow}, 1},
		{"without UNIQUE, a sample user there", []string{`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)`,
			`INSERT INTO users (name, email, age) VALUES ('Alice', 'alice.smith@example.com', 31)`}, 1},
		{"extra columns", []string{`CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, email TEXT NOT NULL,
			age INTEGER, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, is_active BOOLEAN DEFAULT 1, password_hash TEXT)`, learnersRow}, 1},
		{"a user_id TEXT key, columns in another order", []string{`CREATE TABLE users (user_id TEXT PRIMARY KEY, email TEXT, age INTEGER, name TEXT)`,
			`INSERT INTO users (user_id, email, age, name) VALUES ('u1', 'finn@example.com', 41, 'Finn O''Brien')`}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "users.db")
			var before []string
			if tt.setup != nil {
				path = workbooktest.NewUsersDB(t, tt.setup...)
				before = pyRows(t, path, "SELECT * FROM users")
			}
			if len(before) != tt.before {
				t.Fatalf("%d rows before, want %d", len(before), tt.before)
			}

			if _, err := runSetup(t, path); err != nil {
				t.Fatal(err)
			}
			after := pyRows(t, path, "SELECT * FROM users")
			if !slices.Equal(after[:len(before)], before) {
				t.Errorf("the rows that were there changed:\n%q\nto\n%q", before, after)
			}
			for _, email := range sampleEmails {
				if n := pyRows(t, path, "SELECT count(*) FROM users WHERE email = ?", email); n[0] != "(1,)" {
					t.Errorf("%s is in the table %s times, want once", email, n[0])
				}
			}
			if got, want := len(after), tt.before+3-countSamples(before); got != want {
				t.Errorf("%d rows after the first run, want %d", got, want)
			}
			if strings.Contains(tt.name, "deleted") && !slices.Contains(after, "(4, 'Bob Johnson', 'bob.johnson@example.com', 45)") {
				t.Errorf("Bob was not added back as id 4: %q", after)
			}

			file := readFile(t, path)
			stdout, err := runSetup(t, path)
			if err != nil {
				t.Fatal(err)
			}
			if stdout != "Sample database created successfully.\n" {
				t.Errorf("the rerun printed %q", stdout)
			}
			if !bytes.Equal(readFile(t, path), file) {
				t.Errorf("the rerun changed the file; rows now:\n%q", pyRows(t, path, "SELECT * FROM users"))
			}
		})
	}
}

// countSamples counts the rows that hold a sample user's email.
func countSamples(rows []string) int {
	n := 0
	for _, r := range rows {
		for _, e := range sampleEmails {
			if strings.Contains(r, "'"+e+"'") {
				n++
			}
		}
	}
	return n
}

// TestATableItCannotFillIsLeftAlone checks the tables 00-setup must refuse:
// without a column the INSERT needs, or with one that the sample users
// cannot fill. It fails with one line naming the cause, prints nothing on
// stdout and leaves the file as it was.
func TestATableItCannotFillIsLeftAlone(t *testing.T) {
	tests := []struct {
		name  string
		setup []string
		want  string
	}{
		{"no age column", []string{`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)`, `INSERT INTO users DEFAULT VALUES`},
			"has no age column: its columns are id, name, email"},
		{"no email column", []string{`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)`, `INSERT INTO users DEFAULT VALUES`},
			"has no email column: its columns are id, name, age"},
		{"no name column", []string{`CREATE TABLE users (user_id TEXT PRIMARY KEY, full_name TEXT, email TEXT, age INTEGER)`, `INSERT INTO users DEFAULT VALUES`},
			"has no name column: its columns are user_id, full_name, email, age"},
		{"a column that must be filled", []string{`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER, password_hash TEXT NOT NULL)`},
			"insert alice.smith@example.com: NOT NULL constraint failed: users.password_hash"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := workbooktest.NewUsersDB(t, tt.setup...)
			file := readFile(t, path)
			stdout, err := runSetup(t, path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one that says %q", err, tt.want)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "error creating database: ") || strings.Contains(msg, "\n") {
				t.Errorf("error %q is not one line starting with Python's words", msg)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if !bytes.Equal(readFile(t, path), file) {
				t.Error("the file changed")
			}
		})
	}
}

// refuseCharlie is a trigger that makes the third sample user's INSERT
// fail, after the first two were inserted inside the transaction.
const refuseCharlie = `CREATE TRIGGER refuse BEFORE INSERT ON users WHEN NEW.email = 'charlie.brown@example.com'
BEGIN SELECT RAISE(ABORT, 'refused on purpose'); END`

// refuseUser250 is a trigger that makes the 250th synthetic user's INSERT
// fail, after the sample users and 200 synthetic ones were inserted inside
// the transaction.
const refuseUser250 = `CREATE TRIGGER refuse BEFORE INSERT ON users WHEN NEW.email = 'user0000250@example.com'
BEGIN SELECT RAISE(ABORT, 'refused on purpose'); END`

// TestAFailedInsertSavesNothing makes an insert fail after others were
// written inside the transaction: the run must fail and leave the file as
// it was.
func TestAFailedInsertSavesNothing(t *testing.T) {
	for _, tt := range []struct {
		name       string
		extraUsers int
		trigger    string
		want       string
	}{
		{"the third sample user", 0, refuseCharlie, "insert charlie.brown@example.com: refused on purpose"},
		{"the 250th of -users 1000", 1000, refuseUser250, "insert synthetic users up to 300: refused on purpose"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			withExtraUsers(t, tt.extraUsers)
			path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers[0], tt.trigger)
			file := readFile(t, path)
			stdout, err := runSetup(t, path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want the trigger's: %q", err, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if rows := pyRows(t, path, "SELECT * FROM users"); len(rows) != 0 {
				t.Errorf("after the failed run the table holds %d rows, want none", len(rows))
			}
			if !bytes.Equal(readFile(t, path), file) {
				t.Error("the file changed")
			}
		})
	}
}

// TestAFailedRunReleasesTheWriteLock checks that the transaction of a
// failed run does not outlive it: another connection, which does not wait
// at all, can write at once.
func TestAFailedRunReleasesTheWriteLock(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers[0], refuseCharlie)
	if _, err := runSetup(t, path); err == nil {
		t.Fatal("the run succeeded, want the trigger's error")
	}
	db := openNoWait(t, path)
	if _, err := db.ExecContext(t.Context(), `INSERT INTO users (name, email, age) VALUES ('Dana', 'dana@example.com', 33)`); err != nil {
		t.Fatalf("another connection cannot write after the failed run: %v", err)
	}
}

// TestACommitThatFailsIsReported holds a read transaction open on another
// connection: the run's COMMIT cannot write the file while it is being
// read, waits out the 5 s busy timeout and fails. The run must say so, and
// not print its success line.
func TestACommitThatFailsIsReported(t *testing.T) {
	t.Parallel()
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers[0])
	reader := openNoWait(t, path)
	tx, err := reader.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(t.Context(), "SELECT count(*) FROM users").Scan(&n); err != nil {
		t.Fatal(err)
	}

	stdout, err := runSetup(t, path)
	if err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("error = %v, want COMMIT's: database is locked", err)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if rows := pyRows(t, path, "SELECT * FROM users"); len(rows) != 0 {
		t.Errorf("after the failed commit the table holds %q, want nothing", rows)
	}
}

// TestWaitsForAnotherWriter runs 00-setup while another connection is in
// the middle of a write transaction, which it commits 300 ms later. The
// run's BeginTx takes the write lock at once (_txlock=immediate), so it
// waits for it (_busy_timeout) before reading anything, and succeeds. A
// transaction that had begun by reading could not wait: SQLite would refuse
// its first write at once with "database is locked".
func TestWaitsForAnotherWriter(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers[0])
	writer := openNoWait(t, path)
	conn, err := writer.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(t.Context(), `INSERT INTO users (name, email, age) VALUES ('Dana', 'dana@example.com', 33)`); err != nil {
		t.Fatal(err)
	}
	committed := make(chan error, 1)
	time.AfterFunc(300*time.Millisecond, func() {
		_, err := conn.ExecContext(context.Background(), "COMMIT")
		committed <- err
	})

	if _, err := runSetup(t, path); err != nil {
		t.Errorf("run while another connection writes: %v", err)
	}
	if err := <-committed; err != nil {
		t.Fatalf("the other connection's COMMIT: %v", err)
	}
	if got := pyRows(t, path, "SELECT name FROM users"); !slices.Equal(got, []string{"('Dana',)", "('Alice Smith',)", "('Bob Johnson',)", "('Charlie Brown',)"}) {
		t.Errorf("users = %q, want Dana and then the samples", got)
	}
}

// TestManyRunsAtOnce starts eight runs together on one new file. Each
// takes the write lock when it begins (_txlock=immediate) and waits for the
// others (_busy_timeout), so all succeed and the users are added once.
func TestManyRunsAtOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.db")
	errs := make([]error, 8)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() { _, errs[i] = runSetup(t, path) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("run %d: %v", i+1, err)
		}
	}
	if got := pyRows(t, path, "SELECT count(*) FROM users"); got[0] != "(3,)" {
		t.Errorf("%s users, want (3,)", got[0])
	}
}

// TestNothingIsLeftOpen checks that after a run, successful or not, the
// program holds no file of the database open: every connection was closed.
func TestNothingIsLeftOpen(t *testing.T) {
	t.Run("after success", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "users.db")
		if _, err := runSetup(t, path); err != nil {
			t.Fatal(err)
		}
		assertFileClosed(t, path)
	})
	t.Run("after a failed insert", func(t *testing.T) {
		path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers[0], refuseCharlie)
		if _, err := runSetup(t, path); err == nil {
			t.Fatal("the run succeeded, want the trigger's error")
		}
		assertFileClosed(t, path)
	})
	t.Run("after a table it cannot fill", func(t *testing.T) {
		path := workbooktest.NewUsersDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`)
		if _, err := runSetup(t, path); err == nil {
			t.Fatal("the run succeeded, want an error")
		}
		assertFileClosed(t, path)
	})
	t.Run("after a row it cannot read back", func(t *testing.T) {
		// Alice is there already, with no age: the typed Scan cannot put
		// NULL in an int, and the run stops in the middle of the rows.
		path := workbooktest.NewUsersDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)`,
			`INSERT INTO users (name, email) VALUES ('Alice Smith', 'alice.smith@example.com')`)
		_, err := runSetup(t, path)
		if want := `converting NULL to int is unsupported`; err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("error = %v, want Scan's: %s", err, want)
		}
		assertFileClosed(t, path)
	})
}

// TestWrongPathsSayWhatToDo gives -db the paths a learner gets wrong: each
// fails with one line that says what is wrong and what to do, and nothing
// is created or changed.
func TestWrongPathsSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("my notes, not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, path, want string }{
		{"a missing folder", filepath.Join(dir, "nowhere", "users.db"), "there is no folder " + filepath.Join(dir, "nowhere")},
		{"a folder", dir, dir + " is a folder, not a database file (unable to open database file: is a directory): give -db the file itself"},
		{"not a database", notes, notes + " is not an SQLite database (file is not a database)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, err := runSetup(t, tt.path)
			if err == nil || !strings.HasPrefix(err.Error(), "error creating database: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one line that says %q", err, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			assertDirHolds(t, dir, "notes.txt")
			if got := readFile(t, notes); string(got) != "my notes, not a database\n" {
				t.Errorf("notes.txt changed to %q", got)
			}
		})
	}
}

func TestACanceledRunCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	stdout, err := runSetupContext(t, ctx, filepath.Join(dir, "users.db"))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	assertDirHolds(t, dir)
}

// TestChecksTheSampleUsersAfterCommit gives 00-setup users tables that
// take the sample users' INSERT without an error and keep nothing of it: a
// trigger that deletes Bob again, a view whose INSTEAD OF trigger does
// nothing. Commit succeeds; only reading the users back shows that they
// are not there, and the run must fail instead of printing its success
// line.
func TestChecksTheSampleUsersAfterCommit(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup []string
		want  string
	}{
		{"a trigger that deletes Bob", []string{workbooktest.GuideUsers[0], `CREATE TRIGGER forget_bob AFTER INSERT ON users
WHEN NEW.email = 'bob.johnson@example.com' BEGIN DELETE FROM users WHERE id = NEW.id; END`},
			"error creating database: bob.johnson@example.com is not in the users table after Commit"},
		{"a view that keeps nothing", []string{`CREATE TABLE people (name TEXT, email TEXT, age INTEGER)`,
			`CREATE VIEW users AS SELECT name, email, age FROM people`,
			`CREATE TRIGGER keep_nothing INSTEAD OF INSERT ON users BEGIN SELECT 1; END`},
			"error creating database: alice.smith@example.com is not in the users table after Commit"},
		// Bob's age fails as SQLite reads it back, after Alice's row:
		// only rows.Err says so, where the loop would just end early.
		{"a row that fails after the first", []string{`CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)`,
			`CREATE VIEW users AS SELECT name, email, CASE WHEN email LIKE 'bob%' THEN abs(id - id - 9223372036854775807 - 1) ELSE age END AS age FROM people`,
			`CREATE TRIGGER into_people INSTEAD OF INSERT ON users BEGIN INSERT INTO people (name, email, age) VALUES (NEW.name, NEW.email, NEW.age); END`},
			"error creating database: integer overflow"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := workbooktest.NewUsersDB(t, tt.setup...)
			stdout, err := runSetup(t, path)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v, want %q", err, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
		})
	}
}

// TestSynchronousIsFull reads PRAGMA synchronous back through a connection
// opened as run opens it: FULL, as in Python's sqlite3 and the sqlite3
// shell. The driver's own setting, without _synchronous, is NORMAL.
func TestSynchronousIsFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.db")
	t.Run("the driver's setting", func(t *testing.T) {
		workbooktest.AssertSynchronous(t, workbooktest.OpenDSN(t, dbfile.URI(path)+"?mode=rwc"), "NORMAL")
	})
	t.Run("the lesson's", func(t *testing.T) {
		workbooktest.AssertSynchronous(t, workbooktest.OpenDSN(t, dsn(path)), "FULL")
	})
}

func TestExtraUsers(t *testing.T) {
	withExtraUsers(t, 250)
	path := filepath.Join(t.TempDir(), "users.db")
	if _, err := runSetup(t, path); err != nil {
		t.Fatal(err)
	}
	if got := pyRows(t, path, "SELECT count(*), count(DISTINCT email) FROM users"); got[0] != "(253, 253)" {
		t.Errorf("users, distinct emails = %s, want (253, 253)", got[0])
	}
}

// withExtraUsers sets -users to n for one test. Tests that call it do not
// run in parallel.
func withExtraUsers(t *testing.T, n int) {
	t.Helper()
	old := *extraUsers
	*extraUsers = n
	t.Cleanup(func() { *extraUsers = old })
}

// runSetup runs the lesson on path and returns what it printed on stdout
// and its error. 00-setup logs nothing: stderr must stay empty.
func runSetup(t *testing.T, path string) (string, error) {
	t.Helper()
	return runSetupContext(t, workbooktest.Context(t), path)
}

func runSetupContext(t *testing.T, ctx context.Context, path string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(ctx, path, &stdout, &stderr)
	if stderr.Len() > 0 {
		t.Errorf("stderr = %q, want nothing", stderr.String())
	}
	return stdout.String(), err
}

// pyRows returns the rows of query on the database at path, each as
// Python's print(row) prints it.
func pyRows(t *testing.T, path, query string, args ...any) []string {
	t.Helper()
	db := openNoWait(t, path)
	rows, err := pyrow.Query(t.Context(), db, query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		row, err := pyrow.Scan(rows)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, row.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// openNoWait opens an existing database with no busy timeout, so that a
// lock held by someone else fails at once, and closes it when the test
// ends, checking that nothing was left open.
func openNoWait(t *testing.T, path string) *sql.DB {
	t.Helper()
	return workbooktest.OpenDSN(t, dbfile.URI(path)+"?mode=rw&_busy_timeout=0")
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// assertFileClosed fails if this process still has path, or its journal,
// open.
func assertFileClosed(t *testing.T, path string) {
	t.Helper()
	if open := workbooktest.OpenDescriptors(path); len(open) > 0 {
		t.Errorf("%s is still open (file descriptor %s): a connection was not closed", path, strings.Join(open, ", "))
	}
}

// assertDirHolds checks that dir holds exactly the named entries.
func assertDirHolds(t *testing.T, dir string, want ...string) {
	t.Helper()
	if got := workbooktest.DirEntries(t, dir); !slices.Equal(got, want) {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}
