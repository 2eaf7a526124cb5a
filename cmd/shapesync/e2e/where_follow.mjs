// End-to-end check of shape definitions with the official client: where
// clauses, params, column lists and replica=full on a table with a
// composite primary key and on a table without one, while random
// transactions move rows into and out of the shapes and change their keys.
//
// Run by where_node_test.go, which starts a private Postgres and shapesync
// and creates the tables
//   wf_orders (tenant int4, id int8, status text NOT NULL, n int4, note text,
//              PRIMARY KEY (tenant, id))
//   wf_nopk (a int4, b text)              -- no primary key: every column is the key
//   wf_events (id int8 PRIMARY KEY, at timestamptz, score float8, day date, tags text[],
//              feel mood (an enum), pts points (a domain over int4))
// The script follows every shape in SHAPES with a ShapeStream and a
// materialised Shape, then runs E2E_TXNS random transactions (inserts,
// updates that move rows in and out of the clauses, updates of key columns,
// deletes, multi-row updates, rollbacks). After each commit it waits until
// every Shape equals the same SELECT run by Postgres (value for value, as
// the client's default parser types them), and at the end checks that key
// changes arrived as delete+insert pairs (key_change_to / key_change_from)
// and that no stream was ever told to refetch. It exits non-zero with a
// message on the first disagreement.

import { ShapeStream, Shape, isChangeMessage, isControlMessage } from '@electric-sql/client'
import pg from 'pg'

const shapesyncURL = process.env.SHAPESYNC_URL
const databaseURL = process.env.DATABASE_URL
const waitMs = Number(process.env.E2E_WAIT_MS || 60000)
const txns = Number(process.env.E2E_TXNS || 120)
let seed = Number(process.env.E2E_SEED || 1)
if (!shapesyncURL || !databaseURL) {
  console.error('SHAPESYNC_URL and DATABASE_URL must be set')
  process.exit(2)
}

function fail(msg) {
  console.error(`FAIL: ${msg}`)
  process.exit(1)
}
const show = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x))

// A small deterministic generator, so a failing seed can be replayed.
function rand() {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}
const choose = (xs) => xs[Math.floor(rand() * xs.length)]
const intBelow = (n) => Math.floor(rand() * n)

const orderCols = ['tenant', 'id', 'status', 'n', 'note']
const nopkCols = ['a', 'b']

// Each shape: the client's params, and the same definition as SQL for the
// expected rows. where texts are this test's own constants.
const SHAPES = [
  { name: 'tenant = $1', table: 'wf_orders', cols: orderCols, params: { where: 'tenant = $1', params: ['1'] } },
  {
    name: 'n > $1 AND status <> $2, columns, replica=full',
    table: 'wf_orders',
    cols: ['tenant', 'id', 'n', 'status'],
    params: { where: 'n > $1 AND status <> $2', params: ['5', 'gone'], columns: ['tenant', 'id', 'n', 'status'], replica: 'full' },
  },
  { name: 'IN list OR IS NULL', table: 'wf_orders', cols: orderCols, params: { where: "status IN ('open', 'held') OR n IS NULL" } },
  { name: 'columns only', table: 'wf_orders', cols: ['tenant', 'id', 'status'], params: { columns: ['tenant', 'id', 'status'] } },
  { name: 'ILIKE, replica=full', table: 'wf_orders', cols: orderCols, params: { where: "note ILIKE '%X%'", replica: 'full' } },
  {
    name: 'timestamptz, float8 and params',
    table: 'wf_events',
    cols: ['id', 'at', 'score', 'day'],
    params: { where: 'at >= $1 AND score > $2', params: ['2024-03-01 00:00:00+00', '0.3'], columns: ['id', 'at', 'score', 'day'] },
  },
  {
    name: 'array containment, date range, NaN',
    table: 'wf_events',
    cols: ['id', 'at', 'score', 'day'],
    params: { where: "tags @> '{a}' OR day BETWEEN date '2024-01-01' AND date '2024-06-30' - 1 OR score = 'NaN'", columns: ['id', 'at', 'score', 'day'], replica: 'full' },
  },
  {
    name: 'enum equality and a domain over int4',
    table: 'wf_events',
    cols: ['id', 'feel', 'pts'],
    params: { where: "feel IN ('happy', 'ok') AND pts > $1", params: ['3'], columns: ['id', 'feel', 'pts'] },
  },
  { name: 'no primary key, a % 2 = 0', table: 'wf_nopk', cols: nopkCols, params: { where: 'a % 2 = 0' } },
  { name: 'no primary key, whole table', table: 'wf_nopk', cols: nopkCols, params: {} },
]

