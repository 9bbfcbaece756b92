// Proof of the Parquet writer by independent readers.
//
// pq_gen (tests/e2e/pq_gen.c) writes files covering every type, repetition,
// nesting, codec and writer option the product uses, each with an
// .expected.json made from the same values.  Every file is read back by
// DuckDB, hyparquet and arrow-rs (parquet-wasm), every value compared, and the
// footer checked: codecs, encodings, statistics, row groups, created_by,
// key/value metadata and the schema's types.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { openDuckDB, sqlIdent, sqlString } from './lib/duckdb.mjs';
import { compareRows, compareUtf8, preview } from './lib/compare.mjs';
import { hyparquetMetadata, readArrowRs, readHyparquet, readPageHeaders } from './lib/readers.mjs';

const CODECS = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'ZSTD', 'LZ4_RAW'];
const CASES = ['alltypes', 'batches', 'dictlimit', 'nodict', 'empty', 'onerow', 'bigstrings'];

// ------------------------------------------------------------ generation --

const build = process.env.O2P_BUILD;
const generator = build ? path.join(build, 'tests/e2e/pq_gen') : null;
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2p-pq-readers-'));
let genError = null;
let expectedFiles = [];
try {
  if (!build) throw new Error('O2P_BUILD is not set (run through scripts/run_tests.sh)');
  if (!fs.existsSync(generator)) throw new Error(`${generator} does not exist: build it with make`);
  execFileSync(generator, [outDir], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30000 });
  expectedFiles = fs.readdirSync(outDir).filter((f) => f.endsWith('.expected.json')).sort();
} catch (e) {
  genError = new Error(`pq_gen failed: ${e.stderr ? e.stderr.toString() : ''}${e.message}`);
}

let db;
test.before(async () => {
  db = await openDuckDB({ threads: '2' });
});
test.after(() => {
  db?.close();
  fs.rmSync(outDir, { recursive: true, force: true });
});

test('pq_gen writes every case for every codec', () => {
  if (genError) throw genError;
  const want = CASES.flatMap((c) => CODECS.map((k) => `${c}.${k}.expected.json`)).sort();
  assert.deepEqual(expectedFiles, want);
  for (const f of want) assert.ok(fs.existsSync(path.join(outDir, f.replace('.expected.json', '.parquet'))), f);
});

// ---------------------------------------------------------------- DuckDB --

// Timestamps leave DuckDB as integers in the file's unit (a JS Date would
// drop the micro- and nanoseconds).
function duckdbSelect(col) {
  const id = sqlIdent(col.name);
  switch (col.kind) {
    case 'timestamp_us': return `epoch_us(${id}) AS ${id}`;
    case 'timestamp_ns': return `epoch_ns(${id}) AS ${id}`;
    case 'events':
      return `list_transform(${id}, e -> {'Timestamp': epoch_us(e.Timestamp), 'Name': e.Name, 'Attributes': e.Attributes}) AS ${id}`;
    default: return id;
  }
}

async function duckdbRows(file, columns) {
  return db.query(`SELECT ${columns.map(duckdbSelect).join(', ')}
                   FROM read_parquet(${sqlString(file)}, file_row_number = true)
                   ORDER BY file_row_number`);
}

// DuckDB joins path_in_schema parts with ", " (older versions used ".").
function leafPath(p) {
  return String(p).split(/, |\./).join('.');
}

function text(v) {
  return v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : String(v);
}

// ------------------------------------------------------------ statistics --

// Columns whose statistics are checked, by canonical kind.
const STATS_COLUMNS = ['i8', 'i16', 'i32', 'i32_opt', 'i64', 'i64_opt', 'f32', 'f64', 'f64_opt',
  's', 's_opt', 's_dict', 's_hc', 'ts_us', 'ts_ns', 'ts_us_opt'];

function compareOf(kind) {
  if (kind === 'string') return compareUtf8;
  if (kind === 'float' || kind === 'double') return (a, b) => a - b;
  return (a, b) => (a < b ? -1 : a > b ? 1 : 0);
}

