//go:build cgo

package main

// These tests build every program of the workbook and run it from the
// command line, as a learner would: on users tables of many shapes against
// what Python prints, with bad input, with Ctrl-C, without cgo. They live
// beside 00-setup, the first lesson, and find the others by their main.go.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// core are the guide's three tasks; every lesson prints as their Python does.
var core = []string{"0-databaseconnection", "1-execute", "3-concurrent"}

// allLessons lists every lesson folder of the workbook, such as "1-execute"
// or "extras/nested": each folder that has a main.go.
func allLessons(t *testing.T) []string {
	t.Helper()
	root := workbookRoot(t)
	var lessons []string
	for _, pattern := range []string{"*/main.go", "extras/*/main.go"} {
		matches, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			rel, _ := filepath.Rel(root, filepath.Dir(m))
			lessons = append(lessons, filepath.ToSlash(rel))
		}
	}
	slices.Sort(lessons)
	return lessons
}

func TestSharedFilesAreTheSameInEveryLesson(t *testing.T) {
	root := workbookRoot(t)
	for _, name := range []string{"workbook.go", "workbook_test.go", "nocgo.go"} {
		want, err := os.ReadFile(filepath.Join(root, "00-setup", name))
		if err != nil {
			t.Fatal(err)
		}
		for _, lesson := range allLessons(t) {
			got, err := os.ReadFile(filepath.Join(root, lesson, name))
			if err != nil {
				t.Errorf("%s: %v (copy it from 00-setup)", lesson, err)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s/%s differs from 00-setup/%s: change them together (cp 00-setup/%s %s/)", lesson, name, name, name, lesson)
			}
		}
	}
}

func TestEveryMainGoIsShortEnoughToReadInOneSitting(t *testing.T) {
	root := workbookRoot(t)
	for _, lesson := range allLessons(t) {
		src, err := os.ReadFile(filepath.Join(root, lesson, "main.go"))
		if err != nil {
			t.Fatal(err)
		}
		limit := 120
		if strings.HasPrefix(lesson, "extras/") {
			limit = 180
		}
		if n := bytes.Count(src, []byte("\n")); n > limit {
			t.Errorf("%s/main.go is %d lines, over the %d that a lesson may have", lesson, n, limit)
		}
		// Errors go back to main as values, so that deferred cleanup runs
		// (a panic that is only passed on, after a rollback, is fine).
		for _, banned := range []string{"log.Fatal", "os.Exit(", `panic("`, "panic(err", "panic(fmt"} {
			if bytes.Contains(src, []byte(banned)) {
				t.Errorf("%s/main.go uses %s: return the error to main instead", lesson, banned)
			}
		}
		// Values go in placeholders, never into the SQL text.
		for _, verb := range []string{"SELECT", "INSERT", "UPDATE", "DELETE"} {
			if bytes.Contains(src, []byte(`Sprintf("`+verb)) || bytes.Contains(src, []byte(`Sprintf("%s`)) {
				t.Errorf("%s/main.go builds SQL with fmt.Sprintf: use ? placeholders", lesson)
			}
		}
	}
}

// builds holds the folders of programs that programs has built, by the
// build's environment, so that each test binary builds every lesson at
// most once per environment; TestMain removes them at the end.
var builds = struct {
	sync.Mutex
	dirs map[string]string
}{dirs: map[string]string{}}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, dir := range builds.dirs {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

// programs builds every lesson, with env added to the build's
// environment, and returns the folder that holds the programs. Each is
// named after its folder's last element, as go build names it.
func programs(t *testing.T, env ...string) string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	key := strings.Join(env, " ")
	if bin, ok := builds.dirs[key]; ok {
		return bin
	}
	bin, err := os.MkdirTemp("", "workbook-programs-")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, lesson := range allLessons(t) {
		args = append(args, "./"+lesson)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", args...)
	build.Dir = workbookRoot(t)
	build.Env = append(os.Environ(), env...)
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(bin)
		t.Fatalf("go build: %v\n%s", err, out)
	}
	builds.dirs[key] = bin
	return bin
}

// runIn runs program in dir with args and no input, and returns what it
// printed and its exit status. It fails the test if the program runs for
// more than a minute.
func runIn(t *testing.T, dir, program string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %s did not finish in a minute", filepath.Base(program), strings.Join(args, " "))
	case errors.As(err, &exitErr):
		status = exitErr.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), status
}

