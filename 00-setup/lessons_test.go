//go:build cgo

package main

// These tests run every program of the workbook from the command line, as a
// learner would, and break each one in the same ways on purpose. They live
// beside 00-setup because every program needs the database it makes.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// lessons are the programs that open the database 00-setup made.
var lessons = []string{
	"0-databaseconnection",
	"1-execute",
	"3-concurrent",
	"extras/transactional-connection",
	"extras/transactional-query",
	"extras/async-connection",
	"extras/nested",
	"extras/async-query",
	"extras/pooling",
	"extras/debugging",
}

func TestEveryLessonFailsSafelyOnBadInput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every lesson")
	}
	bin := buildLessons(t, "CGO_ENABLED=1")
	notes := []byte("these are my notes, not a database\n")

	for _, lesson := range lessons {
		program := filepath.Join(bin, path.Base(lesson))
		t.Run(lesson, func(t *testing.T) {
			tests := []struct {
				name       string
				args       []string
				wantStatus int
				wantStderr string // in the first line for a usage error, in the last otherwise
			}{
				{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined: -nope"},
				{"extra argument", []string{"users.db"}, 2, `unexpected argument "users.db"`},
				{"missing database", []string{"-db", "missing.db"}, 1, "go run ./00-setup -db missing.db"},
				{"not a database", []string{"-db", "notes.txt"}, 1, "notes.txt is not an SQLite database"},
				{"a folder", []string{"-db", "."}, 1, ". is a folder, not a database file"},
				{"missing folder", []string{"-db", "nowhere/users.db"}, 1, "there is no folder nowhere"},
				{"empty path", []string{"-db", ""}, 2, "the -db path is empty"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dir := t.TempDir()
					if err := os.WriteFile(filepath.Join(dir, "notes.txt"), notes, 0o644); err != nil {
						t.Fatal(err)
					}
					stdout, stderr, status := runProgram(t, dir, program, tt.args...)
					if status != tt.wantStatus {
						t.Fatalf("exit status %d, want %d\nstderr: %s", status, tt.wantStatus, stderr)
					}
					lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
					line := lines[len(lines)-1]
					if tt.wantStatus == 2 {
						line = lines[0]
					}
					if !strings.Contains(line, tt.wantStderr) {
						t.Errorf("stderr line %q does not contain %q\nstderr: %s", line, tt.wantStderr, stderr)
					}
					assertNoStackTrace(t, stderr)
					if stdout != "" {
						t.Errorf("stdout = %q, want nothing", stdout)
					}
					// Nothing created or changed: the notes are as they were,
					// and no database appeared. A log file may appear, as
					// the guide's logging creates one.
					if got, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); !bytes.Equal(got, notes) {
						t.Errorf("notes.txt changed to %q", got)
					}
					entries, _ := os.ReadDir(dir)
					for _, e := range entries {
						if e.Name() != "notes.txt" && filepath.Ext(e.Name()) != ".log" {
							t.Errorf("%s was created", e.Name())
						}
					}
				})
			}
		})
	}
}

func TestEveryLessonSaysItNeedsCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every lesson")
	}
	bin := buildLessons(t, "CGO_ENABLED=0")
	for _, lesson := range append([]string{"00-setup"}, lessons...) {
		t.Run(lesson, func(t *testing.T) {
			dir := t.TempDir()
			_, stderr, status := runProgram(t, dir, filepath.Join(bin, path.Base(lesson)))
			want := lesson + " needs cgo because the SQLite driver is C code: install a C compiler (gcc) and run it with CGO_ENABLED=1\n"
			if status != 1 || stderr != want {
				t.Errorf("exit status %d, stderr %q; want 1 and %q", status, stderr, want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("%d files created, want none", len(entries))
			}
		})
	}
}

func TestEveryLessonCarriesOnWithoutItsLogFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every lesson")
	}
	bin := buildLessons(t, "CGO_ENABLED=1")
	for _, lesson := range lessons {
		t.Run(lesson, func(t *testing.T) {
			dir := t.TempDir()
			if _, stderr, status := runProgram(t, dir, setupProgram); status != 0 {
				t.Fatalf("00-setup: status %d\n%s", status, stderr)
			}
			// A folder in the place of each log file makes opening it fail.
			for _, name := range []string{"connection.log", "query.log", "async.log", "debugging.log"} {
				if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			stdout, stderr, status := runProgram(t, dir, filepath.Join(bin, path.Base(lesson)))
			if status != 0 {
				t.Fatalf("exit status %d, want 0\nstderr: %s", status, stderr)
			}
			if got := strings.Count(stderr, "warning: "); got != 1 {
				t.Errorf("%d warnings, want 1\nstderr: %s", got, stderr)
			}
			if stdout == "" {
				t.Error("the lesson printed nothing")
			}
		})
	}
}

func TestEveryLessonRunsTwiceAndTheExtrasLeaveTheCoreAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every lesson")
	}
	bin := buildLessons(t, "CGO_ENABLED=1")
	dir := t.TempDir()
	if _, stderr, status := runProgram(t, dir, setupProgram); status != 0 {
		t.Fatalf("00-setup: status %d\n%s", status, stderr)
	}
	// runTwice runs a lesson twice in dir and returns its stdout, which
	// must be the same both times.
	runTwice := func(lesson string) string {
		t.Helper()
		var outputs [2]string
		for i := range outputs {
			stdout, stderr, status := runProgram(t, dir, filepath.Join(bin, path.Base(lesson)))
			if status != 0 {
				t.Fatalf("%s, run %d: exit status %d\nstderr: %s", lesson, i+1, status, stderr)
			}
			outputs[i] = stdout
		}
		if outputs[0] != outputs[1] {
			t.Errorf("%s printed differently the second time:\n%s\nthen:\n%s", lesson, outputs[0], outputs[1])
		}
		return outputs[0]
	}

	core := lessons[:3] // 0-databaseconnection, 1-execute and 3-concurrent
	before := map[string]string{}
	for _, lesson := range core {
		before[lesson] = runTwice(lesson)
	}
	for _, lesson := range lessons[3:] {
		runTwice(lesson)
	}
	for _, lesson := range core {
		if after := runTwice(lesson); after != before[lesson] {
			t.Errorf("%s prints differently after the extras ran:\n%s\nbefore:\n%s", lesson, after, before[lesson])
		}
	}
}

