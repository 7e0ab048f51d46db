package statement_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"workbook/internal/statement"
	"workbook/internal/workbooktest"
)

// statementCases are queries with the verdict of Python 3.11's
// cursor.execute: nil where it runs them, ErrTwoStatements where it raises
// "You can only execute one statement at a time.", ErrNul where it
// raises "the query contains a null character". ErrNoStatement marks a
// query without a statement, which Python runs and which returns no rows.
var statementCases = []struct {
	query string
	want  error
}{
	{"SELECT * FROM users WHERE age > ?", nil},
	{"SELECT 1;", nil},
	{"SELECT 1;  \n\t\r\f", nil},
	{"SELECT 1; -- a comment", nil},
	{"SELECT 1; -- a comment\n/* and another */ ", nil},
	{"SELECT 1; /* a comment left open", nil},
	{"SELECT 1 -- ; not a second statement\n", nil},
	{"SELECT 1 /* ; */", nil},
	{"SELECT ';'", nil},
	{"SELECT 'it''s; fine'", nil},
	{`SELECT "a;b" FROM (SELECT 1 AS "a;b")`, nil},
	{`SELECT "a"";b" FROM (SELECT 1 AS "a"";b")`, nil},
	{"SELECT [a;b] FROM (SELECT 1 AS [a;b])", nil},
	{"SELECT `a;b` FROM (SELECT 1 AS `a;b`)", nil},
	{"SELECT x'3b'", nil},
	{";SELECT 1", nil},
	{"; ;\n-- c\n; SELECT 1;", nil},
	{"SELECT 'unterminated; SELECT 2", nil}, // SQLite's own error comes at prepare
	{"CREATE TRIGGER t AFTER INSERT ON users BEGIN SELECT 1; END", nil},
	{"CREATE TEMP TRIGGER t AFTER INSERT ON users BEGIN SELECT 1; SELECT 2; END;", nil},
	{"create temporary trigger t after insert on users begin select 1; end;", nil},
	{"EXPLAIN CREATE TRIGGER t AFTER INSERT ON users BEGIN SELECT 1; END;", nil},
	{"SELECT * FROM users WHERE age > ?; DELETE FROM users", statement.ErrTwoStatements},
	{"SELECT 1; SELECT 2", statement.ErrTwoStatements},
	{"SELECT 1;;", statement.ErrTwoStatements},
	{"SELECT 1; -- c\n;", statement.ErrTwoStatements},
	{"SELECT 1;\v", statement.ErrTwoStatements}, // \v is no space to Python
	{"SELECT 1;\u00a0", statement.ErrTwoStatements},
	{"SELECT 1; x", statement.ErrTwoStatements},
	{"SELECT 1 AS trigger; SELECT 2", statement.ErrTwoStatements},
	{`SELECT 1 AS "end"; SELECT 2`, statement.ErrTwoStatements},
	{"CREATE TRIGGER t AFTER INSERT ON users BEGIN SELECT 1; END; SELECT 2", statement.ErrTwoStatements},
	{"SELECT 1 \x00; DROP TABLE users", statement.ErrNul},
	{"", statement.ErrNoStatement},
	{" \n\t", statement.ErrNoStatement},
	{"\v", statement.ErrNoStatement}, // but to SQLite it is
	{";", statement.ErrNoStatement},
	{"; ;", statement.ErrNoStatement},
	{"-- only a comment", statement.ErrNoStatement},
	{"/* only a comment", statement.ErrNoStatement},
}

func TestCheckOneStatement(t *testing.T) {
	for _, tt := range statementCases {
		if got := statement.CheckOne(tt.query); got != tt.want {
			t.Errorf("CheckOne(%q) = %v, want %v", tt.query, got, tt.want)
		}
	}
}

