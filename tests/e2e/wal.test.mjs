// The write-ahead log (durability = "wal", the default), from the outside:
//   - kill -9 at random moments under load from several concurrent senders
//     (also with durability.spare_segment on and 1 MiB segments, so that
//     rolls rename the zero-filled spare into place between the kills, and
//     with 1 MiB segments alone, so that rolls reuse released segments
//     whose older records are still in the file)
//     (1,000-record protobuf requests, three services, files stored during
//     each round), several rounds on the same data directory, then a restart
//     and SIGTERM: every row of every request answered 200 is in the Parquet
//     files exactly once, nothing answered with an error is, and a request
//     cut off by the kill is there whole or not at all;
//   - a torn last record and a corrupt record in the middle of a segment:
//     the server starts, names the segment and offset, skips them and
//     replays the rest;
//   - the WAL disk full (a 1 MiB tmpfs): 503 + Retry-After, /ready says
//     why, nothing refused is stored, everything acknowledged is; past
//     durability.max_bytes: 429 + Retry-After;
//   - S3 down during replay: /ready stays 503 ("replay"), replay waits and
//     finishes when S3 is back, no row lost or duplicated;
//   - one WAL per server (a second one on the same directory exits 2), and
//     durability = "memory" keeps no log.
// Timings vary from run to run; what is asserted holds for any timing.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

import { openDuckDB, sqlString } from './lib/duckdb.mjs';
import { listParquet } from './lib/convert.mjs';
import { logsRequestPb } from './lib/http.mjs';
import { parseProm, serverMissing, serverTempDir, sh, startServer, stopAllServers, waitFor } from './lib/server.mjs';
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, startS3 } from './lib/s3.mjs';

const MISSING = serverMissing();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const RECORDS = 1000;

let db;
test.before(async () => {
  db = await openDuckDB({ threads: '2' });
});
test.after(async () => {
  db?.close();
  await stopAllServers();
});

/** One request of RECORDS log records; bodies are `${rid}:${i}`. */
function requestBody(rid, service) {
  const t0 = BigInt(Date.now()) * 1000000n;
  const recs = [];
  for (let i = 0; i < RECORDS; i++) recs.push({ timeNs: t0 + BigInt(i), body: `${rid}:${i}`, severity: 9, attrs: { rid } });
  return logsRequestPb(service, recs);
}

/** POST /v1/logs; resolves {status, headers, text} or {status: 0, error} when the connection died. */
function post(port, body, agent) {
  return new Promise((resolve) => {
    const req = http.request({
      host: '127.0.0.1', port, method: 'POST', path: '/v1/logs', agent,
      headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      res.on('error', (e) => resolve({ status: 0, error: e }));
    });
    req.on('error', (e) => resolve({ status: 0, error: e }));
    req.end(body);
  });
}

/** Request ledger: what each request id was answered. */
class Ledger {
  constructor() { this.acked = new Set(); this.refused = new Set(); this.unknown = new Set(); }
  note(rid, r) {
    if (r.status === 200) this.acked.add(rid);
    else if (r.status === 0) this.unknown.add(rid); // cut off: may or may not be durable
    else this.refused.add(rid);
  }
}

const ready = (srv) => waitFor('/ready 200', async () => (await srv.get('/ready')).status === 200, 60000, srv);

/** rid -> {n, distinct} over every stored logs row under dir. */
async function storedRequests(dir) {
  if (!listParquet(dir, 'logs').length) return new Map();
  const glob = sqlString(path.join(dir, 'logs', '**', '*.parquet'));
  const rows = await db.query(`SELECT split_part(Body, ':', 1) AS rid, count(*)::INTEGER AS n, count(DISTINCT Body)::INTEGER AS d FROM read_parquet(${glob}) GROUP BY 1`);
  return new Map(rows.map((r) => [r.rid, { n: r.n, d: r.d }]));
}

