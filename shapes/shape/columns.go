package shape

import (
	"slices"
	"strings"
)

// ParseColumns reads a columns (or queryable_columns) parameter: identifiers
// separated by commas outside double quotes, each parsed by ParseIdentifier
// (SHAPE_API §5.3). Names come back in the order given. An empty element,
// including an empty parameter or a trailing comma, is
// ErrZeroLengthIdentifier.
//
// A comma is a separator when an even number of double quotes follows it,
// which is the reference's rule: for well-formed input it is the same as
// "outside quotes", and for unbalanced quotes it gives the same errors.
func ParseColumns(s string) ([]string, error) {
	quotes := strings.Count(s, `"`)
	var cols []string
	seen, start := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) {
			if s[i] == '"' {
				seen++
			}
			if s[i] != ',' || (quotes-seen)%2 != 0 {
				continue
			}
		}
		name, err := ParseIdentifier(s[start:i])
		if err != nil {
			return nil, err
		}
		cols = append(cols, name)
		start = i + 1
	}
	return cols, nil
}

// EffectiveColumns is the column set of a shape with explicit columns: the
// union of the requested columns and the primary-key columns, sorted and
// without duplicates (SHAPE_API §5.3). Checking that the columns exist and
// that every key column was requested is the caller's job, since it needs
// the catalog.
func EffectiveColumns(requested, primaryKey []string) []string {
	out := make([]string, 0, len(requested)+len(primaryKey))
	out = append(out, requested...)
	out = append(out, primaryKey...)
	slices.Sort(out)
	return slices.Compact(out)
}
