package everylesson

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"workbook/internal/workbooktest"
)

// A command-line mistake and what every lesson must say about it.
type badCommandLine struct {
	name       string
	args       []string
	wantStatus int
	// wantStderr is in the first line of stderr for a usage error (status
	// 2), which the usage follows, and in the last line otherwise.
	wantStderr string
}

var badCommandLines = []badCommandLine{
	{"unknown flag", []string{"-nope"}, 2, "flag provided but not defined: -nope"},
	{"extra argument", []string{"users.db"}, 2, `unexpected argument "users.db"`},
	{"empty path", []string{"-db", ""}, 2, "the -db path is empty"},
	{"not a database", []string{"-db", "notes.txt"}, 1, "notes.txt is not an SQLite database"},
	{"a folder", []string{"-db", "."}, 1, ". is a folder, not a database file"},
	{"missing folder", []string{"-db", "nowhere/users.db"}, 1, "there is no folder nowhere"},
}

// missingDatabase is the mistake every lesson but 00-setup, which creates
// the file, refuses. The program runs in a folder outside the workbook, so
// the advice says where to type the command.
var missingDatabase = badCommandLine{"missing database", []string{"-db", "missing.db"}, 1,
	"there is no such file; create it with: go run ./00-setup -db missing.db (from the workbook's folder)"}

func TestEveryLessonRefusesABadCommandLineInOneLineAndCreatesNothing(t *testing.T) {
	bin := programs(t)
	notes := []byte("these are my notes, not a database\n")
	for _, lesson := range workbooktest.AllLessons(t) {
		program := workbooktest.Program(bin, lesson)
		t.Run(lesson, func(t *testing.T) {
			t.Parallel() // each run has a folder of its own
			tests := badCommandLines
			if lesson != "00-setup" {
				tests = append(tests[:len(tests):len(tests)], missingDatabase)
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					dir := t.TempDir()
					if err := os.WriteFile(filepath.Join(dir, "notes.txt"), notes, 0o644); err != nil {
						t.Fatal(err)
					}
					stdout, stderr, status := workbooktest.RunProgram(t, dir, program, tt.args...)
					if status != tt.wantStatus {
						t.Fatalf("exit status %d, want %d\nstderr: %s", status, tt.wantStatus, stderr)
					}
					line := workbooktest.LastLine(stderr)
					if tt.wantStatus == 2 {
						line = workbooktest.Lines(stderr)[0]
						if !strings.Contains(stderr, "\nusage: go run ./"+lesson+" [flags]\n") {
							t.Errorf("stderr does not show the usage line of go run ./%s:\n%s", lesson, stderr)
						}
					}
					if !strings.Contains(line, tt.wantStderr) {
						t.Errorf("stderr line %q does not contain %q\nstderr: %s", line, tt.wantStderr, stderr)
					}
					workbooktest.AssertNoStackTrace(t, stderr)
					if stdout != "" {
						t.Errorf("stdout = %q, want nothing", stdout)
					}
					// Nothing created or changed: the notes are as they
					// were and no database appeared. A log file may
					// appear, as the guide's logging creates one.
					if got, _ := os.ReadFile(filepath.Join(dir, "notes.txt")); !bytes.Equal(got, notes) {
						t.Errorf("notes.txt changed to %q", got)
					}
					for _, name := range workbooktest.DirEntries(t, dir) {
						if name != "notes.txt" && filepath.Ext(name) != ".log" {
							t.Errorf("%s was created", name)
						}
					}
				})
			}
		})
	}
}

