package everylesson

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"workbook/internal/workbooktest"
)

// interrupted is the last line a lesson prints after Ctrl-C.
func interrupted(lesson string) string {
	return lesson + ": interrupted; its deferred cleanup ran"
}

func TestCtrlCStopsACoreLessonAndItsDeferredCleanupRuns(t *testing.T) {
	bin := programs(t)
	path := workbooktest.NewUsersDB(t, workbooktest.ManyUsers(200_000)...)
	for _, lesson := range core {
		t.Run(lesson, func(t *testing.T) {
			cmd, ctx := lessonCommand(t, bin, lesson, t.TempDir(), "-db", path)
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
				t.Fatalf("the lesson was still running after Ctrl-C when the test's time ran out: a hang, or a very slow machine\nstderr: %s", stderr.String())
			}
			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != 130 {
				t.Errorf("exit: %v, want status 130", err)
			}
			log := stderr.String()
			workbooktest.AssertNoStackTrace(t, log)
			if got := workbooktest.LastLine(log); got != interrupted(lesson) {
				t.Errorf("last line of stderr %q, want %q", got, interrupted(lesson))
			}
			// 3-concurrent logs no close: the guide's program does not.
			if lesson != "3-concurrent" && !strings.Contains("\n"+log, "\nClosed connection to "+path+"\n") {
				t.Errorf("no close line was logged: the deferred Close did not run\nstderr: %s", log)
			}
			t.Logf("%d more bytes printed after Ctrl-C", len(rest))
		})
	}
}

func TestCtrlCStopsEveryLessonCleanly(t *testing.T) {
	bin := programs(t)
	for _, lesson := range workbooktest.AllLessons(t) {
		t.Run(lesson, func(t *testing.T) {
			dir := t.TempDir()
			guideDB(t, dir)
			cmd, ctx := lessonCommand(t, bin, lesson, dir)
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
			log := first + string(rest)
			if ctx.Err() != nil {
				t.Fatalf("the lesson was still running after Ctrl-C when the test's time ran out: a hang, or a very slow machine\nstderr: %s", log)
			}
			workbooktest.AssertNoStackTrace(t, log)
			var exitErr *exec.ExitError
			switch {
			case err == nil:
				// It finished before the signal came.
			case errors.As(err, &exitErr) && exitErr.ExitCode() == 130:
				if got := workbooktest.LastLine(log); got != interrupted(lesson) {
					t.Errorf("last line of stderr %q, want %q", got, interrupted(lesson))
				}
			default:
				t.Errorf("exit: %v, want status 130 or a finished run\nstderr: %s", err, log)
			}
			// The database is left whole and unlocked.
			db := workbooktest.OpenReadOnly(t, filepath.Join(dir, "users.db"))
			var check string
			if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
				t.Errorf("integrity_check: %q, %v", check, err)
			}
		})
	}
}
