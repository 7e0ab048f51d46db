//go:build cgo

package main

// workbook_test.go is the same file in every lesson folder, like
// workbook.go, and a test fails if one copy differs. It holds the test
// helpers that every lesson's tests need: a users table made to order, the
// checks on the lesson's page (README.md), and the harness that makes each
// experiment the page proposes on a copy of the workbook.

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// newUsersDB makes a database file in a new temporary folder, runs each SQL
// statement of setup in it (CREATE TABLE, INSERT ...), and returns its path.
// Tests build every table they need this way.
func newUsersDB(t testing.TB, setup ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.db")
	if err := makeDB(path, setup...); err != nil {
		t.Fatal(err)
	}
	return path
}

// makeDB makes the database file at path and runs each SQL statement of
// setup in it: newUsersDB for TestMain and Examples, which have no
// *testing.T.
func makeDB(path string, setup ...string) error {
	db, err := sql.Open("sqlite3", fileURI(path)+"?mode=rwc")
	if err != nil {
		return err
	}
	for _, stmt := range setup {
		if _, err := db.ExecContext(context.Background(), stmt); err != nil {
			db.Close()
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return db.Close()
}

// guideUsers is the guide's users table with its three users, for
// newUsersDB.
var guideUsers = []string{
	`CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    age INTEGER NOT NULL
)`,
	`INSERT INTO users (name, email, age) VALUES
    ('Alice Smith', 'alice.smith@example.com', 30),
    ('Bob Johnson', 'bob.johnson@example.com', 45),
    ('Charlie Brown', 'charlie.brown@example.com', 25)`,
}

// assertNothingOpen fails unless db's pool has no connection open: every
// Rows, Stmt, Tx and Conn was closed and the pool itself was closed.
func assertNothingOpen(t testing.TB, db *sql.DB) {
	t.Helper()
	if s := db.Stats(); s.OpenConnections != 0 || s.InUse != 0 {
		t.Errorf("db.Stats: %d open, %d in use; want nothing left open", s.OpenConnections, s.InUse)
	}
}

// intoScratchFolder makes a new folder holding the guide's users.db, as
// 00-setup makes it, and makes it the current folder, where the lesson
// writes its log. back goes back and removes the folder.
func intoScratchFolder() (back func(), err error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", filepath.Base(cwd)+"-")
	if err != nil {
		return nil, err
	}
	if err = makeDB(filepath.Join(dir, "users.db"), guideUsers...); err == nil {
		err = os.Chdir(dir)
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return func() { os.Chdir(cwd); os.RemoveAll(dir) }, nil
}

// lessonFolder is the lesson's source folder, where its page is, when
// runInScratchFolder runs the tests elsewhere: tests that read the page or
// make an experiment go back there with t.Chdir.
var lessonFolder string

// runInScratchFolder runs the tests and examples in a folder made by
// intoScratchFolder, as a learner's folder would be, so that the log file
// lands there and not in the source tree. TestMain gives its result to
// os.Exit.
func runInScratchFolder(m *testing.M) int {
	folder, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	back, err := intoScratchFolder()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer back()
	lessonFolder = folder
	return m.Run()
}

// inDir runs fn with dir as the current folder, then goes back.
func inDir(dir string, fn func()) {
	old, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	if err := os.Chdir(dir); err != nil {
		panic(err)
	}
	defer os.Chdir(old)
	fn()
}

// dirEntries lists the names in dir.
func dirEntries(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// openDescriptors lists the descriptors by which this process has the file
// at path (or its journal) open, as Linux shows them in /proc/self/fd;
// elsewhere it finds none.
func openDescriptors(path string) []string {
	fds, _ := os.ReadDir("/proc/self/fd")
	var open []string
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(target, path) {
			open = append(open, fd.Name())
		}
	}
	return open
}

// pythonWith returns the path of a Python 3 that can import module, or ""
// (and logs why) when there is none. It asks each Python once per module.
func pythonWith(t testing.TB, module string) string {
	t.Helper()
	python, found := pythons[module]
	if !found {
		for _, candidate := range []string{"python3", "/usr/bin/python3"} {
			// sys.executable skips a version manager's shim next time.
			out, err := exec.Command(candidate, "-c", "import sys, "+module+"; print(sys.executable)").Output()
			if err == nil {
				python = strings.TrimSpace(string(out))
				break
			}
		}
		pythons[module] = python
	}
	if python == "" {
		t.Logf("no python3 with %s: stdout checked against the test's own expectation only", module)
	}
	return python
}

// pythons caches pythonWith's answers.
var pythons = map[string]string{}

// runPython runs script with python in dir and returns its stdout.
func runPython(t testing.TB, python, dir, script string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, "-c", script)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v", err)
	}
	return string(out)
}

// discard is a logger that drops every record, for tests that do not read
// the log.
func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// logLine is one line of the guide's log format.
var logLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - (INFO|WARNING|ERROR) - (.*)$`)

// logMessages checks that every line of log has the guide's format and
// returns each line's "LEVEL - message" part.
func logMessages(t testing.TB, log string) []string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		if line == "" {
			continue
		}
		m := logLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("log line %q is not in the guide's format", line)
			continue
		}
		out = append(out, m[1]+" - "+m[2])
	}
	return out
}

// workbookRoot is the top folder of the workbook, where go.mod is.
func workbookRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
}

// lessonDir is this lesson's folder relative to the workbook's top, such as
// "1-execute" or "extras/nested".
func lessonDir(t testing.TB) string {
	t.Helper()
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(workbookRoot(t), cwd)
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(rel)
}

// page is the lesson's page, README.md in its folder.
func page(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatalf("the lesson's page: %v", err)
	}
	return string(b)
}

// assertPageShows fails unless the lesson's page holds text exactly,
// such as the output a command prints, as a block of its own:
// the text's lines, each line whole.
func assertPageShows(t testing.TB, text string) {
	t.Helper()
	if !strings.Contains("\n"+page(t), "\n"+text) {
		t.Errorf("README.md does not show, line for line:\n%s", text)
	}
}

// A citation is a place where the lesson's page cites main.go by line
// number: the page says cite, and main.go's line holds code. Each folder
// lists its page's citations in pageCitations, a line range as two, its
// first line and its last.
type citation struct {
	cite string
	line int
	code string
}

// TestPageCitesMainGoLines checks that every line of main.go the page
// cites holds the code the page says it does, and that pageCitations lists
// every citation, so an edit that moves the code fails here.
func TestPageCitesMainGoLines(t *testing.T) {
	if lessonFolder != "" {
		t.Chdir(lessonFolder)
	}
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(src), "\n")
	text := page(t)
	listed := make([]bool, len(text))
	for _, c := range pageCitations {
		places := regexp.MustCompile(regexp.QuoteMeta(c.cite)).FindAllStringIndex(text, -1)
		if places == nil {
			t.Errorf("README.md no longer says %q", c.cite)
		}
		for _, at := range places {
			for i := at[0]; i < at[1]; i++ {
				listed[i] = true
			}
		}
		if c.line > len(lines) || !strings.Contains(lines[c.line-1], c.code) {
			t.Errorf("README.md says %q, but main.go's line %d does not hold %q", c.cite, c.line, c.code)
		}
	}
	// Line numbers in code (a program's output, say) cite nothing.
	prose := regexp.MustCompile("(?s)```.*?```|`[^`]*`").ReplaceAllStringFunc(text, func(code string) string {
		return strings.Repeat(" ", len(code))
	})
	for _, at := range regexp.MustCompile(`(?i)\blines?\s+\d+`).FindAllStringIndex(prose, -1) {
		if !listed[at[0]] {
			t.Errorf("README.md cites %q, which pageCitations does not list", text[at[0]:at[1]])
		}
	}
}

