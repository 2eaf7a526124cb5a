// End-to-end check of a whole-table shape with the official client.
//
// Run by e2e_test.go, which starts a private Postgres and shapesync, creates
// and fills the table, and passes the addresses in SHAPESYNC_URL and
// DATABASE_URL. The script:
//   1. follows a Shape on the table and checks it equals SELECT * once the
//      client is up to date;
//   2. runs random transactions (E2E_TXNS committed ones holding E2E_OPS
//      inserts, updates and deletes in all; most multi-statement, some with
//      multi-row statements, primary-key updates or a rolled-back savepoint,
//      plus a few fully rolled-back transactions) and, after each committed
//      transaction it waits for, checks the client state equals the table;
//   3. checks every state the client ever reported through shape.subscribe
//      (it reports on up-to-date, and on changes that arrive while up to
//      date) is the table state after one of the committed transactions, in
//      commit order — so no transaction was observed half-applied, out of
//      order, or rolled back yet visible. The client also reports at a chunk
//      boundary, which may fall inside a transaction (SHAPE_API §8), so the
//      service must run with chunks larger than the changes made here.
// It exits non-zero with a message on the first disagreement; E2E_SEED
// replays a run.

import { createHash } from 'node:crypto'
import { ShapeStream, Shape, isChangeMessage, isControlMessage } from '@electric-sql/client'
import pg from 'pg'

const shapesyncURL = process.env.SHAPESYNC_URL
const databaseURL = process.env.DATABASE_URL
const table = process.env.E2E_TABLE || 'e2e_items'
const seed = Number(process.env.E2E_SEED || Date.now() % 100000)
const initialRows = Number(process.env.E2E_ROWS || 10000)
const txCount = Number(process.env.E2E_TXNS || 100)
const opsTotal = Number(process.env.E2E_OPS || 1000)
const waitMs = Number(process.env.E2E_WAIT_MS || 60000)

if (!shapesyncURL || !databaseURL) {
  console.error('SHAPESYNC_URL and DATABASE_URL must be set')
  process.exit(2)
}
if (!/^[a-z_][a-z0-9_]*$/.test(table)) {
  console.error(`E2E_TABLE ${JSON.stringify(table)} is not a plain lower-case identifier`)
  process.exit(2)
}
if (!Number.isInteger(seed) || seed < 0) {
  console.error(`E2E_SEED ${JSON.stringify(process.env.E2E_SEED)} is not a non-negative integer`)
  process.exit(2)
}
if (!(txCount >= 1 && opsTotal >= txCount)) {
  console.error(`need E2E_OPS (${opsTotal}) >= E2E_TXNS (${txCount}) >= 1`)
  process.exit(2)
}
console.log(`seed ${seed}`)
const started = Date.now()
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`

// A small deterministic PRNG (xorshift32) so a failure replays with E2E_SEED.
let prng = seed >>> 0 || 1
function rand() {
  prng ^= prng << 13; prng >>>= 0
  prng ^= prng >>> 17
  prng ^= prng << 5; prng >>>= 0
  return prng / 4294967296
}
const pick = (n) => Math.floor(rand() * n)
const choose = (xs) => xs[pick(xs.length)]

let shuttingDown = false
function fail(msg) {
  shuttingDown = true
  console.error(`FAIL (seed ${seed}, after ${elapsed()}): ${msg}`)
  process.exit(1)
}

// --- canonical form of a state ---------------------------------------------
//
// Both sides are reduced to the JS values the client's default parser must
// produce for these columns (int8 → BigInt, int4 → number, bool → boolean,
// numeric and text → string, text[] → array of string|null, NULL → null),
// and the canonical text keeps the type, so a value of the wrong type (a
// wrong electric-schema, say) is a difference, not a coincidence.
const columns = ['id', 'title', 'n', 'done', 'price', 'tags']
const columnSet = columns.join(',')

function canon(v) {
  if (v === null) return 'null'
  switch (typeof v) {
    case 'bigint': return `${v}n`
    case 'number': return `#${v}`
    case 'boolean': return v ? 'true' : 'false'
    case 'string': return JSON.stringify(v)
    case 'undefined': return 'undefined'
  }
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']'
  return `?${typeof v}:${JSON.stringify(v)}`
}
function canonRow(r) {
  let line = columns.map((k) => `${k}=${canon(r[k])}`).join('|')
  const keys = Object.keys(r).sort().join(',')
  if (keys !== [...columns].sort().join(',')) line += `|keys=${keys}` // missing or extra columns
  return line
}
// A state: its canonical text (rows sorted by id) and a digest to keep.
function stateOf(rows) {
  const lines = rows.map(canonRow)
  lines.sort()
  const text = lines.join('\n')
  return { text, digest: createHash('sha256').update(text).digest('hex'), size: rows.length }
}
// The first few rows that differ between two states, for a failure message.
function diff(want, got) {
  const byID = (s) => new Map(s.text === '' ? [] : s.text.split('\n').map((l) => [l.slice(0, l.indexOf('|')), l]))
  const w = byID(want)
  const g = byID(got)
  const out = []
  for (const [id, line] of w) {
    if (!g.has(id)) out.push(`  missing:    ${line}`)
    else if (g.get(id) !== line) out.push(`  table has:  ${line}\n  client has: ${g.get(id)}`)
  }
  for (const [id, line] of g) if (!w.has(id)) out.push(`  unexpected: ${line}`)
  const n = out.length
  return `${want.size} rows in the table, ${got.size} in the client, ${n} differ:\n` + out.slice(0, 8).join('\n') + (n > 8 ? `\n  … ${n - 8} more` : '')
}

