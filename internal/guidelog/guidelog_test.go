package guidelog_test

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"workbook/internal/guidelog"
	"workbook/internal/workbooktest"
)

// datedLine is a line of the log file: the time as Python's asctime writes
// it, the level's name and the message.
var datedLine = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) - ([A-Z]+) - (.*)$`)

// readFile returns the text of the file at path.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNewWritesTheMessageToStderrAndTheDatedLineToTheFile(t *testing.T) {
	t.Chdir(t.TempDir())
	var stderr bytes.Buffer
	before := time.Now().Truncate(time.Millisecond)
	logger, closeLog := guidelog.New(&stderr, "connection.log")
	logger.Debug("a debug message, below INFO")
	logger.Info("Opened connection to users.db")
	logger.Warn("a warning")
	logger.Error("Error: no such table: users")
	logger.Info("Zoë's line, with attributes", "rows", 3, "db", "users.db")
	closeLog()
	after := time.Now()

	wantStderr := "Opened connection to users.db\n" +
		"a warning\n" +
		"Error: no such table: users\n" +
		"Zoë's line, with attributes rows=3 db=users.db\n"
	if stderr.String() != wantStderr {
		t.Errorf("stderr:\n%s\nwant the bare messages:\n%s", stderr.String(), wantStderr)
	}

	lines := workbooktest.Lines(readFile(t, "connection.log"))
	want := []string{
		"INFO - Opened connection to users.db",
		"WARNING - a warning",
		"ERROR - Error: no such table: users",
		"INFO - Zoë's line, with attributes rows=3 db=users.db",
	}
	if len(lines) != len(want) {
		t.Fatalf("the log file:\n%s\nwant %d lines", strings.Join(lines, "\n"), len(want))
	}
	for i, line := range lines {
		m := datedLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("log line %q is not in the guide's format", line)
			continue
		}
		if got := m[2] + " - " + m[3]; got != want[i] {
			t.Errorf("log line %q, want %q after the time", line, want[i])
		}
		at, err := time.ParseInLocation(guidelog.TimeFormat, m[1], time.Local)
		if err != nil || at.Before(before) || at.After(after) {
			t.Errorf("log line %q: its time is not the time it was logged, between %s and %s (%v)", line,
				before.Format(guidelog.TimeFormat), after.Format(guidelog.TimeFormat), err)
		}
	}
}

func TestNewAppendsToTheFile(t *testing.T) {
	t.Chdir(t.TempDir())
	earlier := "2025-05-20 01:05:00,123 - INFO - Opened connection to users.db\n"
	if err := os.WriteFile("query.log", []byte(earlier), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, message := range []string{"first run", "second run"} {
		logger, closeLog := guidelog.New(&bytes.Buffer{}, "query.log")
		logger.Info(message)
		closeLog()
	}
	text := readFile(t, "query.log")
	if !strings.HasPrefix(text, earlier) {
		t.Errorf("the log file:\n%s\nno longer starts with the line it had", text)
	}
	got := workbooktest.LogFileMessages(t, text)
	want := []string{"INFO - Opened connection to users.db", "INFO - first run", "INFO - second run"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("the log file's lines:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestNewWarnsOnceWhenTheFileCannotBeOpened(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.Mkdir("async.log", 0o755); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	logger, closeLog := guidelog.New(&stderr, "async.log")
	logger.Info("Opened connection to users.db")
	logger.Error("Error: database is locked")
	closeLog()

	lines := workbooktest.Lines(stderr.String())
	want := []string{
		"warning: logging to stderr only: open async.log: is a directory",
		"Opened connection to users.db",
		"Error: database is locked",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("stderr:\n%s\nwant\n%s", stderr.String(), strings.Join(want, "\n"))
	}
	if entries := workbooktest.DirEntries(t, "async.log"); len(entries) != 0 {
		t.Errorf("the folder async.log holds %s, want nothing written in it", entries)
	}
}

func TestNewKeepsLinesWholeAcrossGoroutines(t *testing.T) {
	t.Chdir(t.TempDir())
	var stderr byteByByte
	logger, closeLog := guidelog.New(&stderr, "async.log")
	const goroutines, each = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				logger.Info(fmt.Sprintf("goroutine %d, message %d of the ones it logs", g, i))
			}
		})
	}
	wg.Wait()
	closeLog()

	seen := map[string]bool{}
	for _, line := range workbooktest.Lines(stderr.String()) {
		seen[line] = true
	}
	fileLines := workbooktest.LogFileMessages(t, readFile(t, "async.log"))
	for g := range goroutines {
		for i := range each {
			message := fmt.Sprintf("goroutine %d, message %d of the ones it logs", g, i)
			if !seen[message] {
				t.Fatalf("stderr lacks the whole line %q", message)
			}
		}
	}
	if len(seen) != goroutines*each || len(fileLines) != goroutines*each {
		t.Errorf("%d different lines on stderr, %d in the file; want %d each", len(seen), len(fileLines), goroutines*each)
	}
	for _, line := range fileLines {
		if !seen[strings.TrimPrefix(line, "INFO - ")] {
			t.Fatalf("the file's line %q is not one of the messages", line)
		}
	}
}

// byteByByte is a buffer that takes each write a byte at a time, so that
// two writes at once would mix their bytes. It has no lock of its own: the
// logger's lock must keep two writes apart.
type byteByByte struct {
	buf bytes.Buffer
}

func (b *byteByByte) Write(p []byte) (int, error) {
	for _, c := range p {
		b.buf.WriteByte(c)
		runtime.Gosched()
	}
	return len(p), nil
}

func (b *byteByByte) String() string { return b.buf.String() }
