/**
 * Query-ready Parquet (issue 13): rows sorted by Timestamp, page indexes
 * (ColumnIndex + OffsetIndex) and split-block bloom filters on TraceId and
 * SpanId.  Generated traces and logs (deterministic, shuffled timestamps,
 * nested Events/Links/attribute maps) are converted with small pages, then:
 *   - DuckDB, hyparquet and arrow-rs (parquet-wasm) read the same values,
 *     in ascending Timestamp order, as were sent;
 *   - hyparquet's metadata shows sorting_columns and the index offsets, and
 *     its ColumnIndex/OffsetIndex readers parse every chunk's index;
 *   - DuckDB's parquet_bloom_probe finds every present id and excludes
 *     >= 90 % of absent ones; parquet_metadata shows the filter offsets;
 *   - parquet.sort_rows = false keeps arrival order and declares nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readColumnIndex, readOffsetIndex } from 'hyparquet';

import { binaryMissing, cleanupTemp, convert, listParquet, tempDir } from './lib/convert.mjs';
import { openDuckDB, sqlString } from './lib/duckdb.mjs';
import { hyparquetMetadata, readArrowRs, readHyparquet } from './lib/readers.mjs';

const SPANS = 6000;
const TRACES = 500;
const LOGS = 3000;
const PAGE_ROWS = 500;
const HOUR_NS = 1760738400000000000n; // 2025-10-17 22:00:00 UTC

// A small deterministic PRNG (mulberry32), so every run sends the same data.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function hex(rand, bytes) {
  let s = '';
  for (let i = 0; i < bytes; i++) s += Math.floor(rand() * 256).toString(16).padStart(2, '0');
  return s;
}

function makeTraces(rand) {
  const traceIds = Array.from({ length: TRACES }, () => hex(rand, 16));
  const spans = [];
  for (let i = 0; i < SPANS; i++) {
    // timestamps spread over the hour in a shuffled order (µs resolution)
    const us = BigInt(Math.floor(rand() * 3599e6));
    const start = HOUR_NS + us * 1000n;
    const span = {
      traceId: traceIds[i % TRACES],
      spanId: hex(rand, 8),
      name: `op-${i % 17}`,
      kind: 2,
      startTimeUnixNano: String(start),
      endTimeUnixNano: String(start + 1000000n),
      attributes: [{ key: 'i', value: { intValue: String(i) } }],
      status: { code: i % 10 === 0 ? 2 : 0 },
    };
    if (i % 3 === 0)
      span.events = [{ timeUnixNano: String(start + 5000n), name: `ev-${i}`, attributes: [{ key: 'k', value: { stringValue: `v${i}` } }] }];
    spans.push(span);
  }
  return { traceIds, spans, body: { resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] }, scopeSpans: [{ scope: { name: 'gen' }, spans }] }] } };
}

function makeLogs(rand, traceIds) {
  const logRecords = [];
  for (let i = 0; i < LOGS; i++) {
    const us = BigInt(Math.floor(rand() * 3599e6));
    logRecords.push({
      timeUnixNano: String(HOUR_NS + us * 1000n),
      severityNumber: 9,
      body: { stringValue: `line ${i}` },
      traceId: traceIds[i % TRACES],
      spanId: hex(rand, 8),
      attributes: [{ key: 'n', value: { intValue: String(i) } }],
    });
  }
  return { logRecords, body: { resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] }, scopeLogs: [{ scope: { name: 'gen' }, logRecords }] }] } };
}

const skip = binaryMissing();

describe('query-ready parquet', { skip: skip ?? false, timeout: 120000 }, () => {
  let db, traces, logs, sorted, unsorted, extra, bare, aligned;
  const env = { OTLP2PARQUET_PARQUET_PAGE_ROWS: String(PAGE_ROWS) };

  before(async () => {
    const rand = rng(13);
    traces = makeTraces(rand);
    logs = makeLogs(rand, traces.traceIds);
    const inDir = tempDir('pq-in');
    const tracesFile = path.join(inDir, 'traces.json');
    const logsFile = path.join(inDir, 'logs.json');
    fs.writeFileSync(tracesFile, JSON.stringify(traces.body));
    fs.writeFileSync(logsFile, JSON.stringify(logs.body));
    const run = (extraEnv) => {
      const r1 = convert([tracesFile], ['--signal', 'traces'], { env: { ...env, ...extraEnv } });
      assert.equal(r1.status, 0, r1.describe());
      const r2 = convert([logsFile], ['--signal', 'logs'], { env: { ...env, ...extraEnv }, dir: r1.dir });
      assert.equal(r2.status, 0, r2.describe());
      return r1.dir;
    };
    sorted = run({});
    unsorted = run({ OTLP2PARQUET_PARQUET_SORT_ROWS: 'false' });
    extra = run({ OTLP2PARQUET_PARQUET_BLOOM_FILTER_COLUMNS: 'ServiceName,SpanName,SpanId' });
    bare = run({ OTLP2PARQUET_PARQUET_BLOOM_FILTERS: 'false', OTLP2PARQUET_PARQUET_PAGE_INDEX: 'false' });
    // 2,000-row row groups: from 250 rows on, a row group ends at a 10-minute boundary
    aligned = run({ OTLP2PARQUET_PARQUET_SORTED_ROW_GROUP_ROWS: '2000', OTLP2PARQUET_PARQUET_ROW_GROUP_SPAN_SECS: '600' });
    db = await openDuckDB({ threads: '2' });
  });
  after(() => {
    db?.close();
    cleanupTemp();
  });

  const one = (dir, under) => {
    const files = listParquet(dir, under);
    assert.equal(files.length, 1, `${under}: ${files.join(', ')}`);
    return path.join(dir, files[0]);
  };

  test('every reader reads the sorted traces value for value', async () => {
    const file = one(sorted, 'traces');
    const want = traces.spans
      .map((s) => ({ SpanId: s.spanId, TraceId: s.traceId, ts: BigInt(s.startTimeUnixNano) / 1000n, ev: (s.events ?? []).map((e) => e.name), i: s.attributes[0].value.intValue }))
      .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0)); // stable: arrival order on ties
    const duck = (await db.query(`SELECT SpanId, TraceId, epoch_us("Timestamp") AS ts, [e.Name FOR e IN Events] AS ev, SpanAttributes['i'] AS i FROM read_parquet(${sqlString(file)})`))
      .map((r) => ({ SpanId: r.SpanId, TraceId: r.TraceId, ts: BigInt(r.ts), ev: r.ev, i: r.i }));
    assert.deepEqual(duck, want);
    const pick = (r, attrs) => ({ SpanId: r.SpanId, TraceId: r.TraceId, ts: BigInt(r.Timestamp), ev: r.Events.map((e) => e.Name), i: attrs(r.SpanAttributes) });
    const hyp = (await readHyparquet(file)).map((r) => pick(r, (m) => m.i));
    assert.deepEqual(hyp, want);
    const arrow = readArrowRs(file).rows.map((r) => pick(r, (m) => new Map(m).get('i')));
    assert.deepEqual(arrow, want);
  });

  test('logs are sorted too, and read the same by every reader', async () => {
    const file = one(sorted, 'logs');
    const want = logs.logRecords
      .map((l) => ({ SpanId: l.spanId, ts: BigInt(l.timeUnixNano) / 1000n, body: l.body.stringValue }))
      .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0));
    const duck = (await db.query(`SELECT SpanId, epoch_us("Timestamp") AS ts, Body AS body FROM read_parquet(${sqlString(file)})`)).map((r) => ({ SpanId: r.SpanId, ts: BigInt(r.ts), body: r.body }));
    assert.deepEqual(duck, want);
    const hyp = (await readHyparquet(file)).map((r) => ({ SpanId: r.SpanId, ts: BigInt(r.Timestamp), body: r.Body }));
    assert.deepEqual(hyp, want);
    const arrow = readArrowRs(file).rows.map((r) => ({ SpanId: r.SpanId, ts: BigInt(r.Timestamp), body: r.Body }));
    assert.deepEqual(arrow, want);
  });

  test('sorting_columns, page index offsets and pages in the metadata', () => {
    for (const [under, rows] of [['traces', SPANS], ['logs', LOGS]]) {
      const file = one(sorted, under);
      const md = hyparquetMetadata(file);
      assert.equal(md.row_groups.length, 1);
      const rg = md.row_groups[0];
      assert.deepEqual(rg.sorting_columns, [{ column_idx: 0, descending: false, nulls_first: true }]);
      const bytes = fs.readFileSync(file);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const leaves = md.schema.filter((s) => s.num_children === undefined || s.num_children === 0);
      rg.columns.forEach((cc, c) => {
        const name = cc.meta_data.path_in_schema.join('.');
        assert.ok(cc.offset_index_offset > 0n && cc.offset_index_length > 0, `${under} ${name}: offset index`);
        assert.ok(cc.column_index_offset > 0n && cc.column_index_length > 0, `${under} ${name}: column index`);
        const oi = readOffsetIndex({ view, offset: Number(cc.offset_index_offset) });
        const ci = readColumnIndex({ view, offset: Number(cc.column_index_offset) }, leaves[c]);
        const pages = oi.page_locations;
        assert.equal(ci.null_pages.length, pages.length, `${under} ${name}`);
        assert.equal(ci.min_values.length, pages.length);
        assert.equal(ci.null_counts.length, pages.length);
        assert.equal(pages[0].offset, cc.meta_data.data_page_offset, `${under} ${name}: first page`);
        assert.equal(pages[0].first_row_index, 0n);
        for (let p = 1; p < pages.length; p++) {
          assert.equal(pages[p].offset, pages[p - 1].offset + BigInt(pages[p - 1].compressed_page_size), `${under} ${name}: pages back to back`);
          assert.ok(pages[p].first_row_index > pages[p - 1].first_row_index);
        }
        if (name === 'Timestamp') {
          assert.equal(pages.length, Math.ceil(rows / PAGE_ROWS));
          pages.forEach((pg, p) => assert.equal(pg.first_row_index, BigInt(p * PAGE_ROWS)));
          assert.equal(ci.boundary_order, 'ASCENDING');
        }
      });
    }
  });

  test('DuckDB prunes a time window with the sorted pages', async () => {
    const file = one(sorted, 'traces');
    const lo = HOUR_NS / 1000n + 600000000n; // 10 minutes into the hour
    const hi = lo + 60000000n;
    const want = traces.spans.filter((s) => {
      const us = BigInt(s.startTimeUnixNano) / 1000n;
      return us >= lo && us < hi;
    }).length;
    const [r] = await db.query(`SELECT count(*) AS n FROM read_parquet(${sqlString(file)}) WHERE "Timestamp" >= make_timestamp(${lo}) AND "Timestamp" < make_timestamp(${hi})`);
    assert.equal(Number(r.n), want);
    assert.ok(want > 0);
  });

  test('time-aligned row groups: each holds one 10-minute slot, a window inside one reads one', async () => {
    const file = one(aligned, 'traces');
    const SLOT = 600000000n; // µs
    const groups = await db.query(`SELECT row_group_id AS g, row_group_num_rows AS n, epoch_us(stats_min::TIMESTAMPTZ) AS lo, epoch_us(stats_max::TIMESTAMPTZ) AS hi FROM parquet_metadata(${sqlString(file)}) WHERE path_in_schema = 'Timestamp' ORDER BY g`);
    // 6,000 spans over the hour: six slots of about 1,000 spans, under the 2,000-row limit
    assert.equal(groups.length, 6);
    groups.forEach((g, k) => {
      const slot = (BigInt(g.lo) - HOUR_NS / 1000n) / SLOT;
      assert.equal(slot, BigInt(k), `row group ${k} starts in slot ${slot}`);
      assert.equal((BigInt(g.hi) - HOUR_NS / 1000n) / SLOT, slot, `row group ${k} ends in its slot`);
    });
    const perSlot = Array(6).fill(0);
    for (const sp of traces.spans) perSlot[Number((BigInt(sp.startTimeUnixNano) / 1000n - HOUR_NS / 1000n) / SLOT)]++;
    assert.deepEqual(groups.map((g) => Number(g.n)), perSlot);
    // 22:10-22:11 lies in slot 1: the statistics of every other row group exclude it
    const lo = HOUR_NS / 1000n + 600000000n, hi = lo + 60000000n;
    const overlapping = groups.filter((g) => BigInt(g.hi) >= lo && BigInt(g.lo) < hi);
    assert.deepEqual(overlapping.map((g) => Number(g.g)), [1]);
    const want = traces.spans.filter((sp) => { const us = BigInt(sp.startTimeUnixNano) / 1000n; return us >= lo && us < hi; }).length;
    const [r] = await db.query(`SELECT count(*) AS n FROM read_parquet(${sqlString(file)}) WHERE "Timestamp" >= make_timestamp(${lo}) AND "Timestamp" < make_timestamp(${hi})`);
    assert.equal(Number(r.n), want);
    // the other readers read the file whole
    assert.equal((await readHyparquet(file)).length, traces.spans.length);
    assert.equal(readArrowRs(file).rows.length, traces.spans.length);
  });

  test('bloom filters find every present id and exclude absent ones', async () => {
    const file = one(sorted, 'traces');
    const meta = await db.query(`SELECT path_in_schema AS p, bloom_filter_offset AS o, bloom_filter_length AS l FROM parquet_metadata(${sqlString(file)})`);
    const withBloom = meta.filter((m) => m.o !== null).map((m) => m.p).sort();
    assert.deepEqual(withBloom, ['SpanId', 'TraceId']);
    // the ids are PLAIN (tbl_plain_columns), the other strings keep their dictionaries
    const dicts = await db.query(`SELECT path_in_schema AS p, dictionary_page_offset AS d FROM parquet_metadata(${sqlString(file)}) WHERE path_in_schema IN ('TraceId', 'SpanId', 'ParentSpanId', 'SpanName')`);
    assert.deepEqual(dicts.filter((m) => m.d !== null).map((m) => m.p), ['SpanName']);
    // bloom_filter_excludes per value, 100 probes per statement
    const probeMany = async (f, column, values) => {
      const out = [];
      for (let at = 0; at < values.length; at += 100) {
        const part = values.slice(at, at + 100);
        const sql = part.map((v, k) => `SELECT ${k} AS k, bloom_filter_excludes AS x FROM parquet_bloom_probe(${sqlString(f)}, ${sqlString(column)}, ${sqlString(v)})`).join(' UNION ALL ');
        const rows = await db.query(`SELECT x FROM (${sql}) ORDER BY k`);
        assert.equal(rows.length, part.length);
        out.push(...rows.map((r) => r.x));
      }
      return out;
    };
    const present = async (f, column, values) => {
      const x = await probeMany(f, column, values);
      values.forEach((v, i) => assert.equal(x[i], false, `${column} ${v} is in ${f} but the filter excludes it`));
    };
    await present(file, 'TraceId', traces.traceIds);
    await present(file, 'SpanId', traces.spans.map((s) => s.spanId));
    const rand = rng(99);
    const absent = 1000;
    for (const [column, bytes] of [['TraceId', 16], ['SpanId', 8]]) {
      const x = await probeMany(file, column, Array.from({ length: absent }, () => hex(rand, bytes)));
      const excluded = x.filter(Boolean).length;
      assert.ok(excluded >= absent * 0.9, `only ${excluded} of ${absent} absent ${column}s excluded`);
    }
    // logs: TraceId only by default (SpanId, unique per record, would be most of the filter bytes)
    const logFile = one(sorted, 'logs');
    const logMeta = await db.query(`SELECT path_in_schema AS p FROM parquet_metadata(${sqlString(logFile)}) WHERE bloom_filter_offset IS NOT NULL`);
    assert.deepEqual([...new Set(logMeta.map((m) => m.p))].sort(), ['TraceId']);
    await present(logFile, 'TraceId', traces.traceIds);
    // hyparquet sees the same offsets
    const cc = hyparquetMetadata(file).row_groups[0].columns.find((c) => c.meta_data.path_in_schema.join('.') === 'TraceId');
    assert.ok(cc.meta_data.bloom_filter_offset > 0n);
  });

  test('parquet.bloom_filter_columns adds filters; parquet.sort_rows = false keeps arrival order', async () => {
    const file = one(extra, 'traces');
    const meta = await db.query(`SELECT path_in_schema AS p FROM parquet_metadata(${sqlString(file)}) WHERE bloom_filter_offset IS NOT NULL`);
    assert.deepEqual(meta.map((m) => m.p).sort(), ['ServiceName', 'SpanId', 'SpanName', 'TraceId']);
    // SpanId named in the key gives logs their SpanId filter back (and does not double it on traces)
    const logFile = one(extra, 'logs');
    const logMeta = await db.query(`SELECT path_in_schema AS p FROM parquet_metadata(${sqlString(logFile)}) WHERE bloom_filter_offset IS NOT NULL`);
    assert.deepEqual(logMeta.map((m) => m.p).sort(), ['ServiceName', 'SpanId', 'TraceId']);
    const lx = await db.query(`SELECT bloom_filter_excludes AS x FROM parquet_bloom_probe(${sqlString(logFile)}, 'SpanId', ${sqlString(logs.logRecords[0].spanId)})`);
    assert.ok(lx.length > 0 && lx.every((r) => r.x === false));
    const [r] = await db.query(`SELECT bloom_filter_excludes AS x FROM parquet_bloom_probe(${sqlString(file)}, 'ServiceName', 'checkout')`);
    assert.equal(r.x, false);

    const bad = convert([path.join(tempDir('pq-bad'), 'none.json')], [], { env: { OTLP2PARQUET_PARQUET_BLOOM_FILTER_COLUMNS: 'ServiceName,Foo' } });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /parquet\.bloom_filter_columns: no table has a column named "Foo"/, bad.describe());

    const bareFile = one(bare, 'traces');
    const bareMd = hyparquetMetadata(bareFile).row_groups[0];
    assert.ok(bareMd.columns.every((c) => c.offset_index_offset === undefined && c.column_index_offset === undefined && c.meta_data.bloom_filter_offset === undefined));
    assert.equal((await db.query(`SELECT count(*) AS n FROM read_parquet(${sqlString(bareFile)})`))[0].n, BigInt(SPANS));

    const plain = one(unsorted, 'traces');
    assert.equal(hyparquetMetadata(plain).row_groups[0].sorting_columns, undefined);
    const ids = (await db.query(`SELECT SpanId FROM read_parquet(${sqlString(plain)})`)).map((x) => x.SpanId);
    assert.deepEqual(ids, traces.spans.map((s) => s.spanId));
  });
});
