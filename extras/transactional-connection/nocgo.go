//go:build !cgo

// This file replaces the lesson when cgo is off: CGO_ENABLED=0, or no C
// compiler was found, in which case Go turns cgo off without a word. The
// SQLite driver is C code, so the lesson cannot work; it says so plainly
// instead of failing later with the driver's stub error.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "extras/transactional-connection needs cgo because the SQLite driver is C code: install a C compiler (gcc) and run it with CGO_ENABLED=1")
	os.Exit(1)
}
