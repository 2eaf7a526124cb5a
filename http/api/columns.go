package api

import "strings"

// parseColumns reads a columns parameter (SHAPE_API §5.3): identifiers
// separated by commas outside double quotes, each parsed with the §5.2 rules
// (unquoted names are lower-cased). Names come back in the order given,
// duplicates kept; the backend checks them against the catalog. An empty
// element (a trailing comma, ",,") is "Invalid zero-length delimited
// identifier".
//
// A comma separates when an even number of double quotes follows it. For
// well-formed input that is "outside quotes"; for unbalanced quotes it gives
// the reference's errors (the element then holds a lone quote).
func parseColumns(s string) ([]string, error) {
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
		elem := s[start:i]
		if elem == "" {
			return nil, relationError("Invalid zero-length delimited identifier")
		}
		name, err := parseIdentifier(elem)
		if err != nil {
			return nil, err
		}
		cols = append(cols, name)
		start = i + 1
	}
	return cols, nil
}
