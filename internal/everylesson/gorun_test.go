package everylesson

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"workbook/internal/workbooktest"
)

// TestEveryWayToGoRunALessonPrintsTheSame runs each lesson the learner
// runs first as go run ./LESSON from the top folder, as the pages say, and
// as the two habits a Python learner brings: go run LESSON/main.go from
// the top folder (python 1-execute.py) and go run main.go inside the
// lesson's folder. All three must work and print the same.
func TestEveryWayToGoRunALessonPrintsTheSame(t *testing.T) {
	workbooktest.Slow(t, "go run builds each lesson three times")
	lessons := []string{"00-setup", "0-databaseconnection", "1-execute", "3-concurrent"}
	// The programs run in a stand-in for the workbook made of links, so
	// that their log files land there and not in the source tree.
	top := workbooktest.ScratchWorkbook(t, lessons...)
	path := filepath.Join(t.TempDir(), "made.db")
	for _, lesson := range lessons {
		t.Run(lesson, func(t *testing.T) {
			ways := []struct{ dir, target string }{
				{top, "./" + lesson},
				{top, lesson + "/main.go"},
				{filepath.Join(top, lesson), "main.go"},
			}
			var first struct{ stdout, stderr string }
			for i, way := range ways {
				stdout, stderr, status := workbooktest.RunProgram(t, way.dir, "go", "run", way.target, "-db", path)
				if status != 0 {
					t.Errorf("go run %s (in %s): exit status %d\nstderr: %s", way.target, way.dir, status, stderr)
					continue
				}
				if i == 0 {
					first.stdout, first.stderr = stdout, stderr
					continue
				}
				// 3-concurrent's two fetches may log in either order.
				sameLog := slices.Equal(inAnyOrder(lesson, strings.SplitAfter(stderr, "\n")), inAnyOrder(lesson, strings.SplitAfter(first.stderr, "\n")))
				if stdout != first.stdout || !sameLog {
					t.Errorf("go run %s (in %s) prints\n%s\n%s\ngo run ./%s prints\n%s\n%s", way.target, way.dir, stdout, stderr, lesson, first.stdout, first.stderr)
				}
			}
		})
	}
}
