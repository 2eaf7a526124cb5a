package supervisor

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/shapes/filter"
	"github.com/shapesync/shapesync/shapes/registry"
	"github.com/shapesync/shapesync/shapes/shape"
	"github.com/shapesync/shapesync/shapes/where"
)

// routeTable is whereTable with more types; the generated column is not in
// the stream, so the where columns are id 0, n 1, tags 2, name 3, u 4, ok 5.
func routeTable() *events.Table {
	t := whereTable()
	t.Columns = append(t.Columns,
		events.TableColumn{Name: "name", TypeName: "text", TypeMod: -1},
		events.TableColumn{Name: "u", TypeName: "uuid", TypeMod: -1},
		events.TableColumn{Name: "ok", TypeName: "bool", TypeMod: -1},
	)
	return t
}

func checkedFor(t *testing.T, clause string, params ...string) *where.Expr {
	t.Helper()
	e, err := checkedWhere(routeTable(), &shape.Definition{Schema: "public", Table: "items", Where: clause, Params: params})
	if err != nil {
		t.Fatalf("%q: %v", clause, err)
	}
	return e
}

func TestRouteConditionShape(t *testing.T) {
	t.Parallel()
	isResidual := func(c filter.Condition) bool { _, ok := c.(filter.Residual); return ok }
	cases := []struct {
		clause string
		want   filter.Condition // Residual{} stands for "a residual"
	}{
		{"", filter.All{}},
		{"id = 5", filter.Eq{Column: 0, Value: "5"}},
		{"id = $1", filter.Eq{Column: 0, Value: "7"}},
		{"u = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", filter.Eq{Column: 4, Value: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}},
		{"ok", filter.Eq{Column: 5, Value: "t"}},
		{"n IN (1, 2)", filter.In{Column: 1, Values: []string{"1", "2"}}},
		{"id = 1 AND name = 'x'", filter.And{Terms: []filter.Condition{filter.Eq{Column: 0, Value: "1"}, filter.Eq{Column: 3, Value: "x"}}}},
		{"id = 1 OR id = 2", filter.Or{Branches: []filter.Condition{filter.Eq{Column: 0, Value: "1"}, filter.Eq{Column: 0, Value: "2"}}}},
		{"id = 1 AND n > 2 AND name LIKE 'a%'", filter.And{Terms: []filter.Condition{filter.Eq{Column: 0, Value: "1"}, filter.Residual{}}}},
		{"id = 1 OR n > 2", filter.Residual{}},
		{"n > 2", filter.Residual{}},
	}
	for _, c := range cases {
		var e *where.Expr
		if c.clause != "" {
			params := []string(nil)
			if c.clause == "id = $1" {
				params = []string{"7"}
			}
			e = checkedFor(t, c.clause, params...)
		}
		got := routeCondition(e)
		same := func(a, b filter.Condition) bool {
			if isResidual(b) {
				return isResidual(a) && a.(filter.Residual).Matches != nil
			}
			return reflect.DeepEqual(a, b)
		}
		ok := same(got, c.want)
		if and, isAnd := c.want.(filter.And); isAnd {
			g, gotAnd := got.(filter.And)
			ok = gotAnd && len(g.Terms) == len(and.Terms)
			for i := 0; ok && i < len(and.Terms); i++ {
				ok = same(g.Terms[i], and.Terms[i])
			}
		}
		if !ok {
			t.Errorf("%q: condition %#v, want %#v", c.clause, got, c.want)
		}
	}
}

// The residual stands for the whole clause and answers true when the
// clause cannot be evaluated on the row, where the consumer's matcher says
// no: the consumer decides, and no change is lost on the way.
func TestRouteResidualAnswersTrueOnErrors(t *testing.T) {
	t.Parallel()
	e := checkedFor(t, "10 / n > 1")
	r, ok := routeCondition(e).(filter.Residual)
	if !ok {
		t.Fatalf("condition %#v, want a residual", routeCondition(e))
	}
	row := func(n string) events.Tuple { return events.Tuple{{Text: "1"}, {Text: n}, {Null: true}} }
	for _, c := range []struct {
		n             string
		residual, row bool
	}{{"2", true, true}, {"20", false, false}, {"0", true, false}} {
		if got := r.Matches(row(c.n)); got != c.residual {
			t.Errorf("n = %s: residual %t, want %t", c.n, got, c.residual)
		}
		if got := rowMatcher(e)(row(c.n)); got != c.row {
			t.Errorf("n = %s: consumer matcher %t, want %t", c.n, got, c.row)
		}
	}
}

