/*
 * pq_sort: orders the rows of a row group by one flat INT64 column (a
 * timestamp), so readers can prune pages and row groups on time windows.
 *
 *   pq_sort_perm     a stable ascending permutation of the rows by the key
 *                    column (nulls first), or none when the rows are
 *                    already in order
 *   pq_col_gather    appends rows perm[0..n) of one column to a scratch
 *                    column as plain entries, levels and values together,
 *                    so nested columns (MAPs, LISTs of STRUCTs) keep their
 *                    Dremel shape; run-mode columns are expanded as they
 *                    are gathered
 *   pq_sort_time_cut where a row group of sorted rows ends so that it stays
 *                    inside one time span (time-aligned row groups)
 *
 * The writer gathers one column chunk at a time, so sorting costs one
 * column's data plus a row index (two offsets per stored row) of scratch,
 * never a copy of the whole row group.
 */
#ifndef O2P_PARQUET_SORT_H
#define O2P_PARQUET_SORT_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "parquet/pq_column.h"

/* Where each stored row of a column starts, and the sort's keys (scratch,
 * reused between columns and, in a writer workspace, between files). */
typedef struct pq_row_index {
    size_t *entry;       /* stored rows + 1 entry offsets */
    size_t *byte;        /* stored rows + 1 value byte offsets */
    size_t *row;         /* run mode: stored rows + 1 first-row numbers (cumulative counts) */
    size_t cap;          /* capacity of each array, in elements */
    uint32_t *stored_of; /* run mode, pq_col_gather: the stored row of each row */
    size_t stored_cap;   /* capacity of stored_of, in elements */
    uint64_t *sort_keys; /* pq_sort_perm: 2 * sort_cap keys (the second half: radix scratch) */
    uint32_t *sort_rows; /* pq_sort_perm: 2 * sort_cap row numbers (also the null rows) */
    size_t sort_cap;
} pq_row_index;

void pq_row_index_init(pq_row_index *ix);
void pq_row_index_free(pq_row_index *ix);

/* Checks that key can order rows (flat INT64 leaf, max_rep == 0). */
int pq_sort_key_ok(const pq_column *key);

/*
 * Computes *perm (num_rows entries, allocated with mem_*, freed by the
 * caller with mem_free): row perm[i] of the colset goes to position i.
 * Sets *perm to NULL when the rows are already in key order (nothing to
 * do).  Equal keys keep their arrival order.
 */
int pq_sort_perm(const pq_column *key, size_t num_rows, pq_row_index *ix, uint32_t **perm,
                 o2p_error *err);

/* Appends rows perm[0..n) of src to dst (an empty column of the same leaf).
 * Builds the row index of src in ix first. */
int pq_col_gather(pq_column *dst, const pq_column *src, size_t num_rows, const uint32_t *perm,
                  size_t n, pq_row_index *ix);

/*
 * Where a row group of sorted rows that starts at sorted position `from`
 * should end so that it does not cross a multiple of `span` key units
 * (time-aligned row groups: a window of up to one aligned span then touches
 * one row group): the first position p in [min_end, max_end) whose key
 * lies in a later span than the key at p - 1, or max_end when there is
 * none.  perm is the sorted order (NULL: the rows are in order already).
 * Returns max_end when the key column is not flat, required and plain (the
 * rows cannot be looked up by position), span <= 0 or min_end <= from.
 */
size_t pq_sort_time_cut(const pq_column *key, const uint32_t *perm, size_t from, size_t min_end,
                        size_t max_end, int64_t span);

#endif
