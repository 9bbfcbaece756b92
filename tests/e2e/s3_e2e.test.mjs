// End-to-end tests of otlp2parquet writing to S3 (issue 5): the real binary
// (`serve` and `convert`) against s3rver behind the proxy of lib/s3.mjs,
// which recomputes every SigV4 signature independently and answers 403 on a
// mismatch, checks payload SHA-256/MD5, and injects 500s on demand.
//
//  1. serve: SDK logs/traces/metrics -> SIGTERM -> objects under the prefix
//     follow spec §4, every value reads back in DuckDB, every request was
//     correctly signed and keys went out percent-encoded ('=' as %3D, UTF-8).
//  2. outage and recovery (injected 500s, then the endpoint refusing
//     connections): requests keep getting 200, /ready turns 503,
//     otlp2parquet_storage_errors_total grows; afterwards every acknowledged
//     row is stored exactly once.  A reply lost after S3 stored the object
//     is retried in-call to the same key (no duplicate); lost for every
//     in-call attempt, the batch-level retry reuses the group's key too.
//  3. start-up with a wrong secret / a missing bucket fails with one clear
//     message (no secret in it).
//  4. convert to S3 (TOML [storage.s3] config) gives the same rows and layout
//     as a local convert of the same input.
//  5. multipart: the threshold (16 MiB) and part size (8 MiB) are not
//     configurable from config or env (runtime_open_store leaves the
//     store_s3_config defaults), so objects over 16 MiB are made: a convert
//     of a ~22 MiB input and a server batch of ~21 MiB, both uncompressed;
//     the server case also has one part fail once (retried alone).
//     tests/e2e/s3.test.mjs covers the store with small thresholds.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';

import { binaryMissing, binaryPath, cleanupTemp, convert, listFiles, readRows, rowSet, TABLE_DIRS, upstreamDir } from './lib/convert.mjs';
import { openDuckDB } from './lib/duckdb.mjs';
import { expectedRowsFromJson } from './lib/expect.mjs';
import { httpRequest, logsRequestJson, logsRequestPb } from './lib/http.mjs';
import { checkLayout } from './lib/layout.mjs';
import { expectedLogRows, expectedMetricRows, expectedSpanRows, makeSdkTelemetry, serialize } from './lib/otel_sdk.mjs';
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, startS3 } from './lib/s3.mjs';
import { parseProm, startServer, stopAllServers } from './lib/server.mjs';

const MISSING = binaryMissing();
const TABLES = Object.keys(TABLE_DIRS);
const MiB = 1 << 20;
// A prefix with '=': it must be percent-encoded (%3D) on the wire (spaces are not allowed in a prefix).
const PREFIX = 'tenant=acme/o2p-e2e/';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let db;
const temps = [];
const children = new Set();
const cleanups = [];

function tmp(tag) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), `o2p-s3e2e-${tag}-`));
  temps.push(d);
  return d;
}

test.before(async () => {
  db = await openDuckDB({ threads: '2' });
});
test.after(async () => {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
  await stopAllServers();
  while (cleanups.length) {
    try { await cleanups.pop()(); } catch { /* best effort */ }
  }
  db?.close();
  for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
  cleanupTemp();
});

async function withS3(t) {
  const s3 = await startS3();
  let stopped = false;
  const stop = async () => { if (!stopped) { stopped = true; await s3.stop(); } };
  t.after(stop);
  cleanups.push(stop);
  return s3;
}

// Environment selecting S3 (spec §6 variable names); no shared-file or
// profile credentials can interfere.
function s3Env(s3, extra = {}) {
  return {
    OTLP2PARQUET_STORAGE_BACKEND: 's3',
    OTLP2PARQUET_S3_BUCKET: s3.bucket,
    OTLP2PARQUET_S3_REGION: 'us-east-1',
    OTLP2PARQUET_S3_ENDPOINT: s3.endpoint,
    OTLP2PARQUET_S3_PREFIX: PREFIX,
    OTLP2PARQUET_S3_PATH_STYLE: 'true',
    AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
    AWS_SHARED_CREDENTIALS_FILE: path.join(os.tmpdir(), 'o2p-no-such-credentials-file'),
    HOME: os.tmpdir(),
    ...extra,
  };
}

function childEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTLP2PARQUET_') && !k.startsWith('AWS_')) env[k] = v;
  return { ...env, ...extra };
}

