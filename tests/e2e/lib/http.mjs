/**
 * Raw HTTP and hand-made OTLP for server end-to-end tests.
 *
 *   const r = await httpRequest(port, { method: 'POST', path: '/v1/logs',
 *       headers: { 'Content-Type': 'application/json' }, body: '{}' });
 *   r.status, r.headers (lower-case names), r.body (Buffer), r.text, r.json()
 *
 * Unlike fetch, nothing is added behind our back: no Content-Type unless
 * given, Content-Length only for non-chunked bodies, and opts.chunked sends
 * the body with Transfer-Encoding: chunked in opts.chunkSize pieces.
 *
 * Protobuf is written and read by hand here (a few wire-format helpers),
 * independent of the SDK's serializers and of the C code under test:
 *   logsRequestPb(service, records)    ExportLogsServiceRequest bytes
 *   logsRequestJson(service, records)  the same as an OTLP/JSON object
 *   decodeStatus(buf)                  google.rpc.Status {code, message}
 *   decodeExportResponse(buf)          {rejected, errorMessage} (partial_success)
 */
import http from 'node:http';

/**
 * One HTTP/1.1 request to 127.0.0.1:port.  opts: method, path, headers,
 * body (string|Buffer|Uint8Array), chunked, chunkSize (default 16 KiB),
 * agent (default: a fresh connection), timeoutMs (default 30 s).
 * Resolves when the response is complete; a socket error after the
 * response started (the server closing an over-limit upload) is ignored.
 */
export function httpRequest(port, opts = {}) {
  const body = opts.body === undefined ? null : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
  const headers = { ...(opts.headers ?? {}) };
  if (body && !opts.chunked && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-length')) headers['Content-Length'] = String(body.length);
  if (opts.chunked) headers['Transfer-Encoding'] = 'chunked';
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = http.request({
      host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path ?? '/', headers,
      agent: opts.agent ?? false, timeout: opts.timeoutMs ?? 30000,
    }, (res) => {
      responded = true;
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({
          status: res.statusCode,
          headers: res.headers,
          body: buf,
          text: buf.toString('utf8'),
          json() {
            try { return JSON.parse(buf.toString('utf8')); } catch (e) { throw new Error(`response is not JSON (${e.message}): ${buf.toString('utf8').slice(0, 300)}`); }
          },
        });
      });
      res.on('error', (e) => reject(e));
    });
    req.on('timeout', () => req.destroy(new Error(`${opts.method ?? 'GET'} ${opts.path} timed out`)));
    req.on('error', (e) => { if (!responded) reject(e); });
    if (!body) {
      req.end();
    } else if (!opts.chunked) {
      req.end(body);
    } else {
      const size = opts.chunkSize ?? 16384;
      let off = 0;
      const pump = () => {
        while (off < body.length) {
          const piece = body.subarray(off, off + size);
          off += piece.length;
          if (!req.write(piece)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    }
  });
}

// ------------------------------------------------------------ protobuf --

/** Varint bytes of a non-negative number or bigint (negative int64: two's complement). */
export function varint(v) {
  let n = BigInt(v);
  if (n < 0n) n += 1n << 64n;
  const out = [];
  while (n >= 0x80n) {
    out.push(Number((n & 0x7fn) | 0x80n));
    n >>= 7n;
  }
  out.push(Number(n));
  return Buffer.from(out);
}
const tag = (field, wire) => varint((field << 3) | wire);
/** Field helpers: each returns the bytes of one field. */
export const pb = {
  varint: (f, v) => Buffer.concat([tag(f, 0), varint(v)]),
  fixed64: (f, v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); return Buffer.concat([tag(f, 1), b]); },
  double: (f, v) => { const b = Buffer.alloc(8); b.writeDoubleLE(v); return Buffer.concat([tag(f, 1), b]); },
  bytes: (f, v) => { const b = Buffer.from(v); return Buffer.concat([tag(f, 2), varint(b.length), b]); },
  string: (f, s) => pb.bytes(f, Buffer.from(String(s), 'utf8')),
  msg: (f, parts) => pb.bytes(f, Buffer.concat(parts)),
};

