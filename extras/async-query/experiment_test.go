package main

import (
	"testing"

	"workbook/internal/workbooktest"
)

// The experiments of the page's "Try it": the edit, the command, and what
// the learner then sees.

func TestExperimentRemoveTheDeadline(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "withDeadline, cancel := context.WithTimeout(ctx, 200*time.Millisecond)",
		New:     "withDeadline, cancel := context.WithCancel(ctx)",
		Command: "go test -run TestRunStopsTheQueriesThatNeverEnd ./extras/async-query",
		Want:    []string{"a query ran until the test's own 5s backstop: nothing else stopped it"},
		Fails:   true,
	})
}

func TestExperimentCancelTooLate(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "time.AfterFunc(100*time.Millisecond, cancelQuery)",
		New:     "time.AfterFunc(time.Hour, cancelQuery)",
		Command: "go test -run TestRunStopsTheQueriesThatNeverEnd ./extras/async-query",
		Want:    []string{"a query ran until the test's own 5s backstop: nothing else stopped it"},
		Fails:   true,
	})
}

func TestExperimentDropTheDeadlinesCancel(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "withDeadline, cancel := context.WithTimeout(ctx, 200*time.Millisecond)\n\tdefer cancel()\n",
		New:     "withDeadline, _ := context.WithTimeout(ctx, 200*time.Millisecond)\n",
		Command: "go vet ./extras/async-query; go test -run TestEveryCancelFunctionIsDeferredAtOnce ./extras/async-query",
		Want: []string{
			"the cancel function returned by context.WithTimeout should be called, not discarded, to avoid a context leak",
			"the cancel function of context.WithTimeout is dropped: keep it and defer it",
		},
		Fails: true,
	})
}

func TestExperimentDoNotDeferCancelQuery(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\tdefer cancelQuery()\n",
		Command: "go vet ./extras/async-query && go test -run TestEveryCancelFunctionIsDeferredAtOnce ./extras/async-query",
		Want: []string{
			"cancelQuery, the cancel function of context.WithCancel, is not deferred on the next line: defer cancelQuery()",
		},
		Fails: true,
	})
}

func TestExperimentDeleteRowsErr(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "return results, rows.Err()",
		New:     "return results, nil",
		Command: "go test -run TestExecuteQueryReportsAnErrorAfterTheFirstRow ./extras/async-query",
		Want:    []string{"executeQuery = [(1,)], <nil>; want the integer overflow of row 2, not a short result"},
		Fails:   true,
	})
}

func TestExperimentDeleteDeferRowsClose(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\tdefer rows.Close()\n",
		Command: "go test -run TestExecuteQueryGivesTheConnectionBack ./extras/async-query",
		Want:    []string{"1 connection still in use after a row failed to scan, want 0"},
		Fails:   true,
	})
}
