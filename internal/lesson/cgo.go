//go:build cgo

package lesson

// The SQLite driver registers itself as "sqlite3" with database/sql when
// it is imported: every lesson that uses lesson.Main can open "sqlite3".
import _ "github.com/mattn/go-sqlite3"

const cgoEnabled = true
