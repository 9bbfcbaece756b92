// Real-client round trip: telemetry made by the OpenTelemetry JS SDK
// (attributes of every type, every log body type, events, links, trace
// state, span kinds, statuses, every metric kind the SDK makes), serialized
// by the SDK's own OTLP serializers (protobuf and JSON) to files, converted
// with `otlp2parquet convert`, and read back with DuckDB: every value the SDK
// was given must come back exactly per spec §2 (expected strings computed in
// JS from the SDK's readable objects, lib/otel_sdk.mjs + lib/expect.mjs),
// and protobuf and JSON must give identical rows.
//
// Not covered because the JS SDK cannot produce it: summary metrics,
// exemplars, double -0, duplicate attribute keys (see lib/otel_sdk.mjs).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';

import { openDuckDB } from './lib/duckdb.mjs';
import { binaryMissing, cleanupTemp, convert, listParquet, mapObject, readRows, rowKey, rowSet, TABLE_DIRS, tempDir } from './lib/convert.mjs';
import { expectedRowsFromJson } from './lib/expect.mjs';
import { checkLayout } from './lib/layout.mjs';
import { expectedLogRows, expectedMetricRows, expectedSpanRows, makeSdkTelemetry, serialize } from './lib/otel_sdk.mjs';

const TABLES = Object.keys(TABLE_DIRS);
const METRIC_TABLES = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'];
const MISSING = binaryMissing();

let db;
let tel;
let dir; // where the SDK's request files are written
const expected = {}; // name -> {table: rows}
const outputs = {}; // file name -> {run, rows}

// Files to convert: name, signal, items, formats.
function fileSet() {
  return [
    ['sdk_logs', 'logs', tel.logs, ['pb', 'json']],
    ['sdk_traces', 'traces', tel.spans, ['pb', 'json']],
    ['sdk_metrics', 'metrics', tel.metrics, ['pb', 'json']],
    // NaN, ±Infinity and integral doubles >= 2^63 have no valid OTLP/JSON form from the JS SDK.
    ['sdk_edge_logs', 'logs', tel.edgeLogs, ['pb']],
    ['sdk_edge_traces', 'traces', tel.edgeSpans, ['pb']],
  ];
}

test.before(async () => {
  db = await openDuckDB({ threads: '2' });
  tel = await makeSdkTelemetry();
  dir = tempDir('sdk');
  expected.sdk_logs = { logs: expectedLogRows(tel.logs) };
  expected.sdk_edge_logs = { logs: expectedLogRows(tel.edgeLogs) };
  expected.sdk_traces = { traces: expectedSpanRows(tel.spans) };
  expected.sdk_edge_traces = { traces: expectedSpanRows(tel.edgeSpans) };
  expected.sdk_metrics = expectedMetricRows(tel.metrics);
  for (const [name, signal, items, formats] of fileSet()) {
    for (const f of formats) fs.writeFileSync(path.join(dir, `${name}.${f}`), serialize(signal, items, f));
  }
});
test.after(() => {
  db?.close();
  cleanupTemp();
});

async function output(file) {
  if (MISSING) throw new Error(MISSING);
  if (!outputs[file]) {
    const run = convert([path.join(dir, file)]);
    assert.equal(run.status, 0, `convert failed:\n${run.describe()}`);
    const rows = {};
    for (const t of TABLES) rows[t] = await readRows(db, run.dir, t);
    outputs[file] = { run, rows };
  }
  return outputs[file];
}

const ROW_ID = {
  logs: (r) => `${r.Timestamp}|${r.ScopeName}`,
  traces: (r) => r.SpanId,
};
const metricId = (r) => `${r.MetricName}|${JSON.stringify(r.Attributes)}`;

/**
 * Compares row sets; on a difference, pairs rows by identity and lists the
 * columns that differ (got vs expected), so a failure names the value.
 */
