// Package everylesson holds the tests that concern every lesson at once.
// They build every lesson's program and run it from the command line, as a
// learner does: with bad input, with Ctrl-C, without cgo, many at once,
// and on the users tables of real learners against what the guide's Python
// prints. They also read every lesson's source and page: each folder is
// its main.go, and each page quotes it.
package everylesson

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"workbook/internal/workbooktest"
)

// core are the guide's three tasks, whose programs print what the guide's
// Python prints.
var core = []string{"0-databaseconnection", "1-execute", "3-concurrent"}

// logFile is the log file each core lesson writes, as the guide's program
// names it.
var logFile = map[string]string{
	"0-databaseconnection": "connection.log",
	"1-execute":            "query.log",
	"3-concurrent":         "async.log",
}

func TestMain(m *testing.M) {
	code := m.Run()
	workbooktest.RemovePrograms()
	os.Exit(code)
}

// programs builds every lesson with cgo, once for the whole test binary,
// and returns the folder that holds the programs. It skips the test with
// -short.
func programs(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds every lesson")
	}
	return workbooktest.Programs(t, "CGO_ENABLED=1")
}

// guideDB makes the guide's users.db in dir, as 00-setup does, without
// running a program.
func guideDB(t *testing.T, dir string) {
	t.Helper()
	if err := workbooktest.MakeDB(filepath.Join(dir, "users.db"), workbooktest.GuideUsers...); err != nil {
		t.Fatal(err)
	}
}

// setUp runs 00-setup's program in dir, which makes the guide's users.db
// there, as a learner's first step does.
func setUp(t *testing.T, bin, dir string) {
	t.Helper()
	if _, stderr, status := workbooktest.RunProgram(t, dir, workbooktest.Program(bin, "00-setup")); status != 0 {
		t.Fatalf("00-setup: exit status %d\n%s", status, stderr)
	}
}

// lessonCommand is lesson's program with args, to run in dir, for a test
// that runs it by hand (to send it Ctrl-C, or to read its output as it
// comes). The program is killed if it is still running a minute before the
// test binary's deadline; ctx.Err() then says so.
func lessonCommand(t *testing.T, bin, lesson, dir string, args ...string) (cmd *exec.Cmd, ctx context.Context) {
	t.Helper()
	ctx = workbooktest.Context(t)
	cmd = exec.CommandContext(ctx, workbooktest.Program(bin, lesson), args...)
	cmd.Dir = dir
	return cmd, ctx
}
