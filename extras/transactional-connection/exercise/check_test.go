//go:build exercise

package main

import (
	"testing"

	"workbook/internal/taskcheck"
)

// TestYourProgram builds the program in this folder and checks it, step by
// step, against what the guide's section 4.1.5 asks: go test -tags exercise
// ./extras/transactional-connection/exercise
func TestYourProgram(t *testing.T) {
	program := taskcheck.Build(t, ".")
	taskcheck.RunChecks(t, taskcheck.Program{Path: program, Lesson: "extras/transactional-connection"}, taskcheck.TransactionalConnection)
}
