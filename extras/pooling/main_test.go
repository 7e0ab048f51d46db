package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"workbook/internal/workbooktest"
)

func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

// The lesson on the guide's users.db, which TestMain made in the folder
// where the tests run. The log line goes to stderr, discarded here.
func Example() {
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// One pool: 30 lookups from 10 goroutines at once, through at most 4 connections (SetMaxOpenConns)
	//   connections closed and opened again: 0 (SetMaxIdleConns)
	// A new connection per lookup, as async_pooled_query does: 30 connections opened and closed
	// ('Alice Smith', 'alice.smith@example.com')
	// ('Bob Johnson', 'bob.johnson@example.com')
	// ('Charlie Brown', 'charlie.brown@example.com')
	// no such user with the email "nobody@example.com" (Scan returned sql.ErrNoRows; Python's fetchone() returns None)
}

// learnersUsers is a users table as a learner made it: a text key and no
// id column, the columns in another order, a NULL name and a NULL email.
// The page shows the same SQL.
var learnersUsers = []string{
	`CREATE TABLE users (user_id TEXT PRIMARY KEY, age INTEGER, email TEXT, name TEXT)`,
	`INSERT INTO users VALUES ('u-1', 30, 'alice@example.com', 'Alice Smith'), ('u-2', 41, 'dana@example.com', NULL), ('u-3', 25, NULL, 'Eve')`,
}

// wantOutput is what run prints when it found users, each printed as
// Python prints a tuple, and looked each up rounds times.
func wantOutput(users ...string) string {
	lookups := len(users) * rounds
	var b strings.Builder
	fmt.Fprintf(&b, "One pool: %d lookups from 10 goroutines at once, through at most 4 connections (SetMaxOpenConns)\n", lookups)
	fmt.Fprintf(&b, "  connections closed and opened again: 0 (SetMaxIdleConns)\n")
	fmt.Fprintf(&b, "A new connection per lookup, as async_pooled_query does: %d connections opened and closed\n", lookups)
	for _, u := range users {
		fmt.Fprintln(&b, u)
	}
	fmt.Fprintln(&b, `no such user with the email "nobody@example.com" (Scan returned sql.ErrNoRows; Python's fetchone() returns None)`)
	return b.String()
}

// finds is what the lesson does on a users table: find users, or stop
// with advice.
type finds struct {
	users  []string
	advice string
}

// found lists, for each of workbooktest.UsersTables by its name, the users
// the lesson finds in it, or where it has no name or email column, the
// advice it stops with.
var found = map[string]finds{
	"the guide's": {users: []string{
		"('Alice Smith', 'alice.smith@example.com')",
		"('Bob Johnson', 'bob.johnson@example.com')",
		"('Charlie Brown', 'charlie.brown@example.com')"}},
	"extra columns, a TIMESTAMP and a BOOLEAN": {users: []string{
		"('Alice Smith', 'alice@example.com')", "('Bob Johnson', 'bob@example.com')",
		"('Dana', 'dana@example.com')", "('Young', 'young@example.com')"}},
	"DATE and DATETIME columns and a TEXT key": {advice: "has no name column: its columns are user_id, age, born, seen, active"},
	"another column order":                     {users: []string{"('Alice Smith', 'alice@example.com')", "('Bob Johnson', 'bob@example.com')"}},
	// Alice's email is NULL: she cannot be looked up by it.
	"NULLs": {users: []string{"('Bob Johnson', 'bob@example.com')", "(None, 'ghost@example.com')"}},
	// The emails sort by their bytes: ' before f, and 日 after every letter
	// of ASCII.
	"quotes, escapes and other scripts": {users: []string{
		`('Say "hi"', 'both\'"@example.com')`,
		`("Finn O'Brien", 'finn@example.com')`,
		`('back\\slash\ttab\nnl\r\x01\x7f', 'zoë@exämple.com')`,
		`('🙂 \xa0\xad\u2028', '日本')`}},
	"REAL ages, the int64 limits and BLOBs": {advice: "has no email column: its columns are id, name, age, balance, avatar"},
	"one column":                            {advice: "has no name column: its columns are age"},
	"a view":                                {advice: "has no email column: its columns are id, name, age, senior"},
	"no rows":                               {advice: "has no name column: its columns are id, age"},
}