// assertNoStackTrace checks that stderr holds no sign of a Go panic.
func assertNoStackTrace(t *testing.T, stderr string) {
	t.Helper()
	for _, trace := range []string{"goroutine ", "panic:", ".go:"} {
		if strings.Contains(stderr, trace) {
			t.Errorf("stderr holds %q, a sign of a stack trace:\n%s", trace, stderr)
		}
	}
}

// lastLine is the last line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestEveryLessonFromTheCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every lesson")
	}
	bin := programs(t, "CGO_ENABLED=1")
	notes := []byte("these are my notes, not a database\n")
	for _, lesson := range allLessons(t) {
		program := filepath.Join(bin, path.Base(lesson))
		t.Run(lesson, func(t *testing.T) {
			tests := []struct {
				name       string
				args       []string
				wantStatus int
				wantStderr string // in the first line for a usage error, in the last otherwise
			}{
				{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined: -nope"},
				{"the usage line names the lesson", []string{"-nope"}, 2, ""},
				{"extra argument", []string{"users.db"}, 2, `unexpected argument "users.db"`},
				{"empty path", []string{"-db", ""}, 2, "the -db path is empty"},
				{"not a database", []string{"-db", "notes.txt"}, 1, "notes.txt is not an SQLite database"},
				{"a folder", []string{"-db", "."}, 1, ". is a folder, not a database file"},
				{"missing folder", []string{"-db", "nowhere/users.db"}, 1, "there is no folder nowhere"},
			}
			if lesson != "00-setup" {
				tests = append(tests, struct {
					name       string
					args       []string
					wantStatus int
					wantStderr string
				}{"missing database", []string{"-db", "missing.db"}, 1, "create it with: go run ./00-setup -db missing.db (from the workbook's folder)"})
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dir := t.TempDir()
					if err := os.WriteFile(filepath.Join(dir, "notes.txt"), notes, 0o644); err != nil {
						t.Fatal(err)
					}
					stdout, stderr, status := runIn(t, dir, program, tt.args...)
					if status != tt.wantStatus {
						t.Fatalf("exit status %d, want %d\nstderr: %s", status, tt.wantStatus, stderr)
					}
					line := lastLine(stderr)
					if tt.wantStatus == 2 {
						line = strings.Split(stderr, "\n")[0]
					}
					if !strings.Contains(line, tt.wantStderr) {
						t.Errorf("stderr line %q does not contain %q\nstderr: %s", line, tt.wantStderr, stderr)
					}
					if tt.name == "the usage line names the lesson" && !strings.Contains(stderr, "usage: go run ./"+lesson+" [flags]\n") {
						t.Errorf("stderr does not show the usage line of go run ./%s:\n%s", lesson, stderr)
					}
					assertNoStackTrace(t, stderr)
					if stdout != "" {
						t.Errorf("stdout = %q, want nothing", stdout)
					}
					// Nothing created or changed: the notes are as they
					// were and no database appeared. A log file may
					// appear, as the guide's logging creates one.
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

	t.Run("each runs twice on the database 00-setup made, the same both times", func(t *testing.T) {
		dir := t.TempDir()
		if _, stderr, status := runIn(t, dir, filepath.Join(bin, "00-setup")); status != 0 {
			t.Fatalf("00-setup: status %d\n%s", status, stderr)
		}
		before := map[string]string{}
		for _, lesson := range allLessons(t) {
			var outputs [2]string
			for i := range outputs {
				stdout, stderr, status := runIn(t, dir, filepath.Join(bin, path.Base(lesson)))
				if status != 0 {
					t.Fatalf("%s, run %d: exit status %d\nstderr: %s", lesson, i+1, status, stderr)
				}
				outputs[i] = stdout
			}
			if outputs[0] != outputs[1] {
				t.Errorf("%s printed differently the second time:\n%s\nthen:\n%s", lesson, outputs[0], outputs[1])
			}
			before[lesson] = outputs[0]
		}
		// The extras leave the guide's table as the core lessons read it.
		for _, lesson := range core {
			stdout, _, _ := runIn(t, dir, filepath.Join(bin, lesson))
			if stdout != before[lesson] {
				t.Errorf("%s prints differently after the extras ran:\n%s\nbefore:\n%s", lesson, stdout, before[lesson])
			}
		}
	})

	t.Run("each carries on without its log file", func(t *testing.T) {
		for _, lesson := range allLessons(t) {
			if lesson == "00-setup" {
				continue
			}
			t.Run(lesson, func(t *testing.T) {
				dir := t.TempDir()
				if _, stderr, status := runIn(t, dir, filepath.Join(bin, "00-setup")); status != 0 {
					t.Fatalf("00-setup: status %d\n%s", status, stderr)
				}
				// Every log file a lesson could open is a folder instead,
				// so opening it fails.
				src, _ := os.ReadFile(filepath.Join(workbookRoot(t), lesson, "main.go"))
				for _, f := range strings.Fields(string(src)) {
					if name := strings.Trim(f, `"(),`); strings.HasSuffix(name, ".log") {
						os.Mkdir(filepath.Join(dir, name), 0o755)
					}
				}
				stdout, stderr, status := runIn(t, dir, filepath.Join(bin, path.Base(lesson)))
				if status != 0 {
					t.Fatalf("exit status %d, want 0\nstderr: %s", status, stderr)
				}
				if strings.Contains(string(src), ".log\"") && strings.Count(stderr, "warning: logging to stderr only") < 1 {
					t.Errorf("no warning that the log file could not be opened\nstderr: %s", stderr)
				}
				if stdout == "" {
					t.Error("the lesson printed nothing")
				}
			})
		}
	})
}

func TestEveryLessonSaysItNeedsCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every lesson")
	}
	bin := programs(t, "CGO_ENABLED=0")
	for _, lesson := range allLessons(t) {
		t.Run(lesson, func(t *testing.T) {
			dir := t.TempDir()
			_, stderr, status := runIn(t, dir, filepath.Join(bin, path.Base(lesson)))
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

// manyUsers is a users table of n users, made by SQLite itself.
func manyUsers(n int) []string {
	return []string{guideUsers[0], fmt.Sprintf(`WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < %d)
INSERT INTO users (name, email, age) SELECT 'User ' || n, 'user' || n || '@example.com', 18 + n %% 60 FROM i`, n)}
}

func TestCtrlCStopsACoreLessonAndItsDeferredCleanupRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every lesson")
	}
	bin := programs(t, "CGO_ENABLED=1")
	path := newUsersDB(t, manyUsers(200_000)...)
	for _, lesson := range core {
		t.Run(lesson, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(bin, lesson), "-db", path)
			cmd.Dir = t.TempDir()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The first line of output: the lesson is printing, and with
			// nobody reading, it soon waits for the pipe.
			out := bufio.NewReader(stdout)
			if _, err := out.ReadString('\n'); err != nil {
				t.Fatalf("no output: %v\n%s", err, stderr.String())
			}
			if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(out)
			err = cmd.Wait()
			if ctx.Err() != nil {
				t.Fatal("the lesson did not stop within 30 s of Ctrl-C")
			}
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != 130 {
				t.Errorf("exit: %v, want status 130", err)
			}
			log := stderr.String()
			assertNoStackTrace(t, log)
			if want := lesson + ": interrupted; its deferred cleanup ran"; lastLine(log) != want {
				t.Errorf("last line of stderr %q, want %q", lastLine(log), want)
			}
			if lesson != "3-concurrent" && !strings.Contains(log, " - INFO - Closed connection to "+path+"\n") {
				t.Errorf("no close line was logged: the deferred Close did not run\nstderr: %s", log)
			}
			t.Logf("%d more bytes printed after Ctrl-C", len(rest))
		})
	}
}

func TestCtrlCStopsEveryLessonCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every lesson")
	}
	bin := programs(t, "CGO_ENABLED=1")
	for _, lesson := range allLessons(t) {
		t.Run(lesson, func(t *testing.T) {
			dir := t.TempDir()
			if _, stderr, status := runIn(t, dir, filepath.Join(bin, "00-setup")); status != 0 {
				t.Fatalf("00-setup: status %d\n%s", status, stderr)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(bin, path.Base(lesson)))
			cmd.Dir = dir
			var stdout bytes.Buffer
			cmd.Stdout = &stdout
			stderr, err := cmd.StderrPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Ctrl-C after the first line on stderr, or at once for a
			// lesson that logs nothing.
			errOut := bufio.NewReader(stderr)
			first, _ := errOut.ReadString('\n')
			cmd.Process.Signal(syscall.SIGINT)
			rest, _ := io.ReadAll(errOut)
			err = cmd.Wait()
			if ctx.Err() != nil {
				t.Fatal("the lesson did not stop within 30 s of Ctrl-C")
			}
			log := first + string(rest)
			assertNoStackTrace(t, log)
			var exitErr *exec.ExitError
			switch {
			case err == nil:
				// It finished before the signal came.
			case errors.As(err, &exitErr) && exitErr.ExitCode() == 130:
				if want := lesson + ": interrupted; its deferred cleanup ran"; lastLine(log) != want {
					t.Errorf("last line of stderr %q, want %q", lastLine(log), want)
				}
			default:
				t.Errorf("exit: %v, want status 130 or a finished run\nstderr: %s", err, log)
			}
			// The database is left whole and unlocked.
			db := openReadOnly(t, filepath.Join(dir, "users.db"))
			var check string
			if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
				t.Errorf("integrity_check: %q, %v", check, err)
			}
		})
	}
}