/** The exactly-once check: acked whole once, refused absent, cut-off whole or absent. */
function checkExactlyOnce(stored, ledger, where) {
  const problems = [];
  for (const rid of ledger.acked) {
    const s = stored.get(rid);
    if (!s) problems.push(`${rid}: answered 200, not stored`);
    else if (s.n !== RECORDS || s.d !== RECORDS) problems.push(`${rid}: answered 200, stored ${s.n} rows (${s.d} distinct), want ${RECORDS} once`);
  }
  for (const [rid, s] of stored) {
    if (ledger.refused.has(rid)) problems.push(`${rid}: refused, yet ${s.n} rows stored`);
    else if (!ledger.acked.has(rid) && !ledger.unknown.has(rid)) problems.push(`${rid}: never sent, yet stored`);
    else if (ledger.unknown.has(rid) && (s.n !== RECORDS || s.d !== RECORDS)) problems.push(`${rid}: cut off by the kill, stored ${s.n} rows (${s.d} distinct): want all once or none`);
  }
  assert.deepEqual(problems.slice(0, 20), [], `${where}: ${problems.length} problem(s)`);
}

/** Sends up to 40 requests `${tag}0`, `${tag}1`, ... until one is not answered 200; that answer, or null. */
async function sendUntilRefused(srv, tag, service, ledger) {
  for (let q = 0; q < 40; q++) {
    const rid = `${tag}${q}`;
    const r = await post(srv.port, requestBody(rid, service));
    ledger.note(rid, r);
    if (r.status !== 200) return r;
  }
  return null;
}

/**
 * ROUNDS rounds of: start, 4 concurrent senders, kill -9 at a random moment
 * after a file was stored (and, with beforeKill, once it resolves); then a
 * last start, SIGTERM, and the exactly-once check.
 */
async function killRounds(t, extraEnv, ROUNDS, beforeKill) {
  const out = serverTempDir('out');
  const env = { OTLP2PARQUET_BATCH_MAX_AGE_SECS: '1', OTLP2PARQUET_BATCH_MAX_ROWS: '5000', ...extraEnv };
  const ledger = new Ledger();
  const SENDERS = 4;
  let skipped = 0;
  let replayed = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const srv = await startServer({ outDir: out, env });
    if (round > 0) {
      await ready(srv);
      const prom = parseProm(await srv.metrics());
      skipped += prom.value('otlp2parquet_wal_replay_skipped_partitions_total');
      replayed += prom.value('otlp2parquet_wal_replayed_rows_total');
    }
    const filesAtStart = listParquet(out, 'logs').length;
    let stop = false;
    const senders = [];
    for (let c = 0; c < SENDERS; c++) {
      senders.push((async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        for (let q = 0; !stop; q++) {
          const rid = `k${round}c${c}q${q}`;
          const r = await post(srv.port, requestBody(rid, `wal-svc-${c % 3}`), agent);
          ledger.note(rid, r);
          if (r.status === 0) break; // the server is gone
          if (r.status !== 200) await sleep(20);
        }
        agent.destroy();
      })());
    }
    // Kill once files have been stored in this round (so replay meets rows
    // that are already in a file), at a random moment after that.
    await waitFor('a stored file', () => listParquet(out, 'logs').length > filesAtStart, 30000, srv);
    if (beforeKill) await beforeKill(srv);
    await sleep(Math.floor(Math.random() * 400));
    const r = await srv.stop('SIGKILL');
    assert.equal(r.signal, 'SIGKILL');
    stop = true;
    await Promise.all(senders);
  }
  assert.ok(ledger.acked.size >= ROUNDS * SENDERS, `acked ${ledger.acked.size} requests`);
  // The last start: replay, then a clean stop.
  const srv = await startServer({ outDir: out, env });
  await ready(srv);
  const prom = parseProm(await srv.metrics());
  skipped += prom.value('otlp2parquet_wal_replay_skipped_partitions_total');
  replayed += prom.value('otlp2parquet_wal_replayed_rows_total');
  const last = await srv.stop('SIGTERM');
  assert.equal(last.code, 0, srv.describe());
  // Every kill left rows in the log that were stored already: replay had to skip them.
  assert.ok(skipped > 0, `replay skipped ${skipped} partitions already stored`);
  assert.ok(replayed > 0, `replay submitted ${replayed} rows again`);
  t.diagnostic(`${ledger.acked.size} requests acknowledged, ${ledger.unknown.size} cut off, ${ledger.refused.size} refused; replay skipped ${skipped} stored partitions, submitted ${replayed} rows again`);
  checkExactlyOnce(await storedRequests(out), ledger, `after ${ROUNDS} kills`);
  // Everything is stored: the log is empty again (no segment, no spare, no
  // recycled segment).
  const left = fs.readdirSync(path.join(out, '.wal')).filter((f) => f.endsWith('.log') || f.endsWith('.tmp'));
  assert.deepEqual(left, [], 'segments left after a clean stop');
}

