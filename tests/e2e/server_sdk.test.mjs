// The real OpenTelemetry JS exporters against the real server: the
// OTLPLogExporter / OTLPTraceExporter / OTLPMetricExporter of both the
// -otlp-proto (protobuf) and -otlp-http (JSON) packages, uncompressed and
// with compression 'gzip' (chunked bodies, as these exporters always send),
// deliver SDK telemetry holding every attribute type, every log body type,
// all span kinds and statuses, events, links, trace state and every metric
// kind the SDK makes (lib/otel_sdk.mjs).  After SIGTERM the Parquet files,
// read with DuckDB, must hold exactly the rows spec §2 says, value for value
// (expected rows computed in JS from the SDK's own readable objects).
//
// A second part runs short-lived SDK providers (batch processors and a
// periodic metric reader) wired to the exporters, flushed with
// forceFlush/shutdown, against a server with batch.max_age_secs = 1: the
// rows must reach Parquet by age alone, before any SIGTERM.
import test from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';

import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as LogsJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter as TracesProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as TracesJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPMetricExporter as MetricsJson } from '@opentelemetry/exporter-metrics-otlp-http';

import { openDuckDB } from './lib/duckdb.mjs';
import { listParquet, mapObject, readRows, rowKey, rowSet, TABLE_DIRS } from './lib/convert.mjs';
import { expectedLogRows, expectedMetricRows, expectedSpanRows, makeSdkTelemetry } from './lib/otel_sdk.mjs';
import { parseProm, serverMissing, startServer, stopAllServers } from './lib/server.mjs';

