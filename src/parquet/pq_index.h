/*
 * pq_index: the page index of a Parquet file (format spec, PageIndex):
 * one ColumnIndex (per-page min/max, null pages, null counts, boundary
 * order) and one OffsetIndex (page locations) per column chunk.
 *
 * The writer reports every data page of a chunk with pq_index_page and
 * ends the chunk with pq_index_chunk_end, which encodes both structs into
 * the file-wide buffers; at close they are written after the last row
 * group (all ColumnIndex structs, then all OffsetIndex structs) and the
 * footer's ColumnChunks point at them (fields 4..7).
 *
 * Bounds follow the column's sort order (pq_stats); byte-array bounds are
 * cut to PQ_STATS_MAX_BYTES like the page statistics: the minimum to a
 * prefix, the maximum to a prefix whose last byte is incremented, so they
 * stay a lower and an upper bound (the spec allows truncated bounds in the
 * ColumnIndex; it has no exactness flag there).  A page with no non-null
 * value is a null page (empty bounds).  A chunk with a page that holds
 * values but no bound (only NaNs) gets no ColumnIndex, as the spec asks;
 * its OffsetIndex is still written.
 */
#ifndef O2P_PARQUET_INDEX_H
#define O2P_PARQUET_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "parquet/pq_stats.h"

/* Values of the Thrift BoundaryOrder enum. */
enum { PQ_BOUNDARY_UNORDERED = 0, PQ_BOUNDARY_ASCENDING = 1, PQ_BOUNDARY_DESCENDING = 2 };

/* Where one chunk's index structs lie in the file-wide buffers. */
typedef struct pq_index_ref {
    size_t column_off, column_len; /* column_len 0: no ColumnIndex */
    size_t offset_off, offset_len;
} pq_index_ref;

typedef struct pq_index {
    /* the chunk being written */
    pq_order order;
    size_t pages;
    int no_bounds; /* a page had values but no bound */
    o2p_buf null_pages, bounds, null_counts, locations;
    int ascending, descending;
    o2p_buf prev_lo, prev_hi; /* bounds of the last non-null page */
    int has_prev;
    /* the file */
    o2p_buf column_indexes, offset_indexes;
} pq_index;

void pq_index_init(pq_index *ix);
void pq_index_free(pq_index *ix);
/* Forgets everything (a new file). */
void pq_index_reset(pq_index *ix);

void pq_index_chunk_begin(pq_index *ix, pq_order order);
/* One data page: its statistics, the file offset of its header, its size
 * header included, and the index of its first row in the row group. */
int pq_index_page(pq_index *ix, const pq_stats *page, uint64_t offset, uint64_t size,
                  uint64_t first_row);
/* Encodes the chunk's ColumnIndex and OffsetIndex; *ref says where. */
int pq_index_chunk_end(pq_index *ix, pq_index_ref *ref);

#endif
