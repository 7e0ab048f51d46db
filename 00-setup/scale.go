//go:build cgo

package main

// scale.go adds `-users N` to 00-setup: N synthetic users besides the three
// samples, for trying the lessons on a large table. It is not part of the
// lesson. Its tuning is measured by the benchmarks in bench_test.go.

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
)

// syntheticUsers is the value of -users: 0 unless it is given.
var syntheticUsers int

func init() {
	flag.Func("users", "add `N` synthetic users to the three samples, for tests at scale", func(s string) error {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			return errors.New("not a whole number")
		case n < 0:
			return errors.New("give 0 or more users")
		}
		syntheticUsers = n
		return nil
	})
}

// insertSynthetic adds a user unless one with the same email is there. ON
// CONFLICT(email) needs the guide's UNIQUE on email: its index finds an
// email among a million at once, where the sample users' NOT EXISTS would
// read the whole table for each user.
const insertSynthetic = `INSERT INTO users (name, email, age) VALUES (?, ?, ?)`
const onConflict = ` ON CONFLICT (email) DO NOTHING`

// usersPerInsert is how many users one INSERT statement carries. Running a
// statement has a cost of its own, in database/sql and in SQLite, besides
// the cost of each value; 100 rows per statement pay it 100 times less
// often. The 300 placeholders stay far below SQLite's limit of 32,766.
const usersPerInsert = 100

// addSyntheticUsers inserts users 1 to n, inside tx. The same n always gives
// the same users, so reruns, and runs at the same time, add each one once.
func addSyntheticUsers(ctx context.Context, tx *sql.Tx, n int) error {
	batch := min(n, usersPerInsert)
	stmt, err := tx.PrepareContext(ctx, multiRowInsert(batch))
	if err != nil {
		return fmt.Errorf("-users needs the guide's users table, whose email is UNIQUE, to add each synthetic user once: %w", err)
	}
	args := make([]any, 0, 3*batch)
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

// multiRowInsert returns an INSERT of rows users. The SQL is built from a
// count, never from a value: every value is still a placeholder.
func multiRowInsert(rows int) string {
	return insertSynthetic + strings.Repeat(", (?, ?, ?)", rows-1) + onConflict
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
