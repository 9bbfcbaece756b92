// End-to-end tests of the S3 store (src/storage/store_s3.c) through the
// build/tests/e2e/s3_put driver, against s3rver behind a proxy that verifies
// every SigV4 signature independently (tests/e2e/lib/s3.mjs).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import { ACCESS_KEY_ID, SECRET_ACCESS_KEY, startS3 } from './lib/s3.mjs';

const BUILD = process.env.O2P_BUILD || path.resolve('build');
const DRIVER = path.join(BUILD, 'tests/e2e/s3_put');
const MiB = 1 << 20;

function run(s3, args, env = {}) {
  return new Promise((resolve) => {
    execFile(DRIVER, args, {
      env: {
        PATH: process.env.PATH,
        HOME: os.tmpdir(), // no real ~/.aws/credentials
        O2P_S3_ENDPOINT: s3.endpoint,
        O2P_S3_BUCKET: s3.bucket,
        O2P_S3_REGION: 'us-east-1',
        O2P_S3_ACCESS_KEY_ID: ACCESS_KEY_ID,
        O2P_S3_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
        O2P_S3_RETRY_BASE_MS: '20',
        ...env,
      },
      maxBuffer: 16 * MiB,
    }, (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

function tempFile(t, bytes) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2p-s3-data-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'data.bin');
  fs.writeFileSync(file, bytes);
  return file;
}

async function withS3(t) {
  const s3 = await startS3();
  t.after(() => s3.stop());
  return s3;
}

test('s3: check reaches the bucket and describes the target', async (t) => {
  const s3 = await withS3(t);
  const r = await run(s3, ['check'], { O2P_S3_PREFIX: 'pfx' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^ok s3://${s3.bucket}/pfx/ \\(endpoint ${s3.endpoint}, path-style`));
  assert.ok(s3.requests.every((q) => q.code !== 'SignatureDoesNotMatch'));
});

test('s3: single PUT with a partitioned key round-trips byte for byte', async (t) => {
  const s3 = await withS3(t);
  const data = crypto.randomBytes(100000);
  const key = 'logs/my svc/year=2026/month=01/day=02/hour=03/1767322800000000-0123456789abcdef0123456789abcdef.parquet';
  const r = await run(s3, ['put', tempFile(t, data), key], { O2P_S3_PREFIX: 'root' });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await s3.listKeys(), [`root/${key}`]);
  assert.ok((await s3.getObject(`root/${key}`)).equals(data));
  // The encoded path went on the wire exactly as signed.
  const put = s3.requests.find((q) => q.method === 'PUT');
  assert.match(put.url, /year%3D2026\/month%3D01\//);
  assert.match(put.url, /my%20svc/);
});

test('s3: layout keys (unicode service, year=/month=) round-trip', async (t) => {
  const s3 = await withS3(t);
  const data = crypto.randomBytes(4096);
  // hour 493020 = 2026-03-30T12:00Z (day 20542 since the epoch)
  const r = await run(s3, ['layout', tempFile(t, data), 'metrics/gauge', 'café/../api', '493020', '1774785600123456']);
  assert.equal(r.code, 0, r.stderr);
  const key = r.stdout.trim().replace(/^ok /, '');
  assert.match(key, /^metrics\/gauge\/café_\.\._api\/year=2026\/month=03\/day=30\/hour=12\/1774785600123456-[0-9a-f]{32}\.parquet$/);
  assert.deepEqual(await s3.listKeys(), [key]);
  assert.ok((await s3.getObject(key)).equals(data));
});

test('s3: multipart upload of 12 MiB in 5 MiB parts', async (t) => {
  const s3 = await withS3(t);
  const data = crypto.randomBytes(12 * MiB);
  const key = 'traces/svc/year=2026/month=01/day=01/hour=00/1-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.parquet';
  const r = await run(s3, ['put', tempFile(t, data), key], {
    O2P_S3_MULTIPART_THRESHOLD: String(5 * MiB), O2P_S3_PART_SIZE: String(5 * MiB),
  });
  assert.equal(r.code, 0, r.stderr);
  const parts = s3.requests.filter((q) => q.method === 'PUT' && q.url.includes('partNumber='));
  assert.equal(parts.length, 3);
  assert.ok(s3.requests.some((q) => q.method === 'POST' && q.url.includes('uploads')));
  assert.ok(s3.requests.some((q) => q.method === 'POST' && q.url.includes('uploadId=') && q.status === 200));
  assert.ok((await s3.getObject(key)).equals(data));
});

test('s3: 500s are retried and the object is stored exactly once', async (t) => {
  const s3 = await withS3(t);
  const data = crypto.randomBytes(2048);
  const key = 'logs/svc/year=2026/month=01/day=01/hour=00/5-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.parquet';
  s3.failNext(3);
  const r = await run(s3, ['put', tempFile(t, data), key]);
  assert.equal(r.code, 0, r.stderr);
  const puts = s3.requests.filter((q) => q.method === 'PUT');
  assert.deepEqual(puts.map((q) => q.status), [500, 500, 500, 200]);
  assert.match(r.stderr, /retry 1 of 3/);
  assert.deepEqual(await s3.listKeys(), [key]);
  assert.ok((await s3.getObject(key)).equals(data));
});

test('s3: a failing part of a multipart upload is retried alone', async (t) => {
  const s3 = await withS3(t);
  const data = crypto.randomBytes(11 * MiB);
  const key = 'logs/svc/year=2026/month=01/day=01/hour=00/7-cccccccccccccccccccccccccccccccc.parquet';
  s3.failNext(2, (method, url) => method === 'PUT' && url.includes('partNumber=2'));
  const r = await run(s3, ['put', tempFile(t, data), key], {
    O2P_S3_MULTIPART_THRESHOLD: String(5 * MiB), O2P_S3_PART_SIZE: String(5 * MiB),
  });
  assert.equal(r.code, 0, r.stderr);
  const parts = s3.requests.filter((q) => q.method === 'PUT').map((q) => [/partNumber=(\d+)/.exec(q.url)[1], q.status]);
  assert.deepEqual(parts, [['1', 200], ['2', 500], ['2', 500], ['2', 200], ['3', 200]]);
  assert.equal(s3.requests.filter((q) => q.method === 'POST' && q.url.includes('uploads')).length, 1);
  assert.ok((await s3.getObject(key)).equals(data));
});

test('s3: persistent 500s give a retryable I/O error after the retries', async (t) => {
  const s3 = await withS3(t);
  s3.failNext(100);
  const r = await run(s3, ['put', tempFile(t, Buffer.from('x')), 'logs/a.parquet'], { O2P_S3_MAX_ATTEMPTS: '3' });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /HTTP 500 InternalError/);
  assert.equal(s3.requests.length, 3);
});

test('s3: wrong secret key is a clear SignatureDoesNotMatch error without secrets', async (t) => {
  const s3 = await withS3(t);
  const r = await run(s3, ['put', tempFile(t, Buffer.from('x')), 'logs/a.parquet'], {
    O2P_S3_SECRET_ACCESS_KEY: 'definitely-wrong-secret',
  });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /SignatureDoesNotMatch/);
  assert.match(r.stderr, /secret access key/);
  assert.doesNotMatch(r.stderr, /definitely-wrong-secret/);
  assert.equal(s3.requests.length, 1, 'auth errors are not retried');
});

test('s3: unknown access key id is a clear InvalidAccessKeyId error', async (t) => {
  const s3 = await withS3(t);
  const r = await run(s3, ['check'], { O2P_S3_ACCESS_KEY_ID: 'AKIDUNKNOWN' });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /InvalidAccessKeyId/);
});

test('s3: missing bucket is a clear error', async (t) => {
  const s3 = await withS3(t);
  for (const args of [['check'], ['put', tempFile(t, Buffer.from('x')), 'logs/a.parquet']]) {
    const r = await run(s3, args, { O2P_S3_BUCKET: 'no-such-bucket' });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /bucket 'no-such-bucket' does not exist/);
  }
});

test('s3: connection refused is a retryable I/O error naming the endpoint', async (t) => {
  const s3 = await withS3(t);
  const r = await run(s3, ['check'], { O2P_S3_ENDPOINT: 'http://127.0.0.1:1', O2P_S3_MAX_ATTEMPTS: '2' });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /127\.0\.0\.1:1/);
  assert.match(r.stderr, /endpoint right/);
});

