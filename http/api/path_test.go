package api

import (
	"testing"
)

func TestRouteOf(t *testing.T) {
	t.Parallel()
	cases := map[string]route{
		"/":                routeRoot,
		"":                 routeRoot,
		"//":               routeRoot,
		"/v1/shape":        routeShape,
		"/v1/shape/":       routeShape,
		"//v1/shape":       routeShape,
		"/v1//shape":       routeShape,
		"/v1/shape//":      routeShape,
		"/v1/%73hape":      routeShape,
		"/v1/sh%61pe":      routeShape,
		"/%76%31/SHAPE":    routeNotFound,
		"/v1%2Fshape":      routeNotFound,
		"/v1/./shape":      routeNotFound,
		"/v1/shape/x":      routeNotFound,
		"/v1/shape/items":  routeNotFound,
		"/v1/shape?x=1":    routeShape,
		"/v1/health":       routeHealth,
		"//v1/health/":     routeHealth,
		"/v1/%68ealth":     routeHealth,
		"/v1/status":       routeStatus,
		"/v1":              routeNotFound,
		"/v2/shape":        routeNotFound,
		"/v1/sh%zzape":     routeNotFound,
		"/v1/shape%":       routeNotFound,
		"/v1/%2e/shape":    routeNotFound,
		"/v1/shape%00":     routeNotFound,
		"/metrics":         routeNotFound,
		"/v1/shape/%2F":    routeNotFound,
		"/v1/%2F/shape":    routeNotFound,
		"/v1/shape/%2F%2F": routeNotFound,
	}
	for path, want := range cases {
		if got := routeOf([]byte(path)); got != want {
			t.Errorf("routeOf(%q) = %d; want %d", path, got, want)
		}
	}
}

func TestIfNoneMatch(t *testing.T) {
	t.Parallel()
	tag := "H:-1:0_0"
	match := [][]string{
		{`"H:-1:0_0"`},
		{`H:-1:0_0`},
		{`"x", "H:-1:0_0"`},
		{`"x"`, ` "H:-1:0_0" `},
		{`"a","H:-1:0_0","b"`},
	}
	for _, hs := range match {
		if !ifNoneMatch(toBytes(hs), tag) {
			t.Errorf("%q should match %q", hs, tag)
		}
	}
	for _, hs := range [][]string{{`W/"H:-1:0_0"`}, {`"H:-1:0_1"`}, {`*`}, {``}, {`"H:-1:0_0:1"`}} {
		if ifNoneMatch(toBytes(hs), tag) {
			t.Errorf("%q must not match %q", hs, tag)
		}
	}
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func FuzzRouteOf(f *testing.F) {
	for _, s := range []string{"/v1/shape", "//v1//shape//", "/v1%2Fshape", "/v1/%73hape", "/%", "/v1/shape%2", "/v1/health?x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		rt := routeOf([]byte(p))
		segs := pathSegments([]byte(p))
		// Route and segments must agree: the one normalisation decides both.
		isShape := len(segs) == 2 && segs[0] == "v1" && segs[1] == "shape"
		if (rt == routeShape) != isShape {
			t.Fatalf("routeOf(%q) = %d but segments %q", p, rt, segs)
		}
		for _, s := range segs {
			if s == "" {
				t.Fatalf("empty segment kept for %q", p)
			}
		}
	})
}
