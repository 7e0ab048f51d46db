package main

import (
	"testing"

	"workbook/internal/workbooktest"
)

// The experiments of the page's "Try it": the edit, the command, and what
// the learner then sees.

func TestExperimentWithoutWait(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\twg.Wait()\n\n",
		Command: "go test -run TestFetchesRunAtTheSameTime ./3-concurrent",
		Want:    []string{"fetchConcurrently returned 0 and 0 users, want 3 and 1"},
		Fails:   true,
	})
}

func TestExperimentWithoutRowsClose(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\tdefer rows.Close()\n",
		Command: "go test -run TestAFailedScanReleasesTheConnection ./3-concurrent",
		Want: []string{
			"1 connection still in use after a failed scan: the rows were never closed",
			"db.Stats: 1 open, 1 in use; want nothing left open",
		},
		Fails: true,
	})
}

func TestExperimentDropTheErrorOfAFetch(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "if errAll != nil || errOlder != nil {",
		New:     "if errAll != nil {",
		Command: "go test -run TestEachFetchsErrorIsReturned ./3-concurrent",
		Want:    []string{"fetchConcurrently returned 1 and 0 users and no error; want the error of fetch users older than 40"},
		Fails:   true,
	})
}

func TestExperimentWithoutCancel(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\t\t\tcancel(errAll)\n",
		Command: "go test -run TestTheFirstErrorCancelsTheOtherFetch ./3-concurrent",
		Want:    []string{"fetch all users failed, and the other fetch still runs: nothing cancelled it"},
		Fails:   true,
	})
}

func TestExperimentWithoutRowsErr(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "return all, rows.Err()",
		New:     "return all, nil",
		Command: "go test -run TestAnErrorAfterTheFirstRowFailsTheFetch ./3-concurrent",
		Want:    []string{"fetchUsers returned 1 row(s) and error <nil>: an error after the first row was taken for the end of the rows"},
		Fails:   true,
	})
}

func TestExperimentModeRWC(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "?mode=rw&",
		New:     "?mode=rwc&",
		Command: "go run ./3-concurrent -db nosuch.db; ls nosuch.db",
		Want: []string{
			"3-concurrent: nosuch.db is an empty file with no tables",
			"nosuch.db\n",
		},
	})
}