test('s3: credentials from AWS_* environment and from a shared credentials file', async (t) => {
  const s3 = await withS3(t);
  const data = Buffer.from('from env');
  let r = await run(s3, ['put', tempFile(t, data), 'logs/env.parquet'], {
    O2P_S3_ACCESS_KEY_ID: '', O2P_S3_SECRET_ACCESS_KEY: '',
    AWS_ACCESS_KEY_ID: ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
  });
  assert.equal(r.code, 0, r.stderr);
  const credFile = tempFile(t, `# test\n[default]\naws_access_key_id = nope\naws_secret_access_key = nope\n\n[o2p]\naws_access_key_id=${ACCESS_KEY_ID}\naws_secret_access_key = ${SECRET_ACCESS_KEY}\n`);
  r = await run(s3, ['put', tempFile(t, data), 'logs/file.parquet'], {
    O2P_S3_ACCESS_KEY_ID: '', O2P_S3_SECRET_ACCESS_KEY: '',
    AWS_SHARED_CREDENTIALS_FILE: credFile, AWS_PROFILE: 'o2p',
  });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual((await s3.listKeys()).sort(), ['logs/env.parquet', 'logs/file.parquet']);
  r = await run(s3, ['check'], { O2P_S3_ACCESS_KEY_ID: '', O2P_S3_SECRET_ACCESS_KEY: '' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no S3 credentials/);
});

test('s3: exists answers a signed HEAD: yes for a stored key, no for a missing one', async (t) => {
  const s3 = await withS3(t);
  const key = 'logs/svc/year=2026/month=01/day=01/hour=00/7-cccccccccccccccccccccccccccccccc.parquet';
  let r = await run(s3, ['put', tempFile(t, Buffer.from('stored')), key], { O2P_S3_PREFIX: 'p' });
  assert.equal(r.code, 0, r.stderr);
  r = await run(s3, ['exists', key, 'logs/svc/missing.parquet'], { O2P_S3_PREFIX: 'p' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `yes ${key}\nno logs/svc/missing.parquet\n`);
  const heads = s3.requests.filter((q) => q.method === 'HEAD');
  assert.deepEqual(heads.map((q) => q.status), [200, 404]);
  assert.ok(s3.requests.every((q) => q.code !== 'SignatureDoesNotMatch'));
});

test('s3: exists while S3 is down is a retryable I/O error, not "no"', async (t) => {
  const s3 = await withS3(t);
  s3.failNext(10);
  const r = await run(s3, ['exists', 'logs/a.parquet'], { O2P_S3_MAX_ATTEMPTS: '2' });
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /HEAD/);
});
