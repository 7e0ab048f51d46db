//go:build cgo && !race

package main

// raceBuild tells the tests that go test built them without -race,
// independently of the build information that builtWithRace reads.
const raceBuild = false
