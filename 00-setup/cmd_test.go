//go:build cgo

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCommandLine runs 00-setup as a program, for what only the program
// does: the -users flag's refusals (exit status 2, from flag.Parse), a file
// that may not be written, and Ctrl-C in the middle of the inserts.
func TestCommandLine(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the program")
	}
	bin := t.TempDir()
	program := filepath.Join(bin, "00-setup")
	build := exec.Command("go", "build", "-o", program, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	t.Run("bad -users values", func(t *testing.T) {
		for _, tt := range []struct{ value, want string }{
			{"-5", `invalid value "-5" for flag -users: give 0 or more users`},
			{"many", `invalid value "many" for flag -users: not a whole number`},
		} {
			dir := t.TempDir()
			stdout, stderr, status := runCommand(t, dir, nil, program, "-users", tt.value)
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
		var asUser []string
		if os.Geteuid() == 0 {
			setpriv, err := exec.LookPath("setpriv")
			if err != nil {
				t.Skip("running as root without setpriv to run as another user")
			}
			asUser = []string{setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"}
			for _, d := range []string{bin, filepath.Dir(bin), dir, filepath.Dir(dir)} {
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
		stdout, stderr, status := runCommand(t, dir, asUser, program)
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
		db := newUsersDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)`)
		if err := os.Rename(db, filepath.Join(dir, "mine.db")); err != nil {
			t.Fatal(err)
		}
		_, stderr, status := runCommand(t, dir, nil, program, "-db", "mine.db")
		if status != 1 {
			t.Errorf("status %d, want 1", status)
		}
		assertPageShows(t, stderr)
	})

	t.Run("Ctrl-C while it inserts", func(t *testing.T) {
		// The guide's three users, then a run that would add three million:
		// Ctrl-C as soon as its transaction has written (its journal
		// exists) must leave the three users.
		dir := t.TempDir()
		path := filepath.Join(dir, "users.db")
		if _, err := runSetup(t, path); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, program, "-users", "3000000")
		cmd.Dir = dir
		stderr, err := cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := os.Stat(path + "-journal"); err == nil {
				break
			}
			if ctx.Err() != nil {
				t.Fatal("no journal appeared within 30 s")
			}
			time.Sleep(time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		lines, _ := bufio.NewReader(stderr).ReadString(0)
		err = cmd.Wait()
		if ctx.Err() != nil {
			t.Fatal("it did not stop within 30 s of Ctrl-C")
		}
		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 130 {
			t.Errorf("exit: %v, want status 130", err)
		}
		if want := "00-setup: interrupted; its deferred cleanup ran\n"; lines != want {
			t.Errorf("stderr %q, want %q", lines, want)
		}
		// database/sql rolls back a transaction whose context is canceled
		// in a goroutine of its own, which nothing waits for: now and then
		// the program exits first and leaves users.db-journal behind. The
		// data is safe, and the next run that writes removes the journal.
		if got := pyRows(t, path, "SELECT count(*) FROM users"); got[0] != "(3,)" {
			t.Errorf("%s users after Ctrl-C, want (3,)", got[0])
		}
		if got := pyRows(t, path, "PRAGMA integrity_check"); got[0] != "('ok',)" {
			t.Errorf("integrity_check: %s", got[0])
		}
		if _, err := os.Stat(path + "-journal"); err == nil {
			t.Log("Ctrl-C left users.db-journal; the next run that writes must remove it")
		}
		if _, stderr, status := runCommand(t, dir, nil, program, "-users", "5"); status != 0 {
			t.Errorf("the next run: status %d\n%s", status, stderr)
		}
		if got := pyRows(t, path, "SELECT count(*) FROM users"); got[0] != "(8,)" {
			t.Errorf("%s users after the next run with -users 5, want (8,)", got[0])
		}
		assertDirHolds(t, dir, "users.db")
	})
}

// runCommand runs program with args in dir, prefixed by the command in
// prefix if any, and returns what it printed and its exit status. It has
// 30 s.
func runCommand(t *testing.T, dir string, prefix []string, program string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := append(append(prefix, program), args...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s did not finish within 30 s", program)
	case errors.As(err, &exitErr):
		status = exitErr.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), status
}

// TestEveryQueryIsAConstant reads main.go and checks that every SQL text
// given to Exec, Query or Prepare is a string constant: values go through
// placeholders, never into the SQL.
func TestEveryQueryIsAConstant(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "main.go", nil, 0)
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