// TestEveryUsersTableWithNameAndEmail runs the lesson on the users tables
// that learners make: it reads any table with a name and an email column,
// and stops with advice on one without.
func TestEveryUsersTableWithNameAndEmail(t *testing.T) {
	workbooktest.OnEveryUsersTable(t, found, func(t *testing.T, path string, want finds) {
		if want.advice != "" {
			got := workbooktest.RunLessonOnABadDatabase(t, run, "async.log", path, want.advice)
			workbooktest.AssertLogged(t, got, "INFO - Opened connection pool to "+path)
			return
		}
		assertFinds(t, path, want.users...)
	})
}

// assertFinds runs the lesson on the database at path and checks that it
// found users, each the number of rounds times, and logged that it opened
// the pool.
func assertFinds(t *testing.T, path string, users ...string) {
	t.Helper()
	got := workbooktest.RunLessonAndCheckClosed(t, run, "async.log", path)
	if got.Err != nil {
		t.Fatal(got.Err)
	}
	if want := wantOutput(users...); got.Stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", got.Stdout, want)
	}
	workbooktest.AssertLogged(t, got, "INFO - Opened connection pool to "+path)
}

// TestMoreUsersTables runs the lesson on more tables that learners make.
func TestMoreUsersTables(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup []string
		users []string
	}{
		{"a text key, no id, NULLs", learnersUsers, []string{"('Alice Smith', 'alice@example.com')", "(None, 'dana@example.com')"}},
		// Scan turns a number or a BLOB into the text of a string.
		{"columns without a type", []string{
			`CREATE TABLE users (name, email)`,
			`INSERT INTO users VALUES (42, 'answer@example.com'), (x'00', 'blob@example.com')`,
		}, []string{"('42', 'answer@example.com')", "('\\x00', 'blob@example.com')"}},
		{"only the two columns, no rows", []string{`CREATE TABLE users (email TEXT, name TEXT)`}, nil},
		// Emails sort as text: user10@ comes before user1@.
		{"more users than it looks up", workbooktest.ManyUsers(12), []string{
			"('User 10', 'user10@example.com')", "('User 11', 'user11@example.com')", "('User 12', 'user12@example.com')",
			"('User 1', 'user1@example.com')", "('User 2', 'user2@example.com')", "('User 3', 'user3@example.com')",
			"('User 4', 'user4@example.com')", "('User 5', 'user5@example.com')", "('User 6', 'user6@example.com')",
			"('User 7', 'user7@example.com')"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertFinds(t, workbooktest.NewUsersDB(t, tc.setup...), tc.users...)
		})
	}
}

func TestPageShowsTheRun(t *testing.T) {
	workbooktest.AssertPageShowsTheRun(t, run, "async.log")
	// The page's own users table.
	got := workbooktest.RunLesson(t, run, "async.log", workbooktest.NewUsersDB(t, learnersUsers...))
	if got.Err != nil {
		t.Fatal(got.Err)
	}
	workbooktest.AssertPageShows(t, got.Stdout)
	for _, stmt := range learnersUsers {
		workbooktest.AssertPageShows(t, stmt)
	}
}

// TestBadDatabasesFailWithAdvice: the lesson fails with one line that says
// what to do, prints nothing and creates nothing (mode=rw), and logs
// "Opened" only where PingContext succeeded.
func TestBadDatabasesFailWithAdvice(t *testing.T) {
	workbooktest.AssertRefusesBadDatabases(t, run, "async.log", func(path string) []string {
		return []string{"INFO - Opened connection pool to " + path}
	})
}

func TestACanceledContextStopsTheLesson(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	t.Chdir(t.TempDir())
	var stdout strings.Builder
	err := run(ctx, workbooktest.NewUsersDB(t, workbooktest.GuideUsers...), &stdout, io.Discard)
	if !errors.Is(err, context.Canceled) || stdout.Len() != 0 {
		t.Errorf("run = %v, printed %q; want context.Canceled and nothing printed", err, stdout.String())
	}
}

