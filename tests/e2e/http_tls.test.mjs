// OTLP/HTTP over TLS (issue 11): certificates made here with `openssl` (a
// CA, a server certificate for 127.0.0.1 and localhost, a client
// certificate, and strangers signed by nobody we trust), the real
// OpenTelemetry JS protobuf exporter over https, /ready and /metrics over
// TLS, plain HTTP to the TLS port refused while TLS clients keep being
// served, mutual TLS (no certificate or an untrusted one: the handshake
// fails; the CA's client certificate: accepted), start-up errors naming the
// bad file (exit 2), and SIGHUP reloading the certificate (a new connection
// sees the new fingerprint; a bad new key keeps the old certificate and the
// log names the file; rows sent before and after the reload are all stored).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';

import { openDuckDB } from './lib/duckdb.mjs';
import { readRows, which } from './lib/convert.mjs';
import { logsRequestPb } from './lib/http.mjs';
import { makeSdkTelemetry } from './lib/otel_sdk.mjs';
import { serverBinary, serverMissing, serverTempDir, startServer, stopAllServers } from './lib/server.mjs';

const SKIP = serverMissing() ?? (which('openssl') ? null : 'openssl is not installed');
const T0 = 1718000000n * 1000000000n;
const PB = 'application/x-protobuf';

let dir; // certificates
let db;
let tel;

function openssl(...args) {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.stderr}`);
}

/** An EC key and a certificate for `cn`, signed by the CA (or self-signed when ca is null). */
function makeCert(name, cn, { ca = 'ca', san = null, client = false } = {}) {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`,
    '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  const ext = [];
  if (san) ext.push(`subjectAltName=${san}`);
  ext.push(`extendedKeyUsage=${client ? 'clientAuth' : 'serverAuth'}`);
  fs.writeFileSync(path.join(dir, `${name}.ext`), `${ext.join('\n')}\n`);
  if (ca)
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial',
      '-out', `${name}.pem`, '-days', '3', '-extfile', `${name}.ext`);
  else
    openssl('x509', '-req', '-in', `${name}.csr`, '-signkey', `${name}.key`, '-out', `${name}.pem`, '-days', '3',
      '-extfile', `${name}.ext`);
}

const file = (name) => path.join(dir, name);
const read = (name) => fs.readFileSync(file(name));
const fingerprint = (name) => new X509Certificate(read(name)).fingerprint256;

test.before(async () => {
  if (SKIP) return;
  dir = serverTempDir('certs');
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key',
    '-out', 'ca.pem', '-subj', '/CN=o2p test CA', '-days', '3');
  makeCert('server', 'localhost', { san: 'IP:127.0.0.1,DNS:localhost' });
  makeCert('server2', 'localhost', { san: 'IP:127.0.0.1,DNS:localhost' });
  makeCert('client', 'client', { client: true });
  makeCert('stranger', 'stranger', { ca: null, client: true });
  db = await openDuckDB({ threads: '2' });
  tel = await makeSdkTelemetry();
});
test.after(async () => {
  db?.close();
  await stopAllServers();
});

function tlsEnv(certName = 'server', extra = {}) {
  return {
    OTLP2PARQUET_TLS_CERT_FILE: file(`${certName}.pem`),
    OTLP2PARQUET_TLS_KEY_FILE: file(`${certName}.key`),
    OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600',
    ...extra,
  };
}

/** One https request; resolves {status, body} or rejects with the socket/TLS error. */
function httpsRequest(port, { method = 'GET', p = '/health', body = null, headers = {}, ...tlsOpts } = {}) {
  return new Promise((resolve, reject) => {
    const req = https.request({
      host: '127.0.0.1', port, method, path: p, agent: false, timeout: 20000,
      headers: { ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) },
      ...tlsOpts,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('https request timed out')));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

/** The SHA-256 fingerprint of the certificate a new TLS connection is shown. */
function peerFingerprint(port) {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: read('ca.pem') }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.setTimeout(20000, () => s.destroy(new Error('TLS connect timed out')));
    s.on('error', reject);
  });
}

/** Plain HTTP to the TLS port: resolves with what happened (never hangs the test). */
function plainHttp(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    let got = '';
    s.setTimeout(20000, () => { s.destroy(); resolve({ got, timedOut: true }); });
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.on('close', () => resolve({ got, closed: true }));
    s.on('error', (e) => resolve({ got, error: e.code }));
  });
}

const exportOnce = (exporter, items) => new Promise((resolve) => exporter.export(items, resolve));

