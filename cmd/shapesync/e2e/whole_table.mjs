// End-to-end check of a whole-table shape with the official client.
//
// Run by e2e_test.go, which starts a private Postgres and shapesync and
// passes their addresses in SHAPESYNC_URL and DATABASE_URL. The script:
//   1. follows a Shape on a 10,000-row table and compares it with SELECT *;
//   2. runs about 100 transactions of random inserts, updates and deletes
//      (1,000 operations, many multi-statement), and after each of them that
//      it waits for, checks the materialised shape equals the table;
//   3. checks every state the client ever reported (the client notifies only
//      on up-to-date) is the table state after some committed transaction,
//      in commit order — so no transaction was ever observed half-applied.
// It exits non-zero with a message on the first disagreement.

import { ShapeStream, Shape } from '@electric-sql/client'
import pg from 'pg'

const shapesyncURL = process.env.SHAPESYNC_URL
const databaseURL = process.env.DATABASE_URL
const table = process.env.E2E_TABLE || 'e2e_items'
const seed = Number(process.env.E2E_SEED || Date.now() % 100000)
const initialRows = Number(process.env.E2E_ROWS || 10000)
const txCount = Number(process.env.E2E_TXNS || 100)
const opsTotal = Number(process.env.E2E_OPS || 1000)

if (!shapesyncURL || !databaseURL) {
  console.error('SHAPESYNC_URL and DATABASE_URL must be set')
  process.exit(2)
}

// A small deterministic PRNG so a failure can be replayed with E2E_SEED.
let state = seed >>> 0 || 1
function rand() {
  state ^= state << 13; state >>>= 0
  state ^= state >>> 17
  state ^= state << 5; state >>>= 0
  return state / 4294967296
}
const pick = (n) => Math.floor(rand() * n)

function fail(msg) {
  console.error(`FAIL (seed ${seed}): ${msg}`)
  process.exit(1)
}

// Canonical text of a row so client-parsed and pg-parsed values compare:
// the client turns int8 into BigInt, int4 into number, bool into boolean and
// arrays into arrays; node-postgres does much the same but not identically.
function canon(v) {
  if (v === null || v === undefined) return 'null'
  if (typeof v === 'bigint' || typeof v === 'number') return String(v)
  if (typeof v === 'boolean') return v ? 't' : 'f'
  if (Array.isArray(v)) return '[' + v.map(canon).join(',') + ']'
  return JSON.stringify(String(v))
}
function canonRow(r) {
  return ['id', 'title', 'n', 'done', 'price', 'tags'].map((k) => canon(r[k])).join('|')
}
function canonState(rows) {
  return rows.map(canonRow).sort().join('\n')
}

const db = new pg.Client({ connectionString: databaseURL })
await db.connect()

async function tableState() {
  const { rows } = await db.query(`SELECT id::text AS id, title, n, done, price::text AS price, tags FROM ${table}`)
  return canonState(rows)
}

// Postgres's LSN text X/Y as a BigInt, to compare with offsets' tx part.
function lsnToBig(text) {
  const [hi, lo] = text.split('/')
  return (BigInt('0x' + hi) << 32n) | BigInt('0x' + lo)
}

// --- 1. the initial shape --------------------------------------------------
const stream = new ShapeStream({ url: `${shapesyncURL}/v1/shape`, params: { table } })
const shape = new Shape(stream)
const observed = [] // canonical states reported by the client, in order
let streamError = null
stream.subscribe(() => {}, (err) => { streamError = err })
shape.subscribe(({ rows }) => { observed.push(canonState(rows)) })

const initialRowsSeen = await Promise.race([
  shape.rows,
  new Promise((_, reject) => setTimeout(() => reject(new Error('initial sync took over 120 s')), 120000)),
]).catch((e) => fail(e.message))
if (initialRowsSeen.length !== initialRows) fail(`initial shape has ${initialRowsSeen.length} rows; want ${initialRows}`)
const committed = [await tableState()] // table state after each committed transaction
if (canonState(initialRowsSeen) !== committed[0]) fail('initial shape differs from SELECT *')
console.log(`ok - initial shape of ${initialRows} rows equals SELECT *`)

// --- 2. random transactions -----------------------------------------------
async function waitCaughtUp(afterLSN, what) {
  const deadline = Date.now() + 60000
  for (;;) {
    if (streamError) fail(`stream error: ${streamError.message || streamError}`)
    const off = stream.lastOffset
    const tx = off && off.includes('_') && off !== '-1' ? BigInt(off.split('_')[0]) : 0n
    if (stream.isUpToDate && tx > afterLSN) return
    if (Date.now() > deadline) fail(`client did not catch up with ${what} (offset ${off}, want tx > ${afterLSN})`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

let nextID = initialRows + 1
const ids = new Set()
for (let i = 1; i <= initialRows; i++) ids.add(i)
const anyID = () => { const a = [...ids]; return a[pick(a.length)] }

let opsLeft = opsTotal
for (let t = 0; t < txCount; t++) {
  const ops = t === txCount - 1 ? opsLeft : Math.max(1, Math.min(opsLeft, 1 + pick(19)))
  opsLeft -= ops
  await db.query('BEGIN')
  for (let k = 0; k < ops; k++) {
    const r = rand()
    if (r < 0.4 || ids.size < 10) {
      const id = nextID++
      ids.add(id)
      await db.query(`INSERT INTO ${table} (id, title, n, done, price, tags) VALUES ($1, $2, $3, $4, $5, $6)`,
        [id, `new ${id} "q" \\ ü ${t}`, pick(1000), rand() < 0.5, (pick(100000) / 100).toFixed(2), ['a', `t${t}`]])
    } else if (r < 0.8) {
      const id = anyID()
      await db.query(`UPDATE ${table} SET title = $2, n = n + 1, done = NOT done WHERE id = $1`, [id, `upd ${t}/${k}`])
    } else {
      const id = anyID()
      ids.delete(id)
      await db.query(`DELETE FROM ${table} WHERE id = $1`, [id])
    }
  }
  const { rows: [{ lsn }] } = await db.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')
  await db.query('COMMIT')
  committed.push(await tableState())
  // Wait after most transactions; let some pile up so the client also sees
  // several transactions in one response.
  if (rand() < 0.7 || t === txCount - 1) {
    await waitCaughtUp(lsnToBig(lsn), `transaction ${t}`)
    const got = canonState(shape.currentRows)
    if (got !== committed[committed.length - 1]) fail(`after transaction ${t} the shape differs from the table`)
  }
}
console.log(`ok - ${txCount} transactions, ${opsTotal} operations: shape equals the table after each wait`)

// --- 3. every observed state is a committed state, in order ----------------
let at = 0
for (const [i, s] of observed.entries()) {
  const j = committed.indexOf(s, at)
  if (j < 0) fail(`client state #${i} matches no committed transaction at or after #${at}: a transaction was observed half-applied (or out of order)`)
  at = j
}
console.log(`ok - ${observed.length} client states, each a whole committed state in commit order`)

stream.unsubscribeAll?.()
await db.end()
console.log('e2e: 3 passed, 0 failed')
process.exit(0)
