package workbooktest

import (
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Discard is a logger that drops every record, for tests that do not read
// the log.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// logLine is one line of the guide's log file.
var logLine = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} - (INFO|WARNING|ERROR) - (.*)$`)

// LogFileMessages checks that every line of a log file's text has the
// guide's format, "2025-05-20 01:05:00,123 - INFO - message", and returns
// each line's "LEVEL - message" part.
func LogFileMessages(t testing.TB, log string) []string {
	t.Helper()
	var out []string
	for _, line := range Lines(log) {
		m := logLine.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("log line %q is not in the guide's format", line)
			continue
		}
		out = append(out, m[1]+" - "+m[2])
	}
	return out
}

// ReadLogFile returns the "LEVEL - message" part of each line of the log
// file at path, checking that every line has the guide's format.
func ReadLogFile(t testing.TB, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the log file: %v", err)
	}
	return LogFileMessages(t, string(b))
}

// Lines splits text into its lines, without the newline that ends the
// last one; an empty text has none.
func Lines(text string) []string {
	if text == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

// LastLine is the last line of text.
func LastLine(text string) string {
	lines := Lines(text)
	if len(lines) == 0 {
		return ""
	}
	return lines[len(lines)-1]
}
