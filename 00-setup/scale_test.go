//go:build cgo

package main

import (
	"bytes"
	"flag"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// withSyntheticUsers sets -users to n for one test. Tests that call it do
// not run in parallel.
func withSyntheticUsers(t *testing.T, n int) {
	t.Helper()
	old := syntheticUsers
	syntheticUsers = n
	t.Cleanup(func() { syntheticUsers = old })
}

func TestTheUsersFlag(t *testing.T) {
	withSyntheticUsers(t, 0)
	f := flag.CommandLine.Lookup("users")
	if f == nil {
		t.Fatal("no -users flag is registered")
	}
	for _, tt := range []struct{ value, wantErr string }{
		{"-5", "give 0 or more users"},
		{"many", "not a whole number"},
		{"1e3", "not a whole number"},
	} {
		if err := f.Value.Set(tt.value); err == nil || err.Error() != tt.wantErr {
			t.Errorf("-users %s: error %v, want %q", tt.value, err, tt.wantErr)
		}
	}
	if err := f.Value.Set("250"); err != nil || syntheticUsers != 250 {
		t.Errorf("-users 250: error %v, %d users; want none and 250", err, syntheticUsers)
	}
}

func TestSyntheticUsers(t *testing.T) {
	// Sizes around the 100-row statement, so that full and short batches
	// are both counted.
	for _, n := range []int{1, 99, 100, 101, 250} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			withSyntheticUsers(t, n)
			path := newUsersDB(t)
			if _, err := runSetup(t, path); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("(%d, %d)", 3+n, 3+n)
			if got := pyRows(t, path, "SELECT count(*), count(DISTINCT email) FROM users"); got[0] != want {
				t.Errorf("users, distinct emails = %s, want %s", got[0], want)
			}
		})
	}
}

func TestSyntheticUsersAreTheSameEveryRun(t *testing.T) {
	path := newUsersDB(t)
	for _, n := range []int{1000, 1000, 400} {
		withSyntheticUsers(t, n)
		if _, err := runSetup(t, path); err != nil {
			t.Fatal(err)
		}
	}
	if got := pyRows(t, path, "SELECT count(*) FROM users"); got[0] != "(1003,)" {
		t.Errorf("after runs with 1000, 1000 and 400 users: %s users, want 1003", got[0])
	}
	if got := pyRows(t, path, "SELECT min(age), max(age), count(DISTINCT age) FROM users WHERE id > 3"); got[0] != "(18, 87, 70)" {
		t.Errorf("ages: min, max, distinct = %s, want (18, 87, 70)", got[0])
	}
	got := pyRows(t, path, "SELECT * FROM users WHERE id IN (1, 4, 1003)")
	want := []string{
		"(1, 'Alice Smith', 'alice.smith@example.com', 30)",
		"(4, 'User 1', 'user0000001@example.com', 55)",
		"(1003, 'User 1000', 'user0001000@example.com', 58)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("users = %q, want %q", got, want)
	}
}

func TestSyntheticUsersNeedTheGuidesUniqueEmail(t *testing.T) {
	withSyntheticUsers(t, 5)
	path := newUsersDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)`)
	file := readFile(t, path)
	stdout, err := runSetup(t, path)
	want := "error creating database: -users needs the guide's users table, whose email is UNIQUE, to add each synthetic user once: ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	if stdout != "" {
		t.Errorf("stdout = %q, want nothing", stdout)
	}
	if !bytes.Equal(readFile(t, path), file) {
		t.Error("the file changed: the sample users were saved without the synthetic ones")
	}
}

func TestAFailedSyntheticInsertSavesNothing(t *testing.T) {
	// A trigger refuses the 250th synthetic user: by then the samples and
	// two full statements' 200 users are written inside the transaction.
	withSyntheticUsers(t, 1000)
	path := newUsersDB(t, guideUsers[0], `CREATE TRIGGER refuse BEFORE INSERT ON users
WHEN NEW.email = 'user0000250@example.com' BEGIN SELECT RAISE(ABORT, 'refused on purpose'); END`)
	file := readFile(t, path)
	_, err := runSetup(t, path)
	if err == nil || !strings.Contains(err.Error(), "insert synthetic users up to 300: refused on purpose") {
		t.Fatalf("error = %v, want the trigger's, in the statement of users 201 to 300", err)
	}
	if !bytes.Equal(readFile(t, path), file) {
		t.Errorf("the file changed; it holds %s users", pyRows(t, path, "SELECT count(*) FROM users")[0])
	}
}
