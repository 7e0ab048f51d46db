// Package lesson runs a lesson's program the way every lesson of the
// workbook runs: it reads the -db flag, turns Ctrl-C into a cancelled
// context, and turns the lesson's error into one line on stderr and a
// non-zero exit status.
//
// A lesson's main is one line:
//
//	func main() { lesson.Main("1-execute", run) }
//
// where run does the lesson's work and returns its error. Main never exits
// before run has returned, so every call run deferred has run by then, as
// Python's __exit__ runs before the program ends.
package lesson

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Run is a lesson's work: the guide's `if __name__ == "__main__"` block. It
// reads the database at dbPath, prints what the guide's Python prints on
// stdout, logs to stderr, and returns its error instead of exiting.
type Run func(ctx context.Context, dbPath string, stdout, stderr io.Writer) error

// Main runs a lesson as a program and exits: status 0 when run succeeds,
// 1 with one line on stderr when it fails, 2 for a command-line mistake,
// and 130 after Ctrl-C, as a shell expects. name is the lesson's folder as
// the learner types it after go run, such as "1-execute" or
// "extras/nested"; it starts the usage and error lines.
//
// Ctrl-C (SIGINT) or SIGTERM cancels run's context instead of killing the
// program, as Python raises KeyboardInterrupt inside a with block so that
// __exit__ still runs. The lesson stops at its next database call that
// takes the context, and its deferred calls close what it opened. A second
// Ctrl-C kills the program at once.
//
// Flags a lesson adds (00-setup's -users) are defined on flag.CommandLine
// before Main parses it.
func Main(name string, run Run) {
	os.Exit(main(name, run, os.Args[1:], os.Stdout, os.Stderr))
}

// main is Main without the exit, for tests: it returns the exit status.
func main(name string, run Run, args []string, stdout, stderr io.Writer) int {
	if !cgoEnabled {
		fmt.Fprintf(stderr, "%s needs cgo because the SQLite driver is C code: install a C compiler (gcc) and run it with CGO_ENABLED=1\n", name)
		return 1
	}
	dbPath, status := parseFlags(name, args, stderr)
	if status != 0 {
		return status
	}

	// stop is called only after the first Ctrl-C, never on the way out: a
	// Ctrl-C between run's return and the exit would otherwise kill the
	// program, which has nothing left to clean up but has not yet said so.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // from now on, Ctrl-C kills the program at once
	}()

	out := newOutput(stdout)
	err := run(ctx, dbPath, out, &flushFirst{out: out, w: stderr})
	err = errors.Join(err, out.Flush())
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(stderr, "%s: interrupted; its deferred cleanup ran\n", name)
		return 130
	case err != nil:
		fmt.Fprintf(stderr, "%s: %s\n", name, oneLine(err))
		return 1
	}
	return 0
}

// parseFlags reads -db and any flag the lesson defined. It returns the
// database path, or exit status 2 after saying what is wrong.
func parseFlags(name string, args []string, stderr io.Writer) (dbPath string, status int) {
	flags := flag.CommandLine
	flags.SetOutput(stderr)
	db := flags.String("db", "users.db", "the SQLite database `FILE`")
	flags.Usage = func() {
		fmt.Fprintf(stderr, "usage: go run ./%s [flags]\n", name)
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return "", 2 // flag has said what is wrong, and shown the usage
	}
	switch {
	case flags.NArg() > 0:
		fmt.Fprintf(stderr, "unexpected argument %q: give the database file with -db FILE\n", flags.Arg(0))
		flags.Usage()
		return "", 2
	case *db == "":
		fmt.Fprintln(stderr, "the -db path is empty: give the database file, such as -db users.db")
		flags.Usage()
		return "", 2
	}
	return *db, 0
}

// oneLine keeps an error to one line: errors.Join puts a newline between the
// errors it joins.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