// min, max and null_count of one column over rows [from, to), in the form
// the check compares: bigint for integers, number for doubles, string.
// NaN is ignored, as the spec's column order requires.
function expectedStats(kind, values) {
  let nulls = 0;
  const present = [];
  for (const v of values) {
    if (v === null) { nulls++; continue; }
    let x;
    if (kind === 'string') x = v;
    else if (kind === 'float') x = Math.fround(Number(v));
    else if (kind === 'double') x = Number(v);
    else x = BigInt(v);
    if (typeof x === 'number' && Number.isNaN(x)) continue;
    present.push(x);
  }
  const cmp = compareOf(kind);
  let min = null;
  let max = null;
  for (const x of present) {
    if (min === null || cmp(x, min) < 0) min = x;
    if (max === null || cmp(x, max) > 0) max = x;
  }
  return { min, max, nulls };
}

// DuckDB prints statistics as text: parse back into the compared form.
// Floats print with float precision (shortest digits for a float), so they
// are rounded back to a float; infinities print as 'inf' / '-inf'.
function parseDuckStat(kind, s) {
  if (s === null || s === undefined) return null;
  if (kind === 'string') return s;
  if (kind === 'float' || kind === 'double') {
    const x = /^-?inf(inity)?$/i.test(s) ? (s.startsWith('-') ? -Infinity : Infinity) : Number(s);
    return kind === 'float' ? Math.fround(x) : x;
  }
  return BigInt(s);
}

function hyparquetStat(kind, v) {
  if (v === null || v === undefined) return null;
  if (kind === 'string') return v;
  if (kind === 'float' || kind === 'double') return Number(v);
  return BigInt(v);
}

// ----------------------------------------------------------- per file --

