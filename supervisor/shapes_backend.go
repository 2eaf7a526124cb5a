package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/shapesync/shapesync/actors"
	httpapi "github.com/shapesync/shapesync/http/api"
	"github.com/shapesync/shapesync/http/longpoll"
	"github.com/shapesync/shapesync/replication/events"
	"github.com/shapesync/shapesync/replication/lsn"
	"github.com/shapesync/shapesync/replication/pool"
	"github.com/shapesync/shapesync/shapes/logitems"
	"github.com/shapesync/shapesync/shapes/protocol"
	"github.com/shapesync/shapesync/shapes/registry"
	"github.com/shapesync/shapesync/shapes/shape"
	"github.com/shapesync/shapesync/shapes/snapshot"
	"github.com/shapesync/shapesync/shapes/storage"
	"github.com/shapesync/shapesync/shapes/where"
	"github.com/shapesync/shapesync/supervisor/status"
)

// createTimeout bounds the registry's answer to a creation request.
const createTimeout = 10 * time.Second

// snapshotStartTimeout bounds how long a request for a new shape waits for
// its snapshot to produce its first chunk (SHAPE_API §16: 30 s to the first
// row, plus the time to fill and sync a chunk).
const snapshotStartTimeout = 45 * time.Second

// ShapesBackend is the shape registry and the shape logs as the HTTP layer
// sees them (http/api.Shapes). Reads go to the published views; only
// creation sends a message, to the registry.
type ShapesBackend struct {
	kit      *actors.Kit
	registry *actors.PID
	view     *registry.View
	store    *storage.StoreView
	// catalog returns a connection for catalog look-ups (the admin pool),
	// or nil while there is none.
	catalog       func() snapshot.Querier
	lastSeen      atomic.Uint64
	serverVersion atomic.Int64
	log           *zap.Logger

	whereForms *whereForms
	notifiers  sync.Map // handle → *longpoll.Notifier
	byID       sync.Map // shape id → handle, for sync notifications
}

func newShapesBackend(kit *actors.Kit, registryPID *actors.PID, store *storage.StoreView, admin *pool.View, _ *status.View, log *zap.Logger) *ShapesBackend {
	return &ShapesBackend{
		kit: kit, registry: registryPID, store: store, log: log, whereForms: newWhereForms(),
		catalog: func() snapshot.Querier {
			p := admin.Pool()
			if p == nil {
				return nil // a nil *pgxpool.Pool in the interface would not be nil
			}
			return p
		},
	}
}

func (b *ShapesBackend) notifier(handle string) *longpoll.Notifier {
	n, _ := b.notifiers.LoadOrStore(handle, &longpoll.Notifier{})
	return n.(*longpoll.Notifier)
}

// entryChanged is the registry view's change hook: waiters of the handle
// wake to see the new state.
func (b *ShapesBackend) entryChanged(e *registry.Entry) {
	b.byID.Store(e.ID, e.Handle)
	b.notifier(e.Handle).Notify()
}

// synced is the store-writer's hook: the shapes' durable extents grew.
func (b *ShapesBackend) synced(ids []uint64) {
	for _, id := range ids {
		if h, ok := b.byID.Load(protocol.ShapeID(id)); ok {
			b.notifier(h.(string)).Notify()
		}
	}
}

// definitionOf is the shape definition a request names, without the
// relation OID (set once the table is looked up). A valid column list holds
// every key column, so its effective set (§5.3: the union with the key,
// sorted) is the requested names sorted and de-duplicated.
func definitionOf(def httpapi.ShapeDefinition) shape.Definition {
	return definitionWith(def, normalizeWhere)
}

// definitionWith is definitionOf with the where clause's normal form
// computed by normalize.
func definitionWith(def httpapi.ShapeDefinition, normalize func(text string, params []string) string) shape.Definition {
	d := shape.Definition{Schema: def.Schema, Table: def.Table}
	if def.Columns != nil {
		d.Columns = shape.EffectiveColumns(def.Columns, nil)
	}
	if def.Replica == httpapi.ReplicaFull {
		d.Replica = shape.ReplicaFull
	}
	// The clause's normal form is its identity (SHAPE_API §6.1); the text
	// as given is kept for the snapshot and the consumer, which check it
	// again. A clause without a normal form (it does not parse) is
	// identified by its text until creation rejects it.
	if def.Where != "" {
		d.Where = def.Where
		d.Params = slices.Clone(def.Params)
		d.NormalizedWhere = normalize(def.Where, def.Params)
	}
	return d
}

