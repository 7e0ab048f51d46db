package lesson

import (
	"context"
	"io"
	"os"
	"testing"
)

// TestMainTurnsCtrlCIntoACancelledContext sends SIGINT, what Ctrl-C sends,
// to the test's own process while run waits for its context to end: main
// catches it, cancels the context, waits for run to return, and exits 130.
func TestMainTurnsCtrlCIntoACancelledContext(t *testing.T) {
	self, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	cleanedUp := false
	status, _, stderr := runMain(t, nil, func(ctx context.Context, dbPath string, stdout, stderr io.Writer) error {
		defer func() { cleanedUp = true }()
		if err := self.Signal(os.Interrupt); err != nil {
			t.Skipf("this system cannot send SIGINT to a process: %v", err)
		}
		<-ctx.Done() // a lesson's database call that takes ctx returns here
		return ctx.Err()
	})
	if status != 130 || stderr != "1-execute: interrupted; its deferred cleanup ran\n" {
		t.Errorf("exit status %d, stderr %q; want 130 and the line that says so", status, stderr)
	}
	if !cleanedUp {
		t.Error("run's deferred call did not run before main returned")
	}
}