// pythonQueries prints what the guide's three Python programs print on
// stdout, with Python's own sqlite3 module. aiosqlite, which 3-concurrent.py
// uses, returns the same tuples, so its queries run here through sqlite3.
const pythonQueries = `
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
for user in conn.execute("SELECT * FROM users").fetchall():
    print(user)
print("--")
for user in conn.execute("SELECT * FROM users WHERE age > ?", (25,)).fetchall():
    print(user)
print("--")
print("All users:")
for user in conn.execute("SELECT * FROM users").fetchall():
    print(user)
print("\nUsers older than 40:")
for user in conn.execute("SELECT * FROM users WHERE age > ?", (40,)).fetchall():
    print(user)
conn.close()
`

func TestPythonPrintsTheSameRows(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every lesson")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed")
	}
	bin := buildLessons(t, "CGO_ENABLED=1")
	dir := t.TempDir()
	// Synthetic users too, so that more than the three samples are compared.
	if _, stderr, status := runProgram(t, dir, setupProgram, "-users", "500"); status != 0 {
		t.Fatalf("00-setup: status %d\n%s", status, stderr)
	}
	want, stderr, status := runProgram(t, dir, python, "-c", pythonQueries, "users.db")
	if status != 0 {
		t.Fatalf("python3: status %d\n%s", status, stderr)
	}
	var got []string
	for _, lesson := range lessons[:3] {
		stdout, stderr, status := runProgram(t, dir, filepath.Join(bin, lesson))
		if status != 0 {
			t.Fatalf("%s: status %d\n%s", lesson, status, stderr)
		}
		got = append(got, stdout)
	}
	if strings.Join(got, "--\n") != want {
		t.Errorf("the lessons print\n%s\nPython prints\n%s", strings.Join(got, "--\n"), want)
	}
}

func TestManyProgramsAtOnceOnOneFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 12 programs at once")
	}
	bin := buildLessons(t, "CGO_ENABLED=1")
	dir := t.TempDir()
	if _, stderr, status := runProgram(t, dir, setupProgram); status != 0 {
		t.Fatalf("00-setup: status %d\n%s", status, stderr)
	}

	// Six writers adding the same 3,000 users and six readers fetching
	// everything, all started together on one file.
	var cmds []*exec.Cmd
	for range 6 {
		cmds = append(cmds,
			exec.Command(filepath.Join(bin, "00-setup"), "-users", "3000"),
			exec.Command(filepath.Join(bin, "3-concurrent")))
	}
	outputs := make([]bytes.Buffer, len(cmds))
	for i, cmd := range cmds {
		cmd.Dir = dir
		cmd.Stderr = &outputs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s: %v\n%s", filepath.Base(cmd.Path), err, outputs[i].String())
		}
	}

	db := openForTest(t, filepath.Join(dir, "users.db"))
	if got := countUsers(t, db); got != 3003 {
		t.Errorf("%d users, want 3003", got)
	}
	if got := queryStrings(t, db, "PRAGMA integrity_check"); strings.Join(got, "\n") != "ok" {
		t.Errorf("integrity_check: %q, want ok", got)
	}
}

// built holds the folders that buildLessons has filled, by environment.
var built sync.Map

// buildLessons builds every lesson once per test binary, with env added to
// the build's environment, and returns the folder that holds the programs.
func buildLessons(t *testing.T, env string) string {
	t.Helper()
	type result struct {
		once sync.Once
		bin  string
		err  error
	}
	r, _ := built.LoadOrStore(env, &result{})
	res := r.(*result)
	res.once.Do(func() {
		// The scratch folder of TestMain is the working directory.
		res.bin, res.err = filepath.Abs(strings.ReplaceAll(env, "=", "-"))
		if res.err != nil {
			return
		}
		args := []string{"build", "-o", res.bin + string(filepath.Separator)}
		for _, lesson := range append([]string{"00-setup"}, lessons...) {
			args = append(args, "./"+lesson)
		}
		build := exec.Command("go", args...)
		build.Dir = filepath.Dir(sourceDir)
		build.Env = append(os.Environ(), env)
		if out, err := build.CombinedOutput(); err != nil {
			res.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if res.err != nil {
		t.Fatal(res.err)
	}
	return res.bin
}

// runProgram runs program in dir with no input and returns what it printed
// and its exit status.
func runProgram(t *testing.T, dir, program string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(program, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		status = exitErr.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), status
}

// assertNoStackTrace checks that a program's stderr holds no sign of a Go
// panic or stack trace.
func assertNoStackTrace(t *testing.T, stderr string) {
	t.Helper()
	for _, trace := range []string{"goroutine ", "panic:", ".go:"} {
		if strings.Contains(stderr, trace) {
			t.Errorf("stderr holds %q, a sign of a stack trace:\n%s", trace, stderr)
		}
	}
}
