package pyrow_test

// These tests hold Query and Scan to Python's sqlite3: where Python is
// installed, it reads the same tables with the same queries and prints the
// same rows, byte for byte.

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"workbook/internal/pyrow"
	"workbook/internal/statement"
	"workbook/internal/workbooktest"
)

func TestQueryPrintsWhatPythonsSqlite3Prints(t *testing.T) {
	path := workbooktest.NewUsersDB(t,
		`CREATE TABLE users (user_id TEXT PRIMARY KEY, name TEXT, created_at TIMESTAMP, born DATE, seen DATETIME, is_active BOOLEAN, score REAL, photo BLOB, note)`,
		`INSERT INTO users VALUES
		('u1', 'Finn O''Brien', '2025-07-07 10:58:59', '1990-02-03', 1700000000, 1, 41.5, x'00ff27', NULL),
		('u2', NULL, 'not a time', 19900203, 1700000000000, 2, 50.0, x'', 7),
		('u3', 'tab	and \ back', NULL, NULL, '2025-07-07T10:58:59Z', 0, 1e16, NULL, 2.5),
		('u4', 'Zoë', 1.5, 'x', -1, -1, 0.1, 'text in a blob column', x'41')`)
	want := []string{
		`('u1', "Finn O'Brien", '2025-07-07 10:58:59', '1990-02-03', 1700000000, 1, 41.5, b"\x00\xff'", None)`,
		`('u2', None, 'not a time', 19900203, 1700000000000, 2, 50.0, b'', 7)`,
		`('u3', 'tab\tand \\ back', None, None, '2025-07-07T10:58:59Z', 0, 1e+16, None, 2.5)`,
		`('u4', 'Zoë', 1.5, 'x', -1, -1, 0.1, 'text in a blob column', b'A')`,
	}
	assertRowsLikePython(t, path, want, "SELECT * FROM users", "SELECT * FROM users WHERE user_id > ?;")
}

// TestQueryTakesAQueryThatEndsInAComment runs queries that end in a "--"
// comment, which Python's sqlite3 runs, on a table with each column type
// whose values the driver converts, where Query puts the query inside
// another one and the comment must not swallow what follows it, and on an
// INTEGER column, which Query runs as it is. After a semicolon, the comment
// is a statement of its own to the driver, whose rows are none.
func TestQueryTakesAQueryThatEndsInAComment(t *testing.T) {
	want := []string{
		"('a', '1990-02-03 10:58:59')",
		"('b', 1)",
		"('c', None)",
	}
	for _, columnType := range []string{"DATE", "DATETIME", "TIMESTAMP", "BOOLEAN", "INTEGER"} {
		path := workbooktest.NewUsersDB(t,
			`CREATE TABLE users (name TEXT, seen `+columnType+`)`,
			`INSERT INTO users VALUES ('a', '1990-02-03 10:58:59'), ('b', 1), ('c', NULL)`)
		t.Run(columnType, func(t *testing.T) {
			assertRowsLikePython(t, path, want,
				"SELECT * FROM users -- every user",
				"SELECT * FROM users; -- every user",
				"SELECT * FROM users WHERE name > ? -- after the name given",
				"-- every user\n; SELECT * FROM users -- of them all")
		})
	}
}

// TestQueryReturnsBooleanColumnsAsStored reads a table whose only column
// the driver would convert is a BOOLEAN one: the driver would give true
// for 2 and false for -1, where Python's sqlite3 gives the numbers.
func TestQueryReturnsBooleanColumnsAsStored(t *testing.T) {
	path := workbooktest.NewUsersDB(t,
		`CREATE TABLE users (name TEXT, is_active BOOLEAN)`,
		`INSERT INTO users VALUES ('a', 2), ('b', 0), ('c', 'yes'), ('d', -1), ('e', NULL), ('f', 1)`)
	want := []string{
		"('a', 2)",
		"('b', 0)",
		"('c', 'yes')",
		"('d', -1)",
		"('e', None)",
		"('f', 1)",
	}
	assertRowsLikePython(t, path, want, "SELECT * FROM users")
}

