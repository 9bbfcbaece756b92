// The performance tooling works end to end (spec §8): perf_audit --quick
// runs every measurement and writes a findings.json whose fields have the
// documented types (docs/performance.md), bench_compare's significance test
// flags a real regression and ignores identical runs, and the dashboard
// renders in a real browser: headless Chromium screenshots a non-blank page
// and its DOM holds one chart per benchmark plus one per suite.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const build = process.env.O2P_BUILD || path.join(root, 'build');
const bench = path.join(build, 'bench/o2p_bench');
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'o2p-perf-tools-'));
const findingsPath = path.join(work, 'findings.json');

test.after(() => fs.rmSync(work, { recursive: true, force: true }));

let audit = null;
let auditError = null;
test.before(() => {
  if (!fs.existsSync(bench)) {
    auditError = new Error(`${bench} does not exist: build it with make`);
    return;
  }
  const started = Date.now();
  const p = spawnSync('python3', [path.join(root, 'scripts/perf_audit.py'), '--quick', '--no-build',
    '--build', build, '--out', findingsPath], { cwd: root, encoding: 'utf8', timeout: 300000 });
  if (p.status !== 0) {
    auditError = new Error(`perf_audit exited ${p.status}: ${p.stderr}\n${p.stdout.slice(-2000)}`);
    return;
  }
  audit = { json: JSON.parse(fs.readFileSync(findingsPath, 'utf8')), secs: (Date.now() - started) / 1000 };
});

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const numOrNull = (v) => v === null || isNum(v);

test('perf_audit --quick finishes in under 3 minutes', () => {
  if (auditError) throw auditError;
  assert.ok(audit.secs < 180, `took ${audit.secs} s`);
  assert.equal(audit.json.mode, 'quick');
});

test('findings.json has the documented fields and types', () => {
  if (auditError) throw auditError;
  const f = audit.json;
  assert.equal(f.schema, 'o2p-perf-audit/1');
  assert.ok(typeof f.generated_at === 'string' && isNum(f.duration_secs));
  for (const k of ['cpu_model', 'compiler', 'git_revision', 'date']) assert.equal(typeof f.environment[k], 'string', k);
  assert.ok(Array.isArray(f.errors));
  for (const s of Object.values(f.steps)) assert.match(s.status, /^(ok|failed)$/);

  assert.ok(f.throughput.length >= 3, 'decode and e2e throughput rows');
  for (const t of f.throughput) {
    assert.ok(isNum(t.rows_per_sec) && t.rows_per_sec > 0, t.name);
    assert.ok(isNum(t.median_s) && t.ci95_s.length === 2, t.name);
  }
  // HTTP: measured when the server binary exists, else explicitly skipped.
  if (fs.existsSync(path.join(build, 'otlp2parquet'))) {
    assert.equal(f.http.measured, true, JSON.stringify(f.http));
    for (const k of ['p50', 'p95', 'p99']) assert.ok(isNum(f.latency_ms[k]) && f.latency_ms[k] > 0, k);
    assert.ok(f.latency_ms.p50 <= f.latency_ms.p95 && f.latency_ms.p95 <= f.latency_ms.p99);
    assert.ok(isNum(f.http.rows_per_sec) && f.http.rows_per_sec > 0);
    assert.ok(isNum(f.peak_rss.server_bytes) && f.peak_rss.server_bytes > 0);
    assert.ok(isNum(f.binary_size.stripped_bytes) && f.binary_size.stripped_bytes > 0);
    assert.ok(f.binary_size.sections.length > 0 && f.binary_size.top_symbols.length > 0);
  } else {
    assert.equal(f.http.measured, false);
    assert.equal(typeof f.http.skipped_reason, 'string');
  }
  assert.ok(isNum(f.allocations.per_request) && isNum(f.allocations.per_record));
  assert.ok(isNum(f.allocations.bytes_per_request) && isNum(f.allocations.peak_heap_bytes));
  assert.ok(f.allocations.configs.length === 18, 'signal x format x 3 sizes');
  assert.ok(isNum(f.peak_rss.e2e_process.peak_rss_bytes) && f.peak_rss.e2e_process.peak_rss_bytes > 0);

  assert.match(f.cpu_hotspots.tool, /perf|callgrind/);
  assert.ok(f.cpu_hotspots.samples > 0 && f.cpu_hotspots.top.length > 0);
  for (const h of f.cpu_hotspots.top) assert.ok(typeof h.symbol === 'string' && isNum(h.self_pct));
  assert.ok(fs.statSync(f.cpu_hotspots.flamegraph).size > 1000, 'flame graph written');
  assert.ok(f.allocation_hotspots.total_blocks > 0 && f.allocation_hotspots.top_sites.length > 0);

  assert.deepEqual(f.batch_size_sensitivity.map((r) => r.records_per_request), [100, 1000, 10000]);
  for (const r of f.batch_size_sensitivity) assert.ok(numOrNull(r.decode_allocations_per_record ?? null));

  for (const t of f.targets) {
    assert.equal(typeof t.id, 'string');
    assert.ok(t.met === null || typeof t.met === 'boolean');
    assert.ok(numOrNull(t.measured));
  }
  const sev = ['critical', 'high', 'medium', 'low', 'info'];
  for (const x of f.findings) {
    assert.ok(sev.includes(x.severity), x.severity);
    for (const k of ['id', 'rule', 'message', 'action']) assert.equal(typeof x[k], 'string', k);
  }
  // Every missed target is a finding with an action.
  for (const t of f.targets.filter((t) => t.met === false)) {
    assert.ok(f.findings.some((x) => x.id.startsWith(t.id.split('_')[0])), `finding for ${t.id}`);
  }
  f.next_actions.forEach((a, i) => {
    assert.equal(a.priority, i + 1);
    assert.equal(typeof a.action, 'string');
  });
});

