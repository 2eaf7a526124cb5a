// Value-for-value round trip of every column type with the official client's
// DEFAULT parser, in the snapshot and through the replication stream.
//
// Run by types_node_test.go, which starts a private Postgres (with display
// settings unlike SHAPE_API §12.6 as the database defaults, so a shapesync
// connection that does not set them shows), creates and fills the tables
// below and starts shapesync. For each table the script:
//   1. reads the electric-schema header and compares every column's
//      descriptor with the one §13 prescribes (SCHEMA below);
//   2. reads the raw snapshot and compares every value byte for byte with
//      what Postgres renders for it (col::text, concat(col, '') for char(n))
//      and every key with the key built from the canonical text (§12.5);
//   3. materialises a Shape and compares, for every column of every row,
//      the client's parsed value with Postgres' text parsed by the rules of
//      §12.6 for the default parser (int2/int4/float4/float8 → number,
//      int8 → BigInt, bool → boolean, json/jsonb → JSON, arrays → nested
//      arrays, all else → string), keys included;
//   4. inserts, updates (key-preserving and key-changing) and deletes rows
//      through pg, waits until the Shape equals the table again (values
//      that arrived through the stream are rendered by the type's output
//      function) and compares the raw log: every change's values with the
//      table, every message's key with its canonical key, the snapshot key
//      of a row with the key of its later changes;
//   5. materialises a second Shape from offset -1 (snapshot plus log) and
//      compares it with the same expectation.
// Postgres values are read by the pg driver as raw text (no type parsing)
// and parsed here by an array-literal parser of our own, not the client's.
// It exits non-zero with a message on the first disagreement.

import { ShapeStream, Shape } from '@electric-sql/client'
import pg from 'pg'

const shapesyncURL = process.env.SHAPESYNC_URL
const databaseURL = process.env.DATABASE_URL
const waitMs = Number(process.env.E2E_WAIT_MS || 30000)
if (!shapesyncURL || !databaseURL) {
  console.error('SHAPESYNC_URL and DATABASE_URL must be set')
  process.exit(2)
}

function fail(msg) {
  console.error(`FAIL: ${msg}`)
  process.exit(1)
}

const show = (v) =>
  JSON.stringify(v, (_, x) => {
    if (typeof x === 'bigint') return `${x}n`
    if (typeof x === 'number' && !Number.isFinite(x)) return `${x}`
    if (typeof x === 'number' && Object.is(x, -0)) return '-0'
    return x
  })

// ---- what §13 says each column's descriptor is ----

const T = (type, extra = {}) => ({ type, ...extra })
const A = (type, dims, extra = {}) => ({ type, dims, ...extra })
const PK = (type, i) => ({ type, pk_index: i, not_null: true })
const PKS = (type) => ({ [type === 'boolish' ? 'flag' : 'c']: PK(type, 0), label: T('text') })

