package everylesson

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"workbook/internal/workbooktest"
)

// guideRows are the rows the guide's expected output shows for each core
// lesson on its three users (sections 4.1.4, 4.2.4 and 4.3.4).
var guideRows = map[string][]string{
	"0-databaseconnection": {
		"(1, 'Alice Smith', 'alice.smith@example.com', 30)",
		"(2, 'Bob Johnson', 'bob.johnson@example.com', 45)",
		"(3, 'Charlie Brown', 'charlie.brown@example.com', 25)",
	},
	"1-execute": {
		"(1, 'Alice Smith', 'alice.smith@example.com', 30)",
		"(2, 'Bob Johnson', 'bob.johnson@example.com', 45)",
	},
	"3-concurrent": {
		"All users:",
		"(1, 'Alice Smith', 'alice.smith@example.com', 30)",
		"(2, 'Bob Johnson', 'bob.johnson@example.com', 45)",
		"(3, 'Charlie Brown', 'charlie.brown@example.com', 25)",
		"",
		"Users older than 40:",
		"(2, 'Bob Johnson', 'bob.johnson@example.com', 45)",
	},
}

func TestCoreLessonsPrintTheGuidesRows(t *testing.T) {
	bin := programs(t)
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	for _, lesson := range core {
		stdout, stderr, status := workbooktest.RunProgram(t, t.TempDir(), workbooktest.Program(bin, lesson), "-db", path)
		want := strings.Join(guideRows[lesson], "\n") + "\n"
		if status != 0 || stdout != want {
			t.Errorf("%s: exit status %d, stdout\n%s\nwant\n%s\nstderr: %s", lesson, status, stdout, want, stderr)
		}
	}
}

func TestRowsAndLogLinesKeepTheirOrderOnOneTerminal(t *testing.T) {
	bin := programs(t)
	path := workbooktest.NewUsersDB(t, workbooktest.GuideUsers...)
	// What a learner sees when stdout and stderr share one terminal, in
	// the order the guide's Python shows it: the bare log lines where
	// they happen among the rows.
	closed := "Closed connection to " + path
	want := map[string][]string{
		"0-databaseconnection": slices.Concat([]string{"Opened connection to " + path}, guideRows["0-databaseconnection"], []string{closed}),
		"1-execute":            slices.Concat([]string{"Executed query: SELECT * FROM users WHERE age > ? with params: (25,)"}, guideRows["1-execute"], []string{closed}),
		"3-concurrent":         slices.Concat([]string{"Fetched all users", "Fetched users older than 40"}, guideRows["3-concurrent"]),
	}
	for _, lesson := range core {
		t.Run(lesson, func(t *testing.T) {
			cmd, ctx := lessonCommand(t, bin, lesson, t.TempDir(), "-db", path)
			var both bytes.Buffer
			cmd.Stdout, cmd.Stderr = &both, &both
			if err := cmd.Run(); err != nil {
				if ctx.Err() != nil {
					t.Fatalf("the lesson was still running when the test's time ran out: a hang, or a very slow machine\n%s", both.String())
				}
				t.Fatalf("%v\n%s", err, both.String())
			}
			got := workbooktest.Lines(both.String())
			// 3-concurrent's two fetches may finish in either order.
			if lesson == "3-concurrent" && len(got) >= 2 {
				slices.Sort(got[:2])
			}
			if !slices.Equal(got, want[lesson]) {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want[lesson], "\n"))
			}
		})
	}
}

func TestManyProgramsAtOnceOnOneFile(t *testing.T) {
	bin := programs(t)
	dir := t.TempDir()
	setUp(t, bin, dir)
	// Six writers adding the same 3,000 users and six readers fetching
	// everything, all started together on one file.
	ctx := workbooktest.Context(t)
	var cmds []*exec.Cmd
	for range 6 {
		cmds = append(cmds,
			exec.CommandContext(ctx, workbooktest.Program(bin, "00-setup"), "-users", "3000"),
			exec.CommandContext(ctx, workbooktest.Program(bin, "3-concurrent")))
	}
	outputs := make([]bytes.Buffer, len(cmds))
	for i, cmd := range cmds {
		cmd.Dir = dir
		cmd.Stderr = &outputs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("%s: %v\n%s", filepath.Base(cmd.Path), err, outputs[i].String())
		}
	}
	if ctx.Err() != nil {
		t.Fatal("the programs were still running when the test's time ran out: a hang, or a very slow machine")
	}
	db := workbooktest.OpenReadOnly(t, filepath.Join(dir, "users.db"))
	var users int
	var check string
	if err := db.QueryRow("SELECT count(*) FROM users").Scan(&users); err != nil || users != 3003 {
		t.Errorf("%d users (%v), want 3003", users, err)
	}
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}
}
