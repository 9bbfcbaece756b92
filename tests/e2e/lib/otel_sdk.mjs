/**
 * Telemetry made by the real OpenTelemetry JS SDK (sdk-logs, sdk-trace,
 * sdk-metrics 3.x), captured as the SDK's own readable objects, serialized
 * with the SDK's own OTLP serializers (@opentelemetry/otlp-transformer), and
 * the rows spec §2 says each item must become (computed from those readable
 * objects with lib/expect.mjs).
 *
 *   const tel = await makeSdkTelemetry();
 *   tel.logs / tel.spans / tel.metrics      readable objects
 *   serialize('logs', tel.logs, 'pb')       Uint8Array (ExportLogsServiceRequest)
 *   expectedLogRows(tel.logs)               rows in lib/convert.mjs readRows shape
 *
 * "edge" sets (tel.edgeLogs, tel.edgeSpans) hold values the SDK's JSON
 * serializer cannot carry as valid OTLP/JSON (NaN/±Infinity become null,
 * integral doubles >= 2^63 become out-of-range intValue numbers, integers
 * above 2^53 lose digits): they are only sent as protobuf.
 *
 * What the SDK cannot produce, so these tests cannot cover: summary metrics,
 * exemplars (the transformer writes none), double -0 (the SDK sends -0 as
 * intValue 0), empty-string keys (dropped), duplicate keys.
 */
import { context, trace, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, ValueType } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { AggregationTemporality, AggregationType, DataPointType, InstrumentType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import {
  JsonLogsSerializer, JsonMetricsSerializer, JsonTraceSerializer,
  ProtobufLogsSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer,
} from '@opentelemetry/otlp-transformer';

import { hrNs, hrUs, jsAttr, jsAttrPairs, SPAN_KINDS, STATUS_CODES } from './expect.mjs';

// Fixed times (2024-06-10T06:13:20Z + ns): rows land in known hours, and the
// sub-microsecond digits check truncation to µs.
export const BASE_S = 1718000000;
const at = (ds, ns = 0) => [BASE_S + ds, ns];
const HOUR = 3600;

/** Attribute values of every type a span or log attribute can hold. */
export function scalarAttributes() {
  return {
    'str': 'hello',
    'str.empty': '',
    'str.unicode': 'héllo wörld 😀 日本',
    'str.escapes': 'quote " backslash \\ newline \n tab \t',
    'bool.true': true,
    'bool.false': false,
    'int.zero': 0,
    'int.pos': 42,
    'int.neg': -7,
    'int.2p53': 2 ** 53,
    'int.minus.zero': -0, // the SDK sends it as intValue 0
    'double.0.1': 0.1,
    'double.1.5': 1.5,
    'double.neg': -2.25,
    'double.small': 1e-7,
    'double.tiny': 5e-324,
    'double.mixed': 123456.789,
    'double.third': 1 / 3,
    'arr.str': ['a', 'b', ''],
    'arr.int': [1, -2, 3],
    'arr.double': [1.5, 0.1, -1e-7],
    'arr.bool': [true, false],
    'arr.empty': [],
    'arr.with.null': ['x', null, 'y'],
  };
}

/** AnyValue-only shapes (logs and span attributes allow them). */
export function nestedAttributes() {
  return {
    'map': { a: 1, b: 'two', c: true, d: 0.5 },
    'map.nested': { outer: { inner: [1, 'x', false, { deep: 'yes' }] }, empty: {}, list: [] },
    'map.empty': {},
    'arr.mixed': ['s', 1, 2.5, true, null, [1, [2]], { k: 'v' }],
    'bytes': new Uint8Array([0, 1, 2, 253, 254, 255]),
    'bytes.empty': new Uint8Array([]),
    'map.bytes': { b: new Uint8Array([104, 105]) },
    'map.unicode': { 'ключ': 'значение "q"\n' },
    'null.top': null, // an empty AnyValue at top level -> ""
  };
}

/** Values only protobuf can carry (see the module comment). */
export function edgeAttributes() {
  return {
    'double.nan': NaN,
    'double.inf': Infinity,
    'double.ninf': -Infinity,
    'double.1e21': 1e21,
    'double.max': Number.MAX_VALUE,
    // Exact in protobuf; the JSON serializer writes them with JSON.stringify, i.e.
    // rounded to 17 significant digits (-4611686018427388000): not sent as JSON.
    'int.neg.2p62': -(2 ** 62),
    'int.2p62.plus': 2 ** 62 + 2 ** 10,
    'double.1e20': 1e20,
    'double.2p63': 2 ** 63,
    'double.neg.2p64': -(2 ** 64),
    'arr.nonfinite': [NaN, Infinity, -Infinity, 1e21, 0.5],
    'map.nonfinite': { n: NaN, i: -Infinity, big: 1e300 },
  };
}

const SERVICE = 'sdk-roundtrip';

function resource(extra = {}) {
  return resourceFromAttributes({
    'service.name': SERVICE,
    'service.version': '9.8.7',
    'deployment.environment': 'test',
    'res.int': 17,
    'res.double': 2.5,
    'res.bool': true,
    'res.arr': ['r1', 'r2'],
    ...extra,
  });
}

// A sampled remote parent with a trace state, to check ParentSpanId and TraceState.
const PARENT = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
  traceState: new TraceState('vendor1=abc,vendor2=x-y'),
};

