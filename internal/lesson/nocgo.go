//go:build !cgo

package lesson

// Without cgo (CGO_ENABLED=0, or no C compiler found, when Go turns cgo off
// without a word) the SQLite driver, which is C code, cannot work: Main
// says so plainly instead of failing later with the driver's stub error.
const cgoEnabled = false
