//go:build cgo

package main

// Benchmarks for the figures on the lesson's page ("At scale"), on 100,000
// users made as 00-setup -users makes them. Run them from the top folder:
//
//	go test -run '^$' -bench . ./3-concurrent
//
// The lesson itself stays plain. The tricks that a program printing a
// million rows might use, the count(*) before the query and printing with
// AvailableBuffer, are measured here only, to show what each one buys.

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"path/filepath"
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

// openBenchDatabase opens the benchmarks' database as the lesson does,
// making it first if needed, and closes it when the benchmark ends.
func openBenchDatabase(b *testing.B) (*sql.DB, string) {
	b.Helper()
	benchDB.once.Do(func() {
		benchDB.path = filepath.Join(scratchDir, "bench-users.db")
		db, err := sql.Open("sqlite3", fileURI(benchDB.path)+"?mode=rwc")
		if err != nil {
			benchDB.err = err
			return
		}
		defer db.Close()
		for _, stmt := range append(guideUsers, fmt.Sprintf(`INSERT INTO users (name, email, age)
			WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %d)
			SELECT 'User ' || i, printf('user%%07d@example.com', i), 18 + i * 37 %% 70 FROM seq`, benchUsers)) {
			if _, err := db.Exec(stmt); err != nil {
				benchDB.err = err
				return
			}
		}
	})
	if benchDB.err != nil {
		b.Fatal(benchDB.err)
	}
	db, err := sql.Open("sqlite3", fileURI(benchDB.path)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db, benchDB.path
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
		if _, _, err := fetchConcurrently(context.Background(), db, discard()); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFetchOneAfterTheOther(b *testing.B) {
	db, _ := openBenchDatabase(b)
	ctx := context.Background()
	for b.Loop() {
		if _, err := asyncFetchUsers(ctx, db, discard()); err != nil {
			b.Fatal(err)
		}
		if _, err := asyncFetchOlderUsers(ctx, db, discard(), 40); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFetchPerRow reads every user and reports the cost of one row,
// from SQLite alone up to the lesson's fetch, one step at a time, and then
// what the two tricks do.
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
	// Scan into variables of the column's types, as a program that knows
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
	// scanRow, as the lesson does: any columns, each value in an any.
	b.Run("step+scanRow", func(b *testing.B) {
		for b.Loop() {
			eachRow(b, db, query, func(rows *sql.Rows) error {
				_, err := scanRow(rows)
				return err
			})
		}
		reportPerRow(b)
	})
	// The lesson's fetchAll: queryAsStored, scanRow and append.
	b.Run("fetchAll", func(b *testing.B) {
		for b.Loop() {
			if _, err := fetchAll(ctx, db, query); err != nil {
				b.Fatal(err)
			}
		}
		reportPerRow(b)
	})
	// The first trick: count the rows first, so that the slice is made
	// once at its size instead of grown step by step.
	b.Run("fetchAll after count(*)", func(b *testing.B) {
		for b.Loop() {
			var n int
			if err := db.QueryRowContext(ctx, "SELECT count(*) FROM users").Scan(&n); err != nil {
				b.Fatal(err)
			}
			users := make([]pyRow, 0, n)
			eachRow(b, db, query, func(rows *sql.Rows) error {
				user, err := scanRow(rows)
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
	// Printing as the lesson does: fmt.Fprintln calls pyRow's String.
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
	// The second trick: build each line in the writer's own free space
	// (AvailableBuffer), with no string made per row.
	b.Run("print AvailableBuffer", func(b *testing.B) {
		for b.Loop() {
			w := bufio.NewWriterSize(io.Discard, 64<<10)
			for _, user := range users {
				line := append(w.AvailableBuffer(), '(')
				for i, v := range user {
					if i > 0 {
						line = append(line, ", "...)
					}
					line = appendRepr(line, v)
				}
				w.Write(append(line, ")\n"...))
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
