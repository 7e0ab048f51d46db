// Package dbfile helps a lesson open the right database file, and says
// what to do when the learner gave a wrong one.
//
// URI turns a path into the "file:" URI that SQLite's options need.
// Explain turns a driver error into one line that says what went wrong and
// what to do, such as "cannot open users.db (unable to open database file):
// there is no such file; create it with: go run ./00-setup -db users.db".
package dbfile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// URI turns a file path into the "file:" URI that SQLite's URI options
// (mode=rw and the rest) need: without "file:" the driver drops them. The
// path is escaped, so a '?' or '#' in a file name stays part of the name,
// and a path that starts with "//" is not taken for a URI's host.
func URI(path string) string {
	escaped := (&url.URL{Path: filepath.ToSlash(path)}).EscapedPath()
	if strings.HasPrefix(escaped, "/") {
		return "file://" + escaped
	}
	return "file:" + escaped
}

// Explain adds to a driver error what went wrong and what to do, in one
// line. It classifies the error with errors.As and SQLite's result code,
// never by the message's text, and looks at the file system or the
// database's schema for the details. columns are the users columns the
// failed query names, beyond those that SELECT * needs (none). db may be
// nil. Errors it does not know come back unchanged.
func Explain(ctx context.Context, db *sql.DB, path string, err error, columns ...string) error {
	kind, ok := driverErrorKind(err)
	if !ok {
		return err
	}
	setup, where := GoRun("00-setup")
	switch kind {
	case cannotOpen:
		return explainCantOpen(path, err, setup, where)
	case notADatabase:
		return fmt.Errorf("%s is not an SQLite database (%w): check the -db path; %s%s makes a database to use", path, err, setup, where)
	case locked:
		return fmt.Errorf("%s is locked by another program that is writing to it (%w): let it finish or close it (a sqlite3 shell or a DB browser with unsaved changes), then run this again", path, err)
	case readOnly:
		return fmt.Errorf("cannot write to %s (%w): check that you may write to the file and to its folder", path, err)
	case sqlError:
		if db == nil {
			return err
		}
		if problem := usersTableProblem(ctx, db, path, columns); problem != "" {
			return fmt.Errorf("%s (%w): make the guide's table in a new file with %s -db guide.db%s and give -db guide.db", problem, err, setup, where)
		}
	}
	return err
}

// errorKind is what Explain tells apart among the driver's errors, by
// SQLite's result code.
type errorKind int

const (
	otherError   errorKind = iota
	cannotOpen             // SQLITE_CANTOPEN
	notADatabase           // SQLITE_NOTADB
	locked                 // SQLITE_BUSY or SQLITE_LOCKED: another connection holds a lock
	readOnly               // SQLITE_READONLY
	sqlError               // SQLITE_ERROR: among others, a table or column the query names is missing
)

// explainCantOpen says why SQLite could not open path: SQLite only says that
// it could not, and the file system says why.
func explainCantOpen(path string, err error, setup, where string) error {
	info, statErr := os.Stat(path)
	dir := filepath.Dir(path)
	dirInfo, dirErr := os.Stat(dir)
	switch {
	case statErr == nil && info.IsDir():
		return fmt.Errorf("%s is a folder, not a database file (%w): give -db the file itself", path, err)
	case errors.Is(dirErr, fs.ErrNotExist) || dirErr == nil && !dirInfo.IsDir():
		return fmt.Errorf("cannot open %s (%w): there is no folder %s", path, err, dir)
	case errors.Is(statErr, fs.ErrNotExist):
		if near := similarFile(path); near != "" {
			return fmt.Errorf("cannot open %s (%w): there is no such file; did you mean -db %s?", path, err, near)
		}
		if atTop := fromTop(path); atTop != "" {
			return fmt.Errorf("cannot open %s (%w): there is no such file here, but there is one at the top of the workbook: give -db %s", path, err, atTop)
		}
		return fmt.Errorf("cannot open %s (%w): there is no such file; create it with: %s -db %s%s", path, err, setup, path, where)
	}
	return fmt.Errorf("cannot open %s (%w): check that you may read and write it", path, err)
}