// TestQueryRunsOneStatement checks that Query refuses a query that holds
// two statements with Python's error, where the driver would run both and
// return the second one's rows, and that a query with no statement returns
// no rows, as in Python.
func TestQueryRunsOneStatement(t *testing.T) {
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	db := workbooktest.OpenReadOnly(t, path)
	ctx := context.Background()
	for _, query := range []string{"SELECT * FROM users; SELECT 2", "SELECT * FROM users WHERE age > ?; SELECT ?"} {
		rows, err := pyrow.Query(ctx, db, query, 25, 2)
		if err == nil {
			rows.Close()
		}
		if !errors.Is(err, statement.ErrTwoStatements) {
			t.Errorf("%q: error %v, want %v", query, err, statement.ErrTwoStatements)
		}
	}
	for _, query := range []string{"", "-- nothing", ";"} {
		if got := readWithQuery(t, path, query); len(got) != 0 {
			t.Errorf("%q: rows %q, want none", query, got)
		}
	}
}

// assertRowsLikePython reads each query's rows from the database at path
// through Query and Scan, and checks that they print as want and as
// Python's sqlite3 prints them. A query with a ? gets the argument "".
func assertRowsLikePython(t *testing.T, path string, want []string, queries ...string) {
	t.Helper()
	python := pythonRows(t, path, queries)
	for i, query := range queries {
		t.Run(query, func(t *testing.T) {
			got := readWithQuery(t, path, query)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if python != nil && strings.Join(python[i], "\n") != strings.Join(got, "\n") {
				t.Errorf("Python's sqlite3 prints\n%s\nQuery and Scan print\n%s", strings.Join(python[i], "\n"), strings.Join(got, "\n"))
			}
		})
	}
}

// readWithQuery runs query (with the argument "" for a ?) through Query and
// Scan and returns each row as String writes it.
func readWithQuery(t *testing.T, path, query string) []string {
	t.Helper()
	db := workbooktest.OpenReadOnly(t, path)
	var args []any
	if strings.Contains(query, "?") {
		args = append(args, "")
	}
	rows, err := pyrow.Query(context.Background(), db, query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		row, err := pyrow.Scan(rows)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, row.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// pythonRows prints each query's rows (with the argument "" for a ?) with
// Python's sqlite3, one Python for them all, or returns nil where there is
// no Python.
func pythonRows(t *testing.T, path string, queries []string) [][]string {
	t.Helper()
	python := workbooktest.PythonWith(t, "sqlite3")
	if python == "" {
		return nil
	}
	const script = `import json, sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
for query in sys.argv[2:]:
    args = ("",) if "?" in query else ()
    print(json.dumps([str(row) for row in conn.execute(query, args)]))
`
	stdout, stderr, status := workbooktest.RunPython(t, python, filepath.Dir(path), script, append([]string{path}, queries...)...)
	if status != 0 {
		t.Fatalf("Python's sqlite3 failed (exit status %d):\n%s", status, stderr)
	}
	lines := workbooktest.Lines(stdout)
	if len(lines) != len(queries) {
		t.Fatalf("Python printed %d lines for %d queries:\n%s", len(lines), len(queries), stdout)
	}
	rows := make([][]string, len(lines))
	for i, line := range lines {
		if err := json.Unmarshal([]byte(line), &rows[i]); err != nil {
			t.Fatalf("Python printed %q: %v", line, err)
		}
	}
	return rows
}

func TestScanRefusesTextThatIsNotUTF8(t *testing.T) {
	path := workbooktest.NewUsersDB(t, `CREATE TABLE users (name TEXT)`, `INSERT INTO users VALUES (CAST(x'41ff' AS TEXT))`)
	db := workbooktest.OpenReadOnly(t, path)
	rows, err := db.QueryContext(context.Background(), "SELECT * FROM users")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if !rows.Next() {
		t.Fatalf("no row: %v", rows.Err())
	}
	_, err = pyrow.Scan(rows)
	if err == nil || !strings.Contains(err.Error(), "column name holds text that is not UTF-8") {
		t.Errorf("Scan: %v, want the column named and why", err)
	}
}