func TestStoredRoute(t *testing.T) {
	t.Parallel()
	entry := func(clause string) *registry.Entry {
		return &registry.Entry{Table: routeTable(), Definition: shape.Definition{Schema: "public", Table: "items", Where: clause}}
	}
	if got := storedRoute(entry("id = 3")); !reflect.DeepEqual(got, filter.Eq{Column: 0, Value: "3"}) {
		t.Errorf("stored id = 3: %#v", got)
	}
	if got := storedRoute(entry("")); !reflect.DeepEqual(got, filter.All{}) {
		t.Errorf("stored shape without a clause: %#v", got)
	}
	// A record whose clause no longer checks: every change (its consumer
	// refuses to start, so the shape is invalidated rather than starved).
	if got := storedRoute(entry("gone = 1")); !reflect.DeepEqual(got, filter.All{}) {
		t.Errorf("stored clause that no longer checks: %#v", got)
	}
}

// The whole chain — clause, index terms, filter condition, index — never
// hides a change from a shape whose clause matches its old or new row, and
// for clauses that are pure equalities it delivers exactly those.
func TestRouteIndexNeverMissesAMatch(t *testing.T) {
	t.Parallel()
	clauses := []string{
		"", "id = 1", "id = 2", "n = 1", "id = 1 AND n = 2", "id IN (1, 3) OR n = 3", "name = 'a'",
		"ok", "NOT ok", "u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", "id = 1 AND n > 1", "n > 1 OR id = 2",
		"name LIKE 'a%' AND id IN (1, 2)", "10 / n > 3", "coalesce(n, 2) = 2", "id IS NOT DISTINCT FROM 3",
		"id = ANY('{2,3}')", "(id = 1 OR id = 2) AND (n = 1 OR n = 2)", "1 = 0", "n = NULL",
	}
	exact := map[string]bool{"id = 1": true, "id = 2": true, "n = 1": true, "id = 1 AND n = 2": true,
		"id IN (1, 3) OR n = 3": true, "name = 'a'": true, "ok": true, "NOT ok": true, "1 = 0": true,
		"(id = 1 OR id = 2) AND (n = 1 OR n = 2)": true, "id = ANY('{2,3}')": true}
	key := filter.TableKey{Schema: "public", Name: "items"}
	x := filter.New[int]()
	matchers := make([]func(events.Tuple) bool, len(clauses))
	for i, c := range clauses {
		var e *where.Expr
		if c != "" {
			e = checkedFor(t, c)
		}
		if err := x.Add(key, i, routeCondition(e)); err != nil {
			t.Fatalf("%q: %v", c, err)
		}
		matchers[i] = rowMatcher(e)
		if matchers[i] == nil {
			matchers[i] = func(events.Tuple) bool { return true }
		}
	}
	rng := rand.New(rand.NewPCG(4, 2))
	pick := func(values ...string) events.Value {
		i := rng.IntN(len(values) + 1)
		if i == len(values) {
			return events.Value{Null: true}
		}
		return events.Value{Text: values[i]}
	}
	randomRow := func() events.Tuple {
		return events.Tuple{pick("1", "2", "3"), pick("0", "1", "2", "3"), pick("{a}"), pick("a", "ab", "b"),
			pick("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "00000000-0000-0000-0000-000000000000"), pick("t", "f")}
	}
	rel := &events.Relation{Schema: "public", Name: "items"}
	for range 3000 {
		ch := &events.Change{Kind: events.Update, Relation: rel, Old: randomRow(), New: randomRow()}
		got := x.Affected(key, ch, nil)
		for i := range clauses {
			want := matchers[i](ch.Old) || matchers[i](ch.New)
			routed := slices.Contains(got, i)
			if want && !routed {
				t.Fatalf("%q matches %v → %v but the index did not route the change to it", clauses[i], ch.Old, ch.New)
			}
			if exact[clauses[i]] && routed != want {
				t.Fatalf("%q: routed %t, matches %t on %v → %v", clauses[i], routed, want, ch.Old, ch.New)
			}
		}
	}
}