// ------------------------------------------------------------------ logs ---

async function makeLogs(withSpanContext) {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resource(), processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger('sdk-test-logger', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0', attributes: { 'scope.attr': 'sa', 'scope.n': 3 } });
  const other = provider.getLogger('second-logger'); // no version, no attributes
  const traced = trace.setSpanContext(ROOT_CONTEXT, withSpanContext);
  const records = [
    { timestamp: at(1, 123456789), observedTimestamp: at(2, 987654321), severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'hello world', attributes: { ...scalarAttributes(), ...nestedAttributes() }, context: traced },
    { timestamp: at(3), severityNumber: SeverityNumber.TRACE, severityText: 'trace', body: 42 },
    { timestamp: at(4), severityNumber: SeverityNumber.DEBUG4, body: 3.25 },
    { timestamp: at(5), severityNumber: SeverityNumber.WARN, severityText: 'WARNING', body: false },
    { timestamp: at(6), severityNumber: SeverityNumber.ERROR, body: new Uint8Array([0, 159, 146, 150, 255]) },
    { timestamp: at(7), severityNumber: SeverityNumber.FATAL4, body: ['a', 1, 2.5, true, null, [1], { k: 'v' }, new Uint8Array([1])] },
    { timestamp: at(8), body: { msg: 'm', n: 1, d: 0.1, nested: { x: [1, 2] }, empty: {} } },
    { timestamp: at(9), eventName: 'app.user.login', attributes: { 'user.id': 'u1' } }, // no body -> ""
    { timestamp: at(10), body: '' },
    { timestamp: at(11), body: 'unicode ✓ 😀 "quoted"\n' },
    // Another hour: the converter must split files by each row's own hour.
    { timestamp: at(HOUR + 1, 1), body: 'next hour', severityNumber: SeverityNumber.INFO2 },
    // The last nanosecond of an hour still belongs to it.
    { timestamp: [BASE_S - (BASE_S % HOUR) + HOUR - 1, 999999999], body: 'end of hour' },
  ];
  for (const r of records) logger.emit(r);
  other.emit({ timestamp: at(12), body: 'from the second scope', severityNumber: SeverityNumber.WARN3 });
  await provider.forceFlush();
  const logs = [...exporter.getFinishedLogRecords()];
  await provider.shutdown();
  return logs;
}

async function makeEdgeLogs() {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({ resource: resource(), processors: [new SimpleLogRecordProcessor({ exporter })] });
  const logger = provider.getLogger('edge-logger', '0.0.1');
  logger.emit({ timestamp: at(20), body: NaN, attributes: edgeAttributes() });
  logger.emit({ timestamp: at(21), body: -Infinity });
  logger.emit({ timestamp: at(22), body: 1e21 });
  logger.emit({ timestamp: at(23), body: [NaN, Infinity, 1e21] });
  await provider.forceFlush();
  const logs = [...exporter.getFinishedLogRecords()];
  await provider.shutdown();
  return logs;
}

// ----------------------------------------------------------------- spans ---

async function makeSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource: resource({ 'service.namespace': 'ns1' }), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('sdk-test-tracer', '2.0.0');
  const parentCtx = trace.setSpanContext(ROOT_CONTEXT, PARENT);

  const linkTarget = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED, traceState: new TraceState('l1=one') };
  const linkNoState = { traceId: 'ffffffffffffffffffffffffffffffff', spanId: '0102030405060708', traceFlags: TraceFlags.NONE };

  const server = tracer.startSpan('GET /api/items', {
    kind: SpanKind.SERVER,
    startTime: at(100, 111111111),
    attributes: { ...scalarAttributes(), ...nestedAttributes() },
    links: [
      { context: linkTarget, attributes: { 'link.str': 'v', 'link.int': 2, 'link.arr': [true, false] } },
      { context: linkNoState },
    ],
  }, parentCtx);
  server.addEvent('event.with.attrs', { 'ev.str': 'x', 'ev.int': 1, 'ev.double': 0.5, 'ev.bool': true, 'ev.arr': ['p', 'q'] }, at(100, 500000999));
  server.addEvent('event.no.attrs', at(101, 1));
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'boom: something "failed"' });
  server.end(at(102, 222222222));

  const serverCtx = trace.setSpan(context.active(), server);
  const client = tracer.startSpan('db.query', { kind: SpanKind.CLIENT, startTime: at(100, 600000000), attributes: { 'db.system': 'postgresql', 'db.rows': 12 } }, serverCtx);
  client.setStatus({ code: SpanStatusCode.OK });
  client.end(at(100, 600000001)); // 1 ns

  const internal = tracer.startSpan('compute', { kind: SpanKind.INTERNAL, startTime: at(110) });
  internal.end(at(110)); // zero duration, unset status

  const producer = tracer.startSpan('publish', { kind: SpanKind.PRODUCER, startTime: at(HOUR + 5, 5) }, parentCtx);
  producer.end(at(HOUR + 6, 7));
  const consumer = tracer.startSpan('receive', { kind: SpanKind.CONSUMER, startTime: at(HOUR + 7), links: [{ context: producer.spanContext(), attributes: {} }] });
  consumer.addEvent('exception', { 'exception.type': 'Error', 'exception.message': 'bad' }, at(HOUR + 7, 10));
  consumer.setStatus({ code: SpanStatusCode.ERROR });
  consumer.end(at(HOUR + 8));

  // A second tracer: a second scope in the same request.
  const t2 = provider.getTracer('other-tracer');
  const s2 = t2.startSpan('other', { startTime: at(120) });
  s2.end(at(121));

  await provider.forceFlush();
  const spans = [...exporter.getFinishedSpans()];
  await provider.shutdown();
  return spans;
}

