// Package taskcheck checks that a program does one of the guide's tasks as
// its lesson does: what it prints, how it fails, and the idioms that keep
// it safe. The exercises' checkers run these checks on the learner's
// program; the same checks run on each lesson's own program in this
// package's tests, so the lesson and the checker cannot disagree.
//
// Each check answers as a mentor would: what the program did, why it
// matters, and where on the lesson's page to read about it.
package taskcheck

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"workbook/internal/workbooktest"
)

// A Check is one step of a task, in the order the learner writes it.
type Check struct {
	// Name says what the program must do, as a subtest's name.
	Name string
	// Problem runs the program and returns "" when it does what Name
	// says, or else what a mentor would say about it.
	Problem func(t *testing.T, p Program) string
}

// A Program is a built lesson program, with the lesson whose page the
// checks cite.
type Program struct {
	// Path is the program's file.
	Path string
	// Lesson is the lesson's folder, such as "0-databaseconnection".
	Lesson string
}

// Result is what one run of the program did.
type Result struct {
	Stdout, Stderr string
	Status         int
	// Log is the "LEVEL - message" part of each line of the log file.
	Log []string
	// Dir is the folder it ran in.
	Dir string
}

// Run runs the program with args in a new folder of its own and returns
// what it did; logFile is the log file it writes there, or "".
func (p Program) Run(t *testing.T, logFile string, args ...string) Result {
	t.Helper()
	dir := t.TempDir()
	stdout, stderr, status := workbooktest.RunProgram(t, dir, p.Path, args...)
	r := Result{Stdout: stdout, Stderr: stderr, Status: status, Dir: dir}
	if logFile != "" {
		if b, err := os.ReadFile(filepath.Join(dir, logFile)); err == nil {
			r.Log = workbooktest.LogFileMessages(t, string(b))
		}
	}
	return r
}

// Mentor writes a mentor's answer: what the program did, why it matters,
// and the section of the lesson's page to read.
func (p Program) Mentor(did, why, section string) string {
	return fmt.Sprintf("%s\n\nWhy it matters: %s\n\nRead: %s/README.md, the section %q.", did, why, p.Lesson, section)
}

// Build builds the Go program in dir (an exercise's folder, or a lesson's)
// into a new temporary folder and returns its path. A build error fails the
// test with the compiler's own words, which name the file and line.
func Build(t *testing.T, dir string) string {
	t.Helper()
	program := filepath.Join(t.TempDir(), "program")
	build := exec.Command("go", "build", "-o", program, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("your program does not build yet; go build says:\n%s\nFix that first: the checks run the program.", out)
	}
	return program
}

// RunChecks runs checks in order, each as a subtest. The first one that
// fails says in full what the program did, why it matters and what to
// read; those after it that fail too say only what they check, since they
// often fail for the same reason, and the first problem is the one to fix.
func RunChecks(t *testing.T, p Program, checks []Check) {
	t.Helper()
	first := ""
	for i, c := range checks {
		name := fmt.Sprintf("%d %s", i+1, c.Name)
		t.Run(name, func(t *testing.T) {
			problem := c.Problem(t, p)
			switch {
			case problem == "":
			case first == "":
				first = name
				t.Error("\n" + problem)
			default:
				t.Errorf("not yet, like step %q above: fix that one first, then run the checker again", first)
			}
		})
	}
}

// notesFile is a file that is not a database, for the checks of a wrong
// -db.
func notesFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, []byte("these are my notes, not a database\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// indent shows text as indented lines, or says that there was none.
func indent(text string) string {
	if text == "" {
		return "    (nothing)"
	}
	return "    " + strings.ReplaceAll(strings.TrimSuffix(text, "\n"), "\n", "\n    ")
}
