/**
 * Spec §2 schemas (as DuckDB describes them) and the spec §4 layout check,
 * shared by the convert tests.
 */
import assert from 'node:assert/strict';
import path from 'node:path';

import { sqlString } from './duckdb.mjs';
import { listFiles, TABLE_DIRS, timeColumn } from './convert.mjs';

// Spec §2 column order and types as DuckDB reports them.
const MAP = 'MAP(VARCHAR, VARCHAR)';
const TS = 'TIMESTAMP WITH TIME ZONE';
const EXEMPLARS = `STRUCT(FilteredAttributes ${MAP}, TimeUnix ${TS}, "Value" DOUBLE, SpanId VARCHAR, TraceId VARCHAR)[]`;
const METRIC_COMMON = [
  ['ResourceAttributes', MAP], ['ResourceSchemaUrl', 'VARCHAR'], ['ScopeName', 'VARCHAR'], ['ScopeVersion', 'VARCHAR'],
  ['ScopeAttributes', MAP], ['ScopeDroppedAttrCount', 'INTEGER'], ['ScopeSchemaUrl', 'VARCHAR'], ['ServiceName', 'VARCHAR'],
  ['MetricName', 'VARCHAR'], ['MetricDescription', 'VARCHAR'], ['MetricUnit', 'VARCHAR'], ['Attributes', MAP],
  ['StartTimeUnix', TS], ['TimeUnix', TS],
];
export const SCHEMAS = {
  logs: [
    ['Timestamp', TS], ['ObservedTimestamp', TS], ['TraceId', 'VARCHAR'], ['SpanId', 'VARCHAR'], ['TraceFlags', 'INTEGER'],
    ['SeverityText', 'VARCHAR'], ['SeverityNumber', 'INTEGER'], ['ServiceName', 'VARCHAR'], ['Body', 'VARCHAR'],
    ['ResourceSchemaUrl', 'VARCHAR'], ['ResourceAttributes', MAP], ['ScopeSchemaUrl', 'VARCHAR'], ['ScopeName', 'VARCHAR'],
    ['ScopeVersion', 'VARCHAR'], ['ScopeAttributes', MAP], ['LogAttributes', MAP], ['EventName', 'VARCHAR'],
  ],
  traces: [
    ['Timestamp', TS], ['TraceId', 'VARCHAR'], ['SpanId', 'VARCHAR'], ['ParentSpanId', 'VARCHAR'], ['TraceState', 'VARCHAR'],
    ['SpanName', 'VARCHAR'], ['SpanKind', 'VARCHAR'], ['ServiceName', 'VARCHAR'], ['ResourceAttributes', MAP],
    ['ScopeName', 'VARCHAR'], ['ScopeVersion', 'VARCHAR'], ['SpanAttributes', MAP], ['Duration', 'BIGINT'],
    ['StatusCode', 'VARCHAR'], ['StatusMessage', 'VARCHAR'],
    ['Events', `STRUCT("Timestamp" ${TS}, "Name" VARCHAR, Attributes ${MAP})[]`],
    ['Links', `STRUCT(TraceId VARCHAR, SpanId VARCHAR, TraceState VARCHAR, Attributes ${MAP})[]`],
  ],
  gauge: [...METRIC_COMMON, ['Value', 'DOUBLE'], ['Flags', 'INTEGER'], ['Exemplars', EXEMPLARS]],
  sum: [...METRIC_COMMON, ['Value', 'DOUBLE'], ['Flags', 'INTEGER'], ['Exemplars', EXEMPLARS], ['AggregationTemporality', 'INTEGER'], ['IsMonotonic', 'BOOLEAN']],
  histogram: [
    ...METRIC_COMMON, ['Count', 'BIGINT'], ['Sum', 'DOUBLE'], ['BucketCounts', 'BIGINT[]'], ['ExplicitBounds', 'DOUBLE[]'],
    ['Exemplars', EXEMPLARS], ['Flags', 'INTEGER'], ['Min', 'DOUBLE'], ['Max', 'DOUBLE'], ['AggregationTemporality', 'INTEGER'],
  ],
  exponential_histogram: [
    ...METRIC_COMMON, ['Count', 'BIGINT'], ['Sum', 'DOUBLE'], ['Scale', 'INTEGER'], ['ZeroCount', 'BIGINT'],
    ['PositiveOffset', 'INTEGER'], ['PositiveBucketCounts', 'BIGINT[]'], ['NegativeOffset', 'INTEGER'], ['NegativeBucketCounts', 'BIGINT[]'],
    ['Exemplars', EXEMPLARS], ['Flags', 'INTEGER'], ['Min', 'DOUBLE'], ['Max', 'DOUBLE'], ['AggregationTemporality', 'INTEGER'],
  ],
  summary: [
    ...METRIC_COMMON, ['Count', 'BIGINT'], ['Sum', 'DOUBLE'],
    ['ValueAtQuantiles', 'STRUCT(Quantile DOUBLE, "Value" DOUBLE)[]'], ['Flags', 'INTEGER'],
  ],
};

// {service} directory name per spec §4.
export function serviceDir(name) {
  let s = '';
  for (const ch of name) s += /[/\\:*?"<>| \x00-\x1f\x7f]/.test(ch) ? '_' : ch;
  if (s.startsWith('.')) s = `_${s.slice(1)}`;
  if (s === '') return 'unknown';
  while (Buffer.byteLength(s) > 128) s = [...s].slice(0, -1).join('');
  return s;
}

const PATH_RE = /^(logs|traces|metrics\/(?:gauge|sum|histogram|exponential_histogram|summary))\/([^/]+)\/year=(\d{4})\/month=(\d{2})\/day=(\d{2})\/hour=(\d{2})\/(\d+)-([0-9a-f]{32})\.parquet$/;

/** Checks every file under an output root against spec §4 and its own rows. */
export async function checkLayout(dbh, dir) {
  const files = listFiles(dir);
  assert.ok(files.length > 0, 'no files written');
  const uuids = new Set();
  for (const rel of files) {
    const m = PATH_RE.exec(rel);
    assert.ok(m, `path does not follow spec §4: ${rel}`);
    const [, tdir, svc, year, month, day, hour, minTs, uuid] = m;
    assert.ok(!uuids.has(uuid), `uuid reused: ${rel}`);
    uuids.add(uuid);
    assert.match(uuid, /^[0-9a-f]{12}4[0-9a-f]{3}[89ab][0-9a-f]{15}$/, `${rel}: not a v4 uuid`);
    const table = Object.keys(TABLE_DIRS).find((t) => TABLE_DIRS[t] === tdir);
    const col = timeColumn(table);
    const rows = await dbh.query(`SELECT epoch_us("${col}") AS t, ServiceName AS s FROM read_parquet(${sqlString(path.join(dir, rel))}, hive_partitioning=false)`);
    assert.ok(rows.length > 0, `${rel}: empty file`);
    let min = null;
    for (const r of rows) {
      assert.equal(serviceDir(r.s), svc, `${rel}: row of service '${r.s}' in the wrong folder`);
      const d = new Date(Number(r.t / 1000n));
      const partition = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours()].map((n, i) => String(n).padStart(i ? 2 : 4, '0'));
      assert.deepEqual([year, month, day, hour], partition, `${rel}: row with ${col} ${d.toISOString()} (${r.t} µs) is in the wrong partition`);
      if (min === null || r.t < min) min = r.t;
    }
    assert.equal(minTs, String(min), `${rel}: file name should start with the smallest ${col} in µs`);
  }
}