// ------------------------------------------------------ bench_compare --

function writeResult(dir, name, samples) {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.json`), JSON.stringify({
    schema: 'o2p-bench-result/1', name, suite: 'test', status: 'ok', samples,
    env: { cpu_model: 'x', cpus_online: 2, compiler: 'c', cflags: '' },
  }));
}

test('bench_compare flags a significant regression and exits non-zero', () => {
  // Deterministic pseudo-noise around 1.00 ms and 1.10 ms.
  const noise = (i) => ((i * 7919) % 13 - 6) * 0.002;
  const base = Array.from({ length: 20 }, (_, i) => 1e-3 * (1 + noise(i)));
  const slower = Array.from({ length: 20 }, (_, i) => 1.1e-3 * (1 + noise(i + 3)));
  writeResult(path.join(work, 'b'), 'case.a', base);
  writeResult(path.join(work, 'c'), 'case.a', slower);
  writeResult(path.join(work, 'b'), 'case.same', base);
  writeResult(path.join(work, 'c'), 'case.same', base);
  const out = path.join(work, 'cmp.json');
  const p = spawnSync('python3', [path.join(root, 'scripts/bench_compare.py'), '--baseline', path.join(work, 'b'),
    '--current', path.join(work, 'c'), '--json', out], { encoding: 'utf8' });
  assert.equal(p.status, 1, p.stdout + p.stderr);
  const rows = Object.fromEntries(JSON.parse(fs.readFileSync(out, 'utf8')).results.map((r) => [r.name, r]));
  assert.equal(rows['case.a'].verdict, 'regressed');
  assert.ok(rows['case.a'].p_value < 0.001 && rows['case.a'].ratio > 1.05);
  assert.equal(rows['case.same'].verdict, 'no change');
});

// ---------------------------------------------------------- dashboard --

test('the dashboard renders its charts in headless Chromium', { skip: !chromium && 'chromium is not installed (apt-get install -y chromium)' }, () => {
  if (auditError) throw auditError;
  const results = path.join(path.dirname(findingsPath), 'results');
  const html = path.join(work, 'report/index.html');
  execFileSync('python3', [path.join(root, 'scripts/bench_report.py'), '--results', results, '--baseline', results,
    '--out', html], { encoding: 'utf8' });
  const okResults = fs.readdirSync(results).map((f) => JSON.parse(fs.readFileSync(path.join(results, f), 'utf8')))
    .filter((r) => r.status === 'ok');
  const suites = new Set(okResults.map((r) => r.suite));

  const profile = fs.mkdtempSync(path.join(work, 'chrome-'));
  const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', `--user-data-dir=${profile}`];
  const dom = execFileSync(chromium, [...flags, '--dump-dom', `file://${html}`],
    { encoding: 'utf8', timeout: 60000, stdio: ['ignore', 'pipe', 'ignore'] });
  const charts = (dom.match(/<svg class="chart/g) || []).length;
  assert.equal(charts, okResults.length + suites.size, 'one distribution per benchmark + one bar chart per suite');
  assert.ok((dom.match(/<circle/g) || []).length >= okResults.length * 3, 'sample dots drawn');

  const png = path.join(work, 'shot.png');
  execFileSync(chromium, [...flags, '--window-size=1280,2000', `--screenshot=${png}`, `file://${html}`],
    { timeout: 60000, stdio: 'ignore' });
  const pixels = decodePngData(fs.readFileSync(png));
  const distinct = new Set(pixels).size;
  assert.ok(distinct > 20, `screenshot looks blank (${distinct} distinct byte values)`);
});

// The inflated IDAT stream of a PNG: filter bytes plus raw pixels.  A blank
// page gives a handful of distinct byte values; rendered charts give many.
function decodePngData(buf) {
  assert.equal(buf.subarray(1, 4).toString(), 'PNG');
  const idat = [];
  for (let off = 8; off < buf.length;) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString();
    if (type === 'IDAT') idat.push(buf.subarray(off + 8, off + 8 + len));
    off += 12 + len;
  }
  return zlib.inflateSync(Buffer.concat(idat));
}
