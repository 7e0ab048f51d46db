package workbooktest

import (
	"context"
	"testing"
	"time"
)

// Context is the context for a test's queries and waits: it ends when the
// test ends, or a minute before the test binary's deadline (go test
// -timeout, 10 minutes unless told), whichever comes first. A query or a
// wait for a pool's connection that hangs then fails the test with
// "context deadline exceeded" instead of ending the whole binary with a
// stack dump, and a slow machine never fails a test that would have
// finished.
func Context(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := contextForHangGuard(t)
	t.Cleanup(cancel)
	return ctx
}

// WaitFor checks cond every millisecond until it is true. If it is still
// false a minute before the test binary's deadline, the test fails, saying
// that it was waiting for what.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := contextForHangGuard(t)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("still waiting for %s when the test's time ran out (go test -timeout): a hang, or a very slow machine", what)
		case <-time.After(time.Millisecond):
		}
	}
}
