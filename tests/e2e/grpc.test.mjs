// OTLP/gRPC end to end: the real OpenTelemetry JS gRPC exporters
// (@opentelemetry/exporter-{logs,trace,metrics}-otlp-grpc 0.223.0 on
// @grpc/grpc-js) against the server's gRPC listener, and raw HTTP/2
// (node:http2, node:net) for what no well-behaved client sends.
//
// - all three signals, grpc-encoding identity and gzip: the Parquet rows
//   (read with DuckDB) equal the rows the same data makes over OTLP/HTTP
//   protobuf, and the JS oracle's expected rows;
// - bearer token: right token accepted, missing/wrong -> UNAUTHENTICATED;
// - TLS (certificates made by `openssl` here) and mutual TLS: a client
//   without a certificate is refused, one with a CA-signed one is served;
// - buffer full: RESOURCE_EXHAUSTED with google.rpc.RetryInfo in
//   grpc-status-details-bin; retrying as told stores the data exactly once;
// - bad frames, oversized messages, an unknown grpc-encoding, a stream
//   that is opened and never finished, a broken connection preface: each is
//   refused cleanly while other calls on the same server are served.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';

import grpc from '@grpc/grpc-js';
import { OTLPLogExporter as LogsGrpc } from '@opentelemetry/exporter-logs-otlp-grpc';
import { OTLPTraceExporter as TracesGrpc } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPMetricExporter as MetricsGrpc } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter as TracesProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';

import { openDuckDB } from './lib/duckdb.mjs';
import { readRows, rowSet, TABLE_DIRS } from './lib/convert.mjs';
import { expectedLogRows, expectedMetricRows, expectedSpanRows, makeSdkTelemetry, serialize } from './lib/otel_sdk.mjs';
import { parseProm, serverMissing, serverTempDir, startServer, stopAllServers, waitFor } from './lib/server.mjs';

const MISSING = serverMissing();
const TABLES = Object.keys(TABLE_DIRS);
const GRPC = { logs: LogsGrpc, traces: TracesGrpc, metrics: MetricsGrpc };
const PROTO = { logs: LogsProto, traces: TracesProto, metrics: MetricsProto };
const PATHS = {
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
};

let db;
let tel;

test.before(async () => {
  db = await openDuckDB({ threads: '2' });
  tel = await makeSdkTelemetry();
});
test.after(async () => {
  db?.close();
  await stopAllServers();
});

function exportOnce(exporter, items) {
  return new Promise((resolve) => exporter.export(items, resolve));
}

function sendsOf() {
  return [['logs', tel.logs], ['traces', tel.spans], ['metrics', tel.metrics], ['logs', tel.edgeLogs], ['traces', tel.edgeSpans]];
}

async function readAll(dir) {
  const rows = {};
  for (const t of TABLES) rows[t] = await readRows(db, dir, t);
  return rows;
}

function grpcExporter(signal, srv, opts = {}) {
  const scheme = opts.credentials ? 'https' : 'http';
  return new GRPC[signal]({
    url: `${scheme}://${opts.host ?? '127.0.0.1'}:${srv.grpcPort}`,
    compression: opts.compression ?? 'none',
    timeoutMillis: 15000,
    ...(opts.metadata ? { metadata: opts.metadata } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
  });
}

// ---------------------------------------------------------------- raw h2 --

/** One unary call over an http2 session: {status, message, details, body}. */
function rawCall(session, signal, payload, { headers = {}, prefix, endStream = true } = {}) {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ':method': 'POST', ':path': PATHS[signal], 'content-type': 'application/grpc', te: 'trailers', ...headers,
    }, { endStream: false });
    const chunks = [];
    let head = {};
    req.on('response', (h) => { head = h; });
    req.on('data', (c) => chunks.push(c));
    let trailers = {};
    req.on('trailers', (t) => { trailers = t; });
    req.on('end', () => {
      const t = { ...head, ...trailers };
      resolve({
        status: Number(t['grpc-status']),
        message: decodeURIComponent(t['grpc-message'] ?? ''),
        details: t['grpc-status-details-bin'],
        body: Buffer.concat(chunks),
        headers: t,
      });
    });
    req.on('error', reject);
    const body = Buffer.from(payload);
    const p = prefix ?? Buffer.from([0, body.length >>> 24, (body.length >>> 16) & 255, (body.length >>> 8) & 255, body.length & 255]);
    if (endStream) req.end(Buffer.concat([p, body]));
    else req.write(Buffer.concat([p, body]));
  });
}

function h2connect(srv) {
  const s = http2.connect(`http://127.0.0.1:${srv.grpcPort}`);
  s.on('error', () => {});
  return s;
}

function closeSession(s) {
  return new Promise((resolve) => { s.close(resolve); setTimeout(resolve, 2000).unref(); });
}

// ------------------------------------------------------- all signals ---