const SCHEMA = {
  ty_scalars: {
    id: PK('int4', 0),
    i2: T('int2'), i4: T('int4'), i8: T('int8'),
    num: T('numeric'), num_s: T('numeric', { precision: 12, scale: 4 }), num_p: T('numeric', { precision: 5, scale: 0 }),
    f4: T('float4'), f8: T('float8'),
    b: T('bool'),
    t: T('text'), vc: T('varchar', { max_length: 20 }), vcx: T('varchar'), ch: T('bpchar', { length: 5 }),
    ch1: T('bpchar', { length: 1 }), bp: T('bpchar'),
    u: T('uuid'), j: T('json'), jb: T('jsonb'), by: T('bytea'),
    bt: T('bit', { length: 3 }), vb: T('varbit', { length: 8 }), vbx: T('varbit', { length: -1 }),
    d: T('date'), tm: T('time'), tm0: T('time', { type_mod: 0 }), tm3: T('time', { precision: 3 }), ttz: T('timetz'),
    ts: T('timestamp'), ts0: T('timestamp', { type_mod: 0 }),
    tstz: T('timestamptz'), tstz6: T('timestamptz', { precision: 6 }),
    iv: T('interval'), iv3: T('interval', { precision: 3 }), iv_ds: T('interval', { fields: 'DAY TO SECOND', precision: 2 }),
    iv_y: T('interval', { fields: 'YEAR' }), iv_hm: T('interval', { fields: 'HOUR TO MINUTE' }),
    e: T('mood'), ea: A('mood', 1),
    di: T('posint'), dt: T('shorttext'), dnn: T('nn_text'), dia: A('posint', 1),
    ip: T('inet'), ip6: T('inet'), cid: T('cidr'), ipa: A('inet', 1),
    ia: A('int4', 1), ta: A('text', 1), i2d: A('int4', 2), i3d: A('int8', 3), ba: A('bool', 1), fa: A('float8', 1),
    f4a: A('float4', 1), na: A('numeric', 1),
    tsa: A('timestamptz', 1), ja: A('jsonb', 1), jsa: A('json', 1), ua: A('uuid', 1), bya: A('bytea', 1),
    cha: A('bpchar', 1, { length: 3 }),
    nn: T('text', { not_null: true }), ta_nn: A('text', 1, { not_null: true }),
    bpd: T('code4'), dbool: T('boolish'), big: T('text'), nbig: T('numeric'),
    f8b: T('float8'), f4b: T('float4'),
    comp: T('pair'), compa: A('pair', 1), rng: T('int4range'), mrng: T('int4multirange'), pt: T('point'),
    mac: T('macaddr'), x: T('xml'), mny: T('money'), tsv: T('tsvector'),
  },
  ty_textkey: { k: PK('text', 0), v: T('int4') },
  ty_comp: { n: PK('int4', 1), u: PK('uuid', 0), label: T('text') },
  ty_boolkey: { flag: PK('bool', 0), n: PK('int4', 1), label: T('text') },
  ty_inetkey: { addr: PK('inet', 0), label: T('text') },
  ty_nopk: { a: T('int4'), b: T('text'), c: T('bool'), d: T('inet'), e: T('date') },
  ty_charkey: { c: { type: 'bpchar', length: 3, pk_index: 0, not_null: true }, label: T('text') },
  ty_dboolkey: PKS('boolish'),
  ty_dcharkey: PKS('code4'),
  // No dimensions in the catalog: the array type's own name, no dims, so
  // the client keeps the literal as a string (§13).
  // int2vector is array-like in the catalog, but no array of int2.
  ty_ctas: {
    id: PK('int4', 0), ia: T('_int4'), ta: T('_text'),
    v2: T('int2vector'), iv0: T('interval', { precision: 0 }), tz0: T('timestamptz', { type_mod: 0 }),
    ttz2: T('timetz', { precision: 2 }), bit1: T('bit', { length: 1 }), vc1: T('varchar', { max_length: 1 }),
    ym: T('interval', { fields: 'YEAR TO MONTH' }), ms: T('interval', { fields: 'MINUTE TO SECOND', precision: 3 }),
  },
  ty_dropped: { a: T('int4'), b: T('bool'), c: T('text') },
}

// BASE names the base type of each domain: the client parses a domain by
// its own name (so as a string), but its text is the base type's.
const BASE = { posint: 'int4', shorttext: 'text', nn_text: 'text', code4: 'bpchar', boolish: 'bool' }
const baseOf = (type) => BASE[type] ?? type

// ---- §12.6: the default parser's rules, applied to Postgres' own text ----

function parseScalar(type, text) {
  switch (type) {
    case 'int2':
    case 'int4':
    case 'float4':
    case 'float8':
      return Number(text)
    case 'int8':
      return BigInt(text)
    case 'bool':
      if (!['t', 'f', 'true', 'false'].includes(text)) fail(`bool text ${show(text)} is neither t/f nor true/false`)
      return text === 't' || text === 'true'
    case 'json':
    case 'jsonb':
      return JSON.parse(text)
    default:
      return text
  }
}