for (const expFile of expectedFiles) {
  const name = expFile.replace('.expected.json', '');
  const file = path.join(outDir, `${name}.parquet`);

  test(name, async (t) => {
    const exp = JSON.parse(fs.readFileSync(path.join(outDir, expFile), 'utf8'));
    const { columns, rows, expect: want } = exp;
    const colIndex = Object.fromEntries(columns.map((c, i) => [c.name, i]));

    await t.test('DuckDB reads every value', async () => {
      // DuckDB reads TIMESTAMP(NANOS, adjusted to UTC) as TIMESTAMP WITH TIME
      // ZONE, which holds microseconds: it truncates toward zero.  Exact
      // nanoseconds are checked by the other two readers.
      const nsColumns = columns.flatMap((col, c) => (col.kind === 'timestamp_ns' ? [c] : []));
      const wantRows = rows.map((r) => {
        const copy = r.slice();
        for (const c of nsColumns) if (copy[c] !== null) copy[c] = ((BigInt(copy[c]) / 1000n) * 1000n).toString();
        return copy;
      });
      compareRows(columns, wantRows, await duckdbRows(file, columns));
    });

    await t.test('hyparquet reads every value', async () => {
      // hyparquet returns maps as plain objects, which do not keep order.
      compareRows(columns, rows, await readHyparquet(file), { sortMaps: true });
    });

    await t.test('arrow-rs (parquet-wasm) reads every value', () => {
      const { rows: got, schema } = readArrowRs(file);
      compareRows(columns, rows, got);
      // How arrow-rs understood the logical types (Arrow C format strings).
      const fmt = Object.fromEntries(schema.children.map((f) => [f.name, f.format]));
      assert.equal(fmt.i8, 'c');
      assert.equal(fmt.i16, 's');
      assert.equal(fmt.i32, 'i');
      assert.equal(fmt.i64, 'l');
      assert.equal(fmt.f32, 'f');
      assert.equal(fmt.f64, 'g');
      assert.equal(fmt.b, 'b');
      assert.match(fmt.s, /^(u|U|vu)$/);
      assert.match(fmt.ts_us, /^tsu:.+/, 'MICROS timestamp adjusted to UTC carries a time zone');
      assert.match(fmt.ts_ns, /^tsn:.+/, 'NANOS timestamp adjusted to UTC carries a time zone');
      assert.equal(fmt.attrs, '+m');
      assert.equal(fmt.li64, '+l');
      assert.equal(fmt.events, '+l');
    });

    await t.test('file metadata: rows, row groups, created_by', async () => {
      const [fm] = await db.query(`SELECT * FROM parquet_file_metadata(${sqlString(file)})`);
      assert.equal(Number(fm.num_rows), want.num_rows);
      assert.equal(Number(fm.num_row_groups), want.row_groups);
      assert.ok(String(fm.created_by).startsWith(want.created_by_prefix), `created_by = ${fm.created_by}`);
      assert.equal(Number(fm.format_version), 1);
    });

    await t.test('key/value metadata', async () => {
      const kv = await db.query(`SELECT key, value FROM parquet_kv_metadata(${sqlString(file)})`);
      const got = Object.fromEntries(kv.map((r) => [text(r.key), text(r.value)]));
      for (const [k, v] of Object.entries(want.kv)) assert.equal(got[k], v, `metadata ${k}`);
    });

    await t.test('schema: repetition and logical types', async () => {
      const schema = await db.query(`SELECT * FROM parquet_schema(${sqlString(file)})`);
      // Top-level fields are the root's children, in order; nested ones follow
      // their parent depth-first, so walk the tree to find the top level.
      const top = [];
      let i = 1;
      function skip() {
        const node = schema[i++];
        for (let c = 0; c < Number(node.num_children ?? 0); c++) skip();
        return node;
      }
      while (i < schema.length) top.push(skip());
      assert.deepEqual(top.map((n) => n.name), columns.map((c) => c.name));
      const byName = Object.fromEntries(top.map((n) => [n.name, n]));
      for (const col of columns) {
        const node = byName[col.name];
        assert.equal(node.repetition_type, col.repetition, `${col.name} repetition`);
        const conv = node.converted_type;
        const logical = String(node.logical_type ?? '');
        switch (col.kind) {
          case 'string': assert.equal(conv, 'UTF8', `${col.name} converted type`); break;
          case 'int8': assert.equal(conv, 'INT_8', col.name); break;
          case 'int16': assert.equal(conv, 'INT_16', col.name); break;
          case 'map': assert.equal(conv, 'MAP', col.name); break;
          case 'events': case 'list<int64>': case 'list<double>': assert.equal(conv, 'LIST', col.name); break;
          case 'timestamp_us':
            assert.equal(conv, 'TIMESTAMP_MICROS', col.name);
            assert.match(logical, /isAdjustedToUTC=1/, col.name);
            assert.match(logical, /MICROS=MicroSeconds/, col.name);
            break;
          case 'timestamp_ns':
            assert.match(logical, /isAdjustedToUTC=1/, col.name);
            assert.match(logical, /NANOS=NanoSeconds/, col.name);
            break;
          default: break;
        }
      }
      // Leaf order and count match the generator's leaves.
      const leaves = schema.filter((n) => n.type !== null && n.num_children === null);
      assert.equal(leaves.length, exp.leaves.length);
    });

    await t.test('column chunks: codec, leaves, encodings', async () => {
      const chunks = await db.query(`SELECT * FROM parquet_metadata(${sqlString(file)})
                                     ORDER BY row_group_id, column_id`);
      assert.equal(chunks.length, want.row_groups * exp.leaves.length);
      const groups = new Map();
      const codecsSeen = new Set();
      for (const ch of chunks) {
        const top = exp.leaves[Number(ch.column_id)].path.split('.')[0];
        // min_compression_saving: chunks the codec cannot shrink are UNCOMPRESSED
        if (want.raw_columns.includes(top)) assert.equal(ch.compression, 'UNCOMPRESSED', `${leafPath(ch.path_in_schema)} codec`);
        else if (want.mixed_codecs) assert.ok([want.codec, 'UNCOMPRESSED'].includes(ch.compression), `${leafPath(ch.path_in_schema)} codec ${ch.compression}`);
        else assert.equal(ch.compression, want.codec, `${leafPath(ch.path_in_schema)} codec`);
        if (want.mixed_codecs) codecsSeen.add(ch.compression);
        groups.set(Number(ch.row_group_id), Number(ch.row_group_num_rows));
        assert.equal(leafPath(ch.path_in_schema), exp.leaves[Number(ch.column_id)].path);
        const enc = String(ch.encodings).split(/,\s*/);
        const dict = enc.some((e) => e.endsWith('DICTIONARY'));
        if (want.dictionary_columns.includes(top)) {
          assert.ok(enc.includes('RLE_DICTIONARY'), `${top}: dictionary column has encodings ${ch.encodings}`);
          assert.notEqual(ch.dictionary_page_offset, null, `${top}: dictionary page offset`);
        }
        if (want.plain_columns.includes(top)) {
          assert.ok(enc.includes('PLAIN') && !dict, `${top}: fallback column has encodings ${ch.encodings}`);
        }
        if (!want.dictionary) assert.ok(!dict, `${top}: dictionary off, encodings ${ch.encodings}`);
      }
      // a file with mixed codecs keeps the codec where it pays (s_hc: hex)
      if (want.mixed_codecs && ['GZIP', 'ZSTD'].includes(want.codec)) assert.ok(codecsSeen.has(want.codec), `some chunk keeps ${want.codec}`);
      const counts = [...groups.values()];
      assert.equal(counts.reduce((a, b) => a + b, 0), want.num_rows);
      for (const n of counts) assert.ok(n > 0 && n <= want.row_group_rows, `row group of ${n} rows`);
    });

    await t.test('pages: v1 data pages that tile each chunk, values add up', () => {
      const meta = hyparquetMetadata(file);
      const pages = readPageHeaders(file);
      assert.equal(pages.length, want.row_groups);
      pages.forEach((cols, g) => cols.forEach((list, c) => {
        const md = meta.row_groups[g].columns[c].meta_data;
        const where = `row group ${g} ${md.path_in_schema.join('.')}`;
        const data = list.filter((p) => p.type !== 'DICTIONARY_PAGE');
        assert.ok(data.every((p) => p.type === 'DATA_PAGE'), `${where}: page types ${list.map((p) => p.type)}`);
        const dictPages = list.filter((p) => p.type === 'DICTIONARY_PAGE');
        assert.ok(dictPages.length <= 1 && (dictPages.length === 0 || list[0] === dictPages[0]), `${where}: dictionary page must come first, once`);
        const wantEncoding = dictPages.length ? 'RLE_DICTIONARY' : 'PLAIN';
        for (const p of data) assert.equal(p.data_page_header.encoding, wantEncoding, where);
        const values = data.reduce((a, p) => a + Number(p.data_page_header.num_values), 0);
        assert.equal(values, Number(md.num_values), `${where}: page num_values add up to the chunk's`);
        // Data is cut into pages of about the target size: on average no
        // page may be more than twice the target (a single value larger
        // than the target still makes a page of its own).
        const dataBytes = data.reduce((a, p) => a + p.uncompressed_page_size, 0);
        const atLeast = Math.floor(dataBytes / (2 * want.page_size));
        assert.ok(data.length >= Math.max(1, atLeast),
          `${where}: ${dataBytes} data bytes in ${data.length} page(s) of target ${want.page_size}`);
      }));
      if (name.startsWith('alltypes')) {
        // The 4 KiB page size must really have produced many pages: s_hc
        // holds 36 bytes of PLAIN value per row (18 KB in the smallest group).
        const c = exp.leaves.findIndex((l) => l.path === 's_hc');
        for (const cols of pages) assert.ok(cols[c].length >= 4, `s_hc has ${cols[c].length} pages`);
      }
    });

    await t.test('statistics (DuckDB and hyparquet footers)', async () => {
      const chunks = await db.query(`SELECT * FROM parquet_metadata(${sqlString(file)})
                                     ORDER BY row_group_id, column_id`);
      const meta = hyparquetMetadata(file, { rawStrings: true });
      const groups = [...new Set(chunks.map((c) => Number(c.row_group_id)))];
      const problems = [];
      const check = (where, got, wantValue) => {
        const same = got instanceof Uint8Array || wantValue instanceof Uint8Array
          ? got !== null && wantValue !== null && Buffer.compare(Buffer.from(got), Buffer.from(wantValue)) === 0
          : Object.is(got, wantValue) || got === wantValue;
        if (!same) problems.push(`${where}: got ${preview(got instanceof Uint8Array ? Buffer.from(got).toString() : got)}, expected ${preview(wantValue instanceof Uint8Array ? Buffer.from(wantValue).toString() : wantValue)}`);
      };
      let first = 0;
      for (const g of groups) {
        const inGroup = chunks.filter((c) => Number(c.row_group_id) === g);
        const n = Number(inGroup[0].row_group_num_rows);
        for (const name of STATS_COLUMNS) {
          const c = colIndex[name];
          const { kind } = columns[c];
          const values = rows.slice(first, first + n).map((r) => r[c]);
          const e = expectedStats(kind, values);
          const chunk = inGroup.find((x) => leafPath(x.path_in_schema) === name);
          const hy = meta.row_groups[g].columns[chunk ? Number(chunk.column_id) : -1]?.meta_data?.statistics;
          const where = `row group ${g} ${name}`;
          if (!chunk || !hy) { problems.push(`${where}: no column chunk / statistics`); continue; }
          check(`${where} DuckDB null_count`, chunk.stats_null_count === null ? null : Number(chunk.stats_null_count), e.nulls);
          check(`${where} hyparquet null_count`, hy.null_count === undefined ? null : Number(hy.null_count), e.nulls);
          if (kind === 'string') {
            // Long strings may be cut to a prefix (min) or a prefix with its
            // last byte raised (max) and flagged inexact; both stay bounds.
            const eMin = e.min === null ? null : Buffer.from(e.min);
            const eMax = e.max === null ? null : Buffer.from(e.max);
            const gotMin = hy.min_value === undefined ? null : Buffer.from(hy.min_value);
            const gotMax = hy.max_value === undefined ? null : Buffer.from(hy.max_value);
            if (hy.is_min_value_exact === false) {
              if (!gotMin || !eMin || Buffer.compare(gotMin, eMin) > 0) problems.push(`${where}: inexact min is not <= the true min`);
            } else check(`${where} hyparquet min_value`, gotMin, eMin);
            if (hy.is_max_value_exact === false) {
              if (!gotMax || !eMax || Buffer.compare(gotMax, eMax) < 0) problems.push(`${where}: inexact max is not >= the true max`);
            } else check(`${where} hyparquet max_value`, gotMax, eMax);
            // DuckDB prints non-UTF-8 bytes escaped: compare exact bounds only.
            if (chunk.min_is_exact !== false && hy.is_min_value_exact !== false) check(`${where} DuckDB min_value`, chunk.stats_min_value, e.min);
            if (chunk.max_is_exact !== false && hy.is_max_value_exact !== false) check(`${where} DuckDB max_value`, chunk.stats_max_value, e.max);
            continue;
          }
          check(`${where} hyparquet min_value`, hyparquetStat(kind, hy.min_value), e.min);
          check(`${where} hyparquet max_value`, hyparquetStat(kind, hy.max_value), e.max);
          // DuckDB prints timestamps as dates: their exact integers are checked
          // through hyparquet above.  DuckDB sorts NaN above +Infinity, so it
          // cannot use NaN-ignoring bounds and shows none for a chunk with NaN.
          const hasNaN = values.some((v) => v === 'NaN');
          if (!kind.startsWith('timestamp') && !(hasNaN && chunk.stats_min_value === null && chunk.stats_max_value === null)) {
            check(`${where} DuckDB min_value`, parseDuckStat(kind, chunk.stats_min_value), e.min);
            check(`${where} DuckDB max_value`, parseDuckStat(kind, chunk.stats_max_value), e.max);
          }
        }
        first += n;
      }
      if (problems.length) assert.fail(`statistics differ:\n  ${problems.slice(0, 30).join('\n  ')}`);
    });

    await t.test('DuckDB filters agree with the rows (statistics-based pruning)', async () => {
      // Equality on the smallest and largest value of a column must find
      // every matching row: wrong min/max would let DuckDB skip row groups.
      for (const name of ['i64', 'i32_opt', 's', 's_hc', 's_dict', 'f64']) {
        const c = colIndex[name];
        const { kind } = columns[c];
        const { min, max } = expectedStats(kind, rows.map((r) => r[c]));
        for (const v of [min, max]) {
          if (v === null || (typeof v === 'number' && !Number.isFinite(v))) continue;
          const want = rows.filter((r) => r[c] !== null && expectedStats(kind, [r[c]]).min === v).length;
          const literal = kind === 'string' ? sqlString(v) : `CAST(${sqlString(String(v))} AS ${kind === 'double' ? 'DOUBLE' : 'BIGINT'})`;
          const [{ n }] = await db.query(`SELECT count(*) AS n FROM read_parquet(${sqlString(file)}) WHERE ${sqlIdent(name)} = ${literal}`);
          assert.equal(Number(n), want, `${name} = ${preview(v)}`);
        }
      }
    });
  });
}
