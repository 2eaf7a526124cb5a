package api_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/shapesync/shapesync/http/api"
	"github.com/shapesync/shapesync/http/longpoll"
	"github.com/shapesync/shapesync/replication/lsn"
)

// fakeShapes is an in-memory registry behind the api interfaces: the
// boundary of the unit under test.
type fakeShapes struct {
	mu       sync.Mutex
	tables   map[string]bool       // table names in public
	live     map[string]*fakeShape // by defKey
	created  int
	lastSeen atomic.Uint64
	// newShape fills a freshly created shape; nil means a finished one-row
	// snapshot.
	newShape func(*fakeShape)
	// getErr / getPanic make GetOrCreate fail.
	getErr   error
	getPanic bool
}

func newFakeShapes(tables ...string) *fakeShapes {
	f := &fakeShapes{tables: map[string]bool{}, live: map[string]*fakeShape{}}
	for _, t := range tables {
		f.tables[t] = true
	}
	return f
}

// defKey is the fake's shape identity (SHAPE_API §6.1): column order and
// duplicates do not matter, the implicit all-columns selection differs from
// any list.
func defKey(def api.ShapeDefinition) string {
	cols := "*"
	if def.Columns != nil {
		c := slices.Clone(def.Columns)
		slices.Sort(c)
		cols = strings.Join(slices.Compact(c), "\x00")
	}
	return fmt.Sprintf("%q.%q|%q|%d", def.Schema, def.Table, cols, def.Replica)
}

