package syntheticusers

import (
	"database/sql"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"workbook/internal/dbfile"
	"workbook/internal/workbooktest"
)

func TestTheUsersFlag(t *testing.T) {
	flags := flag.NewFlagSet("00-setup", flag.ContinueOnError)
	flags.SetOutput(io.Discard)
	n := define(flags)
	if *n != 0 {
		t.Errorf("-users is %d before it is given, want 0", *n)
	}
	for _, tt := range []struct{ value, wantErr string }{
		{"-5", `invalid value "-5" for flag -users: give 0 or more users`},
		{"many", `invalid value "many" for flag -users: not a whole number`},
		{"1e3", `invalid value "1e3" for flag -users: not a whole number`},
	} {
		if err := flags.Parse([]string{"-users", tt.value}); err == nil || err.Error() != tt.wantErr {
			t.Errorf("-users %s: error %v, want %q", tt.value, err, tt.wantErr)
		}
	}
	if err := flags.Parse([]string{"-users", "250"}); err != nil || *n != 250 {
		t.Errorf("-users 250: error %v, %d users; want none and 250", err, *n)
	}
}

// commandLineUsers is -users on the test binary's own command line, defined
// once however often the tests run.
var commandLineUsers = Flag()

func TestFlagIsOnTheCommandLine(t *testing.T) {
	if err := flag.CommandLine.Set("users", "7"); err != nil || *commandLineUsers != 7 {
		t.Errorf("flag.CommandLine.Set(users, 7): error %v, %d users; want none and 7", err, *commandLineUsers)
	}
}

func TestAdd(t *testing.T) {
	// Sizes around the 100-row statement, so that full and short batches
	// are both counted.
	for _, n := range []int{0, 1, 99, 100, 101, 250} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			db := openGuideUsers(t)
			if err := addInTransaction(t, db, n); err != nil {
				t.Fatal(err)
			}
			var users, emails int
			if err := db.QueryRowContext(t.Context(), "SELECT count(*), count(DISTINCT email) FROM users").Scan(&users, &emails); err != nil {
				t.Fatal(err)
			}
			if users != 3+n || emails != 3+n {
				t.Errorf("%d users, %d distinct emails; want %d of each", users, emails, 3+n)
			}
		})
	}
}

func TestAddGivesTheSameUsersEveryRun(t *testing.T) {
	db := openGuideUsers(t)
	for _, n := range []int{1000, 1000, 400} {
		if err := addInTransaction(t, db, n); err != nil {
			t.Fatal(err)
		}
	}
	var users, youngest, oldest, ages int
	if err := db.QueryRowContext(t.Context(), "SELECT count(*), min(age), max(age), count(DISTINCT age) FROM users WHERE id > 3").Scan(&users, &youngest, &oldest, &ages); err != nil {
		t.Fatal(err)
	}
	if users != 1000 || youngest != 18 || oldest != 87 || ages != 70 {
		t.Errorf("after runs with 1000, 1000 and 400 users: %d users aged %d to %d, %d distinct ages; want 1000 aged 18 to 87, 70 distinct", users, youngest, oldest, ages)
	}
	rows, err := db.QueryContext(t.Context(), "SELECT id, name, email, age FROM users WHERE id IN (4, 1003) ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, age int
		var name, email string
		if err := rows.Scan(&id, &name, &email, &age); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%d %s %s %d", id, name, email, age))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{"4 User 1 user0000001@example.com 55", "1003 User 1000 user0001000@example.com 58"}
	if !slices.Equal(got, want) {
		t.Errorf("users = %q, want %q", got, want)
	}
}

func TestAddNeedsTheGuidesUniqueEmail(t *testing.T) {
	path := workbooktest.NewUsersDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)`)
	err := addInTransaction(t, open(t, path), 5)
	want := "-users needs the guide's users table, whose email is UNIQUE, to add each synthetic user once: ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}

func TestAFailedInsertSaysWhichUsers(t *testing.T) {
	// A trigger refuses the 250th user, in the statement of users 201 to
	// 300.
	path := workbooktest.NewUsersDB(t, append(workbooktest.GuideUsers, `CREATE TRIGGER refuse BEFORE INSERT ON users
WHEN NEW.email = 'user0000250@example.com' BEGIN SELECT RAISE(ABORT, 'refused on purpose'); END`)...)
	err := addInTransaction(t, open(t, path), 1000)
	if err == nil || !strings.HasSuffix(err.Error(), "insert synthetic users up to 300: refused on purpose") {
		t.Errorf("error = %v, want the trigger's, in the statement of users 201 to 300", err)
	}
}

// addInTransaction adds users 1 to n to db in a transaction of their own.
func addInTransaction(t testing.TB, db *sql.DB, n int) error {
	t.Helper()
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := Add(t.Context(), tx, n); err != nil {
		return err
	}
	return tx.Commit()
}

// openGuideUsers makes the guide's users table with its three users in a
// new file and opens it.
func openGuideUsers(t testing.TB) *sql.DB {
	t.Helper()
	return open(t, workbooktest.NewUsersDB(t, workbooktest.GuideUsers...))
}

// open opens the database at path and closes it when the test ends.
func open(t testing.TB, path string) *sql.DB {
	t.Helper()
	return workbooktest.OpenDSN(t, dbfile.URI(path)+"?mode=rw")
}
