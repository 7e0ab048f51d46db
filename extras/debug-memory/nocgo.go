//go:build !cgo

// nocgo.go is the same file in every lesson folder, and replaces the lesson
// when cgo is off: CGO_ENABLED=0, or no C compiler was found, in which case
// Go turns cgo off without a word. The SQLite driver is C code, so the
// lesson cannot work; it says so plainly instead of failing later with the
// driver's stub error.

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
)

func main() {
	lesson := filepath.Base(os.Args[0])
	if info, ok := debug.ReadBuildInfo(); ok && strings.HasPrefix(info.Path, "workbook/") {
		lesson = strings.TrimPrefix(info.Path, "workbook/")
	}
	fmt.Fprintf(os.Stderr, "%s needs cgo because the SQLite driver is C code: install a C compiler (gcc) and run it with CGO_ENABLED=1\n", lesson)
	os.Exit(1)
}
