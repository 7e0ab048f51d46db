package workbooktest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An Experiment is one "Try it" of a lesson's page: an edit to one of the
// lesson's files, a command, and what the learner then sees.
type Experiment struct {
	// File is the file to edit, in the lesson's folder: "main.go".
	File string
	// Old is the text to replace; it must occur exactly once in File, so
	// the experiment fails when the lesson no longer has it. New replaces
	// it ("" deletes it).
	Old, New string
	// Command runs in sh from the top folder of the workbook, as the page
	// tells the learner to run it.
	Command string
	// Want are texts that must each appear in what the command prints
	// (stdout and stderr together).
	Want []string
	// Fails says whether the command must exit with a non-zero status.
	Fails bool
}

// overlayEnv names the file that tells the go command, and Source, which
// edited file stands for which file of the lesson during an experiment.
const overlayEnv = "WORKBOOK_OVERLAY"

// RunExperiment checks that the page shows the experiment (its edit, its
// command and what it prints), then runs the command with the edit in
// place and checks what it prints.
//
// The lesson's files are never changed. The edited text goes in a file of
// its own, and go build's -overlay flag (through GOFLAGS) builds with it in
// the place of the lesson's file. The command runs in a scratch copy of the
// workbook's top folder made of links to the real files, so that what it
// creates (a database, a log file) lands there; the build cache is shared,
// so only the edited lesson is built again.
//
// Experiments run with go test -tags experiments; without the tag,
// RunExperiment only checks that the page shows the experiment.
func RunExperiment(t *testing.T, e Experiment) {
	t.Helper()
	text := Page(t)
	for _, s := range append([]string{e.Command}, e.Want...) {
		if !strings.Contains(text, s) {
			t.Errorf("README.md does not show %q", s)
		}
	}
	for _, s := range []string{e.Old, e.New} {
		for _, line := range strings.Split(s, "\n") {
			if line = strings.TrimSpace(line); line != "" && !strings.Contains(text, line) {
				t.Errorf("README.md does not show the edit's line %q", line)
			}
		}
	}
	src := Source(t, e.File)
	if n := strings.Count(src, e.Old); n != 1 {
		t.Fatalf("%s has the experiment's text %d times, want once: %q", e.File, n, e.Old)
	}
	if !experiments {
		t.Skip("runs the page's command: go test -tags experiments")
	}
	if os.Getenv(overlayEnv) != "" {
		t.Skip("already inside an experiment")
	}

	scratch := t.TempDir()
	top := filepath.Join(scratch, "workbook")
	linkTopFolder(t, Root(t), top)
	edited := filepath.Join(scratch, "edited-"+e.File)
	if err := os.WriteFile(edited, []byte(strings.Replace(src, e.Old, e.New, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The go command may see the file by the link's path or by the real
	// one: the overlay names both.
	lesson := Lesson(t)
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {
		filepath.Join(top, lesson, e.File):     edited,
		filepath.Join(SourceFolder(), e.File):  edited,
		filepath.Join(Root(t), lesson, e.File): edited,
	}})
	if err != nil {
		t.Fatal(err)
	}
	overlayFile := filepath.Join(scratch, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := contextForHangGuard(t)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", e.Command)
	cmd.Dir = top
	cmd.Env = append(os.Environ(),
		"GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -overlay="+overlayFile),
		overlayEnv+"="+overlayFile, "GOTOOLCHAIN=local", "CGO_ENABLED=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s was still running when the test's time ran out (go test -timeout): a slow machine, or a hang; it printed:\n%s", e.Command, out.String())
	}
	if failed := err != nil; failed != e.Fails {
		t.Errorf("%s: exit error %v, want failure %v", e.Command, err, e.Fails)
	}
	for _, w := range e.Want {
		if !strings.Contains(out.String(), w) {
			t.Errorf("%s does not print %q", e.Command, w)
		}
	}
	if t.Failed() {
		t.Logf("after the edit, %s printed:\n%s", e.Command, out.String())
	}
}

// linkTopFolder makes dir a stand-in for the workbook's top folder root: a
// link to each of its files and folders, but for git's and the learner's
// own files.
func linkTopFolder(t *testing.T, root, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		switch ext := filepath.Ext(name); {
		case name == ".git", ext == ".db", ext == ".log", strings.HasSuffix(name, "-journal"):
			continue
		}
		if err := os.Symlink(filepath.Join(root, name), filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// overlaid returns the edited file that stands for path during an
// experiment, if any.
func overlaid(t testing.TB, path string) (string, bool) {
	t.Helper()
	file := os.Getenv(overlayEnv)
	if file == "" {
		return "", false
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var overlay struct{ Replace map[string]string }
	if err := json.Unmarshal(b, &overlay); err != nil {
		t.Fatal(err)
	}
	edited, ok := overlay.Replace[path]
	return edited, ok
}

// contextForHangGuard is a context that ends a minute before the test
// binary's own deadline (go test -timeout, 10 minutes unless told), so that
// a command that hangs fails the test with what it printed instead of
// ending the whole binary with a stack dump. Without a deadline there is
// no guard.
func contextForHangGuard(t testing.TB) (context.Context, context.CancelFunc) {
	deadline, ok := t.(interface{ Deadline() (time.Time, bool) })
	if ok {
		if d, set := deadline.Deadline(); set {
			return context.WithDeadline(context.Background(), d.Add(-time.Minute))
		}
	}
	return context.WithCancel(context.Background())
}

// Slow skips a test that takes long and that a learner does not need in
// order to trust a lesson (a race-detector build, a million rows), unless
// the tests run with -tags experiments, as CI runs them. why says what
// takes long.
func Slow(t testing.TB, why string) {
	t.Helper()
	if !experiments {
		t.Skip(why + ": go test -tags experiments runs it")
	}
}
