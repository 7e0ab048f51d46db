package dbfile

// IsDriverError lets the tests check that an explained error still wraps
// the driver's sqlite3.Error, without naming that type, which exists only
// with cgo: the tests compile without cgo too.
func IsDriverError(err error) bool {
	_, ok := driverErrorKind(err)
	return ok
}

// IsLocked lets the tests check that err is SQLite's busy or locked error.
func IsLocked(err error) bool {
	kind, _ := driverErrorKind(err)
	return kind == locked
}
