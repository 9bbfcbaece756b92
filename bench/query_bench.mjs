/**
 * query_bench: what sorted rows, page indexes and bloom filters buy a query
 * engine (issue 13).  Run with `make bench FILTER=query` (or directly:
 * node bench/query_bench.mjs [--rows N] [--runs R] [--out DIR]).
 *
 * Generates N spans and N log records (default 5,000,000 each) as OTLP/JSON
 * files (deterministic: a seeded PRNG; ten services; ten spans per trace,
 * 3 ms apart, one log record per span; arrival roughly in time order with
 * up to two minutes of jitter per trace, as batching SDK exporters
 * deliver), converts them twice with
 * build/otlp2parquet convert:
 *   plain  the writer as it was: parquet.sort_rows = false, page_index = false,
 *          bloom_filters = false, no page row limit, min_compression_saving = 0
 *          (zstd on every chunk)
 *   query  the defaults: sorted (row groups of at most 100,000 rows that end
 *          at 10-minute boundaries of Timestamp), page index,
 *          bloom filters on TraceId (+ SpanId on traces), PLAIN ids, chunks
 *          zstd cannot shrink by 5 % or by a bit per value UNCOMPRESSED
 * (--row-group-rows N also gives the query-ready files row groups of N rows;
 * --metadata-cache runs the queries with DuckDB's parquet_metadata_cache on)
 * then runs the same DuckDB queries on both (threads = 2), the two sides
 * taking turns, --runs runs each: the median and the best wall-clock time
 * and the best CPU time of this process (DuckDB's threads), and prints the speed-up ratios and the size ratio as a
 * Markdown table (also written to DIR/query.md and DIR/query.json).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const { DuckDBInstance } = await import(path.join(repo, 'tests/node_modules/@duckdb/node-api/lib/index.js'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const ROWS = Number(arg('rows', process.env.QUERY_BENCH_ROWS ?? 5000000));
const RUNS = Number(arg('runs', 5));
const OUT = path.resolve(arg('out', path.join(repo, 'build/bench/query')));
const BIN = path.join(process.env.O2P_BUILD ?? path.join(repo, 'build'), 'otlp2parquet');
const PER_FILE = 100000;
const HOUR_NS = 1760738400000000000n;
const SERVICES = 10;

function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(2026);
const hex = (bytes) => {
  let s = '';
  for (let i = 0; i < bytes; i++) s += ((rand() * 256) | 0).toString(16).padStart(2, '0');
  return s;
};
// arrival time of row i: spread over the hour in order, plus up to 2 min of jitter
const tsNs = (i) => {
  const base = Math.floor((i / ROWS) * 3480e6); // µs, leaves room for the jitter
  return HOUR_NS + BigInt(base + Math.floor(rand() * 120e6)) * 1000n;
};

function resource(svc) {
  return { attributes: [{ key: 'service.name', value: { stringValue: `svc-${svc}` } }, { key: 'host.name', value: { stringValue: `host-${svc}` } }] };
}

let sampleTrace = null, sampleLogTrace = null;
// --trace-order: the spans are generated in (TraceId, Timestamp) order
// instead of arrival order (with OTLP2PARQUET_PARQUET_SORT_ROWS=false on the
// query side this measures files ordered by trace; docs/schema.md)
const TRACE_ORDER = process.argv.includes('--trace-order');
// Per-span values (name, duration, route, status, severity) are drawn from the
// seeded PRNG, not computed from the row number: values that cycle with the
// row number (i % 37) compress to nearly nothing in arrival order and not in
// any other order, which no real exporter produces.
function writeInputs(dir) {
  fs.mkdirSync(dir, { recursive: true });
  let trace = hex(16), traceStart = 0n;
  const spans = []; // with --trace-order: [traceId, svc, span] to sort first
  const pick = (n) => (rand() * n) | 0;
  const writeTraces = (f, list) => {
    const bySvc = Array.from({ length: SERVICES }, () => []);
    for (const [, svc, span] of list) bySvc[svc].push(span);
    fs.writeFileSync(path.join(dir, `traces-${String(f).padStart(5, '0')}.json`), JSON.stringify({ resourceSpans: bySvc.map((l, s) => ({ resource: resource(s), scopeSpans: [{ scope: { name: 'bench' }, spans: l }] })) }));
  };
  for (let f = 0; f * PER_FILE < ROWS; f++) {
    const n = Math.min(PER_FILE, ROWS - f * PER_FILE);
    const list = [];
    const logsBySvc = Array.from({ length: SERVICES }, () => []);
    for (let k = 0; k < n; k++) {
      const i = f * PER_FILE + k;
      if (i % 10 === 0) { trace = hex(16); traceStart = tsNs(i); }
      if (i === Math.floor(ROWS / 2)) sampleTrace = trace;
      const start = traceStart + BigInt((i % 10) * 3000000); // spans of a trace 3 ms apart
      const svc = (i / 10 | 0) % SERVICES;
      const error = pick(97) === 0;
      list.push([trace, svc, {
        traceId: trace, spanId: hex(8), parentSpanId: i % 10 ? hex(8) : '', name: `op-${pick(37)}`, kind: 2,
        startTimeUnixNano: String(start), endTimeUnixNano: String(start + BigInt(1e6 + pick(1000) * 1e4)),
        attributes: [{ key: 'http.route', value: { stringValue: `/api/${pick(53)}` } }, { key: 'http.status_code', value: { intValue: String(error ? 500 : 200) } }],
        status: { code: error ? 2 : 0 },
      }]);
      const lt = start + 500000n;
      if (i === Math.floor(ROWS / 3)) sampleLogTrace = trace;
      const ms = pick(1000), bad = pick(50) === 0;
      logsBySvc[svc].push({
        timeUnixNano: String(lt), severityNumber: bad ? 17 : 9, severityText: bad ? 'ERROR' : 'INFO',
        body: { stringValue: `request ${i} handled in ${ms} ms` }, traceId: trace, spanId: hex(8),
        attributes: [{ key: 'n', value: { intValue: String(ms) } }],
      });
    }
    if (TRACE_ORDER) spans.push(...list);
    else writeTraces(f, list);
    fs.writeFileSync(path.join(dir, `logs-${String(f).padStart(5, '0')}.json`), JSON.stringify({ resourceLogs: logsBySvc.map((logRecords, s) => ({ resource: resource(s), scopeLogs: [{ scope: { name: 'bench' }, logRecords }] })) }));
  }
  if (TRACE_ORDER) {
    // stable sort: a trace's spans stay in start-time order
    spans.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (let f = 0; f * PER_FILE < spans.length; f++) writeTraces(f, spans.slice(f * PER_FILE, (f + 1) * PER_FILE));
  }
}

function convert(inDir, outDir, env, signal) {
  const files = fs.readdirSync(inDir).filter((f) => f.startsWith(signal)).sort().map((f) => path.join(inDir, f));
  const t0 = process.hrtime.bigint();
  const r = spawnSync(BIN, ['convert', ...files, '--signal', signal, '-o', outDir], { env: { ...process.env, ...env }, encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`convert failed: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function dirBytes(d) {
  let n = 0;
  for (const e of fs.readdirSync(d, { withFileTypes: true, recursive: true })) if (e.isFile() && e.name.endsWith('.parquet')) n += fs.statSync(path.join(e.parentPath ?? e.path, e.name)).size;
  return n;
}

const median = (v) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'o2p-query-bench-'));
try {
  console.log(`query bench: ${ROWS} spans + ${ROWS} logs, ${RUNS} runs per query (work dir ${work})${process.argv.includes('--metadata-cache') ? ', parquet_metadata_cache on' : ''}`);
  // --in DIR: reuse (or create once) the generated OTLP/JSON in DIR (experiments)
  const inArg = arg('in', null);
  const inDir = inArg ? path.resolve(inArg) : path.join(work, 'in');
  const samples = path.join(inDir, 'samples.json');
  if (inArg && fs.existsSync(samples)) {
    ({ sampleTrace, sampleLogTrace } = JSON.parse(fs.readFileSync(samples, 'utf8')));
  } else {
    const t0 = Date.now();
    writeInputs(inDir);
    fs.writeFileSync(samples, JSON.stringify({ rows: ROWS, traceOrder: TRACE_ORDER, sampleTrace, sampleLogTrace }));
    console.log(`generated OTLP/JSON in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  // the writer before issue 13: arrival order, no page index, no bloom filters, ~1 MiB pages
  const plainEnv = { OTLP2PARQUET_PARQUET_SORT_ROWS: 'false', OTLP2PARQUET_PARQUET_PAGE_INDEX: 'false', OTLP2PARQUET_PARQUET_BLOOM_FILTERS: 'false', OTLP2PARQUET_PARQUET_PAGE_ROWS: '1000000000', OTLP2PARQUET_PARQUET_MIN_COMPRESSION_SAVING: '0' };
  const convertTimes = {};
  // --row-group-rows N: the query-ready side also cuts row groups of N rows
  const rgRows = arg('row-group-rows', null);
  const queryEnv = rgRows ? { OTLP2PARQUET_PARQUET_ROW_GROUP_ROWS: String(rgRows) } : {};
  // --query-env K=V,K=V: more settings for the query-ready side (experiments)
  for (const kv of (arg('query-env', '') || '').split(',').filter(Boolean)) {
    const eq = kv.indexOf('=');
    queryEnv[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  for (const [name, env] of [['plain', plainEnv], ['query', queryEnv]]) {
    convertTimes[name] = 0;
    for (const sig of ['traces', 'logs']) convertTimes[name] += convert(inDir, path.join(work, name), env, sig);
  }
  if (process.env.QUERY_BENCH_ATTRIBUTE) {
    // size of each feature alone (for docs/performance.md)
    for (const [name, env] of [['sort', { ...plainEnv, OTLP2PARQUET_PARQUET_SORT_ROWS: 'true' }], ['index', { ...plainEnv, OTLP2PARQUET_PARQUET_PAGE_INDEX: 'true', OTLP2PARQUET_PARQUET_PAGE_ROWS: '100000' }], ['bloom', { ...plainEnv, OTLP2PARQUET_PARQUET_BLOOM_FILTERS: 'true' }]]) {
      for (const sig of ['traces', 'logs']) convert(inDir, path.join(work, name), env, sig);
      console.log(`${name} alone: ${dirBytes(path.join(work, name))} bytes`);
    }
  }
  if (!inArg) fs.rmSync(inDir, { recursive: true, force: true });
  const db = await (await DuckDBInstance.create(':memory:', { threads: '2' })).connect();
  // --metadata-cache: DuckDB keeps each file's parsed footer between queries
  // (SET parquet_metadata_cache = true; off by default in DuckDB 1.5.6).  The
  // warm-up run fills the cache for both sides alike.
  const METADATA_CACHE = process.argv.includes('--metadata-cache');
  if (METADATA_CACHE) await db.run('SET parquet_metadata_cache = true');
  const lo = HOUR_NS / 1000n + 1800000000n; // 30 minutes into the hour, in µs
  const queries = [
    ['traces: TraceId point lookup', (d) => `SELECT SpanName, Duration FROM read_parquet('${d}/traces/**/*.parquet') WHERE TraceId = '${sampleTrace}'`],
    ['traces: 1-minute window', (d) => `SELECT SpanName, Duration FROM read_parquet('${d}/traces/**/*.parquet') WHERE "Timestamp" >= make_timestamp(${lo}) AND "Timestamp" < make_timestamp(${lo + 60000000n})`],
    ["traces: one service's errors in the hour", (d) => `SELECT count(*) FROM read_parquet('${d}/traces/**/*.parquet') WHERE ServiceName = 'svc-3' AND StatusCode = 'STATUS_CODE_ERROR'`],
    ['traces: full-scan aggregate', (d) => `SELECT ServiceName, count(*), avg(Duration) FROM read_parquet('${d}/traces/**/*.parquet') GROUP BY 1`],
    ['logs: TraceId point lookup', (d) => `SELECT Body FROM read_parquet('${d}/logs/**/*.parquet') WHERE TraceId = '${sampleLogTrace}'`],
    ['logs: 1-minute window', (d) => `SELECT Body FROM read_parquet('${d}/logs/**/*.parquet') WHERE "Timestamp" >= make_timestamp(${lo}) AND "Timestamp" < make_timestamp(${lo + 60000000n})`],
    ['logs: full-scan aggregate', (d) => `SELECT SeverityText, count(*) FROM read_parquet('${d}/logs/**/*.parquet') GROUP BY 1`],
  ];
  const results = [];
  for (const [name, sql] of queries) {
    const times = { plain: [], query: [] }, cpu = { plain: [], query: [] };
    const rows = {};
    // The two sides take turns, so load from other processes on a shared
    // machine hits both alike; CPU time (this process: DuckDB's threads) is
    // reported too, as it varies less than wall-clock time under load.
    for (let r = 0; r <= RUNS; r++) {
      for (const side of ['plain', 'query']) {
        const c0 = process.cpuUsage();
        const s = process.hrtime.bigint();
        const res = await db.runAndReadAll(sql(path.join(work, side)));
        const ms = Number(process.hrtime.bigint() - s) / 1e6;
        const cu = process.cpuUsage(c0);
        rows[side] = res.getRows().length;
        if (r > 0) { // run 0 warms the OS cache
          times[side].push(ms);
          cpu[side].push((cu.user + cu.system) / 1000);
        }
      }
    }
    if (rows.plain !== rows.query) throw new Error(`${name}: ${rows.plain} rows vs ${rows.query}`);
    const t = { plain: median(times.plain), query: median(times.query) };
    const b = { plain: Math.min(...times.plain), query: Math.min(...times.query) };
    const c = { plain: Math.min(...cpu.plain), query: Math.min(...cpu.query) };
    results.push({ name, plain_ms: t.plain, query_ms: t.query, speedup: t.plain / t.query, plain_best_ms: b.plain, query_best_ms: b.query, best_speedup: b.plain / b.query, plain_cpu_ms: c.plain, query_cpu_ms: c.query, cpu_speedup: c.plain / c.query, rows: rows.query });
  }
  const size = { plain: dirBytes(path.join(work, 'plain')), query: dirBytes(path.join(work, 'query')) };
  let md = `| Query (${ROWS.toLocaleString('en')} spans + ${ROWS.toLocaleString('en')} logs) | arrival order, no index/filters (ms) | sorted + page index + bloom (ms) | speed-up | best wall ms, before / after | best speed-up | best CPU ms, before / after | CPU speed-up |\n|---|---:|---:|---:|---:|---:|---:|---:|\n`;
  for (const r of results) md += `| ${r.name} | ${r.plain_ms.toFixed(1)} | ${r.query_ms.toFixed(1)} | ${r.speedup.toFixed(2)}x | ${r.plain_best_ms.toFixed(1)} / ${r.query_best_ms.toFixed(1)} | ${r.best_speedup.toFixed(2)}x | ${r.plain_cpu_ms.toFixed(1)} / ${r.query_cpu_ms.toFixed(1)} | ${r.cpu_speedup.toFixed(2)}x |\n`;
  md += `| files (bytes) | ${size.plain} | ${size.query} | size ratio ${(size.query / size.plain).toFixed(3)} | | | | |\n`;
  md += `| convert, both signals (s) | ${convertTimes.plain.toFixed(1)} | ${convertTimes.query.toFixed(1)} | | | | | |\n`;
  console.log(md);
  fs.mkdirSync(OUT, { recursive: true });
  fs.writeFileSync(path.join(OUT, 'query.md'), md);
  fs.writeFileSync(path.join(OUT, 'query.json'), JSON.stringify({ rows: ROWS, runs: RUNS, metadata_cache: METADATA_CACHE, results, size, convert_s: convertTimes }, null, 2));
} finally {
  if (process.argv.includes('--keep')) console.log(`kept ${work}`);
  else fs.rmSync(work, { recursive: true, force: true });
}
