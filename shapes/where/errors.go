package where

import (
	"fmt"
	"unicode/utf8"
)

// Error is a where clause rejected while parsing or type checking
// (SHAPE_API §20.7). Pos is the 0-based character position in the user's
// text; the HTTP layer reports Error() under errors.where.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("At location %d: %s", e.Pos, e.Msg) }

// EvalError is a row on which the expression raised an error in Postgres
// terms (overflow, division by zero, invalid input for a cast). Such a row
// does not match the shape (SHAPE_API §20.6).
type EvalError struct{ Msg string }

func (e *EvalError) Error() string { return e.Msg }

func evalErr(format string, args ...any) error { return &EvalError{Msg: fmt.Sprintf(format, args...)} }

// wrapPrefix is what Parse puts before the user's text; libpg_query
// locations are byte offsets into the wrapped statement.
const wrapPrefix = "SELECT 1 WHERE "

// position turns a byte offset into the wrapped statement into a character
// position in the user's text.
func position(text string, loc int32) int {
	off := int(loc) - len(wrapPrefix)
	if off <= 0 {
		return 0
	}
	if off > len(text) {
		off = len(text)
	}
	return utf8.RuneCountInString(text[:off])
}
