package taskcheck

import (
	"context"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"workbook/internal/workbooktest"
)

// overflowInTheLastName is the guide's users as a view in which Charlie's
// name, and only his, fails as SQLite computes it: the fetch of all users
// fails on its last row, and the fetch of the users older than 40, which
// never reads Charlie's name, works.
var overflowInTheLastName = append(workbooktest.GuideUsers[:2:2],
	`ALTER TABLE users RENAME TO people`,
	`CREATE VIEW users AS SELECT id, CASE WHEN id = 3 THEN abs(id - id - 9223372036854775807 - 1) ELSE name END AS name, email, age FROM people`)

// Task3 are the checks of Task 2, 3-concurrent: two fetches at once on one
// pool, joined by a WaitGroup, the first error cancelling the other.
var Task3 = []Check{
	{"prints both lists as the guide's Python does", func(t *testing.T, p Program) string {
		path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
		r := p.Run(t, "async.log", "-db", path)
		want := "All users:\n" + strings.Join(guideRows, "\n") + "\n\nUsers older than 40:\n" + guideRows[1] + "\n"
		if r.Status != 0 || r.Stdout != want {
			return p.Mentor(
				"On the guide's users.db your program ended with status "+strconv.Itoa(r.Status)+" and printed:\n"+indent(r.Stdout)+"\nand on stderr:\n"+indent(r.Stderr)+"\nThe guide's Python prints:\n"+indent(want),
				"Nothing prints until the pool is open, both fetches read their rows and fetchConcurrently runs them: each on a goroutine of its own, and wg.Wait() waits for both, as await asyncio.gather does; only after it are both results there to print. The one line your program writes on stderr names what to write next.",
				"The Go idea")
		}
		return ""
	}},
	{"logs each fetch as the guide's Python does", func(t *testing.T, p Program) string {
		path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
		r := p.Run(t, "async.log", "-db", path)
		want := []string{"Fetched all users", "Fetched users older than 40"}
		got := workbooktest.Lines(r.Stderr)
		slices.Sort(got)
		var log []string
		for _, line := range r.Log {
			log = append(log, strings.TrimPrefix(line, "INFO - "))
		}
		slices.Sort(log)
		if !slices.Equal(got, want) || !slices.Equal(log, want) {
			return p.Mentor(
				"Your program wrote on stderr:\n"+indent(r.Stderr)+"\nand in async.log (without the times):\n"+indent(strings.Join(r.Log, "\n"))+"\nThe guide's Python writes these two lines, in either order, to both:\n"+indent(strings.Join(want, "\n")),
				"Each fetch logs once its rows are read; the two run at once, so either may finish first.",
				"Run it")
		}
		return ""
	}},
	{"returns the error of either fetch", func(t *testing.T, p Program) string {
		path := workbooktest.NewUsersDB(t, `CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)`, `INSERT INTO users (name) VALUES ('Ann')`)
		r := p.Run(t, "async.log", "-db", path)
		if r.Status != 1 || !strings.Contains(r.Stderr, "age") || r.Stdout != "" {
			return p.Mentor(
				"On a users table without an age column, the fetch of all users works and the fetch of the older ones fails. Your program ended with status "+strconv.Itoa(r.Status)+", printed:\n"+indent(r.Stdout)+"\nand wrote on stderr:\n"+indent(r.Stderr),
				"A goroutine cannot return its error to the caller: each fetch keeps its own error, and after wg.Wait() the program must look at both. Checking only one prints half the answer as if it were all of it.",
				"The Go idea")
		}
		return ""
	}},
	reportsAnErrorAfterTheFirstRow("async.log", overflowInTheLastName, "Without it the fetch of all users returns two users and no error."),
	{"cancels the other fetch when one fails", func(t *testing.T, p Program) string {
		// The users view never ends and returns no row, and it has no age
		// column: the older users' fetch fails at once, and the fetch of
		// all users stops only if that failure cancels it.
		path := workbooktest.NewUsersDB(t, `CREATE VIEW users AS WITH RECURSIVE i(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM i) SELECT n AS id FROM i WHERE n < 0`)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, p.Path, "-db", path)
		cmd.Dir = t.TempDir()
		out, _ := cmd.CombinedOutput()
		if ctx.Err() == nil && (cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "age")) {
			return p.Mentor(
				"On a users table without an age column your program ended with status "+strconv.Itoa(cmd.ProcessState.ExitCode())+" and wrote:\n"+indent(string(out)),
				"The fetch of the older users fails at once there, and the program must end with its error, after the other fetch was stopped.",
				"The Go idea")
		}
		if ctx.Err() != nil {
			return p.Mentor(
				"On a users table whose full read never ends and whose older users' query fails at once, your program was still running after a minute (it was stopped then). It had written:\n"+indent(string(out)),
				"asyncio.gather leaves the other task running when one fails. Go's usual answer, as asyncio.TaskGroup's, is to cancel it: the first fetch to fail calls cancel on the context both share, and the other's query stops at its next step.",
				"The Go idea")
		}
		return ""
	}},
}