// pythonVerdicts runs each query with Python's cursor.execute, on a new
// database with a users table, and returns "ok", "two statements", "null
// character" or Python's other error. It skips the test where there is no
// Python.
func pythonVerdicts(t *testing.T, queries []string) []string {
	t.Helper()
	python := workbooktest.PythonWith(t, "sqlite3")
	if python == "" {
		t.Skip("no Python to compare with")
	}
	const script = `import json, sqlite3, sys
verdicts = []
with open(sys.argv[1], encoding="utf-8") as f:
    queries = json.load(f)
for query in queries:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT, email TEXT, age INTEGER)")
    try:
        conn.execute(query)
        verdicts.append("ok")
    except sqlite3.Error as e:
        if str(e) == "You can only execute one statement at a time.":
            verdicts.append("two statements")
        elif str(e) == "the query contains a null character":
            verdicts.append("null character")
        elif str(e).startswith("Incorrect number of bindings"):
            verdicts.append("ok")  # checked after the statements
        else:
            verdicts.append("error: " + str(e))
    conn.close()
json.dump(verdicts, sys.stdout)
`
	in, err := json.Marshal(queries)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "queries.json"), in, 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, status := workbooktest.RunPython(t, python, dir, script, "queries.json")
	if status != 0 {
		t.Fatalf("Python failed (exit status %d):\n%s", status, stderr)
	}
	var verdicts []string
	if err := json.Unmarshal([]byte(stdout), &verdicts); err != nil || len(verdicts) != len(queries) {
		t.Fatalf("Python printed %d verdicts for %d queries (%v)", len(verdicts), len(queries), err)
	}
	return verdicts
}

// verdict is CheckOne's error in pythonVerdicts' words. A query
// without a statement is "ok": Python runs it.
func verdict(err error) string {
	switch err {
	case nil, statement.ErrNoStatement:
		return "ok"
	case statement.ErrTwoStatements:
		return "two statements"
	case statement.ErrNul:
		return "null character"
	}
	return err.Error()
}

// TestCheckOneStatementAgreesWithPython compares CheckOne with
// Python's cursor.execute on the cases above and on thousands of queries
// made of pieces that trouble a scanner: quotes, comments, semicolons,
// keywords of CREATE TRIGGER, spaces Python does not count as spaces.
// Where SQLite cannot prepare the first statement, Python says only that,
// and the case is left out.
func TestCheckOneStatementAgreesWithPython(t *testing.T) {
	firsts := []string{"SELECT 1", "SELECT ';'", "SELECT 'a''; b'", `SELECT "x;" FROM (SELECT 1 AS "x;")`,
		"SELECT [x;] FROM (SELECT 1 AS [x;])", "SELECT `x;` FROM (SELECT 1 AS `x;`)", "SELECT 1 -- ;\n",
		"SELECT 1 /* ; */", "SELECT * FROM users WHERE age > ?", "EXPLAIN SELECT 1", "SELECT 1 AS trigger",
		"CREATE TEMP TRIGGER t AFTER INSERT ON users BEGIN SELECT 1; SELECT 2; END",
		"CREATE TRIGGER t AFTER INSERT ON users BEGIN SELECT CASE WHEN 1 THEN 2 END; END",
		"", " ", ";", "\v", "-- c\n", "/* c */", "SELECT\v1", "SELECT 1 /* open"}
	pieces := []string{";", " ", "\n", "\t", "\f", "\v", "\r", "\u00a0", "-- c", "-- c\n", "/* c */", "/* c", "/*",
		"*/", "SELECT 2", "x", "'", `"`, "[", "]", "`", "end", "END", "-", "/", "'a;b'"}
	var queries []string
	for _, c := range statementCases {
		queries = append(queries, c.query)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		q := firsts[r.IntN(len(firsts))]
		for range r.IntN(5) {
			q += pieces[r.IntN(len(pieces))]
		}
		queries = append(queries, q)
	}
	compared := 0
	for i, py := range pythonVerdicts(t, queries) {
		if strings.HasPrefix(py, "error: ") {
			continue
		}
		compared++
		if got := verdict(statement.CheckOne(queries[i])); got != py {
			t.Errorf("%q: CheckOne says %s, Python says %s", queries[i], got, py)
		}
	}
	t.Logf("compared %d queries with Python", compared)
	if compared < 1000 {
		t.Errorf("compared only %d queries: the generator makes too few that SQLite can prepare", compared)
	}
}