test('kill -9 at random moments under concurrent load, several rounds: every acknowledged row stored exactly once, nothing else', { skip: MISSING ?? false, timeout: 180000 }, async (t) => {
  await killRounds(t, {}, 5);
});

test('kill -9 with the spare segment on and small segments (rolls take the zero-filled spare): every acknowledged row once', { skip: MISSING ?? false, timeout: 180000 }, async (t) => {
  let spareRolls = 0;
  const env = { OTLP2PARQUET_WAL_SPARE_SEGMENT: 'true', OTLP2PARQUET_WAL_SEGMENT_BYTES: '1MiB' };
  await killRounds(t, env, 3, async (srv) => {
    // each round kills after a roll that renamed the spare into place
    let n = 0;
    await waitFor('a roll from the spare', async () => {
      const prom = parseProm(await srv.metrics());
      n = prom.value('otlp2parquet_wal_rolls_total', { from: 'spare' }) + prom.value('otlp2parquet_wal_rolls_total', { from: 'partial_spare' });
      return n > 0;
    }, 30000, srv);
    spareRolls += n;
  });
  t.diagnostic(`${spareRolls} rolls took the spare before the kills`);
});

/** Offsets of the records of a segment: [{pos, len, type}]. */
function segmentRecords(buf) {
  assert.equal(buf.subarray(0, 8).toString('latin1'), 'O2PWALSG');
  const recs = [];
  let pos = 32;
  while (pos + 24 <= buf.length && buf.readUInt32LE(pos) === 0x4F32574C) {
    const len = buf.readUInt32LE(pos + 4);
    recs.push({ pos, len, type: buf[pos + 16] });
    pos += Math.ceil((24 + len) / 8) * 8;
  }
  return recs;
}

test('kill -9 with small segments (rolls reuse released segments, older records still in them): every acknowledged row once', { skip: MISSING ?? false, timeout: 180000 }, async (t) => {
  let recycled = 0;
  const env = { OTLP2PARQUET_WAL_SEGMENT_BYTES: '1MiB' };
  await killRounds(t, env, 3, async (srv) => {
    // each round kills after a roll that reused a released segment
    let n = 0;
    await waitFor('a roll into a recycled segment', async () => {
      n = parseProm(await srv.metrics()).value('otlp2parquet_wal_rolls_total', { from: 'recycled' });
      return n > 0;
    }, 30000, srv);
    recycled += n;
  });
  t.diagnostic(`${recycled} rolls reused a released segment before the kills`);
});

