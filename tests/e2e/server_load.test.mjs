// The server under load and under stress, from the outside:
//   - many concurrent clients (protobuf and JSON, keep-alive and not), each
//     record with a unique id: after SIGTERM exactly every record is stored
//     once, with its values; sustained rows/s is printed (not asserted);
//   - SIGTERM in the middle of a sender loop: every record of every request
//     answered 200 is in Parquet after exit 0, nothing answered with an
//     error status is, and nothing is stored twice;
//   - a tiny memory budget: 429 + Retry-After, never 500, no crash, and all
//     acknowledged rows written at shutdown;
//   - storage failure: the output directory is a tmpfs remounted read-only
//     and back: requests still get 200, /ready turns 503 and
//     otlp2parquet_storage_errors_total grows; after remounting read-write
//     the files appear, /ready is 200 again, nothing lost or duplicated.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { openDuckDB, sqlString } from './lib/duckdb.mjs';
import { listParquet } from './lib/convert.mjs';
import { httpRequest, keepAliveAgent, logsRequestJson, logsRequestPb } from './lib/http.mjs';
import { parseProm, serverMissing, serverTempDir, sh, startServer, stopAllServers, waitFor } from './lib/server.mjs';

const MISSING = serverMissing();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const NOW_NS = BigInt(Date.now() - 60000) * 1000000n; // a minute ago: one or two hour partitions

let db;
test.before(async () => {
  db = await openDuckDB({ threads: '2' });
});
test.after(async () => {
  db?.close();
  await stopAllServers();
});

/**
 * Records of one request: ids `${tag}-${client}-${req}-${i}`, body and
 * severity derived from them so values can be checked in SQL.
 */
function records(tag, client, req, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const uid = `${tag}-${client}-${req}-${i}`;
    out.push({ uid, timeNs: NOW_NS + BigInt(req * 1000 + i), body: `body of ${uid}`, severity: 1 + (i % 24), attrs: { uid, client: String(client), req: String(req) } });
  }
  return out;
}
function encode(format, service, recs) {
  return format === 'pb'
    ? { ct: 'application/x-protobuf', bytes: logsRequestPb(service, recs) }
    : { ct: 'application/json', bytes: Buffer.from(JSON.stringify(logsRequestJson(service, recs))) };
}

const logsGlob = (dir) => sqlString(path.join(dir, 'logs', '**', '*.parquet'));

/** uid -> number of stored rows, for the rows of one service. */
async function storedUids(dir, service) {
  if (!listParquet(dir, 'logs').length) return new Map();
  const rows = await db.query(`SELECT LogAttributes['uid'] AS uid, count(*)::INTEGER AS n FROM read_parquet(${logsGlob(dir)}) WHERE ServiceName = ${sqlString(service)} GROUP BY 1`);
  return new Map(rows.map((r) => [r.uid, r.n]));
}

/**
 * Rows whose values do not follow from their uid (body, severity,
 * attributes, timestamp): the SQL names them; [] when all agree.
 */
async function inconsistentRows(dir, service) {
  return db.query(`
    SELECT LogAttributes['uid'] AS uid, Body, SeverityNumber, LogAttributes['client'] AS client, LogAttributes['req'] AS req, epoch_ns(Timestamp) AS ts
    FROM read_parquet(${logsGlob(dir)})
    WHERE ServiceName = ${sqlString(service)} AND (
      Body <> 'body of ' || LogAttributes['uid']
      OR SeverityNumber <> 1 + (CAST(split_part(LogAttributes['uid'], '-', 4) AS INTEGER) % 24)
      OR LogAttributes['client'] <> split_part(LogAttributes['uid'], '-', 2)
      OR LogAttributes['req'] <> split_part(LogAttributes['uid'], '-', 3)
      OR epoch_us(Timestamp) <> (${NOW_NS / 1000n} + (CAST(split_part(LogAttributes['uid'], '-', 3) AS BIGINT) * 1000 + CAST(split_part(LogAttributes['uid'], '-', 4) AS BIGINT)) // 1000)
      OR cardinality(LogAttributes) <> 3 OR ScopeName <> 'e2e')
    LIMIT 5`);
}

function statusSummary(statuses) {
  const c = {};
  for (const s of statuses) c[s] = (c[s] ?? 0) + 1;
  return c;
}

// ---------------------------------------------------------- concurrency ---

