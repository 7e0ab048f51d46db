//go:build cgo

package main

// Benchmarks for the lesson's speed claims, on a database of 100,000
// synthetic users made by 00-setup -users. Run them with
//
//	go test -run '^$' -bench . ./3-concurrent

import (
	"bufio"
	"context"
	"database/sql"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

const benchUsers = 100_000

// benchDB is the benchmarks' database, made once per test binary in the
// scratch folder of TestMain.
var benchDB struct {
	once sync.Once
	path string
	err  error
}

// openBenchDatabase opens the benchmarks' database, making it first if
// needed, and closes it when the benchmark ends.
func openBenchDatabase(b *testing.B) *sql.DB {
	b.Helper()
	benchDB.once.Do(func() {
		benchDB.path, benchDB.err = filepath.Abs("bench-users.db")
		if benchDB.err == nil {
			benchDB.err = exec.Command(setupProgram, "-db", benchDB.path, "-users", strconv.Itoa(benchUsers)).Run()
		}
	})
	if benchDB.err != nil {
		b.Fatal(benchDB.err)
	}
	db, err := openDatabase(context.Background(), benchDB.path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// BenchmarkFetchConcurrently runs the lesson's two fetches at once, and
// BenchmarkFetchOneAfterTheOther runs the same two in turn. Both are work for
// the CPU inside SQLite and the driver: the two overlap only where there is a
// second core to run on.
func BenchmarkFetchConcurrently(b *testing.B) {
	db := openBenchDatabase(b)
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := fetchConcurrently(ctx, db, discardLogger()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFetchOneAfterTheOther(b *testing.B) {
	db := openBenchDatabase(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := asyncFetchUsers(ctx, db, discardLogger()); err != nil {
			b.Fatal(err)
		}
		if _, err := asyncFetchOlderUsers(ctx, db, discardLogger(), 40); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFetchPerRow reads every user and reports the cost of one row:
// SQLite reading the rows by itself, then adding one step at a time:
// stepping through the rows with database/sql and the driver, scanning each
// into a User, keeping them all in a slice, and printing them the lesson's
// way.
func BenchmarkFetchPerRow(b *testing.B) {
	const query = "SELECT id, name, email, age FROM users"
	ctx := context.Background()

	// SQLite alone reads every column of every row but hands one row, a
	// sum, to Go: the floor under the steps below.
	b.Run("SQLite alone", func(b *testing.B) {
		db := openBenchDatabase(b)
		for b.Loop() {
			var sum int64
			if err := db.QueryRow("SELECT sum(id + length(name) + length(email) + age) FROM users").Scan(&sum); err != nil {
				b.Fatal(err)
			}
		}
		reportPerRow(b)
	})
	b.Run("step", func(b *testing.B) {
		db := openBenchDatabase(b)
		for b.Loop() {
			eachRow(b, db, query, func(*sql.Rows) {})
		}
		reportPerRow(b)
	})
	b.Run("step+scan", func(b *testing.B) {
		db := openBenchDatabase(b)
		for b.Loop() {
			eachRow(b, db, query, func(rows *sql.Rows) {
				var u User
				if err := rows.Scan(&u.ID, &u.Name, &u.Email, &u.Age); err != nil {
					b.Fatal(err)
				}
			})
		}
		reportPerRow(b)
	})
	b.Run("step+scan+keep", func(b *testing.B) {
		db := openBenchDatabase(b)
		for b.Loop() {
			if _, err := asyncFetchUsers(ctx, db, discardLogger()); err != nil {
				b.Fatal(err)
			}
		}
		reportPerRow(b)
	})
	b.Run("step+scan+keep+print", func(b *testing.B) {
		db := openBenchDatabase(b)
		for b.Loop() {
			users, err := asyncFetchUsers(ctx, db, discardLogger())
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriterSize(io.Discard, 64<<10)
			writeUsers(w, users)
			w.Flush()
		}
		reportPerRow(b)
	})
}

// eachRow runs query and calls fn for every row.
func eachRow(b *testing.B, db *sql.DB, query string, fn func(*sql.Rows)) {
	b.Helper()
	rows, err := db.Query(query)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		fn(rows)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
}

// reportPerRow adds the time per row to a benchmark that reads every user
// once per iteration.
func reportPerRow(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(benchUsers+3), "ns/row")
}
