package bench

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shapesync/shapesync/chaos/service"
	"github.com/shapesync/shapesync/replication/pgcluster"
	"github.com/shapesync/shapesync/replication/pgcluster/pgtest"
)

// Knobs of BenchmarkIdleShapeMemory.
const (
	shapesEnv     = "SHAPESYNC_BENCH_SHAPES" // how many shapes; default defaultShapes
	defaultShapes = 10_000
	// serviceLogEnv names a file to write the service's output to at the
	// end of a round (the last serviceOutput bytes), for finding where the
	// time went.
	serviceLogEnv  = "SHAPESYNC_BENCH_SERVICE_LOG"
	tablesPerBatch = 250 // CREATE TABLE + INSERT pairs per transaction
	// shapeConcurrency bounds the requests in flight while creating shapes,
	// well below the 300 concurrent initial syncs the service admits.
	shapeConcurrency = 8
	// serviceOutput keeps enough of the service's output to find the last
	// gctrace line among its log lines.
	serviceOutput = 16 << 20
)

// BenchmarkIdleShapeMemory is PERFORMANCE W9 with one-row tables: N tables
// t_00001…, each (id int primary key, v text) with one row, and one
// whole-table shape per table, created over HTTP and synced to up-to-date,
// then left idle with no clients. The baseline is the same process before
// its first shape (PERFORMANCE: ratios against a baseline run side by
// side). Both readings are taken after a garbage collection that followed
// the phase, once RSS holds still.
//
// Metrics: bytes/shape = (RSS with N shapes − RSS with none) / N, the
// operator's view (Go heap, runtime overhead, badger memtables and
// mmapped pages); heap-bytes/shape, the same for the Go heap marked live
// (from GODEBUG=gctrace=1, whole MB); shapes/s over the creation phase.
//
// These are not W9's `id = k` shapes on one table (they need where
// clauses): here every shape also brings a table of its own, with its
// publication membership and schema, where an `id = k` shape would bring
// filter-index state instead.
func BenchmarkIdleShapeMemory(b *testing.B) {
	n := shapeCount(b)
	bin := builds.Build(b, service.BuildOptions{})
	cluster := pgtest.Start(b, pgcluster.Options{Settings: map[string]string{
		"wal_sender_timeout": "10s", "max_wal_senders": "20", "max_replication_slots": "20",
	}})
	var runs []idleShapeRun
	for b.Loop() {
		runs = append(runs, measureIdleShapes(b, bin, cluster, n, len(runs)+1))
	}
	var perShape, heapPerShape, rate, base, after float64
	for _, r := range runs {
		perShape += float64(r.After.Mem.RSS-r.Base.Mem.RSS) / float64(n)
		heapPerShape += float64(r.After.GC.LiveBytes-r.Base.GC.LiveBytes) / float64(n)
		rate += float64(n) / r.Create.Took.Seconds()
		base += float64(r.Base.Mem.RSS)
		after += float64(r.After.Mem.RSS)
	}
	k := float64(len(runs))
	b.ReportMetric(perShape/k, "bytes/shape")
	b.ReportMetric(heapPerShape/k, "heap-bytes/shape")
	b.ReportMetric(rate/k, "shapes/s")
	b.ReportMetric(base/k/(1<<20), "base-RSS-MiB")
	b.ReportMetric(after/k/(1<<20), "RSS-MiB")
}

func shapeCount(b *testing.B) int {
	text, ok := os.LookupEnv(shapesEnv)
	if !ok {
		return defaultShapes
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive number of shapes", shapesEnv, text)
	}
	return n
}

// idleShapeRun is one measurement.
type idleShapeRun struct {
	Base, After settled
	Create      creation
}