// A users table a learner's Python might have made, and what each core
// lesson must do with it: print what Python prints, or fail where Python
// fails with one line that names the cause.
type usersTable struct {
	name  string
	setup []string
	// fails are the core lessons that must fail, with the line's text.
	fails map[string]string
}

var learnersTables = []usersTable{
	{name: "the guide's", setup: guideUsers},
	{name: "extra columns", setup: []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, email TEXT UNIQUE, age INTEGER, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, is_active BOOLEAN DEFAULT 1, password_hash TEXT)`,
		`INSERT INTO users (name, email, age, created_at, is_active, password_hash) VALUES
		('Alice Smith', 'alice@example.com', 30, '2025-07-07 10:58:59', 1, 'pbkdf2:sha256$x'),
		('Finn O''Brien', 'finn@example.com', 52, 'not a date', 0, NULL),
		('Zoë Ng', NULL, 41, 1751885939, 2, x'00ff')`}},
	{name: "a text key and another order", setup: []string{
		`CREATE TABLE users (user_id TEXT PRIMARY KEY, age INTEGER, email TEXT, name TEXT)`,
		`INSERT INTO users VALUES ('u-1', 44, 'a@example.com', 'Tab	Name'), ('u-2', NULL, 'b@example.com', 'Back\slash "quoted"'), ('u-3', 61, NULL, 'both '' and "')`}},
	{name: "NULLs and no UNIQUE", setup: []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, email TEXT, age INTEGER)`,
		`INSERT INTO users (name, email, age) VALUES ('Alice Smith', 'alice.smith@example.com', 30), ('Alice Smith', 'alice.smith@example.com', 30), (NULL, NULL, NULL), ('Bob', 'bob@example.com', 45)`}},
	{name: "ages as REAL, DATE and DATETIME columns", setup: []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, age REAL, born DATE, updated DATETIME)`,
		`INSERT INTO users VALUES (1, 'Ann', 41.5, '1984-02-29', '2025-01-01T00:00:00Z'), (2, 'Ben', 50.0, 19840229, 1.5), (3, 'Cy', 1e16, NULL, 'yesterday'), (9223372036854775807, 'Max', -0.0, 'x', -1)`}},
	{name: "one column", setup: []string{
		`CREATE TABLE users (age INTEGER)`, `INSERT INTO users VALUES (25), (41), (NULL)`}},
	{name: "no rows", setup: []string{guideUsers[0]}},
	{name: "no age column", setup: []string{
		`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)`,
		`INSERT INTO users (name, email) VALUES ('Alice Smith', 'alice.smith@example.com')`},
		fails: map[string]string{
			"1-execute":    "has no age column: its columns are id, name, email",
			"3-concurrent": "has no age column: its columns are id, name, email",
		}},
	{name: "no users table", setup: []string{`CREATE TABLE customers (id INTEGER)`},
		fails: map[string]string{
			"0-databaseconnection": "has no users table: its tables are customers",
			"1-execute":            "has no users table: its tables are customers",
			"3-concurrent":         "has no users table: its tables are customers",
		}},
	{name: "an empty file", setup: nil,
		fails: map[string]string{
			"0-databaseconnection": "is an empty file with no tables",
			"1-execute":            "is an empty file with no tables",
			"3-concurrent":         "is an empty file with no tables",
		}},
}

// pythonLessons are the guide's three tasks in a few lines of Python each,
// printing what the guide's programs print on stdout. Python's exception
// ends the program with a status that is not 0.
var pythonLessons = map[string]string{
	"0-databaseconnection": `import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
