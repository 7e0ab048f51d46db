//go:build cgo

// Lesson 00-setup is the guide's setup_database.py (section 2.2). It makes
// the database that every other lesson reads: a users table holding the
// guide's three sample users.
//
// The Python and the Go, step by step:
//
//	conn = sqlite3.connect('users.db')  db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rwc&...")
//	  which creates a missing file        mode=rwc: read, write and create
//	cursor.execute('CREATE TABLE ...')  tx.ExecContext(ctx, createTable)
//	cursor.executemany('INSERT ...')    insert, err := tx.PrepareContext(ctx, insertUser),
//	                                      then insert.ExecContext once per user
//	conn.commit()                       err := tx.Commit()
//	except sqlite3.Error as e           if err != nil { return ... }
//	finally: conn.close()               defer db.Close()
//
// Go does the whole job in one transaction: db.BeginTx starts it, `defer
// tx.Rollback()` undoes it on every return before Commit, and Commit saves
// it. Either all of it is saved or none of it.
//
// This is the only program of the workbook that may create a database. The
// others open users.db with mode=rw, so that a mistyped path fails.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
)

// run creates the database and tells stdout so. Its error comes back to
// main, which prints it as one line: Python prints "Error creating
// database: ..." and raises it again.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	// _txlock=immediate makes BeginTx take the write lock at once. A
	// transaction that began by reading (CREATE TABLE IF NOT EXISTS reads
	// the schema) would be refused at its first write, without waiting,
	// while another connection writes. _busy_timeout=5000 (the driver's
	// default, written out to be seen) lets BeginTx wait up to 5 s for it.
	db, err := sql.Open("sqlite3", fileURI(dbPath)+"?mode=rwc&_txlock=immediate&_busy_timeout=5000")
	if err != nil {
		return err
	}
	// Commit has saved everything by the time Close runs, so Close's error
	// would not mean that anything was lost.
	defer db.Close()

	if err := createSampleDatabase(ctx, db); err != nil {
		return fmt.Errorf("error creating database: %w", advise(ctx, db, dbPath, err, "name", "email", "age"))
	}
	fmt.Fprintln(stdout, "Sample database created successfully.")
	return nil
}

// createTable is the guide's CREATE TABLE, word for word, so that the
// guide's Python, the sqlite3 shell and the lessons read the same table.
const createTable = `CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    age INTEGER NOT NULL
)`

// insertUser adds a user unless the table has one with that email already,
// so a second run adds nobody twice, even to a users table made without the
// guide's UNIQUE on email, which the guide's INSERT OR IGNORE relies on.
// Every value is a placeholder; ?2, the email, is used twice.
const insertUser = `INSERT INTO users (name, email, age)
SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM users WHERE email = ?2)`

// sampleUsers are the guide's three users.
var sampleUsers = []struct {
	name, email string
	age         int
}{
	{"Alice Smith", "alice.smith@example.com", 30},
	{"Bob Johnson", "bob.johnson@example.com", 45},
	{"Charlie Brown", "charlie.brown@example.com", 25},
}

// createSampleDatabase creates the table if there is none and adds each
// sample user that is missing, in one transaction.
func createSampleDatabase(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	// Rollback undoes the transaction and releases the write lock on every
	// return before Commit; after Commit it does nothing.
	defer tx.Rollback()

	if _, err := tx.ExecContext(ctx, createTable); err != nil {
		return err
	}
	// As executemany does, SQLite parses the INSERT once and runs it for
	// each user. Commit or Rollback closes a statement prepared on tx.
	insert, err := tx.PrepareContext(ctx, insertUser)
	if err != nil {
		return err
	}
	for _, u := range sampleUsers {
		if _, err := insert.ExecContext(ctx, u.name, u.email, u.age); err != nil {
			return fmt.Errorf("insert %s: %w", u.email, err)
		}
	}
	// -users N (scale.go) adds synthetic users, for tests at scale.
	if syntheticUsers > 0 {
		if err := addSyntheticUsers(ctx, tx, syntheticUsers); err != nil {
			return err
		}
	}
	// Commit writes the changes into the file. Its error matters: if it
	// fails (say another program reads the file past the busy timeout),
	// nothing was saved, and the program must not say it was.
	return tx.Commit()
}
