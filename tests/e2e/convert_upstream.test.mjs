// `otlp2parquet convert` on the reference project's sample inputs
// (../shared/upstream-testdata): every input converts; the .pb, .json and
// .jsonl forms of the same data give identical rows; every value equals what
// the OTLP/JSON input says (computed in JS from spec §2, lib/expect.mjs) and
// what the reference wrote into its golden Parquet files; the on-disk layout
// follows spec §4; compressed inputs and the --signal/--format/--compression
// flags work; the invalid samples are rejected without leaving files.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

import { openDuckDB, sqlString } from './lib/duckdb.mjs';
import {
  binaryMissing, cleanupTemp, convert, listFiles, listParquet, readRows, rowKey, rowSet,
  TABLE_DIRS, tempDir, timeColumn, upstreamDir, which, describeTable,
} from './lib/convert.mjs';
import { expectedRowsFromJson } from './lib/expect.mjs';
import { goldenSql, projectGolden, projectOurs } from './lib/golden.mjs';
import { checkLayout, SCHEMAS } from './lib/layout.mjs';

const UP = upstreamDir();
const SKIP = UP ? null : '../shared/upstream-testdata is absent';
const opt = { skip: SKIP ?? false };
// A missing binary is a failure (the build is broken), not a skip.
const MISSING = binaryMissing();
function utest(name, fn) {
  test(name, opt, async (t) => {
    if (MISSING) throw new Error(MISSING);
    return fn(t);
  });
}
const TABLES = Object.keys(TABLE_DIRS);

// Files holding the same data, the rows they must give, and the golden file.
const GROUPS = [
  { name: 'logs', files: ['logs.pb', 'logs.jsonl'], counts: { logs: 81 }, golden: 'logs' },
  { name: 'log', files: ['log.json'], counts: { logs: 1 } },
  { name: 'traces', files: ['traces.pb', 'traces.jsonl'], counts: { traces: 19 }, golden: 'traces' },
  { name: 'trace', files: ['trace.pb', 'trace.json'], counts: { traces: 2 } },
  ...[['gauge', 3], ['sum', 4], ['histogram', 3], ['exponential_histogram', 2], ['summary', 2]].map(([kind, n]) => ({
    name: `metrics_${kind}`, files: ['pb', 'json', 'jsonl'].map((e) => `metrics_${kind}.${e}`), counts: { [kind]: n }, golden: kind,
  })),
  { name: 'metrics_mixed', files: ['metrics_mixed.pb', 'metrics_mixed.json', 'metrics_mixed.jsonl'], counts: { gauge: 1, sum: 1, histogram: 1 } },
];

// Invalid samples, the signal they claim, and a word the error must contain.
const INVALID = [
  ['log_invalid_severity.json', /severity/i],
  ['malformed.json', /syntax|parse|unexpected|expected|invalid json|comment|truncat|end of (input|data|file)/i, ['--signal', 'logs']],
  ['metrics_invalid_temporality.json', /temporality/i],
  ['trace_invalid_base64.json', /trace_?id|span_?id/i],
  ['trace_invalid_kind.json', /kind/i],
  ['trace_mixed_encoding.json', /trace_?id|span_?id/i],
];

let db;
const runs = {}; // file -> convert() result
const rowsOf = {}; // file -> {table: rows}

async function tableRows(dir) {
  const out = {};
  for (const t of TABLES) out[t] = await readRows(db, dir, t);
  return out;
}

test.before(async () => {
  if (SKIP || MISSING) return;
  db = await openDuckDB({ threads: '2' });
  for (const g of GROUPS) {
    for (const f of g.files) {
      runs[f] = convert([path.join(UP, f)]);
      if (runs[f].status === 0) rowsOf[f] = await tableRows(runs[f].dir);
    }
  }
});
test.after(() => {
  db?.close();
  cleanupTemp();
});

function converted(f) {
  const r = runs[f];
  assert.equal(r.status, 0, `convert failed:\n${r.describe()}`);
  return rowsOf[f];
}

