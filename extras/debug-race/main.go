// Extra debug-race is the first piece of advice of section 6.2 of the guide,
// asyncio.run(main(), debug=True), in Go.
//
// asyncio's debug mode watches the event loop: it warns about a coroutine
// that was never awaited, a callback that blocks the loop too long, and a
// call made from the wrong thread. Go has no event loop to watch. Its
// goroutines run truly at the same time, and the bug they bring is the data
// race: two goroutines use one variable at once, at least one of them
// writing, with no lock or channel between them. The result is wrong now and
// then, or the program crashes, far from the cause.
//
// The race detector finds them. Build with -race, and the program watches
// every memory access as it runs (slower, with more memory) and prints
// "WARNING: DATA RACE" with the stack of both goroutines; go test -race
// fails the test too:
//
//	go run -race ./extras/debug-race
//	go test -race ./extras/debug-race
//
// It sees only the races that happen while it watches, so run it on the
// tests that start goroutines. The program below is correct: each goroutine
// counts users in its own query, and a sync.Mutex guards the slice they all
// add to. The page shows how to break it, and what the detector then says.
//
// The lesson reads one column of the users table, age, of any type.
package main

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"sync"

	"workbook/internal/dbfile"
	"workbook/internal/guidelog"
	"workbook/internal/lesson"
)

// main runs the lesson as a program: lesson.Main reads -db, turns Ctrl-C
// into a cancelled ctx, and prints run's error as one line.
func main() { lesson.Main("extras/debug-race", run) }

// ages are the ages to count users above, one goroutine each.
var ages = []int{20, 30, 40, 50}

// count is the answer of one goroutine.
type count struct{ age, users int }

// run counts the users older than each of ages, one goroutine per age, and
// prints the counts.
func run(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
	logger, closeLog := guidelog.New(stderr, "debugging.log")
	defer closeLog()
	// mode=rw never creates a file; 5000 ms is the driver's busy timeout
	// anyway, written here to be seen.
	db, err := sql.Open("sqlite3", dbfile.URI(dbPath)+"?mode=rw&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer db.Close()
	// sql.Open connects to nothing: PingContext proves the file is there.
	if err := db.PingContext(ctx); err != nil {
		err = dbfile.Explain(ctx, db, dbPath, err)
		logger.Error("Connection error: " + err.Error())
		return err
	}
	logger.Info("Opened connection to " + dbPath)
	logger.Info(fmt.Sprintf("Built with the race detector: %t", builtWithRace()))

	counts, err := countOlderThan(ctx, db, ages)
	if err != nil {
		return dbfile.Explain(ctx, db, dbPath, err, "age")
	}
	for _, c := range counts {
		fmt.Fprintf(stdout, "Users older than %d: %d\n", c.age, c.users)
	}
	fmt.Fprintln(stdout, "Look for data races with: go test -race ./extras/debug-race")
	return nil
}

// countOlderThan counts the users older than each age, one goroutine per
// age, all at once. Every goroutine adds its answer to the same results.
func countOlderThan(ctx context.Context, db *sql.DB, ages []int) ([]count, error) {
	var r results
	var wg sync.WaitGroup
	for _, age := range ages {
		wg.Go(func() {
			var n int
			err := db.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE age > ?", age).Scan(&n)
			r.add(count{age, n}, err)
		})
	}
	// wg.Wait returns when every goroutine has finished, and only then are
	// the results read. They finish in any order, so the answer is sorted.
	wg.Wait()
	slices.SortFunc(r.counts, func(a, b count) int { return a.age - b.age })
	return r.counts, cmp.Or(r.errs...) // the first error, if any
}

// results collects the goroutines' answers. Its mutex makes them take
// turns: append reads and writes the slice, and two at once lose one.
type results struct {
	mu     sync.Mutex
	counts []count
	errs   []error
}

// add records one goroutine's answer. The deferred Unlock lets the next
// goroutine in however add returns.
func (r *results) add(c count, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts = append(r.counts, c)
	r.errs = append(r.errs, err)
}

// builtWithRace reports whether this program was built with -race, as its
// build information records.
func builtWithRace() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