// Runs the binary to completion (bounded): {code, signal, stdout, stderr}.
function runBinary(args, { env = {}, timeoutMs = 60000, cwd } = {}) {
  return new Promise((resolve) => {
    const child = spawn(binaryPath(), args, { cwd: cwd ?? tmp('cwd'), env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { stderr += `\n[spawn error: ${e.message}]`; });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, stdout, stderr, describe: () => `otlp2parquet ${args.join(' ')}: exit ${code}${signal ? ` ${signal}` : ''}\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-3000)}` });
    });
  });
}

// Copies every object under PREFIX into a fresh directory (prefix removed),
// read straight from s3rver (not through the code under test).
async function download(s3, prefix = PREFIX) {
  const keys = await s3.listKeys();
  const outside = keys.filter((k) => !k.startsWith(prefix));
  assert.deepEqual(outside, [], 'objects outside the configured prefix');
  const dir = tmp('dl');
  for (const key of keys) {
    const data = await s3.getObject(key);
    assert.ok(data, `GET ${key} failed`);
    const file = path.join(dir, key.slice(prefix.length));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, data);
  }
  return { dir, keys };
}

async function allRows(dir) {
  const out = {};
  for (const t of TABLES) out[t] = await readRows(db, dir, t);
  return out;
}

// The proxy saw only correctly signed requests (it answers 400/403 itself
// otherwise, recording the error code).
function assertAllSigned(s3) {
  const bad = s3.requests.filter((q) => q.code && q.code !== 'InternalError');
  assert.deepEqual(bad, [], 'requests rejected by the signature-verifying proxy');
}

