/**
 * Non-DuckDB Parquet readers for end-to-end tests, returning plain JS rows.
 *
 *   readHyparquet(path)  hyparquet (pure JS) with hyparquet-compressors, so
 *                        every codec we write is readable.
 *   readArrowRs(path)    arrow-rs compiled to wasm (parquet-wasm): the file is
 *                        decoded into Arrow arrays inside wasm, which we read
 *                        straight from wasm memory through the Arrow C Data
 *                        Interface (no apache-arrow JS package needed).
 *
 * Value shapes differ per reader; both keep exact values:
 *   hyparquet: INT64 and timestamps -> bigint (raw integers in the file's
 *     unit: we override hyparquet's Date parsers), INT32/8/16 -> number,
 *     FLOAT/DOUBLE -> number, STRING -> string, LIST -> array, STRUCT ->
 *     object, MAP -> plain object (so key order is NOT preserved and
 *     duplicate keys collapse), null -> null or undefined.
 *   arrow-rs:  INT64 and timestamps -> bigint, smaller ints and floats ->
 *     number, STRING -> string, LIST -> array, STRUCT -> object, MAP ->
 *     array of [key, value] in file order, null -> null.
 */
import fs from 'node:fs';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { compressors } from 'hyparquet-compressors';
import * as parquetWasm from 'parquet-wasm';

