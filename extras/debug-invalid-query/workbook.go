//go:build cgo

// workbook.go is the same file in every lesson folder, and a test fails if
// one copy differs from the others. It holds what every lesson needs but
// none of them teaches, so that main.go can be the lesson alone:
//
//   - main: the -db flag, Ctrl-C, and one line on stderr for an error;
//   - newLogger: Python's logging, with the guide's line format, in log/slog;
//   - fileURI and advise: opening the right file, and advice when it is not;
//   - queryAsStored, scanRow and pyRow: rows printed as Python prints them.
//
// Lessons share no package: each folder builds and copies on its own.

package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-sqlite3"
)

// main reads the command line, runs the lesson and turns its error into one
// line on stderr. Every lesson's run returns its error rather than exiting,
// so its deferred cleanup always runs first.
//
// Ctrl-C (SIGINT) or SIGTERM cancels run's context instead of killing the
// program, as Python raises KeyboardInterrupt inside the with block so that
// __exit__ still runs. The lesson stops at its next database call, its
// deferred calls close what it opened, and the program exits with status
// 130, as a shell expects after Ctrl-C. A second Ctrl-C kills it at once.
func main() {
	lesson := lessonPath()
	dbPath := flag.String("db", "users.db", "the SQLite database file `FILE`")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./%s [flags]\n", lesson)
		flag.PrintDefaults()
	}
	flag.Parse()
	switch {
	case flag.NArg() > 0:
		fmt.Fprintf(os.Stderr, "unexpected argument %q: give the database file with -db FILE\n", flag.Arg(0))
		flag.Usage()
		os.Exit(2)
	case *dbPath == "":
		fmt.Fprintln(os.Stderr, "the -db path is empty: give the database file, such as -db users.db")
		flag.Usage()
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // from now on, Ctrl-C kills the program at once
	}()
	err := run(ctx, *dbPath, stdout, os.Stderr)
	err = errors.Join(err, stdout.Flush())
	switch {
	case ctx.Err() != nil:
		fmt.Fprintf(os.Stderr, "%s: interrupted; its deferred cleanup ran\n", lesson)
		os.Exit(130)
	case err != nil:
		fmt.Fprintf(os.Stderr, "%s: %v\n", lesson, oneLine(err))
		os.Exit(1)
	}
}

// stdout is the program's standard output, buffered so that a million rows
// cost a few hundred writes instead of a million. The logger flushes it
// before each log line, so rows and log lines still appear in the order
// they happen when both go to one terminal. A mutex lets goroutines share
// it.
var stdout = &lockedWriter{w: bufio.NewWriterSize(os.Stdout, 64<<10)}

type lockedWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Flush()
}

// lessonPath is the lesson's folder as the learner types it after go run,
// such as "1-execute" or "extras/nested": the build records the package's
// import path, which the module path ("workbook/") starts.
func lessonPath() string {
	if info, ok := debug.ReadBuildInfo(); ok && strings.HasPrefix(info.Path, "workbook/") {
		return strings.TrimPrefix(info.Path, "workbook/")
	}
	return filepath.Base(os.Args[0])
}

// oneLine keeps an error to one line: errors.Join puts a newline between the
// errors it joins.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// newLogger is the guide's logging set-up: each line goes to stderr (the
// StreamHandler) and is appended to fileName in the current folder (the
// FileHandler), in the guide's format "2025-05-20 01:05:00,123 - INFO -
// message". If the file cannot be opened, it warns once and logs to stderr
// alone. Each line is written to the file at once, so closing the file has
// nothing left to save and its error is not reported.
func newLogger(stderr io.Writer, fileName string) (*slog.Logger, func()) {
	f, err := os.OpenFile(fileName, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(stderr, "warning: logging to stderr only: %v\n", err)
		return slog.New(&guideHandler{mu: new(sync.Mutex), out: []io.Writer{stderr}}), func() {}
	}
	h := &guideHandler{mu: new(sync.Mutex), out: []io.Writer{stderr, f}}
	return slog.New(h), func() { f.Close() }
}

// guideHandler is a slog.Handler that writes Python logging's format
// '%(asctime)s - %(levelname)s - %(message)s' to each of its writers, one
// whole line per write. Attributes, which the guide never uses, follow the
// message as key=value. The mutex lets goroutines share one logger.
type guideHandler struct {
	mu    *sync.Mutex
	out   []io.Writer
	attrs string
}

func (h *guideHandler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelInfo
}

func (h *guideHandler) Handle(_ context.Context, r slog.Record) error {
	level := r.Level.String()
	if r.Level == slog.LevelWarn {
		level = "WARNING" // Python's name for the level
	}
	var b strings.Builder
	b.WriteString(r.Time.Format("2006-01-02 15:04:05,000") + " - " + level + " - " + r.Message + h.attrs)
	r.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.String())
		return true
	})
	b.WriteByte('\n')
	h.mu.Lock()
	defer h.mu.Unlock()
	err := stdout.Flush() // the rows printed so far come first
	for _, w := range h.out {
		_, werr := io.WriteString(w, b.String())
		err = errors.Join(err, werr)
	}
	return err
}