for (const compression of ['none', 'gzip']) {
  test(`gRPC exporters, compression ${compression}: rows equal the OTLP/HTTP path`, { skip: MISSING ?? false }, async () => {
    const env = { OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' };
    const g = await startServer({ env });
    const h = await startServer({ env });
    try {
      for (const [signal, items] of sendsOf()) {
        const ge = grpcExporter(signal, g, { compression });
        const r1 = await exportOnce(ge, items);
        await ge.shutdown();
        assert.equal(r1.code, 0, `gRPC ${signal}: ${r1.error?.message}\n${g.describe()}`);
        const he = new PROTO[signal]({ url: h.url(`/v1/${signal}`), timeoutMillis: 15000 });
        const r2 = await exportOnce(he, items);
        await he.shutdown();
        assert.equal(r2.code, 0, `HTTP ${signal}: ${r2.error?.message}`);
      }
      assert.deepEqual(await g.stop(), { code: 0, signal: null }, g.describe());
      assert.deepEqual(await h.stop(), { code: 0, signal: null }, h.describe());
      const viaGrpc = await readAll(g.outDir);
      const viaHttp = await readAll(h.outDir);
      const want = {
        logs: expectedLogRows([...tel.logs, ...tel.edgeLogs]),
        traces: expectedSpanRows([...tel.spans, ...tel.edgeSpans]),
        ...expectedMetricRows(tel.metrics),
      };
      for (const t of TABLES) {
        assert.deepEqual(rowSet(viaGrpc[t]), rowSet(viaHttp[t]), `${t}: gRPC rows differ from HTTP rows`);
        assert.deepEqual(rowSet(viaGrpc[t]), rowSet(want[t] ?? []), `${t}: gRPC rows differ from the expected rows`);
      }
      assert.ok(viaGrpc.logs.length > 0 && viaGrpc.traces.length > 0 && viaGrpc.gauge.length + viaGrpc.sum.length > 0);
    } finally {
      await g.stop('SIGKILL', 5000);
      await h.stop('SIGKILL', 5000);
    }
  });
}

// ---------------------------------------------------------- auth ---

test('bearer token: accepted when right, UNAUTHENTICATED when missing or wrong', { skip: MISSING ?? false }, async () => {
  const srv = await startServer({ env: { OTLP2PARQUET_AUTH_TOKEN: 's3cret', OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' } });
  try {
    const good = new grpc.Metadata();
    good.set('authorization', 'Bearer s3cret');
    const bad = new grpc.Metadata();
    bad.set('authorization', 'Bearer nope');
    for (const [md, want] of [[good, 0], [bad, 16], [null, 16]]) {
      const e = grpcExporter('logs', srv, { metadata: md ?? undefined });
      const r = await exportOnce(e, tel.logs);
      await e.shutdown();
      if (want === 0) assert.equal(r.code, 0, `${r.error?.message}`);
      else {
        assert.equal(r.code, 1);
        assert.equal(r.error?.code, 16, `${r.error?.message}`);
        assert.match(r.error.details ?? r.error.message, /bearer token/);
      }
    }
    assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.describe());
    const rows = await readRows(db, srv.outDir, 'logs');
    assert.equal(rows.length, tel.logs.length, 'only the authorized export is stored');
  } finally {
    await srv.stop('SIGKILL', 5000);
  }
});

// -------------------------------------------------------- /metrics ---

test('/metrics counts gRPC calls by service, method and status, and open streams and connections', { skip: MISSING ?? false }, async () => {
  const srv = await startServer({ env: { OTLP2PARQUET_AUTH_TOKEN: 's3cret', OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' } });
  const LOGS_SVC = { service: 'opentelemetry.proto.collector.logs.v1.LogsService', method: 'Export' };
  const TRACE_SVC = { service: 'opentelemetry.proto.collector.trace.v1.TraceService', method: 'Export' };
  try {
    const good = new grpc.Metadata();
    good.set('authorization', 'Bearer s3cret');
    for (const [signal, items, md] of [['logs', tel.logs, good], ['logs', tel.logs, good], ['traces', tel.spans, good], ['logs', tel.logs, null]]) {
      const e = grpcExporter(signal, srv, { metadata: md ?? undefined });
      await exportOnce(e, items);
      await e.shutdown();
    }
    const s = h2connect(srv);
    const bad = await rawCall(s, 'logs', Buffer.from([0xff, 0xff, 0xff, 0x01]), { headers: { authorization: 'Bearer s3cret' } });
    assert.equal(bad.status, 3, bad.message);
    // an unfinished call: its stream stays open; a PING after it has
    // come back once the server read the HEADERS
    const stuck = rawCall(s, 'logs', Buffer.alloc(3), { headers: { authorization: 'Bearer s3cret' }, endStream: false }).catch(() => null);
    await new Promise((resolve, reject) => s.ping((err) => (err ? reject(err) : resolve())));
    const m = parseProm(await srv.metrics());
    const calls = (labels) => m.value('otlp2parquet_grpc_calls_total', labels);
    assert.equal(calls({ ...LOGS_SVC, code: 'OK' }), 2, 'logs OK');
    assert.equal(calls({ ...TRACE_SVC, code: 'OK' }), 1, 'traces OK');
    assert.equal(calls({ ...LOGS_SVC, code: 'UNAUTHENTICATED' }), 1, 'logs UNAUTHENTICATED');
    assert.equal(calls({ ...LOGS_SVC, code: 'INVALID_ARGUMENT' }), 1, 'logs INVALID_ARGUMENT');
    assert.equal(calls({}), 5, 'no other calls');
    assert.equal(m.value('otlp2parquet_grpc_call_duration_seconds_count', LOGS_SVC), 4);
    assert.ok(m.value('otlp2parquet_grpc_message_bytes_total', LOGS_SVC) > 0);
    // at least: the exporters' closes may still be on their way to the server
    assert.ok(m.value('otlp2parquet_grpc_streams_in_flight') >= 1, 'the unfinished call');
    assert.ok(m.value('otlp2parquet_grpc_connections') >= 1, 'the raw session');
    assert.ok(m.value('otlp2parquet_grpc_connections_accepted_total') >= 2);
    s.destroy();
    await stuck;
    assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.describe());
  } finally {
    await srv.stop('SIGKILL', 5000);
  }
});

test('gRPC connections are spread over the connection threads in turn', { skip: MISSING ?? false }, async () => {
  const srv = await startServer({});
  const sessions = [];
  try {
    const series = (m) => m.samples.filter((s) => s.name === 'otlp2parquet_grpc_worker_connections');
    const workers = series(parseProm(await srv.metrics())).length;
    assert.ok(workers >= 1, 'one series per connection thread');
    // one after another: a PING answered means the connection's thread
    // has taken it, so the counts below are final
    for (let i = 0; i < 2 * workers; i++) {
      const s = h2connect(srv);
      sessions.push(s);
      await new Promise((resolve) => s.once('connect', resolve));
      await new Promise((resolve, reject) => s.ping((err) => (err ? reject(err) : resolve())));
    }
    const m = parseProm(await srv.metrics());
    assert.deepEqual(series(m).map((s) => s.value), new Array(workers).fill(2), 'two on each thread');
    assert.equal(m.value('otlp2parquet_grpc_connections'), 2 * workers);
    await Promise.all(sessions.map(closeSession));
    sessions.length = 0;
    assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.describe());
  } finally {
    for (const s of sessions) s.destroy();
    await srv.stop('SIGKILL', 5000);
  }
});

// ----------------------------------------------------------- TLS ---

function makeCerts() {
  const dir = serverTempDir('tls');
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ext = path.join(dir, 'san.ext');
  fs.writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=o2p test CA', '-keyout', 'ca.key', '-out', 'ca.pem');
  for (const name of ['server', 'client']) {
    run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name === 'server' ? 'localhost' : 'o2p client'}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', `${name}.pem`);
  }
  const f = (n) => path.join(dir, n);
  return { dir, f, read: (n) => fs.readFileSync(f(n)) };
}

test('TLS with ALPN h2, and mutual TLS refusing clients without a certificate', { skip: MISSING ?? false }, async () => {
  const c = makeCerts();
  // The TLS keys serve both listeners: the HTTP health checks speak TLS too.
  const https = { ca: c.read('ca.pem'), checkServerIdentity: () => undefined };
  const tls = await startServer({ tls: https, env: { OTLP2PARQUET_TLS_CERT_FILE: c.f('server.pem'), OTLP2PARQUET_TLS_KEY_FILE: c.f('server.key'), OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' } });
  const mtls = await startServer({ tls: { ...https, cert: c.read('client.pem'), key: c.read('client.key') }, env: { OTLP2PARQUET_TLS_CERT_FILE: c.f('server.pem'), OTLP2PARQUET_TLS_KEY_FILE: c.f('server.key'), OTLP2PARQUET_TLS_CLIENT_CA_FILE: c.f('ca.pem'), OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' } });
  try {
    assert.match(tls.stdout, /listening on grpcs:\/\//);
    const e1 = grpcExporter('logs', tls, { credentials: grpc.credentials.createSsl(c.read('ca.pem')) });
    const r1 = await exportOnce(e1, tel.logs);
    await e1.shutdown();
    assert.equal(r1.code, 0, `TLS export: ${r1.error?.message}\n${tls.describe()}`);

    const e2 = grpcExporter('logs', mtls, { credentials: grpc.credentials.createSsl(c.read('ca.pem')) });
    const r2 = await exportOnce(e2, tel.logs);
    await e2.shutdown();
    assert.equal(r2.code, 1, 'mTLS without a client certificate must fail');
    assert.notEqual(r2.error?.code ?? 0, 0, `refused: ${r2.error?.message}`);

    const e3 = grpcExporter('logs', mtls, { credentials: grpc.credentials.createSsl(c.read('ca.pem'), c.read('client.key'), c.read('client.pem')) });
    const r3 = await exportOnce(e3, tel.logs);
    await e3.shutdown();
    assert.equal(r3.code, 0, `mTLS with a client certificate: ${r3.error?.message}\n${mtls.describe()}`);

    // SIGHUP re-reads the files; the server keeps serving.
    tls.child.kill('SIGHUP');
    const e4 = grpcExporter('logs', tls, { credentials: grpc.credentials.createSsl(c.read('ca.pem')) });
    const r4 = await exportOnce(e4, tel.logs);
    await e4.shutdown();
    assert.equal(r4.code, 0, `after SIGHUP: ${r4.error?.message}`);

    assert.deepEqual(await tls.stop(), { code: 0, signal: null }, tls.describe());
    assert.deepEqual(await mtls.stop(), { code: 0, signal: null }, mtls.describe());
    assert.equal((await readRows(db, tls.outDir, 'logs')).length, 2 * tel.logs.length);
    assert.equal((await readRows(db, mtls.outDir, 'logs')).length, tel.logs.length);
  } finally {
    await tls.stop('SIGKILL', 5000);
    await mtls.stop('SIGKILL', 5000);
  }
});

test('a bad or missing certificate file stops start-up with a message naming it', { skip: MISSING ?? false }, async () => {
  const c = makeCerts();
  const missing = path.join(c.dir, 'nope.pem');
  await assert.rejects(startServer({ env: { OTLP2PARQUET_TLS_CERT_FILE: missing, OTLP2PARQUET_TLS_KEY_FILE: c.f('server.key') } }),
    (e) => e.message.includes(`server.tls.cert_file '${missing}'`) && /No such file/.test(e.message));
  await assert.rejects(startServer({ env: { OTLP2PARQUET_TLS_CERT_FILE: c.f('server.pem'), OTLP2PARQUET_TLS_KEY_FILE: c.f('client.key') } }),
    (e) => e.message.includes(`server.tls.key_file '${c.f('client.key')}'`));
});

// --------------------------------------------------- busy + RetryInfo ---

/** How much buffer one request of `pb` takes (measured, not guessed). */
async function bufferOfOneRequest(pb) {
  const probe = await startServer({ env: { OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' } });
  try {
    const s0 = h2connect(probe);
    assert.equal((await rawCall(s0, 'logs', pb)).status, 0);
    await closeSession(s0);
    const one = parseProm(await probe.metrics()).value('otlp2parquet_buffered_bytes');
    assert.ok(one > 0, 'the probe request is buffered');
    return one;
  } finally {
    await probe.stop('SIGKILL', 5000);
  }
}

test('buffer full: RESOURCE_EXHAUSTED with RetryInfo; retrying as told stores the data once', { skip: MISSING ?? false }, async () => {
  const pb = Buffer.from(serialize('logs', tel.logs, 'pb'));
  const one = await bufferOfOneRequest(pb);
  // ... then a budget with room for one request but not two: the first is
  // buffered (and stays: no age flush), the second is refused as busy.
  const budget = Math.floor(one * 1.2);
  const srv = await startServer({ env: { OTLP2PARQUET_BATCH_MAX_BUFFERED_BYTES: String(budget), OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' } });
  const s = h2connect(srv);
  try {
    assert.equal((await rawCall(s, 'logs', pb)).status, 0);
    const r = await rawCall(s, 'logs', pb);
    assert.equal(r.status, 8, `status ${r.status}: ${r.message}`);
    assert.match(r.message, /buffer full/);
    assert.ok(r.details, 'grpc-status-details-bin present');
    const st = Buffer.from(r.details, 'base64');
    assert.ok(st.includes(Buffer.from('type.googleapis.com/google.rpc.RetryInfo')), st.toString('latin1'));
    // retry_delay.seconds: Any.value -> RetryInfo{1: Duration{1: seconds}}
    const delayAt = st.indexOf(Buffer.from('RetryInfo')) + 'RetryInfo'.length;
    assert.deepEqual([st[delayAt], st[delayAt + 2], st[delayAt + 4]], [0x12, 0x0a, 0x08], "Any.value > RetryInfo.retry_delay > Duration.seconds");
    const secs = st[delayAt + 5];
    assert.ok(secs >= 1 && secs <= 30, `retry delay ${secs}`);
    assert.equal(r.headers['grpc-retry-pushback-ms'], String(secs * 1000), 'gRFC A6 pushback = RetryInfo delay');
    // Retry as RetryInfo says (a refusal seals the buffer for flushing, so
    // it frees up); bounded attempts, no timing assumption beyond that.
    let last = r;
    for (let i = 0; i < 30 && last.status !== 0; i++) {
      await new Promise((res) => setTimeout(res, 1000));
      last = await rawCall(s, 'logs', pb);
      assert.ok(last.status === 0 || last.status === 8, `retry: ${last.status} ${last.message}`);
    }
    assert.equal(last.status, 0, `never accepted: ${last.message}`);
    await closeSession(s);
    assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.describe());
    assert.equal((await readRows(db, srv.outDir, 'logs')).length, 2 * tel.logs.length, 'each accepted request stored once');
  } finally {
    s.destroy();
    await srv.stop('SIGKILL', 5000);
  }
});

// The OpenTelemetry JS gRPC exporter (0.223.0) cannot retry: its transport
// resolves every gRPC error as 'failure' (otlp-grpc-exporter-base
// grpc-exporter-transport.js, the export callback) and is not wrapped in the
// RetryingTransport that the HTTP exporters get.  What retries on gRPC is a
// gRPC client with a retry policy — grpc-js here, the library under that
// exporter — and the Collector's and Java's exporters, which honour RetryInfo.
// So the retry is proven with grpc-js and a standard retry policy; the
// server's grpc-retry-pushback-ms tells it when.
test('buffer full: a gRPC client with a retry policy is refused once, retries after the pushback, and the data is stored once', { skip: MISSING ?? false }, async () => {
  const pb = Buffer.from(serialize('logs', tel.logs, 'pb'));
  const one = await bufferOfOneRequest(pb);
  // room for one request: the first call fills the buffer, so the next one
  // is refused before anything else can free it (no age flush; the refusal
  // itself seals the buffer for flushing, which frees it for the retry)
  const srv = await startServer({ env: { OTLP2PARQUET_BATCH_MAX_BUFFERED_BYTES: String(Math.floor(one * 1.2)), OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' } });
  const serviceConfig = {
    methodConfig: [{
      name: [{ service: 'opentelemetry.proto.collector.logs.v1.LogsService' }],
      retryPolicy: { maxAttempts: 5, initialBackoff: '0.1s', maxBackoff: '2s', backoffMultiplier: 2, retryableStatusCodes: ['RESOURCE_EXHAUSTED', 'UNAVAILABLE'] },
    }],
  };
  const client = new grpc.Client(`127.0.0.1:${srv.grpcPort}`, grpc.credentials.createInsecure(), { 'grpc.service_config': JSON.stringify(serviceConfig) });
  const call = () => new Promise((resolve) => {
    client.makeUnaryRequest(PATHS.logs, (b) => b, (b) => b, pb, new grpc.Metadata(), { deadline: Date.now() + 30000 }, (err, resp) => resolve({ err, resp }));
  });
  const LOGS_SVC = { service: 'opentelemetry.proto.collector.logs.v1.LogsService', method: 'Export' };
  try {
    const first = await call();
    assert.equal(first.err, null, `first call: ${first.err?.message}`);
    const second = await call(); // refused, then retried by grpc-js
    assert.equal(second.err, null, `second call never accepted: ${second.err?.message}\n${srv.describe()}`);
    const m = parseProm(await srv.metrics());
    assert.ok(m.value('otlp2parquet_grpc_calls_total', { ...LOGS_SVC, code: 'RESOURCE_EXHAUSTED' }) >= 1, 'the second call was refused at least once');
    assert.equal(m.value('otlp2parquet_grpc_calls_total', { ...LOGS_SVC, code: 'OK' }), 2, 'two calls accepted');
    client.close();
    assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.describe());
    assert.equal((await readRows(db, srv.outDir, 'logs')).length, 2 * tel.logs.length, 'each call stored exactly once');
  } finally {
    client.close();
    await srv.stop('SIGKILL', 5000);
  }
});

// Pacing (batch.pace_above_percent, batch.max_pace_ms) covers gRPC: above
// the pace level a call is admitted at its message prefix after a wait
// instead of being refused, and the JS exporter, which cannot retry, loses
// nothing.  Pace level 1%, so after one buffered request every call is
// paced; the budget holds all of them even if nothing were flushed, so the
// only refusal left would be a wait over max_pace_ms (set far above the
// waits here).
const PACED_ENV = (one, requests) => ({
  OTLP2PARQUET_BATCH_MAX_BUFFERED_BYTES: String(Math.ceil(one * requests * 1.1)),
  OTLP2PARQUET_BATCH_PACE_ABOVE_PERCENT: '1',
  OTLP2PARQUET_BATCH_MAX_PACE_MS: '30000',
  OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600',
});
const LOGS_EXPORT = { service: 'opentelemetry.proto.collector.logs.v1.LogsService', method: 'Export' };

test('paced: the JS gRPC exporter sending into a nearly full budget waits its turn; every record arrives once, no error', { skip: MISSING ?? false }, async () => {
  const pb = Buffer.from(serialize('logs', tel.logs, 'pb'));
  const one = await bufferOfOneRequest(pb);
  const calls = 8;
  const srv = await startServer({ env: PACED_ENV(one, calls + 1) });
  const s = h2connect(srv);
  try {
    assert.equal((await rawCall(s, 'logs', pb)).status, 0); // now above the pace level
    await closeSession(s);
    for (const compression of ['none', 'gzip']) {
      const ex = grpcExporter('logs', srv, { compression });
      const results = await Promise.all(Array.from({ length: calls / 2 }, () => exportOnce(ex, tel.logs)));
      await ex.shutdown();
      results.forEach((r, i) => assert.equal(r.code, 0, `${compression} export ${i}: ${r.error?.message}\n${srv.describe()}`));
    }
    const m = parseProm(await srv.metrics());
    assert.equal(m.value('otlp2parquet_grpc_calls_total', { ...LOGS_EXPORT, code: 'OK' }), calls + 1);
    assert.equal(m.value('otlp2parquet_grpc_calls_total', { ...LOGS_EXPORT, code: 'RESOURCE_EXHAUSTED' }), 0);
    assert.equal(m.value('otlp2parquet_refused_total', { cause: 'pace' }), 0);
    assert.ok(m.value('otlp2parquet_pace_wait_seconds_count') >= 1, 'gRPC calls were paced (counted in the pace histogram)');
    assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.describe());
    const rows = await readRows(db, srv.outDir, 'logs');
    assert.equal(rows.length, (calls + 1) * tel.logs.length, 'every record stored exactly once');
    const want = Array.from({ length: calls + 1 }, () => expectedLogRows(tel.logs)).flat();
    assert.deepEqual(rowSet(rows), rowSet(want), 'the exported rows, each request stored once');
  } finally {
    s.destroy();
    await srv.stop('SIGKILL', 5000);
  }
});

test('paced: SIGTERM admits the waiting calls at once; they are answered and stored, and the drain ends', { skip: MISSING ?? false }, async () => {
  const pb = Buffer.from(serialize('logs', tel.logs, 'pb'));
  const one = await bufferOfOneRequest(pb);
  const calls = 6;
  const srv = await startServer({ env: PACED_ENV(one, calls + 1) });
  const s = h2connect(srv);
  try {
    assert.equal((await rawCall(s, 'logs', pb)).status, 0);
    const pending = Array.from({ length: calls }, () => rawCall(s, 'logs', pb));
    // stop once the server has given some call a wait
    await waitFor('a paced call', async () => parseProm(await srv.metrics()).value('otlp2parquet_pace_wait_seconds_count') >= 1, 10000, srv);
    srv.child.kill('SIGTERM');
    const results = await Promise.all(pending);
    results.forEach((r, i) => assert.equal(r.status, 0, `call ${i}: ${r.status} ${r.message}`));
    assert.deepEqual(await srv.exited, { code: 0, signal: null }, srv.describe());
    assert.equal((await readRows(db, srv.outDir, 'logs')).length, (calls + 1) * tel.logs.length);
  } finally {
    s.destroy();
    await srv.stop('SIGKILL', 5000);
  }
});

test('paced: a connection whose calls keep waiting their turn while it keeps sending stays open; every call is answered', { skip: MISSING ?? false }, async () => {
  const pb = Buffer.from(serialize('logs', tel.logs, 'pb'));
  const one = await bufferOfOneRequest(pb);
  // 4 closed-loop streams on one connection, paced from the first buffered
  // request on: admission times come due while the connection is reading
  const srv = await startServer({ env: PACED_ENV(one, 40) });
  const s = h2connect(srv);
  try {
    const counts = { ok: 0, busy: 0 };
    const loop = async () => {
      for (let i = 0; i < 100; i++) {
        const r = await rawCall(s, 'logs', pb);
        assert.ok(r.status === 0 || r.status === 8, `status ${r.status}: ${r.message}`);
        counts[r.status === 0 ? 'ok' : 'busy']++;
      }
    };
    await Promise.all([loop(), loop(), loop(), loop()]);
    const m = parseProm(await srv.metrics());
    assert.ok(m.value('otlp2parquet_pace_wait_seconds_count') >= 1, 'calls were paced');
    await closeSession(s);
    assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.describe());
    assert.equal((await readRows(db, srv.outDir, 'logs')).length, counts.ok * tel.logs.length, 'each accepted call stored once');
  } finally {
    s.destroy();
    await srv.stop('SIGKILL', 5000);
  }
});

// ------------------------------------------------- snappy ---

function crc32c(buf) {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

/**
 * The Snappy framing format by hand (no snappy package in the tests): the
 * stream identifier, then chunks of at most 64 KiB, alternately a
 * compressed chunk whose block is all literals and an uncompressed chunk,
 * each with its masked CRC-32C; `corrupt` flips a checksum bit.
 */
function snappyFramed(data, { corrupt = false } = {}) {
  const chunk = (type, body) => Buffer.concat([Buffer.from([type, body.length & 255, (body.length >> 8) & 255, body.length >> 16]), body]);
  const crc = (piece) => {
    const c = crc32c(piece);
    const masked = ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
    const b = Buffer.alloc(4);
    b.writeUInt32LE((masked ^ (corrupt ? 1 : 0)) >>> 0);
    return b;
  };
  const parts = [chunk(0xff, Buffer.from('sNaPpY'))];
  for (let off = 0, i = 0; off < data.length; off += 65536, i++) {
    const piece = data.subarray(off, off + 65536);
    if (i % 2 === 1) {
      parts.push(chunk(0x01, Buffer.concat([crc(piece), piece])));
      continue;
    }
    // block: varint length, then literals of up to 65536 bytes (tag 61<<2: 2-byte length-1)
    const varint = [];
    for (let v = piece.length; ; v >>>= 7) {
      if (v < 0x80) { varint.push(v); break; }
      varint.push((v & 0x7f) | 0x80);
    }
    const lit = Buffer.from([61 << 2, (piece.length - 1) & 255, (piece.length - 1) >> 8]);
    parts.push(chunk(0x00, Buffer.concat([crc(piece), Buffer.from(varint), lit, piece])));
  }
  return Buffer.concat(parts);
}

function compressedPrefix(len) {
  return Buffer.from([1, len >>> 24, (len >>> 16) & 255, (len >>> 8) & 255, len & 255]);
}

test('grpc-encoding snappy (framing format) is advertised and decoded; a bad checksum is INVALID_ARGUMENT', { skip: MISSING ?? false }, async () => {
  // big enough for several chunks of both kinds
  let logs = [...tel.logs];
  let pb = Buffer.from(serialize('logs', logs, 'pb'));
  while (pb.length <= 2 * 65536) {
    logs = [...logs, ...logs];
    pb = Buffer.from(serialize('logs', logs, 'pb'));
  }
  assert.ok(pb.length > 2 * 65536, `request of ${pb.length} bytes spans 3+ chunks`);
  const srv = await startServer({ env: { OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' } });
  const s = h2connect(srv);
  try {
    const framed = snappyFramed(pb);
    const ok = await rawCall(s, 'logs', framed, { headers: { 'grpc-encoding': 'snappy' }, prefix: compressedPrefix(framed.length) });
    assert.equal(ok.status, 0, ok.message);
    assert.match(ok.headers['grpc-accept-encoding'] ?? '', /(^|,)snappy(,|$)/);
    const badSum = snappyFramed(pb, { corrupt: true });
    const bad = await rawCall(s, 'logs', badSum, { headers: { 'grpc-encoding': 'snappy' }, prefix: compressedPrefix(badSum.length) });
    assert.equal(bad.status, 3, bad.message);
    assert.match(bad.message, /snappy.*checksum mismatch/);
    await closeSession(s);
    assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.describe());
    const rows = await readRows(db, srv.outDir, 'logs');
    assert.deepEqual(rowSet(rows), rowSet(expectedLogRows(logs)), 'the snappy call stored its rows once');
  } finally {
    s.destroy();
    await srv.stop('SIGKILL', 5000);
  }
});

// ------------------------------------------------ hostile clients ---

test('bad frames, oversized messages, unknown encodings and stuck streams are refused; others are served', { skip: MISSING ?? false }, async () => {
  const pb = Buffer.from(serialize('logs', tel.logs, 'pb'));
  const srv = await startServer({ env: { OTLP2PARQUET_MAX_PAYLOAD_BYTES: '65536', OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' } });
  const s = h2connect(srv);
  try {
    // a stream opened and never finished stays open while others are served
    const stuck = rawCall(s, 'logs', pb.subarray(0, 10), { endStream: false }).catch(() => null);

    const ok = await rawCall(s, 'logs', pb);
    assert.equal(ok.status, 0, ok.message);

    const shortPrefix = await rawCall(s, 'logs', Buffer.alloc(0), { prefix: Buffer.from([0, 0]) });
    assert.equal(shortPrefix.status, 3);
    assert.match(shortPrefix.message, /prefix truncated/);

    const badFlag = await rawCall(s, 'logs', pb, { prefix: Buffer.from([7, 0, 0, 0, pb.length & 255]) });
    assert.equal(badFlag.status, 3);

    const lying = await rawCall(s, 'logs', pb, { prefix: Buffer.from([0, 0, 0, 0, 255]).fill(0, 0, 1) });
    assert.equal(lying.status, 3, lying.message);

    const garbage = await rawCall(s, 'logs', Buffer.from([0xff, 0xff, 0xff, 0x01]));
    assert.equal(garbage.status, 3, garbage.message);

    const big = await rawCall(s, 'logs', Buffer.alloc(70000, 1));
    assert.equal(big.status, 8, big.message);

    const declaredHuge = await rawCall(s, 'logs', Buffer.alloc(10), { prefix: Buffer.from([0, 0x7f, 0, 0, 0]) });
    assert.equal(declaredHuge.status, 8, declaredHuge.message);

    const bomb = zlib.gzipSync(Buffer.alloc(1 << 20));
    const bombR = await rawCall(s, 'logs', bomb, { headers: { 'grpc-encoding': 'gzip' }, prefix: Buffer.from([1, 0, (bomb.length >> 16) & 255, (bomb.length >> 8) & 255, bomb.length & 255]) });
    assert.equal(bombR.status, 8, bombR.message);

    const enc = await rawCall(s, 'logs', pb, { headers: { 'grpc-encoding': 'br' } });
    assert.equal(enc.status, 12);
    assert.match(enc.message, /grpc-encoding 'br'/);

    const gz = zlib.gzipSync(pb);
    const gzR = await rawCall(s, 'logs', gz, { headers: { 'grpc-encoding': 'gzip' }, prefix: Buffer.from([1, 0, (gz.length >> 16) & 255, (gz.length >> 8) & 255, gz.length & 255]) });
    assert.equal(gzR.status, 0, gzR.message);

    // a broken preface: the connection is closed, the server keeps serving
    await new Promise((resolve) => {
      const sock = net.connect(srv.grpcPort, '127.0.0.1', () => sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      sock.on('error', resolve);
      sock.on('close', resolve);
      sock.resume();
    });
    const s2 = h2connect(srv);
    const again = await rawCall(s2, 'logs', pb);
    assert.equal(again.status, 0, again.message);
    await closeSession(s2);

    s.destroy();
    await stuck;
    assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.describe());
    assert.equal((await readRows(db, srv.outDir, 'logs')).length, 3 * tel.logs.length);
  } finally {
    s.destroy();
    await srv.stop('SIGKILL', 5000);
  }
});

// ------------------------------------------- concurrent streams ---

test('40 concurrent calls on one connection (decoded in parallel) are each answered and stored once', { skip: MISSING ?? false }, async () => {
  const pb = Buffer.from(serialize('logs', tel.logs, 'pb'));
  const gz = zlib.gzipSync(pb);
  const srv = await startServer({ env: { OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' } });
  const s = h2connect(srv);
  try {
    // more calls than one connection may have with the decode pool at once (16),
    // half of them gzip, and bad ones in between that must not disturb them
    const calls = [];
    for (let i = 0; i < 40; i++) {
      if (i % 10 === 9) calls.push(rawCall(s, 'logs', Buffer.from([0xff, 0xff, 0xff, 0x01])));
      else if (i % 2) calls.push(rawCall(s, 'logs', gz, { headers: { 'grpc-encoding': 'gzip' }, prefix: compressedPrefix(gz.length) }));
      else calls.push(rawCall(s, 'logs', pb));
    }
    const results = await Promise.all(calls);
    results.forEach((r, i) => assert.equal(r.status, i % 10 === 9 ? 3 : 0, `call ${i}: ${r.status} ${r.message}`));
    const m = parseProm(await srv.metrics());
    assert.equal(m.value('otlp2parquet_grpc_calls_total', { code: 'OK' }), 36);
    await closeSession(s);
    assert.deepEqual(await srv.stop(), { code: 0, signal: null }, srv.describe());
    assert.equal((await readRows(db, srv.outDir, 'logs')).length, 36 * tel.logs.length);
  } finally {
    s.destroy();
    await srv.stop('SIGKILL', 5000);
  }
});

// ------------------------------------------------- graceful drain ---

test('SIGTERM: GOAWAY, the call in flight finishes, then the rows are flushed', { skip: MISSING ?? false }, async () => {
  const pb = Buffer.from(serialize('logs', tel.logs, 'pb'));
  const srv = await startServer({ env: { OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' } });
  const s = h2connect(srv);
  try {
    const goaway = new Promise((resolve) => s.once('goaway', resolve));
    const req = s.request({ ':method': 'POST', ':path': PATHS.logs, 'content-type': 'application/grpc', te: 'trailers' });
    const done = new Promise((resolve, reject) => {
      let t = {};
      req.on('response', (h) => { t = { ...t, ...h }; });
      req.on('trailers', (h) => { t = { ...t, ...h }; });
      req.on('end', () => resolve(t));
      req.on('error', reject);
      req.resume();
    });
    const prefix = Buffer.from([0, pb.length >>> 24, (pb.length >>> 16) & 255, (pb.length >>> 8) & 255, pb.length & 255]);
    // the first half is on the server before the signal (its stream is open) ...
    await new Promise((resolve) => req.write(Buffer.concat([prefix, pb.subarray(0, pb.length >> 1)]), resolve));
    // a PING sent after the written bytes comes back only once the server
    // has read everything before it, so the stream is open there for sure
    await new Promise((resolve, reject) => s.ping((err) => (err ? reject(err) : resolve())));
    srv.child.kill('SIGTERM');
    await goaway; // ... the server has stopped taking new calls ...
    req.end(pb.subarray(pb.length >> 1)); // ... and still answers this one
    const t = await done;
    assert.equal(t['grpc-status'], '0', JSON.stringify(t));
    const r = await srv.exited;
    assert.deepEqual(r, { code: 0, signal: null }, srv.describe());
    assert.equal((await readRows(db, srv.outDir, 'logs')).length, tel.logs.length);
  } finally {
    s.destroy();
    await srv.stop('SIGKILL', 5000);
  }
});