test('16 concurrent clients × 50 requests × 100 records: every record stored once with its values', { skip: MISSING ?? false }, async (t) => {
  const CLIENTS = 16;
  const REQS = 50;
  const PER = 100;
  const service = 'load-concurrency';
  // Small row groups per file and a short age so flushes run while requests arrive.
  const srv = await startServer({ env: { OTLP2PARQUET_BATCH_MAX_ROWS: '20000', OTLP2PARQUET_BATCH_MAX_AGE_SECS: '1' } });
  try {
    // Bodies are built before the clock starts: the rate measures the server.
    const plan = [];
    for (let c = 0; c < CLIENTS; c++) {
      const format = c % 2 === 0 ? 'pb' : 'json';
      plan.push({ format, agent: c % 4 < 2 ? keepAliveAgent(1) : undefined, reqs: Array.from({ length: REQS }, (_, r) => encode(format, service, records('cc', c, r, PER))) });
    }
    const statuses = [];
    const bytesSent = plan.reduce((n, p) => n + p.reqs.reduce((m, r) => m + r.bytes.length, 0), 0);
    const t0 = process.hrtime.bigint();
    await Promise.all(plan.map(async (p) => {
      for (const { ct, bytes } of p.reqs) {
        const r = await httpRequest(srv.port, { method: 'POST', path: '/v1/logs', headers: { 'Content-Type': ct }, body: bytes, agent: p.agent });
        statuses.push(r.status);
        if (r.status !== 200) throw new Error(`client got ${r.status}: ${r.text}`);
      }
    }));
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    for (const p of plan) p.agent?.destroy();
    const total = CLIENTS * REQS * PER;
    const msg = `concurrency: ${total} records in ${CLIENTS * REQS} requests (${(bytesSent / 1e6).toFixed(1)} MB, half protobuf, half JSON) in ${secs.toFixed(2)} s = ${Math.round(total / secs)} rows/s, ${Math.round(CLIENTS * REQS / secs)} requests/s`;
    t.diagnostic(msg);
    console.log(`# ${msg}`);
    assert.deepEqual(statusSummary(statuses), { 200: CLIENTS * REQS });

    const prom = parseProm(await srv.metrics());
    assert.equal(prom.value('otlp2parquet_rows_received_total', { table: 'otel_logs' }), total, 'rows received');
    const stopped = await srv.stop();
    assert.deepEqual(stopped, { code: 0, signal: null }, srv.describe());

    const [{ n, d }] = await db.query(`SELECT count(*)::INTEGER AS n, count(DISTINCT LogAttributes['uid'])::INTEGER AS d FROM read_parquet(${logsGlob(srv.outDir)})`);
    assert.equal(n, total, 'row count');
    assert.equal(d, total, 'distinct uids (no duplicates, none missing)');
    assert.deepEqual(await inconsistentRows(srv.outDir, service), [], 'every row carries the values of its uid');
    // Every expected uid (not just the right number of distinct ones).
    const stored = await storedUids(srv.outDir, service);
    const missing = [];
    for (let c = 0; c < CLIENTS; c++) for (let r = 0; r < REQS; r++) for (let i = 0; i < PER; i++) if (!stored.has(`cc-${c}-${r}-${i}`)) missing.push(`cc-${c}-${r}-${i}`);
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} uids missing`);
    const files = listParquet(srv.outDir, 'logs');
    t.diagnostic(`${files.length} log files`);
    assert.ok(files.length >= Math.ceil(total / 20000), `batch.max_rows 20000 → at least ${Math.ceil(total / 20000)} files, got ${files.length}`);
  } finally {
    await srv.stop('SIGKILL', 5000);
  }
});

// ----------------------------------------------------- SIGTERM under load ---

test('SIGTERM under load: every record of every 200 is stored, exit 0, no duplicates', { skip: MISSING ?? false }, async (t) => {
  const service = 'load-sigterm';
  const SENDERS = 8;
  const PER = 50;
  const srv = await startServer({ env: { OTLP2PARQUET_BATCH_MAX_AGE_SECS: '2' } });
  const acked = new Set(); // uids from 200 responses
  const refused = new Set(); // uids from requests answered with an error status
  const outcomes = [];
  let stopAt = 0;
  try {
    const senders = Array.from({ length: SENDERS }, async (_, c) => {
      const agent = c % 2 === 0 ? keepAliveAgent(1) : undefined;
      const format = c % 3 === 0 ? 'json' : 'pb';
      let failures = 0;
      const deadline = Date.now() + 30000;
      for (let r = 0; failures < 3 && Date.now() < deadline; r++) {
        const recs = records('st', c, r, PER);
        const { ct, bytes } = encode(format, service, recs);
        try {
          const res = await httpRequest(srv.port, { method: 'POST', path: '/v1/logs', headers: { 'Content-Type': ct }, body: bytes, agent, timeoutMs: 20000 });
          outcomes.push({ status: res.status, retryAfter: res.headers['retry-after'], afterStop: stopAt > 0 });
          if (res.status === 200) for (const x of recs) acked.add(x.uid);
          else {
            for (const x of recs) refused.add(x.uid);
            if (res.status >= 500 && res.status !== 503) outcomes.at(-1).body = res.text;
          }
        } catch (e) {
          outcomes.push({ status: `error ${e.code ?? e.message}`, afterStop: stopAt > 0, uid: recs[0].uid, keepAlive: Boolean(agent) });
          if (stopAt) failures++;
          else await sleep(5);
        }
      }
      agent?.destroy();
    });
    // Let traffic build up, then stop the server in mid-stream.
    const t0 = Date.now();
    while (acked.size < 20000 && Date.now() - t0 < 5000) await sleep(20);
    stopAt = Date.now();
    const ackedAtStop = acked.size;
    const stopped = await srv.stop('SIGTERM', 60000);
    await Promise.all(senders);
    const summary = statusSummary(outcomes.map((o) => o.status));
    t.diagnostic(`SIGTERM after ${ackedAtStop} acknowledged records; outcomes ${JSON.stringify(summary)}; ${acked.size} records acknowledged in total`);
    assert.deepEqual(stopped, { code: 0, signal: null }, srv.describe());
    assert.ok(ackedAtStop > 0, 'traffic was flowing when SIGTERM was sent');
    // Never 500 (clients do not retry it); 429/503 carry Retry-After.
    for (const o of outcomes) {
      if (typeof o.status !== 'number' || o.status === 200) continue;
      assert.ok(o.status === 503 || o.status === 429, `unexpected status ${o.status} ${o.body ?? ''}`);
      assert.match(String(o.retryAfter), /^\d+$/, `${o.status} without Retry-After`);
    }

    const stored = await storedUids(srv.outDir, service);
    const lost = [...acked].filter((u) => !stored.has(u));
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} of ${acked.size} acknowledged records are not in Parquet`);
    const dups = [...stored].filter(([, n]) => n > 1);
    assert.deepEqual(dups.slice(0, 10), [], 'records stored more than once');
    const leaked = [...refused].filter((u) => stored.has(u));
    assert.deepEqual(leaked.slice(0, 10), [], 'records of requests answered with an error status are stored');
    assert.deepEqual(await inconsistentRows(srv.outDir, service), []);
    // Requests ingested although their response never arrived: allowed
    // (at-least-once), but a retrying client would store them twice.
    const lostResponses = outcomes.filter((o) => o.uid && stored.has(o.uid));
    t.diagnostic(`${stored.size - acked.size} stored records came from ${lostResponses.length} requests whose response was lost in the shutdown (allowed): ${JSON.stringify(lostResponses.map((o) => `${o.status}${o.keepAlive ? ' keep-alive' : ' new connection'}`))}`);
  } finally {
    await srv.stop('SIGKILL', 5000);
  }
});