utest('every upstream input converts, with the expected row count per table and a summary', async () => {
  for (const g of GROUPS) {
    for (const f of g.files) {
      const rows = converted(f);
      for (const t of TABLES) {
        assert.equal(rows[t].length, g.counts[t] ?? 0, `${f}: rows in ${t}`);
      }
      const out = runs[f].stdout + runs[f].stderr;
      for (const n of Object.values(g.counts)) {
        assert.match(out, new RegExp(`\\b${n}\\b`), `${f}: the summary should report ${n} rows:\n${runs[f].describe()}`);
      }
    }
  }
});

utest('the .pb, .json and .jsonl forms of the same data give identical rows', async () => {
  for (const g of GROUPS.filter((x) => x.files.length > 1)) {
    const [first, ...others] = g.files;
    for (const t of TABLES) {
      const want = rowSet(converted(first)[t]);
      for (const f of others) {
        const got = rowSet(converted(f)[t]);
        const i = want.findIndex((w, k) => w !== got[k]);
        assert.deepEqual(got, want, `${t}: ${f} differs from ${first} (first difference at sorted row ${i}:\n  ${f}: ${got[i]?.slice(0, 1200)}\n  ${first}: ${want[i]?.slice(0, 1200)})`);
      }
    }
  }
});

utest('every column equals what the OTLP/JSON input says (spec §2 rules, computed in JS)', async () => {
  for (const g of GROUPS) {
    const src = g.files.find((f) => /\.jsonl?$/.test(f));
    const expected = {};
    const text = fs.readFileSync(path.join(UP, src), 'utf8');
    const docs = src.endsWith('.jsonl') ? text.split('\n').filter((l) => l.trim()) : [text];
    for (const d of docs) expectedRowsFromJson(JSON.parse(d), expected);
    for (const t of TABLES) {
      const want = rowSet(expected[t] ?? []);
      const got = rowSet(converted(src)[t]);
      assert.equal(got.length, want.length, `${src} ${t}: row count`);
      const i = want.findIndex((w, k) => w !== got[k]);
      if (i >= 0) assert.fail(`${src} ${t}: sorted row ${i} differs\n  got:      ${got[i].slice(0, 2000)}\n  expected: ${want[i].slice(0, 2000)}`);
    }
  }
});

utest('values agree with the reference implementation\'s golden Parquet files', async () => {
  for (const g of GROUPS.filter((x) => x.golden)) {
    const t = g.golden;
    const goldenFile = path.join(UP, 'parquet', t === 'logs' || t === 'traces' ? `${t}.parquet` : `metrics_${t}.parquet`);
    const golden = (await db.query(goldenSql(goldenFile, t))).map((r) => projectGolden(t, r));
    assert.equal(golden.length, g.counts[t], 'golden row count (README)');
    const want = rowSet(golden);
    for (const f of g.files) {
      const got = rowSet(converted(f)[t].map((r) => projectOurs(t, r)));
      assert.equal(got.length, want.length, `${f}: row count vs golden`);
      const i = want.findIndex((w, k) => w !== got[k]);
      if (i >= 0) assert.fail(`${f} vs golden ${path.basename(goldenFile)}: sorted row ${i} differs\n  ours:   ${got[i].slice(0, 2000)}\n  golden: ${want[i].slice(0, 2000)}`);
    }
  }
});

// DuckDB quotes some struct field names (keywords) and not others; compare without quotes.
const unquote = (s) => s.replaceAll('"', '');

utest('every table has the spec §2 columns, in order, with their types', async () => {
  const sources = { logs: 'logs.pb', traces: 'traces.pb', gauge: 'metrics_gauge.pb', sum: 'metrics_sum.pb', histogram: 'metrics_histogram.pb', exponential_histogram: 'metrics_exponential_histogram.pb', summary: 'metrics_summary.pb' };
  for (const [t, f] of Object.entries(sources)) {
    converted(f);
    const got = (await describeTable(db, runs[f].dir, t)).map(([n, ty]) => [n, unquote(ty)]);
    assert.deepEqual(got, SCHEMAS[t].map(([n, ty]) => [n, unquote(ty)]), `${t} schema`);
  }
});

