package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"workbook/internal/workbooktest"
)

// TestCommandLine runs 00-setup as a program, for what only the program
// does: the -users flag's refusals (exit status 2, from flag.Parse), a file
// that may not be written, and the one line it prints for a table it
// cannot fill.
func TestCommandLine(t *testing.T) {
	program := buildProgram(t)

	t.Run("bad -users values", func(t *testing.T) {
		for _, tt := range []struct{ value, want string }{
			{"-5", `invalid value "-5" for flag -users: give 0 or more users`},
			{"many", `invalid value "many" for flag -users: not a whole number`},
		} {
			dir := t.TempDir()
			stdout, stderr, status := workbooktest.RunProgram(t, dir, program, "-users", tt.value)
			if status != 2 || !strings.HasPrefix(stderr, tt.want+"\nusage: go run ./00-setup [flags]\n") {
				t.Errorf("-users %s: status %d, stderr:\n%s\nwant status 2 and %q, then the usage", tt.value, status, stderr, tt.want)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			assertDirHolds(t, dir)
		}
	})

	t.Run("a file it may not write", func(t *testing.T) {
		// root may write any file, so the program runs as nobody there.
		dir := t.TempDir()
		command := []string{program}
		if os.Geteuid() == 0 {
			setpriv, err := exec.LookPath("setpriv")
			if err != nil {
				t.Skip("running as root without setpriv to run as another user")
			}
			command = []string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", program}
			for _, d := range []string{filepath.Dir(program), dir, filepath.Dir(dir)} {
				if err := os.Chmod(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
		}
		path := filepath.Join(dir, "users.db")
		if _, err := runSetup(t, path); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
		file := readFile(t, path)
		stdout, stderr, status := workbooktest.RunProgram(t, dir, command[0], command[1:]...)
		want := "00-setup: error creating database: cannot write to users.db (insert alice.smith@example.com: attempt to write a readonly database): check that you may write to the file and to its folder\n"
		if status != 1 || stderr != want {
			t.Errorf("status %d, stderr %q; want 1 and %q", status, stderr, want)
		}
		if stdout != "" {
			t.Errorf("stdout = %q, want nothing", stdout)
		}
		if !bytes.Equal(readFile(t, path), file) {
			t.Error("the file changed")
		}
		assertDirHolds(t, dir, "users.db")
	})

	t.Run("the refusal the page shows", func(t *testing.T) {
		// A go.mod like the workbook's makes the advice name the command
		// as it is typed from the workbook's top folder.
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module workbook\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(dir, "00-setup"), 0o755); err != nil {
			t.Fatal(err)
		}
		db := workbooktest.NewUsersDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)`)
		if err := os.Rename(db, filepath.Join(dir, "mine.db")); err != nil {
			t.Fatal(err)
		}
		_, stderr, status := workbooktest.RunProgram(t, dir, program, "-db", "mine.db")
		if status != 1 {
			t.Errorf("status %d, want 1", status)
		}
		workbooktest.AssertPageShows(t, stderr)
	})
}

// TestCtrlCLeavesNoJournal presses Ctrl-C while 00-setup -users 3000000
// inserts, on a new path and on the guide's users.db in turn. Each run
// must exit with status 130 and leave no journal behind, and the file
// must hold what it held before: no table at all on the new path.
func TestCtrlCLeavesNoJournal(t *testing.T) {
	pressCtrlCWhileInserting(t, 4)
}

// TestCtrlCLeavesNoJournalManyTimes does the same thirty times: a journal
// left behind shows in a few runs out of ten, not in every one.
func TestCtrlCLeavesNoJournalManyTimes(t *testing.T) {
	workbooktest.Slow(t, "presses Ctrl-C in 30 runs of the program, about 15 s")
	pressCtrlCWhileInserting(t, 30)
}

func pressCtrlCWhileInserting(t *testing.T, runs int) {
	program := buildProgram(t)
	journalsLeft := 0
	for i := range runs {
		dir := t.TempDir()
		path := filepath.Join(dir, "users.db")
		newPath := i%2 == 0
		var before []byte
		if !newPath {
			if _, err := runSetup(t, path); err != nil {
				t.Fatal(err)
			}
			before = readFile(t, path)
		}
		stderr, status := pressCtrlC(t, dir, path+"-journal", program, "-users", "3000000")
		if want := "00-setup: interrupted; its deferred cleanup ran\n"; status != 130 || stderr != want {
			t.Errorf("run %d: status %d, stderr %q; want 130 and %q", i+1, status, stderr, want)
		}
		// A journal left behind must be looked at before SQLite opens the
		// file again: opening it would roll the journal back and remove it.
		if _, err := os.Stat(path + "-journal"); err == nil {
			journalsLeft++
			continue
		}
		if newPath {
			if tables := pyRows(t, path, "SELECT count(*) FROM sqlite_schema"); tables[0] != "(0,)" {
				t.Errorf("run %d on a new path: %s tables after Ctrl-C, want none", i+1, tables[0])
			}
		} else if !bytes.Equal(readFile(t, path), before) {
			t.Errorf("run %d: the file changed; it holds %s users", i+1, pyRows(t, path, "SELECT count(*) FROM users")[0])
		}
		assertDirHolds(t, dir, "users.db")
	}
	if journalsLeft > 0 {
		t.Errorf("Ctrl-C left users.db-journal behind in %d of %d runs: the transaction was not rolled back before the program exited", journalsLeft, runs)
	}
}

// pressCtrlC starts program with args in dir, waits until its transaction
// has written (journal exists) and 300 ms more, then presses Ctrl-C
// (SIGINT) and waits for the program to exit. It returns what the program
// printed on stderr and its exit status.
func pressCtrlC(t *testing.T, dir, journal, program string, args ...string) (stderr string, status int) {
	t.Helper()
	ctx := workbooktest.Context(t)
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Dir = dir
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	ended := false
	workbooktest.WaitFor(t, "the journal of "+filepath.Base(program)+"'s transaction", func() bool {
		select {
		case err := <-exited:
			exited <- err // for the wait below
			ended = true
			return true
		default:
		}
		_, err := os.Stat(journal)
		return err == nil
	})
	if ended {
		t.Fatalf("%s ended before its transaction wrote anything; stderr: %s", filepath.Base(program), errOut.String())
	}
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := <-exited
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s was still running when the test's time ran out: a hang, or a very slow machine; stderr: %s", filepath.Base(program), errOut.String())
	case errors.As(err, &exitErr):
		status = exitErr.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return errOut.String(), status
}

// buildProgram builds 00-setup once for all the tests, as go run builds it
// (with an experiment's edit, inside one), and returns its path.
func buildProgram(t *testing.T) string {
	t.Helper()
	program, err := builtProgram()
	if err != nil {
		t.Fatal(err)
	}
	return program
}

// builtProgram is the program, in the scratch folder that the tests run in
// and TestMain removes at the end.
var builtProgram = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	program := filepath.Join(dir, "00-setup")
	build := exec.Command("go", "build", "-o", program, ".")
	build.Dir = workbooktest.SourceFolder()
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return program, nil
})

// TestEveryQueryIsAConstant reads main.go and checks that every SQL text
// given to Exec, Query or Prepare is a string constant: values go through
// placeholders, never into the SQL.
func TestEveryQueryIsAConstant(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "main.go", workbooktest.Source(t, "main.go"), 0)
	if err != nil {
		t.Fatal(err)
	}
	// A statement made by PrepareContext takes values only.
	prepared := map[string]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		if a, ok := n.(*ast.AssignStmt); ok && len(a.Rhs) == 1 {
			if call, ok := a.Rhs[0].(*ast.CallExpr); ok {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "PrepareContext" {
					prepared[a.Lhs[0].(*ast.Ident).Name] = true
				}
			}
		}
		return true
	})
	calls := 0
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok {
			return true
		}
		if recv, ok := sel.X.(*ast.Ident); ok && prepared[recv.Name] {
			return true
		}
		switch sel.Sel.Name {
		case "ExecContext", "QueryContext", "QueryRowContext", "PrepareContext":
		default:
			return true
		}
		calls++
		if len(call.Args) < 2 || !isConstant(call.Args[1]) {
			t.Errorf("%s: the SQL of %s is not a string constant", fset.Position(call.Pos()), sel.Sel.Name)
		}
		return true
	})
	if calls == 0 {
		t.Error("main.go runs no SQL at all")
	}
}

// isConstant reports whether e is a string literal or a constant declared
// in the same file.
func isConstant(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Kind == token.STRING
	case *ast.Ident:
		return e.Obj != nil && e.Obj.Kind == ast.Con
	}
	return false
}
