package everylesson

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"workbook/internal/workbooktest"
)

// buildsOnlyWithCgo is the one build constraint a lesson may start with,
// and only where its main.go says why in these words: one whose code
// names sqlite3.Error and its codes, which the driver defines in its C
// part.
const (
	buildsOnlyWithCgo = "//go:build cgo"
	saysWhy           = "this one builds only with cgo"
)

// cgoOnly reports whether lesson's main.go says that the lesson builds
// only with cgo.
func cgoOnly(t *testing.T, lesson string) bool {
	t.Helper()
	return strings.Contains(strings.Join(strings.Fields(readLessonFile(t, lesson, "main.go")), " "), saysWhy)
}

func TestEveryLessonFolderHoldsOneProgramFileMainGo(t *testing.T) {
	root := workbooktest.Root(t)
	for _, lesson := range workbooktest.AllLessons(t) {
		entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(lesson)))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || filepath.Ext(name) != ".go" {
				continue
			}
			if !strings.HasSuffix(name, "_test.go") && name != "main.go" {
				t.Errorf("%s/%s: a lesson's only program file is main.go, so that go run %s/main.go runs the whole lesson", lesson, name, lesson)
			}
			// A build constraint above the package clause hides the file
			// from a build without it, and the learner does not see why.
			var constraints []string
			for _, line := range strings.Split(readLessonFile(t, lesson, name), "\n") {
				if strings.HasPrefix(line, "package ") {
					break
				}
				if strings.HasPrefix(line, "//go:build") {
					constraints = append(constraints, line)
				}
			}
			switch {
			case cgoOnly(t, lesson) && !slices.Equal(constraints, []string{buildsOnlyWithCgo}):
				t.Errorf("%s/%s: its main.go says it builds only with cgo, so it starts with %q alone, not %q", lesson, name, buildsOnlyWithCgo, constraints)
			case !cgoOnly(t, lesson) && len(constraints) > 0:
				t.Errorf("%s/%s starts with %q: a lesson's files build everywhere, and say what they need when they run (or main.go says why %q)", lesson, name, constraints, saysWhy)
			}
		}
	}
}

// mainGo is a lesson's main.go, parsed.
func mainGo(t *testing.T, lesson string) (*token.FileSet, *ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, lesson+"/main.go", readLessonFile(t, lesson, "main.go"), parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	return fset, file
}

func TestEveryMainGoHasFuncMainCallingLessonMainWithItsFolder(t *testing.T) {
	for _, lesson := range workbooktest.AllLessons(t) {
		_, file := mainGo(t, lesson)
		calls := 0
		for _, decl := range file.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Name.Name != "main" || fn.Recv != nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || !isCallOf(call, "lesson", "Main") || len(call.Args) == 0 {
					return true
				}
				calls++
				if name, ok := stringLiteral(call.Args[0]); !ok || name != lesson {
					t.Errorf("%s/main.go: lesson.Main is given %s, want the folder's name %q, which starts its usage and error lines", lesson, exprText(call.Args[0]), lesson)
				}
				return true
			})
		}
		if calls != 1 {
			t.Errorf("%s/main.go: func main calls lesson.Main %d times, want once: func main() { lesson.Main(%q, run) }", lesson, calls, lesson)
		}
	}
}

// looksLikeSQL reports whether s has one of SQL's words, written in
// capitals as the lessons write SQL and no sentence does.
func looksLikeSQL(s string) bool {
	for _, word := range strings.Fields(s) {
		switch word {
		case "SELECT", "INSERT", "UPDATE", "DELETE", "FROM", "WHERE":
			return true
		}
	}
	return false
}

func TestEveryMainGoReturnsErrorsAndKeepsValuesOutOfTheSQL(t *testing.T) {
	for _, lesson := range workbooktest.AllLessons(t) {
		for _, problem := range mainGoProblems(mainGo(t, lesson)) {
			t.Error(problem)
		}
	}
}