// similarFile finds a database file in path's folder whose name is close to
// path's (a typing slip, another case, another extension), or returns "".
func similarFile(path string) string {
	dir, base := filepath.Split(path)
	entries, err := os.ReadDir(filepath.Clean(dir + "."))
	if err != nil {
		return ""
	}
	stem := strings.ToLower(strings.TrimSuffix(base, filepath.Ext(base)))
	best, bestDistance := "", 3
	for _, e := range entries {
		name := e.Name()
		switch strings.ToLower(filepath.Ext(name)) {
		case ".db", ".sqlite", ".sqlite3", ".db3":
		default:
			continue
		}
		d := editDistance(strings.ToLower(base), strings.ToLower(name))
		if other := strings.ToLower(strings.TrimSuffix(name, filepath.Ext(name))); other == stem {
			d = 0
		}
		if e.Type().IsRegular() && d < bestDistance {
			best, bestDistance = dir+name, d
		}
	}
	return best
}

// fromTop looks for a relative path at the top of the workbook when the
// program runs in a folder below it, as "go run ." in a lesson folder does,
// and returns the path to it from here, or "".
func fromTop(path string) string {
	top, ok := workbookTop()
	cwd, err := os.Getwd()
	if !ok || err != nil || filepath.IsAbs(path) || top == cwd {
		return ""
	}
	if _, err := os.Stat(filepath.Join(top, path)); err != nil {
		return ""
	}
	rel, err := filepath.Rel(cwd, filepath.Join(top, path))
	if err != nil {
		return ""
	}
	return rel
}

// workbookTop is the top folder of the workbook that holds the current
// folder, where go.mod says "module workbook".
func workbookTop() (string, bool) {
	cwd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for dir := cwd; ; dir = filepath.Dir(dir) {
		if isWorkbookModule(filepath.Join(dir, "go.mod")) {
			return dir, true
		}
		if filepath.Dir(dir) == dir {
			return "", false
		}
	}
}

// isWorkbookModule reports whether the go.mod file at path is the
// workbook's: a line of it says "module workbook", with whatever line ends
// the checkout gave it (Git on Windows may give "\r\n").
func isWorkbookModule(path string) bool {
	mod, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(mod)) {
		if strings.TrimSpace(line) == "module workbook" {
			return true
		}
	}
	return false
}

// editDistance counts the letters to insert, delete or change to turn a
// into b (Levenshtein's distance).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// usersTableProblem says what the guide's query cannot find in the
// database: the whole file is empty, there is no users table, or the table
// lacks one of columns. It returns "" when the table is as the query needs.
func usersTableProblem(ctx context.Context, db *sql.DB, path string, columns []string) string {
	if info, err := os.Stat(path); err == nil && info.Size() == 0 {
		return fmt.Sprintf("%s is an empty file with no tables: Python's sqlite3.connect leaves one behind when it is given a path that did not exist, and so does a 00-setup stopped before its commit", path)
	}
	tables, err := queryStrings(ctx, db, "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		return ""
	}
	if !slices.ContainsFunc(tables, func(t string) bool { return strings.EqualFold(t, "users") }) {
		if len(tables) == 0 {
			return fmt.Sprintf("%s has no users table: it has no tables at all", path)
		}
		return fmt.Sprintf("%s has no users table: its tables are %s", path, strings.Join(tables, ", "))
	}
	have, err := queryStrings(ctx, db, "SELECT name FROM pragma_table_info('users')")
	if err != nil {
		return ""
	}
	for _, c := range columns {
		if !slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, c) }) {
			return fmt.Sprintf("the users table in %s has no %s column: its columns are %s", path, c, strings.Join(have, ", "))
		}
	}
	return ""
}

// queryStrings reads a one-column query into a slice.
func queryStrings(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// GoRun is the command that runs lesson from the current folder: "go run
// ./00-setup" at the top of the workbook, "go run ../00-setup" inside a
// lesson folder. Where the workbook is not in sight, it is the command for
// the top folder, and where says so, to go at the end of the advice.
func GoRun(lesson string) (command, where string) {
	top, ok := workbookTop()
	cwd, err := os.Getwd()
	if !ok || err != nil {
		return "go run ./" + lesson, " (from the workbook's folder)"
	}
	rel, err := filepath.Rel(cwd, filepath.Join(top, lesson))
	switch {
	case err != nil:
		return "go run ./" + lesson, " (from the workbook's folder)"
	case rel == ".":
		return "go run .", ""
	case !strings.HasPrefix(rel, ".."):
		rel = "./" + rel
	}
	return "go run " + filepath.ToSlash(rel), ""
}
