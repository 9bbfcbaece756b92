/*
 * pq_runs: one column chunk of a run-mode column (pq_col_run_row) as a
 * sequence of runs — (stored row, count) pairs in the chunk's row order —
 * so the writer can encode it without expanding the shared values to one
 * copy per row.
 *
 *   pq_runs_build      the stored rows' offsets and the chunk's runs, for
 *                      rows row0.. of the arrival order or of a sort
 *                      permutation (consecutive rows of one stored row
 *                      merge into one run)
 *   pq_runs_levels     appends the chunk's definition and repetition levels
 *                      (one entry per row's entry, as the expanded column
 *                      has them) and counts its entries and values, without
 *                      the values
 *   pq_runs_prefix     appends the values of the chunk's first rows until
 *                      at least `min_values` values are there (a sniff of
 *                      the content)
 *   pq_runs_bytes      PLAIN bytes of the chunk's first `values` values
 *   pq_runs_dict_encode dictionary-encodes the chunk's values [from, to) as
 *                      if they were expanded: each stored row's values are
 *                      looked up once per chunk and their entry numbers
 *                      copied to the rows that repeat them.  The dictionary
 *                      ends in the state pq_dict_encode over the expanded
 *                      values gives (the same entries, in the same order,
 *                      the same O2P_ELIMIT), because a repeated value never
 *                      adds an entry; calls must cover [0, n) in order.
 */
#ifndef O2P_PARQUET_RUNS_H
#define O2P_PARQUET_RUNS_H

#include <stddef.h>
#include <stdint.h>

#include "parquet/pq_column.h"
#include "parquet/pq_dict.h"

typedef struct pq_runs {
    /* per stored row s (nstored + 1 offsets): entries, values, value bytes */
    size_t *entry, *value, *byte;
    size_t cap;
    size_t nstored;
    uint32_t *stored_of; /* sort permutations: the stored row of each row */
    size_t stored_cap;
    uint32_t *run_row, *run_count; /* the chunk's runs */
    size_t nruns, runs_cap;
    size_t entries;   /* the chunk's expanded level entries */
    size_t values;    /* the chunk's expanded values */
    uint32_t *memo;   /* per stored value: its entry number in this chunk */
    uint32_t *done;   /* per stored row: values of it encoded in this chunk */
    size_t memo_cap;  /* capacity of memo, in elements */
    size_t done_cap;  /* capacity of done, in elements */
    size_t *val_byte; /* scratch: byte offsets of one stored row's values */
    size_t val_byte_cap;
} pq_runs;

void pq_runs_init(pq_runs *rs);
void pq_runs_free(pq_runs *rs);

/* src is a run-mode column of num_rows rows; the chunk is rows
 * perm[0..n) (perm NULL: rows row0 .. row0 + n).  O2P_ENOMEM, or
 * O2P_EINVAL when the values do not frame their bytes or a row is out of
 * range. */
int pq_runs_build(pq_runs *rs, const pq_column *src, size_t num_rows, const uint32_t *perm,
                  size_t row0, size_t n);
int pq_runs_levels(const pq_runs *rs, const pq_column *src, pq_column *dst);
int pq_runs_prefix(const pq_runs *rs, const pq_column *src, size_t min_values, o2p_buf *dst);
size_t pq_runs_bytes(const pq_runs *rs, const pq_column *src, size_t values);
/* entries[from..to) receive the entry numbers; pq_dict_encode's statuses. */
int pq_runs_dict_encode(pq_runs *rs, const pq_column *src, pq_dict *d, size_t from, size_t to,
                        uint32_t *entries, size_t byte_limit);

#endif