utest('output layout: paths, partitions from each row\'s own time, file names (spec §4)', async () => {
  for (const g of GROUPS) {
    for (const f of g.files) {
      converted(f);
      await checkLayout(db, runs[f].dir);
    }
  }
});

utest('every invalid sample is rejected with a message naming the problem, leaving no files', async () => {
  for (const [f, word, extra] of INVALID) {
    const r = convert([path.join(UP, 'invalid', f)], extra ?? []);
    assert.notEqual(r.status, 0, `${f} must be rejected:\n${r.describe()}`);
    assert.ok(r.signal === null, `${f}: crashed with ${r.signal}`);
    assert.match(r.stderr + r.stdout, word, `${f}: the message should name the problem:\n${r.describe()}`);
    assert.deepEqual(listFiles(r.dir), [], `${f}: files left behind`);
  }
});

utest('a bad file among good ones: non-zero exit, no temporary or partial files', async () => {
  const r = convert([path.join(UP, 'logs.pb'), path.join(UP, 'invalid', 'log_invalid_severity.json')]);
  assert.notEqual(r.status, 0, r.describe());
  assert.match(r.stderr + r.stdout, /log_invalid_severity\.json/, `the message should name the file:\n${r.describe()}`);
  for (const rel of listFiles(r.dir)) {
    assert.match(rel, /\.parquet$/, `leftover non-Parquet file ${rel}`);
    // Whatever was kept must be a complete, readable file.
    await db.query(`SELECT count(*) FROM read_parquet(${sqlString(path.join(r.dir, rel))})`);
  }
});

utest('several inputs of different signals in one run', async () => {
  const inputs = ['logs.pb', 'log.json', 'traces.pb', 'metrics_mixed.pb', 'metrics_summary.json'];
  const r = convert(inputs.map((f) => path.join(UP, f)));
  assert.equal(r.status, 0, r.describe());
  const rows = await tableRows(r.dir);
  const want = {};
  for (const f of inputs) for (const t of TABLES) want[t] = [...(want[t] ?? []), ...converted(f)[t]];
  for (const t of TABLES) assert.deepEqual(rowSet(rows[t]), rowSet(want[t]), `${t}: rows differ from the single-file runs`);
  await checkLayout(db, r.dir);
});

utest('gzip- and zstd-compressed inputs give the same rows', async (t) => {
  const dir = tempDir('compressed');
  const cases = [];
  for (const f of ['logs.pb', 'traces.jsonl', 'metrics_histogram.json']) {
    const dst = path.join(dir, `${f}.gz`);
    fs.writeFileSync(dst, zlib.gzipSync(fs.readFileSync(path.join(UP, f))));
    cases.push([f, dst]);
  }
  // Node 20 has no zstd: use the zstd tool when it is installed.
  if (which('zstd')) {
    for (const f of ['logs.jsonl', 'metrics_exponential_histogram.pb', 'trace.json']) {
      const dst = path.join(dir, `${f}.zst`);
      const z = spawnSync('zstd', ['-q', '-3', '-f', path.join(UP, f), '-o', dst]);
      assert.equal(z.status, 0, `zstd failed: ${z.stderr}`);
      cases.push([f, dst]);
    }
  } else {
    t.diagnostic('zstd tool not installed: .zst inputs not tested');
  }
  for (const [orig, comp] of cases) {
    const r = convert([comp]);
    assert.equal(r.status, 0, r.describe());
    const rows = await tableRows(r.dir);
    for (const tb of TABLES) assert.deepEqual(rowSet(rows[tb]), rowSet(converted(orig)[tb]), `${path.basename(comp)} ${tb}`);
  }
  // A corrupt .gz is an error, not an empty conversion.
  const bad = path.join(dir, 'logs_bad.pb.gz');
  fs.writeFileSync(bad, zlib.gzipSync(fs.readFileSync(path.join(UP, 'logs.pb'))).subarray(0, 200));
  const r = convert([bad]);
  assert.notEqual(r.status, 0, `truncated gzip must fail:\n${r.describe()}`);
  assert.deepEqual(listFiles(r.dir), [], 'files left behind by a truncated gzip input');
});

