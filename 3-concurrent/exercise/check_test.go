//go:build exercise

package main

import (
	"testing"

	"workbook/internal/taskcheck"
)

// TestYourProgram builds the program in this folder and checks it, step by
// step, against what Task 2 asks: go test -tags exercise
// ./3-concurrent/exercise
func TestYourProgram(t *testing.T) {
	program := taskcheck.Build(t, ".")
	taskcheck.RunChecks(t, taskcheck.Program{Path: program, Lesson: "3-concurrent"}, taskcheck.Task3)
}