// openTestPool opens the lesson's pool on path, and at the end of the test
// closes it and checks that nothing is left open.
func openTestPool(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := openPool(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
		workbooktest.AssertNothingOpen(tb, db)
	})
	return db
}

// holdConnections asks db for n connections at once, from goroutines of
// their own, and checks that want of them get one while the others wait;
// then it gives them all back. It stops waiting as soon as more than want
// are in use.
func holdConnections(t *testing.T, db *sql.DB, n, want int) {
	t.Helper()
	ctx := workbooktest.Context(t)
	release := make(chan struct{})
	var wg sync.WaitGroup
	defer wg.Wait()
	defer close(release)
	for range n {
		wg.Go(func() {
			conn, err := db.Conn(ctx)
			if err != nil {
				return // the test's time ran out, and WaitFor says so
			}
			<-release
			conn.Close()
		})
	}
	var s sql.DBStats
	workbooktest.WaitFor(t, fmt.Sprintf("%d connections in use and %d waiting", want, n-want), func() bool {
		s = db.Stats()
		return s.InUse > want || s.InUse == want && s.WaitCount == int64(n-want)
	})
	if s.InUse != want {
		t.Errorf("the pool never had %d in use and %d waiting: InUse=%d OpenConnections=%d WaitCount=%d",
			want, n-want, s.InUse, s.OpenConnections, s.WaitCount)
	}
}

func TestThePoolOpensAtMostMaxOpenConns(t *testing.T) {
	db := openTestPool(t, workbooktest.NewUsersDB(t, workbooktest.GuideUsers...))
	// The ten goroutines each ask for a connection: four get one, and six
	// wait until they are given back.
	holdConnections(t, db, goroutines, maxOpenConns)
}

func TestIdleConnectionsAreKept(t *testing.T) {
	db := openTestPool(t, workbooktest.NewUsersDB(t, workbooktest.GuideUsers...))
	// Four connections in use at once, then all four given back.
	holdConnections(t, db, maxOpenConns, maxOpenConns)
	if s := db.Stats(); s.MaxIdleClosed != 0 || s.Idle != maxOpenConns {
		t.Errorf("MaxIdleClosed = %d, Idle = %d; want 0 and %d: every connection given back is kept for the next query",
			s.MaxIdleClosed, s.Idle, maxOpenConns)
	}
}

// TestEachLookupClosesItsPool counts the files this process has open on
// the database. The garbage collector is off meanwhile, so that it cannot
// close a forgotten connection behind the test's back.
func TestEachLookupClosesItsPool(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	u, err := findUserNewPool(workbooktest.Context(t), path, "bob.johnson@example.com")
	if err != nil || u.Name.V != "Bob Johnson" {
		t.Fatalf("findUserNewPool = %v, %v; want Bob Johnson", u, err)
	}
	if open := workbooktest.OpenDescriptors(path); len(open) != 0 {
		t.Errorf("after one lookup, %d file descriptors are still open on %s: its pool was not closed", len(open), filepath.Base(path))
	}
}