const MISSING = serverMissing();
const TABLES = Object.keys(TABLE_DIRS);
const METRIC_TABLES = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'];
const EXPORTERS = {
  proto: { logs: LogsProto, traces: TracesProto, metrics: MetricsProto },
  http: { logs: LogsJson, traces: TracesJson, metrics: MetricsJson },
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

function makeExporter(pkg, signal, srv, compression) {
  const Exporter = EXPORTERS[pkg][signal];
  return new Exporter({ url: srv.url(`/v1/${signal}`), compression, timeoutMillis: 15000 });
}

/** exporter.export() as a promise of its ExportResult. */
function exportOnce(exporter, items) {
  return new Promise((resolve) => exporter.export(items, resolve));
}

const ROW_ID = {
  logs: (r) => `${r.Timestamp}|${r.ScopeName}|${r.Body}`,
  traces: (r) => r.SpanId,
};
const metricId = (r) => `${r.MetricName}|${JSON.stringify(r.Attributes)}`;

/**
 * Compares row sets (order-free, exact); on a difference, pairs rows by
 * identity and names every differing column (and map key) with got/expected.
 */
function assertRows(label, table, got, want) {
  if (isDeepStrictEqual(rowSet(got), rowSet(want))) return;
  const id = ROW_ID[table] ?? metricId;
  const problems = [`${label} ${table}: ${got.length} rows, expected ${want.length}`];
  const byId = new Map();
  for (const r of got) byId.set(id(r), [...(byId.get(id(r)) ?? []), r]);
  for (const w of want) {
    const list = byId.get(id(w));
    if (!list?.length) {
      problems.push(`  missing row ${id(w)}`);
      continue;
    }
    const g = list.shift();
    for (const col of new Set([...Object.keys(w), ...Object.keys(g)])) {
      if (rowKey({ v: g[col] }) === rowKey({ v: w[col] })) continue;
      if (Array.isArray(w[col]) && w[col].every((p) => Array.isArray(p) && p.length === 2)) {
        const gm = mapObject(g[col]);
        const wm = mapObject(w[col]);
        for (const k of new Set([...Object.keys(wm), ...Object.keys(gm)])) {
          if (gm[k] !== wm[k]) problems.push(`  row ${id(w)} ${col}[${JSON.stringify(k)}]: got ${JSON.stringify(gm[k])}, expected ${JSON.stringify(wm[k])}`);
        }
        if (isDeepStrictEqual(gm, wm)) problems.push(`  row ${id(w)} ${col}: same pairs, different order`);
      } else {
        problems.push(`  row ${id(w)} ${col}: got ${rowKey({ v: g[col] }).slice(5, 500)}, expected ${rowKey({ v: w[col] }).slice(5, 500)}`);
      }
    }
  }
  for (const [k, list] of byId) for (let i = 0; i < list.length; i++) problems.push(`  unexpected row ${k}`);
  assert.fail(problems.slice(0, 60).join('\n'));
}

async function readAll(dir) {
  const rows = {};
  for (const t of TABLES) rows[t] = await readRows(db, dir, t);
  return rows;
}

// ------------------------------------------- exporters × compression ---

for (const pkg of ['proto', 'http']) {
  for (const compression of ['none', 'gzip']) {
    const name = `${pkg === 'proto' ? 'exporter-*-otlp-proto (protobuf)' : 'exporter-*-otlp-http (JSON)'}, compression ${compression}`;
    test(`${name}: every value the SDK sent comes back from Parquet`, { skip: MISSING ?? false }, async () => {
      const srv = await startServer({ env: { OTLP2PARQUET_BATCH_MAX_AGE_SECS: '3600' } });
      try {
        // The JSON serializer cannot carry NaN/±Inf/huge integers (see
        // lib/otel_sdk.mjs): the edge sets go over protobuf only.
        const sends = [
          ['logs', tel.logs], ['traces', tel.spans], ['metrics', tel.metrics],
          ...(pkg === 'proto' ? [['logs', tel.edgeLogs], ['traces', tel.edgeSpans]] : []),
        ];
        for (const [signal, items] of sends) {
          const exporter = makeExporter(pkg, signal, srv, compression);
          const result = await exportOnce(exporter, items);
          await exporter.shutdown();
          assert.equal(result.code, 0, `${signal} export failed: ${result.error?.message}\n${srv.describe()}`);
        }
        // The server saw the encoding we meant: gzip bodies are smaller on
        // the wire than decompressed, identity bodies are the same size.
        const m = parseProm(await srv.metrics());
        for (const route of ['/v1/logs', '/v1/traces', '/v1/metrics']) {
          assert.equal(m.value('otlp2parquet_http_requests_total', { route, status: '200' }), sends.filter(([s]) => `/v1/${s}` === route).length, `${route} 200s`);
          const wire = m.value('otlp2parquet_http_request_body_bytes_total', { route });
          const plain = m.value('otlp2parquet_http_request_decompressed_bytes_total', { route });
          assert.ok(wire > 0, `${route} body bytes counted`);
          if (compression === 'gzip') assert.ok(wire < plain, `${route}: gzip on the wire (${wire} < ${plain})`);
          else assert.equal(wire, plain, `${route}: identity body`);
        }
        const stopped = await srv.stop();
        assert.deepEqual(stopped, { code: 0, signal: null }, srv.describe());

        const rows = await readAll(srv.outDir);
        const want = {
          logs: expectedLogRows(pkg === 'proto' ? [...tel.logs, ...tel.edgeLogs] : tel.logs),
          traces: expectedSpanRows(pkg === 'proto' ? [...tel.spans, ...tel.edgeSpans] : tel.spans),
          ...expectedMetricRows(tel.metrics),
        };
        for (const t of TABLES) assertRows(name, t, rows[t], want[t] ?? []);

        // Literal spot checks, independent of the JS oracle.
        const first = rows.logs.find((r) => r.Body === 'hello world');
        const a = mapObject(first.LogAttributes);
        assert.deepEqual(
          [a['bool.true'], a['int.neg'], a['double.0.1'], a['double.small'], a['arr.int'], a['bytes'], a['map.bytes'], a['null.top']],
          ['true', '-7', '0.1', '1e-7', '[1,-2,3]', 'AAEC/f7/', '{"b":"aGk="}', ''],
        );
        assert.deepEqual([first.TraceId, first.SpanId, first.TraceFlags, first.SeverityNumber, first.SeverityText], ['5b8efff798038103d269b633813fc60c', 'eee19b7ec3c1b174', 1, 9, 'INFO']);
        assert.equal(first.Timestamp, 1718000001123456n);
        const server = rows.traces.find((s) => s.SpanKind === 'SPAN_KIND_SERVER' && s.SpanName === 'GET /api/items');
        assert.deepEqual([server.TraceId, server.ParentSpanId, server.StatusCode, server.StatusMessage, server.TraceState, server.Duration],
          ['0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', 'STATUS_CODE_ERROR', 'boom: something "failed"', 'vendor1=abc,vendor2=x-y', 2111111111n]);
        assert.deepEqual(server.Links[0].Attributes, [['link.str', 'v'], ['link.int', '2'], ['link.arr', '[true,false]']]);
        const lat = rows.histogram.find((r) => r.MetricName === 'latency' && mapObject(r.Attributes).route === '/a');
        assert.deepEqual([lat.Count, lat.Sum, lat.Min, lat.Max, lat.AggregationTemporality], [7n, 2565, 0, 2000, 1]);
        assert.deepEqual(lat.BucketCounts, [1n, 1n, 2n, 1n, 1n, 1n]);
        if (pkg === 'proto') {
          const e = mapObject(rows.logs.find((r) => mapObject(r.LogAttributes)['double.nan'] !== undefined).LogAttributes);
          assert.deepEqual([e['double.nan'], e['double.inf'], e['double.1e21'], e['int.neg.2p62']], ['NaN', '+Inf', '1e+21', '-4611686018427387904']);
        }
        // One file per (table, service, hour): the logs span two hours.
        const logFiles = listParquet(srv.outDir, 'logs');
        assert.deepEqual([...new Set(logFiles.map((f) => f.match(/hour=(\d\d)/)[1]))].sort(), ['06', '07'], logFiles.join('\n'));
        assert.ok(logFiles.every((f) => f.startsWith('logs/sdk-roundtrip/year=2024/month=06/day=10/')), logFiles.join('\n'));
      } finally {
        await srv.stop('SIGKILL', 5000);
      }
    });
  }
}

// ------------------------------------------- providers, flushed by age ---

/** Wraps exporter.export to record what the SDK handed it and the results. */
function recording(exporter) {
  const sent = [];
  const results = [];
  const orig = exporter.export.bind(exporter);
  exporter.export = (items, cb) => {
    sent.push(items);
    orig(items, (res) => {
      results.push(res);
      cb(res);
    });
  };
  return { exporter, sent, results };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

for (const [pkg, compression] of [['proto', 'gzip'], ['http', 'none']]) {
  test(`SDK providers → ${pkg} exporters (${compression}): batch.max_age_secs=1 flushes without SIGTERM, values exact`, { skip: MISSING ?? false }, async () => {
    const srv = await startServer({ env: { OTLP2PARQUET_BATCH_MAX_AGE_SECS: '1' } });
    try {
      const service = `providers-${pkg}`;
      const resource = resourceFromAttributes({ 'service.name': service, 'host.id': 42, 'ok': true });
      const now = Date.now();
      const logs = recording(makeExporter(pkg, 'logs', srv, compression));
      const loggerProvider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: logs.exporter, scheduledDelayMillis: 50, maxExportBatchSize: 64 })] });
      const logger = loggerProvider.getLogger('provider-logger', '0.1.0');
      for (let i = 0; i < 200; i++) {
        logger.emit({ timestamp: now + i, severityNumber: SeverityNumber.INFO + (i % 4), severityText: `S${i % 4}`, body: `log ${i}`, attributes: { i, even: i % 2 === 0, ratio: i / 8, tags: [`t${i}`] } });
      }
      const spans = recording(makeExporter(pkg, 'traces', srv, compression));
      const tracerProvider = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter: spans.exporter, scheduledDelayMillis: 50, maxExportBatchSize: 32 })] });
      const tracer = tracerProvider.getTracer('provider-tracer', '0.2.0');
      for (let i = 0; i < 50; i++) {
        const parent = tracer.startSpan(`op ${i}`, { kind: SpanKind.SERVER, startTime: now + 10 * i, attributes: { i } });
        const child = tracer.startSpan(`child ${i}`, { kind: SpanKind.CLIENT, startTime: now + 10 * i + 2 }, trace.setSpan(context.active(), parent));
        child.addEvent('ev', { n: i }, now + 10 * i + 3);
        child.setStatus({ code: i % 3 === 0 ? SpanStatusCode.ERROR : SpanStatusCode.OK, message: i % 3 === 0 ? `failed ${i}` : undefined });
        child.end(now + 10 * i + 5);
        parent.end(now + 10 * i + 9);
      }
      const metrics = recording(makeExporter(pkg, 'metrics', srv, compression));
      const reader = new PeriodicExportingMetricReader({ exporter: metrics.exporter, exportIntervalMillis: 60000 });
      const meterProvider = new MeterProvider({ resource, readers: [reader] });
      const meter = meterProvider.getMeter('provider-meter');
      const counter = meter.createCounter('provider.requests');
      const hist = meter.createHistogram('provider.latency', { unit: 'ms' });
      const gauge = meter.createGauge('provider.temp');
      for (let i = 0; i < 30; i++) {
        counter.add(i, { route: `/r${i % 3}` });
        hist.record(i * 1.5, { route: `/r${i % 3}` });
        gauge.record(i - 10.25, { room: `k${i % 2}` });
      }
      await Promise.all([loggerProvider.forceFlush(), tracerProvider.forceFlush(), meterProvider.forceFlush()]);
      await Promise.all([loggerProvider.shutdown(), tracerProvider.shutdown(), meterProvider.shutdown()]);
      for (const [signal, rec] of [['logs', logs], ['traces', spans], ['metrics', metrics]]) {
        assert.ok(rec.results.length > 0, `${signal}: the SDK exported something`);
        for (const res of rec.results) assert.equal(res.code, 0, `${signal} export: ${res.error?.message}`);
      }
      const sentLogs = logs.sent.flat();
      const sentSpans = spans.sent.flat();
      assert.equal(sentLogs.length, 200);
      assert.equal(sentSpans.length, 100);
      assert.ok(logs.sent.length > 1 && spans.sent.length > 1, 'several export requests per signal');

      // batch.max_age_secs = 1: files appear without a shutdown.
      const want = { logs: expectedLogRows(sentLogs), traces: expectedSpanRows(sentSpans) };
      for (const t of METRIC_TABLES) want[t] = [];
      for (const rm of metrics.sent) {
        const m = expectedMetricRows(rm);
        for (const t of METRIC_TABLES) want[t].push(...m[t]);
      }
      const deadline = Date.now() + 15000;
      let prom;
      for (;;) {
        prom = parseProm(await srv.metrics());
        const written = TABLES.reduce((n, t) => n + prom.value('otlp2parquet_rows_written_total', { table: `otel_${t === 'logs' || t === 'traces' ? t : `metrics_${t}`}` }), 0);
        const total = TABLES.reduce((n, t) => n + want[t].length, 0);
        if (written >= total && prom.value('otlp2parquet_buffered_rows') === 0) break;
        assert.ok(Date.now() < deadline, `rows not flushed by age within 15 s (written ${written} of ${total})\n${srv.describe()}`);
        await sleep(200);
      }
      const beforeStop = await readAll(srv.outDir);
      for (const t of TABLES) assertRows(`${pkg} providers (before SIGTERM)`, t, beforeStop[t], want[t]);

      const stopped = await srv.stop();
      assert.deepEqual(stopped, { code: 0, signal: null }, srv.describe());
      const after = await readAll(srv.outDir);
      for (const t of TABLES) assertRows(`${pkg} providers (after SIGTERM)`, t, after[t], want[t]);
      // Spot checks on values the SDK computed.
      const sum = after.sum.find((r) => r.MetricName === 'provider.requests' && mapObject(r.Attributes).route === '/r0');
      assert.equal(sum.Value, [0, 3, 6, 9, 12, 15, 18, 21, 24, 27].reduce((a, b) => a + b, 0));
      assert.equal(sum.AggregationTemporality, 2, 'CUMULATIVE');
      assert.equal(sum.IsMonotonic, true);
      const l7 = after.logs.find((r) => r.Body === 'log 7');
      assert.deepEqual(l7.LogAttributes, [['i', '7'], ['even', 'false'], ['ratio', '0.875'], ['tags', '["t7"]']]);
      assert.equal(l7.ServiceName, service);
      assert.deepEqual(l7.ResourceAttributes.filter(([k]) => k === 'host.id' || k === 'ok'), [['host.id', '42'], ['ok', 'true']]);
      const c3 = after.traces.find((r) => r.SpanName === 'child 3');
      const p3 = after.traces.find((r) => r.SpanName === 'op 3');
      assert.equal(c3.ParentSpanId, p3.SpanId);
      assert.equal(c3.TraceId, p3.TraceId);
      assert.match(c3.TraceId, /^[0-9a-f]{32}$/);
      assert.deepEqual([c3.StatusCode, c3.StatusMessage, c3.SpanKind, c3.Duration], ['STATUS_CODE_ERROR', 'failed 3', 'SPAN_KIND_CLIENT', 3000000n]);
    } finally {
      await srv.stop('SIGKILL', 5000);
    }
  });
}
