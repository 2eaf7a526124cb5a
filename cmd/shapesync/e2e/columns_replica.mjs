// End-to-end check of the columns and replica=full shape parameters with the
// official client.
//
// Run by columns_node_test.go, which starts a private Postgres and shapesync
// and creates the table (id int8 PRIMARY KEY, title text NOT NULL, n int4,
// body text) with rows 1..3. The script follows
// { table, columns: ['id', 'title'], replica: 'full' } with a ShapeStream
// (the client double-quotes every column it sends) and checks:
//   1. the snapshot rows hold exactly id (parsed as BigInt, int8) and title;
//   2. an update of body only (outside the projection) produces no message;
//   3. an update of title is an update with the full projected row and
//      old_value holding the previous title;
//   4. a delete carries the full projected old row;
//   5. an insert carries only id and title;
//   6. a materialised Shape over the same params equals
//      SELECT id, title FROM the table.
// It exits non-zero with a message on the first disagreement.

import { ShapeStream, Shape, isChangeMessage, isControlMessage } from '@electric-sql/client'
import pg from 'pg'

const shapesyncURL = process.env.SHAPESYNC_URL
const databaseURL = process.env.DATABASE_URL
const table = process.env.E2E_TABLE || 'node_cols'
const waitMs = Number(process.env.E2E_WAIT_MS || 60000)
if (!shapesyncURL || !databaseURL) {
  console.error('SHAPESYNC_URL and DATABASE_URL must be set')
  process.exit(2)
}
if (!/^[a-z_][a-z0-9_]*$/.test(table)) {
  console.error(`E2E_TABLE ${JSON.stringify(table)} is not a plain lower-case identifier`)
  process.exit(2)
}

function fail(msg) {
  console.error(`FAIL: ${msg}`)
  process.exit(1)
}

// show renders values with BigInt kept distinguishable from numbers.
const show = (v) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x))

function sameRecord(got, want) {
  const gk = Object.keys(got ?? {}).sort()
  const wk = Object.keys(want).sort()
  return show(gk) === show(wk) && wk.every((k) => got[k] === want[k])
}

const params = { table, columns: ['id', 'title'], replica: 'full' }
const stream = new ShapeStream({ url: `${shapesyncURL}/v1/shape`, params })
const snapshot = []
const changes = []
let upToDate = false
let streamError = null
const unsubscribe = stream.subscribe(
  (messages) => {
    for (const m of messages) {
      if (isChangeMessage(m)) {
        ;(upToDate || m.headers.lsn !== undefined ? changes : snapshot).push(m)
      } else if (isControlMessage(m) && m.headers.control === 'up-to-date') {
        upToDate = true
      }
    }
  },
  (err) => {
    streamError = err
  },
)

async function waitFor(what, cond) {
  const deadline = Date.now() + waitMs
  while (!cond()) {
    if (streamError) fail(`stream error while waiting for ${what}: ${streamError?.message ?? streamError}`)
    if (Date.now() > deadline) fail(`timed out waiting for ${what}; changes so far: ${show(changes)}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

await waitFor('the initial sync', () => upToDate)

// 1. Snapshot rows: exactly the projection, with the client's types.
if (snapshot.length !== 3) fail(`snapshot has ${snapshot.length} rows, want 3: ${show(snapshot)}`)
for (const m of snapshot) {
  const id = m.value.id
  if (typeof id !== 'bigint') fail(`snapshot id ${show(id)} is not a BigInt (electric-schema must say int8)`)
  if (!sameRecord(m.value, { id, title: ['one', 'two', 'three'][Number(id) - 1] })) {
    fail(`snapshot row ${show(m.value)} is not {id, title}`)
  }
}

// 2–5. One transaction each; the insert comes last, so once it has arrived
// every earlier change has too.
const client = new pg.Client({ connectionString: databaseURL })
await client.connect()
for (const sql of [
  `UPDATE ${table} SET body = 'changed' WHERE id = 1`,
  `UPDATE ${table} SET title = 'one changed' WHERE id = 1`,
  `DELETE FROM ${table} WHERE id = 2`,
  `INSERT INTO ${table} VALUES (4, 'four', 40, 'b4')`,
]) {
  await client.query(sql)
}
await waitFor('the insert of id 4', () => changes.some((m) => m.value.id === 4n))

const want = [
  { operation: 'update', value: { id: 1n, title: 'one changed' }, old_value: { title: 'one' } },
  { operation: 'delete', value: { id: 2n, title: 'two' } },
  { operation: 'insert', value: { id: 4n, title: 'four' } },
]
if (changes.length !== want.length) fail(`got ${changes.length} changes, want ${want.length}: ${show(changes)}`)
want.forEach((w, i) => {
  const g = changes[i]
  if (g.headers.operation !== w.operation || !sameRecord(g.value, w.value)) {
    fail(`change ${i}: ${show(g)}, want ${show(w)}`)
  }
  if (w.old_value ? !sameRecord(g.old_value, w.old_value) : g.old_value !== undefined) {
    fail(`change ${i}: old_value ${show(g.old_value)}, want ${show(w.old_value)}`)
  }
})
unsubscribe()

// 6. A materialised Shape over the same params agrees with the table.
const shape = new Shape(new ShapeStream({ url: `${shapesyncURL}/v1/shape`, params }))
const rows = await Promise.race([
  shape.rows,
  new Promise((_, reject) => setTimeout(() => reject(new Error('Shape did not sync in time')), waitMs)),
]).catch((err) => fail(err.message))
const { rows: dbRows } = await client.query(`SELECT id::text AS id, title FROM ${table} ORDER BY id`)
const got = rows.map((r) => ({ id: r.id, title: r.title })).sort((a, b) => (a.id < b.id ? -1 : 1))
const wantRows = dbRows.map((r) => ({ id: BigInt(r.id), title: r.title }))
if (show(got) !== show(wantRows)) fail(`Shape rows ${show(got)}, table ${show(wantRows)}`)
for (const r of rows) {
  if (Object.keys(r).sort().join(',') !== 'id,title') fail(`Shape row ${show(r)} holds columns outside the projection`)
}
shape.unsubscribeAll()
await client.end()
console.log(`ok: snapshot ${snapshot.length} rows, ${changes.length} changes, Shape ${rows.length} rows`)
process.exit(0)