func (h *guideHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	for _, a := range attrs {
		h2.attrs += " " + a.String()
	}
	return &h2
}

func (h *guideHandler) WithGroup(string) slog.Handler { return h }

// fileURI turns a file path into the "file:" URI that SQLite's URI options
// (mode=rw and the rest) need: without "file:" the driver drops them. The
// path is escaped, so a '?' or '#' in a file name stays part of the name,
// and a path that starts with "//" is not taken for a URI's host.
func fileURI(path string) string {
	escaped := (&url.URL{Path: filepath.ToSlash(path)}).EscapedPath()
	if strings.HasPrefix(escaped, "/") {
		return "file://" + escaped
	}
	return "file:" + escaped
}

// advise adds to a driver error what went wrong and what to do, in one line.
// It classifies the error with errors.As and SQLite's result code, never by
// the message's text, and looks at the file system or the database's schema
// for the details. columns are the users columns the failed query needs,
// beyond those that SELECT * needs (none). Errors it does not know come
// back unchanged.
func advise(ctx context.Context, db *sql.DB, path string, err error, columns ...string) error {
	var sqliteErr sqlite3.Error
	if !errors.As(err, &sqliteErr) {
		return err
	}
	setup, where := goRun("00-setup")
	switch sqliteErr.Code {
	case sqlite3.ErrCantOpen:
		return adviseCantOpen(path, err, setup, where)
	case sqlite3.ErrNotADB:
		return fmt.Errorf("%s is not an SQLite database (%w): check the -db path; %s%s makes a database to use", path, err, setup, where)
	case sqlite3.ErrBusy, sqlite3.ErrLocked:
		return fmt.Errorf("%s is locked by another program that is writing to it (%w): let it finish or close it (a sqlite3 shell or a DB browser with unsaved changes), then run this again", path, err)
	case sqlite3.ErrReadonly:
		return fmt.Errorf("cannot write to %s (%w): check that you may write to the file and to its folder", path, err)
	case sqlite3.ErrError:
		if db == nil {
			return err
		}
		if problem := usersTableProblem(ctx, db, path, columns); problem != "" {
			return fmt.Errorf("%s (%w): make the guide's table in a new file with %s -db guide.db%s and give -db guide.db", problem, err, setup, where)
		}
	}
	return err
}

// adviseCantOpen says why SQLite could not open path: SQLite only says that
// it could not, and the file system says why.
func adviseCantOpen(path string, err error, setup, where string) error {
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
		mod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.HasPrefix(string(mod), "module workbook\n") {
			return dir, true
		}
		if filepath.Dir(dir) == dir {
			return "", false
		}
	}
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

// goRun is the command that runs lesson from the current folder: "go run
// ./00-setup" at the top of the workbook, "go run ../00-setup" inside a
// lesson folder. Where the workbook is not in sight, it is the command for
// the top folder, and where says so, to go at the end of the advice.
func goRun(lesson string) (command, where string) {
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

// querier is what *sql.DB, *sql.Conn and *sql.Tx have in common for queries.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryAsStored is db.QueryContext(ctx, query, args...), except that every
// value comes back as SQLite stored it, as Python's sqlite3 returns it.
//
// The driver turns a column declared DATE, DATETIME or TIMESTAMP into a
// time.Time (text it cannot parse becomes the zero time) and one declared
// BOOLEAN into a bool. It goes by the column's declared type, and SQLite
// gives an expression none. So when the query's result has such a column,
// queryAsStored runs it again inside SELECT +"col" AS "col", ... FROM
// (query): unary + changes no value but makes each column an expression.
// The column names come from the query's own result, quoted as SQL
// identifiers; values still go through the placeholders.
func queryAsStored(ctx context.Context, db querier, query string, args ...any) (*sql.Rows, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return nil, err
	}
	converted := slices.ContainsFunc(types, func(t *sql.ColumnType) bool {
		switch strings.ToLower(t.DatabaseTypeName()) {
		case "date", "datetime", "timestamp", "boolean":
			return true
		}
		return false
	})
	if !converted {
		return rows, nil
	}
	if err := rows.Close(); err != nil {
		return nil, err
	}
	columns := make([]string, len(types))
	for i, t := range types {
		name := `"` + strings.ReplaceAll(t.Name(), `"`, `""`) + `"`
		columns[i] = "+" + name + " AS " + name
	}
	inner := strings.TrimRight(strings.TrimSpace(query), "; \t\n")
	return db.QueryContext(ctx, "SELECT "+strings.Join(columns, ", ")+" FROM ("+inner+")", args...)
}

