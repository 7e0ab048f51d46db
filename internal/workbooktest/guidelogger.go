package workbooktest

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"workbook/internal/guidelog"
)

// GuideLogger is the guide's logger, as guidelog.New makes it, for a test
// that calls a lesson's function with a logger of its own: the bare
// messages go to stderr, and the dated lines to a log file in a temporary
// folder. logged reads that file back as ReadLogFile does: each line's
// "LEVEL - message".
func GuideLogger(t testing.TB, stderr io.Writer) (logger *slog.Logger, logged func() []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "test.log")
	logger, closeLog := guidelog.New(stderr, path)
	t.Cleanup(closeLog)
	return logger, func() []string {
		t.Helper()
		return ReadLogFile(t, path)
	}
}