for row in conn.execute("SELECT * FROM users").fetchall():
    print(row)
`,
	"1-execute": `import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
for row in conn.execute("SELECT * FROM users WHERE age > ?", (25,)).fetchall():
    print(row)
`,
	"3-concurrent": `import asyncio, os, sys, traceback
import aiosqlite
async def fetch(query, params=()):
    async with aiosqlite.connect(sys.argv[1]) as conn:
        cursor = await conn.execute(query, params)
        return await cursor.fetchall()
async def both():
    return await asyncio.gather(fetch("SELECT * FROM users"), fetch("SELECT * FROM users WHERE age > ?", (40,)))
try:
    everyone, older = asyncio.run(both())
except Exception:
    # When both fetches fail, aiosqlite 0.17 now and then leaves the
    # second one's connection thread running, and Python waits for it
    # forever after the traceback: leave without waiting.
    traceback.print_exc()
    sys.stderr.flush()
    os._exit(1)
print("All users:")
for row in everyone:
    print(row)
print("\nUsers older than 40:")
for row in older:
    print(row)
`,
}

// pythonFor returns a python3 that can run lesson's Python (aiosqlite for
// 3-concurrent), or "" where there is none.
func pythonFor(lesson string) string {
	module := "sqlite3"
	if lesson == "3-concurrent" {
		module = "aiosqlite"
	}
	for _, python := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(python, "-c", "import "+module).Run() == nil {
			return python
		}
	}
	return ""
}

func TestCoreLessonsPrintWhatPythonPrintsOnLearnersTables(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every lesson")
	}
	bin := programs(t, "CGO_ENABLED=1")
	for _, table := range learnersTables {
		t.Run(table.name, func(t *testing.T) {
			path := newUsersDB(t, table.setup...)
			if table.setup == nil {
				os.Remove(path)
				os.WriteFile(path, nil, 0o644)
			}
			for _, lesson := range core {
				t.Run(lesson, func(t *testing.T) {
					before, _ := os.ReadFile(path)
					stdout, stderr, status := runIn(t, t.TempDir(), filepath.Join(bin, lesson), "-db", path)
					assertNoStackTrace(t, stderr)
					if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
						t.Error("the lesson changed the database")
					}
					python := pythonFor(lesson)
					var want string
					var pyStatus int
					if python != "" {
						var pyErr string
						want, pyErr, pyStatus = runIn(t, t.TempDir(), python, "-c", pythonLessons[lesson], path)
						if (pyStatus != 0) != (table.fails[lesson] != "") {
							t.Fatalf("Python's status %d does not fit the test's expectation %q\n%s", pyStatus, table.fails[lesson], pyErr)
						}
					} else {
						t.Log("no python3 with " + lesson + "'s module: checked against this test's expectations only")
					}
					if failure := table.fails[lesson]; failure != "" {
						if status != 1 || !strings.Contains(lastLine(stderr), failure) || !strings.Contains(lastLine(stderr), "go run ./00-setup -db guide.db") {
							t.Errorf("status %d, last line %q; want 1 and a line naming %q and the fix", status, lastLine(stderr), failure)
						}
						return
					}
					if status != 0 {
						t.Fatalf("status %d\nstderr: %s", status, stderr)
					}
					if python != "" && stdout != want {
						t.Errorf("the lesson prints\n%s\nPython prints\n%s", stdout, want)
					}
				})
			}
		})
	}
}

func TestCoreLessonsPrintTheGuidesRows(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every lesson")
	}
	bin := programs(t, "CGO_ENABLED=1")
	path := newUsersDB(t, guideUsers...)
	want := map[string]string{
		"0-databaseconnection": "(1, 'Alice Smith', 'alice.smith@example.com', 30)\n(2, 'Bob Johnson', 'bob.johnson@example.com', 45)\n(3, 'Charlie Brown', 'charlie.brown@example.com', 25)\n",
		"1-execute":            "(1, 'Alice Smith', 'alice.smith@example.com', 30)\n(2, 'Bob Johnson', 'bob.johnson@example.com', 45)\n",
		"3-concurrent":         "All users:\n(1, 'Alice Smith', 'alice.smith@example.com', 30)\n(2, 'Bob Johnson', 'bob.johnson@example.com', 45)\n(3, 'Charlie Brown', 'charlie.brown@example.com', 25)\n\nUsers older than 40:\n(2, 'Bob Johnson', 'bob.johnson@example.com', 45)\n",
	}
	for _, lesson := range core {
		stdout, stderr, status := runIn(t, t.TempDir(), filepath.Join(bin, lesson), "-db", path)
		if status != 0 || stdout != want[lesson] {
			t.Errorf("%s: status %d, stdout\n%s\nwant\n%s\nstderr: %s", lesson, status, stdout, want[lesson], stderr)
		}
	}
}

func TestManyProgramsAtOnceOnOneFile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 12 programs at once")
	}
	bin := programs(t, "CGO_ENABLED=1")
	dir := t.TempDir()
	if _, stderr, status := runIn(t, dir, filepath.Join(bin, "00-setup")); status != 0 {
		t.Fatalf("00-setup: status %d\n%s", status, stderr)
	}
	// Six writers adding the same 3,000 users and six readers fetching
	// everything, all started together on one file.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var cmds []*exec.Cmd
	for range 6 {
		cmds = append(cmds,
			exec.CommandContext(ctx, filepath.Join(bin, "00-setup"), "-users", "3000"),
			exec.CommandContext(ctx, filepath.Join(bin, "3-concurrent")))
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
	db := openReadOnly(t, filepath.Join(dir, "users.db"))
	var users int
	var check string
	if err := db.QueryRow("SELECT count(*) FROM users").Scan(&users); err != nil || users != 3003 {
		t.Errorf("%d users (%v), want 3003", users, err)
	}
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}
}

func TestRunAllAndTheTopPageListEveryLesson(t *testing.T) {
	root := workbookRoot(t)
	runAll, err := os.ReadFile(filepath.Join(root, "run_all.sh"))
	if err != nil {
		t.Fatal(err)
	}
	top, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, lesson := range allLessons(t) {
		if !bytes.Contains(runAll, []byte("\n\t"+lesson+"\n")) {
			t.Errorf("run_all.sh does not run %s", lesson)
		}
		if !bytes.Contains(top, []byte("]("+lesson+"/README.md)")) && !bytes.Contains(top, []byte("]("+lesson+"/)")) {
			t.Errorf("README.md does not link %s's page", lesson)
		}
		if _, err := os.Stat(filepath.Join(root, lesson, "README.md")); err != nil {
			t.Errorf("%s has no page: %v", lesson, err)
		}
	}
}

func TestRowsAndLogLinesKeepTheirOrderOnOneTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every lesson")
	}
	bin := programs(t, "CGO_ENABLED=1")
	path := newUsersDB(t, guideUsers...)
	// Stdout and stderr share one file, as on a terminal: the log lines
	// and the rows must come in the order they happen.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "0-databaseconnection"), "-db", path)
	cmd.Dir = t.TempDir()
	var both bytes.Buffer
	cmd.Stdout, cmd.Stderr = &both, &both
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, both.String())
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSuffix(both.String(), "\n"), "\n") {
		if m := logLine.FindStringSubmatch(line); m != nil {
			line = m[1] + " - " + m[2]
		}
		got = append(got, line)
	}
	want := []string{
		"INFO - Opened connection to " + path,
		"(1, 'Alice Smith', 'alice.smith@example.com', 30)",
		"(2, 'Bob Johnson', 'bob.johnson@example.com', 45)",
		"(3, 'Charlie Brown', 'charlie.brown@example.com', 25)",
		"INFO - Closed connection to " + path,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