// An experiment is one "Try it" of a lesson's page: an edit to one of the
// lesson's files, a command, and what the learner then sees.
type experiment struct {
	// file is the file to edit, in the lesson's folder: "main.go".
	file string
	// old is the text to replace; it must occur exactly once in file, so
	// the experiment fails when the lesson no longer has it. new replaces
	// it ("" deletes it).
	old, new string
	// command runs from the top of a copy of the workbook, in sh.
	command string
	// want are texts that must each appear in what the command prints
	// (stdout and stderr together).
	want []string
	// fails says whether the command must exit with a non-zero status.
	fails bool
}

// runExperiment checks that the page shows the experiment (its edit, its
// command and what it prints), then makes the edit in a copy of the whole
// workbook, runs the command there and checks what it prints. The copy
// uses the same module and build caches, so only the edited lesson is
// built again. The command has two minutes, after which it is killed and
// the test fails.
func runExperiment(t *testing.T, e experiment) {
	t.Helper()
	if testing.Short() {
		t.Skip("an experiment builds a copy of the lesson")
	}
	if os.Getenv("WORKBOOK_EXPERIMENT") != "" {
		t.Skip("already inside an experiment")
	}
	text := page(t)
	for _, s := range append([]string{e.command}, e.want...) {
		if !strings.Contains(text, s) {
			t.Errorf("README.md does not show %q", s)
		}
	}
	for _, s := range []string{e.old, e.new} {
		for _, line := range strings.Split(s, "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.Contains(text, line) {
				t.Errorf("README.md does not show the edit's line %q", line)
			}
		}
	}

	root := workbookRoot(t)
	lesson := lessonDir(t)
	copyRoot := t.TempDir()
	if err := os.CopyFS(copyRoot, os.DirFS(root)); err != nil {
		t.Fatal(err)
	}
	os.RemoveAll(filepath.Join(copyRoot, ".git"))
	target := filepath.Join(copyRoot, lesson, e.file)
	src, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), e.old); n != 1 {
		t.Fatalf("%s/%s has the experiment's text %d times, want once: %q", lesson, e.file, n, e.old)
	}
	edited := strings.Replace(string(src), e.old, e.new, 1)
	if err := os.WriteFile(target, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", e.command)
	cmd.Dir = copyRoot
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOTOOLCHAIN=local", "CGO_ENABLED=1", "WORKBOOK_EXPERIMENT=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s did not finish in 2 minutes; it printed:\n%s", e.command, out.String())
	}
	if failed := err != nil; failed != e.fails {
		t.Errorf("%s: exit error %v, want failure %v", e.command, err, e.fails)
	}
	for _, w := range e.want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("%s does not print %q", e.command, w)
		}
	}
	if t.Failed() {
		t.Logf("after the edit, %s printed:\n%s", e.command, out.String())
	}
}
