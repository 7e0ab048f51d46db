package lesson

// These tests run the runner as a program runs it, through main, which is
// Main without the exit: each gives it the command line's arguments and a
// run, and reads the exit status and what was written.

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// runMain runs main for the lesson "1-execute" with args and run, and
// returns the exit status and what was written on stdout and stderr.
func runMain(t *testing.T, args []string, run Run) (status int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	status = runMainTo(t, args, run, &out, &errOut)
	return status, out.String(), errOut.String()
}

// runMainTo runs main for the lesson "1-execute" with args and run, on a
// command line of its own, writing to stdout and stderr, and returns the
// exit status.
func runMainTo(t *testing.T, args []string, run Run, stdout, stderr io.Writer) int {
	t.Helper()
	needCgo(t)
	newCommandLine()
	return main("1-execute", run, args, stdout, stderr)
}

// newCommandLine gives the test a flag.CommandLine of its own, as a new
// program has, so that -db and a lesson's flags can be defined again. It
// returns errors instead of exiting, so that main returns its status.
func newCommandLine() {
	flag.CommandLine = flag.NewFlagSet("1-execute", flag.ContinueOnError)
}

// needCgo skips a test where the program could not run: without cgo, main
// only says that the lesson needs it.
func needCgo(t *testing.T) {
	t.Helper()
	if !cgoEnabled {
		t.Skip("without cgo, main only says that the lesson needs cgo")
	}
}

func TestMainSucceeds(t *testing.T) {
	var gotPath string
	status, stdout, stderr := runMain(t, nil, func(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
		gotPath = dbPath
		fmt.Fprintln(stdout, "(1, 'Alice Smith', 'alice.smith@example.com', 30)")
		return nil
	})
	if status != 0 || stderr != "" {
		t.Errorf("exit status %d, stderr %q; want 0 and nothing", status, stderr)
	}
	if stdout != "(1, 'Alice Smith', 'alice.smith@example.com', 30)\n" {
		t.Errorf("stdout %q, want the row", stdout)
	}
	if gotPath != "users.db" {
		t.Errorf("run got the path %q, want the default users.db", gotPath)
	}
}

func TestMainGivesRunTheDBFlag(t *testing.T) {
	var gotPath string
	status, _, stderr := runMain(t, []string{"-db", "guide.db"}, func(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
		gotPath = dbPath
		return nil
	})
	if status != 0 || stderr != "" || gotPath != "guide.db" {
		t.Errorf("exit status %d, stderr %q, path %q; want 0, nothing and guide.db", status, stderr, gotPath)
	}
}

func TestMainWritesAnErrorAsOneLine(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"an error", errors.New("cannot open nope.db: there is no such file"), "1-execute: cannot open nope.db: there is no such file\n"},
		{"two errors joined", errors.Join(errors.New("no such table: users"), errors.New("close: database is locked")), "1-execute: no such table: users; close: database is locked\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, stderr := runMain(t, nil, func(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
				return tt.err
			})
			if status != 1 || stderr != tt.want {
				t.Errorf("exit status %d, stderr %q; want 1 and %q", status, stderr, tt.want)
			}
		})
	}
}

func TestMainShowsTheUsageForACommandLineMistake(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // what stderr says before the usage
	}{
		{"an unknown flag", []string{"-nope"}, "flag provided but not defined: -nope"},
		{"an argument", []string{"users.db"}, `unexpected argument "users.db": give the database file with -db FILE`},
		{"an argument after the flags", []string{"-db", "guide.db", "more"}, `unexpected argument "more"`},
		{"an empty -db", []string{"-db", ""}, "the -db path is empty: give the database file, such as -db users.db"},
		{"-db without its file", []string{"-db"}, "flag needs an argument: -db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ran := false
			status, stdout, stderr := runMain(t, tt.args, func(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
				ran = true
				return nil
			})
			if status != 2 || ran || stdout != "" {
				t.Errorf("exit status %d, run ran %v, stdout %q; want 2, not run, nothing", status, ran, stdout)
			}
			lines := strings.Split(stderr, "\n")
			if lines[0] != tt.want && !strings.HasPrefix(lines[0], tt.want) {
				t.Errorf("stderr starts %q, want %q", lines[0], tt.want)
			}
			if len(lines) < 2 || lines[1] != "usage: go run ./1-execute [flags]" {
				t.Errorf("stderr:\n%s\nwant the usage line after the first", stderr)
			}
			if !strings.Contains(stderr, "-db FILE") {
				t.Errorf("stderr:\n%s\nwant the -db flag in the usage", stderr)
			}
		})
	}
}