const db = new pg.Client({ connectionString: databaseURL })
await db.connect()

// The expected rows of a shape: its columns as text (null stays null),
// sorted, so that they compare with the client's rows rendered the same way.
async function expected(s) {
  const where = s.params.where ? ` WHERE ${s.params.where}` : ''
  const cols = s.cols.map((c) => `${c}::text AS ${c}`).join(', ')
  const res = await db.query(`SELECT ${cols} FROM ${s.table}${where}`, s.params.params ?? [])
  return res.rows.map((r) => show(s.cols.map((c) => r[c]))).sort()
}

// The client's rows in the same form. The default parser gives int4 as
// number and int8 as BigInt; String() of either is Postgres's text form.
function rendered(s, rows) {
  return rows
    .map((r) => {
      const keys = Object.keys(r).sort()
      const want = [...s.cols].sort()
      if (show(keys) !== show(want)) fail(`${s.name}: a row has columns ${show(keys)}, want ${show(want)}: ${show(r)}`)
      return show(s.cols.map((c) => (r[c] === null ? null : String(r[c]))))
    })
    .sort()
}

let problem = null
for (const s of SHAPES) {
  s.keyChanges = { to: 0, from: 0 }
  s.stream = new ShapeStream({
    url: `${shapesyncURL}/v1/shape`,
    params: { table: s.table, ...s.params },
    onError: (err) => {
      problem = problem || `${s.name}: stream error ${err?.stack || err}`
    },
  })
  s.stream.subscribe((messages) => {
    for (const m of messages) {
      if (isControlMessage(m) && m.headers.control === 'must-refetch') problem = problem || `${s.name}: must-refetch`
      if (isChangeMessage(m) && m.headers.key_change_to !== undefined) s.keyChanges.to++
      if (isChangeMessage(m) && m.headers.key_change_from !== undefined) s.keyChanges.from++
      if (isChangeMessage(m) && s.params.replica === 'full' && m.headers.operation === 'update' && m.old_value === undefined) {
        problem = problem || `${s.name}: an update without old_value under replica=full: ${show(m)}`
      }
    }
  })
  s.shape = new Shape(s.stream)
}

async function converge(what) {
  const want = []
  for (const s of SHAPES) want.push(await expected(s)) // one query at a time on one connection
  const deadline = Date.now() + waitMs
  for (;;) {
    if (problem) fail(problem)
    const bad = SHAPES.findIndex((s, i) => show(rendered(s, s.shape.currentRows)) !== show(want[i]))
    if (bad < 0) return
    if (Date.now() > deadline) {
      const s = SHAPES[bad]
      const got = rendered(s, s.shape.currentRows)
      const missing = want[bad].filter((r) => !got.includes(r))
      const extra = got.filter((r) => !want[bad].includes(r))
      fail(`${what}: shape "${s.name}" differs from Postgres after ${waitMs} ms; missing ${show(missing)}, extra ${show(extra)}`)
    }
    await new Promise((r) => setTimeout(r, 10))
  }
}

await converge('the initial sync')
for (const s of SHAPES) {
  // An empty shape would agree with an empty SELECT whatever happened.
  if (s.shape.currentRows.length === 0) fail(`shape "${s.name}" is empty after the initial sync; the seed data must give every shape rows`)
}
console.log(`ok - ${SHAPES.length} shapes equal their SELECTs after the initial sync`)

// --- random transactions ----------------------------------------------------
let nextID = 1000
let nextB = 1000
const statuses = ['open', 'held', 'done', 'gone']
const notes = ['x', 'aXb', 'none', null, 'ÉX']
const nOf = () => (rand() < 0.15 ? null : intBelow(11))

async function anyOrder() {
  const r = await db.query('SELECT tenant, id::text AS id FROM wf_orders ORDER BY random() LIMIT 1')
  return r.rows[0]
}
async function anyNopk() {
  const r = await db.query('SELECT b FROM wf_nopk ORDER BY random() LIMIT 1')
  return r.rows[0]
}