// measureIdleShapes runs one round on a fresh database, slot and storage
// directory, and stops the service before it returns.
func measureIdleShapes(b *testing.B, bin string, cluster *pgcluster.Cluster, n, round int) idleShapeRun {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Minute)
	defer cancel()
	var run idleShapeRun

	// A database per round: the cluster, slots included, goes at cleanup.
	db := fmt.Sprintf("idle_shapes_%d", round)
	admin := connect(ctx, b, cluster.DSN("postgres"))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize()); err != nil {
		b.Fatalf("create database %s: %v", db, err)
	}
	_ = admin.Close(ctx)
	dsn := cluster.DSN(db)
	start := time.Now()
	tables := createTables(ctx, b, dsn, n)
	b.Logf("round %d: created %d one-row tables in %v", round, n, time.Since(start).Round(time.Millisecond))

	storage := b.TempDir()
	svc := service.Start(b, bin, service.Options{
		Env: map[string]string{
			"DATABASE_URL":                   dsn,
			"ELECTRIC_REPLICATION_STREAM_ID": fmt.Sprintf("bench%d_%d", os.Getpid(), round),
			"GODEBUG":                        "gctrace=1",
		},
		StorageDir:  storage,
		OutputBytes: serviceOutput,
	})
	if err := svc.WaitHealthy(ctx, 200); err != nil {
		b.Fatalf("shapesync did not become live: %v", err)
	}
	var err error
	if run.Base, err = settle(ctx, defaultSettle, svc.PID(), svc.Output, gcNum(svc)); err != nil {
		b.Fatalf("baseline: %v", err)
	}
	b.Logf("round %d: baseline with 0 shapes: %v, Go heap live %s (gc #%d), settled after %v",
		round, run.Base.Mem, mib(run.Base.GC.LiveBytes), run.Base.GC.Num, run.Base.Waited.Round(time.Second))

	client := newShapeClient(svc.URL(), shapeConcurrency)
	cpu := cpuMeter{service: svc.PID(), cluster: cluster}
	svcStart, pgStart := cpu.read()
	svcLast, pgLast := svcStart, pgStart
	var cpuPerTenth []string
	run.Create, err = client.createShapes(ctx, tables, shapeConcurrency, func(done int, s creationSlice) {
		svcNow, pgNow := cpu.read()
		note := fmt.Sprintf("%.1f/%.1f", perShapeMS(svcNow-svcLast, s.Shapes), perShapeMS(pgNow-pgLast, s.Shapes))
		cpuPerTenth = append(cpuPerTenth, note)
		svcLast, pgLast = svcNow, pgNow
		// The benchmark's log keeps only its first lines; progress goes to
		// stderr so a long run can be watched.
		fmt.Fprintf(os.Stderr, "round %d: %d shapes up to date; the last %d at %.1f shapes/s, p50 first 200 %v, up to date %v, p99 %v, CPU ms/shape shapesync/postgres %s\n",
			round, done, s.Shapes, s.rate(), s.FirstP50.Round(time.Millisecond), s.P50.Round(time.Millisecond), s.P99.Round(time.Millisecond), note)
	})
	if err != nil {
		b.Fatalf("create shapes: %v", err)
	}
	b.Logf("round %d: %d shapes up to date in %v (%.1f shapes/s; %d requests, %d 503 retries); CPU per shape: shapesync %.2f ms, postgres %.2f ms",
		round, n, run.Create.Took.Round(time.Millisecond), float64(n)/run.Create.Took.Seconds(),
		run.Create.Requests, run.Create.Retries, perShapeMS(svcLast-svcStart, n), perShapeMS(pgLast-pgStart, n))
	b.Logf("round %d: %s, CPU ms/shape shapesync/postgres per tenth [%s]", round, run.Create.perTenth(), strings.Join(cpuPerTenth, " "))

	if run.After, err = settle(ctx, defaultSettle, svc.PID(), svc.Output, gcNum(svc)); err != nil {
		b.Fatalf("after creating shapes: %v", err)
	}
	b.Logf("round %d: with %d idle shapes: %v, Go heap live %s (gc #%d), settled after %v; storage on disk %s",
		round, n, run.After.Mem, mib(run.After.GC.LiveBytes), run.After.GC.Num, run.After.Waited.Round(time.Second), mib(dirSize(storage)))
	b.Logf("round %d: per shape: RSS %.0f B (anon %.0f B, file %.0f B), Go heap %.0f B",
		round, float64(run.After.Mem.RSS-run.Base.Mem.RSS)/float64(n),
		float64(run.After.Mem.RSSAnon-run.Base.Mem.RSSAnon)/float64(n),
		float64(run.After.Mem.RSSFile-run.Base.Mem.RSSFile)/float64(n),
		float64(run.After.GC.LiveBytes-run.Base.GC.LiveBytes)/float64(n))

	code, err := svc.Term()
	if path := os.Getenv(serviceLogEnv); path != "" {
		if err := os.WriteFile(path, []byte(svc.Output()), 0o644); err != nil {
			b.Errorf("%s: %v", serviceLogEnv, err)
		}
	}
	if err != nil || code != 0 {
		b.Fatalf("stop shapesync: exit code %d, %v", code, err)
	}
	return run
}

// cpuMeter reads the CPU time used so far by the service and by the
// cluster's processes (with the postmaster's reaped children).
type cpuMeter struct {
	service int
	cluster *pgcluster.Cluster
}

// read returns the CPU used so far; a process that exits between the
// listing and the reading is skipped (what it used is lost, which only
// happens to a backend that closed mid-run).
func (m cpuMeter) read() (service, postgres time.Duration) {
	service, _ = procCPU(m.service, false)
	pids, _ := pgcluster.ServerPIDs(m.cluster.DataDir())
	for _, pid := range pids {
		if d, err := procCPU(pid, pid == m.cluster.PID()); err == nil {
			postgres += d
		}
	}
	return service, postgres
}

func perShapeMS(d time.Duration, shapes int) float64 {
	return float64(d) / float64(time.Millisecond) / float64(max(shapes, 1))
}

// gcNum is the number of the service's latest garbage collection so far,
// 0 before the first.
func gcNum(svc *service.Process) int {
	g, _ := lastGC(svc.Output())
	return g.Num
}

func connect(ctx context.Context, b *testing.B, dsn string) *pgx.Conn {
	b.Helper()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatalf("connect: %v", err)
	}
	return c
}

// createTables creates n one-row tables, tablesPerBatch per transaction,
// and returns their names.
func createTables(ctx context.Context, b *testing.B, dsn string, n int) []string {
	b.Helper()
	conn := connect(ctx, b, dsn)
	defer conn.Close(ctx)
	width := max(5, len(strconv.Itoa(n)))
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("t_%0*d", width, i+1)
	}
	for lo := 0; lo < n; lo += tablesPerBatch {
		var sql strings.Builder
		for _, name := range names[lo:min(lo+tablesPerBatch, n)] {
			// The names are ours (t_ and digits), not input.
			fmt.Fprintf(&sql, "CREATE TABLE %s (id int PRIMARY KEY, v text); INSERT INTO %[1]s VALUES (1, 'one');\n", name)
		}
		// One simple-protocol query: its statements run in one transaction.
		if _, err := conn.Exec(ctx, sql.String()); err != nil {
			b.Fatalf("create tables %s…: %v", names[lo], err)
		}
	}
	return names
}

// dirSize is the disk space the files under dir take (0 if unreadable):
// allocated blocks, not apparent sizes, since badger preallocates its
// value log sparsely.
func dirSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				total += st.Blocks * 512
			}
		}
		return nil
	})
	return total
}
