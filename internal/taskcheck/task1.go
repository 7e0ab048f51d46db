package taskcheck

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"workbook/internal/workbooktest"
)

// Task1 are the checks of Task 1, 1-execute: a query whose value travels
// apart from its text, run and read whole, with everything closed.
var Task1 = []Check{
	{"prints the users older than 25 as Python prints the rows", func(t *testing.T, p Program) string {
		path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
		r := p.Run(t, "query.log", "-db", path)
		want := strings.Join(guideRows[:2], "\n") + "\n"
		if r.Status != 0 || r.Stdout != want {
			return p.Mentor(
				"On the guide's users.db your program ended with status "+strconv.Itoa(r.Status)+" and printed:\n"+indent(r.Stdout)+"\nand on stderr:\n"+indent(r.Stderr)+"\nThe guide's Python prints:\n"+indent(want),
				"ExecuteQuery does __enter__: it opens the file, runs the query with its parameter and reads every row, as fetchall does; run prints each row.",
				"The Go idea")
		}
		return ""
	}},
	{"keeps the value 25 out of the SQL text, in a placeholder", func(t *testing.T, p Program) string {
		path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
		r := p.Run(t, "query.log", "-db", path)
		want := "Executed query: SELECT * FROM users WHERE age > ? with params: (25,)\n"
		if !strings.HasPrefix(r.Stderr, want) {
			return p.Mentor(
				"Your program's first log line is:\n"+indent(firstLine(r.Stderr))+"\nThe guide's Python logs:\n"+indent(want),
				"The ? placeholder sends 25 to SQLite apart from the SQL text, so no value, however it is written, can change what the query does. A query built with fmt.Sprintf would log \"age > 25 with params: ()\", and a value from a user could rewrite it.",
				"The Go idea")
		}
		return ""
	}},
	{"logs the query and the close as the guide's Python does", func(t *testing.T, p Program) string {
		path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
		r := p.Run(t, "query.log", "-db", path)
		executed := "Executed query: SELECT * FROM users WHERE age > ? with params: (25,)"
		closed := "Closed connection to " + path
		wantStderr := executed + "\n" + closed + "\n"
		wantLog := []string{"INFO - " + executed, "INFO - " + closed}
		if r.Stderr != wantStderr || !slices.Equal(r.Log, wantLog) {
			return p.Mentor(
				"Your program wrote on stderr:\n"+indent(r.Stderr)+"\nand in query.log (without the times):\n"+indent(strings.Join(r.Log, "\n"))+"\nThe guide's Python writes on stderr:\n"+indent(wantStderr)+"\nand in query.log:\n"+indent(strings.Join(wantLog, "\n")),
				"ExecuteQuery logs the query once it ran, and Close, deferred in run, logs the close: the log says what really happened, in that order.",
				"Run it")
		}
		return ""
	}},
	neverCreatesAMissingFile("query.log"),
	{"fails with one line when the query fails, and logs no close", func(t *testing.T, p Program) string {
		path := workbooktest.NewUsersDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`)
		r := p.Run(t, "query.log", "-db", path)
		if r.Status != 1 || !strings.Contains(r.Stderr, "has no age column: its columns are id, name") || strings.Contains(r.Stderr, "Closed connection") || r.Stdout != "" {
			return p.Mentor(
				"On a users table without an age column your program ended with status "+strconv.Itoa(r.Status)+", printed:\n"+indent(r.Stdout)+"\nand wrote on stderr:\n"+indent(r.Stderr),
				"When __enter__ raises, Python never calls __exit__, so the guide's program logs no close. ExecuteQuery still closes what it opened before it returns the error (Go must not leak it), but it logs nothing of it, and returns the error that dbfile.Explain made of it, while the database is still open to ask which columns the table has: one line that names them, status 1.",
				"Where Go differs from the Python, and why")
		}
		return ""
	}},
	reportsAnErrorAfterTheFirstRow("query.log", overflowOnRowTwo, "Without it fetchAll returns one user and no error."),
}

// firstLine is the first line of text, with its newline.
func firstLine(text string) string {
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		return text[:i+1]
	}
	return text
}