// whereColumns are the columns a where clause may reference, in the order
// of the replication stream's tuples (every column but generated ones, which
// pgoutput v1 does not send), so Eval's column indexes are tuple indexes.
func whereColumns(t *events.Table) []where.Column {
	cols := make([]where.Column, 0, len(t.Columns))
	for _, c := range t.Columns {
		if c.Generated != 0 {
			continue
		}
		typ := c.TypeName
		switch {
		case !c.IsArray && strings.HasPrefix(c.TypeName, "_"):
			// An array the catalog gives no dimensions (CREATE TABLE AS):
			// its raw type name, whatever its elements are.
		case c.IsEnum:
			typ = where.EnumColumnType(c.BaseTypeName)
		case c.BaseTypeName != "":
			// A domain's values are its base type's, in the same text form.
			typ = c.BaseTypeName
		}
		if c.IsArray {
			typ = "_" + typ
		}
		cols = append(cols, where.Column{Name: c.Name, Type: typ})
	}
	return cols
}

// whereTextRules are the table's text semantics for the evaluator
// (SHAPE_API §20.6), indexed like whereColumns.
func whereTextRules(t *events.Table) where.TextRules {
	rules := where.TextRulesFor(t.CType, t.DefaultCollation)
	i := 0
	for _, c := range t.Columns {
		if c.Generated != 0 {
			continue
		}
		if c.Collation != "" {
			if rules.ColumnCollations == nil {
				rules.ColumnCollations = map[int]string{}
			}
			rules.ColumnCollations[i] = c.Collation
		}
		i++
	}
	return rules
}

// checkedWhere parses and type-checks a definition's where clause against
// its table; nil without a clause. Errors are *where.Error, whose text is
// the protocol's errors.where message (SHAPE_API §20.7).
func checkedWhere(t *events.Table, d *shape.Definition) (*where.Expr, error) {
	if d.Where == "" {
		return nil, nil
	}
	e, err := where.Parse(d.Where, d.Params)
	if err != nil {
		return nil, err
	}
	checked, err := e.CheckWith(whereColumns(t), whereTextRules(t))
	return checked, explainGenerated(t, err)
}

// explainGenerated turns "unknown reference c" for a generated column c into
// an error that says why (RELIABILITY C8): the replication stream of
// Postgres < 18 does not carry generated columns, so the clause could not be
// evaluated on changes.
func explainGenerated(t *events.Table, err error) error {
	var we *where.Error
	if !errors.As(err, &we) {
		return err
	}
	name, ok := strings.CutPrefix(we.Msg, "unknown reference ")
	if !ok {
		return err
	}
	for _, c := range t.Columns {
		if c.Generated != 0 && c.Name == name {
			return &where.Error{Pos: we.Pos, Msg: fmt.Sprintf("column %s is a generated column, which the replication stream does not carry before Postgres 18; it cannot be used in a where clause (use the expression it is generated from)", name)}
		}
	}
	return err
}

// rowMatcher is the consumer's row filter for a checked clause: a row
// matches when the clause is true; NULL, false and evaluation errors do not
// match (SHAPE_API §20.6). nil (every row matches) without a clause. A
// tuple shorter than the table reads as NULL past its end.
func rowMatcher(e *where.Expr) func(events.Tuple) bool {
	if e == nil {
		return nil
	}
	return func(t events.Tuple) bool {
		v, err := e.Eval(func(i int) (string, bool) {
			if i < 0 || i >= len(t) {
				return "", true
			}
			return t[i].Text, t[i].Null
		})
		return err == nil && v.IsTrue()
	}
}

// columnsError checks a requested column list against the table (SHAPE_API
// §5.3) and returns the protocol's message for errors.columns, "" when the
// list is valid. Missing key columns are reported before unknown names, in
// key order and in the order requested. For a table without a primary key
// every column is a key column.
func columnsError(t *events.Table, requested []string) string {
	if requested == nil {
		return ""
	}
	want := make(map[string]bool, len(requested))
	for _, c := range requested {
		want[c] = true
	}
	var missing []string
	for _, k := range t.KeyColumns() {
		if !want[t.Columns[k].Name] {
			missing = append(missing, t.Columns[k].Name)
		}
	}
	if len(missing) > 0 {
		return "The list of columns must include all primary key columns, missing: " + strings.Join(missing, ", ")
	}
	have := make(map[string]bool, len(t.Columns))
	for _, c := range t.Columns {
		have[c.Name] = true
	}
	var unknown []string
	for _, c := range requested {
		if !have[c] && !slices.Contains(unknown, c) {
			unknown = append(unknown, c)
		}
	}
	if len(unknown) > 0 {
		return "The following columns are not found on the table: " + strings.Join(unknown, ", ")
	}
	return ""
}

