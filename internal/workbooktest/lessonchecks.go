package workbooktest

import (
	"path/filepath"
	"strings"
	"testing"

	"workbook/internal/lesson"
)

// RunLessonAndCheckClosed is RunLesson, and fails the test if the run left
// the database file at dbPath open: a lesson closes all it opened, however
// it ends. Descriptors that the test itself holds on the file, from before
// the run, do not count. (OpenDescriptors finds none outside Linux.)
func RunLessonAndCheckClosed(t *testing.T, run lesson.Run, logFile, dbPath string) Run {
	t.Helper()
	before := OpenDescriptors(dbPath)
	got := RunLesson(t, run, logFile, dbPath)
	if after := OpenDescriptors(dbPath); len(after) > len(before) {
		t.Errorf("%s is still open after run, by descriptors %q: a connection was not closed", dbPath, after)
	}
	return got
}

// RunLessonOnABadDatabase is RunLessonAndCheckClosed on a database that
// the lesson must refuse: it fails the test unless run returns an error
// that contains advice, prints nothing on stdout, and leaves the
// database's folder as it was (no file created, none changed in size).
func RunLessonOnABadDatabase(t *testing.T, run lesson.Run, logFile, dbPath, advice string) Run {
	t.Helper()
	before := FolderSnapshot(t, filepath.Dir(dbPath))
	got := RunLessonAndCheckClosed(t, run, logFile, dbPath)
	if got.Err == nil || !strings.Contains(got.Err.Error(), advice) {
		t.Errorf("error = %v, want one that says %q", got.Err, advice)
	}
	if got.Stdout != "" {
		t.Errorf("stdout = %q, want nothing", got.Stdout)
	}
	if after := FolderSnapshot(t, filepath.Dir(dbPath)); after != before {
		t.Errorf("the database's folder changed from\n%s\nto\n%s", before, after)
	}
	return got
}