// ------------------------------------------------------- memory budget ---

let budgetSeen = null; // what /metrics said while the budget test's buffer was full

test('tiny memory budget: 429 with Retry-After, never 500, acknowledged rows written at shutdown', { skip: MISSING ?? false }, async (t) => {
  const service = 'load-budget';
  const BUDGET = 256 * 1024;
  const srv = await startServer({ env: { OTLP2PARQUET_BATCH_MAX_BUFFERED_BYTES: String(BUDGET), OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' } });
  try {
    const acked = new Set();
    const refused = new Set();
    const outcomes = [];
    await Promise.all(Array.from({ length: 4 }, async (_, c) => {
      const agent = keepAliveAgent(1);
      for (let r = 0; r < 40; r++) {
        const recs = records('mb', c, r, 100);
        const { ct, bytes } = encode(c % 2 ? 'json' : 'pb', service, recs);
        const res = await httpRequest(srv.port, { method: 'POST', path: '/v1/logs', headers: { 'Content-Type': ct }, body: bytes, agent });
        outcomes.push({ status: res.status, retryAfter: res.headers['retry-after'], text: res.text, ct: res.headers['content-type'] });
        for (const x of recs) (res.status === 200 ? acked : refused).add(x.uid);
      }
      agent.destroy();
    }));
    const summary = statusSummary(outcomes.map((o) => o.status));
    const first429 = outcomes.findIndex((o) => o.status === 429);
    const laterOk = outcomes.slice(first429).filter((o) => o.status === 200).length;
    t.diagnostic(`budget ${BUDGET} bytes: ${JSON.stringify(summary)}; ${laterOk} requests got 200 after the first 429 (the largest group is flushed early under pressure)`);
    assert.ok(summary[200] > 0, `some requests fit in the budget: ${JSON.stringify(summary)}`);
    assert.ok(summary[429] > 0, `requests past the budget get 429: ${JSON.stringify(summary)}`);
    for (const o of outcomes) {
      if (o.status === 200) continue;
      assert.equal(o.status, 429, `only 429 past the budget, got ${o.status}: ${o.text}`);
      assert.match(String(o.retryAfter), /^[1-9]\d*$/, 'Retry-After in seconds');
      const body = o.ct.startsWith('application/json') ? JSON.parse(o.text) : null;
      if (body) {
        assert.equal(body.code, 8, 'RESOURCE_EXHAUSTED');
        assert.match(body.message, /buffer|budget|memory/i);
      }
    }
    // A 429 seals the largest group for an early flush; until a flush
    // succeeds the server reports not ready, afterwards it is ready again.
    const ready = await srv.get('/ready');
    const prom = parseProm(await srv.metrics());
    const flushed = prom.value('otlp2parquet_files_written_total', { table: 'otel_logs' });
    if (flushed > 0) {
      assert.ok(ready.status === 200 || ready.status === 503, `/ready after a pressure flush: ${ready.status}`);
    } else {
      assert.equal(ready.status, 503, `/ready while the buffer is saturated: ${ready.status} ${ready.body}`);
    }
    assert.equal(prom.value('otlp2parquet_rejected_busy_total'), summary[429], 'rejected_busy counter');
    budgetSeen = { budget: BUDGET, buffered: prom.value('otlp2parquet_buffered_bytes'), rows: prom.value('otlp2parquet_buffered_rows') };
    assert.equal(prom.value('otlp2parquet_http_requests_total', { status: '500' }), 0, 'no 500s');
    // Still healthy (liveness), not crashed.
    assert.equal((await srv.get('/health')).status, 200);

    const stopped = await srv.stop();
    assert.deepEqual(stopped, { code: 0, signal: null }, srv.describe());
    const stored = await storedUids(srv.outDir, service);
    const lost = [...acked].filter((u) => !stored.has(u));
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} of ${acked.size} acknowledged records missing`);
    assert.equal(stored.size, acked.size, 'exactly the acknowledged records');
    assert.ok([...stored.values()].every((n) => n === 1), 'no duplicates');
    assert.ok([...refused].every((u) => !stored.has(u)), 'nothing from a 429 is stored');
    assert.deepEqual(await inconsistentRows(srv.outDir, service), []);
  } finally {
    await srv.stop('SIGKILL', 5000);
  }
});

test('the memory budget bounds the buffered bytes it accounts (otlp2parquet_buffered_bytes <= batch.max_buffered_bytes)', { skip: MISSING ?? false }, () => {
  assert.ok(budgetSeen, 'the budget test ran');
  assert.ok(budgetSeen.buffered <= budgetSeen.budget, `otlp2parquet_buffered_bytes ${budgetSeen.buffered} (${budgetSeen.rows} rows) exceeds the budget ${budgetSeen.budget} by ${budgetSeen.buffered - budgetSeen.budget} bytes while requests were answered 429`);
});

// ---------------------------------------------------- storage failure ---

/** Remounts (ro or rw), retrying while the kernel says the mount is busy. */
async function remount(dir, mode) {
  let last;
  for (let i = 0; i < 50; i++) {
    last = sh('mount', ['-o', `remount,${mode}`, dir]);
    if (last.ok) return;
    await sleep(100);
  }
  throw new Error(`mount -o remount,${mode} ${dir}: ${last.out}`);
}

test('storage failure: read-only output dir → still 200, /ready 503, storage errors counted; read-write again → files, no loss, no duplicates', { skip: MISSING ?? false }, async (t) => {
  const mnt = path.join(serverTempDir('tmpfs'), 'mnt');
  fs.mkdirSync(mnt);
  const m = sh('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mnt]);
  if (!m.ok) {
    t.skip(`cannot mount a tmpfs (${m.out}); needs root or CAP_SYS_ADMIN`);
    return;
  }
  const service = 'load-storage';
  let srv;
  try {
    const out = path.join(mnt, 'out');
    fs.mkdirSync(out);
    // The write-ahead log lives on another disk: only storage fails here.
    const walDir = path.join(serverTempDir('wal'), 'wal');
    srv = await startServer({ outDir: out, env: { OTLP2PARQUET_BATCH_MAX_AGE_SECS: '1', OTLP2PARQUET_WAL_DIR: walDir } });
    const send = async (tag, req) => {
      const recs = records(tag, 0, req, 100);
      const { ct, bytes } = encode(req % 2 ? 'json' : 'pb', service, recs);
      const r = await httpRequest(srv.port, { method: 'POST', path: '/v1/logs', headers: { 'Content-Type': ct }, body: bytes });
      assert.equal(r.status, 200, `${tag} request ${req}: ${r.status} ${r.text}`);
      return recs.map((x) => x.uid);
    };
    const acked = [];
    // Writable: the first rows reach a file.
    for (let r = 0; r < 3; r++) acked.push(...await send('rw1', r));
    await waitFor('the first file', () => listParquet(out, 'logs').length > 0, 15000, srv);
    assert.equal((await srv.get('/ready')).status, 200);
    const filesBefore = listParquet(out, 'logs').length;

    await remount(mnt, 'ro');
    const errorsBefore = parseProm(await srv.metrics()).value('otlp2parquet_storage_errors_total');
    for (let r = 0; r < 5; r++) acked.push(...await send('ro', r));
    // The age flush (1 s) fails: readiness drops and errors are counted.
    const ready = await waitFor('/ready 503', async () => { const x = await srv.get('/ready'); return x.status === 503 ? x : null; }, 15000, srv);
    const readyBody = JSON.parse(ready.body);
    assert.equal(readyBody.status, 'not ready');
    assert.match(readyBody.reason, /storage is failing/);
    const prom = parseProm(await srv.metrics());
    assert.ok(prom.value('otlp2parquet_storage_errors_total') > errorsBefore, 'storage errors counted');
    assert.equal(prom.value('otlp2parquet_storage_failing'), 1);
    // Still accepting (the buffer is far from full), still alive.
    for (let r = 5; r < 8; r++) acked.push(...await send('ro', r));
    assert.equal((await srv.get('/health')).status, 200);
    await sleep(1500); // a few retries fail
    const errorsDuring = parseProm(await srv.metrics()).value('otlp2parquet_storage_errors_total');
    assert.ok(errorsDuring >= 2, `retried with backoff (${errorsDuring} errors)`);
    assert.equal(listParquet(out, 'logs').length, filesBefore, 'no new file while read-only');
    t.diagnostic(`${errorsDuring} storage errors while read-only`);

    await remount(mnt, 'rw');
    // Backoff is capped at 30 s (jittered); the failures so far keep it to a few seconds.
    await waitFor('/ready 200 after remounting read-write', async () => (await srv.get('/ready')).status === 200, 40000, srv);
    await waitFor('all rows written', async () => parseProm(await srv.metrics()).value('otlp2parquet_buffered_rows') === 0, 40000, srv);
    const storedBeforeStop = await storedUids(out, service);
    assert.equal(storedBeforeStop.size, acked.length, 'every acknowledged record stored before shutdown');
    for (let r = 0; r < 2; r++) acked.push(...await send('rw2', r));

    const stopped = await srv.stop();
    assert.deepEqual(stopped, { code: 0, signal: null }, srv.describe());
    const stored = await storedUids(out, service);
    const lost = acked.filter((u) => !stored.has(u));
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} acknowledged records lost`);
    assert.equal(stored.size, acked.length, 'nothing extra');
    assert.ok([...stored.values()].every((n) => n === 1), 'no duplicates');
    assert.deepEqual(await inconsistentRows(out, service), []);
    // No temporary or partial files left behind.
    const leftovers = [];
    const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (!p.endsWith('.parquet')) leftovers.push(p); } };
    walk(out);
    assert.deepEqual(leftovers, [], 'temporary files left');
  } finally {
    if (srv) await srv.stop('SIGKILL', 5000);
    let u = sh('umount', [mnt]);
    if (!u.ok) u = sh('umount', ['-l', mnt]);
    if (!u.ok) t.diagnostic(`umount ${mnt} failed: ${u.out}`);
  }
});
