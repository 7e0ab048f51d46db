package syntheticusers

// Benchmarks for inserting many users, each reporting the time per row. Run
// them with
//
//	go test -run '^$' -bench . ./internal/syntheticusers

import (
	"context"
	"database/sql"
	"testing"
)

// BenchmarkInsertUsers inserts b.N synthetic users into the guide's table:
// four ways from Go, from the slowest to the one Add uses, and SQLite
// making the same users by itself.
func BenchmarkInsertUsers(b *testing.B) {
	ctx := context.Background()

	// Without a transaction every INSERT is a transaction of its own, and
	// each commit waits for the disk.
	b.Run("autocommit, one row per statement", func(b *testing.B) {
		db := openGuideUsers(b)
		stmt, err := db.PrepareContext(ctx, multiRowInsert(1))
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		for i := 1; b.Loop(); i++ {
			if _, err := stmt.ExecContext(ctx, name(i), email(i), age(i)); err != nil {
				b.Fatal(err)
			}
		}
	})

	// One transaction, one commit; still one statement run per row.
	b.Run("one transaction, one row per statement", func(b *testing.B) {
		benchOneRowPerStatement(b, multiRowInsert(1))
	})

	// The same with 00-setup's INSERT of a sample user, whose NOT EXISTS
	// looks the email up before the UNIQUE index does it again.
	b.Run("one transaction, one row per statement, with NOT EXISTS", func(b *testing.B) {
		benchOneRowPerStatement(b, insertUnlessThere)
	})

	// One transaction and 100 rows per statement: what Add does.
	b.Run("one transaction, 100 rows per statement", func(b *testing.B) {
		db := openGuideUsers(b)
		inTransaction(b, db, func(tx *sql.Tx) {
			b.ResetTimer()
			if err := Add(ctx, tx, b.N); err != nil {
				b.Fatal(err)
			}
		})
	})

	// SQLite alone, in the same build of SQLite: one statement makes the
	// same users inside SQLite, with no value crossing from Go. This is the
	// floor the other ways are measured against.
	b.Run("SQLite alone, one INSERT from a recursive CTE", func(b *testing.B) {
		db := openGuideUsers(b)
		inTransaction(b, db, func(tx *sql.Tx) {
			b.ResetTimer()
			if _, err := tx.ExecContext(ctx, insertInSQLite, b.N); err != nil {
				b.Fatal(err)
			}
		})
	})
}

// insertUnlessThere adds a user unless a row has that email, as 00-setup
// adds its sample users.
const insertUnlessThere = `INSERT INTO users (name, email, age)
SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM users WHERE email = ?2)`

// insertInSQLite makes users 1 to ? as Add does, in SQL.
const insertInSQLite = `INSERT OR IGNORE INTO users (name, email, age)
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
SELECT 'User ' || i, printf('user%07d@example.com', i), 18 + i * 37 % 70 FROM seq`

// benchOneRowPerStatement inserts b.N users in one transaction, with insert
// prepared once and run once per user.
func benchOneRowPerStatement(b *testing.B, insert string) {
	ctx := context.Background()
	db := openGuideUsers(b)
	inTransaction(b, db, func(tx *sql.Tx) {
		stmt, err := tx.PrepareContext(ctx, insert)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for i := 1; i <= b.N; i++ {
			if _, err := stmt.ExecContext(ctx, name(i), email(i), age(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// inTransaction runs fn in a transaction and commits it. fn resets the
// timer once its setup is done, so the timing covers the inserts and the
// commit.
func inTransaction(b *testing.B, db *sql.DB, fn func(*sql.Tx)) {
	b.Helper()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	fn(tx)
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}
