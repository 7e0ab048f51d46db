package workbooktest

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"workbook/internal/dbfile"
	"workbook/internal/pyrow"
)

// TableRows returns every row of the table in the database file at path,
// one a line, as Python prints each: for a test that checks that a lesson
// left a table as it was. It opens the file read-only and closes it again
// before it returns.
func TableRows(t testing.TB, path, table string) string {
	t.Helper()
	db, err := sql.Open("sqlite3", dbfile.URI(path)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	name := `"` + strings.ReplaceAll(table, `"`, `""`) + `"`
	rows, err := pyrow.Query(Context(t), db, "SELECT * FROM "+name)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		row, err := pyrow.Scan(rows)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintln(&b, row)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
