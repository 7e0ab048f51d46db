// Package syntheticusers adds made-up users to the guide's users table, for
// trying the lessons on a large table. It gives 00-setup its -users flag:
//
//	var extraUsers = syntheticusers.Flag()
//	...
//	err := syntheticusers.Add(ctx, tx, *extraUsers)
//
// User i is always the same: "User i", useri@example.com with i padded to
// seven digits, and an age from 18 to 87. So a rerun, or another run at
// the same time, adds each user once.
package syntheticusers

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// Flag defines -users on flag.CommandLine and returns the number it holds:
// 0 unless -users is given. A value that is not a whole number of 0 or
// more is refused when the flags are parsed.
func Flag() *int {
	return define(flag.CommandLine)
}

// define defines -users on flags.
func define(flags *flag.FlagSet) *int {
	n := new(int)
	flags.Func("users", "add `N` synthetic users to the three samples, for tests at scale", func(s string) error {
		value, err := strconv.Atoi(s)
		switch {
		case err != nil:
			return errors.New("not a whole number")
		case value < 0:
			return errors.New("give 0 or more users")
		}
		*n = value
		return nil
	})
	return n
}

// insertUsers adds users unless one with the same email is there. ON
// CONFLICT(email) needs the guide's UNIQUE on email: its index finds an
// email among a million at once, where a NOT EXISTS without that index
// would read the whole table for each user.
const (
	insertUsers = `INSERT INTO users (name, email, age) VALUES (?, ?, ?)`
	onConflict  = ` ON CONFLICT (email) DO NOTHING`
)

// usersPerInsert is how many users one INSERT statement carries. Running a
// statement has a cost of its own, in database/sql and in SQLite, besides
// the cost of each value; 100 rows per statement pay it 100 times less
// often. The 300 placeholders stay far below SQLite's limit of 32,766.
const usersPerInsert = 100

// Add inserts users 1 to n inside tx, each unless its email is there
// already. It needs the guide's users table, whose email is UNIQUE.
func Add(ctx context.Context, tx *sql.Tx, n int) error {
	if n <= 0 {
		return nil
	}
	batch := min(n, usersPerInsert)
	stmt, err := tx.PrepareContext(ctx, multiRowInsert(batch))
	if err != nil {
		return fmt.Errorf("-users needs the guide's users table, whose email is UNIQUE, to add each synthetic user once: %w", err)
	}
	// Commit or Rollback closes a statement prepared on tx; closing it here
	// as well frees it as soon as the users are in.
	defer stmt.Close()
	args := make([]any, 0, 3*batch)
	for i := 1; i <= n; i++ {
		args = append(args, name(i), email(i), age(i))
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

// multiRowInsert returns an INSERT of rows users. The SQL is built from a
// count, never from a value: every value is still a placeholder.
func multiRowInsert(rows int) string {
	return insertUsers + strings.Repeat(", (?, ?, ?)", rows-1) + onConflict
}

// name is user i's name: "User 1".
func name(i int) string { return "User " + strconv.Itoa(i) }

// email is user i's email: user0000001@example.com. The number is padded
// to seven digits, so that the emails come in sorted order and the UNIQUE
// index on email grows at its end instead of being split in the middle for
// every new row. (fmt.Sprintf("%07d") would say the same; at a million
// users its cost shows.)
func email(i int) string {
	digits := strconv.Itoa(i)
	if pad := 7 - len(digits); pad > 0 {
		digits = "0000000"[:pad] + digits
	}
	return "user" + digits + "@example.com"
}

// age is user i's age, from 18 to 87: 37 and 70 share no factor, so
// i*37 % 70 takes every value from 0 to 69 in turn.
func age(i int) int { return 18 + i*37%70 }
