package workbooktest

import (
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// pythons caches PythonWith's answers, one per module.
var pythons sync.Map

// PythonWith returns the path of a Python 3 that can import module, or ""
// (and logs why) when there is none, so that a test compares with Python
// wherever Python is installed.
func PythonWith(t testing.TB, module string) string {
	t.Helper()
	found, _ := pythons.LoadOrStore(module, sync.OnceValue(func() string {
		for _, candidate := range []string{"python3", "/usr/bin/python3"} {
			// sys.executable skips a version manager's shim next time.
			out, err := exec.Command(candidate, "-c", "import sys, "+module+"; print(sys.executable)").Output()
			if err == nil {
				return strings.TrimSpace(string(out))
			}
		}
		return ""
	}))
	python := found.(func() string)()
	if python == "" {
		t.Logf("no python3 with %s: checked against the test's own expectation only", module)
	}
	return python
}

// RunPython runs a Python script with args in dir and returns what it
// printed on stdout and stderr, and its exit status. It fails the test if
// Python does not start, or runs longer than HangGuard.
func RunPython(t testing.TB, python, dir, script string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	return RunProgram(t, dir, python, append([]string{"-c", script}, args...)...)
}
