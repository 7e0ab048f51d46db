//go:build cgo

package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The lesson on the guide's users.db, which TestMain made in the folder
// where the tests run. It prints the same with and without -race; the log
// lines, which say which, go to stderr, discarded here.
func Example() {
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Users older than 20: 3
	// Users older than 30: 1
	// Users older than 40: 1
	// Users older than 50: 0
	// Look for data races with: go test -race ./extras/debug-race
}

func TestPageShowsTheOutput(t *testing.T) {
	t.Chdir(t.TempDir())
	var stdout, stderr bytes.Buffer
	path := newUsersDB(t, guideUsers...)
	if err := run(context.Background(), path, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	want := []string{"INFO - Opened connection to " + path, fmt.Sprintf("INFO - Built with the race detector: %t", raceBuild)}
	if got := logMessages(t, stderr.String()); !slices.Equal(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}
	t.Chdir(lessonFolder)
	assertPageShows(t, strings.TrimSuffix(stdout.String(), "\n"))
}

func TestBuiltWithRaceMatchesTheBuild(t *testing.T) {
	if got := builtWithRace(); got != raceBuild {
		t.Errorf("builtWithRace() = %t, want %t", got, raceBuild)
	}
}

// TestCountOlderThan is the test to run with -race: its goroutines are the
// ones the race detector watches.
func TestCountOlderThan(t *testing.T) {
	db, err := sql.Open("sqlite3", fileURI(newUsersDB(t, guideUsers...))+"?mode=rw")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close(); assertNothingOpen(t, db) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type result struct {
		counts []count
		err    error
	}
	done := make(chan result, 1)
	go func() {
		counts, err := countOlderThan(ctx, db, ages)
		done <- result{counts, err}
	}()
	select {
	case r := <-done:
		want := []count{{20, 3}, {30, 1}, {40, 1}, {50, 0}}
		if r.err != nil || !slices.Equal(r.counts, want) {
			t.Errorf("countOlderThan = %v, %v; want %v", r.counts, r.err, want)
		}
	case <-ctx.Done():
		t.Fatal("countOlderThan did not return within 10 s: its goroutines are stuck")
	}
}

func TestFailures(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, path, want string }{
		{"no such file", filepath.Join(dir, "missing.db"), "there is no such file; create it with: go run ./00-setup"},
		{"no age column", newUsersDB(t, "CREATE TABLE users (id INTEGER, name TEXT)"), "has no age column: its columns are id, name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.path, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("run error = %v, want one line with %q", err, tc.want)
			}
			if strings.Contains(stderr.String(), "Opened") != (tc.name != "no such file") {
				t.Errorf("log = %q: Opened only once PingContext succeeded", stderr.String())
			}
			if entries, _ := os.ReadDir(dir); stdout.Len() != 0 || len(entries) != 0 {
				t.Errorf("printed %q and left %d entries in %s, want nothing", stdout.String(), len(entries), dir)
			}
		})
	}
}

// The page's "Try it" experiments.

func TestExperimentNoLock(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "\tr.mu.Lock()\n\tdefer r.mu.Unlock()\n", new: "",
		command: "go test -race -run TestCountOlderThan ./extras/debug-race",
		want:    []string{"WARNING: DATA RACE", "race detected during execution of test"}, fails: true,
	})
}

func TestExperimentNoUnlock(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file: "main.go", old: "\tdefer r.mu.Unlock()\n", new: "",
		command: "go test -run TestCountOlderThan ./extras/debug-race",
		want:    []string{"countOlderThan did not return within 10 s: its goroutines are stuck"}, fails: true,
	})
}

func TestExperimentReadBeforeWait(t *testing.T) {
	t.Chdir(lessonFolder)
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "\twg.Wait()\n\tslices.SortFunc(r.counts, func(a, b count) int { return a.age - b.age })\n",
		new:     "\tslices.SortFunc(r.counts, func(a, b count) int { return a.age - b.age })\n\twg.Wait()\n",
		command: "go test -race -run TestCountOlderThan ./extras/debug-race",
		want:    []string{"WARNING: DATA RACE"}, fails: true,
	})
}

// TestMain runs the tests and the example in a new folder holding the
// guide's users.db, as a learner's folder would, so that the log file lands
// there and not in the source tree.
func TestMain(m *testing.M) { os.Exit(runInScratchFolder(m)) }

// pageCitations are the lines of main.go that README.md cites by number.
var pageCitations = []citation{
	{"`countOlderThan` (main.go lines 77 to 92)", 77, "func countOlderThan("},
	{"`countOlderThan` (main.go lines 77 to 92)", 92, "}"},
	{"`wg.Go(func() {` (line 81)", 81, "wg.Go(func() {"},
	{"`r.mu.Lock()` and `defer r.mu.Unlock()` (lines 103 and 104)", 103, "r.mu.Lock()"},
	{"`r.mu.Lock()` and `defer r.mu.Unlock()` (lines 103 and 104)", 104, "defer r.mu.Unlock()"},
	{"`wg.Wait()` (line 89)", 89, "wg.Wait()"},
}
