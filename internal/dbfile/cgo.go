//go:build cgo

package dbfile

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// driverErrorKind reports whether err is, or wraps, the driver's
// sqlite3.Error, and which kind of error its result code makes it.
func driverErrorKind(err error) (errorKind, bool) {
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) {
		return otherError, false
	}
	switch sqliteErr.Code {
	case sqlite3.ErrCantOpen:
		return cannotOpen, true
	case sqlite3.ErrNotADB:
		return notADatabase, true
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		return locked, true
	case sqlite3.ErrReadonly:
		return readOnly, true
	case sqlite3.ErrError:
		return sqlError, true
	}
	return otherError, true
}
