//go:build !cgo

package dbfile

// Without cgo the driver, which is C code, is a stub that runs nothing and
// returns no sqlite3.Error (the type exists only with cgo), so there is no
// driver error to explain: lesson.Main says instead that the lesson needs
// cgo.
func driverErrorKind(error) (errorKind, bool) {
	return otherError, false
}