// columnIndexes maps a definition's column names to indexes into
// t.Columns, in table order; nil names (every column) give nil. A name the
// table lacks maps to -1, so the consumer refuses to start rather than serve
// a shape without it (the stored table and definition are checked together
// at creation, so this only happens to a corrupted record).
func columnIndexes(t *events.Table, names []string) []int {
	if names == nil {
		return nil
	}
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	out := make([]int, 0, len(names))
	for i, c := range t.Columns {
		if want[c.Name] {
			out = append(out, i)
			delete(want, c.Name)
		}
	}
	for range want {
		out = append(out, -1)
	}
	return out
}

// consumerReplica is the encoder's replica mode for a definition's.
func consumerReplica(r shape.Replica) logitems.Replica {
	if r == shape.ReplicaFull {
		return logitems.ReplicaFull
	}
	return logitems.ReplicaDefault
}

func hashOf(d *shape.Definition) string { return strconv.FormatUint(d.Hash(), 10) }

func (b *ShapesBackend) Current(def httpapi.ShapeDefinition) (httpapi.Shape, bool) {
	d := definitionWith(def, b.whereForms.normalize)
	e, ok := b.view.Current(hashOf(&d))
	if !ok || e.State == registry.Invalidated {
		return nil, false
	}
	return b.wrap(e), true
}

func (b *ShapesBackend) LastSeenLSN() uint64 { return b.lastSeen.Load() }

func (b *ShapesBackend) GetOrCreate(ctx context.Context, def httpapi.ShapeDefinition) (httpapi.Shape, error) {
	if s, ok := b.Current(def); ok {
		return s, nil
	}
	if !b.view.Loaded() {
		return nil, httpapi.Unavailable("shapesync is starting: stored shapes are still being restored", 5*time.Second)
	}
	pool := b.catalog()
	if pool == nil {
		return nil, httpapi.CannotVerifyShape()
	}
	table, err := snapshot.LookupTable(ctx, pool, def.Schema, def.Table)
	var notTable *snapshot.NotATableError
	switch {
	case errors.Is(err, snapshot.ErrTableNotFound), errors.As(err, &notTable):
		return nil, httpapi.TableNotFound(def.Schema, def.Table)
	case err != nil:
		b.log.Warn("cannot verify a shape's table", zap.String("schema", def.Schema), zap.String("table", def.Table), zap.Error(err))
		return nil, httpapi.CannotVerifyShape()
	}
	if msg := columnsError(table, def.Columns); msg != "" {
		return nil, httpapi.InvalidParam("columns", msg)
	}
	d := definitionWith(def, b.whereForms.normalize)
	if msg := generatedColumnsError(table, columnIndexes(table, d.Columns)); msg != "" {
		return nil, httpapi.InvalidParam("columns", msg)
	}
	// Nothing of the clause reaches Postgres unless it parses and checks.
	if _, err := checkedWhere(table, &d); err != nil {
		return nil, httpapi.InvalidParam("where", err.Error())
	}
	// The definition is identified by the table's name, not its OID, so
	// that Current finds it without a catalog look-up; a table dropped and
	// recreated under the same name is caught by the consumer, which
	// invalidates the shape at the first change under the new OID.
	res, err := b.kit.Root().RequestFuture(b.registry, &registry.CreateOrGet{Definition: d, Table: table}, createTimeout).Result()
	if err != nil {
		return nil, httpapi.ShapeCreateFailed()
	}
	created, ok := res.(*registry.Created)
	if !ok {
		return nil, httpapi.ShapeCreateFailed()
	}
	if errors.Is(created.Err, registry.ErrNotLoaded) {
		return nil, httpapi.Unavailable("shapesync is starting: stored shapes are still being restored", 5*time.Second)
	}
	if created.Err != nil {
		b.log.Warn("shape creation failed", zap.Error(created.Err))
		return nil, httpapi.ShapeCreateFailed()
	}
	return b.wrap(created.Entry), nil
}