async function waitFor(what, fn, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let seq = 0;
function logBody(tag) {
  return logsRequestPb('tls-svc', [{ timeNs: T0 + BigInt(seq++), body: `${tag}`, severity: 9, attrs: { tag } }]);
}

test('OTel protobuf exporter over https: the rows arrive; /ready and /metrics over TLS; banner says https', { skip: SKIP ?? false }, async () => {
  const srv = await startServer({ env: tlsEnv(), tls: { ca: read('ca.pem') } });
  try {
    assert.match(srv.stdout, /listening on https:\/\/127\.0\.0\.1:0/, srv.describe());
    assert.equal((await srv.get('/ready')).status, 200);
    assert.match(await srv.metrics(), /otlp2parquet_http_requests_total/);
    const exporter = new OTLPLogExporter({
      url: srv.url('/v1/logs'), timeoutMillis: 15000, httpAgentOptions: { ca: read('ca.pem') },
    });
    const result = await exportOnce(exporter, tel.logs);
    assert.equal(result.code, 0, `export failed: ${result.error?.message}\n${srv.describe()}`);
    await exporter.shutdown();
    // the same over localhost (the certificate's DNS name) with a raw request
    const r = await httpsRequest(srv.port, { method: 'POST', p: '/v1/logs', body: logBody('raw'), headers: { 'Content-Type': PB }, ca: read('ca.pem'), servername: 'localhost' });
    assert.equal(r.status, 200, r.body);
  } finally {
    const ex = await srv.stop();
    assert.equal(ex.code, 0, srv.describe());
  }
  const rows = await readRows(db, srv.outDir, 'logs');
  assert.equal(rows.length, tel.logs.length + 1, srv.describe());
});

test('plain HTTP to the TLS port is refused cleanly while TLS clients keep being served', { skip: SKIP ?? false }, async () => {
  const srv = await startServer({ env: tlsEnv(), tls: { ca: read('ca.pem') } });
  try {
    // a plain client that connected and stays connected...
    const idle = net.connect({ host: '127.0.0.1', port: srv.port });
    await new Promise((resolve, reject) => { idle.on('connect', resolve); idle.on('error', reject); });
    // ...and plain requests: never an HTTP answer in clear text
    const results = await Promise.all([plainHttp(srv.port), plainHttp(srv.port), plainHttp(srv.port)]);
    for (const res of results) {
      assert.ok(!res.got.startsWith('HTTP/1.'), `plain HTTP was answered in clear: ${JSON.stringify(res)}`);
      assert.ok(!res.timedOut, `the server neither answered nor closed: ${JSON.stringify(res)}`);
    }
    for (let i = 0; i < 3; i++) {
      const r = await httpsRequest(srv.port, { method: 'POST', p: '/v1/logs', body: logBody(`after-plain-${i}`), headers: { 'Content-Type': PB }, ca: read('ca.pem') });
      assert.equal(r.status, 200, r.body);
    }
    idle.destroy();
    assert.equal(srv.exit, null, `the server died:\n${srv.describe()}`);
  } finally {
    await srv.stop();
  }
  assert.equal((await readRows(db, srv.outDir, 'logs')).length, 3, srv.describe());
});

test('mutual TLS: no client certificate or an untrusted one is refused at the handshake; the CA\'s is accepted', { skip: SKIP ?? false }, async () => {
  const client = { ca: read('ca.pem'), cert: read('client.pem'), key: read('client.key') };
  const srv = await startServer({ env: tlsEnv('server', { OTLP2PARQUET_TLS_CLIENT_CA_FILE: file('ca.pem') }), tls: client });
  try {
    assert.match(srv.stdout, /client certificates: .*ca\.pem/, srv.describe());
    const post = (opts) => httpsRequest(srv.port, { method: 'POST', p: '/v1/logs', body: logBody('mtls'), headers: { 'Content-Type': PB }, ...opts });
    await assert.rejects(post({ ca: read('ca.pem') }), (e) => e instanceof Error, 'no client certificate');
    await assert.rejects(post({ ca: read('ca.pem'), cert: read('stranger.pem'), key: read('stranger.key') }), (e) => e instanceof Error, 'untrusted client certificate');
    const ok = await post(client);
    assert.equal(ok.status, 200, ok.body);
    const exporter = new OTLPLogExporter({ url: srv.url('/v1/logs'), timeoutMillis: 15000, httpAgentOptions: client });
    const result = await exportOnce(exporter, tel.logs);
    assert.equal(result.code, 0, `export failed: ${result.error?.message}`);
    await exporter.shutdown();
    assert.equal((await srv.get('/ready')).status, 200);
  } finally {
    await srv.stop();
  }
  assert.equal((await readRows(db, srv.outDir, 'logs')).length, tel.logs.length + 1, srv.describe());
});

/** Runs `serve` with env to completion (it must fail fast); {code, stderr}. */
function serveFails(env) {
  return new Promise((resolve) => {
    const out = serverTempDir('bad');
    const child = spawn(serverBinary(), ['serve', '-o', out], {
      cwd: out, env: { PATH: process.env.PATH, OTLP2PARQUET_LISTEN_ADDR: '127.0.0.1:0', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdout.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, stderr }); });
  });
}

