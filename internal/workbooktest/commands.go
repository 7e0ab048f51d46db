package workbooktest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ScratchWorkbook makes a stand-in for the workbook's top folder in a new
// temporary folder and returns its path: a link to each of the top
// folder's files and folders, as an experiment's command runs in. Each of
// lessons is a folder of links instead, so that a program run inside it
// (go run main.go) writes its log file in the scratch folder and not in
// the lesson's source folder.
func ScratchWorkbook(t *testing.T, lessons ...string) string {
	t.Helper()
	top := filepath.Join(t.TempDir(), "workbook")
	root := Root(t)
	linkTopFolder(t, root, top)
	for _, lesson := range lessons {
		// Each folder on the way to the lesson becomes a folder of links,
		// so that nothing is ever made in the source tree through a link.
		dir, source := top, root
		for _, name := range strings.Split(lesson, "/") {
			dir, source = filepath.Join(dir, name), filepath.Join(source, name)
			info, err := os.Lstat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if info.Mode()&os.ModeSymlink == 0 {
				continue // made a folder of links already
			}
			if err := os.Remove(dir); err != nil { // the link, not its target
				t.Fatal(err)
			}
			linkTopFolder(t, source, dir)
		}
	}
	return top
}
