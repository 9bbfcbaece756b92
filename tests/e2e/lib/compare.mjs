/**
 * Value normalization and comparison shared by the end-to-end tests.
 *
 * Readers return the same Parquet value in different JS shapes (bigint or
 * number, {key, value} objects or [k, v] pairs or a plain object for a MAP,
 * undefined or null).  canonical() turns any of them into one JSON-like form
 * so rows from DuckDB, hyparquet and arrow-rs compare with deepStrictEqual:
 *
 *   kind            canonical form
 *   bool            true / false
 *   int8..int64,    decimal string ("-128", "9223372036854775807"): exact
 *   timestamp_*       for 64-bit values; timestamps are integers in the
 *                     file's unit (µs or ns since the epoch)
 *   float, double   number; NaN, Infinity, -Infinity as those strings
 *   string          string
 *   list<K>         array of canonical K
 *   map             array of [key, value] string pairs, in file order (or
 *                   sorted by key when the reader loses order: opts.sortMaps)
 *   events          array of {Timestamp, Name, Attributes: map}
 *   null/undefined  null
 */
import { isDeepStrictEqual } from 'node:util';

function canonDouble(v) {
  const n = Number(v);
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  return n;
}

function canonMap(v, opts) {
  let pairs;
  if (Array.isArray(v)) {
    pairs = v.map((e) => (Array.isArray(e) ? [e[0], e[1]] : [e.key, e.value]));
  } else if (v instanceof Map) {
    pairs = [...v.entries()];
  } else {
    pairs = Object.entries(v);
  }
  pairs = pairs.map(([k, val]) => [k, val === undefined ? null : val]);
  if (opts.sortMaps) pairs.sort((a, b) => compareUtf8(a[0], b[0]));
  return pairs;
}

/** Canonical form of one value of the given kind (see the table above). */
export function canonical(kind, v, opts = {}) {
  if (v === null || v === undefined) return null;
  if (kind.startsWith('list<')) {
    const inner = kind.slice(5, -1);
    return Array.from(v, (e) => canonical(inner, e, opts));
  }
  switch (kind) {
    case 'bool': return Boolean(v);
    case 'int8': case 'int16': case 'int32': case 'int64':
    case 'timestamp_us': case 'timestamp_ns': case 'timestamp_ms':
      return BigInt(v).toString();
    // Math.fround: expected values are decimal text of a float; read values
    // are already floats, for which fround is the identity.
    case 'float': return canonDouble(Math.fround(Number(v)));
    case 'double': return canonDouble(v);
    case 'string': return String(v);
    case 'map': return canonMap(v, opts);
    case 'events':
      return Array.from(v, (e) => ({
        Timestamp: canonical('timestamp_us', e.Timestamp, opts),
        Name: canonical('string', e.Name, opts),
        Attributes: canonical('map', e.Attributes, opts),
      }));
    default: throw new Error(`canonical: unknown kind ${kind}`);
  }
}

/** Compares two JS strings as their UTF-8 bytes (Parquet's string order). */
export function compareUtf8(a, b) {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** JSON for messages, with bigints, and long strings cut short. */
export function preview(v, max = 160) {
  const s = JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : typeof x === 'string' && x.length > max ? `${x.slice(0, max)}…(${x.length} chars)` : x));
  return s === undefined ? String(v) : s.length > max * 2 ? `${s.slice(0, max * 2)}…` : s;
}

/**
 * Compares rows read back (objects keyed by column name) with expected rows
 * (arrays in `columns` order, already canonical).  Throws one assertion
 * error listing the first mismatches of every column, so a failure says
 * exactly which column and row are wrong.
 *   columns: [{name, kind}]
 *   opts.sortMaps: the reader does not keep map order
 */
export function compareRows(columns, expectedRows, actualRows, opts = {}) {
  if (actualRows.length !== expectedRows.length) {
    throw new Error(`row count: got ${actualRows.length}, expected ${expectedRows.length}`);
  }
  const problems = [];
  columns.forEach((col, c) => {
    let bad = 0;
    for (let r = 0; r < expectedRows.length; r++) {
      if (!(col.name in actualRows[r])) {
        problems.push(`column ${col.name} missing from row ${r}`);
        return;
      }
      const exp = canonical(col.kind, expectedRows[r][c], opts);
      const got = canonical(col.kind, actualRows[r][col.name], opts);
      if (!isDeepStrictEqual(got, exp)) {
        if (bad < 3) problems.push(`${col.name} row ${r}: got ${preview(got)}, expected ${preview(exp)}`);
        bad++;
      }
    }
    if (bad > 3) problems.push(`${col.name}: ${bad} rows differ in all`);
  });
  if (problems.length) throw new Error(`values differ:\n  ${problems.join('\n  ')}`);
}
