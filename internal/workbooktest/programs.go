package workbooktest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// builds holds the folders of programs that Programs has built, by the
// build's environment, so that a test binary builds each lesson at most
// once per environment.
var builds = struct {
	sync.Mutex
	dirs map[string]string
}{dirs: map[string]string{}}

// Programs builds every lesson, with env added to the build's environment,
// and returns the folder that holds the programs, each named after its
// folder's last element, as go build names it. The folder is kept in the
// user's cache folder (os.UserCacheDir), one for each copy of the workbook
// and environment, so that the next test run finds the programs there: go
// build then sees that each is up to date and links nothing, where linking
// every lesson with SQLite's C code takes tens of seconds. The build has no
// time limit of its own: the first one compiles SQLite's C source, which
// takes minutes on a slow machine. A TestMain that uses Programs calls
// RemovePrograms at the end.
func Programs(t testing.TB, env ...string) string {
	t.Helper()
	builds.Lock()
	defer builds.Unlock()
	key := strings.Join(env, " ")
	if bin, ok := builds.dirs[key]; ok {
		return bin
	}
	bin, err := programsFolder(Root(t), key)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	for _, lesson := range AllLessons(t) {
		args = append(args, "./"+lesson)
	}
	build := exec.Command("go", args...)
	build.Dir = Root(t)
	build.Env = append(os.Environ(), env...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	builds.dirs[key] = bin
	return bin
}

// Program is the path of lesson's program in the folder Programs returned.
func Program(bin, lesson string) string {
	return filepath.Join(bin, path.Base(lesson))
}

// programsFolder is the folder that keeps the programs built from the
// workbook at root with the environment key, made if missing. Without a
// cache folder it is a new temporary folder, which RemovePrograms removes.
func programsFolder(root, key string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		dir, err := os.MkdirTemp("", "workbook-programs-")
		temporary[dir] = true
		return dir, err
	}
	sum := sha256.Sum256([]byte(root + "\x00" + key))
	dir := filepath.Join(cache, "workbook-programs", hex.EncodeToString(sum[:8]))
	return dir, os.MkdirAll(dir, 0o755)
}

// temporary are the folders of programs that RemovePrograms removes.
var temporary = map[string]bool{}

// RemovePrograms forgets every program that Programs built, and removes
// those in a temporary folder.
func RemovePrograms() {
	builds.Lock()
	defer builds.Unlock()
	for key, dir := range builds.dirs {
		if temporary[dir] {
			os.RemoveAll(dir)
		}
		delete(builds.dirs, key)
	}
}

// RunProgram runs program in dir with args and no input, and returns what
// it printed and its exit status. A program that is still running a minute
// before the test binary's deadline (go test -timeout) is killed, and the
// test fails saying so.
func RunProgram(t testing.TB, dir, program string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	ctx, cancel := contextForHangGuard(t)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %s was still running when the test's time ran out: a hang, or a very slow machine\nstderr: %s", filepath.Base(program), strings.Join(args, " "), errOut.String())
	case errors.As(err, &exitErr):
		status = exitErr.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	return out.String(), errOut.String(), status
}

// AssertNoStackTrace checks that stderr holds no sign of a Go panic.
func AssertNoStackTrace(t testing.TB, stderr string) {
	t.Helper()
	for _, trace := range []string{"goroutine ", "panic:", ".go:"} {
		if strings.Contains(stderr, trace) {
			t.Errorf("stderr holds %q, a sign of a stack trace:\n%s", trace, stderr)
		}
	}
}