// --- the database side ------------------------------------------------------
const db = new pg.Client({ connectionString: databaseURL })
await db.connect()

async function tableState() {
  const { rows } = await db.query(
    `SELECT id::text AS id, title, n, done, price::text AS price, tags FROM ${table}`)
  return stateOf(rows.map((r) => ({ ...r, id: BigInt(r.id) })))
}

// Postgres's LSN text X/Y as a BigInt, comparable with an offset's tx part.
function lsnToBig(text) {
  const [hi, lo] = text.split('/')
  return (BigInt('0x' + hi) << 32n) | BigInt('0x' + lo)
}
// The tx part of an offset; snapshot offsets (0_n, 0_inf) and -1 give 0.
function offsetTx(off) {
  if (typeof off !== 'string' || !off.includes('_')) return 0n
  return BigInt(off.split('_')[0])
}

// --- the client side --------------------------------------------------------
const requests = new Map() // status → count
let badResponse = null
async function countingFetch(input, init) {
  const res = await fetch(input, init)
  requests.set(res.status, (requests.get(res.status) || 0) + 1)
  if (res.status >= 400 && !badResponse && !shuttingDown) {
    const url = typeof input === 'string' ? input : input.url
    const body = await res.clone().text().catch((e) => `(body unreadable: ${e})`)
    badResponse = `${res.status} for GET ${url}: ${body.slice(0, 500)}`
  }
  return res
}

let streamError = null
const stream = new ShapeStream({
  url: `${shapesyncURL}/v1/shape`,
  params: { table },
  fetchClient: countingFetch,
  onError: (err) => { if (!shuttingDown) streamError = err }, // stop: nothing here is expected to fail
})

// Batches as the client received them: the snapshot's, and whether a
// must-refetch ever came (nothing in this test should rotate the shape).
let batches = 0
let snapshotBatches = 0
let seenUpToDate = false
let mustRefetch = false
let changes = 0
// Whether the batch being delivered ends with up-to-date. stream.isUpToDate
// does not say: once live it stays true through a response that ends at a
// chunk boundary. This subscriber is registered before the Shape's, so it
// sees each batch first.
let batchUpToDate = false
stream.subscribe((messages) => {
  batches++
  if (!seenUpToDate) snapshotBatches++
  batchUpToDate = false
  for (const m of messages) {
    if (isChangeMessage(m)) changes++
    if (isControlMessage(m) && m.headers.control === 'up-to-date') seenUpToDate = batchUpToDate = true
    if (isControlMessage(m) && m.headers.control === 'must-refetch') mustRefetch = true
  }
}, (err) => { if (!shuttingDown) streamError = streamError || err })