func TestMainReadsTheLessonsOwnFlags(t *testing.T) {
	needCgo(t)
	newCommandLine()
	users := flag.Int("users", 3, "how many users to make")
	var out, errOut bytes.Buffer
	var gotUsers int
	var gotPath string
	status := main("00-setup", func(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
		gotUsers, gotPath = *users, dbPath
		return nil
	}, []string{"-users", "1000", "-db", "big.db"}, &out, &errOut)
	if status != 0 || errOut.String() != "" {
		t.Fatalf("exit status %d, stderr %q; want 0 and nothing", status, errOut.String())
	}
	if gotUsers != 1000 || gotPath != "big.db" {
		t.Errorf("run saw -users %d and -db %q, want 1000 and big.db", gotUsers, gotPath)
	}

	newCommandLine()
	flag.Int("users", 3, "how many users to make")
	errOut.Reset()
	main("00-setup", nil, []string{"-h"}, &out, &errOut)
	if !strings.Contains(errOut.String(), "-users int") || !strings.Contains(errOut.String(), "how many users to make") {
		t.Errorf("the usage:\n%s\nwant the lesson's -users flag in it", errOut.String())
	}
}

func TestMainKeepsRowsAndLogLinesInOrder(t *testing.T) {
	// One buffer for both, as one terminal shows both.
	var terminal bytes.Buffer
	status := runMainTo(t, nil, func(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
		fmt.Fprintln(stderr, "Opened connection to users.db")
		fmt.Fprintln(stdout, "(1, 'Alice Smith', 'alice.smith@example.com', 30)")
		fmt.Fprintln(stdout, "(2, 'Bob Johnson', 'bob.johnson@example.com', 45)")
		fmt.Fprintln(stderr, "Closed connection to users.db")
		fmt.Fprintln(stdout, "done")
		return nil
	}, &terminal, &terminal)
	want := "Opened connection to users.db\n" +
		"(1, 'Alice Smith', 'alice.smith@example.com', 30)\n" +
		"(2, 'Bob Johnson', 'bob.johnson@example.com', 45)\n" +
		"Closed connection to users.db\n" +
		"done\n"
	if status != 0 || terminal.String() != want {
		t.Errorf("exit status %d, the terminal shows\n%s\nwant 0 and\n%s", status, terminal.String(), want)
	}
}

func TestMainBuffersStdoutAndFlushesItAtTheEnd(t *testing.T) {
	var stdout countingWriter
	var errOut bytes.Buffer
	rows := 1000 // 6 kB, less than the buffer holds
	status := runMainTo(t, nil, func(ctx context.Context, dbPath string, out, stderr io.Writer) error {
		for i := range rows {
			fmt.Fprintf(out, "(%d,)\n", i)
		}
		if stdout.writes != 0 {
			t.Errorf("%d writes to stdout before run ended; want the rows held in the buffer", stdout.writes)
		}
		return nil
	}, &stdout, &errOut)
	if status != 0 || errOut.String() != "" {
		t.Fatalf("exit status %d, stderr %q; want 0 and nothing", status, errOut.String())
	}
	if got := strings.Count(stdout.String(), "\n"); got != rows {
		t.Errorf("stdout holds %d rows, want all %d", got, rows)
	}
	if stdout.writes != 1 {
		t.Errorf("%d writes for %d rows, want them written at once", stdout.writes, rows)
	}
}

// countingWriter is a buffer that counts the writes to it.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

func TestMainReportsAnErrorWritingStdout(t *testing.T) {
	var errOut bytes.Buffer
	status := runMainTo(t, nil, func(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
		fmt.Fprintln(stdout, "(1,)")
		return nil
	}, failingWriter{}, &errOut)
	if status != 1 || errOut.String() != "1-execute: write /dev/stdout: no space left on device\n" {
		t.Errorf("exit status %d, stderr %q; want 1 and the write's error", status, errOut.String())
	}
}

// failingWriter fails every write, as a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: "/dev/stdout", Err: errors.New("no space left on device")}
}
