package taskcheck

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"workbook/internal/workbooktest"
)

// A mistake is a realistic slip in a lesson's idiom: an edit to the
// lesson's main.go, and the check that must catch it.
type mistake struct {
	name     string
	old, new string
	caughtBy string // the name of the check that must fail
}

// exercises are the lessons with an exercise, their checks, and the
// mistakes their checker must catch.
var exercises = []struct {
	lesson   string
	checks   []Check
	mistakes []mistake
}{
	{"0-databaseconnection", Task0, []mistake{
		{"no ping", "\tif err := db.PingContext(ctx); err != nil {", "\tif err := error(nil); err != nil {", "proves the file is a database before it logs Opened"},
		{"no mode=rw", "?mode=rw&", "?", "never creates a database file that is missing"},
		{"no deferred Close", "\tdefer conn.Close() // it only read", "\t_ = conn.Close // it only read", "closes the connection on every way out, with defer"},
		{"no rows.Err", "\treturn rows.Err()\n", "\treturn nil\n", "reports an error that comes after the first row (rows.Err)"},
	}},
	{"1-execute", Task1, []mistake{
		{"the value in the SQL text", `dbPath, "SELECT * FROM users WHERE age > ?", 25)`, `dbPath, "SELECT * FROM users WHERE age > 25")`, "keeps the value 25 out of the SQL text, in a placeholder"},
		{"no mode=rw", "?mode=rw&", "?", "never creates a database file that is missing"},
		{"no rows.Err", "\treturn all, rows.Err()\n", "\treturn all, nil\n", "reports an error that comes after the first row (rows.Err)"},
		{"a close logged after a failed query", "\t\tdb.Close()\n\t\treturn nil, err\n", "\t\t(&Results{db: db, name: dbPath, logger: logger}).Close()\n\t\treturn nil, err\n", "fails with one line when the query fails, and logs no close"},
		{"closed before the advice", "\t\terr = dbfile.Explain(ctx, db, dbPath, err, \"age\")\n", "\t\tdb.Close()\n\t\terr = dbfile.Explain(ctx, db, dbPath, err, \"age\")\n", "fails with one line when the query fails, and logs no close"},
		{"no deferred Close", "\tdefer results.Close() // it only read, so its Close has nothing to lose\n", "", "logs the query and the close as the guide's Python does"},
	}},
	{"3-concurrent", Task3, []mistake{
		{"no Wait", "\twg.Wait()\n\n", "\n", "prints both lists as the guide's Python does"},
		{"the error not returned", "\t\treturn nil, nil, context.Cause(ctx) // the error that cancelled first\n", "\t\treturn all, older, nil\n", "returns the error of either fetch"},
		{"no rows.Err", "\treturn all, rows.Err()\n", "\treturn all, nil\n", "reports an error that comes after the first row (rows.Err)"},
		{"no cancel on failure", "\t\tif errOlder != nil {\n\t\t\tcancel(errOlder)\n\t\t}\n", "", "cancels the other fetch when one fails"},
	}},
	{"extras/transactional-connection", TransactionalConnection, []mistake{
		{"no deferred Rollback", "\tdefer tx.Rollback()\n", "", "rolls back everything a failing step wrote"},
		{"Commit's error ignored", "\tif err := tx.Commit(); err != nil {\n\t\tlogger.Error(\"Transaction rolled back: \" + err.Error())\n\t\treturn err\n\t}\n", "\ttx.Commit()\n", "reports a failed COMMIT as rolled back (Commit's error)"},
		{"committed logged before Commit", "\tif err := tx.Commit(); err != nil {\n\t\tlogger.Error(\"Transaction rolled back: \" + err.Error())\n\t\treturn err\n\t}\n\tlogger.Info(\"Transaction committed\")\n", "\tlogger.Info(\"Transaction committed\")\n\tif err := tx.Commit(); err != nil {\n\t\tlogger.Error(\"Transaction rolled back: \" + err.Error())\n\t\treturn err\n\t}\n", "reports a failed COMMIT as rolled back (Commit's error)"},
		{"no _foreign_keys=1", "&_foreign_keys=1", "", "reports a failed COMMIT as rolled back (Commit's error)"},
		{"no _txlock=immediate", "&_txlock=immediate", "", "takes the write lock as the transaction begins (_txlock=immediate)"},
	}},
}

// TestEachLessonPassesItsChecks: the checker asks nothing of the learner
// that the lesson does not do.
func TestEachLessonPassesItsChecks(t *testing.T) {
	workbooktest.Slow(t, "builds and runs each lesson with an exercise")
	for _, e := range exercises {
		t.Run(e.lesson, func(t *testing.T) {
			path := Build(t, filepath.Join(workbooktest.Root(t), e.lesson))
			RunChecks(t, Program{Path: path, Lesson: e.lesson}, e.checks)
		})
	}
}