const scores = ['0', '0.25', '0.3', '0.5', '1', 'NaN', 'Infinity', '-Infinity', null]
const tagSets = ['{}', '{a}', '{b,a}', '{b}', '{NULL,a}', null]
const anyTime = () => (rand() < 0.1 ? choose(['infinity', '-infinity', null]) : `2024-${String(1 + intBelow(12)).padStart(2, '0')}-${String(1 + intBelow(28)).padStart(2, '0')} ${String(intBelow(24)).padStart(2, '0')}:30:00.25+00`)
const anyDay = () => (rand() < 0.1 ? null : `2024-${String(1 + intBelow(12)).padStart(2, '0')}-${String(1 + intBelow(28)).padStart(2, '0')}`)

const kinds = { keyChanges: 0, moves: 0, rollbacks: 0, statements: 0 }
async function statement() {
  kinds.statements++
  const k = intBelow(12)
  const o = await anyOrder()
  const p = await anyNopk()
  switch (k) {
    case 0:
    case 1:
      await db.query('INSERT INTO wf_orders VALUES ($1, $2, $3, $4, $5)', [1 + intBelow(3), nextID++, choose(statuses), nOf(), choose(notes)])
      return
    case 2:
      if (!o) return
      kinds.moves++
      await db.query('UPDATE wf_orders SET status = $3, n = $4 WHERE tenant = $1 AND id = $2', [o.tenant, o.id, choose(statuses), nOf()])
      return
    case 3:
      if (!o) return
      await db.query('UPDATE wf_orders SET note = $3 WHERE tenant = $1 AND id = $2', [o.tenant, o.id, choose(notes)])
      return
    case 4:
      if (!o) return
      kinds.keyChanges++
      // A key change, sometimes also moving the row across tenant = 1.
      await db.query('UPDATE wf_orders SET id = $3, tenant = $4 WHERE tenant = $1 AND id = $2', [o.tenant, o.id, nextID++, rand() < 0.5 ? o.tenant : 1 + intBelow(3)])
      return
    case 5:
      if (!o) return
      await db.query('DELETE FROM wf_orders WHERE tenant = $1 AND id = $2', [o.tenant, o.id])
      return
    case 6:
      kinds.moves++
      await db.query('UPDATE wf_orders SET n = (n + 3) % 11 WHERE tenant = $1', [1 + intBelow(3)])
      return
    case 7:
      await db.query('INSERT INTO wf_nopk VALUES ($1, $2)', [rand() < 0.1 ? null : intBelow(20), `r${nextB++}`])
      return
    case 8:
      if (!p) return
      kinds.keyChanges++
      await db.query('UPDATE wf_nopk SET a = coalesce(a, 0) + 1 WHERE b = $1', [p.b])
      return
    case 9:
      if (!p) return
      await db.query('DELETE FROM wf_nopk WHERE b = $1', [p.b])
      return
    case 10:
      await db.query('INSERT INTO wf_events VALUES ($1, $2, $3, $4, $5)', [nextID++, anyTime(), choose(scores), anyDay(), choose(tagSets)])
      return
    case 11: {
      const e = (await db.query('SELECT id::text AS id FROM wf_events ORDER BY random() LIMIT 1')).rows[0]
      if (!e) return
      kinds.moves++
      await db.query('UPDATE wf_events SET at = $2, score = $3, day = $4, tags = $5, feel = $6, pts = $7 WHERE id = $1',
        [e.id, anyTime(), choose(scores), anyDay(), choose(tagSets), choose(['sad', 'ok', 'happy', null]), intBelow(9)])
    }
  }
}

for (let t = 0; t < txns; t++) {
  await db.query('BEGIN')
  const n = 1 + intBelow(4)
  for (let i = 0; i < n; i++) await statement()
  if (rand() < 0.1) {
    kinds.rollbacks++
    await db.query('ROLLBACK')
  } else {
    await db.query('COMMIT')
  }
  await converge(`after transaction ${t + 1}`)
}
console.log(`ok - ${txns} transactions (${show(kinds)}): every shape equals its SELECT after each commit`)

for (const s of SHAPES) {
  if (s.keyChanges.to !== s.keyChanges.from) fail(`${s.name}: ${s.keyChanges.to} key_change_to but ${s.keyChanges.from} key_change_from`)
}
const changedKeys = SHAPES.find((s) => s.name === 'columns only').keyChanges
if (changedKeys.to === 0) fail('no key change reached the whole-table shape as a delete+insert pair')
console.log(`ok - key changes arrived as ${changedKeys.to} delete/insert pairs on the whole-table shape`)

for (const s of SHAPES) s.shape.unsubscribeAll()
await db.end()
process.exit(0)
