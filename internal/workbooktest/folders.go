package workbooktest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// sourceFolder is the folder the test binary started in: the lesson's
// source folder, where its main.go and page are. RunInScratchFolder moves
// the tests elsewhere; SourceFolder goes back there.
var sourceFolder = sync.OnceValue(func() string {
	dir, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return dir
})

// RunInScratchFolder runs the tests and examples of a lesson in a new folder
// that holds the guide's users.db, as a learner's folder would, so that the
// lesson's log file lands there and not in the source tree. A lesson's
// TestMain is os.Exit(workbooktest.RunInScratchFolder(m)).
func RunInScratchFolder(m *testing.M) int {
	source := sourceFolder()
	dir, err := os.MkdirTemp("", filepath.Base(source)+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := MakeDB(filepath.Join(dir, "users.db"), GuideUsers...); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := os.Chdir(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.Chdir(source)
	return m.Run()
}

// SourceFolder is the lesson's source folder, where its main.go and page
// are, wherever the tests now run.
func SourceFolder() string { return sourceFolder() }

// InDir runs fn with dir as the current folder, then goes back: for
// Examples, which have no t.Chdir.
func InDir(dir string, fn func()) {
	old, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	if err := os.Chdir(dir); err != nil {
		panic(err)
	}
	defer os.Chdir(old)
	fn()
}

// Root is the top folder of the workbook, where go.mod is.
func Root(t testing.TB) string {
	t.Helper()
	for dir := SourceFolder(); ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.mod above the test's folder")
		}
	}
}

// Lesson is this lesson's folder as the learner types it after go run,
// such as "1-execute" or "extras/nested".
func Lesson(t testing.TB) string {
	t.Helper()
	rel, err := filepath.Rel(Root(t), SourceFolder())
	if err != nil {
		t.Fatal(err)
	}
	return filepath.ToSlash(rel)
}

// Source is the text of one of the lesson's source files, such as
// "main.go", as the build sees it: with an experiment's edit when the test
// runs inside one (see Experiment), so that a test that reads the code
// sees the edit too.
func Source(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(SourceFolder(), name)
	if edited, ok := overlaid(t, path); ok {
		path = edited
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// AllLessons lists every lesson folder of the workbook, such as "1-execute"
// or "extras/nested": each folder with a main.go, but no exercise.
func AllLessons(t testing.TB) []string {
	t.Helper()
	root := Root(t)
	var lessons []string
	for _, pattern := range []string{"*/main.go", "extras/*/main.go"} {
		matches, err := filepath.Glob(filepath.Join(root, pattern))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			rel, _ := filepath.Rel(root, filepath.Dir(m))
			if !strings.HasPrefix(rel, "internal") {
				lessons = append(lessons, filepath.ToSlash(rel))
			}
		}
	}
	return lessons
}