// parseArrayLiteral reads a Postgres array literal as array_out writes it
// (SQL NULL as unquoted NULL; quoted elements with \" and \\ escapes;
// nested braces per dimension) into nested arrays of element texts.
function parseArrayLiteral(s) {
  let i = 0
  const bad = (why) => fail(`array literal ${show(s)}: ${why} at ${i}`)
  function array() {
    if (s[i] !== '{') bad('expected {')
    i++
    const out = []
    if (s[i] === '}') {
      i++
      return out
    }
    for (;;) {
      if (s[i] === '{') out.push(array())
      else if (s[i] === '"') {
        i++
        let v = ''
        while (s[i] !== '"') {
          if (i >= s.length) bad('unterminated quote')
          if (s[i] === '\\') i++
          v += s[i++]
        }
        i++
        out.push(v)
      } else {
        let j = i
        while (j < s.length && s[j] !== ',' && s[j] !== '}') j++
        const v = s.slice(i, j)
        if (v === '' || /["{\\]/.test(v)) bad(`bad unquoted element ${show(v)}`)
        out.push(v === 'NULL' ? null : v)
        i = j
      }
      if (s[i] === ',') i++
      else if (s[i] === '}') {
        i++
        return out
      } else bad('expected , or }')
    }
  }
  const v = array()
  if (i !== s.length) bad('trailing text')
  return v
}

function expectedValue(desc, text) {
  if (text === null) return null
  if (!desc.dims) return parseScalar(desc.type, text)
  const walk = (x) => (Array.isArray(x) ? x.map(walk) : x === null ? null : parseScalar(desc.type, x))
  return walk(parseArrayLiteral(text))
}

function same(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return Object.is(a, b)
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]))
  }
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a).sort()
    const kb = Object.keys(b).sort()
    return same(ka, kb) && ka.every((k) => same(a[k], b[k]))
  }
  return a === b
}

// ---- keys (§12.5) from the canonical (output-function) text ----

function keyOf(table, sections) {
  let k = `"public"."${table}"`
  for (const v of sections) k += v === null ? '/_' : `/"${v.replaceAll('/', '//')}"`
  return k
}

// canonical turns a snapshot rendering of a key value into the output
// function's: bool true/false → t/f, inet without a full-length mask.
function canonical(type, text) {
  if (text === null) return null
  type = baseOf(type)
  if (type === 'bool') return { true: 't', false: 'f' }[text] ?? text
  if (type === 'inet') {
    if (!text.includes(':') && text.endsWith('/32')) return text.slice(0, -3)
    if (text.includes(':') && text.endsWith('/128')) return text.slice(0, -4)
  }
  return text
}

// ---- reading Postgres ----

const db = new pg.Client({ connectionString: databaseURL, types: { getTypeParser: () => (v) => v } })
await db.connect()
for (const s of [
  `SET bytea_output = 'hex'`,
  `SET DateStyle = 'ISO, DMY'`,
  `SET TimeZone = 'UTC'`,
  `SET extra_float_digits = 1`,
  `SET IntervalStyle = 'iso_8601'`,
]) {
  await db.query(s)
}

const q = (name) => `"${name}"`
const columnsOf = (table) => Object.keys(SCHEMA[table])
const keyColumnsOf = (table) => {
  const cols = columnsOf(table)
  const pk = cols.filter((c) => SCHEMA[table][c].pk_index !== undefined)
  return pk.length ? pk.sort((a, b) => SCHEMA[table][a].pk_index - SCHEMA[table][b].pk_index) : cols
}

// readTable returns the table's rows by canonical key, each with its
// snapshot rendering (the cast to text; for char(n) and domains concat, the
// output function, which keeps char(n) padding and gives a domain over bool
// or inet the stream's text, so its keys agree) and its stream
// rendering (the output function, which the driver returns as raw text).
async function readTable(table) {
  const cols = columnsOf(table)
  const snap = cols.map((c) => {
    const d = SCHEMA[table][c]
    return (d.type === 'bpchar' || d.type in BASE) && !d.dims ? `CASE WHEN ${q(c)} IS NULL THEN NULL ELSE concat(${q(c)}, '') END` : `${q(c)}::text`
  })
  const sql = `SELECT ${[...snap, ...cols.map(q)].join(', ')} FROM ${q(table)}`
  const res = await db.query({ text: sql, rowMode: 'array' })
  const rows = new Map()
  for (const r of res.rows) {
    const row = { snap: {}, stream: {} }
    cols.forEach((c, i) => {
      row.snap[c] = r[i]
      row.stream[c] = r[cols.length + i]
    })
    const key = keyOf(table, keyColumnsOf(table).map((c) => row.stream[c]))
    if (rows.has(key)) fail(`${table}: two rows with key ${key}; the test tables must not hold duplicates`)
    rows.set(key, row)
  }
  return rows
}

