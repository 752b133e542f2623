// Package pgtext is the one rule for strings that reach PostgreSQL: its text
// type holds valid UTF-8 without NUL characters and refuses anything else
// with an error (22021). Every string a client sends (a body field, a path
// id, a query parameter, a token, the inside of a cursor) is held to it
// before it is used, so such bytes are a 4xx and never a database error.
package pgtext

import (
	"strings"
	"unicode/utf8"
)

// Issue says what is wrong with a string that is not Valid, in the words of
// a request's error details.
const Issue = "must be valid UTF-8 text without NUL characters"

// Valid reports whether PostgreSQL's text type can hold s.
func Valid(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
