/**
 * Projections that make the reference implementation's golden Parquet files
 * (older schema, see upstream-testdata/parquet/SCHEMAS.md) comparable with
 * our tables: only the values both schemas carry, in one shape.
 *
 *   golden: JSON-text attributes with typed JSON values, service.name (and
 *           for logs/traces service.namespace / service.instance.id) pulled
 *           out of ResourceAttributes, Body as JSON text, log ids as BLOBs,
 *           Events/Links/quantiles as parallel lists.
 *   ours:   MAP<STRING,STRING>, LIST<STRUCT>, ids as hex.
 *
 * Both sides project to plain objects with maps as key-sorted [k, v] pairs.
 */
import { sqlString } from './duckdb.mjs';

const sortPairs = (pairs) => [...pairs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

// A typed JSON value of the reference's attribute text -> our string form.
function goldenValue(v) {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

function goldenAttrs(text) {
  if (text === null || text === undefined || text === '') return [];
  return sortPairs(Object.entries(JSON.parse(text)).map(([k, v]) => [k, goldenValue(v)]));
}

// The reference moved these resource attributes into their own columns.
function goldenResource(g) {
  const pairs = goldenAttrs(g.ResourceAttributes);
  const have = new Set(pairs.map((p) => p[0]));
  const add = (k, v) => {
    if (v !== null && v !== undefined && !have.has(k)) pairs.push([k, v]);
  };
  add('service.name', g.ServiceName || null);
  add('service.namespace', g.ServiceNamespace);
  add('service.instance.id', g.ServiceInstanceId);
  return sortPairs(pairs);
}

const hexId = (h) => (h === null || /^0*$/.test(h) ? '' : h.toLowerCase());
const str = (v) => v ?? '';

/** SQL reading a golden file exactly (timestamps as µs, blobs as hex). */
export function goldenSql(file, table) {
  const f = `read_parquet(${sqlString(file)})`;
  if (table === 'logs') {
    return `SELECT * EXCLUDE (Timestamp, TimestampTime, ObservedTimestamp, TraceId, SpanId),
      epoch_us(Timestamp) AS Timestamp, epoch_us(ObservedTimestamp) AS ObservedTimestamp,
      hex(TraceId) AS TraceId, hex(SpanId) AS SpanId FROM ${f}`;
  }
  if (table === 'traces') {
    return `SELECT * EXCLUDE (Timestamp, EventsTimestamp), epoch_us(Timestamp) AS Timestamp,
      list_transform(EventsTimestamp, x -> epoch_us(x)) AS EventsTimestamp FROM ${f}`;
  }
  return `SELECT * EXCLUDE (Timestamp), epoch_us(Timestamp) AS Timestamp FROM ${f}`;
}

/** Golden row -> comparable projection. */
export function projectGolden(table, g) {
  switch (table) {
    case 'logs':
      return {
        Timestamp: g.Timestamp,
        ObservedTimestamp: g.ObservedTimestamp,
        TraceId: hexId(g.TraceId),
        SpanId: hexId(g.SpanId),
        TraceFlags: Number(g.TraceFlags),
        SeverityText: g.SeverityText,
        SeverityNumber: g.SeverityNumber,
        ServiceName: g.ServiceName,
        // The reference wrote the body as JSON text of the value.
        Body: g.Body === null ? '' : goldenValue(JSON.parse(g.Body)),
        ResourceSchemaUrl: str(g.ResourceSchemaUrl),
        ResourceAttributes: goldenResource(g),
        ScopeSchemaUrl: str(g.ScopeSchemaUrl),
        ScopeName: str(g.ScopeName),
        ScopeVersion: str(g.ScopeVersion),
        ScopeAttributes: goldenAttrs(g.ScopeAttributes),
        LogAttributes: goldenAttrs(g.LogAttributes),
      };
    case 'traces':
      return {
        Timestamp: g.Timestamp,
        TraceId: hexId(g.TraceId),
        SpanId: hexId(g.SpanId),
        ParentSpanId: hexId(g.ParentSpanId),
        TraceState: str(g.TraceState),
        SpanName: g.SpanName,
        SpanKind: g.SpanKind,
        ServiceName: str(g.ServiceName),
        ResourceAttributes: goldenResource(g),
        ScopeName: str(g.ScopeName),
        ScopeVersion: str(g.ScopeVersion),
        SpanAttributes: goldenAttrs(g.SpanAttributes),
        Duration: g.Duration,
        StatusCode: g.StatusCode ?? 'STATUS_CODE_UNSET',
        StatusMessage: str(g.StatusMessage),
        Events: g.EventsName.map((name, i) => ({ Timestamp: g.EventsTimestamp[i], Name: name, Attributes: goldenAttrs(g.EventsAttributes[i]) })),
        Links: g.LinksTraceId.map((tid, i) => ({
          TraceId: hexId(tid), SpanId: hexId(g.LinksSpanId[i]), TraceState: str(g.LinksTraceState[i]), Attributes: goldenAttrs(g.LinksAttributes[i]),
        })),
      };
    default: {
      const p = {
        TimeUnix: g.Timestamp,
        ServiceName: g.ServiceName,
        ResourceAttributes: goldenResource(g),
        ScopeName: str(g.ScopeName),
        ScopeVersion: str(g.ScopeVersion),
        MetricName: g.MetricName,
        MetricDescription: str(g.MetricDescription),
        MetricUnit: str(g.MetricUnit),
        Attributes: goldenAttrs(g.Attributes),
      };
      for (const c of METRIC_VALUE_COLUMNS[table]) p[c] = g[c];
      if (table === 'summary') p.ValueAtQuantiles = g.QuantileQuantiles.map((q, i) => ({ Quantile: q, Value: g.QuantileValues[i] }));
      return p;
    }
  }
}

// Per-kind value columns with the same name and meaning in both schemas.
const METRIC_VALUE_COLUMNS = {
  gauge: ['Value'],
  sum: ['Value', 'AggregationTemporality', 'IsMonotonic'],
  histogram: ['Count', 'Sum', 'BucketCounts', 'ExplicitBounds', 'Min', 'Max'],
  exponential_histogram: ['Count', 'Sum', 'Scale', 'ZeroCount', 'PositiveOffset', 'PositiveBucketCounts', 'NegativeOffset', 'NegativeBucketCounts', 'Min', 'Max'],
  summary: ['Count', 'Sum'],
};

/** Our row (lib/convert.mjs readRows shape) -> the same projection. */
export function projectOurs(table, r) {
  const g = projectGoldenKeys(table);
  const o = {};
  for (const k of g) {
    const v = r[k];
    if (k === 'ResourceAttributes' && table === 'traces') {
      // The reference's traces table dropped these (it has no column for them).
      o[k] = sortPairs(v.filter(([key]) => key !== 'service.namespace' && key !== 'service.instance.id'));
    } else if (['ResourceAttributes', 'ScopeAttributes', 'LogAttributes', 'SpanAttributes', 'Attributes'].includes(k)) o[k] = sortPairs(v);
    else if (k === 'Events') o[k] = v.map((e) => ({ ...e, Attributes: sortPairs(e.Attributes) }));
    else if (k === 'Links') o[k] = v.map((l) => ({ ...l, Attributes: sortPairs(l.Attributes) }));
    else o[k] = v;
  }
  return o;
}

const KEY_CACHE = {};
function projectGoldenKeys(table) {
  if (!KEY_CACHE[table]) {
    // Keys of a projection, taken from a dummy golden row of the table.
    const dummy = new Proxy({}, { get: (_t, k) => (['EventsName', 'LinksTraceId', 'QuantileQuantiles'].includes(k) ? [] : k === 'Body' ? null : null) });
    KEY_CACHE[table] = Object.keys(projectGolden(table, dummy));
  }
  return KEY_CACHE[table];
}
