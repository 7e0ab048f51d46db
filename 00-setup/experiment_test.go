package main

import (
	"testing"

	"workbook/internal/workbooktest"
)

// The experiments of the page's "Try it", each an edit of main.go that
// the build sees in place of the file (the file itself is not changed).

func TestExperimentOpenWithoutCreate(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     `"?mode=rwc&`,
		New:     `"?mode=rw&`,
		Command: "go run ./00-setup -db new.db",
		Want:    []string{"there is no such file; create it with: go run ./00-setup -db new.db"},
		Fails:   true,
	})
}

func TestExperimentNoSafetyNet(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "defer tx.Rollback()",
		New:     "",
		Command: "go test -run TestAFailedRunReleasesTheWriteLock ./00-setup",
		Want:    []string{"another connection cannot write after the failed run: database is locked"},
		Fails:   true,
	})
}

func TestExperimentIgnoreTheCommit(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "return tx.Commit()",
		New:     "tx.Commit()\n\treturn nil",
		Command: "go test -run TestACommitThatFailsIsReported ./00-setup",
		Want:    []string{"error = error creating database: alice.smith@example.com is not in the users table after Commit, want COMMIT's: database is locked"},
		Fails:   true,
	})
}

func TestExperimentDuplicates(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     " WHERE NOT EXISTS (SELECT 1 FROM users WHERE email = ?2)",
		New:     "",
		Command: "go test -run TestRerunAddsNobodyTwice ./00-setup",
		Want:    []string{"UNIQUE constraint failed: users.email", "the rerun changed the file"},
		Fails:   true,
	})
}

func TestExperimentADeferredTransaction(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "mode=rwc&_txlock=immediate",
		New:     "mode=rwc&_txlock=deferred",
		Command: "go test -run TestWaitsForAnotherWriter ./00-setup",
		Want:    []string{"insert alice.smith@example.com: database is locked"},
		Fails:   true,
	})
}

func TestExperimentNeverClosed(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "\tdefer db.Close()\n",
		New:     "",
		Command: "go test -run TestNothingIsLeftOpen ./00-setup",
		Want:    []string{"is still open (file descriptor"},
		Fails:   true,
	})
}

func TestExperimentSelectStar(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "`SELECT name, email, age FROM users WHERE",
		New:     "`SELECT * FROM users WHERE",
		Command: "go test -run TestRerunAddsNobodyTwice ./00-setup",
		Want:    []string{"sql: expected 4 destination arguments in Scan, not 3", "sql: expected 7 destination arguments in Scan, not 3"},
		Fails:   true,
	})
}

func TestExperimentTransactionOnCtx(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     "db.BeginTx(context.WithoutCancel(ctx), nil)",
		New:     "db.BeginTx(ctx, nil)",
		Command: "go test -tags experiments -run TestCtrlCLeavesNoJournal ./00-setup",
		Want:    []string{"Ctrl-C left users.db-journal behind in"},
		Fails:   true,
	})
}

func TestExperimentTheDriversSynchronous(t *testing.T) {
	workbooktest.RunExperiment(t, workbooktest.Experiment{
		File:    "main.go",
		Old:     `&_synchronous=FULL"`,
		New:     `"`,
		Command: "go test -run TestSynchronousIsFull ./00-setup",
		Want:    []string{"PRAGMA synchronous = NORMAL (1), want FULL"},
		Fails:   true,
	})
}
