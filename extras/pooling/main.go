// Extra pooling is section 5.3 of the guide, connection pooling, in Go.
//
// The guide's async_pooled_query opens a connection with
// "async with aiosqlite.connect(...)" on every call and closes it at the
// end: despite its name nothing is pooled, and a hundred calls open the
// file a hundred times. In Go the pool comes with database/sql. A *sql.DB is
// not one connection but a pool of them, safe for many goroutines at once:
// open it once, keep it, and each query borrows a connection and gives it
// back.
//
//	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw&_busy_timeout=5000")
//	...
//	defer db.Close()      // closes the pool and every connection in it
//	db.SetMaxOpenConns(4) // a fifth query at once waits for a free connection
//	db.SetMaxIdleConns(4) // keep all four for the next queries (the default keeps 2)
//
// One row comes back with QueryRowContext(...).Scan. When no row matches,
// Scan returns sql.ErrNoRows where Python's fetchone() returns None, and
// findUser turns it into an error of its own, errNoSuchUser, which callers
// look for with errors.Is. A column that may hold NULL scans into
// sql.Null[T]: Python's None is Valid == false.
//
// The lesson reads two columns of the users table, name and email, which
// may have any type and hold NULLs; other columns do not matter.
package main

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"workbook/internal/dbfile"
	"workbook/internal/guidelog"
	"workbook/internal/lesson"
	"workbook/internal/pyrow"
)

// main runs the lesson as a program: lesson.Main reads -db, turns Ctrl-C
// into a cancelled ctx, and prints run's error as one line.
func main() { lesson.Main("extras/pooling", run) }

// More goroutines look users up at once than the pool has connections, so
// some of them wait for one. Each of the first usersToLookUp users (by
// email) is looked up rounds times.
const (
	maxOpenConns  = 4
	goroutines    = 10
	usersToLookUp = 10
	rounds        = 10
)

// usersColumns are the columns of users that the lesson's queries name,
// for dbfile.Explain to look for when a query fails.
var usersColumns = []string{"name", "email"}

// nobody is an email address that no user of the guide's table has.
const nobody = "nobody@example.com"

// run looks the same users up through one pool, then with a new pool for
// each lookup, as the guide's async_pooled_query does, and prints what it
// found.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "async.log")
	defer closeLog()

	db, err := openPool(ctx, dbPath)
	if err != nil {
		logger.Error("Connection error: " + err.Error())
		return err
	}
	defer db.Close()
	logger.Info("Opened connection pool to " + dbPath)

	emails, err := userEmails(ctx, db, usersToLookUp)
	if err != nil {
		return dbfile.Explain(ctx, db, dbPath, err, usersColumns...)
	}
	lookups := slices.Repeat(emails, rounds)
	pooled, err := lookUpAll(lookups, func(email string) (User, error) {
		return findUser(ctx, db, email)
	})
	if err != nil {
		return dbfile.Explain(ctx, db, dbPath, err, usersColumns...)
	}
	fmt.Fprintf(stdout, "One pool: %d lookups from %d goroutines at once, through at most %d connections (SetMaxOpenConns)\n",
		len(lookups), goroutines, maxOpenConns)
	fmt.Fprintf(stdout, "  connections closed and opened again: %d (SetMaxIdleConns)\n", db.Stats().MaxIdleClosed)

	_, err = lookUpAll(lookups, func(email string) (User, error) {
		return findUserNewPool(ctx, dbPath, email)
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "A new connection per lookup, as async_pooled_query does: %d connections opened and closed\n", len(lookups))
	for _, u := range pooled[:len(emails)] {
		fmt.Fprintln(stdout, u)
	}

	// errors.Is tells "nobody has this email" from a failed query.
	_, err = findUser(ctx, db, nobody)
	switch {
	case errors.Is(err, errNoSuchUser):
		fmt.Fprintf(stdout, "%v (Scan returned sql.ErrNoRows; Python's fetchone() returns None)\n", err)
	case err != nil:
		return dbfile.Explain(ctx, db, dbPath, err, usersColumns...)
	}
	return nil
}

// openPool opens the pool and proves with PingContext that the database is
// there: sql.Open connects to nothing. mode=rw never creates a file, and
// 5000 ms is the driver's busy timeout anyway, written here to be seen.
func openPool(ctx context.Context, dbPath string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", dbfile.URI(dbPath)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(maxOpenConns)
	// The pool keeps at most this many connections idle; one given back
	// beyond that number is closed, and a later query opens it again
	// (db.Stats().MaxIdleClosed counts those).
	db.SetMaxIdleConns(maxOpenConns)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(dbfile.Explain(ctx, db, dbPath, err), db.Close())
	}
	return db, nil
}

// userEmails reads the first n emails of users, sorted as SQLite sorts
// text. A user whose email is NULL cannot be looked up by it, and is left
// out.
func userEmails(ctx context.Context, db *sql.DB, n int) ([]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT email FROM users WHERE email IS NOT NULL ORDER BY email LIMIT ?", n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var emails []string
	for rows.Next() {
		var email string
		if err := rows.Scan(&email); err != nil {
			return nil, err
		}
		emails = append(emails, email)
	}
	return emails, rows.Err()
}

// User is what findUser reads of one user. The name may be NULL, so it is
// a sql.Null[string]; the email is the one looked up, never NULL.
type User struct {
	Name  sql.Null[string]
	Email string
}

// String writes the user as Python prints the tuple of its two values,
// with None for a NULL name.
func (u User) String() string {
	var name any // nil, which prints as None
	if u.Name.Valid {
		name = u.Name.V
	}
	return pyrow.Row{name, u.Email}.String()
}

// errNoSuchUser is findUser's error when no user has the email. It is a
// sentinel: findUser wraps it with %w, and callers look for it with
// errors.Is.
var errNoSuchUser = errors.New("no such user")

// findUser reads the user whose email is email. QueryRowContext borrows a
// connection from the pool, and Scan gives it back.
func findUser(ctx context.Context, db *sql.DB, email string) (User, error) {
	var u User
	err := db.QueryRowContext(ctx, "SELECT name, email FROM users WHERE email = ?", email).
		Scan(&u.Name, &u.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("%w with the email %q", errNoSuchUser, email)
	}
	if err != nil {
		return User{}, err
	}
	return u, nil
}

// findUserNewPool is the guide's async_pooled_query in Go: a new pool, and
// so a new connection, for every lookup, closed when the lookup ends.
func findUserNewPool(ctx context.Context, dbPath, email string) (User, error) {
	db, err := openPool(ctx, dbPath)
	if err != nil {
		return User{}, err
	}
	defer db.Close()
	return findUser(ctx, db, email)
}

// lookUpAll looks every email up from goroutines that run at once, and
// returns the users in the order of emails, or the first error. Each
// goroutine writes only its own elements of users and errs, so they need
// no lock.
func lookUpAll(emails []string, find func(email string) (User, error)) ([]User, error) {
	users := make([]User, len(emails))
	errs := make([]error, len(emails))
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := g; i < len(emails); i += goroutines {
				users[i], errs[i] = find(emails[i])
			}
		})
	}
	wg.Wait()
	return users, cmp.Or(errs...)
}
