/*
 * pq_meta: the file footer — ColumnChunk and RowGroup metadata, written as
 * each row group completes, and the FileMetaData that wraps them with the
 * schema, key/value metadata, created_by and column orders.
 *
 * Row groups are serialized to bytes as soon as they are done (a compact
 * Thrift struct is self-contained), so the writer keeps only those bytes,
 * not the statistics or column data they were made from.
 */
#ifndef O2P_PARQUET_META_H
#define O2P_PARQUET_META_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "parquet/pq_schema.h"
#include "parquet/pq_stats.h"
#include "parquet/pq_writer.h"

typedef struct pq_chunk_meta {
    const pq_leaf *leaf;
    pq_codec codec;
    int has_dictionary;         /* a dictionary page starts the chunk */
    uint64_t num_values;        /* level entries, nulls included */
    uint64_t uncompressed_size; /* all pages, headers included */
    uint64_t compressed_size;
    uint64_t dictionary_page_offset;
    uint64_t data_page_offset;
    uint32_t num_data_pages; /* so far (the first sets data_page_offset) */
    const pq_stats *stats;
    uint64_t bloom_filter_offset; /* header + bitset; length 0: no filter */
    uint32_t bloom_filter_length;
} pq_chunk_meta;

/* Appends one ColumnChunk struct (a list element) up to and including its
 * meta_data (field 3), without the struct's end: the page index offsets
 * (fields 4..7) are known only when the file closes. */
int pq_meta_column_chunk_open(o2p_buf *out, const pq_chunk_meta *m);

/* Where a chunk's page index structs are in the file (lengths 0: none). */
typedef struct pq_chunk_index {
    uint64_t offset_index_offset;
    uint32_t offset_index_length;
    uint64_t column_index_offset;
    uint32_t column_index_length;
} pq_chunk_index;

/* Appends fields 4..7 and the end of a ColumnChunk begun with
 * pq_meta_column_chunk_open (the two parts concatenated form the struct). */
int pq_meta_column_chunk_close(o2p_buf *out, const pq_chunk_index *ci);

/* Appends one RowGroup struct around num_cols pre-encoded ColumnChunks;
 * sort_leaf >= 0 declares the rows sorted ascending by that leaf, nulls
 * first (sorting_columns). */
int pq_meta_row_group(o2p_buf *out, const o2p_buf *chunks, size_t num_cols,
                      uint64_t total_byte_size, uint64_t num_rows, uint64_t file_offset,
                      uint64_t total_compressed_size, size_t ordinal, int sort_leaf);

/* Appends the FileMetaData struct (not the length or magic). */
int pq_meta_footer(o2p_buf *out, const pq_schema *schema, uint64_t num_rows,
                   const o2p_buf *row_groups, size_t num_row_groups, const pq_kv *metadata,
                   size_t num_metadata, const char *created_by);

#endif