utest('--signal and --format override what the file name says', async () => {
  const dir = tempDir('names');
  const cases = [
    ['logs.jsonl', 'input-a.bin', ['--signal', 'logs', '--format', 'jsonl']],
    ['traces.pb', 'input-b.dat', ['--signal', 'traces', '--format', 'pb']],
    ['metrics_sum.json', 'input-c.txt', ['--signal', 'metrics', '--format', 'json']],
  ];
  for (const [orig, name, flags] of cases) {
    const dst = path.join(dir, name);
    fs.copyFileSync(path.join(UP, orig), dst);
    const r = convert([dst], flags);
    assert.equal(r.status, 0, r.describe());
    const rows = await tableRows(r.dir);
    for (const tb of TABLES) assert.deepEqual(rowSet(rows[tb]), rowSet(converted(orig)[tb]), `${name} (${orig}) ${tb}`);
  }
  // Wrong format for the content: an error, not garbage rows.
  const r = convert([path.join(UP, 'metrics_sum.json')], ['--format', 'pb']);
  assert.notEqual(r.status, 0, `JSON read as protobuf must fail:\n${r.describe()}`);
  assert.deepEqual(listFiles(r.dir), []);
});

utest('--compression selects the Parquet codec (default ZSTD)', async () => {
  const codecs = async (dir) => {
    const rows = await db.query(`SELECT DISTINCT compression FROM parquet_metadata(${sqlString(path.join(dir, '**', '*.parquet'))})`);
    return rows.map((x) => x.compression).sort();
  };
  converted('logs.pb');
  // Chunks the codec shrinks by less than parquet.min_compression_saving
  // (5 %) are UNCOMPRESSED; these small files have both kinds.
  assert.deepEqual(await codecs(runs['logs.pb'].dir), ['UNCOMPRESSED', 'ZSTD'], 'default codec');
  const cfgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2p-codec-cfg-'));
  try {
    const cfgFile = path.join(cfgDir, 'config.toml');
    fs.writeFileSync(cfgFile, '[parquet]\nmin_compression_saving = 0\n');
    const all = convert([path.join(UP, 'logs.pb')], ['-c', cfgFile]);
    assert.equal(all.status, 0, all.describe());
    assert.deepEqual(await codecs(all.dir), ['ZSTD'], 'min_compression_saving = 0: zstd on every chunk');
    assert.deepEqual(rowSet(await readRows(db, all.dir, 'logs')), rowSet(converted('logs.pb').logs), 'min_compression_saving = 0: rows');
  } finally {
    fs.rmSync(cfgDir, { recursive: true, force: true });
  }
  for (const [flag, name] of [['snappy', 'SNAPPY'], ['gzip', 'GZIP'], ['lz4_raw', 'LZ4_RAW'], ['uncompressed', 'UNCOMPRESSED']]) {
    const r = convert([path.join(UP, 'logs.pb')], ['--compression', flag]);
    assert.equal(r.status, 0, r.describe());
    const got = await codecs(r.dir);
    assert.ok(got.includes(name) && got.every((c) => c === name || c === 'UNCOMPRESSED'), `--compression ${flag}: ${got}`);
    assert.deepEqual(rowSet(await readRows(db, r.dir, 'logs')), rowSet(converted('logs.pb').logs), `--compression ${flag}: rows`);
  }
  const bad = convert([path.join(UP, 'logs.pb')], ['--compression', 'brotli9000']);
  assert.notEqual(bad.status, 0, bad.describe());
  assert.match(bad.stderr + bad.stdout, /compression|codec/i, bad.describe());
});

// rowKey is used to compare rows: make sure it cannot hide differences.
test('row comparison helper distinguishes values that differ', () => {
  assert.notEqual(rowKey({ a: 1n }), rowKey({ a: 1 }));
  assert.notEqual(rowKey({ a: -0 }), rowKey({ a: 0 }));
  assert.notEqual(rowKey({ a: NaN }), rowKey({ a: null }));
  assert.notEqual(rowKey({ m: [['k', 'v'], ['j', 'w']] }), rowKey({ m: [['j', 'w'], ['k', 'v']] }));
  assert.equal(rowKey({ a: 1, b: 2 }), rowKey({ b: 2, a: 1 }));
});
