/**
 * Helpers for tests of `otlp2parquet convert`.
 *
 *   const r = convert(['a.pb', 'b.json'], ['--signal', 'logs']);   // fresh output dir
 *   r.status, r.stdout, r.stderr, r.dir
 *   const rows = await readRows(db, r.dir, 'logs');                // exact values
 *
 * readRows returns rows whose every value is exact and JSON-comparable:
 * timestamps (also inside Events/Exemplars) as µs integers (bigint), MAPs
 * as [key, value] pairs in file order.  rowKey() turns a row into one
 * string (bigints, NaN, -0 kept distinct) so row sets can be sorted and
 * compared with deepStrictEqual without depending on file or row order.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { sqlString } from './duckdb.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(here, '../../..');

/** The upstream test data folder, or null when this checkout has none. */
export function upstreamDir() {
  const d = path.resolve(REPO, '../shared/upstream-testdata');
  return fs.existsSync(path.join(d, 'README.md')) ? d : null;
}

/** Absolute path of the built binary (may not exist). */
export function binaryPath() {
  const build = process.env.O2P_BUILD || path.join(REPO, 'build');
  return path.join(build, 'otlp2parquet');
}

/** Why convert tests cannot run, or null when they can. */
export function binaryMissing() {
  const bin = binaryPath();
  if (!fs.existsSync(bin)) return `${bin} does not exist (build with make; set O2P_BUILD)`;
  return null;
}

/** A fresh empty temporary directory; removed by cleanupTemp(). */
const temps = [];
export function tempDir(tag = 'convert') {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `o2p-${tag}-`));
  temps.push(d);
  return d;
}
export function cleanupTemp() {
  while (temps.length) fs.rmSync(temps.pop(), { recursive: true, force: true });
}

/**
 * Runs `otlp2parquet convert INPUTS... -o DIR EXTRA...` into a fresh
 * directory (or opts.dir).  Never throws on a non-zero exit: callers assert.
 */
export function convert(inputs, extra = [], opts = {}) {
  const dir = opts.dir ?? tempDir('out');
  const args = ['convert', ...inputs, '-o', dir, ...extra];
  const r = spawnSync(binaryPath(), args, {
    encoding: 'utf8',
    timeout: opts.timeout ?? 30000,
    // A config file in the working directory must not change the defaults.
    cwd: opts.cwd ?? tempDir('cwd'),
    env: { ...cleanEnv(), ...(opts.env ?? {}) },
  });
  if (r.error) throw r.error;
  return {
    dir,
    args,
    status: r.status,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    /** One line for assertion messages. */
    describe() {
      return `otlp2parquet ${args.join(' ')}\n  exit ${r.status}${r.signal ? ` (${r.signal})` : ''}\n  stdout: ${r.stdout.trim().slice(0, 1500)}\n  stderr: ${r.stderr.trim().slice(0, 1500)}`;
    },
  };
}

// The user's OTLP2PARQUET_* variables would change the output (codec, unit).
function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTLP2PARQUET_')) env[k] = v;
  return env;
}

/** Every file under dir (relative paths, '/' separated, sorted). */
export function listFiles(dir) {
  const out = [];
  const walk = (d, rel) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(d, e.name), r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}

export function listParquet(dir, under = '') {
  return listFiles(dir).filter((f) => f.endsWith('.parquet') && (!under || f.startsWith(`${under}/`)));
}

/** Table name -> folder under the output root (spec §4). */
export const TABLE_DIRS = {
  logs: 'logs',
  traces: 'traces',
  gauge: 'metrics/gauge',
  sum: 'metrics/sum',
  histogram: 'metrics/histogram',
  exponential_histogram: 'metrics/exponential_histogram',
  summary: 'metrics/summary',
};

/** The column holding the row time that partitions files (spec §4). */
export function timeColumn(table) {
  return table === 'logs' || table === 'traces' ? 'Timestamp' : 'TimeUnix';
}

/**
 * SQL select list that reads every column exactly: top-level timestamps
 * and timestamps inside Events/Exemplars as integer µs (a JS Date would drop
 * microseconds).  `cols` come from DESCRIBE.
 */
