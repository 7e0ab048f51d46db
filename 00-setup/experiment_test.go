//go:build cgo

package main

import "testing"

// The experiments of the page's "Try it", each made on a copy of the
// workbook as the page describes it.

func TestExperimentOpenWithoutCreate(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     `fileURI(dbPath)+"?mode=rwc`,
		new:     `fileURI(dbPath)+"?mode=rw`,
		command: "go run ./00-setup -db new.db",
		want:    []string{"there is no such file; create it with: go run ./00-setup -db new.db"},
		fails:   true,
	})
}

func TestExperimentNoSafetyNet(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "defer tx.Rollback()",
		new:     "",
		command: "go test -run TestAFailedRunReleasesTheWriteLock ./00-setup",
		want:    []string{"another connection cannot write after the failed run: database is locked"},
		fails:   true,
	})
}

func TestExperimentIgnoreTheCommit(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "return tx.Commit()",
		new:     "tx.Commit()\n\treturn nil",
		command: "go test -run TestACommitThatFailsIsReported ./00-setup",
		want:    []string{"error = <nil>, want COMMIT's: database is locked"},
		fails:   true,
	})
}

func TestExperimentDuplicates(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     " WHERE NOT EXISTS (SELECT 1 FROM users WHERE email = ?2)",
		new:     "",
		command: "go test -run TestRerunAddsNobodyTwice ./00-setup",
		want:    []string{"UNIQUE constraint failed: users.email", "the rerun changed the file"},
		fails:   true,
	})
}

func TestExperimentADeferredTransaction(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "mode=rwc&_txlock=immediate",
		new:     "mode=rwc&_txlock=deferred",
		command: "go test -run TestWaitsForAnotherWriter ./00-setup",
		want:    []string{"insert alice.smith@example.com: database is locked"},
		fails:   true,
	})
}

func TestExperimentNeverClosed(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "\tdefer db.Close()\n",
		new:     "",
		command: "go test -run TestNothingIsLeftOpen ./00-setup",
		want:    []string{"is still open (file descriptor"},
		fails:   true,
	})
}