// Every object key went on the wire percent-encoded per the canonical URI
// rules: no raw '=' or space in the path, '=' as %3D, and the decoded path
// is exactly /bucket/key of a stored object.
function assertEncodedKeys(s3, keys) {
  const puts = s3.requests.filter((q) => q.method === 'PUT' || q.method === 'POST');
  assert.ok(puts.length > 0, 'no uploads seen');
  const stored = new Set(keys);
  for (const q of puts) {
    const rawPath = q.url.split('?')[0];
    assert.doesNotMatch(rawPath, /[= ]/, `unencoded character in ${q.url}`);
    assert.match(rawPath, /tenant%3Dacme\/o2p-e2e\//, `prefix not encoded in ${q.url}`);
    assert.match(rawPath, /\/year%3D\d{4}\/month%3D\d\d\/day%3D\d\d\/hour%3D\d\d\//, `partitions not encoded in ${q.url}`);
    const decoded = decodeURIComponent(rawPath);
    assert.ok(decoded.startsWith(`/${s3.bucket}/`), q.url);
    if (q.status === 200 && q.method === 'PUT' && !q.url.includes('partNumber=')) {
      assert.ok(stored.has(decoded.slice(s3.bucket.length + 2)), `PUT ${decoded} is not a stored key`);
    }
  }
}

function assertRowsEqual(label, got, want) {
  for (const t of TABLES) {
    const g = rowSet(got[t] ?? []);
    const w = rowSet(want[t] ?? []);
    assert.equal(g.length, w.length, `${label} ${t}: ${g.length} rows, expected ${w.length}`);
    assert.deepEqual(g, w, `${label} ${t}: values differ`);
  }
}

async function post(srv, signal, body, type) {
  return httpRequest(srv.port, { method: 'POST', path: `/v1/${signal}`, headers: { 'Content-Type': type }, body });
}

async function waitFor(what, fn, timeoutMs, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

// ------------------------------------------------------------------ 1 ---

test('serve -> S3: SDK logs, traces and metrics land under the prefix (spec §4) and read back exactly; all requests signed, keys encoded', { skip: MISSING ?? false }, async (t) => {
  const s3 = await withS3(t);
  const tel = await makeSdkTelemetry();
  const srv = await startServer({ outDir: null, env: s3Env(s3) });
  t.after(() => srv.stop('SIGKILL', 5000));
  assert.match(srv.stdout, /storage: s3 s3:\/\/o2p-test\/tenant=acme\/o2p-e2e\//, srv.describe());

  // A service name with a slash, a space and non-ASCII (folder 'my_svc_é').
  const extra = logsRequestJson('my svc/é', [
    { timeNs: 1718000000123456789n, body: 'unicode service', severity: 9, attrs: { k: 'v=1' } },
    { timeNs: 1718003600000001000n, body: 'next hour', attrs: {} },
  ]);
  const sends = [
    ['logs', serialize('logs', tel.logs, 'pb'), 'application/x-protobuf'],
    ['logs', serialize('logs', tel.edgeLogs, 'pb'), 'application/x-protobuf'],
    ['logs', JSON.stringify(extra), 'application/json'],
    ['traces', serialize('traces', tel.spans, 'json'), 'application/json'],
    ['traces', serialize('traces', tel.edgeSpans, 'pb'), 'application/x-protobuf'],
    ['metrics', serialize('metrics', tel.metrics, 'pb'), 'application/x-protobuf'],
  ];
  for (const [signal, body, type] of sends) {
    const r = await post(srv, signal, Buffer.from(body), type);
    assert.equal(r.status, 200, `${signal}: ${r.text}\n${srv.describe()}`);
  }
  const exit = await srv.stop();
  assert.equal(exit.code, 0, srv.describe());

  const { dir, keys } = await download(s3);
  await checkLayout(db, dir);
  assert.ok(keys.some((k) => k.startsWith(`${PREFIX}logs/my_svc_é/year=2024/month=06/day=10/hour=06/1718000000123456-`)), keys.join('\n'));
  assert.ok(keys.some((k) => k.startsWith(`${PREFIX}logs/my_svc_é/year=2024/month=06/day=10/hour=07/1718003600000001-`)), keys.join('\n'));
  for (const t2 of ['logs', 'traces', 'metrics/gauge', 'metrics/sum', 'metrics/histogram', 'metrics/exponential_histogram']) {
    assert.ok(keys.some((k) => k.startsWith(`${PREFIX}${t2}/sdk-roundtrip/year=`)), `no ${t2} object: ${keys.join('\n')}`);
  }

  const want = {
    logs: [...expectedLogRows(tel.logs), ...expectedLogRows(tel.edgeLogs), ...expectedRowsFromJson(extra).logs],
    traces: [...expectedSpanRows(tel.spans), ...expectedSpanRows(tel.edgeSpans)],
    ...expectedMetricRows(tel.metrics),
  };
  assertRowsEqual('serve->s3', await allRows(dir), want);

  assertAllSigned(s3);
  assert.deepEqual(s3.requests.filter((q) => q.status !== 200).map((q) => `${q.method} ${q.url} ${q.status}`), []);
  // Start-up bucket check: a listing under the prefix, its query encoded too.
  const check = s3.requests.filter((q) => q.method === 'GET');
  assert.equal(check.length, 1, JSON.stringify(check));
  assert.match(check[0].url, new RegExp(`^/${s3.bucket}/?\\?`));
  assert.match(check[0].url, /[?&]prefix=tenant%3Dacme%2Fo2p-e2e%2F(&|$)/);
  assertEncodedKeys(s3, keys);
  assert.ok(s3.requests.some((q) => q.url.includes('/logs/my_svc_%C3%A9/')), 'UTF-8 service folder percent-encoded');
  // Each object was uploaded once (one PUT per stored key, no multipart here).
  assert.equal(s3.requests.filter((q) => q.method === 'PUT').length, keys.length);
});

// ------------------------------------------------------------------ 2 ---

// An HTTP forwarder in front of the proxy: it can stop listening
// (connection refused) and listen again on the same port, and can lose
// replies: forward a request (S3 stores the object), then reset the
// connection instead of answering.
async function forwarder(targetPort) {
  const sockets = new Set();
  let server = null;
  let port = 0;
  let lose = 0;
  let loseWhen = () => true;
  const lost = [];
  const handler = (req, res) => {
    const headers = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers[req.rawHeaders[i]] = req.rawHeaders[i + 1];
    const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers, agent: false }, (ur) => {
      const chunks = [];
      ur.on('data', (c) => chunks.push(c));
      ur.on('end', () => {
        if (lose > 0 && ur.statusCode === 200 && loseWhen(req.method, req.url)) {
          lose--;
          lost.push(`${req.method} ${req.url}`);
          req.socket.destroy();
          return;
        }
        res.writeHead(ur.statusCode, ur.rawHeaders);
        res.end(Buffer.concat(chunks));
      });
    });
    up.on('error', () => req.socket.destroy());
    req.pipe(up);
  };
  const up = async () => {
    server = http.createServer(handler);
    server.on('connection', (c) => { sockets.add(c); c.on('close', () => sockets.delete(c)); });
    for (let i = 0; ; i++) {
      try {
        await new Promise((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
        });
        break;
      } catch (e) {
        if (i >= 20) throw e;
        await sleep(100);
      }
    }
    port = server.address().port;
  };
  const down = async () => {
    if (!server) return;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const s of sockets) s.destroy();
    sockets.clear();
    await closed;
    server = null;
  };
  await up();
  return {
    get endpoint() { return `http://127.0.0.1:${port}`; },
    up,
    down,
    lost,
    // The next n successful replies for which when(method, url) holds are lost.
    loseReplies(n, when = () => true) { lose = n; loseWhen = when; },
  };
}

async function withForwarder(s3) {
  const fwd = await forwarder(Number(new URL(s3.endpoint).port));
  cleanups.push(() => fwd.down());
  return fwd;
}

test('serve -> S3 outage (500s, then connection refused) and recovery: 200s throughout, /ready 503, errors counted, no loss, no duplicates', { skip: MISSING ?? false }, async (t) => {
  const s3 = await withS3(t);
  const fwd = await withForwarder(s3);
  t.after(() => fwd.down());
  const srv = await startServer({
    outDir: null,
    env: s3Env(s3, { OTLP2PARQUET_S3_ENDPOINT: fwd.endpoint, OTLP2PARQUET_BATCH_MAX_AGE_SECS: '1' }),
  });
  t.after(() => srv.stop('SIGKILL', 5000));

  const acked = [];
  let seq = 0;
  const sendOne = async () => {
    const recs = [];
    const now = BigInt(Date.now()) * 1000000n;
    for (let i = 0; i < 5; i++) {
      const id = `r${String(seq++).padStart(6, '0')}`;
      recs.push({ timeNs: now + BigInt(i), body: `row ${id}`, attrs: { seq: id } });
    }
    const r = await post(srv, 'logs', logsRequestPb('outage-svc', recs), 'application/x-protobuf');
    assert.equal(r.status, 200, `request during outage/recovery: ${r.status} ${r.text}\n${srv.describe()}`);
    for (const x of recs) acked.push(x.attrs.seq);
  };
  const ready = async () => (await srv.get('/ready')).status;
  const prom = async () => parseProm(await srv.metrics());

  // Healthy.
  for (let i = 0; i < 3; i++) await sendOne();
  await waitFor('the first object', async () => (await s3.listKeys()).length > 0, 10000);
  assert.equal(await ready(), 200);
  assert.equal((await prom()).value('otlp2parquet_storage_errors_total'), 0);

  // Phase 1: every S3 request answers 500.
  s3.failNext(1e9);
  await waitFor('/ready 503 during 500s', async () => { await sendOne(); return (await ready()) === 503; }, 15000, 200);
  const errors1 = (await prom()).value('otlp2parquet_storage_errors_total');
  assert.ok(errors1 > 0, 'storage errors counted');
  assert.equal((await prom()).value('otlp2parquet_storage_failing'), 1);
  for (let i = 0; i < 5; i++) { await sendOne(); await sleep(100); }
  assert.ok(s3.requests.some((q) => q.status === 500));
  s3.failNext(0);
  await waitFor('/ready 200 after the 500s', async () => { await sendOne(); return (await ready()) === 200; }, 20000, 200);

  // Phase 2: the endpoint refuses connections, then comes back on the same port.
  const before = s3.requests.length;
  await fwd.down();
  await waitFor('/ready 503 while the endpoint is down', async () => { await sendOne(); return (await ready()) === 503; }, 15000, 200);
  const errors2 = (await prom()).value('otlp2parquet_storage_errors_total');
  assert.ok(errors2 > errors1, `storage errors grow while down (${errors1} -> ${errors2})`);
  for (let i = 0; i < 5; i++) { await sendOne(); await sleep(100); }
  await fwd.up();
  await waitFor('/ready 200 after the endpoint is back', async () => { await sendOne(); return (await ready()) === 200; }, 20000, 200);
  assert.ok(s3.requests.length > before, 'requests after the restart');

  // Everything buffered is flushed without a shutdown, then SIGTERM.
  await waitFor('an empty buffer', async () => (await prom()).value('otlp2parquet_buffered_rows') === 0, 20000, 200);
  const exit = await srv.stop();
  assert.equal(exit.code, 0, srv.describe());
  assert.match(srv.stderr + srv.stdout, /flush of \d+ otel_logs rows failed/);

  const { dir } = await download(s3);
  await checkLayout(db, dir);
  const glob = path.join(dir, 'logs', '**', '*.parquet');
  const [c] = await db.query(`SELECT count(*)::INTEGER AS n, count(DISTINCT LogAttributes['seq'])::INTEGER AS d FROM read_parquet('${glob}', hive_partitioning=false)`);
  assert.equal(c.n, acked.length, `rows stored ${c.n}, acknowledged ${acked.length}`);
  assert.equal(c.d, c.n, 'duplicate rows');
  const stored = (await db.query(`SELECT LogAttributes['seq'] AS s, Body AS b FROM read_parquet('${glob}', hive_partitioning=false) ORDER BY 1`));
  assert.deepEqual(stored.map((r) => r.s), [...acked].sort());
  assert.ok(stored.every((r) => r.b === `row ${r.s}`));
  assertAllSigned(s3);
});

// Sends 10 rows while the first `lose` replies to PUTs are lost (S3 stored
// the object each time); returns the PUT URLs seen and the stored keys/rows.
async function lostReplies(t, lose) {
  const s3 = await withS3(t);
  const fwd = await withForwarder(s3);
  t.after(() => fwd.down());
  const srv = await startServer({
    outDir: null,
    env: s3Env(s3, { OTLP2PARQUET_S3_ENDPOINT: fwd.endpoint, OTLP2PARQUET_BATCH_MAX_AGE_SECS: '1' }),
  });
  t.after(() => srv.stop('SIGKILL', 5000));
  fwd.loseReplies(lose, (method) => method === 'PUT');
  const now = BigInt(Date.now()) * 1000000n;
  const recs = Array.from({ length: 10 }, (_, i) => ({ timeNs: now + BigInt(i), body: `lost-ack ${i}`, attrs: { seq: String(i) } }));
  const r = await post(srv, 'logs', logsRequestPb('lost-ack', recs), 'application/x-protobuf');
  assert.equal(r.status, 200);
  await waitFor('an empty buffer', async () => parseProm(await srv.metrics()).value('otlp2parquet_buffered_rows') === 0 && fwd.lost.length === lose, 20000, 100);
  const exit = await srv.stop();
  assert.equal(exit.code, 0, srv.describe());
  assertAllSigned(s3);
  const { dir, keys } = await download(s3);
  const [c] = await db.query(`SELECT count(*)::INTEGER AS n, count(DISTINCT LogAttributes['seq'])::INTEGER AS d FROM read_parquet('${path.join(dir, 'logs', '**', '*.parquet')}', hive_partitioning=false)`);
  return { puts: s3.requests.filter((q) => q.method === 'PUT').map((q) => q.url), keys, rows: c.n, distinct: c.d };
}

test('serve -> S3: a stored object whose reply is lost is re-sent to the same key (no duplicate rows)', { skip: MISSING ?? false }, async (t) => {
  const r = await lostReplies(t, 1);
  assert.equal(r.puts.length, 2, 'the PUT was sent again after the lost reply');
  assert.equal(r.puts[0], r.puts[1], 'the retry goes to the same key');
  assert.equal(r.keys.length, 1, r.keys.join('\n'));
  assert.deepEqual([r.rows, r.distinct], [10, 10]);
});

// When every in-call attempt's reply is lost, the batch-level retry must
// overwrite the same object (the group keeps its key), not add a second.
test('serve -> S3: replies lost for all in-call attempts still leave one object (batch retry keeps the key)', {
  skip: MISSING ?? false,
}, async (t) => {
  const r = await lostReplies(t, 4);
  assert.equal(r.keys.length, 1, `objects: ${r.keys.join(', ')}`);
  assert.deepEqual([r.rows, r.distinct], [10, 10], 'duplicate rows');
});

// ------------------------------------------------------------------ 3 ---

test('serve with a wrong secret fails start-up with one clear SignatureDoesNotMatch message without the secret', { skip: MISSING ?? false }, async (t) => {
  const s3 = await withS3(t);
  const secret = 'Wr0ng-Secret-d0-not-print';
  const r = await runBinary(['serve'], { env: s3Env(s3, { AWS_SECRET_ACCESS_KEY: secret, OTLP2PARQUET_LISTEN_ADDR: '127.0.0.1:0' }), timeoutMs: 20000 });
  assert.ok(r.code !== 0 && r.code !== null, r.describe());
  const out = r.stdout + r.stderr;
  assert.doesNotMatch(out, /listening on port/, r.describe());
  const lines = out.split('\n').filter((l) => /SignatureDoesNotMatch/.test(l));
  assert.equal(lines.length, 1, r.describe());
  assert.equal(out.split('\n').filter((l) => /\bERROR\b/.test(l)).length, 1, `one error line:\n${r.describe()}`);
  assert.match(lines[0], /secret access key/);
  // the keys came from AWS_* variables: the message must send the user there
  assert.match(lines[0], /environment/, lines[0]);
  assert.ok(!out.includes(secret), 'the secret appears in the output');
  assert.equal(s3.requests.length, 1, 'auth errors are not retried');
  assert.equal(s3.requests[0].code, 'SignatureDoesNotMatch');
});

test('serve with a missing bucket fails start-up with a clear "does not exist" message', { skip: MISSING ?? false }, async (t) => {
  const s3 = await withS3(t);
  const r = await runBinary(['serve'], { env: s3Env(s3, { OTLP2PARQUET_S3_BUCKET: 'no-such-bucket', OTLP2PARQUET_LISTEN_ADDR: '127.0.0.1:0' }), timeoutMs: 20000 });
  assert.ok(r.code !== 0 && r.code !== null, r.describe());
  const out = r.stdout + r.stderr;
  assert.doesNotMatch(out, /listening on port/);
  const lines = out.split('\n').filter((l) => /does not exist/.test(l));
  assert.equal(lines.length, 1, r.describe());
  assert.equal(out.split('\n').filter((l) => /\bERROR\b/.test(l)).length, 1, `one error line:\n${r.describe()}`);
  assert.equal(s3.requests.length, 1, 'not retried');
  assert.match(lines[0], /bucket 'no-such-bucket' does not exist/);
  assertAllSigned(s3);
});

// ------------------------------------------------------------------ 4 ---

test('convert -> S3 (TOML [storage.s3]) gives the same rows and layout as a local convert', { skip: MISSING ?? false }, async (t) => {
  const up = upstreamDir();
  const inputs = up ? ['logs.pb', 'traces.pb', 'metrics_mixed.pb'].map((f) => path.join(up, f)).filter((f) => fs.existsSync(f)) : [];
  if (!inputs.some((f) => f.endsWith('logs.pb'))) {
    t.skip('upstream-testdata/logs.pb is not present');
    return;
  }
  const s3 = await withS3(t);
  const cfgDir = tmp('cfg');
  const cfgFile = path.join(cfgDir, 'o2p.toml');
  fs.writeFileSync(cfgFile, [
    '[storage]', 'backend = "s3"', '',
    '[storage.s3]', `bucket = "${s3.bucket}"`, 'region = "us-east-1"', `endpoint = "${s3.endpoint}"`,
    `prefix = "${PREFIX.slice(0, -1)}"`, 'path_style = true',
    `access_key_id = "${ACCESS_KEY_ID}"`, `secret_access_key = "${SECRET_ACCESS_KEY}"`, '',
  ].join('\n'));
  const r = await runBinary(['convert', ...inputs, '--config', cfgFile], { env: { HOME: os.tmpdir() } });
  assert.equal(r.code, 0, r.describe());
  assert.match(r.stdout, /written to s3:\/\/o2p-test\/tenant=acme\/o2p-e2e\//, r.describe());
  const local = convert(inputs);
  assert.equal(local.status, 0, local.describe());

  const { dir, keys } = await download(s3);
  await checkLayout(db, dir);
  const shape = (rel) => rel.replace(/-[0-9a-f]{32}\.parquet$/, '');
  assert.deepEqual(keys.map((k) => shape(k.slice(PREFIX.length))).sort(), listFiles(local.dir).map(shape).sort());
  const got = await allRows(dir);
  assert.ok(got.logs.length > 0 && got.traces.length > 0);
  assertRowsEqual('convert->s3 vs local', got, await allRows(local.dir));
  assertAllSigned(s3);
  assertEncodedKeys(s3, keys);
});

// ------------------------------------------------------------------ 5 ---

function bigLogs(service, count, bodyBytes, baseNs) {
  const recs = [];
  for (let i = 0; i < count; i++) {
    recs.push({ timeNs: baseNs + BigInt(i) * 1000n, body: crypto.randomBytes(bodyBytes / 2).toString('hex'), attrs: { seq: String(i) } });
  }
  return recs;
}

async function assertBigRows(dir, recs, service) {
  const glob = path.join(dir, 'logs', '**', '*.parquet');
  const rows = await db.query(`SELECT epoch_us(Timestamp) AS t, Body AS b, LogAttributes['seq'] AS s, ServiceName AS svc FROM read_parquet('${glob}', hive_partitioning=false) ORDER BY t`);
  assert.equal(rows.length, recs.length);
  for (let i = 0; i < recs.length; i++) {
    const want = recs[i];
    const got = rows[i];
    if (got.t !== want.timeNs / 1000n || got.b !== want.body || got.s !== want.attrs.seq || got.svc !== service) {
      assert.fail(`row ${i} differs: got ${got.t} ${got.s} ${got.svc} ${String(got.b).slice(0, 40)}..., expected ${want.timeNs / 1000n} ${want.attrs.seq}`);
    }
  }
}

function assertMultipart(s3, minParts) {
  const parts = s3.requests.filter((q) => q.method === 'PUT' && q.url.includes('partNumber='));
  const okParts = new Set(parts.filter((q) => q.status === 200).map((q) => /partNumber=(\d+)/.exec(q.url)[1]));
  assert.ok(okParts.size >= minParts, `expected >= ${minParts} parts, got ${[...okParts]}`);
  assert.ok(s3.requests.some((q) => q.method === 'POST' && /[?&]uploads(=|&|$)/.test(q.url) && q.status === 200), 'CreateMultipartUpload');
  assert.ok(s3.requests.some((q) => q.method === 'POST' && q.url.includes('uploadId=') && q.status === 200), 'CompleteMultipartUpload');
  return parts;
}

test('multipart: convert of a ~22 MiB uncompressed file goes up in 8 MiB parts (default 16 MiB threshold) and reads back', { skip: MISSING ?? false }, async (t) => {
  const s3 = await withS3(t);
  const recs = bigLogs('big-convert', 2200, 10240, 1718000000000000000n);
  const inDir = tmp('big');
  const input = path.join(inDir, 'big_logs.pb');
  fs.writeFileSync(input, logsRequestPb('big-convert', recs));
  const r = await runBinary(['convert', input], { env: s3Env(s3, { OTLP2PARQUET_PARQUET_COMPRESSION: 'uncompressed' }) });
  assert.equal(r.code, 0, r.describe());
  const { dir, keys } = await download(s3);
  assert.equal(keys.length, 1, keys.join('\n'));
  assert.ok(fs.statSync(path.join(dir, listFiles(dir)[0])).size >= 16 * MiB, 'the object is over the multipart threshold');
  assertMultipart(s3, 3);
  await checkLayout(db, dir);
  await assertBigRows(dir, recs, 'big-convert');
  assertAllSigned(s3);
  assertEncodedKeys(s3, keys);
});

test('multipart: a server batch of ~21 MiB is uploaded in parts, a failing part is retried alone, and reads back', { skip: MISSING ?? false }, async (t) => {
  const s3 = await withS3(t);
  const srv = await startServer({ outDir: null, env: s3Env(s3, { OTLP2PARQUET_PARQUET_COMPRESSION: 'uncompressed' }) });
  t.after(() => srv.stop('SIGKILL', 5000));
  const all = [];
  for (let k = 0; k < 3; k++) {
    const recs = bigLogs('big-serve', 680, 10240, 1718000000000000000n + BigInt(k) * 1000000000n);
    for (const x of recs) x.attrs.seq = `${k}-${x.attrs.seq}`;
    const r = await post(srv, 'logs', logsRequestPb('big-serve', recs), 'application/x-protobuf');
    assert.equal(r.status, 200, `${r.status} ${r.text}`);
    all.push(...recs);
  }
  s3.failNext(1, (method, url) => method === 'PUT' && url.includes('partNumber=2'));
  const exit = await srv.stop();
  assert.equal(exit.code, 0, srv.describe());
  const { dir, keys } = await download(s3);
  assert.equal(keys.length, 1, keys.join('\n'));
  const parts = assertMultipart(s3, 3);
  assert.deepEqual(parts.filter((q) => q.url.includes('partNumber=2')).map((q) => q.status), [500, 200]);
  assert.equal(parts.filter((q) => q.url.includes('partNumber=1')).length, 1, 'part 1 not re-sent');
  await checkLayout(db, dir);
  all.sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
  await assertBigRows(dir, all, 'big-serve');
  assertAllSigned(s3);
  assertEncodedKeys(s3, keys);
});