function exactSelect(cols) {
  return cols
    .map(({ column_name: name, column_type: type }) => {
      const id = `"${name}"`;
      if (/^TIMESTAMP/.test(type)) return `epoch_us(${id}) AS ${id}`;
      if (name === 'Events') {
        return `list_transform(${id}, e -> {'Timestamp': epoch_us(e.Timestamp), 'Name': e.Name, 'Attributes': e.Attributes}) AS ${id}`;
      }
      if (name === 'Exemplars') {
        return `list_transform(${id}, e -> {'FilteredAttributes': e.FilteredAttributes, 'TimeUnix': epoch_us(e.TimeUnix), 'Value': e.Value, 'SpanId': e.SpanId, 'TraceId': e.TraceId}) AS ${id}`;
      }
      if (type.includes('TIMESTAMP')) return `CAST(${id} AS VARCHAR) AS ${id}`; // unknown nesting: still exact text
      return id;
    })
    .join(', ');
}

/** The parquet glob of a table under an output root, or null when it has no files. */
export function tableGlob(dir, table) {
  const sub = TABLE_DIRS[table];
  if (!listParquet(dir, sub).length) return null;
  return path.join(dir, sub, '**', '*.parquet');
}

/**
 * All rows of `table` under output root `dir`, exact (see exactSelect), maps
 * as [k, v] pairs.  opts.filename adds the file path as column `_file`.
 * Returns [] when the table has no files.
 */
export async function readRows(db, dir, table, opts = {}) {
  const glob = tableGlob(dir, table);
  if (!glob) return [];
  const src = `read_parquet(${sqlString(glob)}, hive_partitioning=false${opts.filename ? ', filename=true' : ''})`;
  const cols = await db.query(`DESCRIBE SELECT * FROM ${src}`);
  const rows = await db.query(`SELECT ${exactSelect(cols)} FROM ${src}`);
  return rows.map(normalizeRow).map((r) => {
    if (opts.filename) {
      r._file = r.filename;
      delete r.filename;
    }
    return r;
  });
}

/** Column names and DuckDB types of a table's files. */
export async function describeTable(db, dir, table) {
  const glob = tableGlob(dir, table);
  const cols = await db.query(`DESCRIBE SELECT * FROM read_parquet(${sqlString(glob)}, hive_partitioning=false)`);
  return cols.map((c) => [c.column_name, c.column_type]);
}

// DuckDB MAPs arrive as [{key, value}]: make them [k, v] pairs (order kept).
function normalizeValue(v) {
  if (Array.isArray(v)) {
    if (v.length && v.every((e) => e && typeof e === 'object' && !Array.isArray(e) && Object.keys(e).length === 2 && 'key' in e && 'value' in e)) {
      return v.map((e) => [e.key, normalizeValue(e.value)]);
    }
    return v.map(normalizeValue);
  }
  if (v && typeof v === 'object' && !(v instanceof Date) && !(v instanceof Uint8Array)) {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = normalizeValue(x);
    return o;
  }
  return v;
}
function normalizeRow(r) {
  const o = {};
  for (const [k, v] of Object.entries(r)) o[k] = normalizeValue(v);
  return o;
}

/** A map column value ([k, v] pairs) as a plain object (last duplicate wins). */
export function mapObject(pairs) {
  const o = {};
  for (const [k, v] of pairs ?? []) o[k] = v;
  return o;
}

/**
 * One string per row: object keys sorted (so column order does not matter),
 * map pairs kept in order, bigints, NaN, ±Infinity and -0 distinguishable.
 */
export function rowKey(row, omit = []) {
  const r = { ...row };
  for (const k of omit) delete r[k];
  return JSON.stringify(r, (_k, x) => {
    if (typeof x === 'bigint') return `${x}n`;
    if (typeof x === 'number' && (!Number.isFinite(x) || Object.is(x, -0))) return `#num:${Object.is(x, -0) ? '-0' : String(x)}`;
    if (x && typeof x === 'object' && !Array.isArray(x)) {
      const o = {};
      for (const k of Object.keys(x).sort()) o[k] = x[k];
      return o;
    }
    return x;
  });
}

/** Rows as sorted keys, for order-independent equality of row sets. */
export function rowSet(rows, omit = []) {
  return rows.map((r) => rowKey(r, omit)).sort();
}

/** Runs a shell tool if present; returns null when it is not installed. */
export function which(tool) {
  const r = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}