func TestAMissingUserIsErrNoSuchUser(t *testing.T) {
	db := openTestPool(t, workbooktest.NewUsersDB(t, workbooktest.GuideUsers...))
	u, err := findUser(workbooktest.Context(t), db, nobody)
	if !errors.Is(err, errNoSuchUser) || u != (User{}) {
		t.Fatalf("findUser(%q) = %v, %v; want an error that errors.Is finds to be errNoSuchUser, where fetchone() returns None", nobody, u, err)
	}
	if want := `no such user with the email "nobody@example.com"`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestUserEmails(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup []string
		want  string // the emails, or the error
	}{
		{"guide's users", workbooktest.GuideUsers, "[alice.smith@example.com bob.johnson@example.com charlie.brown@example.com]"},
		{"no rows", workbooktest.GuideUsers[:1], "[]"},
		{"a NULL email", learnersUsers, "[alice@example.com dana@example.com]"},
		{"more than it reads", workbooktest.ManyUsers(12), "[user10@example.com user11@example.com user12@example.com]"},
		{"in alphabetical order", []string{`CREATE TABLE users (email TEXT, name TEXT)`,
			`INSERT INTO users (email) VALUES ('c@example.com'), ('a@example.com'), ('b@example.com')`},
			"[a@example.com b@example.com c@example.com]"},
		// SQLite fails on the second row, after it gave the first: rows.Next
		// stops, and only rows.Err tells why.
		{"an error while stepping", []string{`CREATE TABLE numbers (email TEXT PRIMARY KEY, n INTEGER)`,
			`INSERT INTO numbers VALUES ('a@example.com', 1), ('b@example.com', -9223372036854775807 - 1)`,
			`CREATE VIEW users AS SELECT email FROM numbers WHERE abs(n) > 0`}, "integer overflow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := openTestPool(t, workbooktest.NewUsersDB(t, tc.setup...))
			emails, err := userEmails(workbooktest.Context(t), db, 3)
			got := fmt.Sprint(emails)
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Errorf("userEmails = %s, want %s", got, tc.want)
			}
			if inUse := db.Stats().InUse; inUse != 0 {
				t.Errorf("%d connection in use after userEmails returned: the rows were not closed", inUse)
			}
		})
	}
}

// BenchmarkPooledQuery is one lookup through one pool, with the statement
// prepared once.
func BenchmarkPooledQuery(b *testing.B) {
	ctx := context.Background()
	db := openTestPool(b, workbooktest.NewUsersDB(b, workbooktest.GuideUsers...))
	stmt, err := db.PrepareContext(ctx, "SELECT name, email FROM users WHERE email = ?")
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	for b.Loop() {
		var u User
		if err := stmt.QueryRowContext(ctx, "bob.johnson@example.com").Scan(&u.Name, &u.Email); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPooledQueryNotPrepared is the lesson's findUser: one lookup
// through one pool, the SQL prepared again each time.
func BenchmarkPooledQueryNotPrepared(b *testing.B) {
	ctx := context.Background()
	db := openTestPool(b, workbooktest.NewUsersDB(b, workbooktest.GuideUsers...))
	for b.Loop() {
		if _, err := findUser(ctx, db, "bob.johnson@example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNewConnectionPerQuery is the guide's way, the lesson's
// findUserNewPool: open, ping, look up, close, every time.
func BenchmarkNewConnectionPerQuery(b *testing.B) {
	ctx := context.Background()
	path := workbooktest.NewUsersDB(b, workbooktest.GuideUsers...)
	for b.Loop() {
		if _, err := findUserNewPool(ctx, path, "bob.johnson@example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

// The page's "Try it" experiments.

func TestExperimentIdleConnections(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "\tdb.SetMaxIdleConns(maxOpenConns)\n", New: "",
		Command: "go test -run TestIdleConnectionsAreKept ./extras/pooling",
		Want:    []string{"MaxIdleClosed = 2, Idle = 2; want 0 and 4"}, Fails: true,
	})
}

func TestExperimentMaxOpenConnections(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "\tdb.SetMaxOpenConns(maxOpenConns)\n", New: "",
		Command: "go test -run TestThePoolOpensAtMostMaxOpenConns ./extras/pooling",
		Want:    []string{"the pool never had 4 in use and 6 waiting"}, Fails: true,
	})
}

func TestExperimentClosePool(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "\tdefer db.Close()\n\treturn findUser(ctx, db, email)\n", New: "\treturn findUser(ctx, db, email)\n",
		Command: "go test -run TestEachLookupClosesItsPool ./extras/pooling",
		Want:    []string{"file descriptors are still open"}, Fails: true,
	})
}

func TestExperimentNoRows(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\tif errors.Is(err, sql.ErrNoRows) {\n\t\treturn User{}, fmt.Errorf(\"%w with the email %q\", errNoSuchUser, email)\n\t}\n",
		New:     "",
		Command: "go test -run TestAMissingUserIsErrNoSuchUser ./extras/pooling",
		Want:    []string{"sql: no rows in result set; want an error that errors.Is finds to be errNoSuchUser"}, Fails: true,
	})
}