// scanRow reads the current row, whatever its columns, into a pyRow. Each
// value keeps its own type, as in a Python tuple: int64 for INTEGER,
// float64 for REAL, string for TEXT, []byte for BLOB and nil for NULL.
func scanRow(rows *sql.Rows) (pyRow, error) {
	columns, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	row := make(pyRow, len(columns))
	// The pointers Scan fills the row through stay on the stack for up to
	// 16 columns (append moves them to the heap beyond): a row costs one
	// allocation fewer, which shows at a million rows.
	var small [16]any
	dest := small[:0]
	for i := range row {
		dest = append(dest, &row[i])
	}
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	for i, v := range row {
		if s, ok := v.(string); ok && !utf8.ValidString(s) {
			return nil, fmt.Errorf("column %s holds text that is not UTF-8, which Python's sqlite3 cannot read either", columns[i])
		}
	}
	return row, nil
}

// pyRow is one result row. Its String method writes it as Python's
// print(row) writes the tuple that Python's sqlite3 returns.
type pyRow []any

func (r pyRow) String() string {
	b := make([]byte, 0, 96) // room for a typical row, so it is allocated once
	b = append(b, '(')
	for i, v := range r {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendRepr(b, v)
	}
	if len(r) == 1 {
		b = append(b, ',') // Python's one-element tuple: (25,)
	}
	return string(append(b, ')'))
}

// appendRepr appends Python's repr of v: None, an int, a float, a str or a
// bytes value.
func appendRepr(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "None"...)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case float64:
		return appendFloatRepr(b, v)
	case string:
		return appendStrRepr(b, v)
	case []byte:
		return appendBytesRepr(b, v)
	case bool:
		if v {
			return append(b, "True"...)
		}
		return append(b, "False"...)
	case time.Time:
		return appendStrRepr(b, v.Format(time.DateTime))
	}
	return fmt.Appendf(b, "%v", v)
}

// appendFloatRepr appends Python's repr of a float: the shortest digits that
// read back as the same number, written as a fixed-point number with at
// least one decimal (50.0, 0.0001) when the exponent is from -4 to 15, and
// in exponent form otherwise (1e+16, 1e-05).
func appendFloatRepr(b []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	case math.IsNaN(f):
		return append(b, "nan"...)
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	exp, _ := strconv.Atoi(e[strings.IndexByte(e, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return append(b, e...)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	b = append(b, s...)
	if !strings.ContainsAny(s, ".") {
		b = append(b, ".0"...)
	}
	return b
}

// appendStrRepr appends Python's repr of a str. Python quotes with ' unless
// the text has a ' and no ", escapes the backslash, the quote it chose, \t,
// \n and \r, and writes every other character that it cannot print as
// \xhh, \uhhhh or \Uhhhhhhhh.
func appendStrRepr(b []byte, s string) []byte {
	quote := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		quote = '"'
	}
	b = append(b, quote)
	if plainASCII(s, quote) {
		b = append(b, s...) // the common case: nothing to escape
		return append(b, quote)
	}
	for _, r := range s {
		switch {
		case r == '\\' || r == rune(quote):
			b = append(b, '\\', byte(r))
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r < 0x80 && r >= 0x20 && r < 0x7f, r == ' ':
			b = append(b, byte(r))
		case pyPrintable(r):
			b = utf8.AppendRune(b, r)
		case r < 0x100:
			b = fmt.Appendf(b, `\x%02x`, r)
		case r < 0x10000:
			b = fmt.Appendf(b, `\u%04x`, r)
		default:
			b = fmt.Appendf(b, `\U%08x`, r)
		}
	}
	return append(b, quote)
}

// plainASCII reports whether s is printable ASCII with no backslash and no
// quote, which Python's repr writes as it is.
func plainASCII(s string, quote byte) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '\\' || c == quote {
			return false
		}
	}
	return true
}

// pyPrintable is Python's str.isprintable for one character: letters,
// marks, numbers, punctuation, symbols and the ASCII space, which is what
// Go's unicode.IsPrint means too. (Each language follows its own version of
// Unicode, so a character new in one version may differ.)
func pyPrintable(r rune) bool {
	return unicode.IsPrint(r)
}

// appendBytesRepr appends Python's repr of bytes: b'...', printable ASCII as
// it is, and \t, \n, \r, \\ and \xhh for the rest.
func appendBytesRepr(b []byte, p []byte) []byte {
	quote := byte('\'')
	if slices.Contains(p, '\'') && !slices.Contains(p, '"') {
		quote = '"'
	}
	b = append(b, 'b', quote)
	for _, c := range p {
		switch {
		case c == '\\' || c == quote:
			b = append(b, '\\', c)
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c >= 0x20 && c < 0x7f:
			b = append(b, c)
		default:
			b = fmt.Appendf(b, `\x%02x`, c)
		}
	}
	return append(b, quote)
}