func (f *fakeShapes) GetOrCreate(ctx context.Context, def api.ShapeDefinition) (api.Shape, error) {
	s, err := f.getOrCreate(def)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (f *fakeShapes) getOrCreate(def api.ShapeDefinition) (*fakeShape, error) {
	if f.getPanic {
		panic("registry exploded")
	}
	if f.getErr != nil {
		return nil, f.getErr
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if def.Schema != "public" || !f.tables[def.Table] {
		return nil, api.TableNotFound(def.Schema, def.Table)
	}
	if s, ok := f.live[defKey(def)]; ok {
		return s, nil
	}
	f.created++
	s := &fakeShape{reg: f, def: def, handle: fmt.Sprintf("%d-%d", len(def.Table)*7919, 1721812114261433+f.created)}
	if f.newShape != nil {
		f.newShape(s)
	} else {
		s.closeChunk(rowItem("1"), snapshotEndItem)
		s.finish()
	}
	f.live[defKey(def)] = s
	return s, nil
}

// shape returns (creating) the shape of a table in public.
func (f *fakeShapes) shape(table string) *fakeShape {
	s, err := f.getOrCreate(api.ShapeDefinition{Schema: "public", Table: table})
	if err != nil {
		panic(err)
	}
	return s
}

func (f *fakeShapes) Current(def api.ShapeDefinition) (api.Shape, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.live[defKey(def)]
	if !ok {
		return nil, false
	}
	return s, true
}

func (f *fakeShapes) LastSeenLSN() uint64 { return f.lastSeen.Load() }

type change struct {
	off  lsn.LogOffset
	item []byte
}

type fakeShape struct {
	reg    *fakeShapes
	def    api.ShapeDefinition
	handle string
	notify longpoll.Notifier

	mu          sync.Mutex
	chunks      [][][]byte
	done        bool
	changes     []change
	bounds      []lsn.LogOffset
	end         lsn.LogOffset
	invalid     bool
	extentCalls int
	// afterExtent runs after Extent computed its answer, which is therefore
	// stale if the hook appends: the E1 race, made deterministic.
	afterExtent func(call int)
	// afterBoundary runs after ChunkBoundaryAfter answered: the last
	// backend call before a live request parks at the end of the log.
	afterBoundary func()
	readPanic     bool
	waitErr       error
}

func (s *fakeShape) Handle() string           { return s.handle }
func (s *fakeShape) SchemaJSON() []byte       { return []byte(schemaJSON) }
func (s *fakeShape) Changed() <-chan struct{} { return s.notify.Changed() }

func (s *fakeShape) WaitSnapshotStarted(ctx context.Context) error { return s.waitErr }

func (s *fakeShape) Extent() api.Extent {
	s.mu.Lock()
	s.extentCalls++
	call := s.extentCalls
	ext := api.Extent{SnapshotChunks: uint64(len(s.chunks)), SnapshotDone: s.done, End: s.end}
	hook := s.afterExtent
	s.mu.Unlock()
	if hook != nil {
		hook(call)
	}
	return ext
}

func (s *fakeShape) ChunkBoundaryAfter(after, limit lsn.LogOffset) (lsn.LogOffset, bool) {
	s.mu.Lock()
	hook := s.afterBoundary
	b, ok := lsn.LogOffset{}, false
	for _, c := range s.bounds {
		if after.Less(c) && !limit.Less(c) {
			b, ok = c, true
			break
		}
	}
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return b, ok
}

func (s *fakeShape) Read(ctx context.Context, from, to lsn.LogOffset, emit func([]byte) error) error {
	if s.readPanic {
		panic("storage exploded")
	}
	s.mu.Lock()
	var items [][]byte
	for n, chunk := range s.chunks {
		o := lsn.LogOffset{Tx: 0, Op: uint64(n)}
		if from.Less(o) && !to.Less(o) {
			items = append(items, chunk...)
		}
	}
	for _, c := range s.changes {
		if from.Less(c.off) && !to.Less(c.off) {
			items = append(items, c.item)
		}
	}
	s.mu.Unlock()
	for _, it := range items {
		if err := emit(it); err != nil {
			return err
		}
	}
	return nil
}

func (s *fakeShape) Invalidated() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.invalid
}

// Test-side mutations: publish, then notify (the backend half of E1).

func (s *fakeShape) closeChunk(items ...string) {
	s.mu.Lock()
	chunk := make([][]byte, len(items))
	for i, it := range items {
		chunk[i] = []byte(it)
	}
	s.chunks = append(s.chunks, chunk)
	s.mu.Unlock()
	s.notify.Notify()
}

func (s *fakeShape) finish() {
	s.mu.Lock()
	s.done, s.end = true, lsn.SnapshotEnd
	s.mu.Unlock()
	s.notify.Notify()
}

// commit appends one transaction at commit LSN tx, changes at ops 0, 2, …,
// and returns their offsets.
func (s *fakeShape) commit(tx uint64, items ...string) []lsn.LogOffset {
	s.mu.Lock()
	offs := make([]lsn.LogOffset, len(items))
	for i, it := range items {
		offs[i] = lsn.LogOffset{Tx: tx, Op: uint64(2 * i)}
		s.changes = append(s.changes, change{offs[i], []byte(it)})
	}
	s.end = offs[len(offs)-1]
	s.mu.Unlock()
	s.notify.Notify()
	return offs
}

func (s *fakeShape) closeChangeChunkAt(o lsn.LogOffset) {
	s.mu.Lock()
	s.bounds = append(s.bounds, o)
	s.mu.Unlock()
}

func (s *fakeShape) invalidate() { s.invalidateThen(nil) }

// invalidateThen invalidates s and runs then (e.g. registering the
// replacement) before waking the waiters, so a test does not race the woken
// handler.
func (s *fakeShape) invalidateThen(then func()) {
	s.reg.mu.Lock()
	if s.reg.live[defKey(s.def)] == s {
		delete(s.reg.live, defKey(s.def))
	}
	s.reg.mu.Unlock()
	s.mu.Lock()
	s.invalid = true
	s.mu.Unlock()
	if then != nil {
		then()
	}
	s.notify.Notify()
}

func (s *fakeShape) set(fn func(*fakeShape)) {
	s.mu.Lock()
	fn(s)
	s.mu.Unlock()
}

type fakeStatus struct{ v atomic.Value }

func newFakeStatus(state string) *fakeStatus {
	f := &fakeStatus{}
	f.set(api.Status{State: state})
	return f
}

func (f *fakeStatus) set(s api.Status)   { f.v.Store(s) }
func (f *fakeStatus) Status() api.Status { return f.v.Load().(api.Status) }

const (
	schemaJSON      = `{"id":{"type":"int8","pk_index":0,"not_null":true},"title":{"type":"text","not_null":true}}`
	snapshotEndItem = `{"headers":{"control":"snapshot-end","xmin":"748","xmax":"748","xip_list":[]}}`
)

func rowItem(id string) string {
	return `{"key":"\"public\".\"items\"/\"` + id + `\"","value":{"id":"` + id + `","title":"A"},"headers":{"operation":"insert","relation":["public","items"]}}`
}

func changeItem(id string, tx uint64, op int, last bool) string {
	l := ""
	if last {
		l = `,"last":true`
	}
	return fmt.Sprintf(`{"key":"\"public\".\"items\"/\"%s\"","value":{"id":"%s","title":"B"},"headers":{"operation":"insert","relation":["public","items"],"lsn":"%d","op_position":%d,"txids":[768]%s}}`, id, id, tx, op, l)
}

func upToDate(lsn uint64) string {
	return fmt.Sprintf(`{"headers":{"control":"up-to-date","global_last_seen_lsn":"%d"}}`, lsn)
}