async function makeEdgeSpans() {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource: resource(), spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('edge-tracer');
  const s = tracer.startSpan('edge', { kind: SpanKind.SERVER, startTime: at(200), attributes: edgeAttributes() });
  s.addEvent('edge.event', { 'ev.nan': NaN, 'ev.inf': Infinity }, at(200, 5));
  s.end(at(201));
  await provider.forceFlush();
  const spans = [...exporter.getFinishedSpans()];
  await provider.shutdown();
  return spans;
}

// --------------------------------------------------------------- metrics ---

// A pull reader: collect() returns the SDK's ResourceMetrics.
class CollectingReader extends MetricReader {
  async onForceFlush() {}
  async onShutdown() {}
}

async function makeMetrics() {
  // Histograms as DELTA, the rest CUMULATIVE: both temporalities reach the files.
  const reader = new CollectingReader({
    aggregationTemporalitySelector: (type) => (type === InstrumentType.HISTOGRAM ? AggregationTemporality.DELTA : AggregationTemporality.CUMULATIVE),
  });
  const provider = new MeterProvider({
    resource: resource(),
    readers: [reader],
    views: [
      { instrumentName: 'latency', aggregation: { type: AggregationType.EXPLICIT_BUCKET_HISTOGRAM, options: { boundaries: [0, 5, 10, 100, 1000.5] } } },
      { instrumentName: 'payload.size', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } } },
    ],
  });
  const meter = provider.getMeter('sdk-test-meter', '3.4.5', { schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' });
  const pointAttrs = { 'route': '/a', 'ok': true, 'code': 200, 'ratio': 0.25, 'tags': ['x', 'y'] };

  const counter = meter.createCounter('requests', { description: 'requests served', unit: '{request}' });
  counter.add(5, pointAttrs);
  counter.add(2.5, pointAttrs);
  counter.add(1, { route: '/b', ok: false });
  const intCounter = meter.createCounter('bytes.sent', { unit: 'By', valueType: ValueType.INT });
  intCounter.add(1234567890123);
  const upDown = meter.createUpDownCounter('queue.depth', { description: 'items waiting' });
  upDown.add(10, { queue: 'q1' });
  upDown.add(-13.5, { queue: 'q1' });
  const gauge = meter.createGauge('temperature', { unit: 'Cel' });
  gauge.record(21.5, { room: 'a' });
  gauge.record(-3.25, { room: 'b' });
  gauge.record(0.1, { room: 'a' }); // last value wins
  const observable = meter.createObservableGauge('cpu.utilization', { unit: '1', valueType: ValueType.DOUBLE });
  observable.addCallback((res) => {
    res.observe(0.75, { core: 0 });
    res.observe(1e-7, { core: 1 });
  });
  const intGauge = meter.createObservableGauge('threads', { valueType: ValueType.INT });
  intGauge.addCallback((res) => res.observe(-42));
  const hist = meter.createHistogram('latency', { unit: 'ms', description: 'request latency' });
  for (const v of [1, 7, 7, 50, 500, 2000, 0, -1]) hist.record(v, { route: '/a' });
  hist.record(3.3, { route: '/b' });
  const exp = meter.createHistogram('payload.size', { unit: 'By' });
  for (const v of [1, 2, 3, 4, 8, 16, 1000, 0, 0, -5, -0.5]) exp.record(v, { kind: 'upload' });
  // No view: the SDK's default bucket boundaries.
  const defaultBuckets = meter.createHistogram('default.buckets');
  defaultBuckets.record(10);

  const { resourceMetrics, errors } = await reader.collect();
  if (errors.length) throw errors[0];
  await provider.shutdown();
  return resourceMetrics;
}

/** Makes every set of telemetry (a few hundred ms). */
export async function makeSdkTelemetry() {
  const logs = await makeLogs({ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceFlags: TraceFlags.SAMPLED });
  return {
    logs,
    edgeLogs: await makeEdgeLogs(),
    spans: await makeSpans(),
    edgeSpans: await makeEdgeSpans(),
    metrics: await makeMetrics(),
  };
}

const SERIALIZERS = {
  logs: { pb: ProtobufLogsSerializer, json: JsonLogsSerializer },
  traces: { pb: ProtobufTraceSerializer, json: JsonTraceSerializer },
  metrics: { pb: ProtobufMetricsSerializer, json: JsonMetricsSerializer },
};

/** The SDK's own OTLP request bytes for the items ('pb' or 'json'). */
export function serialize(signal, items, format) {
  const bytes = SERIALIZERS[signal][format].serializeRequest(items);
  if (!bytes || !bytes.length) throw new Error(`${signal} ${format}: the serializer returned nothing`);
  return bytes;
}

// ------------------------------------------------------ expected rows ---

function serviceOf(res) {
  const v = res.attributes['service.name'];
  return v === undefined ? '' : jsAttr(v);
}

/** Rows otel_logs must hold for these ReadableLogRecords. */
export function expectedLogRows(logs) {
  return logs.map((l) => ({
    Timestamp: hrUs(l.hrTime),
    ObservedTimestamp: hrUs(l.hrTimeObserved),
    TraceId: l.spanContext?.traceId ?? '',
    SpanId: l.spanContext?.spanId ?? '',
    TraceFlags: l.spanContext?.traceFlags ?? 0,
    SeverityText: l.severityText ?? '',
    SeverityNumber: l.severityNumber ?? 0,
    ServiceName: serviceOf(l.resource),
    Body: jsAttr(l.body),
    ResourceSchemaUrl: l.resource.schemaUrl ?? '',
    ResourceAttributes: jsAttrPairs(l.resource.attributes),
    ScopeSchemaUrl: l.instrumentationScope.schemaUrl ?? '',
    ScopeName: l.instrumentationScope.name,
    ScopeVersion: l.instrumentationScope.version ?? '',
    ScopeAttributes: jsAttrPairs(l.instrumentationScope.attributes),
    LogAttributes: jsAttrPairs(l.attributes),
    EventName: l.eventName ?? '',
  }));
}

/** Rows otel_traces must hold for these ReadableSpans. */
export function expectedSpanRows(spans) {
  return spans.map((s) => {
    const ctx = s.spanContext();
    const dur = hrNs(s.endTime) - hrNs(s.startTime);
    return {
      Timestamp: hrUs(s.startTime),
      TraceId: ctx.traceId,
      SpanId: ctx.spanId,
      ParentSpanId: s.parentSpanContext?.spanId ?? '',
      TraceState: ctx.traceState?.serialize() ?? '',
      SpanName: s.name,
      SpanKind: SPAN_KINDS[s.kind + 1],
      ServiceName: serviceOf(s.resource),
      ResourceAttributes: jsAttrPairs(s.resource.attributes),
      ScopeName: s.instrumentationScope.name,
      ScopeVersion: s.instrumentationScope.version ?? '',
      SpanAttributes: jsAttrPairs(s.attributes),
      Duration: dur < 0n ? 0n : dur,
      StatusCode: STATUS_CODES[s.status.code],
      StatusMessage: s.status.message ?? '',
      Events: s.events.map((e) => ({ Timestamp: hrUs(e.time), Name: e.name, Attributes: jsAttrPairs(e.attributes) })),
      Links: s.links.map((l) => ({
        TraceId: l.context.traceId, SpanId: l.context.spanId, TraceState: l.context.traceState?.serialize() ?? '', Attributes: jsAttrPairs(l.attributes),
      })),
    };
  });
}

const TEMPORALITY = { [AggregationTemporality.DELTA]: 1, [AggregationTemporality.CUMULATIVE]: 2 };
const optNum = (v) => (v === undefined || v === null ? null : v);

/** Rows per metric table ({gauge: [...], sum: [...], ...}) for one ResourceMetrics. */
export function expectedMetricRows(rm) {
  const out = { gauge: [], sum: [], histogram: [], exponential_histogram: [], summary: [] };
  for (const sm of rm.scopeMetrics) {
    for (const m of sm.metrics) {
      for (const dp of m.dataPoints) {
        const row = {
          ResourceAttributes: jsAttrPairs(rm.resource.attributes),
          ResourceSchemaUrl: rm.resource.schemaUrl ?? '',
          ScopeName: sm.scope.name,
          ScopeVersion: sm.scope.version ?? '',
          ScopeAttributes: jsAttrPairs(sm.scope.attributes),
          ScopeDroppedAttrCount: 0,
          ScopeSchemaUrl: sm.scope.schemaUrl ?? '',
          ServiceName: serviceOf(rm.resource),
          MetricName: m.descriptor.name,
          MetricDescription: m.descriptor.description ?? '',
          MetricUnit: m.descriptor.unit ?? '',
          Attributes: jsAttrPairs(dp.attributes),
          StartTimeUnix: hrUs(dp.startTime),
          TimeUnix: hrUs(dp.endTime),
        };
        switch (m.dataPointType) {
          case DataPointType.GAUGE:
            out.gauge.push({ ...row, Value: dp.value, Flags: 0, Exemplars: [] });
            break;
          case DataPointType.SUM:
            out.sum.push({ ...row, Value: dp.value, Flags: 0, Exemplars: [], AggregationTemporality: TEMPORALITY[m.aggregationTemporality], IsMonotonic: m.isMonotonic });
            break;
          case DataPointType.HISTOGRAM: {
            const h = dp.value;
            out.histogram.push({
              ...row, Count: BigInt(h.count), Sum: optNum(h.sum), BucketCounts: h.buckets.counts.map(BigInt), ExplicitBounds: [...h.buckets.boundaries],
              Exemplars: [], Flags: 0, Min: optNum(h.min), Max: optNum(h.max), AggregationTemporality: TEMPORALITY[m.aggregationTemporality],
            });
            break;
          }
          case DataPointType.EXPONENTIAL_HISTOGRAM: {
            const h = dp.value;
            out.exponential_histogram.push({
              ...row, Count: BigInt(h.count), Sum: optNum(h.sum), Scale: h.scale, ZeroCount: BigInt(h.zeroCount),
              PositiveOffset: h.positive.offset, PositiveBucketCounts: h.positive.bucketCounts.map(BigInt),
              NegativeOffset: h.negative.offset, NegativeBucketCounts: h.negative.bucketCounts.map(BigInt),
              Exemplars: [], Flags: 0, Min: optNum(h.min), Max: optNum(h.max), AggregationTemporality: TEMPORALITY[m.aggregationTemporality],
            });
            break;
          }
          default:
            throw new Error(`unexpected data point type ${m.dataPointType}`);
        }
      }
    }
  }
  return out;
}
