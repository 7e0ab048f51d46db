package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"workbook/internal/statement"
	"workbook/internal/workbooktest"
)

func TestMain(m *testing.M) { os.Exit(workbooktest.RunInScratchFolder(m)) }

// The guide's expected output for Task 1 (section 4.2.4), run in a folder
// that holds the guide's users.db. The log lines go to stderr, discarded
// here; TestPrintsAndLogsWhatPythonDoes checks them.
func Example() {
	if err := run(context.Background(), "users.db", os.Stdout, io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// (1, 'Alice Smith', 'alice.smith@example.com', 30)
	// (2, 'Bob Johnson', 'bob.johnson@example.com', 45)
}

// runLesson runs the lesson on the database at path, in a folder of its
// own, where query.log goes.
func runLesson(t *testing.T, path string) workbooktest.Run {
	t.Helper()
	return workbooktest.RunLesson(t, run, "query.log", path)
}

// guideProgram is the guide's 1-execute.py written again: a class whose
// __enter__ connects, runs the query and fetches every row, logging the
// query or its error, and whose __exit__ closes and logs it; main prints
// the users older than 25, or "Database error: ..." on stdout.
const guideProgram = `
class ExecuteQuery:
    def __init__(self, path, query, params):
        self.path, self.query, self.params, self.conn = path, query, params, None

    def __enter__(self):
        try:
            self.conn = sqlite3.connect(self.path)
            cursor = self.conn.cursor()
            cursor.execute(self.query, self.params)
            rows = cursor.fetchall()
            log.info(f"Executed query: {self.query} with params: {self.params}")
            return rows
        except sqlite3.Error as e:
            log.error(f"Query error: {e}")
            raise

    def __exit__(self, *exc):
        if self.conn:
            self.conn.close()
            log.info(f"Closed connection to {self.path}")

def main(path):
    try:
        with ExecuteQuery(path, "SELECT * FROM users WHERE age > ?", (25,)) as rows:
            for row in rows:
                print(row)
    except sqlite3.Error as e:
        print(f"Database error: {e}")
`

// runPython runs guideProgram once on each database of paths, where
// python3 is installed.
func runPython(t *testing.T, paths ...string) []workbooktest.Run {
	t.Helper()
	return workbooktest.RunGuidePython(t, workbooktest.PythonWith(t, "sqlite3"), "query.log", guideProgram, paths...)
}

// printed is what the guide's Python prints for SELECT * FROM users WHERE
// age > 25 on each of workbooktest.UsersTables, by its name.
var printed = map[string]string{
	"the guide's": `(1, 'Alice Smith', 'alice.smith@example.com', 30)
(2, 'Bob Johnson', 'bob.johnson@example.com', 45)
`,
	"extra columns, a TIMESTAMP and a BOOLEAN": `(1, 'Alice Smith', 'alice@example.com', 30, '2025-07-07 10:58:59', 1, 'pbkdf2$x')
(2, 'Bob Johnson', 'bob@example.com', 45, 'yesterday', 0, None)
(3, 'Dana', 'dana@example.com', 61, '2025-07-07T10:58:59Z', 'true', '')
`,
	"DATE and DATETIME columns and a TEXT key": `('u-1', 30, '1995-01-31', '2025-07-07 10:58:59.123', 1)
('u-2', 44, 19950131, 1751885939, 0)
('u-3', 50, None, '2025-13-45 99:99:99', 2)
`,
	"another column order": `('alice@example.com', 30, 'Alice Smith', 1)
('bob@example.com', 45, 'Bob Johnson', 2)
`,
	"NULLs": `(1, 'Alice Smith', None, 30)
(3, 'Bob Johnson', 'bob@example.com', 45)
`,
	"quotes, escapes and other scripts": `(1, "Finn O'Brien", 'finn@example.com', 33)
(2, 'Say "hi"', 'both\'"@example.com', 40)
(3, 'back\\slash\ttab\nnl\r\x01\x7f', 'zoë@exämple.com', 50)
(4, '🙂 \xa0\xad\u2028', '日本', 26)
`,
	"REAL ages, the int64 limits and BLOBs": `(2, 'half', 50.0, 1e+16, b'')
(3, 'tiny', 26.0, 0.1, b'"\'\\')
(9223372036854775807, 'max', 41.5, -9223372036854775808, b"\x00\xff'")
`,
	"one column": `(30,)
`,
	"a view": `(1, 'Alice Smith', 30, 0)
(2, 'Bob Johnson', 45, 1)
`,
	"no rows": ``,
}

// TestPrintsAndLogsWhatPythonDoes runs the lesson on each users table: it
// prints what the guide's Python prints, writes the bare messages on
// stderr and the dated lines in query.log, and where python3 is installed,
// all three are the Python's, byte for byte (the log file's times aside).
func TestPrintsAndLogsWhatPythonDoes(t *testing.T) {
	workbooktest.RunOnUsersTables(t, runLesson, runPython, func(t *testing.T, table workbooktest.UsersTable, path string, got workbooktest.Run) {
		if want := printed[table.Name]; got.Stdout != want {
			t.Errorf("printed:\n%s\nwant:\n%s", got.Stdout, want)
		}
		workbooktest.AssertLogged(t, got,
			"INFO - Executed query: SELECT * FROM users WHERE age > ? with params: (25,)",
			"INFO - Closed connection to "+path)
	})
}

// TestRunClosesTheDatabase guards `defer results.Close()` in run: the
// database is closed, and its close logged, whichever way run returns
// after ExecuteQuery succeeded: after the last row, or after a write to
// stdout failed.
func TestRunClosesTheDatabase(t *testing.T) {
	for _, out := range []io.Writer{io.Discard, workbooktest.FailingWriter(0)} {
		path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
		got := workbooktest.RunLesson(t, func(ctx context.Context, dbPath string, _, stderr io.Writer) error {
			return run(ctx, dbPath, out, stderr)
		}, "query.log", path)
		if failing := out != io.Discard; failing != (got.Err != nil) {
			t.Errorf("run error = %v, writing to %T", got.Err, out)
		}
		workbooktest.AssertFileClosed(t, path)
		if !strings.HasSuffix(got.Stderr, "Closed connection to "+path+"\n") {
			t.Errorf("stderr = %q, want it to end with the close, writing to %T", got.Stderr, out)
		}
	}
}

// badDatabases are the -db paths every lesson refuses, and one with a
// users table that has no age column, which the guide's query needs.
var badDatabases = append(slices.Clip(workbooktest.BadDatabases),
	workbooktest.BadDatabase{Name: "no age column", Make: func(t *testing.T) string {
		return workbooktest.NewUsersDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT)`)
	}, Advice: "has no age column: its columns are id, name, email"})

// queryErrors are the errors that the lesson logs for each of
// badDatabases, and those that the guide's Python logs.
var queryErrors = map[string]struct{ logs, python string }{
	// Python's connect creates the missing file; mode=rw does not.
	"a missing file":                       {"unable to open database file: no such file or directory", "no such table: users"},
	"a mistyped name beside the real file": {"unable to open database file: no such file or directory", "no such table: users"},
	// The driver adds the system's reason to SQLite's message.
	"a folder":                      {"unable to open database file: is a directory", "unable to open database file"},
	"a file that is not a database": {"file is not a database", "file is not a database"},
	"an empty file":                 {"no such table: users", "no such table: users"},
	"no users table":                {"no such table: users", "no such table: users"},
	"no age column":                 {"no such column: age", "no such column: age"},
}

// TestBadDatabasesFailWithAdvice: the lesson fails with one line that says
// what to do, prints nothing, changes nothing in the folder (mode=rw
// creates no file at a mistyped path), and logs the query's error alone.
// Python logs no "Closed connection" line either, since __exit__ does not
// run when __enter__ raises.
func TestBadDatabasesFailWithAdvice(t *testing.T) {
	var paths []string
	for _, bad := range badDatabases {
		path := bad.Make(t)
		paths = append(paths, path)
		t.Run(bad.Name, func(t *testing.T) {
			before := workbooktest.FolderSnapshot(t, filepath.Dir(path))
			got := runLesson(t, path)
			workbooktest.AssertRefusedWithAdvice(t, got, path, bad.Advice)
			workbooktest.AssertLogged(t, got, "ERROR - Query error: "+queryErrors[bad.Name].logs)
			if after := workbooktest.FolderSnapshot(t, filepath.Dir(path)); after != before {
				t.Errorf("the folder changed from\n%s\nto\n%s", before, after)
			}
		})
	}
	// Python runs last: it creates a file at a path that has none.
	for i, python := range runPython(t, paths...) {
		bad := badDatabases[i]
		t.Run(bad.Name+", as Python", func(t *testing.T) {
			want := queryErrors[bad.Name].python
			workbooktest.AssertLogged(t, python, "ERROR - Query error: "+want)
			if python.Stdout != "Database error: "+want+"\n" {
				t.Errorf("Python printed %q, want %q", python.Stdout, "Database error: "+want+"\n")
			}
		})
	}
}

// execute runs ExecuteQuery and closes what it returns; it gives the rows
// as Python prints them.
func execute(t *testing.T, path, query string, params ...any) ([]string, error) {
	t.Helper()
	results, err := ExecuteQuery(workbooktest.Context(t), workbooktest.Discard(), path, query, params...)
	if err != nil {
		if results != nil {
			t.Error("ExecuteQuery returned results with its error: the caller would have to close them")
		}
		return nil, err
	}
	defer results.Close()
	var rows []string
	for _, row := range results.Rows {
		rows = append(rows, row.String())
	}
	return rows, nil
}

func TestExecuteQueryBindsParameters(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	tests := []struct {
		name   string
		query  string
		params []any
		want   []string
	}{
		{"one int", "SELECT name FROM users WHERE age > ?", []any{40}, []string{"('Bob Johnson',)"}},
		{"no match", "SELECT name FROM users WHERE age > ?", []any{99}, nil},
		{"two", "SELECT id, age FROM users WHERE age BETWEEN ? AND ? ORDER BY id", []any{25, 30}, []string{"(1, 30)", "(3, 25)"}},
		{"text", "SELECT id FROM users WHERE email = ?", []any{"charlie.brown@example.com"}, []string{"(3,)"}},
		{"numbered", "SELECT ?2, ?1", []any{"a", int64(2)}, []string{"(2, 'a')"}},
		{"named", "SELECT :x, :x + 1", []any{sql.Named("x", 41)}, []string{"(41, 42)"}},
		{"none", "SELECT count(*) FROM users", nil, []string{"(3,)"}},
		{"one statement and a comment", "SELECT count(*) FROM users; -- all of them", nil, []string{"(3,)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := execute(t, path, tt.query, tt.params...)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// queryCursor runs query through the lesson's cursor on the database at
// path and reads its rows, as Python prints them.
func queryCursor(t *testing.T, path, query string, params ...any) ([]string, error) {
	t.Helper()
	db := workbooktest.OpenReadOnly(t, path)
	rows, err := cursor{db}.QueryContext(workbooktest.Context(t), query, params...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return got, err
		}
		got = append(got, fmt.Sprint(v))
	}
	return got, rows.Err()
}

// TestWrongNumberOfParametersIsRefused guards the prepared statement: the
// driver's own Query drops surplus parameters without a word, and Python
// refuses them ("Incorrect number of bindings supplied. The current
// statement uses 1, and there are 2 supplied.").
func TestWrongNumberOfParametersIsRefused(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	for _, params := range [][]any{{25, 30}, {}, {25, "x", nil}} {
		want := fmt.Sprintf("sql: expected 1 arguments, got %d", len(params))
		if rows, err := execute(t, path, "SELECT name FROM users WHERE age > ?", params...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ExecuteQuery, %d parameters for 1 placeholder: rows %q, error %v; want %q", len(params), rows, err, want)
		}
		if rows, err := queryCursor(t, path, "SELECT name FROM users WHERE age > ?", params...); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("cursor, %d parameters for 1 placeholder: rows %q, error %v; want %q", len(params), rows, err, want)
		}
	}
}

// TestTwoStatementsAreRefused guards statement.CheckOne in cursor: a
// prepared statement runs the first statement and ignores the rest without
// a word, and the driver's own Query runs them all. Python refuses them.
func TestTwoStatementsAreRefused(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	for _, query := range []string{
		"SELECT name FROM users WHERE age > ?; DELETE FROM users",
		"SELECT name FROM users WHERE age > ?;; ",
		"SELECT name FROM users WHERE age > ? -- c\n; SELECT 2",
	} {
		if rows, err := execute(t, path, query, 25); !errors.Is(err, statement.ErrTwoStatements) {
			t.Errorf("ExecuteQuery(%q): rows %q, error %v; want %q", query, rows, err, statement.ErrTwoStatements)
		}
		if rows, err := queryCursor(t, path, query, 25); !errors.Is(err, statement.ErrTwoStatements) {
			t.Errorf("cursor(%q): rows %q, error %v; want %q", query, rows, err, statement.ErrTwoStatements)
		}
	}
	if rows, _ := execute(t, path, "SELECT count(*) FROM users"); len(rows) != 1 || rows[0] != "(3,)" {
		t.Errorf("users left: %q, want (3,)", rows)
	}
}

// TestQueriesWithoutAStatementAreRefused: the driver's prepared statement
// crashes the program on them, so the cursor must never prepare one.
func TestQueriesWithoutAStatementAreRefused(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	for _, query := range []string{"", " ", ";", "-- nothing\n", "/* nothing */;", "\v"} {
		if _, err := execute(t, path, query); !errors.Is(err, statement.ErrNoStatement) {
			t.Errorf("ExecuteQuery(%q): error %v, want %q", query, err, statement.ErrNoStatement)
		}
		if _, err := queryCursor(t, path, query); !errors.Is(err, statement.ErrNoStatement) {
			t.Errorf("cursor(%q): error %v, want %q", query, err, statement.ErrNoStatement)
		}
	}
	if _, err := execute(t, path, "SELECT 1 \x00; DELETE FROM users"); !errors.Is(err, statement.ErrNul) {
		t.Errorf("a NUL character: error %v, want %q", err, statement.ErrNul)
	}
}

// TestPythonRefusesTheSame checks the claims above about Python 3.
func TestPythonRefusesTheSame(t *testing.T) {
	python := workbooktest.PythonWith(t, "sqlite3")
	if python == "" {
		t.Skip("no python3")
	}
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	stdout, stderr, _ := workbooktest.RunPython(t, python, t.TempDir(), `import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
for query, params in [("SELECT * FROM users WHERE age > ?", (25, 30)),
                      ("SELECT * FROM users WHERE age > ?; DELETE FROM users", (25,))]:
    try:
        conn.execute(query, params)
    except sqlite3.ProgrammingError as e:
        print(e)
print(conn.execute("SELECT count(*) FROM users").fetchone())
`, path)
	want := "Incorrect number of bindings supplied. The current statement uses 1, and there are 2 supplied.\n" +
		statement.ErrTwoStatements.Error() + "\n(3,)\n"
	if stdout != want {
		t.Errorf("python3 printed %q (stderr %q), want %q", stdout, stderr, want)
	}
}

// TestAFailedQueryClosesTheDatabase guards the db.Close on ExecuteQuery's
// failure path: the caller gets no Results to close, so without it the
// database file stays open. It logs no close, as Python's does not.
func TestAFailedQueryClosesTheDatabase(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	var stderr strings.Builder
	logger, logged := workbooktest.GuideLogger(t, &stderr)
	if _, err := ExecuteQuery(workbooktest.Context(t), logger, path, "SELECT * FROM users WHERE agee > ?", 25); err == nil {
		t.Fatal("ExecuteQuery succeeded on a misspelt column")
	}
	if open := workbooktest.OpenDescriptors(path); len(open) != 0 {
		t.Errorf("the database file is still open %d times after ExecuteQuery failed", len(open))
	}
	workbooktest.AssertLogged(t, workbooktest.Run{Stderr: stderr.String(), Log: logged()}, "ERROR - Query error: no such column: agee")
}

// TestFetchAllLeavesNothingInUse guards `defer rows.Close()`: when a row
// cannot be read, fetchAll returns in the middle of the rows, and only the
// deferred Close gives their connection back. db.Close cannot close it.
func TestFetchAllLeavesNothingInUse(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers[0],
		`INSERT INTO users (name, email, age) VALUES ('Alice Smith', 'a@example.com', 30), (CAST(x'ff' AS TEXT), 'b@example.com', 45)`)
	// OpenReadOnly closes db when the test ends and checks that nothing
	// was left open.
	db := workbooktest.OpenReadOnly(t, path)
	if _, err := fetchAll(workbooktest.Context(t), cursor{db}, "SELECT * FROM users"); err == nil || !strings.Contains(err.Error(), "not UTF-8") {
		t.Errorf("fetchAll error = %v, want the row that is not UTF-8", err)
	}
}

// TestAnErrorAfterTheFirstRowIsReported guards rows.Err: rows.Next says
// false both at the end and on an error, so without it fetchAll returns
// the first row alone as if it were all. Python's fetchall fails too.
func TestAnErrorAfterTheFirstRowIsReported(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.OverflowOnRowTwo...)
	got := runLesson(t, path)
	if got.Err == nil || !strings.Contains(got.Err.Error(), "integer overflow") {
		t.Errorf("run error = %v, want integer overflow", got.Err)
	}
	if got.Stdout != "" {
		t.Errorf("printed %q, want nothing, as Python's fetchall fails before the first print", got.Stdout)
	}
	workbooktest.AssertLogged(t, got, "ERROR - Query error: integer overflow")
	for _, python := range runPython(t, path) {
		workbooktest.AssertSameLogAsPython(t, got, python)
	}
}

// TestACanceledContextStopsTheQuery cancels the context before the query,
// as Ctrl-C does through main: the query stops and the file is closed.
func TestACanceledContextStopsTheQuery(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ExecuteQuery(ctx, workbooktest.Discard(), path, "SELECT * FROM users WHERE age > ?", 25); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	workbooktest.AssertFileClosed(t, path)
}

// hostileValues are classic attempts to change a query through its values,
// and values that trouble code which splices strings: a NUL byte, a long
// string, bytes that are not UTF-8.
var hostileValues = []string{
	"' OR 1=1 --",
	"'; DROP TABLE users; --",
	"Robert'); DROP TABLE users;--",
	"Alice Smith' --",
	"Alice Smith\x00' OR 1=1 --",
	"\xff\xfe\xfd' OR ''='",
	strings.Repeat("x' OR '1'='1", 10_000),
}

// FuzzParameterIsOnlyAValue checks that any string given as a parameter
// is only ever a value: it comes back byte for byte, matches a name only
// when it is that name, and leaves the table as it was. go test runs the
// seeds; go test -fuzz FuzzParameterIsOnlyAValue ./1-execute searches for
// more.
func FuzzParameterIsOnlyAValue(f *testing.F) {
	for _, v := range hostileValues {
		f.Add(v)
	}
	f.Add("Bob Johnson")
	path := workbooktest.NewUsersDB(f, workbooktest.GuideUsers...)
	names := map[string]bool{"Alice Smith": true, "Bob Johnson": true, "Charlie Brown": true}
	f.Fuzz(func(t *testing.T, v string) {
		results, err := ExecuteQuery(workbooktest.Context(t), workbooktest.Discard(), path,
			"SELECT ?, (SELECT count(*) FROM users WHERE name = ?), (SELECT count(*) FROM users)", []byte(v), v)
		if err != nil {
			t.Fatal(err)
		}
		defer results.Close()
		row := results.Rows[0]
		if got, ok := row[0].([]byte); !ok || string(got) != v {
			t.Errorf("SELECT ? returned %.40q, want %.40q", row[0], v)
		}
		want := int64(0)
		if names[v] {
			want = 1
		}
		if row[1] != want || row[2] != int64(3) {
			t.Errorf("value %.40q matched %v of %v users, want %d of 3", v, row[1], row[2], want)
		}
	})
}

// TestNoQueryIsBuiltFromValues guards the placeholders: in main.go, every
// query is a string literal written in the code, or the query parameter
// passed on. A query built with fmt.Sprintf or + would let a value change
// the SQL, and no output shows it while the values are harmless.
func TestNoQueryIsBuiltFromValues(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "main.go", workbooktest.Source(t, "main.go"), 0)
	if err != nil {
		t.Fatal(err)
	}
	// The argument that holds the query, by the name of the function.
	queryArg := map[string]int{"ExecuteQuery": 3, "fetchAll": 2, "Query": 2, "QueryContext": 1, "PrepareContext": 1, "ExecContext": 1}
	calls := 0
	ast.Inspect(file, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		name := ""
		switch fn := call.Fun.(type) {
		case *ast.Ident:
			name = fn.Name
		case *ast.SelectorExpr:
			if x, ok := fn.X.(*ast.Ident); ok && x.Name == "stmt" {
				return true // a prepared statement's arguments are values
			}
			name = fn.Sel.Name
		}
		i, ok := queryArg[name]
		if !ok || len(call.Args) <= i {
			return true
		}
		calls++
		switch arg := call.Args[i].(type) {
		case *ast.BasicLit:
			if arg.Kind == token.STRING {
				return true
			}
		case *ast.Ident:
			if arg.Name == "query" {
				return true
			}
		}
		t.Errorf("%s: the query given to %s is built when the program runs; write it with ? placeholders and pass the values apart",
			fset.Position(call.Args[i].Pos()), name)
		return true
	})
	if calls < 4 {
		t.Errorf("found only %d queries in main.go", calls)
	}
}

// TestPageShowsTheOutput runs the lesson as the page's "Run it" does and
// checks that the page shows what it printed and logged.
func TestPageShowsTheOutput(t *testing.T) {
	workbooktest.AssertPageShowsTheRun(t, run, "query.log")
}

// The experiments of the page's "Try it".

func TestExperimentAQueryBuiltFromAValue(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     `dbPath, "SELECT * FROM users WHERE age > ?", 25)`,
		New:     `dbPath, fmt.Sprintf("SELECT * FROM users WHERE age > %d", 25))`,
		Command: "go test ./1-execute",
		Want:    []string{"--- FAIL: TestNoQueryIsBuiltFromValues", "age > 25 with params: ()"},
		Fails:   true,
	})
}

func TestExperimentTwoStatementsInOneString(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go",
		Old: `	if err := statement.CheckOne(query); err != nil {
		return nil, err
	}
`,
		New: `	if err := statement.CheckOne(query); err != nil {
		// return nil, err
	}
`,
		Command: "go test -run TestTwoStatementsAreRefused ./1-execute",
		Want:    []string{`want "You can only execute one statement at a time."`},
		Fails:   true,
	})
}

func TestExperimentNoPreparedStatement(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go",
		Old: `	stmt, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	// The rows keep the statement open until they are closed.
	defer stmt.Close()
	return stmt.QueryContext(ctx, params...)
`,
		New:     "	return c.db.QueryContext(ctx, query, params...)\n",
		Command: "go test -run TestWrongNumberOfParametersIsRefused ./1-execute",
		Want:    []string{"2 parameters for 1 placeholder"},
		Fails:   true,
	})
}

func TestExperimentNobodyClosesAFailedQuery(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\t\tdb.Close()\n\t\treturn nil, err",
		New:     "\t\treturn nil, err",
		Command: "go test -run TestAFailedQueryClosesTheDatabase ./1-execute",
		Want:    []string{"the database file is still open 1 times after", "ExecuteQuery failed"},
		Fails:   true,
	})
}

func TestExperimentRowsLeftOpen(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "\tdefer rows.Close()\n", New: "",
		Command: "go test -run TestFetchAllLeavesNothingInUse ./1-execute",
		Want:    []string{"db.Stats: 1 open, 1 in use; want nothing left open"},
		Fails:   true,
	})
}

func TestExperimentAStatementLeftOpen(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File: "main.go", Old: "\tdefer stmt.Close()\n", New: "",
		Command: "go test -run TestCursorClosesItsStatement ./1-execute",
		Want:    []string{"3 prepared statements still open after 3 queries, want 0"},
		Fails:   true,
	})
}
