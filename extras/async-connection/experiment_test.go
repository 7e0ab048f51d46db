package main

import (
	"testing"

	"workbook/internal/workbooktest"
)

// The experiments of the page's "Try it": the edit, the command, and what
// the learner then sees.

func TestExperimentDeleteDeferConnClose(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\tdefer conn.Close()\n",
		Command: "go test -run TestFetchGivesTheConnectionBack ./extras/async-connection",
		Want:    []string{"after fetch 1 of 3: 1 connection still in use, want 0: conn.Close gives it back"},
		Fails:   true,
	})
}

func TestExperimentDeleteDeferRowsClose(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\tdefer rows.Close()\n",
		Command: "go test -run TestFetchClosesTheRowsOnAnEarlyReturn ./extras/async-connection",
		Want:    []string{"the fetch waits in conn.Close for rows that were never closed"},
		Fails:   true,
	})
}

func TestExperimentDropAGoroutinesError(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "return errors.Join(errs...)",
		New:     "return errors.Join()",
		Command: "go test -run TestRunFails ./extras/async-connection",
		Want:    []string{"--- FAIL: TestRunFails/no_age_column", `error = <nil>, want one that says "has no age column: its columns are id, name"`},
		Fails:   true,
	})
}

func TestExperimentTakeTheConnectionWithoutTheCallersContext(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "conn, err := db.Conn(ctx)\n\tif err",
		New:     "conn, err := db.Conn(context.Background())\n\tif err",
		Command: "go test -run TestACancelledFetchDoesNotWaitForAConnection ./extras/async-connection",
		Want:    []string{"the fetch waits for the pool's only connection although its context was cancelled: take the connection with the caller's context"},
		Fails:   true,
	})
}

func TestExperimentNoBusyTimeout(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "_busy_timeout=5000",
		New:     "_busy_timeout=0",
		Command: "go test -run TestRunWaitsForALock ./extras/async-connection",
		Want:    []string{"run while another program held the lock for 300 ms:", "is locked by another program"},
		Fails:   true,
	})
}