function fileArrayBuffer(path) {
  const b = fs.readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

// Keeps timestamps as the integers stored in the file instead of Dates
// (which would drop microseconds and nanoseconds).
const RAW_TIMESTAMPS = {
  timestampFromMilliseconds: (v) => BigInt(v),
  timestampFromMicroseconds: (v) => BigInt(v),
  timestampFromNanoseconds: (v) => BigInt(v),
};

/** All rows of a file as objects, read by hyparquet. */
export async function readHyparquet(path, options = {}) {
  return parquetReadObjects({
    file: fileArrayBuffer(path),
    compressors,
    parsers: RAW_TIMESTAMPS,
    ...options,
  });
}

/**
 * The decoded footer (FileMetaData, thrift field names) as hyparquet sees it.
 * Statistics come converted to JS values; timestamps stay raw bigints.
 * options.rawStrings: string statistics as Uint8Array bytes instead of
 * decoded text (truncated bounds need not be valid UTF-8).
 */
export function hyparquetMetadata(path, options = {}) {
  const parsers = { ...RAW_TIMESTAMPS };
  if (options.rawStrings) parsers.stringFromBytes = (bytes) => bytes && Uint8Array.from(bytes);
  return parquetMetadata(fileArrayBuffer(path), { parsers });
}

/**
 * Every page header of every column chunk, parsed by hyparquet's thrift
 * reader: result[rowGroup][column] = [{type, uncompressed_page_size,
 * compressed_page_size, data_page_header, dictionary_page_header, ...}].
 * Walks from the chunk's first page (dictionary page if any) through
 * total_compressed_size bytes, so it also proves the pages tile the chunk.
 */
export function readPageHeaders(path) {
  const buffer = fileArrayBuffer(path);
  const meta = parquetMetadata(buffer, { parsers: RAW_TIMESTAMPS });
  const view = new DataView(buffer);
  return meta.row_groups.map((rg) => rg.columns.map((col) => {
    const md = col.meta_data;
    const start = Number(md.dictionary_page_offset ?? md.data_page_offset);
    const end = start + Number(md.total_compressed_size);
    const reader = { view, offset: start };
    const pages = [];
    while (reader.offset < end) {
      const header = parquetHeader(reader);
      pages.push(header);
      reader.offset += header.compressed_page_size;
    }
    if (reader.offset !== end) throw new Error(`${md.path_in_schema.join('.')}: pages overrun the column chunk by ${reader.offset - end} bytes`);
    return pages;
  }));
}

// ---------------------------------------------------------------- arrow-rs

const utf8 = new TextDecoder('utf-8', { fatal: true });

function cString(view, ptr) {
  if (!ptr) return null;
  let end = ptr;
  while (view.getUint8(end) !== 0) end++;
  return utf8.decode(new Uint8Array(view.buffer, ptr, end - ptr));
}

// struct ArrowSchema on wasm32: pointers are 4 bytes, int64 fields 8-aligned.
function readFfiSchema(view, addr) {
  const nChildren = Number(view.getBigInt64(addr + 24, true));
  const childrenPtr = view.getUint32(addr + 32, true);
  const dictPtr = view.getUint32(addr + 36, true);
  const children = [];
  for (let i = 0; i < nChildren; i++) children.push(readFfiSchema(view, view.getUint32(childrenPtr + 4 * i, true)));
  return {
    format: cString(view, view.getUint32(addr, true)),
    name: cString(view, view.getUint32(addr + 4, true)),
    children,
    dictionary: dictPtr ? readFfiSchema(view, dictPtr) : null,
  };
}

// struct ArrowArray on wasm32.
function readFfiArray(view, addr) {
  const nBuffers = Number(view.getBigInt64(addr + 24, true));
  const nChildren = Number(view.getBigInt64(addr + 32, true));
  const buffersPtr = view.getUint32(addr + 40, true);
  const childrenPtr = view.getUint32(addr + 44, true);
  const dictPtr = view.getUint32(addr + 48, true);
  const buffers = [];
  for (let i = 0; i < nBuffers; i++) buffers.push(view.getUint32(buffersPtr + 4 * i, true));
  const children = [];
  for (let i = 0; i < nChildren; i++) children.push(readFfiArray(view, view.getUint32(childrenPtr + 4 * i, true)));
  return {
    length: Number(view.getBigInt64(addr, true)),
    offset: Number(view.getBigInt64(addr + 16, true)),
    buffers,
    children,
    dictionary: dictPtr ? readFfiArray(view, dictPtr) : null,
  };
}

function bit(view, ptr, index) {
  return (view.getUint8(ptr + (index >> 3)) >> (index & 7)) & 1;
}

// Value `i` of an array (i is relative to the array, its offset is added here).
function arrowValue(view, schema, array, i) {
  const j = array.offset + i;
  // Unions have no validity buffer; nothing we read is a union.
  if (array.buffers[0] && !bit(view, array.buffers[0], j)) return null;
  if (schema.dictionary) {
    const index = Number(arrowValue(view, { format: schema.format, children: [] }, { ...array, buffers: [0, array.buffers[1]] }, i));
    return arrowValue(view, schema.dictionary, array.dictionary, index);
  }
  const f = schema.format;
  const data = array.buffers[1];
  switch (f) {
    case 'b': return bit(view, data, j) === 1;
    case 'c': return view.getInt8(data + j);
    case 'C': return view.getUint8(data + j);
    case 's': return view.getInt16(data + 2 * j, true);
    case 'S': return view.getUint16(data + 2 * j, true);
    case 'i': return view.getInt32(data + 4 * j, true);
    case 'I': return view.getUint32(data + 4 * j, true);
    case 'l': return view.getBigInt64(data + 8 * j, true);
    case 'L': return view.getBigUint64(data + 8 * j, true);
    case 'f': return view.getFloat32(data + 4 * j, true);
    case 'g': return view.getFloat64(data + 8 * j, true);
    case 'u': case 'z': case 'U': case 'Z': {
      const wide = f === 'U' || f === 'Z';
      const start = wide ? Number(view.getBigInt64(data + 8 * j, true)) : view.getInt32(data + 4 * j, true);
      const end = wide ? Number(view.getBigInt64(data + 8 * j + 8, true)) : view.getInt32(data + 4 * j + 4, true);
      const bytes = new Uint8Array(view.buffer, array.buffers[2] + start, end - start);
      return f === 'u' || f === 'U' ? utf8.decode(bytes) : Uint8Array.from(bytes);
    }
    case '+l': case '+L': case '+m': {
      const wide = f === '+L';
      const start = wide ? Number(view.getBigInt64(data + 8 * j, true)) : view.getInt32(data + 4 * j, true);
      const end = wide ? Number(view.getBigInt64(data + 8 * j + 8, true)) : view.getInt32(data + 4 * j + 4, true);
      const out = [];
      for (let k = start; k < end; k++) {
        if (f === '+m') {
          const entries = array.children[0];
          const entrySchema = schema.children[0];
          out.push([
            arrowValue(view, entrySchema.children[0], entries.children[0], entries.offset + k),
            arrowValue(view, entrySchema.children[1], entries.children[1], entries.offset + k),
          ]);
        } else {
          out.push(arrowValue(view, schema.children[0], array.children[0], k));
        }
      }
      return out;
    }
    case '+s': {
      const obj = {};
      schema.children.forEach((child, c) => { obj[child.name] = arrowValue(view, child, array.children[c], j); });
      return obj;
    }
    default:
      if (/^ts[munsd]:/.test(f) || /^t[dt][smun]$/.test(f)) {
        const wide = f.startsWith('ts') || f === 'tdm' || f === 'ttu' || f === 'ttn';
        return wide ? view.getBigInt64(data + 8 * j, true) : BigInt(view.getInt32(data + 4 * j, true));
      }
      throw new Error(`readArrowRs: Arrow format '${f}' (${schema.name}) is not supported by this reader`);
  }
}

/**
 * All rows of a file as objects, decoded by arrow-rs.  Also returns the
 * Arrow schema (format strings per field, e.g. 'tsu:UTC', '+m') so tests
 * can check how arrow-rs understood the logical types.
 */
export function readArrowRs(path) {
  const table = parquetWasm.readParquet(new Uint8Array(fs.readFileSync(path)));
  const ffi = table.intoFFI(); // consumes `table`
  try {
    const schemaAddr = ffi.schemaAddr();
    const arrayAddrs = Array.from(ffi.arrayAddrs());
    // Take the view last: wasm memory may have grown (and the old buffer detached).
    const view = new DataView(parquetWasm.wasmMemory().buffer);
    const schema = readFfiSchema(view, schemaAddr);
    const rows = [];
    for (const addr of arrayAddrs) {
      const batch = readFfiArray(view, addr);
      for (let i = 0; i < batch.length; i++) {
        const row = {};
        schema.children.forEach((field, c) => { row[field.name] = arrowValue(view, field, batch.children[c], batch.offset + i); });
        rows.push(row);
      }
    }
    return { rows, schema };
  } finally {
    ffi.free();
  }
}