// ---- reading shapesync raw ----

async function rawLog(table) {
  const messages = []
  let url = `${shapesyncURL}/v1/shape?table=${table}&offset=-1`
  let schema
  for (let n = 0; n < 100; n++) {
    const res = await fetch(url)
    if (res.status !== 200) fail(`${table}: GET ${url} answered ${res.status}: ${await res.text()}`)
    schema ??= res.headers.get('electric-schema')
    const body = await res.json()
    messages.push(...body)
    const handle = res.headers.get('electric-handle')
    const offset = res.headers.get('electric-offset')
    if (body.some((m) => m.headers?.control === 'up-to-date')) return { schema, messages }
    url = `${shapesyncURL}/v1/shape?table=${table}&handle=${encodeURIComponent(handle)}&offset=${encodeURIComponent(offset)}`
  }
  fail(`${table}: log not up to date after 100 requests`)
}

// ---- materialised Shapes ----

async function materialise(table) {
  const shape = new Shape(new ShapeStream({ url: `${shapesyncURL}/v1/shape`, params: { table } }))
  await Promise.race([
    shape.rows,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${table}: Shape did not sync in ${waitMs} ms`)), waitMs)),
  ]).catch((err) => fail(err.message))
  return shape
}

// diffShape compares a Shape's rows (by key) with want, a Map from key to
// {col: text}; it returns the first difference or "".
function diffShape(table, shape, want) {
  if (shape.error) return `shape error ${shape.error}`
  const got = shape.currentValue
  for (const k of got.keys()) if (!want.has(k)) return `row ${k} is not in the table (ghost row: ${show(got.get(k))})`
  for (const [k, texts] of want) {
    const row = got.get(k)
    if (!row) return `row ${k} is missing`
    const cols = Object.keys(row).sort()
    if (!same(cols, columnsOf(table).sort())) return `row ${k} has columns ${show(cols)}`
    for (const c of columnsOf(table)) {
      const w = expectedValue(SCHEMA[table][c], texts[c])
      if (!same(row[c], w)) return `row ${k} column ${c}: client has ${show(row[c])}, Postgres text ${show(texts[c])} parses to ${show(w)}`
    }
  }
  return ''
}

async function waitShape(table, shape, want, what) {
  const deadline = Date.now() + waitMs
  let d
  while ((d = diffShape(table, shape, want))) {
    if (Date.now() > deadline) fail(`${table} (${what}): ${d}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const sameSet = (a, b) => same([...a].sort(), [...b].sort())

// checkMessageKeys: every change message's key is the canonical key of the
// key columns in its value.
function checkMessageKeys(table, messages) {
  const types = Object.fromEntries(columnsOf(table).map((c) => [c, SCHEMA[table][c].type]))
  for (const m of messages) {
    if (!m.key) continue
    const sections = keyColumnsOf(table).map((c) => {
      if (!(c in m.value)) fail(`${table}: message ${show(m)} lacks key column ${c}`)
      return canonical(types[c], m.value[c])
    })
    if (m.key !== keyOf(table, sections)) fail(`${table}: key ${show(m.key)} of ${show(m.value)}, want ${show(keyOf(table, sections))}`)
  }
}

// ---- 1–3: schema, raw snapshot and Shape against the table ----

const tables = Object.keys(SCHEMA)
const before = {}
const shapes = {}
let checked = 0
for (const table of tables) {
  const { rows: catalog } = await db.query(
    `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [table],
  )
  if (!same(catalog.map((r) => r.attname), columnsOf(table))) {
    fail(`${table}: the table's columns ${show(catalog.map((r) => r.attname))} are not SCHEMA's ${show(columnsOf(table))}`)
  }
  before[table] = await readTable(table)

  const { schema, messages } = await rawLog(table)
  const got = JSON.parse(schema ?? 'null')
  if (!got) fail(`${table}: no electric-schema header`)
  for (const c of columnsOf(table)) {
    if (!same(got[c], SCHEMA[table][c])) fail(`${table}: electric-schema of ${c} is ${show(got[c])}, want ${show(SCHEMA[table][c])}`)
  }
  if (!sameSet(Object.keys(got), columnsOf(table))) fail(`${table}: electric-schema has columns ${show(Object.keys(got))}`)

  const rows = messages.filter((m) => m.key)
  if (rows.length !== before[table].size) fail(`${table}: snapshot has ${rows.length} rows, the table ${before[table].size}`)
  checkMessageKeys(table, rows)
  for (const m of rows) {
    const want = before[table].get(m.key)
    if (!want) fail(`${table}: snapshot key ${show(m.key)} is not the canonical key of any row`)
    for (const c of columnsOf(table)) {
      if (m.value[c] !== want.snap[c]) fail(`${table} ${m.key} column ${c}: snapshot value ${show(m.value[c])}, Postgres ${show(want.snap[c])}`)
      checked++
    }
  }

  shapes[table] = await materialise(table)
  const want = new Map([...before[table]].map(([k, r]) => [k, r.snap]))
  const d = diffShape(table, shapes[table], want)
  if (d) fail(`${table} (snapshot): ${d}`)
}

// The §25.2 renderings, byte for byte, in the snapshot.
{
  const { messages } = await rawLog('ty_scalars')
  const row1 = messages.find((m) => m.key === '"public"."ty_scalars"/"1"')
  if (row1?.value.b !== 'true' || row1.value.ip !== '10.0.0.1/32' || row1.value.ba !== '{t,f,NULL}') {
    fail(`snapshot row 1 renders b/ip/ba as ${show([row1?.value.b, row1?.value.ip, row1?.value.ba])}, want ["true","10.0.0.1/32","{t,f,NULL}"]`)
  }
  const r = row1.value
  if (r.by !== '\\x0001fffe' || r.ch !== 'ab   ' || r.f8 !== 'NaN' || r.bpd !== 'ab  ' || r.dbool !== 't') {
    fail(`snapshot row 1 renders by/ch/f8/bpd/dbool as ${show([r.by, r.ch, r.f8, r.bpd, r.dbool])}`)
  }
}

// ---- 4: changes through the stream ----

const scalarCols = columnsOf('ty_scalars').filter((c) => c !== 'id')
const copyRow = (from, to) =>
  `UPDATE ty_scalars t SET (${scalarCols.join(', ')}) = (SELECT ${scalarCols.join(', ')} FROM ty_scalars s WHERE s.id = ${from}) WHERE t.id = ${to}`
const transactions = [
  [`INSERT INTO ty_scalars (id, ${scalarCols.join(', ')}) SELECT id + 100, ${scalarCols.join(', ')} FROM ty_scalars`],
  [copyRow(101, 6), copyRow(106, 1), copyRow(103, 2), `DELETE FROM ty_scalars WHERE id = 3`],
  // Row 5's big value stays in TOAST: the update's new row says "unchanged".
  [`UPDATE ty_scalars SET i4 = 55 WHERE id = 5`],
  [`UPDATE ty_scalars SET f8 = 'NaN', b = NOT b, ip = '10.9.9.9/32', ta = ARRAY['new,"one"', NULL], j = '{"z" :1}', ch = 'q' WHERE id = 4`],
  [
    `INSERT INTO ty_textkey SELECT k || '/new', v + 100 FROM ty_textkey`,
    `UPDATE ty_textkey SET v = -v WHERE k IN ('a/b', '', '"/"', 'it''s "q"', '/')`,
  ],
  [`DELETE FROM ty_textkey WHERE k IN ('//lead', '_')`, `UPDATE ty_textkey SET k = 'moved/' || k WHERE k IN ('trail/', 'NULL')`],
  [
    `INSERT INTO ty_comp VALUES (3, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'three')`,
    `UPDATE ty_comp SET label = 'one changed' WHERE n = 1 AND u = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'`,
    `DELETE FROM ty_comp WHERE n = -2147483648`,
    `UPDATE ty_comp SET n = 5 WHERE n = 2`,
  ],
  [
    `UPDATE ty_boolkey SET label = 'yes one changed' WHERE flag AND n = 1`,
    `UPDATE ty_boolkey SET label = 'no two changed' WHERE NOT flag AND n = 2`,
    `DELETE FROM ty_boolkey WHERE NOT flag AND n = 1`,
    `INSERT INTO ty_boolkey VALUES (false, 3, 'no three')`,
  ],
  [`UPDATE ty_boolkey SET n = 20 WHERE flag AND n = 2`, `UPDATE ty_boolkey SET flag = NOT flag WHERE n = 3`],
  [
    `UPDATE ty_inetkey SET label = 'host v4 changed' WHERE addr = '10.0.0.1'`,
    `UPDATE ty_inetkey SET label = 'host v6 changed' WHERE addr = '::1'`,
    `UPDATE ty_inetkey SET label = 'net v4 changed' WHERE addr = '10.0.0.0/8'`,
    `DELETE FROM ty_inetkey WHERE addr = '10.0.0.3'`,
    `INSERT INTO ty_inetkey VALUES ('10.0.0.2/32', 'new v4'), ('2001:db8::2/128', 'new v6')`,
    `UPDATE ty_inetkey SET addr = '172.16.0.1' WHERE addr = '192.168.1.5/24'`,
  ],
  [
    `UPDATE ty_nopk SET b = 'changed/' WHERE a = 1`,
    `UPDATE ty_nopk SET a = 9 WHERE a IS NULL`,
    `DELETE FROM ty_nopk WHERE a = 2`,
    `INSERT INTO ty_nopk VALUES (5, NULL, true, '10.0.0.5/32', NULL)`,
  ],
  [
    `UPDATE ty_charkey SET label = label || ' changed'`,
    `DELETE FROM ty_charkey WHERE c = ''`,
    `INSERT INTO ty_charkey VALUES ('z', 'new')`,
  ],
  [`UPDATE ty_dboolkey SET label = label || ' changed' WHERE flag`, `DELETE FROM ty_dboolkey WHERE NOT flag`],
  [
    `UPDATE ty_dcharkey SET label = label || ' changed'`,
    `DELETE FROM ty_dcharkey WHERE c = ''`,
    `INSERT INTO ty_dcharkey VALUES ('z', 'new')`,
  ],
  [`INSERT INTO ty_ctas VALUES (2, '{{1,2},{3,4}}', '{}')`, `UPDATE ty_ctas SET ta = '{x}' WHERE id = 1`],
  [`UPDATE ty_dropped SET c = 'two' WHERE a = 2`, `INSERT INTO ty_dropped VALUES (3, false, NULL)`, `DELETE FROM ty_dropped WHERE a = 1`],
]
for (const statements of transactions) {
  await db.query('BEGIN')
  for (const s of statements) await db.query(s)
  await db.query('COMMIT')
}

// expectAfter is what a client that read the snapshot and then the changes
// holds: a row that kept its key and changed holds the stream rendering of
// the key and the changed columns (replica=default sends only those) and
// the snapshot rendering of the rest; a new key holds the stream rendering.
function expectAfter(table, after) {
  const want = new Map()
  for (const [k, row] of after) {
    const old = before[table].get(k)
    if (!old) {
      want.set(k, row.stream)
      continue
    }
    const changed = columnsOf(table).filter((c) => old.stream[c] !== row.stream[c])
    const keep = new Set(changed.length ? [...changed, ...keyColumnsOf(table)] : [])
    want.set(k, Object.fromEntries(columnsOf(table).map((c) => [c, keep.has(c) ? row.stream[c] : old.snap[c]])))
  }
  return want
}

const after = {}
let changes = 0
for (const table of tables) {
  after[table] = await readTable(table)
  const want = expectAfter(table, after[table])
  await waitShape(table, shapes[table], want, 'after the changes')

  const { messages } = await rawLog(table)
  const changeMsgs = messages.filter((m) => m.key && m.headers.lsn !== undefined)
  changes += changeMsgs.length
  if (changeMsgs.length === 0) fail(`${table}: no changes in the log`)
  checkMessageKeys(table, changeMsgs)
  // The last message of each key still in the table carries its stream text.
  const last = new Map()
  for (const m of changeMsgs) last.set(m.key, m)
  for (const [k, m] of last) {
    const row = after[table].get(k)
    if (m.headers.operation === 'delete') {
      if (row) fail(`${table}: ${k} was deleted in the log but is in the table`)
      const wantCols = keyColumnsOf(table)
      if (!sameSet(Object.keys(m.value), wantCols)) fail(`${table}: delete of ${k} carries ${show(Object.keys(m.value))}, want ${show(wantCols)}`)
      continue
    }
    if (!row) fail(`${table}: the log's last message for ${k} is ${m.headers.operation}, but the row is gone`)
    for (const [c, v] of Object.entries(m.value)) {
      if (v !== row.stream[c]) fail(`${table} ${k} column ${c}: ${m.headers.operation} carries ${show(v)}, Postgres ${show(row.stream[c])}`)
      checked++
    }
  }
  // The snapshot key of a row is the key of its later changes, byte for byte.
  const snapKeys = new Set(messages.filter((m) => m.key && m.headers.lsn === undefined).map((m) => m.key))
  for (const m of changeMsgs) {
    if (m.headers.operation !== 'insert' && !snapKeys.has(m.key) && before[table].has(m.key)) {
      fail(`${table}: ${m.headers.operation} key ${m.key} differs from the snapshot's keys`)
    }
  }
}

// The §25.2 renderings and key identity, byte for byte, in the changes.
{
  const { messages } = await rawLog('ty_scalars')
  const copy = messages.find((m) => m.key === '"public"."ty_scalars"/"101"')
  if (copy?.value.b !== 't' || copy.value.ip !== '10.0.0.1' || copy.value.ba !== '{t,f,NULL}' || copy.value.ch !== 'ab   ') {
    fail(`stream copy of row 1 renders b/ip/ba/ch as ${show([copy?.value.b, copy?.value.ip, copy?.value.ba, copy?.value.ch])}`)
  }
  const log = async (table) => (await rawLog(table)).messages.filter((m) => m.key)
  const pairs = [
    ['ty_boolkey', '"public"."ty_boolkey"/"t"/"1"', 'update'],
    ['ty_inetkey', '"public"."ty_inetkey"/"10.0.0.1"', 'update'],
    ['ty_inetkey', '"public"."ty_inetkey"/"10.0.0.3"', 'delete'],
    ['ty_textkey', '"public"."ty_textkey"/"a//b"', 'update'],
    ['ty_textkey', '"public"."ty_textkey"/"////lead"', 'delete'],
    ['ty_nopk', '"public"."ty_nopk"/_/_/_/_/_', 'delete'],
    ['ty_nopk', '"public"."ty_nopk"/"1"/"a//b"/"t"/"10.0.0.1"/"2024-01-31"', 'delete'],
  ]
  for (const [table, key, op] of pairs) {
    const ms = (await log(table)).filter((m) => m.key === key)
    const ops = ms.map((m) => (m.headers.lsn === undefined ? 'snapshot' : m.headers.operation))
    if (!same(ops.slice(0, 2), ['snapshot', op])) fail(`${table}: messages with key ${key} are ${show(ops)}, want snapshot then ${op}`)
  }
}

// ---- 5: a new client reads snapshot plus log ----

for (const table of tables) {
  const shape = await materialise(table)
  const d = diffShape(table, shape, expectAfter(table, after[table]))
  if (d) fail(`${table} (second client from offset -1): ${d}`)
  shape.unsubscribeAll()
  shapes[table].unsubscribeAll()
}
await db.end()
console.log(
  `ok: ${tables.length} tables, ${Object.values(before).reduce((n, r) => n + r.size, 0)} snapshot rows, ${changes} change messages, ${checked} raw values compared`,
)
process.exit(0)
