package guidelog_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"workbook/internal/guidelog"
	"workbook/internal/workbooktest"
)

// TestNewWritesWhatPythonsLoggingWrites logs the same messages with the
// guide's logging set-up in Python and with New: stderr must be the same,
// byte for byte, and the log file's lines the same but for the times, in
// the same format.
func TestNewWritesWhatPythonsLoggingWrites(t *testing.T) {
	python := workbooktest.PythonWith(t, "logging")
	if python == "" {
		t.Skip("no Python to compare with")
	}
	messages := []struct {
		level       slog.Level
		pythonLevel string
		message     string
	}{
		{slog.LevelInfo, "INFO", "Opened connection to users.db"},
		{slog.LevelDebug, "DEBUG", "below INFO, so logged nowhere"},
		{slog.LevelWarn, "WARNING", "a warning"},
		{slog.LevelError, "ERROR", "Error: no such table: users"},
		{slog.LevelInfo, "INFO", "Zoë's message, with 'quotes' and \\ and %s"},
		{slog.LevelInfo, "INFO", "Closed connection to users.db"},
	}

	// The program logs each message; a JSON string is a Python string
	// literal too.
	var program strings.Builder
	program.WriteString("def main(path):\n")
	for _, m := range messages {
		literal, err := json.Marshal(m.message)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&program, "    log.log(logging.%s, %s)\n", m.pythonLevel, literal)
	}
	// The program's one run gets the path "users.db", which it does not use.
	pythonRun := workbooktest.RunGuidePython(t, python, "connection.log", program.String(), "users.db")[0]

	t.Chdir(t.TempDir())
	var stderr bytes.Buffer
	logger, closeLog := guidelog.New(&stderr, "connection.log")
	for _, m := range messages {
		logger.Log(t.Context(), m.level, m.message)
	}
	closeLog()

	if stderr.String() != pythonRun.Stderr {
		t.Errorf("stderr:\n%q\nPython's:\n%q", stderr.String(), pythonRun.Stderr)
	}
	logged := workbooktest.ReadLogFile(t, "connection.log")
	if len(pythonRun.Log) != 5 || strings.Join(logged, "\n") != strings.Join(pythonRun.Log, "\n") {
		t.Errorf("the log file's lines after the time:\n%s\nPython's:\n%s", strings.Join(logged, "\n"), strings.Join(pythonRun.Log, "\n"))
	}
}