function assertRows(label, table, got, want) {
  if (isDeepStrictEqual(rowSet(got), rowSet(want))) return;
  const id = ROW_ID[table] ?? metricId;
  const problems = [`${label} ${table}: ${got.length} rows, expected ${want.length}`];
  const byId = new Map(got.map((r) => [id(r), r]));
  for (const w of want) {
    const g = byId.get(id(w));
    if (!g) {
      problems.push(`  missing row ${id(w)}`);
      continue;
    }
    byId.delete(id(w));
    for (const col of new Set([...Object.keys(w), ...Object.keys(g)])) {
      if (rowKey({ v: g[col] }) !== rowKey({ v: w[col] })) {
        if (Array.isArray(w[col]) && w[col].every((p) => Array.isArray(p) && p.length === 2)) {
          // A map: name the keys whose values differ.
          const gm = mapObject(g[col]);
          const wm = mapObject(w[col]);
          for (const k of new Set([...Object.keys(wm), ...Object.keys(gm)])) {
            if (gm[k] !== wm[k]) problems.push(`  row ${id(w)} ${col}[${JSON.stringify(k)}]: got ${JSON.stringify(gm[k])}, expected ${JSON.stringify(wm[k])}`);
          }
          if (isDeepStrictEqual(gm, wm)) problems.push(`  row ${id(w)} ${col}: same pairs, different order: got ${JSON.stringify(g[col].map((p) => p[0]))}`);
        } else {
          problems.push(`  row ${id(w)} ${col}: got ${rowKey({ v: g[col] }).slice(5, -1).slice(0, 600)}, expected ${rowKey({ v: w[col] }).slice(5, -1).slice(0, 600)}`);
        }
      }
    }
  }
  for (const k of byId.keys()) problems.push(`  unexpected row ${k}`);
  assert.fail(problems.slice(0, 60).join('\n'));
}

test('the SDK makes the telemetry this test relies on, and its serializers agree', () => {
  const bodies = new Set(tel.logs.map((l) => (l.body instanceof Uint8Array ? 'bytes' : Array.isArray(l.body) ? 'array' : l.body === undefined ? 'none' : typeof l.body)));
  assert.deepEqual([...bodies].sort(), ['array', 'boolean', 'bytes', 'none', 'number', 'object', 'string']);
  assert.deepEqual([...new Set(tel.spans.map((s) => s.kind))].sort(), [0, 1, 2, 3, 4], 'every API span kind');
  assert.deepEqual([...new Set(tel.spans.map((s) => s.status.code))].sort(), [0, 1, 2], 'every status code');
  assert.ok(tel.spans.some((s) => s.links.length === 2 && s.events.length === 2), 'a span with links and events');
  const m = expected.sdk_metrics;
  assert.ok(m.sum.some((r) => r.IsMonotonic) && m.sum.some((r) => !r.IsMonotonic), 'monotonic and non-monotonic sums');
  assert.ok(m.gauge.length >= 4 && m.histogram.length >= 2 && m.exponential_histogram.length >= 1, 'gauges, histograms, exponential histogram');
  assert.deepEqual(new Set(m.histogram.map((r) => r.AggregationTemporality)), new Set([1]), 'histograms are DELTA');
  assert.deepEqual(new Set(m.sum.map((r) => r.AggregationTemporality)), new Set([2]), 'sums are CUMULATIVE');
  assert.equal(m.summary.length, 0, 'the JS SDK makes no summaries');
  // The JSON the SDK writes, read by the independent OTLP/JSON oracle, must
  // expect the same rows as the readable objects: checks both oracles.
  const fromJson = (signal, items) => expectedRowsFromJson(JSON.parse(new TextDecoder().decode(serialize(signal, items, 'json'))));
  assert.deepEqual(rowSet(fromJson('logs', tel.logs).logs), rowSet(expected.sdk_logs.logs));
  assert.deepEqual(rowSet(fromJson('traces', tel.spans).traces), rowSet(expected.sdk_traces.traces));
  const jm = fromJson('metrics', tel.metrics);
  for (const t of METRIC_TABLES) assert.deepEqual(rowSet(jm[t] ?? []), rowSet(m[t]), t);
});

for (const [name, , , formats] of [
  ['sdk_logs', 0, 0, ['pb', 'json']], ['sdk_traces', 0, 0, ['pb', 'json']], ['sdk_metrics', 0, 0, ['pb', 'json']],
  ['sdk_edge_logs', 0, 0, ['pb']], ['sdk_edge_traces', 0, 0, ['pb']],
]) {
  for (const f of formats) {
    test(`${name}.${f}: every value comes back exactly (spec §2)`, async () => {
      const { rows } = await output(`${name}.${f}`);
      for (const t of TABLES) assertRows(`${name}.${f}`, t, rows[t], expected[name][t] ?? []);
    });
  }
}