test('a torn last record and a corrupt record in the middle: named by segment and offset, skipped, the rest replayed', { skip: MISSING ?? false, timeout: 60000 }, async () => {
  const out = serverTempDir('out');
  const env = { OTLP2PARQUET_BATCH_MAX_AGE_SECS: '600' }; // nothing is flushed before the kill
  let srv = await startServer({ outDir: out, env });
  const ledger = new Ledger();
  for (let q = 0; q < 6; q++) {
    const rid = `t${q}`;
    const r = await post(srv.port, requestBody(rid, 'wal-torn'));
    assert.equal(r.status, 200, r.text);
    ledger.note(rid, r);
  }
  await srv.stop('SIGKILL');
  const walDir = path.join(out, '.wal');
  const [seg] = fs.readdirSync(walDir).filter((f) => f.endsWith('.log'));
  const file = path.join(walDir, seg);
  const buf = fs.readFileSync(file);
  const recs = segmentRecords(buf).filter((x) => x.type === 1);
  assert.equal(recs.length, 6);
  // A bit flip inside request t1's body, and t5's record cut in the middle
  // (the rest of a preallocated segment is zeros, as after a torn write).
  buf[recs[1].pos + 24 + Math.floor(recs[1].len / 2)] ^= 0x40;
  buf.fill(0, recs[5].pos + 24 + Math.floor(recs[5].len / 2));
  fs.writeFileSync(file, buf);

  srv = await startServer({ outDir: out, env });
  await ready(srv);
  const prom = parseProm(await srv.metrics());
  assert.equal(prom.value('otlp2parquet_wal_corrupt_records_total'), 1);
  assert.equal(prom.value('otlp2parquet_wal_torn_tails_total'), 1);
  assert.equal(prom.value('otlp2parquet_wal_replayed_rows_total'), 4 * RECORDS);
  assert.match(srv.stderr, new RegExp(`${seg}: 1 corrupt record\\(s\\) skipped, the first at offset ${recs[1].pos}`));
  assert.match(srv.stderr, new RegExp(`${seg}: torn last record at offset ${recs[5].pos} cut off`));
  const r = await srv.stop('SIGTERM');
  assert.equal(r.code, 0, srv.describe());
  const stored = await storedRequests(out);
  assert.deepEqual([...stored.keys()].sort(), ['t0', 't2', 't3', 't4']);
  for (const s of stored.values()) assert.deepEqual(s, { n: RECORDS, d: RECORDS });
});

