package supervisor

import (
	"testing"

	httpapi "github.com/shapesync/shapesync/http/api"
)

func TestWhereSpellingsShareADefinition(t *testing.T) {
	t.Parallel()
	forms := newWhereForms()
	def := func(w string, params ...string) httpapi.ShapeDefinition {
		return httpapi.ShapeDefinition{Schema: "public", Table: "items", Where: w, Params: params}
	}
	base := definitionWith(def("n > 5 AND title ILIKE 'a%'"), forms.normalize)
	for _, w := range []httpapi.ShapeDefinition{
		def("N>5 and TITLE ilike 'a%'"),
		def("  n   >   5\n AND title ILIKE 'a%'"),
		def("n > 5 AND title ILIKE $1", "a%"),
	} {
		d := definitionWith(w, forms.normalize)
		if !d.Equal(&base) || hashOf(&d) != hashOf(&base) {
			t.Errorf("%q %q: a different definition from %q", w.Where, w.Params, base.Where)
		}
		if d.Where != w.Where {
			t.Errorf("the clause as given was not kept: %q", d.Where)
		}
	}
	for _, w := range []httpapi.ShapeDefinition{
		def("n > 6 AND title ILIKE 'a%'"),
		def("n > 5 AND title ILIKE 'A%'"),
		def("n > 5 OR title ILIKE 'a%'"),
	} {
		if d := definitionWith(w, forms.normalize); d.Equal(&base) {
			t.Errorf("%q shares a definition with %q", w.Where, base.Where)
		}
	}
	// A clause that does not parse keeps its text as its identity, so two
	// such texts never collide with each other or with a valid clause.
	bad1, bad2 := definitionWith(def("n >"), forms.normalize), definitionWith(def("n >>"), forms.normalize)
	if bad1.NormalizedWhere != "" || bad1.Equal(&bad2) || bad1.Equal(&base) {
		t.Fatalf("unparsable clauses: %+v %+v", bad1, bad2)
	}
	// The cache answers as where.Normalize does, also once it starts over.
	for i := range whereFormsCap + 10 {
		forms.normalize("n > $1", []string{string(rune('a' + i%26))})
	}
	if got := definitionWith(def("n>5 AND title ILIKE 'a%'"), forms.normalize); !got.Equal(&base) {
		t.Fatal("the cache lost the normal form after starting over")
	}
	if formsKey("ab", []string{"c"}) == formsKey("a", []string{"bc"}) {
		t.Fatal("cache keys of different (clause, params) collide")
	}
}