test('protobuf and JSON from the SDK give identical rows', async () => {
  for (const name of ['sdk_logs', 'sdk_traces', 'sdk_metrics']) {
    const pb = (await output(`${name}.pb`)).rows;
    const js = (await output(`${name}.json`)).rows;
    for (const t of TABLES) assertRows(`${name}.json vs .pb`, t, js[t], pb[t]);
  }
});

// Literal spellings, independent of the JS oracle (which could share a
// mistake with the C code).
test('literal spellings of stringified values', async () => {
  const logs = (await output('sdk_logs.pb')).rows.logs;
  const first = logs.find((r) => r.Body === 'hello world');
  assert.ok(first, 'the log with every attribute type');
  const a = mapObject(first.LogAttributes);
  const want = {
    'bool.true': 'true', 'int.neg': '-7', 'int.2p53': '9007199254740992', 'int.minus.zero': '0',
    'double.0.1': '0.1', 'double.small': '1e-7', 'double.tiny': '5e-324', 'double.third': '0.3333333333333333',
    'arr.str': '["a","b",""]', 'arr.int': '[1,-2,3]', 'arr.double': '[1.5,0.1,-1e-7]', 'arr.with.null': '["x",null,"y"]',
    'map.nested': '{"outer":{"inner":[1,"x",false,{"deep":"yes"}]},"empty":{},"list":[]}',
    'bytes': 'AAEC/f7/', 'bytes.empty': '', 'map.bytes': '{"b":"aGk="}', 'null.top': '', 'str.empty': '',
  };
  for (const [k, v] of Object.entries(want)) assert.equal(a[k], v, `LogAttributes[${k}]`);
  assert.equal(first.TraceId, '5b8efff798038103d269b633813fc60c');
  assert.equal(first.SpanId, 'eee19b7ec3c1b174');
  assert.equal(first.TraceFlags, 1);
  assert.equal(first.Timestamp, 1718000001123456n, 'ns truncated to µs');
  assert.equal(first.ObservedTimestamp, 1718000002987654n);
  const bodies = logs.map((r) => r.Body);
  for (const b of ['42', '3.25', 'false', 'AJ+Slv8=', '["a",1,2.5,true,null,[1],{"k":"v"},"AQ=="]', '{"msg":"m","n":1,"d":0.1,"nested":{"x":[1,2]},"empty":{}}', '']) {
    assert.ok(bodies.includes(b), `a log Body ${JSON.stringify(b)} (got ${JSON.stringify(bodies)})`);
  }
  assert.equal(logs.find((r) => r.EventName === 'app.user.login')?.Body, '', 'absent body');

  const edge = (await output('sdk_edge_logs.pb')).rows.logs;
  const e = mapObject(edge.find((r) => r.LogAttributes.length)?.LogAttributes);
  assert.deepEqual(
    [e['double.nan'], e['double.inf'], e['double.ninf'], e['double.1e21'], e['double.1e20'], e['double.2p63'], e['double.max'], e['arr.nonfinite'], e['map.nonfinite'], e['int.neg.2p62'], e['int.2p62.plus']],
    ['NaN', '+Inf', '-Inf', '1e+21', '100000000000000000000', '9223372036854776000', '1.7976931348623157e+308', '["NaN","+Inf","-Inf",1e+21,0.5]', '{"n":"NaN","i":"-Inf","big":1e+300}', '-4611686018427387904', '4611686018427388928'],
  );
  assert.deepEqual(edge.map((r) => r.Body).sort(), ['-Inf', '1e+21', 'NaN', '["NaN","+Inf",1e+21]'].sort());

  const spans = (await output('sdk_traces.json')).rows.traces;
  assert.deepEqual([...new Set(spans.map((s) => s.SpanKind))].sort(), ['SPAN_KIND_CLIENT', 'SPAN_KIND_CONSUMER', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_SERVER']);
  const server = spans.find((s) => s.SpanKind === 'SPAN_KIND_SERVER');
  assert.equal(server.StatusCode, 'STATUS_CODE_ERROR');
  assert.equal(server.StatusMessage, 'boom: something "failed"');
  assert.equal(server.ParentSpanId, 'b7ad6b7169203331');
  assert.equal(server.TraceId, '0af7651916cd43dd8448eb211c80319c');
  assert.equal(server.TraceState, 'vendor1=abc,vendor2=x-y');
  assert.equal(server.Duration, 2111111111n, 'Duration in ns');
  assert.equal(server.Timestamp, 1718000100111111n);
  assert.deepEqual(server.Events.map((x) => [x.Timestamp, x.Name]), [[1718000100500000n, 'event.with.attrs'], [1718000101000000n, 'event.no.attrs']]);
  assert.deepEqual(server.Events[0].Attributes, [['ev.str', 'x'], ['ev.int', '1'], ['ev.double', '0.5'], ['ev.bool', 'true'], ['ev.arr', '["p","q"]']]);
  assert.deepEqual(server.Links[0], { TraceId: '4bf92f3577b34da6a3ce929d0e0e4736', SpanId: '00f067aa0ba902b7', TraceState: 'l1=one', Attributes: [['link.str', 'v'], ['link.int', '2'], ['link.arr', '[true,false]']] });
  assert.deepEqual(server.Links[1], { TraceId: 'ffffffffffffffffffffffffffffffff', SpanId: '0102030405060708', TraceState: '', Attributes: [] });
  assert.equal(spans.find((s) => s.SpanName === 'db.query').Duration, 1n);
  assert.equal(spans.find((s) => s.SpanName === 'compute').ParentSpanId, '', 'root span');

  const m = (await output('sdk_metrics.pb')).rows;
  const req = m.sum.find((r) => r.MetricName === 'requests' && mapObject(r.Attributes).route === '/a');
  assert.equal(req.Value, 7.5);
  assert.deepEqual(req.Attributes, [['route', '/a'], ['ok', 'true'], ['code', '200'], ['ratio', '0.25'], ['tags', '["x","y"]']]);
  assert.equal(m.sum.find((r) => r.MetricName === 'bytes.sent').Value, 1234567890123);
  assert.equal(m.sum.find((r) => r.MetricName === 'queue.depth').Value, -3.5);
  assert.equal(m.sum.find((r) => r.MetricName === 'queue.depth').IsMonotonic, false);
  assert.equal(m.gauge.find((r) => r.MetricName === 'threads').Value, -42);
  const lat = m.histogram.find((r) => r.MetricName === 'latency' && mapObject(r.Attributes).route === '/a');
  assert.deepEqual([lat.Count, lat.Sum, lat.Min, lat.Max], [7n, 2565, 0, 2000]);
  assert.deepEqual(lat.ExplicitBounds, [0, 5, 10, 100, 1000.5]);
  assert.deepEqual(lat.BucketCounts, [1n, 1n, 2n, 1n, 1n, 1n]);
});

test('SDK output layout: one file per (service, hour), names from the rows (spec §4)', async () => {
  for (const f of ['sdk_logs.pb', 'sdk_traces.json', 'sdk_metrics.pb', 'sdk_edge_logs.pb']) {
    const { run } = await output(f);
    await checkLayout(db, run.dir);
  }
  // The logs span three hours (06:xx, 07:xx and the last ns of 06:59:59.999999999).
  const hours = new Set(listParquet((await output('sdk_logs.pb')).run.dir).map((p) => p.match(/hour=(\d\d)/)[1]));
  assert.deepEqual([...hours].sort(), ['06', '07']);
});

test('all SDK files in one run give the union of the single runs', async () => {
  if (MISSING) throw new Error(MISSING);
  const files = ['sdk_logs.pb', 'sdk_traces.pb', 'sdk_metrics.json', 'sdk_edge_logs.pb'];
  const run = convert(files.map((f) => path.join(dir, f)));
  assert.equal(run.status, 0, run.describe());
  for (const t of TABLES) {
    const want = [];
    for (const f of files) want.push(...(await output(f)).rows[t]);
    assertRows('combined run', t, await readRows(db, run.dir, t), want);
  }
  await checkLayout(db, run.dir);
});
