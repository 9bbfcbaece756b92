/**
 * Expected output values computed independently in JS from the spec §2
 * rules, so tests compare what we wrote with what the input said.
 *
 * Two sources of input are covered:
 *   - OTLP/JSON request objects (the upstream sample files): expected rows
 *     per table via expectedRowsFromJson();
 *   - JS-native values as handed to the OpenTelemetry JS SDK: jsAttr().
 *
 * Shapes match lib/convert.mjs readRows(): timestamps bigint µs, INT64
 * bigint, INT32 number, DOUBLE number, MAP [[k, v]...] in received order.
 */

// ------------------------------------------------------------ scalars ---

/**
 * A double as spec §2 spells it: ECMAScript Number::toString (shortest
 * round-trip digits; exponent below 1e-6 and from 1e21), -0 as 0,
 * non-finite as NaN/+Inf/-Inf.
 */
export function fmtDouble(x) {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  return String(x); // String(-0) is "0" already
}

/** Nanoseconds (string/number/bigint) -> µs bigint, truncating. */
export function nsToUs(ns) {
  if (ns === undefined || ns === null || ns === '') return 0n;
  return BigInt(ns) / 1000n;
}

/** An OTLP id from JSON (hex, or base64 of 16/8 bytes) as lowercase hex; '' for empty/all-zero. */
export function idHex(s, bytes) {
  if (s === undefined || s === null || s === '') return '';
  let hex;
  if (new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`).test(s)) hex = s.toLowerCase();
  else {
    const b = Buffer.from(s, 'base64');
    if (b.length !== bytes) throw new Error(`idHex: ${s} is neither hex nor base64 of ${bytes} bytes`);
    hex = b.toString('hex');
  }
  return /^0+$/.test(hex) ? '' : hex;
}

/** Raw id bytes (Uint8Array) or hex from the JS SDK -> expected column text. */
export function sdkIdHex(hex) {
  if (!hex) return '';
  return /^0+$/.test(hex) ? '' : hex.toLowerCase();
}

// ------------------------------------------------- OTLP/JSON AnyValue ---

// JSON text of a value nested in an array/kvlist (spec §2: compact JSON,
// non-finite doubles as strings, empty value as null).
function nestedJsonAny(v) {
  if (!v || typeof v !== 'object') return 'null';
  if ('stringValue' in v) return JSON.stringify(v.stringValue);
  if ('boolValue' in v) return v.boolValue ? 'true' : 'false';
  if ('intValue' in v) return BigInt(v.intValue).toString();
  if ('doubleValue' in v) {
    const d = Number(v.doubleValue);
    return Number.isFinite(d) ? fmtDouble(d) : JSON.stringify(fmtDouble(d));
  }
  if ('bytesValue' in v) return JSON.stringify(Buffer.from(v.bytesValue, 'base64').toString('base64'));
  if ('arrayValue' in v) return `[${(v.arrayValue.values ?? []).map(nestedJsonAny).join(',')}]`;
  if ('kvlistValue' in v) return `{${(v.kvlistValue.values ?? []).map((kv) => `${JSON.stringify(kv.key)}:${nestedJsonAny(kv.value)}`).join(',')}}`;
  return 'null';
}

/** An OTLP/JSON AnyValue as its column string (spec §2). */
export function anyValueString(v) {
  if (!v || typeof v !== 'object') return '';
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue ? 'true' : 'false';
  if ('intValue' in v) return BigInt(v.intValue).toString();
  if ('doubleValue' in v) return fmtDouble(Number(v.doubleValue));
  if ('bytesValue' in v) return Buffer.from(v.bytesValue, 'base64').toString('base64');
  if ('arrayValue' in v || 'kvlistValue' in v) return nestedJsonAny(v);
  return '';
}

/** OTLP/JSON attributes -> expected MAP pairs (received order, last duplicate wins). */
export function attrPairs(attrs) {
  const pairs = [];
  for (const kv of attrs ?? []) {
    const i = pairs.findIndex((p) => p[0] === kv.key);
    const val = anyValueString(kv.value);
    if (i >= 0) pairs.splice(i, 1);
    pairs.push([kv.key, val]);
  }
  return pairs;
}

function serviceName(resource) {
  let name = '';
  for (const kv of resource?.attributes ?? []) if (kv.key === 'service.name') name = anyValueString(kv.value);
  return name;
}

// ------------------------------------------------------------- enums ---

export const SEVERITY_NUMBERS = {
  SEVERITY_NUMBER_UNSPECIFIED: 0,
  ...Object.fromEntries(
    ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].flatMap((lvl, i) =>
      ['', '2', '3', '4'].map((n, j) => [`SEVERITY_NUMBER_${lvl}${n}`, i * 4 + j + 1]),
    ),
  ),
};
export const SPAN_KINDS = ['SPAN_KIND_UNSPECIFIED', 'SPAN_KIND_INTERNAL', 'SPAN_KIND_SERVER', 'SPAN_KIND_CLIENT', 'SPAN_KIND_PRODUCER', 'SPAN_KIND_CONSUMER'];
export const STATUS_CODES = ['STATUS_CODE_UNSET', 'STATUS_CODE_OK', 'STATUS_CODE_ERROR'];
const TEMPORALITY = { AGGREGATION_TEMPORALITY_UNSPECIFIED: 0, AGGREGATION_TEMPORALITY_DELTA: 1, AGGREGATION_TEMPORALITY_CUMULATIVE: 2 };

function enumNumber(v, names) {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  if (/^-?\d+$/.test(v)) return Number(v);
  if (!(v in names)) throw new Error(`unknown enum name ${v}`);
  return names[v];
}
function kindName(v) {
  const n = typeof v === 'string' && !/^\d+$/.test(v) ? SPAN_KINDS.indexOf(v) : Number(v ?? 0);
  return SPAN_KINDS[n] ?? SPAN_KINDS[0];
}
function statusName(v) {
  const n = typeof v === 'string' && !/^\d+$/.test(v) ? STATUS_CODES.indexOf(v) : Number(v ?? 0);
  return STATUS_CODES[n] ?? STATUS_CODES[0];
}

// ------------------------------------------------ rows from OTLP/JSON ---

function num(v) {
  if (v === undefined || v === null) return 0;
  return Number(v); // "NaN", "Infinity" strings of the protobuf JSON mapping too
}
const i64 = (v) => BigInt(v ?? 0);
const optDouble = (v) => (v === undefined || v === null ? null : Number(v));

function exemplars(list) {
  return (list ?? []).map((e) => ({
    FilteredAttributes: attrPairs(e.filteredAttributes),
    TimeUnix: nsToUs(e.timeUnixNano),
    Value: e.asDouble !== undefined ? num(e.asDouble) : e.asInt !== undefined ? Number(e.asInt) : 0,
    SpanId: idHex(e.spanId, 8),
    TraceId: idHex(e.traceId, 16),
  }));
}

/**
 * Expected rows per table ({logs: [...], traces: [...], gauge: [...], ...})
 * for one OTLP/JSON export request object.  Rows with neither time nor
 * observed time (receive time) are not produced by the samples and throw.
 */
export function expectedRowsFromJson(req, out = {}) {
  const push = (t, r) => (out[t] ??= []).push(r);
  for (const rl of req.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      for (const lr of sl.logRecords ?? []) {
        const t = nsToUs(lr.timeUnixNano) || nsToUs(lr.observedTimeUnixNano);
        if (!t) throw new Error('sample log without a time: expected rows would need the receive time');
        push('logs', {
          Timestamp: t,
          ObservedTimestamp: nsToUs(lr.observedTimeUnixNano),
          TraceId: idHex(lr.traceId, 16),
          SpanId: idHex(lr.spanId, 8),
          TraceFlags: Number(lr.flags ?? 0),
          SeverityText: lr.severityText ?? '',
          SeverityNumber: enumNumber(lr.severityNumber, SEVERITY_NUMBERS),
          ServiceName: serviceName(rl.resource),
          Body: anyValueString(lr.body),
          ResourceSchemaUrl: rl.schemaUrl ?? '',
          ResourceAttributes: attrPairs(rl.resource?.attributes),
          ScopeSchemaUrl: sl.schemaUrl ?? '',
          ScopeName: sl.scope?.name ?? '',
          ScopeVersion: sl.scope?.version ?? '',
          ScopeAttributes: attrPairs(sl.scope?.attributes),
          LogAttributes: attrPairs(lr.attributes),
          EventName: lr.eventName ?? '',
        });
      }
    }
  }
  for (const rs of req.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const sp of ss.spans ?? []) {
        const dur = BigInt(sp.endTimeUnixNano ?? 0) - BigInt(sp.startTimeUnixNano ?? 0);
        push('traces', {
          Timestamp: nsToUs(sp.startTimeUnixNano),
          TraceId: idHex(sp.traceId, 16),
          SpanId: idHex(sp.spanId, 8),
          ParentSpanId: idHex(sp.parentSpanId, 8),
          TraceState: sp.traceState ?? '',
          SpanName: sp.name ?? '',
          SpanKind: kindName(sp.kind),
          ServiceName: serviceName(rs.resource),
          ResourceAttributes: attrPairs(rs.resource?.attributes),
          ScopeName: ss.scope?.name ?? '',
          ScopeVersion: ss.scope?.version ?? '',
          SpanAttributes: attrPairs(sp.attributes),
          Duration: dur < 0n ? 0n : dur,
          StatusCode: statusName(sp.status?.code),
          StatusMessage: sp.status?.message ?? '',
          Events: (sp.events ?? []).map((e) => ({ Timestamp: nsToUs(e.timeUnixNano), Name: e.name ?? '', Attributes: attrPairs(e.attributes) })),
          Links: (sp.links ?? []).map((l) => ({ TraceId: idHex(l.traceId, 16), SpanId: idHex(l.spanId, 8), TraceState: l.traceState ?? '', Attributes: attrPairs(l.attributes) })),
        });
      }
    }
  }
  for (const rm of req.resourceMetrics ?? []) {
    for (const sm of rm.scopeMetrics ?? []) {
      for (const m of sm.metrics ?? []) {
        const common = (dp) => ({
          ResourceAttributes: attrPairs(rm.resource?.attributes),
          ResourceSchemaUrl: rm.schemaUrl ?? '',
          ScopeName: sm.scope?.name ?? '',
          ScopeVersion: sm.scope?.version ?? '',
          ScopeAttributes: attrPairs(sm.scope?.attributes),
          ScopeDroppedAttrCount: Number(sm.scope?.droppedAttributesCount ?? 0),
          ScopeSchemaUrl: sm.schemaUrl ?? '',
          ServiceName: serviceName(rm.resource),
          MetricName: m.name ?? '',
          MetricDescription: m.description ?? '',
          MetricUnit: m.unit ?? '',
          Attributes: attrPairs(dp.attributes),
          StartTimeUnix: nsToUs(dp.startTimeUnixNano),
          TimeUnix: nsToUs(dp.timeUnixNano),
        });
        const numberValue = (dp) => (dp.asDouble !== undefined ? num(dp.asDouble) : Number(dp.asInt));
        if (m.gauge) {
          for (const dp of m.gauge.dataPoints ?? []) {
            push('gauge', { ...common(dp), Value: numberValue(dp), Flags: Number(dp.flags ?? 0), Exemplars: exemplars(dp.exemplars) });
          }
        }
        if (m.sum) {
          for (const dp of m.sum.dataPoints ?? []) {
            push('sum', {
              ...common(dp), Value: numberValue(dp), Flags: Number(dp.flags ?? 0), Exemplars: exemplars(dp.exemplars),
              AggregationTemporality: enumNumber(m.sum.aggregationTemporality, TEMPORALITY), IsMonotonic: Boolean(m.sum.isMonotonic),
            });
          }
        }
        if (m.histogram) {
          for (const dp of m.histogram.dataPoints ?? []) {
            push('histogram', {
              ...common(dp), Count: i64(dp.count), Sum: optDouble(dp.sum),
              BucketCounts: (dp.bucketCounts ?? []).map(i64), ExplicitBounds: (dp.explicitBounds ?? []).map(Number),
              Exemplars: exemplars(dp.exemplars), Flags: Number(dp.flags ?? 0), Min: optDouble(dp.min), Max: optDouble(dp.max),
              AggregationTemporality: enumNumber(m.histogram.aggregationTemporality, TEMPORALITY),
            });
          }
        }
        if (m.exponentialHistogram) {
          for (const dp of m.exponentialHistogram.dataPoints ?? []) {
            push('exponential_histogram', {
              ...common(dp), Count: i64(dp.count), Sum: optDouble(dp.sum), Scale: Number(dp.scale ?? 0), ZeroCount: i64(dp.zeroCount),
              PositiveOffset: Number(dp.positive?.offset ?? 0), PositiveBucketCounts: (dp.positive?.bucketCounts ?? []).map(i64),
              NegativeOffset: Number(dp.negative?.offset ?? 0), NegativeBucketCounts: (dp.negative?.bucketCounts ?? []).map(i64),
              Exemplars: exemplars(dp.exemplars), Flags: Number(dp.flags ?? 0), Min: optDouble(dp.min), Max: optDouble(dp.max),
              AggregationTemporality: enumNumber(m.exponentialHistogram.aggregationTemporality, TEMPORALITY),
            });
          }
        }
        if (m.summary) {
          for (const dp of m.summary.dataPoints ?? []) {
            push('summary', {
              ...common(dp), Count: i64(dp.count), Sum: num(dp.sum),
              ValueAtQuantiles: (dp.quantileValues ?? []).map((q) => ({ Quantile: num(q.quantile), Value: num(q.value) })),
              Flags: Number(dp.flags ?? 0),
            });
          }
        }
      }
    }
  }
  return out;
}

// ---------------------------------------------- JS values (the SDK) ---

const INT64_MIN = -(2 ** 63);
const INT64_LIMIT = 2 ** 63;

/**
 * How the JS SDK's serializers encode a JS number: integers in int64 range
 * as intValue, everything else as doubleValue (otlp-transformer's rule).
 */
function isSdkInt(x) {
  return Number.isInteger(x) && x >= INT64_MIN && x < INT64_LIMIT;
}

function nestedJsonJs(v) {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (isSdkInt(v)) return BigInt(v).toString();
    return Number.isFinite(v) ? fmtDouble(v) : JSON.stringify(fmtDouble(v));
  }
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'));
  if (Array.isArray(v)) return `[${v.map(nestedJsonJs).join(',')}]`;
  return `{${Object.keys(v).map((k) => `${JSON.stringify(k)}:${nestedJsonJs(v[k])}`).join(',')}}`;
}

/** A JS attribute/body value as the SDK sends it -> expected column string. */
export function jsAttr(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return isSdkInt(v) ? BigInt(v).toString() : fmtDouble(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  return nestedJsonJs(v);
}

/** JS attributes object -> expected MAP pairs (key order of the object). */
export function jsAttrPairs(attrs) {
  return Object.keys(attrs ?? {}).map((k) => [k, jsAttr(attrs[k])]);
}

/** HrTime [s, ns] -> bigint ns. */
export function hrNs(hr) {
  return BigInt(hr[0]) * 1000000000n + BigInt(hr[1]);
}
export function hrUs(hr) {
  return hrNs(hr) / 1000n;
}
