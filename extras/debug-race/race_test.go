//go:build cgo && race

package main

// raceBuild tells the tests that go test -race built them, independently of
// the build information that builtWithRace reads.
const raceBuild = true
