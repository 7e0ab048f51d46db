// Package pyrow reads rows as Python's sqlite3 returns them and prints them
// as Python's print(row) prints the tuple, byte for byte, whatever columns
// the table has:
//
//	rows, err := pyrow.Query(ctx, db, "SELECT * FROM users")
//	...
//	for rows.Next() {
//		row, err := pyrow.Scan(rows)
//		...
//		fmt.Println(row) // (1, 'Alice Smith', 'alice.smith@example.com', 30)
//	}
//
// The lessons print through it so that they print what the learner's own
// Python prints on the learner's own users table. A program that knows its
// table scans into typed variables instead, rows.Scan(&id, &name, ...).
package pyrow

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"workbook/internal/statement"
)

// Querier is what *sql.DB, *sql.Conn and *sql.Tx have in common for
// queries.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Query is q.QueryContext(ctx, query, args...), except that every value
// comes back as SQLite stored it, as Python's sqlite3 returns it, and that
// it runs one statement, as Python's cursor.execute does.
//
// The driver runs each statement of a query in turn and returns the last
// one's rows: for "SELECT * FROM users; -- every user", those of the
// comment, which are none. Query runs the first statement alone, and
// refuses with Python's errors a query that holds two
// (statement.ErrTwoStatements) or a NUL character, where the driver would
// cut it (statement.ErrNul).
//
// The driver turns a column declared DATE, DATETIME or TIMESTAMP into a
// time.Time (text it cannot parse becomes the zero time) and one declared
// BOOLEAN into a bool. It goes by the column's declared type, and SQLite
// gives an expression none. So when the query's result has such a column,
// Query runs it again inside SELECT +"col" AS "col", ... FROM (query): unary
// + changes no value but makes each column an expression. The column names
// come from the query's own result, quoted as SQL identifiers; values still
// go through the placeholders.
func Query(ctx context.Context, q Querier, query string, args ...any) (*sql.Rows, error) {
	switch err := statement.CheckOne(query); err {
	case statement.ErrTwoStatements, statement.ErrNul:
		return nil, err
	}
	// Without its semicolon and what follows it, the statement can also
	// stand inside another one.
	if first, ok := statement.First(query); ok {
		query = first
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		rows.Close()
		return nil, err
	}
	if !slices.ContainsFunc(types, convertedByTheDriver) {
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
	// The newline before ")" ends a "--" comment that ends the statement.
	return q.QueryContext(ctx, "SELECT "+strings.Join(columns, ", ")+" FROM (\n"+query+"\n)", args...)
}

// convertedByTheDriver reports whether the driver turns the column's values
// into another Go type than the one SQLite stored.
func convertedByTheDriver(t *sql.ColumnType) bool {
	switch strings.ToLower(t.DatabaseTypeName()) {
	case "date", "datetime", "timestamp", "boolean":
		return true
	}
	return false
}

// Scan reads the current row, whatever its columns, into a Row. Each value
// keeps its own type, as in a Python tuple: int64 for INTEGER, float64 for
// REAL, string for TEXT, []byte for BLOB and nil for NULL.
func Scan(rows *sql.Rows) (Row, error) {
	columns, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	row := make(Row, len(columns))
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

// Row is one result row, or any tuple of values. Its String method writes
// it as Python's print(row) writes the tuple that Python's sqlite3
// returns.
type Row []any

func (r Row) String() string {
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
