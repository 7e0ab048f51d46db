//go:build cgo

package main

// These tests run every program of the workbook from the command line, as a
// learner would, and break each one in the same ways on purpose. They live
// beside 00-setup because every program needs the database it makes.

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
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

// buildLessons builds every lesson into a temporary folder, with env added to
// the build's environment, and returns the folder.
func buildLessons(t *testing.T, env ...string) string {
	t.Helper()
	bin := t.TempDir()
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, lesson := range append([]string{"00-setup"}, lessons...) {
		args = append(args, "./"+lesson)
	}
	build := exec.Command("go", args...)
	build.Dir = filepath.Dir(sourceDir)
	build.Env = append(os.Environ(), env...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
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