// FuzzCheckOneStatement checks, for any text v, that a semicolon inside a
// string, a quoted name or a comment ends nothing, and that one outside
// them ends the statement. go test runs the seeds; go test -fuzz
// FuzzCheckOneStatement ./internal/statement searches for more.
func FuzzCheckOneStatement(f *testing.F) {
	for _, c := range statementCases {
		f.Add(c.query)
	}
	f.Add("; SELECT 2")
	f.Add("*/; SELECT 2")
	f.Add("']; SELECT 2 --")
	f.Fuzz(func(t *testing.T, v string) {
		err := statement.CheckOne(v) // any text: it must not panic
		if strings.IndexByte(v, 0) >= 0 {
			if err != statement.ErrNul {
				t.Fatalf("%q: %v, want %v", v, err, statement.ErrNul)
			}
			return
		}
		if end, _ := statement.FirstStatementEnd(v); end < 0 || end > len(v) {
			t.Fatalf("firstStatement(%q) = %d, outside the text", v, end)
		}
		quote := func(q, closing string) string {
			return q + strings.ReplaceAll(v, closing, closing+closing) + closing
		}
		one := []string{
			"SELECT " + quote("'", "'"),
			"SELECT 1 AS " + quote(`"`, `"`),
			"SELECT 1 AS " + quote("`", "`"),
		}
		if !strings.Contains(v, "]") {
			one = append(one, "SELECT 1 AS ["+v+"]")
		}
		if !strings.Contains(v, "\n") {
			one = append(one, "SELECT 1 -- "+v)
		}
		if !strings.Contains(v, "*/") {
			one = append(one, "SELECT 1 /* "+v+" */", "SELECT 1; /* "+v)
		}
		for _, q := range one {
			if err := statement.CheckOne(q); err != nil {
				t.Errorf("%q: %v, want one statement", q, err)
			}
			if two := q + "\n; SELECT 2"; !strings.HasSuffix(q, "/* "+v) {
				if err := statement.CheckOne(two); !errors.Is(err, statement.ErrTwoStatements) {
					t.Errorf("%q: %v, want %v", two, err, statement.ErrTwoStatements)
				}
			}
		}
	})
}

func TestFirst(t *testing.T) {
	tests := []struct {
		query, want string
		ok          bool
	}{
		{"SELECT 1", "SELECT 1", true},
		{"SELECT 1;", "SELECT 1", true},
		{"SELECT 1;  \n", "SELECT 1", true},
		{"SELECT 1; -- a comment after the statement", "SELECT 1", true},
		{"SELECT 1 -- a comment that ends the text", "SELECT 1 -- a comment that ends the text", true},
		{"SELECT 1 /* a comment */", "SELECT 1 /* a comment */", true},
		{"SELECT ';' AS semicolon;", "SELECT ';' AS semicolon", true},
		{";SELECT 1", "SELECT 1", true},
		{"; ;\n-- c\n; SELECT 1;", "SELECT 1", true},
		{"/* c */ ; \v SELECT 1", "SELECT 1", true},
		{"SELECT 1; SELECT 2", "SELECT 1", true},
		{"CREATE TRIGGER t AFTER INSERT ON users BEGIN SELECT 1; END;", "CREATE TRIGGER t AFTER INSERT ON users BEGIN SELECT 1; END", true},
		{"", "", false},
		{" ; ;", "", false},
		{"-- only a comment", "", false},
		{"/* only a comment", "", false},
	}
	for _, tt := range tests {
		got, ok := statement.First(tt.query)
		if got != tt.want || ok != tt.ok {
			t.Errorf("First(%q) = %q, %v; want %q, %v", tt.query, got, ok, tt.want, tt.ok)
		}
	}
}