const shape = new Shape(stream)
const observed = [] // { digest, at, upToDate } for every state the client reported, in order
let latest = null // the newest report: { state, tx, upToDate }
shape.subscribe(({ rows }) => {
  const state = stateOf(rows)
  latest = { state, tx: offsetTx(stream.lastOffset), upToDate: batchUpToDate }
  observed.push({ digest: state.digest, at: elapsed(), upToDate: batchUpToDate })
})

function checkHealthy() {
  if (streamError) fail(`stream error: ${streamError.stack || streamError.message || streamError}`)
  if (badResponse) fail(`service answered ${badResponse}`)
  if (mustRefetch) fail('the client got a must-refetch (409): the shape was rotated during the test')
}
async function until(cond, what) {
  const deadline = Date.now() + waitMs
  for (;;) {
    checkHealthy()
    if (cond()) return
    if (Date.now() > deadline) fail(`timed out after ${waitMs} ms waiting for ${what}\n${await probe()}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}
// What the service says from the client's position, for a timeout message.
async function probe() {
  const url = `${shapesyncURL}/v1/shape?table=${table}&handle=${encodeURIComponent(stream.shapeHandle || '')}&offset=${encodeURIComponent(stream.lastOffset)}`
  try {
    const res = await fetch(url)
    const headers = [...res.headers].filter(([k]) => k.startsWith('electric-') && k !== 'electric-schema').map(([k, v]) => `${k}: ${v}`).join(', ')
    const body = await res.text()
    return `client: offset ${stream.lastOffset}, up to date ${stream.isUpToDate}; a non-live GET from there answers ${res.status} (${headers}):\n${body.slice(0, 3000)}`
  } catch (e) {
    return `client: offset ${stream.lastOffset}; probing the service failed: ${e}`
  }
}

// --- 1. the initial shape ---------------------------------------------------
const committed = [await tableState()] // table state after each committed transaction
if (committed[0].size !== initialRows) fail(`the table has ${committed[0].size} rows; want ${initialRows}`)
await until(() => latest !== null && latest.upToDate, 'the initial sync')
if (latest.state.digest !== committed[0].digest) fail('initial shape differs from SELECT *: ' + diff(committed[0], latest.state))
if (stateOf(shape.currentRows).digest !== committed[0].digest) fail('shape.currentRows differs from the notified rows after the initial sync')
console.log(`ok - initial shape of ${initialRows} rows equals SELECT * (${snapshotBatches} batches, ${elapsed()})`)

// --- 2. random transactions -------------------------------------------------

// Sizes of the committed transactions: about a fifth single-statement, the
// rest multi-statement with sizes drawn from an exponential spread, summing
// to exactly opsTotal.
function transactionSizes() {
  const sizes = Array.from({ length: txCount }, () => (rand() < 0.2 ? 1 : 2))
  let left = opsTotal - sizes.reduce((a, b) => a + b, 0)
  const multi = sizes.flatMap((s, i) => (s > 1 ? [i] : []))
  if (left < 0 || multi.length === 0) return Array.from({ length: txCount }, (_, i) => Math.floor(opsTotal / txCount) + (i < opsTotal % txCount ? 1 : 0))
  const weights = multi.map(() => -Math.log(1 - rand()))
  const total = weights.reduce((a, b) => a + b, 0)
  let given = 0
  multi.forEach((i, k) => { const extra = Math.floor(left * weights[k] / total); sizes[i] += extra; given += extra })
  for (left -= given; left > 0; left--) sizes[choose(multi)]++
  return sizes
}

const ids = []      // live ids, for picking
const idIndex = new Map()
function addID(id) { idIndex.set(id, ids.length); ids.push(id) }
function removeID(id) {
  const i = idIndex.get(id)
  const last = ids.pop()
  if (last !== id) { ids[i] = last; idIndex.set(last, i) }
  idIndex.delete(id)
}
for (let i = 1; i <= initialRows; i++) addID(i)
let nextID = initialRows + 1
const snapshotIDs = () => ({ ids: [...ids], nextID })
function restoreIDs(s) {
  ids.length = 0
  idIndex.clear()
  for (const id of s.ids) addID(id)
}

const titles = ['plain', 'it\'s "quoted"', 'back\\slash \\\\ two', 'ünïcödé ✓ 日本語', 'emoji 🚀', 'tab\tnew\nline', '{x,"y"}', 'NULL', '']
function randomTags() {
  switch (pick(6)) {
    case 0: return null
    case 1: return []
    case 2: return ['a', `t${pick(100)}`]
    case 3: return ['with space', 'com,ma', 'quo"te', 'back\\slash', 'NULL', null, '']
    case 4: return ['{br}', 'ü']
    default: return [choose(titles)]
  }
}
const randomPrice = () => (rand() < 0.1 ? null : ((pick(2000000) - 1000000) / 100).toFixed(2))
const randomN = () => (rand() < 0.15 ? null : pick(2001) - 1000)
const randomDone = () => choose([true, false, null])

// The statements since the last transaction the client was seen to apply,
// for a failure message.
let journal = []
async function sql(text, params) {
  journal.push(params ? `${text}  -- ${JSON.stringify(params)}` : text)
  return db.query(text, params)
}
const journalText = () => journal.map((l) => `    ${l}`).join('\n')

// One random statement. It returns whether it changed a value the shape
// carries: an UPDATE that changes no column produces no shape log entry
// (SHAPE_API §12.3), so a transaction of only such statements gives the
// client nothing to report. Updates to given values are guarded with IS
// DISTINCT FROM, so their row count says whether anything changed.
async function randomStatement(tag) {
  const r = rand()
  if (r < 0.4 || ids.length < 20) {
    const id = nextID++
    addID(id)
    await sql(`INSERT INTO ${table} (id, title, n, done, price, tags) VALUES ($1, $2, $3, $4, $5, $6)`,
      [id, `new ${id} ${choose(titles)} ${tag}`, randomN(), randomDone(), randomPrice(), randomTags()])
    return true
  }
  if (r < 0.8) {
    const id = choose(ids)
    switch (pick(6)) {
      case 0: // the title always differs: it names the statement
        await sql(`UPDATE ${table} SET title = $2, n = n + 1, done = NOT done WHERE id = $1`, [id, `upd ${tag} ${choose(titles)}`])
        return true
      case 1: {
        const res = await sql(`UPDATE ${table} SET price = $2, tags = $3 WHERE id = $1 AND (price, tags) IS DISTINCT FROM ($2::numeric(10,2), $3::text[])`,
          [id, randomPrice(), randomTags()])
        return res.rowCount > 0
      }
      case 2: {
        const res = await sql(`UPDATE ${table} SET n = $2, done = $3 WHERE id = $1 AND (n, done) IS DISTINCT FROM ($2::int4, $3::bool)`,
          [id, randomN(), randomDone()])
        return res.rowCount > 0
      }
      case 3: { // a primary-key change: a delete and an insert in the log
        const to = nextID++
        removeID(id)
        addID(to)
        await sql(`UPDATE ${table} SET id = $2, title = title || ' moved' WHERE id = $1`, [id, to])
        return true
      }
      case 4: { // one statement, several rows
        const some = [choose(ids), choose(ids), choose(ids)]
        await sql(`UPDATE ${table} SET n = coalesce(n, 0) - 1 WHERE id = ANY($1)`, [some])
        return true
      }
      default: // a real UPDATE in the WAL that changes nothing: the shape log must skip it
        await sql(`UPDATE ${table} SET title = title WHERE id = $1`, [id])
        return false
    }
  }
  if (rand() < 0.85) {
    const id = choose(ids)
    removeID(id)
    await sql(`DELETE FROM ${table} WHERE id = $1`, [id])
    return true
  }
  const some = [...new Set([choose(ids), choose(ids)])]
  some.forEach(removeID)
  await sql(`DELETE FROM ${table} WHERE id = ANY($1)`, [some])
  return true
}

// caughtUp waits until the client reports a state at or after the commit of
// transaction t, whose commit record is at or after lsn, and checks that
// state is the table's after the newest committed transaction.
async function caughtUp(t, lsn) {
  const commitAtLeast = lsnToBig(lsn)
  await until(() => latest.upToDate && latest.tx >= commitAtLeast, `the client to report transaction ${t} (commit LSN ≥ ${lsn}; last report at tx ${latest.tx}); statements since the last one it reported:\n${journalText()}`)
  const want = committed[committed.length - 1]
  if (latest.state.digest !== want.digest) fail(`after transaction ${t} the client state differs from the table: ${diff(want, latest.state)}\nstatements since the last transaction it reported:\n${journalText()}`)
  journal = []
  waits++
}

const sizes = transactionSizes()
let lastVisible = null // { t, lsn } of the newest committed transaction with a shape change
let waits = 0
let rolledBack = 0
let invisible = 0 // committed transactions that changed nothing the shape carries
for (let t = 0; t < txCount; t++) {
  // Now and then a transaction that is rolled back: none of it may show.
  if (rand() < 0.05) {
    const saved = snapshotIDs()
    await sql('BEGIN')
    const n = 1 + pick(5)
    for (let k = 0; k < n; k++) await randomStatement(`rb${t}/${k}`)
    await sql('ROLLBACK')
    restoreIDs(saved)
    rolledBack++
  }
  await sql('BEGIN')
  let visible = false // whether the shape log gets an entry for this transaction
  for (let k = 0; k < sizes[t]; k++) {
    if (await randomStatement(`${t}/${k}`)) visible = true
    if (sizes[t] > 3 && rand() < 0.03) { // a rolled-back savepoint inside a committed transaction
      const saved = snapshotIDs()
      await sql('SAVEPOINT sp')
      await randomStatement(`sp${t}/${k}`)
      await sql('ROLLBACK TO SAVEPOINT sp')
      restoreIDs(saved)
    }
  }
  // The commit record goes at or after the insert position read here.
  const { rows: [{ lsn }] } = await db.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')
  journal.push(`-- WAL insert position before COMMIT: ${lsn}`)
  await sql('COMMIT')
  committed.push(await tableState())
  if (!visible) {
    invisible++
    if (committed[committed.length - 1].digest !== committed[committed.length - 2].digest) fail(`transaction ${t} changed the table but no statement reported a change:\n${journalText()}`)
    continue // nothing for the client to report
  }
  lastVisible = { t, lsn }
  // Wait after most transactions; let some pile up so the client also gets
  // several transactions in one response.
  if (rand() < 0.7) await caughtUp(t, lsn)
}
if (lastVisible) await caughtUp(lastVisible.t, lastVisible.lsn)
const last = committed[committed.length - 1]
if (stateOf(shape.currentRows).digest !== last.digest) fail('shape.currentRows differs from the table at the end: ' + diff(last, stateOf(shape.currentRows)))
console.log(`ok - ${txCount} transactions (${sizes.filter((s) => s > 1).length} multi-statement, largest ${Math.max(...sizes)}), ${opsTotal} statements, ${rolledBack} rolled back, ${invisible} changing nothing: the client equals the table after each of ${waits} waits (${last.size} rows, ${elapsed()})`)

// --- 3. every reported state is a committed state, in order -----------------
let at = 0
for (const [i, o] of observed.entries()) {
  let j = at
  while (j < committed.length && committed[j].digest !== o.digest) j++
  if (j === committed.length) {
    const seenEarlier = committed.slice(0, at).some((c) => c.digest === o.digest)
    const where = o.upToDate ? 'after an up-to-date' : 'on a batch without up-to-date (a chunk boundary)'
    fail(`client state #${i} (reported ${where} at ${o.at}) is no committed state at or after #${at}: ` +
      (seenEarlier ? 'it is an earlier one, so states went backwards' : 'a transaction was observed half-applied (or a rolled-back one was visible)'))
  }
  at = j
}
if (observed.length < waits + 1) fail(`only ${observed.length} client reports for ${waits} waits`)
console.log(`ok - ${observed.length} client states, each a whole committed state in commit order (${batches} batches, ${changes} change messages)`)

shuttingDown = true
stream.unsubscribeAll()
await db.end()
const statuses = [...requests.entries()].sort().map(([s, n]) => `${s}×${n}`).join(' ')
console.log(`e2e: 3 passed, 0 failed in ${elapsed()} (responses: ${statuses})`)
process.exit(0)
