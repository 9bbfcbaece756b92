/**
 * Tiny DuckDB helper for end-to-end tests.
 *
 *   const db = await openDuckDB();
 *   const rows = await db.query(`select * from read_parquet(${sqlString(path)})`);
 *   db.close();
 *
 * query() returns plain JS row objects (column name -> value) as the
 * @duckdb/node-api "JS" converter gives them: BIGINT is a bigint, INTEGER
 * and DOUBLE are numbers (NaN/Infinity kept), VARCHAR a string, LIST an
 * array, STRUCT an object, MAP an array of {key, value}, TIMESTAMP a Date
 * (only millisecond precision: convert timestamps in SQL with epoch_us() /
 * epoch_ns() when exact values matter), NULL is null.
 */
import { DuckDBInstance } from '@duckdb/node-api';

/** Quotes a JS string as a SQL string literal. */
export function sqlString(s) {
  return `'${String(s).replaceAll("'", "''")}'`;
}

/** Quotes an identifier (column name). */
export function sqlIdent(s) {
  return `"${String(s).replaceAll('"', '""')}"`;
}

/**
 * Opens an in-memory DuckDB.  `options` are DuckDB configuration settings
 * (strings), e.g. { threads: '2' }.
 */
export async function openDuckDB(options = {}) {
  const instance = await DuckDBInstance.create(':memory:', options);
  const connection = await instance.connect();
  return {
    instance,
    connection,
    /** Runs one statement and returns every row as a plain JS object. */
    async query(sql) {
      const reader = await connection.runAndReadAll(sql);
      return reader.getRowObjectsJS();
    },
    /** Runs a statement for its effect. */
    async exec(sql) {
      await connection.run(sql);
    },
    close() {
      connection.closeSync();
      instance.closeSync?.();
    },
  };
}