test('WAL disk full (1 MiB tmpfs): 503 + Retry-After, /ready says why, refused rows absent, acknowledged rows stored', { skip: MISSING ?? false, timeout: 60000 }, async (t) => {
  const mnt = path.join(serverTempDir('tmpfs'), 'mnt');
  fs.mkdirSync(mnt);
  const m = sh('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
  if (!m.ok) {
    t.skip(`cannot mount a tmpfs (${m.out}); needs root or CAP_SYS_ADMIN`);
    return;
  }
  try {
    const out = serverTempDir('out');
    const env = {
      OTLP2PARQUET_WAL_DIR: path.join(mnt, 'wal'),
      OTLP2PARQUET_WAL_SEGMENT_BYTES: '256KiB',
      OTLP2PARQUET_BATCH_MAX_AGE_SECS: '600', // segments stay until shutdown
    };
    const srv = await startServer({ outDir: out, env });
    const ledger = new Ledger();
    const full = await sendUntilRefused(srv, 'f', 'wal-full', ledger);
    assert.ok(full, 'the WAL never filled up');
    assert.equal(full.status, 503, full.text);
    assert.ok(Number(full.headers['retry-after']) >= 1, 'Retry-After');
    assert.match(full.text, /No space left on device/);
    assert.ok(ledger.acked.size >= 2, `acked ${ledger.acked.size}`);
    // Still full: refused again, and not ready, with the reason.
    const again = await post(srv.port, requestBody('f-again', 'wal-full'));
    ledger.note('f-again', again);
    assert.equal(again.status, 503);
    const rd = await srv.get('/ready');
    assert.equal(rd.status, 503);
    assert.match(JSON.parse(rd.body).reason, /No space left on device/);
    const r = await srv.stop('SIGTERM');
    assert.equal(r.code, 0, srv.describe());
    checkExactlyOnce(await storedRequests(out), ledger, 'WAL disk full');
  } finally {
    sh('umount', ['-l', mnt]);
  }
});

test('past durability.max_bytes: 429 + Retry-After, nothing refused stored', { skip: MISSING ?? false, timeout: 60000 }, async () => {
  const out = serverTempDir('out');
  const env = {
    OTLP2PARQUET_WAL_SEGMENT_BYTES: '256KiB',
    OTLP2PARQUET_WAL_MAX_BYTES: '600KiB',
    OTLP2PARQUET_BATCH_MAX_AGE_SECS: '600',
  };
  const srv = await startServer({ outDir: out, env });
  const ledger = new Ledger();
  const full = await sendUntilRefused(srv, 'm', 'wal-max', ledger);
  assert.ok(full, 'never refused');
  assert.equal(full.status, 429, full.text);
  assert.ok(Number(full.headers['retry-after']) >= 1, 'Retry-After');
  assert.match(full.text, /durability\.max_bytes/);
  const r = await srv.stop('SIGTERM');
  assert.equal(r.code, 0, srv.describe());
  checkExactlyOnce(await storedRequests(out), ledger, 'WAL max_bytes');
});

test('S3 down during replay: not ready until S3 answers, then every acknowledged row once', { skip: MISSING ?? false, timeout: 90000 }, async () => {
  const s3 = await startS3();
  try {
    const walDir = path.join(serverTempDir('wal'), 'wal');
    const env = {
      OTLP2PARQUET_STORAGE_BACKEND: 's3',
      OTLP2PARQUET_S3_BUCKET: s3.bucket,
      OTLP2PARQUET_S3_ENDPOINT: s3.endpoint,
      OTLP2PARQUET_S3_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      OTLP2PARQUET_WAL_DIR: walDir,
      OTLP2PARQUET_BATCH_MAX_AGE_SECS: '1',
    };
    let srv = await startServer({ outDir: null, env });
    const ledger = new Ledger();
    for (let q = 0; q < 4; q++) {
      const rid = `s${q}`;
      const r = await post(srv.port, requestBody(rid, 'wal-s3'));
      assert.equal(r.status, 200, r.text);
      ledger.note(rid, r);
    }
    // Some stored before the kill (replay must skip them), some not.
    await waitFor('an object in S3', async () => (await s3.listKeys('logs/')).length > 0, 30000, srv);
    for (let q = 4; q < 6; q++) {
      const rid = `s${q}`;
      const r = await post(srv.port, requestBody(rid, 'wal-s3'));
      assert.equal(r.status, 200, r.text);
      ledger.note(rid, r);
    }
    await srv.stop('SIGKILL');
    s3.failNext(1e9); // S3 answers 500 to everything
    srv = await startServer({ outDir: null, env });
    const notReady = await waitFor('/ready 503 during replay', async () => {
      const x = await srv.get('/ready');
      return x.status === 503 && /replay/.test(x.body) ? x : null;
    }, 20000, srv);
    assert.match(JSON.parse(notReady.body).reason, /replay/);
    await waitFor('a replay retry in the log', () => /wal replay: cannot tell whether/.test(srv.stderr), 20000, srv);
    assert.equal(parseProm(await srv.metrics()).value('otlp2parquet_wal_replaying'), 1);
    s3.failNext(0); // S3 is back
    await ready(srv);
    const r = await srv.stop('SIGTERM');
    assert.equal(r.code, 0, srv.describe());
    // Read what S3 holds into a local tree and check it like the fs cases.
    const local = serverTempDir('s3copy');
    for (const key of await s3.listKeys('logs/')) {
      const f = path.join(local, key);
      fs.mkdirSync(path.dirname(f), { recursive: true });
      fs.writeFileSync(f, await s3.getObject(key));
    }
    checkExactlyOnce(await storedRequests(local), ledger, 'S3 down during replay');
  } finally {
    await s3.stop();
  }
});

test('one server per WAL directory; durability = "memory" keeps no log', { skip: MISSING ?? false, timeout: 60000 }, async () => {
  const out = serverTempDir('out');
  const first = await startServer({ outDir: out });
  assert.match(first.stdout, /durability: wal in .*\.wal \(synced before each answer\)/);
  let err = null;
  try {
    await startServer({ outDir: out, startTimeoutMs: 20000 });
  } catch (e) { err = e; }
  assert.ok(err, 'a second server on the same WAL started');
  assert.match(err.message, /exit: 2/);
  assert.match(err.message, /durability: .*(lock|another)/i);
  assert.equal((await first.stop()).code, 0);

  const mem = serverTempDir('out');
  const srv = await startServer({ outDir: mem, env: { OTLP2PARQUET_DURABILITY: 'memory' } });
  assert.match(srv.stdout, /durability: memory \(a crash loses what is buffered\)/);
  assert.equal((await post(srv.port, requestBody('mem0', 'wal-mem'))).status, 200);
  assert.equal((await srv.stop()).code, 0);
  assert.equal(fs.existsSync(path.join(mem, '.wal')), false);
  assert.equal((await storedRequests(mem)).get('mem0')?.n, RECORDS);
});
