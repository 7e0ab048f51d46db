package taskcheck

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"workbook/internal/workbooktest"
)

// guideRows is what print(row) writes for each user of the guide's table.
var guideRows = []string{
	"(1, 'Alice Smith', 'alice.smith@example.com', 30)",
	"(2, 'Bob Johnson', 'bob.johnson@example.com', 45)",
	"(3, 'Charlie Brown', 'charlie.brown@example.com', 25)",
}

// overflowOnRowTwo is a users view whose second row fails as SQLite
// computes it: abs of the smallest int64 overflows. The expression uses the
// row's id, so SQLite cannot compute it once before the first row.
var overflowOnRowTwo = append(workbooktest.GuideUsers[:2:2],
	`ALTER TABLE users RENAME TO people`,
	`CREATE VIEW users AS SELECT id, name, email, CASE WHEN id = 2 THEN abs(id - id - 9223372036854775807 - 1) ELSE age END AS age FROM people`)

// Task0 are the checks of Task 0, 0-databaseconnection: a connection that
// is opened, proved, always closed, and logged as the guide logs it.
var Task0 = []Check{
	{"opens users.db and prints every user as Python prints the row", func(t *testing.T, p Program) string {
		path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
		r := p.Run(t, "connection.log", "-db", path)
		want := strings.Join(guideRows, "\n") + "\n"
		if r.Status != 0 || r.Stdout != want {
			return p.Mentor(
				"On the guide's users.db your program ended with status "+strconv.Itoa(r.Status)+" and printed:\n"+indent(r.Stdout)+"\nand on stderr:\n"+indent(r.Stderr)+"\nThe guide's Python prints:\n"+indent(want),
				"Open does __enter__: sql.Open with a file: URI and mode=rw, then the query's rows printed with pyrow, one line per user.",
				"The Go idea")
		}
		return ""
	}},
	{"proves the file is a database before it logs Opened", func(t *testing.T, p Program) string {
		r := p.Run(t, "connection.log", "-db", notesFile(t))
		if r.Status == 0 || strings.Contains(r.Stderr, "Opened connection") {
			return p.Mentor(
				"Given a text file that is not a database, your program ended with status "+strconv.Itoa(r.Status)+" and wrote on stderr:\n"+indent(r.Stderr),
				"sql.Open connects to nothing: it only checks its arguments. Only db.PingContext opens a connection and reads the file, so Open must ping, and fail, before it logs \"Opened connection\".",
				"The Go idea")
		}
		return ""
	}},
	neverCreatesAMissingFile("connection.log"),
	{"logs Opened and Closed as the guide's Python does", func(t *testing.T, p Program) string {
		path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
		r := p.Run(t, "connection.log", "-db", path)
		wantStderr := "Opened connection to " + path + "\nClosed connection to " + path + "\n"
		wantLog := []string{"INFO - Opened connection to " + path, "INFO - Closed connection to " + path}
		if r.Stderr != wantStderr || !slices.Equal(r.Log, wantLog) {
			return p.Mentor(
				"Your program wrote on stderr:\n"+indent(r.Stderr)+"\nand in connection.log (without the times):\n"+indent(strings.Join(r.Log, "\n"))+"\nThe guide's Python writes on stderr:\n"+indent(wantStderr)+"\nand in connection.log:\n"+indent(strings.Join(wantLog, "\n")),
				"Open logs \"Opened connection to PATH\" once the ping succeeded, and Close logs \"Closed connection to PATH\" after db.Close: the log says what really happened.",
				"Run it")
		}
		return ""
	}},
	{"closes the connection on every way out, with defer", func(t *testing.T, p Program) string {
		path := workbooktest.NewUsersDB(t, `CREATE TABLE customers (id INTEGER)`)
		r := p.Run(t, "connection.log", "-db", path)
		if r.Status == 0 || !strings.Contains(r.Stderr, "Closed connection to "+path+"\n") {
			return p.Mentor(
				"On a database without a users table the query fails. Your program ended with status "+strconv.Itoa(r.Status)+" and wrote on stderr:\n"+indent(r.Stderr),
				"__exit__ runs however the with block ends, and so does a deferred call however the function returns: `defer conn.Close()` on the line after Open's error check closes the connection (and logs it) on the error's way out too.",
				"The Go idea")
		}
		return ""
	}},
	reportsAnErrorAfterTheFirstRow("connection.log", overflowOnRowTwo, "Without it the program prints one user and says nothing went wrong."),
}

func existence(statErr error) string {
	if statErr == nil {
		return "was created"
	}
	return "was not created"
}

// neverCreatesAMissingFile checks that the program opens its database with
// mode=rw: given a path with no file, it fails and creates nothing.
func neverCreatesAMissingFile(logFile string) Check {
	return Check{"never creates a database file that is missing", func(t *testing.T, p Program) string {
		missing := filepath.Join(t.TempDir(), "usres.db")
		r := p.Run(t, logFile, "-db", missing)
		_, err := os.Stat(missing)
		if r.Status == 0 || err == nil {
			return p.Mentor(
				"Given a path with no file, your program ended with status "+strconv.Itoa(r.Status)+" and the file "+existence(err)+".",
				"Without mode=rw in a file: URI, SQLite creates an empty database for a mistyped path, and the learner reads \"no such table: users\" instead of \"no such file\".",
				"The Go idea")
		}
		return ""
	}}
}

// reportsAnErrorAfterTheFirstRow checks rows.Err: on a users table made by
// setup, whose rows fail as SQLite computes them after the first, the
// program must fail with SQLite's "integer overflow". without says what
// the program does without rows.Err.
func reportsAnErrorAfterTheFirstRow(logFile string, setup []string, without string) Check {
	return Check{"reports an error that comes after the first row (rows.Err)", func(t *testing.T, p Program) string {
		path := workbooktest.NewUsersDB(t, setup...)
		r := p.Run(t, logFile, "-db", path)
		if r.Status == 0 || !strings.Contains(r.Stderr, "integer overflow") {
			return p.Mentor(
				"On a users table with a row that fails as SQLite reads it (integer overflow), after the first, your program ended with status "+strconv.Itoa(r.Status)+", printed:\n"+indent(r.Stdout)+"\nand wrote on stderr:\n"+indent(r.Stderr),
				"rows.Next returns false at the end of the rows and on an error alike; only rows.Err, after the loop, tells them apart. "+without,
				"The Go idea")
		}
		return ""
	}}
}