/** KeyValue with a string AnyValue. */
function pbKv(field, key, value) {
  return pb.msg(field, [pb.string(1, key), pb.msg(2, [pb.string(1, value)])]);
}

/**
 * ExportLogsServiceRequest with one resource (service.name = service) and
 * one scope 'e2e'.  records: [{timeNs (bigint), body (string), severity
 * (number), attrs ({k: string})}].
 */
export function logsRequestPb(service, records) {
  const recs = records.map((r) => pb.msg(2, [
    pb.fixed64(1, r.timeNs),
    ...(r.severity ? [pb.varint(2, r.severity)] : []),
    pb.msg(5, [pb.string(1, r.body ?? '')]),
    ...Object.entries(r.attrs ?? {}).map(([k, v]) => pbKv(6, k, v)),
  ]));
  return Buffer.concat([pb.msg(1, [
    pb.msg(1, [pbKv(1, 'service.name', service)]),
    pb.msg(2, [pb.msg(1, [pb.string(1, 'e2e')]), ...recs]),
  ])]);
}

/** The same request as an OTLP/JSON object. */
export function logsRequestJson(service, records) {
  return {
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeLogs: [{
        scope: { name: 'e2e' },
        logRecords: records.map((r) => ({
          timeUnixNano: String(r.timeNs),
          ...(r.severity ? { severityNumber: r.severity } : {}),
          body: { stringValue: r.body ?? '' },
          attributes: Object.entries(r.attrs ?? {}).map(([k, v]) => ({ key: k, value: { stringValue: v } })),
        })),
      }],
    }],
  };
}

/** Splits protobuf bytes into [{field, wire, value}] (value: bigint or Buffer). */
export function pbFields(buf) {
  const out = [];
  let i = 0;
  const readVarint = () => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
      shift += 7n;
      if (shift > 63n) throw new Error('varint too long');
    }
  };
  while (i < buf.length) {
    const key = Number(readVarint());
    const field = key >> 3;
    const wire = key & 7;
    let value;
    if (wire === 0) value = readVarint();
    else if (wire === 1) { value = buf.subarray(i, i + 8); i += 8; }
    else if (wire === 5) { value = buf.subarray(i, i + 4); i += 4; }
    else if (wire === 2) {
      const len = Number(readVarint());
      if (i + len > buf.length) throw new Error('truncated length-delimited field');
      value = buf.subarray(i, i + len);
      i += len;
    } else throw new Error(`unexpected wire type ${wire}`);
    out.push({ field, wire, value });
  }
  return out;
}

/** google.rpc.Status { int32 code = 1; string message = 2; } */
export function decodeStatus(buf) {
  const s = { code: 0, message: '' };
  for (const f of pbFields(Buffer.from(buf))) {
    if (f.field === 1 && f.wire === 0) s.code = Number(BigInt.asIntN(32, f.value));
    else if (f.field === 2 && f.wire === 2) s.message = f.value.toString('utf8');
  }
  return s;
}

/** Export*ServiceResponse { partial_success = 1 { int64 rejected = 1; string error_message = 2; } } */
export function decodeExportResponse(buf) {
  const r = { hasPartialSuccess: false, rejected: 0n, errorMessage: '' };
  for (const f of pbFields(Buffer.from(buf))) {
    if (f.field !== 1 || f.wire !== 2) continue;
    r.hasPartialSuccess = true;
    for (const g of pbFields(f.value)) {
      if (g.field === 1 && g.wire === 0) r.rejected = g.value;
      else if (g.field === 2 && g.wire === 2) r.errorMessage = g.value.toString('utf8');
    }
  }
  return r;
}

/** A keep-alive agent for many requests from one client. */
export function keepAliveAgent(maxSockets = 1) {
  return new http.Agent({ keepAlive: true, maxSockets });
}
