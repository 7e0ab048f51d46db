//go:build cgo

// Lesson 00-setup is the guide's setup_database.py (section 2.2): it makes
// users.db, the database every other lesson reads.
//
// Python connects with sqlite3.connect, which creates the file if it is
// missing, inserts with executemany, saves with commit and closes in finally.
// Go opens the file with mode=rwc (read, write, create), runs the inserts in
// one transaction (BeginTx ... Commit), and lets defer do the finally's work:
// tx.Rollback undoes whatever was not committed, db.Close closes the file.
//
// This is the only program of the workbook that may create a database file.
// The others open users.db with mode=rw, so a mistyped path fails instead.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mattn/go-sqlite3"
)

// schema is the guide's CREATE TABLE, word for word, so that the guide's
// Python programs and the sqlite3 shell read the same table as the lessons.
const schema = `CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    age INTEGER NOT NULL
)`

// insertUser uses placeholders for every value. INSERT OR IGNORE skips a
// user whose email is already there, so running the program again adds
// nobody twice.
const insertUser = `INSERT OR IGNORE INTO users (name, email, age) VALUES (?, ?, ?)`

// sampleUsers are the guide's three users.
var sampleUsers = []struct {
	name, email string
	age         int
}{
	{"Alice Smith", "alice.smith@example.com", 30},
	{"Bob Johnson", "bob.johnson@example.com", 45},
	{"Charlie Brown", "charlie.brown@example.com", 25},
}

func main() {
	dbPath := flag.String("db", "users.db", "path of the SQLite database to create or fill")
	users := flag.Int("users", 0, "how many synthetic users to add to the three samples, for tests at scale")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "unexpected argument %q: give the database path with -db\n", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}
	if *dbPath == "" {
		fmt.Fprintln(os.Stderr, "the -db path is empty: give the database file, such as -db users.db")
		flag.Usage()
		os.Exit(2)
	}
	if *users < 0 {
		fmt.Fprintf(os.Stderr, "invalid value %d for flag -users: give 0 or more users\n", *users)
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), *dbPath, *users, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "Error creating database:", err)
		os.Exit(1)
	}
}

// run creates the database, adds the synthetic users if asked, and reports
// success on stdout. Every error comes back to main as a value, so the
// deferred Close always runs.
func run(ctx context.Context, dbPath string, users int, stdout io.Writer) (err error) {
	// _txlock=immediate makes BeginTx take the write lock at once, and
	// _busy_timeout lets it wait up to 5 s for another writer to finish,
	// so several copies of this program can run at the same time.
	dsn := "file:" + (&url.URL{Path: dbPath}).EscapedPath() +
		"?mode=rwc&_txlock=immediate&_busy_timeout=5000"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()

	if err := createSampleDatabase(ctx, db, users); err != nil {
		return describe(dbPath, err)
	}
	fmt.Fprintln(stdout, "Sample database created successfully.")
	return nil
}

// createSampleDatabase creates the users table and inserts the sample users,
// and then n synthetic users, in one transaction: either all of it is saved
// or none of it.
func createSampleDatabase(ctx context.Context, db *sql.DB, n int) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// Rollback is the safety net for every early return below; after a
	// successful Commit it does nothing.
	defer tx.Rollback()

	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return fmt.Errorf("create table users: %w", err)
	}
	// A prepared statement is parsed once and run once per user, which is
	// what Python's executemany does.
	stmt, err := tx.PrepareContext(ctx, insertUser)
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, u := range sampleUsers {
		if _, err := stmt.ExecContext(ctx, u.name, u.email, u.age); err != nil {
			return fmt.Errorf("insert %s: %w", u.email, err)
		}
	}
	if err := addSyntheticUsers(ctx, tx, n); err != nil {
		return err
	}
	return tx.Commit()
}

// usersPerInsert is how many users one INSERT statement carries. Running a
// statement costs work of its own, in database/sql and in the C library,
// besides the work for each value bound; a hundred rows per statement pay
// that cost a hundred times less often. The 300 placeholders stay well
// below SQLite's limit of 32,766.
const usersPerInsert = 100

// addSyntheticUsers inserts users 1 to n. The same n always gives the same
// users, so INSERT OR IGNORE makes reruns, and runs at the same time, add
// each of them once.
func addSyntheticUsers(ctx context.Context, tx *sql.Tx, n int) error {
	stmt, err := tx.PrepareContext(ctx, multiRowInsert(usersPerInsert))
	if err != nil {
		return err
	}
	defer stmt.Close()

	args := make([]any, 0, 3*usersPerInsert)
	for i := 1; i <= n; i++ {
		args = append(args, syntheticName(i), syntheticEmail(i), syntheticAge(i))
		if len(args) == cap(args) {
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("insert synthetic users up to %d: %w", i, err)
			}
			args = args[:0]
		}
	}
	// The last, shorter batch gets a statement of its own size.
	if len(args) > 0 {
		if _, err := tx.ExecContext(ctx, multiRowInsert(len(args)/3), args...); err != nil {
			return fmt.Errorf("insert synthetic users up to %d: %w", n, err)
		}
	}
	return nil
}

// multiRowInsert returns an INSERT with rows groups of placeholders. The SQL
// is built from a count, never from a value: every value is still bound.
func multiRowInsert(rows int) string {
	return insertUser + strings.Repeat(", (?, ?, ?)", rows-1)
}

// syntheticEmail pads the number to seven digits, so that the emails come in
// sorted order and the UNIQUE index on email grows at its end instead of
// being split in the middle for every new row. (fmt.Sprintf("%07d") would
// say the same; at a million users its cost shows.)
func syntheticEmail(i int) string {
	digits := strconv.Itoa(i)
	if pad := 7 - len(digits); pad > 0 {
		digits = "0000000"[:pad] + digits
	}
	return "user" + digits + "@example.com"
}

func syntheticName(i int) string { return "User " + strconv.Itoa(i) }

// syntheticAge spreads the ages over 18 to 87: 37 and 70 share no factor,
// so i*37 % 70 takes every value from 0 to 69 in turn.
func syntheticAge(i int) int { return 18 + i*37%70 }

// describe adds what to do to the mistakes a learner is most likely to make
// with -db: a folder, or a path in a folder that does not exist, a file that
// is not an SQLite database, or a database that may not be written. The
// driver's error is classified by its SQLite code with errors.As, never by
// its text.
func describe(dbPath string, err error) error {
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) {
		return err
	}
	switch sqliteErr.Code {
	case sqlite3.ErrCantOpen:
		if info, statErr := os.Stat(dbPath); statErr == nil && info.IsDir() {
			return fmt.Errorf("%s is a folder (%w): give -db a file in it, such as -db %s", dbPath, err, filepath.Join(dbPath, "users.db"))
		}
		return fmt.Errorf("cannot create %s: %w: check that its folder exists and is writable", dbPath, err)
	case sqlite3.ErrNotADB:
		return fmt.Errorf("%s is not an SQLite database (%w): it was left as it is; choose another path with -db", dbPath, err)
	case sqlite3.ErrReadonly:
		return fmt.Errorf("%s is read-only (%w): make it writable, or choose another path with -db", dbPath, err)
	}
	return err
}
