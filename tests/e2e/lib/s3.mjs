// s3: an S3 endpoint for the end-to-end tests.
//
// startS3() runs s3rver (in process, on 127.0.0.1, in a temp directory) behind
// a small proxy that does what s3rver does not: it recomputes the AWS
// Signature Version 4 of every request with node's crypto and answers
// 403 SignatureDoesNotMatch when it differs, checks x-amz-content-sha256 and
// Content-MD5 against the body, and can inject failures (HTTP 500 for the
// next N requests).  The signing code here is written independently of
// src/storage/sigv4.c, from the AWS description, so the two check each other.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';

export const ACCESS_KEY_ID = 'S3RVER';
export const SECRET_ACCESS_KEY = 'S3RVER';
const SECRETS = new Map([[ACCESS_KEY_ID, SECRET_ACCESS_KEY]]);

// RFC 3986 unreserved characters stay, everything else is %XX (uppercase).
function awsEncode(text) {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) =>
    '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

function canonicalUri(rawPath) {
  return rawPath.split('/').map((seg) => awsEncode(decodeURIComponent(seg))).join('/');
}

function canonicalQuery(rawQuery) {
  if (!rawQuery) return '';
  return rawQuery.split('&').filter((p) => p.length > 0).map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    return [awsEncode(decodeURIComponent(name)), awsEncode(decodeURIComponent(value))];
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`).join('&');
}

const hmac = (key, text) => crypto.createHmac('sha256', key).update(text).digest();
const sha256hex = (data) => crypto.createHash('sha256').update(data).digest('hex');

// Returns null when the request is correctly signed, else [status, code, message].
export function verifySigV4(method, url, headers, body) {
  const auth = headers.authorization || '';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return [400, 'AuthorizationHeaderMalformed', 'cannot parse the Authorization header'];
  const [, akid, date8, region, signedList, signature] = m;
  const signed = signedList.split(';');
  for (const required of ['host', 'x-amz-content-sha256', 'x-amz-date']) {
    if (!signed.includes(required)) return [400, 'AuthorizationHeaderMalformed', `${required} is not signed`];
  }
  const amzDate = headers['x-amz-date'] || '';
  if (!amzDate.startsWith(date8)) return [400, 'AuthorizationHeaderMalformed', 'date mismatch'];
  const skew = Math.abs(Date.parse(amzDate.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, '$1-$2-$3T$4:$5:$6Z')) - Date.now());
  if (!(skew < 15 * 60 * 1000)) return [403, 'RequestTimeTooSkewed', 'x-amz-date is too far from now'];
  if (headers['x-amz-content-sha256'] !== sha256hex(body)) {
    return [400, 'XAmzContentSHA256Mismatch', 'x-amz-content-sha256 does not match the body'];
  }
  if (headers['content-md5'] !== undefined &&
      headers['content-md5'] !== crypto.createHash('md5').update(body).digest('base64')) {
    return [400, 'BadDigest', 'Content-MD5 does not match the body'];
  }
  const secret = SECRETS.get(akid);
  if (secret === undefined) return null; // unknown key: s3rver answers InvalidAccessKeyId
  const q = url.indexOf('?');
  const rawPath = q < 0 ? url : url.slice(0, q);
  const rawQuery = q < 0 ? '' : url.slice(q + 1);
  const canonicalHeaders = signed.map((name) => {
    const value = headers[name];
    if (value === undefined) return null;
    return `${name}:${String(value).trim().replace(/\s+/g, ' ')}\n`;
  });
  if (canonicalHeaders.includes(null)) return [400, 'AuthorizationHeaderMalformed', 'a signed header is missing'];
  const canonical = [method, canonicalUri(rawPath), canonicalQuery(rawQuery), canonicalHeaders.join(''),
    signedList, headers['x-amz-content-sha256']].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, `${date8}/${region}/s3/aws4_request`, sha256hex(canonical)].join('\n');
  let key = hmac('AWS4' + secret, date8);
  for (const part of [region, 's3', 'aws4_request']) key = hmac(key, part);
  const expected = hmac(key, stringToSign).toString('hex');
  if (expected !== signature) {
    return [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'];
  }
  return null;
}

function errorXml(code, message) {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

// Starts s3rver + proxy.  Returns { endpoint, bucket, dir, requests, failNext(n, when),
// getObject(key), listKeys(), stop() }.  `endpoint` is the proxy's URL.
export async function startS3({ bucket = 'o2p-test' } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2p-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1', port: 0, silent: true, directory: dir,
    configureBuckets: [{ name: bucket }], vhostBuckets: false,
  });
  const backend = await server.run();
  const requests = [];
  let failures = 0;
  let failWhen = () => true;

  const proxy = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const record = { method: req.method, url: req.url, status: 0 };
      requests.push(record);
      const reply = (status, code, message) => {
        record.status = status;
        record.code = code;
        const xml = errorXml(code, message);
        res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(xml) });
        res.end(xml);
      };
      const bad = verifySigV4(req.method, req.url, req.headers, body);
      if (bad) return reply(...bad);
      if (failures > 0 && failWhen(req.method, req.url)) {
        failures--;
        return reply(500, 'InternalError', 'injected failure');
      }
      const fwd = http.request({
        host: backend.address, port: backend.port, method: req.method, path: req.url,
        headers: { ...req.headers, 'content-length': body.length },
      }, (up) => {
        record.status = up.statusCode;
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
      });
      fwd.on('error', (e) => reply(502, 'ProxyError', e.message));
      fwd.end(body);
    });
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${proxy.address().port}`;
  const direct = `http://${backend.address}:${backend.port}`;

  // Reads go straight to s3rver, anonymously (it allows that), so test
  // assertions never depend on the code under test.
  const keyPath = (key) => key.split('/').map(awsEncode).join('/');
  return {
    endpoint, bucket, dir, requests,
    // The next n requests for which when(method, url) holds get HTTP 500.
    failNext(n, when = () => true) { failures = n; failWhen = when; },
    async getObject(key) {
      const r = await fetch(`${direct}/${bucket}/${keyPath(key)}`);
      if (r.status !== 200) return null;
      return Buffer.from(await r.arrayBuffer());
    },
    async listKeys(prefix = '') {
      const r = await fetch(`${direct}/${bucket}?list-type=2&prefix=${awsEncode(prefix)}`);
      const xml = await r.text();
      return [...xml.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]
        .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&'));
    },
    async stop() {
      const closed = new Promise((resolve) => proxy.close(resolve));
      proxy.closeAllConnections();
      await closed;
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
