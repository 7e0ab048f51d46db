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
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "unexpected argument %q: give the database path with -db\n", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	}
	if err := run(context.Background(), *dbPath, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "Error creating database:", err)
		os.Exit(1)
	}
}

// run creates the database and reports success on stdout. Every error comes
// back to main as a value, so the deferred Close always runs.
func run(ctx context.Context, dbPath string, stdout io.Writer) (err error) {
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

	if err := createSampleDatabase(ctx, db); err != nil {
		return describe(dbPath, err)
	}
	fmt.Fprintln(stdout, "Sample database created successfully.")
	return nil
}

// createSampleDatabase creates the users table and inserts the sample users
// in one transaction: either all of it is saved or none of it.
func createSampleDatabase(ctx context.Context, db *sql.DB) error {
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
	return tx.Commit()
}

// describe adds what to do to the two mistakes a learner is most likely to
// make: a -db path in a folder that does not exist, and a -db path that names
// a file that is not an SQLite database. The driver's error is classified by
// its SQLite code with errors.As, never by its text.
func describe(dbPath string, err error) error {
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) {
		return err
	}
	switch sqliteErr.Code {
	case sqlite3.ErrCantOpen:
		return fmt.Errorf("cannot create %s: %w: check that its folder exists and is writable", dbPath, err)
	case sqlite3.ErrNotADB:
		return fmt.Errorf("%s is not an SQLite database (%w): it was left as it is; choose another path with -db", dbPath, err)
	}
	return err
}
