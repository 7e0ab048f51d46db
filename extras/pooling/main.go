//go:build cgo

// Extra pooling is section 5.3 of the guide: connection pooling.
//
// The guide's async_pooled_query opens a connection with
// "async with aiosqlite.connect(...)" on every call and closes it at the end,
// so nothing is pooled: a hundred calls open the file a hundred times. In Go
// the pool is built in. A *sql.DB is not one connection but a pool of them,
// safe for many goroutines at once: open it once, keep it, and each query
// borrows a connection and gives it back.
//
//	db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rw&_busy_timeout=5000")
//	defer db.Close()      // closes the pool and every connection in it
//	db.SetMaxOpenConns(4) // a fifth query at once waits for a free connection
//	db.SetMaxIdleConns(4) // keep all four for the next queries (the default keeps 2)
//
// One row comes back with QueryRowContext(...).Scan; when there is none,
// Scan returns sql.ErrNoRows where Python's fetchone() returns None. A
// column that may hold NULL scans into sql.Null[T] (or a *T): Python's None
// is Valid == false (or a nil pointer).
// What the pool saves per query: go test -run '^$' -bench . ./extras/pooling
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
)

// More goroutines look users up at once than the pool has connections, so
// some of them wait for a connection. Each user is looked up rounds times.
const (
	maxOpenConns = 4
	goroutines   = 10
	rounds       = 10
)

func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := newLogger(stderr, "async.log")
	defer closeLog()

	db, err := openPool(ctx, dbPath)
	if err != nil {
		logger.Error("Connection error: " + err.Error())
		return err
	}
	defer db.Close()
	logger.Info("Opened connection pool to " + dbPath)

	ids, err := userIDs(ctx, db)
	if err != nil {
		return advise(ctx, db, dbPath, err, "id")
	}
	if setup, where := goRun("00-setup"); len(ids) == 0 {
		return fmt.Errorf("the users table in %s has no rows: add the guide's users with %s -db %s%s", dbPath, setup, dbPath, where)
	}
	// The same lookups twice: through the one pool, then as the guide does.
	lookups := slices.Repeat(ids, rounds)
	pooled, err := lookUpAll(lookups, func(id int64) (*User, error) { return findUser(ctx, db, id) })
	if err != nil {
		return advise(ctx, db, dbPath, err, "id", "name", "email", "age")
	}
	fmt.Fprintf(stdout, "One pool: %d lookups from %d goroutines at once, through at most %d connections (SetMaxOpenConns)\n"+
		"  connections closed and opened again: %d (SetMaxIdleConns)\n", len(lookups), goroutines, maxOpenConns, db.Stats().MaxIdleClosed)
	if _, err := lookUpAll(lookups, func(id int64) (*User, error) { return findUserNewPool(ctx, dbPath, id) }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "A new connection per lookup, as async_pooled_query does: %d connections opened and closed\n", len(lookups))
	for _, u := range pooled[:len(ids)] {
		fmt.Fprintln(stdout, u)
	}
	missing := slices.Max(ids) + 1
	u, err := findUser(ctx, db, missing)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "User %d: %v (Scan returned sql.ErrNoRows; Python's fetchone() returns None)\n", missing, u)
	return nil
}

// openPool opens the pool and proves with PingContext that the database is
// there: sql.Open connects to nothing. mode=rw never creates a file, and
// 5000 ms is the driver's busy timeout anyway, written here to be seen.
func openPool(ctx context.Context, dbPath string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", fileURI(dbPath)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(maxOpenConns)
	// Keep fewer idle than open, and a connection given back beyond that
	// number is closed, and opened again by a later query (MaxIdleClosed).
	db.SetMaxIdleConns(maxOpenConns)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(advise(ctx, db, dbPath, err), db.Close())
	}
	return db, nil
}

// userIDs reads every user's id, in the order SELECT * FROM users gives.
func userIDs(ctx context.Context, db *sql.DB) ([]int64, error) {
	rows, err := db.QueryContext(ctx, "SELECT id FROM users")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// User is one row of users. Age may be NULL, so it is a sql.Null[int64].
type User struct {
	ID          int64
	Name, Email string
	Age         sql.Null[int64]
}

// String prints the user as Python prints the row's tuple: None for NULL.
func (u User) String() string {
	var age any // nil, which prints as None
	if u.Age.Valid {
		age = u.Age.V
	}
	return pyRow{u.ID, u.Name, u.Email, age}.String()
}

// findUser looks one user up and returns nil when there is none, as
// cursor.fetchone() returns None. QueryRowContext borrows a connection from
// the pool, and Scan gives it back.
func findUser(ctx context.Context, db *sql.DB, id int64) (*User, error) {
	var u User
	err := db.QueryRowContext(ctx, "SELECT id, name, email, age FROM users WHERE id = ?", id).
		Scan(&u.ID, &u.Name, &u.Email, &u.Age)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// findUserNewPool is the guide's async_pooled_query in Go: a new pool, and
// so a new connection, for every lookup, closed when the lookup ends.
func findUserNewPool(ctx context.Context, dbPath string, id int64) (*User, error) {
	db, err := openPool(ctx, dbPath)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return findUser(ctx, db, id)
}

// lookUpAll looks every id up from goroutines that run at once. Each one
// writes only its own elements of users and errs, so they need no lock.
func lookUpAll(ids []int64, find func(id int64) (*User, error)) ([]*User, error) {
	users := make([]*User, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := g; i < len(ids); i += goroutines {
				users[i], errs[i] = find(ids[i])
			}
		})
	}
	wg.Wait()
	return users, cmp.Or(errs...)
}
