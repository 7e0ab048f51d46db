package workbooktest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Page is the lesson's page, README.md in its source folder.
func Page(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(SourceFolder(), "README.md"))
	if err != nil {
		t.Fatalf("the lesson's page: %v", err)
	}
	return string(b)
}

// AssertPageShows fails unless the lesson's page holds text exactly, such
// as the output a command prints, as a block of its own: the text's lines,
// each line whole.
func AssertPageShows(t testing.TB, text string) {
	t.Helper()
	if !strings.Contains("\n"+Page(t), "\n"+text) {
		t.Errorf("README.md does not show, line for line:\n%s", text)
	}
}

// goBlock is a Go code block of a page: the lines between "```go" and
// "```".
var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// PageQuoteProblems checks that every Go code block of page is quoted from
// src, the lesson's main.go: its lines appear in src one after the other,
// each line whole once spaces and tabs at either end are set aside, with
// blank lines skipped. A line "..." stands for any number of lines left
// out. It returns one problem for each block that main.go does not hold.
// A page quotes code by content, so that a line added above the code
// breaks nothing.
func PageQuoteProblems(page, src string) []string {
	code := nonBlankTrimmed(src)
	var problems []string
	for _, m := range goBlock.FindAllStringSubmatch(page, -1) {
		if !quoted(nonBlankTrimmed(m[1]), code) {
			problems = append(problems, "main.go does not hold the page's code block:\n"+m[1])
		}
	}
	return problems
}

func nonBlankTrimmed(text string) []string {
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

// quoted reports whether the lines of block appear in code in order, each
// run of them between "..." lines one after the other.
func quoted(block, code []string) bool {
	var runs [][]string
	run := []string{}
	for _, line := range block {
		if line == "..." {
			runs = append(runs, run)
			run = []string{}
			continue
		}
		run = append(run, line)
	}
	runs = append(runs, run)
	at := 0
	for _, run := range runs {
		if len(run) == 0 {
			continue
		}
		found := -1
		for i := at; i+len(run) <= len(code); i++ {
			if equalLines(code[i:i+len(run)], run) {
				found = i
				break
			}
		}
		if found < 0 {
			return false
		}
		at = found + len(run)
	}
	return true
}

func equalLines(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
