package main

// Benchmarks for the figures on the lesson's page ("At scale"), on the
// guide's three users and 100,000 more made as 00-setup -users makes them.
// Run them from the top folder:
//
//	go test -run '^$' -bench . ./3-concurrent
//
// The lesson itself stays plain. The count(*) before the query, a trick
// that a program reading a million rows might use, is measured here only,
// to show what it buys.

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"workbook/internal/dbfile"
	"workbook/internal/pyrow"
	"workbook/internal/syntheticusers"
	"workbook/internal/workbooktest"
)

const benchUsers = 100_000

// benchDatabase makes the benchmarks' database once per test binary, in
// the scratch folder that TestMain runs in, and returns its path.
var benchDatabase = sync.OnceValues(func() (string, error) {
	path, err := filepath.Abs("bench-users.db")
	if err != nil {
		return "", err
	}
	if err := workbooktest.MakeDB(path, workbooktest.GuideUsers...); err != nil {
		return "", err
	}
	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw")
	if err != nil {
		return "", err
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	if err := syntheticusers.Add(context.Background(), tx, benchUsers); err != nil {
		return "", err
	}
	return path, tx.Commit()
})

// openBenchDatabase opens the benchmarks' database as the lesson does, and
// closes it when the benchmark ends.
func openBenchDatabase(b *testing.B) (*sql.DB, string) {
	b.Helper()
	path, err := benchDatabase()
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db, path
}

// BenchmarkRun is the whole lesson, its output thrown away.
func BenchmarkRun(b *testing.B) {
	_, path := openBenchDatabase(b)
	b.Chdir(b.TempDir())
	for b.Loop() {
		w := bufio.NewWriterSize(io.Discard, 64<<10)
		if err := run(context.Background(), path, w, io.Discard); err != nil {
			b.Fatal(err)
		}
		w.Flush()
	}
	reportPerRow(b)
}

// BenchmarkFetchConcurrently runs the lesson's two fetches at once, and
// BenchmarkFetchOneAfterTheOther runs the same two in turn. Both are work
// for the CPU, inside SQLite and the driver: they overlap only where a
// second core is free to run the second.
func BenchmarkFetchConcurrently(b *testing.B) {
	db, _ := openBenchDatabase(b)
	for b.Loop() {
		if _, _, err := fetchConcurrently(context.Background(), db, workbooktest.Discard()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFetchOneAfterTheOther(b *testing.B) {
	db, _ := openBenchDatabase(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := fetchUsers(ctx, db, workbooktest.Discard()); err != nil {
			b.Fatal(err)
		}
		if _, err := fetchOlderUsers(ctx, db, workbooktest.Discard(), 40); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFetchPerRow reads every user and reports the cost of one row,
// from SQLite alone up to the lesson's fetch and its printing, one step at
// a time.
func BenchmarkFetchPerRow(b *testing.B) {
	const query = "SELECT * FROM users"
	ctx := context.Background()
	db, _ := openBenchDatabase(b)

	// SQLite reads every column of every row but hands a single row, a
	// sum, to Go: the floor under everything below.
	b.Run("SQLite alone", func(b *testing.B) {
		for b.Loop() {
			var sum int64
			if err := db.QueryRow("SELECT sum(id + length(name) + length(email) + age) FROM users").Scan(&sum); err != nil {
				b.Fatal(err)
			}
		}
		reportPerRow(b)
	})
	// rows.Next through every row, through database/sql and the driver.
	b.Run("step", func(b *testing.B) {
		for b.Loop() {
			eachRow(b, db, query, func(*sql.Rows) error { return nil })
		}
		reportPerRow(b)
	})
	// Scan into variables of the columns' types, as a program that knows
	// the table's columns does.
	b.Run("step+scan typed", func(b *testing.B) {
		for b.Loop() {
			eachRow(b, db, query, func(rows *sql.Rows) error {
				var id, age int64
				var name, email string
				return rows.Scan(&id, &name, &email, &age)
			})
		}
		reportPerRow(b)
	})
	// pyrow.Scan, as the lesson does: any columns, each value in an any.
	b.Run("step+pyrow.Scan", func(b *testing.B) {
		for b.Loop() {
			eachRow(b, db, query, func(rows *sql.Rows) error {
				_, err := pyrow.Scan(rows)
				return err
			})
		}
		reportPerRow(b)
	})
	// The lesson's fetchAll: pyrow.Query, pyrow.Scan and append.
	b.Run("fetchAll", func(b *testing.B) {
		for b.Loop() {
			if _, err := fetchAll(ctx, db, query); err != nil {
				b.Fatal(err)
			}
		}
		reportPerRow(b)
	})
	// The trick: count the rows first, so that the slice is made once at
	// its size instead of grown step by step.
	b.Run("fetchAll after count(*)", func(b *testing.B) {
		for b.Loop() {
			var n int
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
				b.Fatal(err)
			}
			users := make([]pyrow.Row, 0, n)
			eachRow(b, db, query, func(rows *sql.Rows) error {
				user, err := pyrow.Scan(rows)
				users = append(users, user)
				return err
			})
		}
		reportPerRow(b)
	})

	users, err := fetchAll(ctx, db, query)
	if err != nil {
		b.Fatal(err)
	}
	// Printing as the lesson does: fmt.Fprintln prints each pyrow.Row.
	b.Run("print Fprintln", func(b *testing.B) {
		for b.Loop() {
			w := bufio.NewWriterSize(io.Discard, 64<<10)
			for _, user := range users {
				fmt.Fprintln(w, user)
			}
			w.Flush()
		}
		reportPerRow(b)
	})
}

// eachRow runs query and calls fn on every row.
func eachRow(b *testing.B, db *sql.DB, query string, fn func(*sql.Rows) error) {
	b.Helper()
	rows, err := db.Query(query)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			b.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
}

// reportPerRow adds the time per row to a benchmark that reads or prints
// every user once per iteration.
func reportPerRow(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(benchUsers+3), "ns/row")
}
