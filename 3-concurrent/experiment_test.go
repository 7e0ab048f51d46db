//go:build cgo

package main

import "testing"

// The experiments of the page's "Try it", each made on a copy of the
// workbook: the edit, the command, and what the learner then sees.

func TestExperimentWithoutWait(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "\twg.Wait()\n\tif errAll != nil || errOlder != nil {",
		new:     "\tif errAll != nil || errOlder != nil {",
		command: "go test -run TestFetchesRunAtTheSameTime ./3-concurrent",
		want:    []string{"fetchConcurrently returned 0 and 0 users, want 3 and 1"},
		fails:   true,
	})
}

func TestExperimentWithoutRowsClose(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "\tdefer rows.Close()\n",
		command: "go test -run TestAFailedScanReleasesTheConnection ./3-concurrent",
		want: []string{
			"1 connection still in use after a failed scan: the rows were never closed",
			"db.Stats: 1 open, 1 in use; want nothing left open",
		},
		fails: true,
	})
}

func TestExperimentDropTheErrorOfAFetch(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "if errAll != nil || errOlder != nil {",
		new:     "if errAll != nil {",
		command: "go test -run TestEachFetchsErrorIsReturned ./3-concurrent",
		want:    []string{"fetchConcurrently returned 2 and 0 users and no error; want the error of fetch users older than 40"},
		fails:   true,
	})
}

func TestExperimentWithoutCancel(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "\t\t\tcancel(errAll)\n",
		command: "go test -run TestAFailingFetchCancelsTheOther ./3-concurrent",
		want:    []string{"the other fetch ran on until the test's deadline: nothing canceled it"},
		fails:   true,
	})
}

func TestExperimentWithoutRowsErr(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "return users, rows.Err()",
		new:     "return users, nil",
		command: "go test -run TestAnErrorAfterTheFirstRowFailsTheFetch ./3-concurrent",
		want:    []string{"asyncFetchUsers returned 1 row(s) and error <nil>: an error after the first row was taken for the end of the rows"},
		fails:   true,
	})
}

func TestExperimentModeRWC(t *testing.T) {
	runExperiment(t, experiment{
		file:    "main.go",
		old:     "?mode=rw&",
		new:     "?mode=rwc&",
		command: "go run ./3-concurrent -db nosuch.db; ls nosuch.db",
		want: []string{
			"3-concurrent: nosuch.db is an empty file with no tables",
			"nosuch.db\n",
		},
	})
}
