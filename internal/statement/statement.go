// Package statement finds where the first SQL statement of a query ends, as
// SQLite's sqlite3_complete does, so that a query can be refused when it
// holds two statements, as Python's cursor.execute refuses it.
package statement

import (
	"errors"
	"strings"
)

// The errors Python's sqlite3 gives for the same queries, word for word, and
// one for an empty query, which Python runs and which returns no rows: a
// statement this driver prepares from one crashes the program when it runs
// (go-sqlite3 v1.14.53), so a program that prepares its query refuses it
// first.
var (
	ErrNul           = errors.New("the query contains a null character")
	ErrTwoStatements = errors.New("You can only execute one statement at a time.")
	ErrNoStatement   = errors.New("the query holds no SQL statement, only spaces, comments or semicolons")
)

// CheckOne returns nil when query holds exactly one SQL statement,
// optionally followed by a semicolon, spaces and comments.
//
// SQLite prepares the first statement of a query and tells Python where it
// ended; Python refuses the query when anything but spaces and comments
// follows. The driver does not tell Go where the statement ended, so
// CheckOne finds it the way SQLite's sqlite3_complete does: a
// semicolon ends a statement unless it is in a string, a quoted name or a
// comment, or in the body of a CREATE TRIGGER, which ends with END;.
func CheckOne(query string) error {
	if strings.IndexByte(query, 0) >= 0 {
		return ErrNul // the driver would drop the text after it
	}
	end, found := firstStatement(query)
	switch {
	case !found:
		return ErrNoStatement
	case skipSpaceAndComments(query[end:]) != "":
		return ErrTwoStatements
	}
	return nil
}

// The kinds of token and the states of sqlite3_complete (SQLite's
// complete.c), which follows just enough of the grammar to know where a
// statement ends.
const (
	tkSemi = iota
	tkSpace
	tkOther
	tkExplain
	tkCreate
	tkTemp
	tkTrigger
	tkEnd
)

const (
	stInvalid = iota // nothing yet but spaces and comments
	stStart          // right after a semicolon that ended a statement
	stNormal         // in a statement
	stExplain        // after EXPLAIN
	stCreate         // after CREATE or CREATE TEMP
	stTrigger        // in the body of CREATE TRIGGER
	stSemi           // after a semicolon in a trigger's body
	stEnd            // after ; END in a trigger's body
)

// transition is sqlite3_complete's table: the state after a token of each
// kind, for each state.
var transition = [8][8]int{
	//             SEMI     SPACE      OTHER      EXPLAIN    CREATE     TEMP       TRIGGER    END
	stInvalid: {stStart, stInvalid, stNormal, stExplain, stCreate, stNormal, stNormal, stNormal},
	stStart:   {stStart, stStart, stNormal, stExplain, stCreate, stNormal, stNormal, stNormal},
	stNormal:  {stStart, stNormal, stNormal, stNormal, stNormal, stNormal, stNormal, stNormal},
	stExplain: {stStart, stExplain, stExplain, stNormal, stCreate, stNormal, stNormal, stNormal},
	stCreate:  {stStart, stCreate, stNormal, stNormal, stNormal, stCreate, stTrigger, stNormal},
	stTrigger: {stSemi, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger},
	stSemi:    {stSemi, stSemi, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger, stEnd},
	stEnd:     {stStart, stEnd, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger, stTrigger},
}

// firstStatement returns the length of query's first statement, with the
// semicolon that ends it (or the whole query when no semicolon does), and
// whether query holds a statement at all. Semicolons before the first
// statement are empty statements, which SQLite skips.
func firstStatement(query string) (end int, found bool) {
	state := stInvalid
	for i := 0; i < len(query); {
		kind, n := nextToken(query[i:])
		i += n
		next := transition[state][kind]
		if next == stStart && state != stInvalid && state != stStart {
			return i, true
		}
		state = next
	}
	return len(query), state != stInvalid && state != stStart
}

// nextToken returns the kind and length of the token that s starts with,
// as SQLite's tokenizer reads it. A string, a quoted name or a comment is
// one token, so a semicolon inside one ends nothing; one left open runs to
// the end of s.
func nextToken(s string) (kind, n int) {
	switch c := s[0]; {
	case c == ';':
		return tkSemi, 1
	case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
		return tkSpace, 1
	case strings.HasPrefix(s, "/*") && len(s) > 2:
		if i := strings.Index(s[2:], "*/"); i >= 0 {
			return tkSpace, i + 4
		}
		return tkSpace, len(s)
	case strings.HasPrefix(s, "--"):
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			return tkSpace, i + 1
		}
		return tkSpace, len(s)
	case c == '\'' || c == '"' || c == '`' || c == '[':
		closing := c
		if c == '[' {
			closing = ']'
		}
		// A doubled quote ('it''s') reads as two strings side by side,
		// which ends nothing either.
		if i := strings.IndexByte(s[1:], closing); i >= 0 {
			return tkOther, i + 2
		}
		return tkOther, len(s)
	case isIDChar(c):
		n = 1
		for n < len(s) && isIDChar(s[n]) {
			n++
		}
		switch strings.ToLower(s[:n]) {
		case "explain":
			return tkExplain, n
		case "create":
			return tkCreate, n
		case "temp", "temporary":
			return tkTemp, n
		case "trigger":
			return tkTrigger, n
		case "end":
			return tkEnd, n
		}
		return tkOther, n
	}
	return tkOther, 1
}

// isIDChar is SQLite's IdChar: a letter, a digit, _ or $, or any byte of a
// character beyond ASCII.
func isIDChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '$' || c >= 0x80
}

// skipSpaceAndComments returns s without the spaces and comments it starts
// with, as Python's sqlite3 reads what follows the first statement (its
// lstrip_sql). A comment left open runs to the end.
func skipSpaceAndComments(s string) string {
	for s != "" {
		switch {
		case strings.ContainsRune(" \t\n\r\f", rune(s[0])):
			s = s[1:]
		case strings.HasPrefix(s, "--"):
			i := strings.IndexByte(s, '\n')
			if i < 0 {
				return ""
			}
			s = s[i+1:]
		case strings.HasPrefix(s, "/*"):
			i := strings.Index(s[2:], "*/")
			if i < 0 {
				return ""
			}
			s = s[i+4:]
		default:
			return s
		}
	}
	return ""
}

// First returns query's first statement without the semicolon that ends it
// and without the spaces, comments and empty statements (lone semicolons)
// before it, so that it can be put inside another statement: "SELECT ...
// FROM (" + First + "\n)". A comment that ends the statement's text stays
// in it; the caller ends the line after it. ok is false when query holds no
// statement.
func First(query string) (stmt string, ok bool) {
	end, found := firstStatement(query)
	if !found {
		return "", false
	}
	start := 0
	for start < end {
		kind, n := nextToken(query[start:end])
		if kind != tkSpace && kind != tkSemi {
			break
		}
		start += n
	}
	return strings.TrimSuffix(query[start:end], ";"), true
}
