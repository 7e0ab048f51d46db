// Lesson 00-setup is the guide's setup_database.py (section 2.2). It makes
// the database that every other lesson reads: a users table holding the
// guide's three sample users.
//
// The Python and the Go, step by step:
//
//	conn = sqlite3.connect('users.db')  db, err := sql.Open("sqlite3", dsn(dbPath)),
//	  which creates a missing file        then db.PingContext; mode=rwc creates it
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
// Then the program reads the sample users back, the way a Go program reads
// rows whose columns it knows: each row into a struct, with one typed
// variable for each column.
//
//	rows.Scan(&u.Name, &u.Email, &u.Age)
//
// This is the only program of the workbook that may create a database. The
// others open users.db with mode=rw, so that a mistyped path fails.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"slices"

	"workbook/internal/dbfile"
	"workbook/internal/lesson"
	"workbook/internal/syntheticusers"
)

// main runs the lesson as a program: lesson.Main reads -db (and -users),
// turns Ctrl-C into a cancelled ctx, and prints run's error as one line.
func main() { lesson.Main("00-setup", run) }

// extraUsers is the value of -users: how many synthetic users to add to
// the three samples, for trying the lessons on a large table. It is 0
// unless -users is given.
var extraUsers = syntheticusers.Flag()

// run creates the database, checks that it holds the sample users, and
// tells stdout so. Its error comes back to main, which prints it as one
// line: Python prints "Error creating database: ..." and raises it again.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	db, err := sql.Open("sqlite3", dsn(dbPath))
	if err != nil {
		return err
	}
	// Commit has saved everything by the time Close runs, so Close's error
	// would not mean that anything was lost.
	defer db.Close()

	if err := createSampleDatabase(ctx, db); err != nil {
		return fmt.Errorf("error creating database: %w", dbfile.Explain(ctx, db, dbPath, err, "name", "email", "age"))
	}
	if err := checkSampleUsers(ctx, db); err != nil {
		return fmt.Errorf("error creating database: %w", err)
	}
	fmt.Fprintln(stdout, "Sample database created successfully.")
	return nil
}

// dsn is how run opens the database file at path. Each setting holds for
// every connection the pool opens:
//
//   - mode=rwc reads, writes, and creates the file if it is missing.
//   - _txlock=immediate makes BeginTx take the write lock at once. A
//     transaction that began by reading (CREATE TABLE IF NOT EXISTS reads
//     the schema) would be refused at its first write, without waiting,
//     while another connection writes.
//   - _busy_timeout=5000 (the driver's default, written out to be seen)
//     lets BeginTx wait up to 5 s for the write lock.
//   - _synchronous=FULL is SQLite's own default, which Python's sqlite3 and
//     the sqlite3 shell keep; this driver sets NORMAL unless told. In the
//     rollback journal that users.db uses, FULL writes the journal to the
//     disk before marking it valid. With NORMAL, a power loss in the
//     middle of a commit can leave a journal whose rollback damages the
//     file, which is then neither all nor none.
func dsn(path string) string {
	return dbfile.URI(path) + "?mode=rwc&_txlock=immediate&_busy_timeout=5000&_synchronous=FULL"
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

// user is one user of the users table, as this program writes and reads
// it: a field for each column it uses.
type user struct {
	Name  string
	Email string
	Age   int
}

// sampleUsers are the guide's three users.
var sampleUsers = []user{
	{"Alice Smith", "alice.smith@example.com", 30},
	{"Bob Johnson", "bob.johnson@example.com", 45},
	{"Charlie Brown", "charlie.brown@example.com", 25},
}

// createSampleDatabase creates the table if there is none and adds each
// sample user that is missing, in one transaction.
func createSampleDatabase(ctx context.Context, db *sql.DB) error {
	// sql.Open connected to nothing. PingContext opens the file, and
	// creates it if it is missing, unless Ctrl-C has come already: BeginTx
	// below does not look at Ctrl-C.
	if err := db.PingContext(ctx); err != nil {
		return err
	}
	// The transaction begins on a context that Ctrl-C does not cancel; the
	// statements in it take ctx, which Ctrl-C does. So Ctrl-C stops the
	// statement that is running, its error returns, and the deferred
	// Rollback undoes the transaction before the program exits. Begun on
	// ctx, the transaction would be rolled back by database/sql itself, on
	// a goroutine of its own that nothing waits for: the program could
	// exit first and leave the journal (users.db-journal) behind.
	tx, err := db.BeginTx(context.WithoutCancel(ctx), nil)
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
		if _, err := insert.ExecContext(ctx, u.Name, u.Email, u.Age); err != nil {
			return fmt.Errorf("insert %s: %w", u.Email, err)
		}
	}
	if err := syntheticusers.Add(ctx, tx, *extraUsers); err != nil {
		return err
	}
	// Commit writes the changes into the file. Its error matters: if it
	// fails (say another program reads the file past the busy timeout),
	// nothing was saved, and the program must not say it was.
	return tx.Commit()
}

// selectSampleUsers reads the rows that hold the sample users' emails. It
// names its columns: a typed Scan takes exactly as many values as the
// query has columns, in their order.
const selectSampleUsers = `SELECT name, email, age FROM users WHERE email IN (?, ?, ?)`

// checkSampleUsers reads the sample users back after Commit and fails if
// one is missing: Commit said that it saved them, and the file has the
// last word.
func checkSampleUsers(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, selectSampleUsers, sampleUsers[0].Email, sampleUsers[1].Email, sampleUsers[2].Email)
	if err != nil {
		return err
	}
	// Close the rows however this function returns: until then they hold
	// a connection of the pool.
	defer rows.Close()
	var saved []user
	for rows.Next() {
		var u user
		if err := rows.Scan(&u.Name, &u.Email, &u.Age); err != nil {
			return err
		}
		saved = append(saved, u)
	}
	// Next returns false at the end of the rows and on an error alike:
	// only rows.Err tells them apart.
	if err := rows.Err(); err != nil {
		return err
	}
	for _, want := range sampleUsers {
		if !slices.ContainsFunc(saved, func(u user) bool { return u.Email == want.Email }) {
			return fmt.Errorf("%s is not in the users table after Commit", want.Email)
		}
	}
	return nil
}
