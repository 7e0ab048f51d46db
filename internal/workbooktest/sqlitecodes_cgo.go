//go:build cgo

package workbooktest

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// extendedCode is the extended result code of the driver's sqlite3.Error
// that err is or wraps, if any.
func extendedCode(err error) (int, bool) {
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) {
		return 0, false
	}
	return int(sqliteErr.ExtendedCode), true
}
