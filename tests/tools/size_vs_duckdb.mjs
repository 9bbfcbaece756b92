// size_vs_duckdb: measures spec §9's file-quality target — our Parquet for a
// set of log records must be no larger than DuckDB's zstd Parquet of the
// same rows.  Generates deterministic, realistic OTLP/JSON log records,
// converts them with `otlp2parquet convert`, rewrites the result with
// DuckDB (COPY ... COMPRESSION zstd) and prints one JSON object:
//   {records, ours_bytes, duckdb_bytes, ratio, columns: [{column, ours, duckdb}]}
//
//   node tests/tools/size_vs_duckdb.mjs --bin build/otlp2parquet [--records 20000]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const bin = path.resolve(opt('--bin', 'build/otlp2parquet'));
const records = Number(opt('--records', '20000'));
const perRequest = 1000;

// xorshift64*: deterministic and well-mixed (ids must look random)
let state = 0x9e3779b97f4a7c15n;
const next = () => {
  state ^= state >> 12n; state ^= (state << 25n) & 0xffffffffffffffffn; state ^= state >> 27n;
  return ((state * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn) >> 11n;
};
const rnd = () => Number(next()) / 2 ** 53;
const hex = (bytes) => Array.from({ length: bytes }, () => Math.floor(rnd() * 256).toString(16).padStart(2, '0')).join('');
const pick = (xs) => xs[Math.floor(rnd() * xs.length)];

const routes = ['/api/users', '/api/orders/{id}', '/api/cart', '/health', '/api/products/{id}', '/api/checkout'];
const services = ['checkout', 'cart', 'frontend'];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2p-size-'));
try {
  const lines = [];
  let t = 1767225600000000000n;
  for (let r = 0; r < records / perRequest; r++) {
    const recs = [];
    for (let i = 0; i < perRequest; i++) {
      t += BigInt(Math.floor(rnd() * 2e6));
      const route = pick(routes);
      const status = rnd() < 0.9 ? 200 : pick([404, 500, 503]);
      const ms = Math.floor(rnd() * 800);
      recs.push({
        timeUnixNano: t.toString(), observedTimeUnixNano: (t + BigInt(Math.floor(rnd() * 5e5))).toString(),
        severityNumber: status < 400 ? 9 : 17, severityText: status < 400 ? 'INFO' : 'ERROR',
        body: { stringValue: `${route} answered ${status} in ${ms} ms for user ${Math.floor(rnd() * 5000)}` },
        traceId: hex(16), spanId: hex(8), flags: 1,
        attributes: [
          { key: 'http.route', value: { stringValue: route } },
          { key: 'http.response.status_code', value: { intValue: status } },
          { key: 'duration_ms', value: { doubleValue: ms + rnd() } },
          { key: 'user.id', value: { stringValue: 'u' + Math.floor(rnd() * 5000) } },
          { key: 'retry', value: { boolValue: rnd() < 0.05 } },
        ],
      });
    }
    lines.push(JSON.stringify({ resourceLogs: [{
      resource: { attributes: [
        { key: 'service.name', value: { stringValue: pick(services) } },
        { key: 'host.name', value: { stringValue: 'node-' + Math.floor(rnd() * 8) } },
        { key: 'service.version', value: { stringValue: '1.4.2' } }] },
      scopeLogs: [{ scope: { name: 'app', version: '1.0' }, logRecords: recs }],
    }] }));
  }
  const input = path.join(dir, 'logs.jsonl');
  fs.writeFileSync(input, lines.join('\n') + '\n');
  const out = path.join(dir, 'out');
  execFileSync(bin, ['convert', input, '-o', out], { stdio: 'pipe' });
  const files = [];
  const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name); if (e.isDirectory()) walk(p); else if (p.endsWith('.parquet')) files.push(p); } };
  walk(out);
  const ours = files.reduce((n, f) => n + fs.statSync(f).size, 0);

  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const list = '[' + files.map((f) => `'${f}'`).join(',') + ']';
  // One DuckDB file per file of ours (same rows per file), so footers compare like for like.
  let duck = 0;
  const cols = new Map();
  for (let i = 0; i < files.length; i++) {
    const dst = path.join(dir, `duck-${i}.parquet`);
    await c.run(`COPY (SELECT * FROM read_parquet('${files[i]}')) TO '${dst}' (FORMAT parquet, COMPRESSION zstd)`);
    duck += fs.statSync(dst).size;
    for (const [file, side] of [[files[i], 'ours'], [dst, 'duckdb']]) {
      const r = await c.runAndReadAll(`SELECT path_in_schema p, sum(total_compressed_size)::BIGINT s FROM parquet_metadata('${file}') GROUP BY 1`);
      for (const row of r.getRowObjectsJson()) {
        const e = cols.get(row.p) || { column: row.p, ours: 0, duckdb: 0 };
        e[side] += Number(row.s);
        cols.set(row.p, e);
      }
    }
  }
  const rows = Number((await c.runAndReadAll(`SELECT count(*)::BIGINT n FROM read_parquet(${list})`)).getRowObjectsJson()[0].n);
  if (rows !== records) throw new Error(`expected ${records} rows, read ${rows}`);
  const columns = [...cols.values()].sort((a, b) => b.ours - a.ours);
  console.log(JSON.stringify({ records, files: files.length, ours_bytes: ours, duckdb_bytes: duck,
    ratio: ours / duck, columns }));
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