func TestEveryLessonPrintsTheSameOnEachRunAndAfterTheExtras(t *testing.T) {
	workbooktest.Slow(t, "runs all 14 lessons twice in one folder, as run_all.sh does too")
	bin := programs(t)
	dir := t.TempDir()
	setUp(t, bin, dir)
	first := map[string]string{}
	for _, lesson := range workbooktest.AllLessons(t) {
		var outputs [2]string
		for i := range outputs {
			stdout, stderr, status := workbooktest.RunProgram(t, dir, workbooktest.Program(bin, lesson))
			if status != 0 {
				t.Fatalf("%s, run %d: exit status %d\nstderr: %s", lesson, i+1, status, stderr)
			}
			outputs[i] = stdout
		}
		if outputs[0] != outputs[1] {
			t.Errorf("%s printed differently the second time:\n%s\nthen:\n%s", lesson, outputs[0], outputs[1])
		}
		first[lesson] = outputs[0]
	}
	// The extras leave the guide's table as the core lessons read it.
	for _, lesson := range core {
		stdout, _, _ := workbooktest.RunProgram(t, dir, workbooktest.Program(bin, lesson))
		if stdout != first[lesson] {
			t.Errorf("%s prints differently after the extras ran:\n%s\nbefore:\n%s", lesson, stdout, first[lesson])
		}
	}
}

func TestEveryLessonCarriesOnWithoutItsLogFile(t *testing.T) {
	workbooktest.Slow(t, "runs every lesson once more; guidelog's own tests cover the warning")
	bin := programs(t)
	for _, lesson := range workbooktest.AllLessons(t) {
		if lesson == "00-setup" {
			continue
		}
		t.Run(lesson, func(t *testing.T) {
			dir := t.TempDir()
			guideDB(t, dir)
			// Every log file the lesson could open is a folder instead, so
			// opening it fails.
			src := readLessonFile(t, lesson, "main.go")
			for _, field := range strings.Fields(src) {
				if name := strings.Trim(field, `"(),`); strings.HasSuffix(name, ".log") && !strings.ContainsAny(name, "/*`") {
					os.Mkdir(filepath.Join(dir, name), 0o755)
				}
			}
			stdout, stderr, status := workbooktest.RunProgram(t, dir, workbooktest.Program(bin, lesson))
			if status != 0 {
				t.Fatalf("exit status %d, want 0\nstderr: %s", status, stderr)
			}
			if strings.Contains(src, `.log"`) && !strings.Contains(stderr, "warning: logging to stderr only") {
				t.Errorf("no warning that the log file could not be opened\nstderr: %s", stderr)
			}
			if stdout == "" {
				t.Error("the lesson printed nothing")
			}
		})
	}
}

// TestEveryLessonSaysItNeedsCgo runs every lesson as a learner without a C
// compiler does, CGO_ENABLED=0 go run ./LESSON from the top folder: each
// says in one line that it needs cgo, or, where main.go says that it
// builds only with cgo, go says that no file builds.
func TestEveryLessonSaysItNeedsCgo(t *testing.T) {
	// Each lesson's main calls lesson.Main (see
	// TestEveryMainGoHasFuncMainCallingLessonMainWithItsFolder), which says
	// this, and CGO_ENABLED=0 go vet ./... checks that the lessons build
	// without cgo: this test runs each of them so built.
	workbooktest.Slow(t, "builds every lesson a second time, without cgo")
	root := workbooktest.Root(t)
	before := workbooktest.DirEntries(t, root)
	for _, lesson := range workbooktest.AllLessons(t) {
		t.Run(lesson, func(t *testing.T) {
			stdout, stderr, status := workbooktest.RunProgram(t, root, "env", "CGO_ENABLED=0", "go", "run", "./"+lesson)
			want := lesson + " needs cgo because the SQLite driver is C code: install a C compiler (gcc) and run it with CGO_ENABLED=1\nexit status 1\n"
			if cgoOnly(t, lesson) {
				want = "package workbook/" + lesson + ": build constraints exclude all Go files in " + filepath.Join(root, filepath.FromSlash(lesson)) + "\n"
			}
			if status != 1 || stderr != want || stdout != "" {
				t.Errorf("exit status %d, stdout %q, stderr %q; want 1, nothing and %q", status, stdout, stderr, want)
			}
		})
	}
	if after := workbooktest.DirEntries(t, root); !slices.Equal(after, before) {
		t.Errorf("the top folder held %v, and now holds %v: a lesson created something", before, after)
	}
}

// readLessonFile is the text of a file in a lesson's folder.
func readLessonFile(t *testing.T, lesson, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(workbooktest.Root(t), filepath.FromSlash(lesson), name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
