package supervisor

import (
	"sync"

	"github.com/shapesync/shapesync/shapes/where"
)

// whereFormsCap bounds the cache of normal forms. Live requests of one shape
// repeat the same text, so a few thousand entries cover every active shape of
// a busy instance; past it the cache starts over rather than tracking use.
const whereFormsCap = 4096

// whereForms caches where.Normalize per (clause, params), because every
// request resolves its definition (SHAPE_API §6.1) and normalising parses
// the clause with libpg_query twice.
type whereForms struct {
	mu    sync.Mutex
	forms map[string]string
}

func newWhereForms() *whereForms { return &whereForms{forms: map[string]string{}} }

// normalize is where.Normalize, or "" for a clause that does not parse:
// such a request is rejected when its shape is created, and until then it
// is identified by its text as given.
func (w *whereForms) normalize(text string, params []string) string {
	key := formsKey(text, params)
	w.mu.Lock()
	form, ok := w.forms[key]
	w.mu.Unlock()
	if ok {
		return form
	}
	form = normalizeWhere(text, params)
	w.mu.Lock()
	if len(w.forms) >= whereFormsCap {
		clear(w.forms)
	}
	w.forms[key] = form
	w.mu.Unlock()
	return form
}

func normalizeWhere(text string, params []string) string {
	form, err := where.Normalize(text, params)
	if err != nil {
		return ""
	}
	return form
}

// formsKey joins the clause and its parameters unambiguously: each part is
// preceded by its length.
func formsKey(text string, params []string) string {
	n := len(text) + 8
	for _, p := range params {
		n += len(p) + 8
	}
	b := make([]byte, 0, n)
	for _, s := range append([]string{text}, params...) {
		l := len(s)
		b = append(b, byte(l>>24), byte(l>>16), byte(l>>8), byte(l))
		b = append(b, s...)
	}
	return string(b)
}