// mainGoProblems finds, in a lesson's code, the calls that end the program
// below main and the SQL built from values.
func mainGoProblems(fset *token.FileSet, file *ast.File) []string {
	var problems []string
	report := func(n ast.Node, format string, args ...any) {
		problems = append(problems, fset.Position(n.Pos()).String()+": "+fmt.Sprintf(format, args...))
	}
	// The values recover() returned, which a deferred rollback may pass
	// on with panic, as Python's __exit__ lets an exception go on.
	recovered := map[string]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		if a, ok := n.(*ast.AssignStmt); ok && len(a.Lhs) == 1 && len(a.Rhs) == 1 {
			if call, ok := a.Rhs[0].(*ast.CallExpr); ok && isBuiltin(call, "recover") {
				if id, ok := a.Lhs[0].(*ast.Ident); ok {
					recovered[id.Name] = true
				}
			}
		}
		return true
	})
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			// Errors go back to main as values, so that every deferred
			// call runs and main prints one line.
			for _, f := range []string{"Fatal", "Fatalf", "Fatalln", "Panic", "Panicf", "Panicln"} {
				if isCallOf(n, "log", f) {
					report(n, "log.%s: return the error to main instead", f)
				}
			}
			if isCallOf(n, "os", "Exit") {
				report(n, "os.Exit skips the deferred calls: return the error to main instead")
			}
			if isBuiltin(n, "panic") {
				if id, ok := n.Args[0].(*ast.Ident); !ok || !recovered[id.Name] {
					report(n, "panic(%s): return the error to main instead", exprText(n.Args[0]))
				}
			}
			// Values go in placeholders, never into the SQL text.
			for _, f := range []string{"Sprintf", "Sprint", "Sprintln"} {
				if isCallOf(n, "fmt", f) && len(n.Args) > 0 {
					if format, ok := stringLiteral(n.Args[0]); ok && looksLikeSQL(format) {
						report(n, "SQL built with fmt.%s: use ? placeholders", f)
					}
				}
			}
		case *ast.BinaryExpr:
			if n.Op != token.ADD {
				return true
			}
			for _, pair := range [][2]ast.Expr{{n.X, n.Y}, {n.Y, n.X}} {
				text, ok := stringLiteral(pair[0])
				if _, other := pair[1].(*ast.BasicLit); ok && !other && looksLikeSQL(text) {
					report(n, "SQL built with +: use ? placeholders")
				}
			}
		}
		return true
	})
	return problems
}

// isCallOf reports whether call calls pkg.name.
func isCallOf(call *ast.CallExpr, pkg, name string) bool {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return false
	}
	id, ok := sel.X.(*ast.Ident)
	return ok && id.Name == pkg
}

// isBuiltin reports whether call calls the built-in function name.
func isBuiltin(call *ast.CallExpr, name string) bool {
	id, ok := call.Fun.(*ast.Ident)
	return ok && id.Name == name && len(call.Args) <= 1 && (name != "panic" || len(call.Args) == 1)
}

// stringLiteral is the value of e if e is a string literal.
func stringLiteral(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

// exprText is e as it is written, for messages.
func exprText(e ast.Expr) string {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Value
	case *ast.Ident:
		return e.Name
	}
	return "an expression"
}

func TestEveryPageQuotesItsMainGo(t *testing.T) {
	for _, lesson := range workbooktest.AllLessons(t) {
		page := readLessonFile(t, lesson, "README.md")
		for _, problem := range workbooktest.PageQuoteProblems(page, readLessonFile(t, lesson, "main.go")) {
			t.Errorf("%s/README.md: %s", lesson, problem)
		}
	}
}

// code is a page's code: its code blocks and `code spans`.
var code = regexp.MustCompile("(?s)```.*?```|`[^`]*`")

// lineCitation is a citation of a line by its number: "line 42", "lines
// 30 to 35", "main.go:42".
var lineCitation = regexp.MustCompile(`(?i)\blines?\s+\d+|\.go:\d+`)

func TestNoPageCitesALineByItsNumber(t *testing.T) {
	for _, lesson := range workbooktest.AllLessons(t) {
		// Line numbers in code (a program's output, say) cite nothing.
		prose := code.ReplaceAllString(readLessonFile(t, lesson, "README.md"), "")
		for _, cite := range lineCitation.FindAllString(prose, -1) {
			t.Errorf("%s/README.md cites %q: quote the code in a ```go block instead, which a line added above it does not break", lesson, cite)
		}
	}
}

func TestRunAllAndTheTopPageListEveryLesson(t *testing.T) {
	root := workbooktest.Root(t)
	runAll, err := os.ReadFile(filepath.Join(root, "run_all.sh"))
	if err != nil {
		t.Fatal(err)
	}
	top, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, lesson := range workbooktest.AllLessons(t) {
		if !strings.Contains(string(runAll), "\n\t"+lesson+"\n") {
			t.Errorf("run_all.sh does not run %s", lesson)
		}
		if !strings.Contains(string(top), "]("+lesson+"/README.md)") && !strings.Contains(string(top), "]("+lesson+"/)") {
			t.Errorf("README.md does not link %s's page", lesson)
		}
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(lesson), "README.md")); err != nil {
			t.Errorf("%s has no page: %v", lesson, err)
		}
	}
}