// generatedColumnsError names the generated columns a shape would select
// (RELIABILITY C8): Postgres < 18 does not replicate them. columns are
// indexes into t.Columns, nil for every column.
func generatedColumnsError(t *events.Table, columns []int) string {
	var names []string
	for i, c := range t.Columns {
		if c.Generated != 0 && (columns == nil || slices.Contains(columns, i)) {
			names = append(names, c.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	sort.Strings(names)
	msg := "The following columns are generated and cannot be included in the shape: "
	for i, n := range names {
		if i > 0 {
			msg += ", "
		}
		msg += n
	}
	return msg + ". You can exclude them from the shape by explicitly listing which columns to fetch in the 'columns' query param"
}

func (b *ShapesBackend) wrap(e *registry.Entry) *backendShape {
	b.byID.Store(e.ID, e.Handle)
	return &backendShape{b: b, handle: e.Handle, id: uint64(e.ID), schema: schemaJSON(e.Table, columnIndexes(e.Table, e.Definition.Columns))}
}

// schemaJSON is the electric-schema of a shape (SHAPE_API §13): the
// descriptors of its columns only. columns are indexes into t.Columns, nil
// for every column; out-of-range indexes are skipped.
func schemaJSON(t *events.Table, columns []int) []byte {
	pk := map[int]int{}
	for i, ci := range t.PrimaryKey {
		pk[ci] = i
	}
	if columns == nil {
		columns = make([]int, len(t.Columns))
		for i := range columns {
			columns[i] = i
		}
	}
	cols := make([]logitems.SchemaColumn, 0, len(columns))
	for _, i := range columns {
		if i < 0 || i >= len(t.Columns) {
			continue
		}
		c := t.Columns[i]
		pkIndex, ok := pk[i]
		if !ok {
			pkIndex = -1
		}
		sc := logitems.SchemaColumn{Name: c.Name, TypeName: c.TypeName, Dims: c.Dims, PKIndex: pkIndex, NotNull: c.NotNull, TypeMod: c.TypeMod}
		if c.IsArray {
			sc.ArrayTypeName = "_" + c.TypeName
		}
		cols = append(cols, sc)
	}
	return logitems.SchemaJSON(cols)
}

// backendShape is one incarnation as http/api sees it.
type backendShape struct {
	b      *ShapesBackend
	handle string
	id     uint64
	schema []byte
}

func (s *backendShape) Handle() string     { return s.handle }
func (s *backendShape) SchemaJSON() []byte { return s.schema }

func (s *backendShape) entry() (*registry.Entry, bool) { return s.b.view.ByHandle(s.handle) }

func (s *backendShape) Invalidated() bool {
	e, ok := s.entry()
	return !ok || e.State == registry.Invalidated
}

func (s *backendShape) Changed() <-chan struct{} { return s.b.notifier(s.handle).Changed() }

func (s *backendShape) storeView() (*storage.ShapeView, bool) {
	st := s.b.store.Store()
	if st == nil {
		return nil, false
	}
	return st.View(s.id)
}

func (s *backendShape) WaitSnapshotStarted(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, snapshotStartTimeout)
	defer cancel()
	for {
		changed := s.Changed()
		if e, ok := s.entry(); !ok || e.State == registry.Invalidated {
			if ok && e.Err != nil {
				return snapshotError(e.Err)
			}
			return httpapi.ErrShapeInvalidated
		}
		if v, ok := s.storeView(); ok && (v.SnapshotChunks() > 0 || v.SnapshotDone()) {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return httpapi.SnapshotFailed("the shape's snapshot did not start in time; please retry")
		}
	}
}

// snapshotError maps a snapshot failure onto the answer SHAPE_API §16 and
// §20.6 give it.
func snapshotError(err error) error {
	switch snapshot.KindOf(err) {
	case snapshot.KindDataException:
		return httpapi.InvalidParam("where", err.Error())
	case snapshot.KindInvalidColumns:
		return httpapi.InvalidParam("columns", err.Error())
	case snapshot.KindTransient, snapshot.KindSetup:
		return httpapi.SnapshotFailed(err.Error())
	}
	return httpapi.ErrShapeInvalidated
}

func (s *backendShape) Extent() httpapi.Extent {
	v, ok := s.storeView()
	if !ok {
		return httpapi.Extent{}
	}
	return httpapi.Extent{SnapshotChunks: v.SnapshotChunks(), SnapshotDone: v.SnapshotDone(), End: v.End()}
}

func (s *backendShape) ChunkBoundaryAfter(after, limit lsn.LogOffset) (lsn.LogOffset, bool) {
	v, ok := s.storeView()
	if !ok {
		return lsn.LogOffset{}, false
	}
	chunks := v.ChangeChunks()
	i := sort.Search(len(chunks), func(i int) bool { return after.Less(chunks[i].End) })
	if i < len(chunks) && !limit.Less(chunks[i].End) {
		return chunks[i].End, true
	}
	return lsn.LogOffset{}, false
}

func (s *backendShape) Read(ctx context.Context, from, to lsn.LogOffset, emit func(item []byte) error) error {
	st := s.b.store.Store()
	if st == nil || s.Invalidated() {
		return httpapi.ErrShapeInvalidated
	}
	if err := st.Read(s.id, from, to, emit); err != nil {
		if errors.Is(err, storage.ErrShapeNotFound) || errors.Is(err, storage.ErrShapeBlocked) {
			return errors.Join(httpapi.ErrShapeInvalidated, err)
		}
		return err
	}
	return nil
}