test('bad TLS files stop start-up with exit 2 and a message naming the key and the file', { skip: SKIP ?? false }, async () => {
  fs.writeFileSync(file('garbage.key'), 'this is not a key\n');
  const cases = [
    [{ OTLP2PARQUET_TLS_KEY_FILE: file('garbage.key') }, /server\.tls\.key_file '.*garbage\.key': no private key found/],
    [{ OTLP2PARQUET_TLS_KEY_FILE: file('missing.key') }, /server\.tls\.key_file '.*missing\.key': No such file or directory/],
    [{ OTLP2PARQUET_TLS_CERT_FILE: file('garbage.key') }, /server\.tls\.cert_file '.*garbage\.key': no certificate found/],
    [{ OTLP2PARQUET_TLS_KEY_FILE: file('server2.key') }, /server\.tls\.key_file '.*server2\.key': the private key does not belong to server\.tls\.cert_file/],
    [{ OTLP2PARQUET_TLS_CLIENT_CA_FILE: file('garbage.key') }, /server\.tls\.client_ca_file '.*garbage\.key': no CA certificate found/],
  ];
  for (const [env, re] of cases) {
    const r = await serveFails({ ...tlsEnv(), ...env });
    assert.equal(r.code, 2, `${JSON.stringify(env)}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  // a certificate without a key is a configuration error before anything starts
  const r = await serveFails({ OTLP2PARQUET_TLS_CERT_FILE: file('server.pem') });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /server\.tls\.cert_file is set but server\.tls\.key_file is not/);
});

test('SIGHUP reloads the certificate: new connections see the new one; a bad file keeps the old one', { skip: SKIP ?? false }, async () => {
  // the server reads its own copies, which the test replaces
  fs.copyFileSync(file('server.pem'), file('live.pem'));
  fs.copyFileSync(file('server.key'), file('live.key'));
  const srv = await startServer({ env: tlsEnv('live'), tls: { ca: read('ca.pem') } });
  const reloads = () => (srv.stderr.match(/received SIGHUP: TLS reload/g) ?? []).length;
  try {
    assert.equal(await peerFingerprint(srv.port), fingerprint('server.pem'));
    const post = (tag) => httpsRequest(srv.port, { method: 'POST', p: '/v1/logs', body: logBody(tag), headers: { 'Content-Type': PB }, ca: read('ca.pem') });
    assert.equal((await post('before')).status, 200);

    // a new certificate and key
    fs.copyFileSync(file('server2.pem'), file('live.pem'));
    fs.copyFileSync(file('server2.key'), file('live.key'));
    srv.child.kill('SIGHUP');
    await waitFor('the reload log line', () => reloads() >= 1);
    assert.match(srv.stderr, /TLS reloaded; new connections use certificate sha256/, srv.describe());
    assert.equal(await peerFingerprint(srv.port), fingerprint('server2.pem'));
    assert.equal((await post('after')).status, 200);

    // a broken key: the reload fails, naming the file, and server2 stays
    fs.writeFileSync(file('live.key'), 'not a key\n');
    srv.child.kill('SIGHUP');
    await waitFor('the failed reload log line', () => reloads() >= 2);
    assert.match(srv.stderr, /TLS reload failed, keeping the current certificate: server\.tls\.key_file '.*live\.key': no private key found/, srv.describe());
    assert.equal(await peerFingerprint(srv.port), fingerprint('server2.pem'));
    assert.equal((await post('after-bad')).status, 200);
  } finally {
    const ex = await srv.stop();
    assert.equal(ex.code, 0, srv.describe());
  }
  const rows = await readRows(db, srv.outDir, 'logs');
  assert.deepEqual(rows.map((r) => r.Body).sort(), ['after', 'after-bad', 'before'], srv.describe());
});