// TestEachMistakeIsCaught applies each realistic mistake to the lesson's
// own main.go, builds it, and checks that the check named for it fails.
func TestEachMistakeIsCaught(t *testing.T) {
	workbooktest.Slow(t, "builds each lesson once per mistake")
	for _, e := range exercises {
		src := readFile(t, filepath.Join(workbooktest.Root(t), e.lesson, "main.go"))
		for _, m := range e.mistakes {
			t.Run(e.lesson+"/"+m.name, func(t *testing.T) {
				if strings.Count(src, m.old) != 1 {
					t.Fatalf("the lesson's main.go has %q %d times, want once", m.old, strings.Count(src, m.old))
				}
				dir := filepath.Join(workbooktest.Root(t), e.lesson)
				program := buildWith(t, dir, strings.Replace(src, m.old, m.new, 1))
				for _, c := range e.checks {
					if c.Name == m.caughtBy {
						if c.Problem(t, Program{Path: program, Lesson: e.lesson}) == "" {
							t.Errorf("the check %q passes a program with the mistake", c.Name)
						}
						return
					}
				}
				t.Fatalf("no check is named %q", m.caughtBy)
			})
		}
	}
}

// TestEachExerciseKeepsItsContract runs each exercise's checker as the
// learner runs it: it fails on the stub, with at least one failing check
// per TODO, and passes when the stub's main.go is the lesson's own.
func TestEachExerciseKeepsItsContract(t *testing.T) {
	workbooktest.Slow(t, "runs each exercise's checker twice")
	root := workbooktest.Root(t)
	for _, e := range exercises {
		t.Run(e.lesson, func(t *testing.T) {
			exercise := filepath.Join(root, e.lesson, "exercise", "main.go")
			stub := readFile(t, exercise)
			todos := map[string]bool{}
			for _, m := range regexp.MustCompile(`TODO \d+`).FindAllString(stub, -1) {
				todos[m] = true
			}
			out, err := runChecker(t, root, e.lesson, nil)
			if err == nil {
				t.Fatalf("the checker passes the stub:\n%s", out)
			}
			if failed := strings.Count(out, "    --- FAIL: TestYourProgram/"); failed < len(todos) {
				t.Errorf("the checker fails %d checks on the stub, which has %d TODOs: want one at least for each\n%s", failed, len(todos), out)
			}

			answer := filepath.Join(root, e.lesson, "main.go")
			if out, err := runChecker(t, root, e.lesson, map[string]string{exercise: answer}); err != nil {
				t.Errorf("the checker fails the lesson's own main.go: %v\n%s", err, out)
			}
		})
	}
}

// runChecker runs go test -tags exercise on the lesson's exercise, with
// files replaced as go build's -overlay replaces them. The overlay goes in
// GOFLAGS, so that the checker's own go build of the program uses it too.
func runChecker(t *testing.T, root, lesson string, replace map[string]string) (string, error) {
	t.Helper()
	cmd := exec.Command("go", "test", "-count=1", "-tags", "exercise", "./"+lesson+"/exercise")
	cmd.Dir = root
	if replace != nil {
		cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -overlay="+overlayFile(t, replace)))
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// buildWith builds the program in dir with src in the place of its main.go.
func buildWith(t *testing.T, dir, src string) string {
	t.Helper()
	edited := filepath.Join(t.TempDir(), "main.go")
	if err := os.WriteFile(edited, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	program := filepath.Join(t.TempDir(), "program")
	build := exec.Command("go", "build", "-overlay", overlayFile(t, map[string]string{filepath.Join(dir, "main.go"): edited}), "-o", program, ".")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build with the mistake: %v\n%s", err, out)
	}
	return program
}

// overlayFile writes go build's -overlay file for replace, which maps a
// file's path to the file that stands for it.
func overlayFile(t *testing.T, replace map[string]string) string {
	t.Helper()
	b, err := json.Marshal(map[string]map[string]string{"Replace": replace})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "overlay.json")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEachExercisePageSaysHowToStart checks that the page of each lesson
// with an exercise leads to it with the two commands.
func TestEachExercisePageSaysHowToStart(t *testing.T) {
	root := workbooktest.Root(t)
	for _, e := range exercises {
		page := readFile(t, filepath.Join(root, e.lesson, "README.md"))
		for _, want := range []string{"\n## Your turn\n", "go run ./" + e.lesson + "/exercise\n", "go test -tags exercise ./" + e.lesson + "/exercise\n"} {
			if !strings.Contains(page, want) {
				t.Errorf("%s/README.md does not show %q", e.lesson, strings.TrimSpace(want))
			}
		}
	}
}
