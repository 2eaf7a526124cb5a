package where

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func mustNormalize(t *testing.T, text string, params []string) string {
	t.Helper()
	n, err := Normalize(text, params)
	if err != nil {
		t.Fatalf("Normalize(%q, %q): %v", text, params, err)
	}
	return n
}

func TestNormalizeSharesSpellingsOfOneClause(t *testing.T) {
	same := []struct {
		a, b           string
		aParams, bPars []string
	}{
		{a: "id = 5", b: "  ID=5\n"},
		{a: "title ILIKE 'a%' AND done", b: "title ilike 'a%'   and   DONE"},
		{a: "id IN (1, 2, 3)", b: "id in (1,2,3)"},
		{a: "id = $1", aParams: []string{"5"}, b: "id = '5'"},
		{a: "id = $1::int4 OR $2 = title", aParams: []string{"7", "x"}, b: "id = '7'::int4 or 'x' = title"},
		{a: "NOT (a IS NULL)", b: "not(a is null)"},
		{a: "n > 1e308", b: "n > 1E308"},
	}
	for _, c := range same {
		if x, y := mustNormalize(t, c.a, c.aParams), mustNormalize(t, c.b, c.bPars); x != y {
			t.Errorf("%q and %q normalise differently: %q vs %q", c.a, c.b, x, y)
		}
	}
}

func TestNormalizeKeepsDifferentClausesApart(t *testing.T) {
	different := []struct {
		a, b           string
		aParams, bPars []string
	}{
		{a: "id = 5", b: "id = 6"},
		{a: "n = 1.0", b: "n = 1.00"},
		{a: `"ID" = 5`, b: "id = 5"},
		{a: "title = 'a'", b: "title = 'A'"},
		{a: "title = 'a b'", b: "title = 'a  b'"},
		{a: "id = $1", aParams: []string{"5"}, b: "id = $1", bPars: []string{"6"}},
		{a: "a AND b OR c", b: "a AND (b OR c)"},
		{a: "title = 'it''s'", b: "title = 'its'"},
		{a: `title = 'a\b'`, b: `title = 'a\\b'`},
	}
	for _, c := range different {
		if x, y := mustNormalize(t, c.a, c.aParams), mustNormalize(t, c.b, c.bPars); x == y {
			t.Errorf("%q and %q share the normal form %q", c.a, c.b, x)
		}
	}
}

func TestNormalizeRejectsWhatParseRejects(t *testing.T) {
	for _, text := range []string{"id = 1; DROP TABLE t", "id = 1 -- x", "pg_sleep(1) IS NULL", "id = $2"} {
		if _, err := Normalize(text, []string{"1"}); err == nil {
			t.Errorf("Normalize(%q) accepted it", text)
		}
	}
}

// TestNormalizePreservesMeaning normalises random clauses of the
// differential test's generator and checks that the normal form is a fixed
// point and evaluates exactly like the original on random rows, so sharing
// a shape between two spellings can never change what either one sees.
func TestNormalizePreservesMeaning(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	checked := 0
	for range 3000 {
		g := &exprGen{r: r}
		for range r.IntN(3) {
			g.params = append(g.params, g.paramValue())
		}
		text := g.boolean(1 + r.IntN(4))
		orig, err := Parse(text, g.params)
		if err != nil {
			t.Fatalf("Parse(%q): %v", text, err)
		}
		origExpr, err := orig.Check(diffColumns)
		if err != nil {
			continue
		}
		norm := mustNormalize(t, text, g.params)
		// A respelling: other whitespace, keyword case and parameters
		// inlined must share the normal form.
		respelled := respell(text, g.params)
		if again := mustNormalize(t, respelled, nil); again != norm {
			t.Fatalf("%q (params %q) and its respelling %q normalise differently", text, g.params, respelled)
		}
		parsedRe, err := Parse(respelled, nil)
		if err != nil {
			t.Fatalf("respelling %q of %q does not parse: %v", respelled, text, err)
		}
		normExpr, err := parsedRe.Check(diffColumns)
		if err != nil {
			t.Fatalf("respelling %q of %q does not check: %v", respelled, text, err)
		}
		for range 5 {
			row := make([]*string, len(diffColumns))
			for i := range diffColumns {
				if r.IntN(6) != 0 {
					s := diffValues[i][r.IntN(len(diffValues[i]))]
					row[i] = &s
				}
			}
			read := func(i int) (string, bool) {
				if row[i] == nil {
					return "", true
				}
				return *row[i], false
			}
			if a, b := evalOutcome(origExpr.Eval(read)), evalOutcome(normExpr.Eval(read)); a != b {
				t.Fatalf("%q and its normal form %q disagree on %s: %s vs %s", text, norm, showRow(row), a, b)
			}
		}
		checked++
	}
	if checked < 1000 {
		t.Fatalf("only %d generated clauses checked; the generator or Check changed", checked)
	}
	if strings.Contains(mustNormalize(t, "id = $1", []string{"1"}), "$") {
		t.Fatal("a parameter survived normalisation")
	}
}

// respell writes text with its parameters inlined as string literals,
// keywords and unquoted words in upper case and doubled spaces outside
// literals.
func respell(text string, params []string) string {
	var b strings.Builder
	inQuote := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\'':
			inQuote = !inQuote
			b.WriteByte(c)
		case inQuote:
			b.WriteByte(c)
		case c == '$' && i+1 < len(text) && text[i+1] >= '1' && text[i+1] <= '9':
			n := int(text[i+1] - '0')
			i++
			b.WriteString("'" + strings.ReplaceAll(params[n-1], "'", "''") + "'")
		case c == ' ':
			b.WriteString("  ")
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func evalOutcome(v Value, err error) string {
	switch {
	case err != nil:
		return "error"
	case v.IsNull():
		return "null"
	case v.IsTrue():
		return "true"
	}
	return "false"
}
