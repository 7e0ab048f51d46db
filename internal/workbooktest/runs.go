package workbooktest

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"workbook/internal/lesson"
)

// A Run is what one run of a lesson, or of a Python program written like
// the guide's, did: what it printed on stdout and on stderr, the lesson's
// error (the guide's programs catch theirs and print it on stdout), and
// the "LEVEL - message" part of each line of its log file.
type Run struct {
	Stdout, Stderr string
	Err            error
	Log            []string
}

// RunLesson calls run, a lesson's run function, on the database at dbPath,
// with a new temporary folder as the current folder, as a learner runs the
// program in a folder of their own, and returns what it did. logFile is
// the name of the lesson's log file, such as "query.log".
func RunLesson(t *testing.T, run lesson.Run, logFile, dbPath string) Run {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	var stdout, stderr strings.Builder
	err := run(Context(t), dbPath, &stdout, &stderr)
	return Run{Stdout: stdout.String(), Stderr: stderr.String(), Err: err, Log: logFileIfAny(t, filepath.Join(dir, logFile))}
}

// guideLogging is the guide's logging set-up in Python, for a log file
// named %[1]q: a logger, log, whose FileHandler writes each message to the
// file in the guide's dated format, and whose StreamHandler writes it to
// stderr as it is.
const guideLogging = `import logging, os, sqlite3, sys

log = logging.getLogger("lesson")
log.setLevel(logging.INFO)
to_file = logging.FileHandler(%[1]q)
to_file.setFormatter(logging.Formatter("%%(asctime)s - %%(levelname)s - %%(message)s"))
log.addHandler(to_file)
log.addHandler(logging.StreamHandler())

`

// eachDatabase runs main once for each database named on the command
// line. After each run, its log file moves aside, and the next message
// opens a new one; a line on stdout and on stderr ends the run's output.
const eachDatabase = `
for i, path in enumerate(sys.argv[1:]):
    main(path)
    to_file.close()
    if os.path.exists(%[1]q):
        os.rename(%[1]q, %[1]q + "." + str(i))
    for out in (sys.stdout, sys.stderr):
        print(%[2]q, file=out, flush=True)
`

// endOfRun is the line that ends each run's output in RunGuidePython.
const endOfRun = "=== end of run ==="

// RunGuidePython runs program, Python written like the guide's program,
// once for each database of dbPaths, and returns what each run did.
// program defines main(path), the guide's `if __name__ == "__main__"`
// block for the database at path. Before it comes the guide's logging
// set-up for a log file named logFile, which logs with log.info and
// log.error, and imports sqlite3 and sys.
//
// The runs share one Python process, which saves its start-up time, in a
// new temporary folder; each gets its own output and its own log file, as
// a process of its own would. The guide's programs catch every
// sqlite3.Error, so the test fails if Python ends with another status
// than 0.
func RunGuidePython(t testing.TB, python, logFile, program string, dbPaths ...string) []Run {
	t.Helper()
	dir := t.TempDir()
	script := fmt.Sprintf(guideLogging, logFile) + program + fmt.Sprintf(eachDatabase, logFile, endOfRun)
	stdout, stderr, status := RunPython(t, python, dir, script, dbPaths...)
	if status != 0 {
		t.Fatalf("python3 ended with status %d:\n%s", status, stderr)
	}
	stdouts := strings.SplitAfter(stdout, endOfRun+"\n")
	stderrs := strings.SplitAfter(stderr, endOfRun+"\n")
	if len(stdouts) != len(dbPaths)+1 || len(stderrs) != len(dbPaths)+1 {
		t.Fatalf("python3 did not finish %d runs:\nstdout:\n%s\nstderr:\n%s", len(dbPaths), stdout, stderr)
	}
	runs := make([]Run, len(dbPaths))
	for i := range runs {
		runs[i] = Run{
			Stdout: strings.TrimSuffix(stdouts[i], endOfRun+"\n"),
			Stderr: strings.TrimSuffix(stderrs[i], endOfRun+"\n"),
			Log:    logFileIfAny(t, filepath.Join(dir, fmt.Sprintf("%s.%d", logFile, i))),
		}
	}
	return runs
}

// logFileIfAny is ReadLogFile, or nothing when there is no file at path.
func logFileIfAny(t testing.TB, path string) []string {
	t.Helper()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return ReadLogFile(t, path)
}

// FolderSnapshot lists the entries of the folder dir with their sizes, to
// compare before and after a run that must change nothing there.
func FolderSnapshot(t testing.TB, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %d\n", e.Name(), info.Size())
	}
	return b.String()
}

// WriteFile writes content to the file at path, such as a text file given
// to a lesson in place of a database.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// FailingWriter is an output that takes n writes, then fails every write
// after them, as a closed pipe does: stdout for a lesson that must still
// close what it opened.
func FailingWriter(n int) io.Writer { return &failingWriter{n: n} }

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n == 0 {
		return 0, errors.New("the reader went away")
	}
	w.n--
	return len(p), nil
}
