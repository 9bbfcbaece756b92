/*
 * pq_stats: min/max/null-count statistics of a page or column chunk, kept in
 * the sort order of the column's type so readers can prune with them:
 * signed integers (unsigned for UINT_* annotations), IEEE floats ignoring NaN,
 * booleans false < true, byte arrays as unsigned bytes.
 *
 * Byte-array minimum and maximum point into the values they were computed
 * from (column or dictionary memory), which must outlive pq_stats_write.
 * pq_stats_write truncates byte-array bounds to PQ_STATS_MAX_BYTES: the
 * minimum to a prefix (still <= every value), the maximum to a prefix whose
 * last byte is incremented (still >= every value), and flags them inexact.
 */
#ifndef O2P_PARQUET_STATS_H
#define O2P_PARQUET_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "parquet/pq_schema.h"
#include "parquet/pq_thrift.h"

#define PQ_STATS_MAX_BYTES 64

typedef enum pq_order {
    PQ_ORDER_BOOL,
    PQ_ORDER_SIGNED32,
    PQ_ORDER_SIGNED64,
    PQ_ORDER_UNSIGNED32,
    PQ_ORDER_UNSIGNED64,
    PQ_ORDER_FLOAT,
    PQ_ORDER_DOUBLE,
    PQ_ORDER_BYTES
} pq_order;

typedef union pq_stat_num {
    int64_t i;
    uint64_t u;
    double d;
} pq_stat_num;

typedef struct pq_stats {
    pq_order order;
    size_t width;         /* FIXED_LEN_BYTE_ARRAY length; 0 for BYTE_ARRAY */
    int has_minmax;       /* 0 until a non-NaN value is seen */
    pq_stat_num min, max; /* numeric orders (BOOL as 0/1) */
    const uint8_t *min_bytes, *max_bytes;
    size_t min_len, max_len;
    uint64_t null_count;
    uint64_t nan_count;
} pq_stats;

pq_order pq_stats_order(const pq_leaf *leaf);
void pq_stats_init(pq_stats *s, const pq_leaf *leaf);
/* Forgets the values seen; keeps the order. */
void pq_stats_reset(pq_stats *s);
/* Adds count values in the PLAIN form a pq_column stores them in. */
void pq_stats_add_plain(pq_stats *s, const uint8_t *plain, size_t count);
/* Adds one byte-array value (BYTES order only). */
void pq_stats_add_bytes(pq_stats *s, const uint8_t *value, size_t len);
void pq_stats_merge(pq_stats *dst, const pq_stats *src);
/* A bound as written to the file: the PLAIN encoding of the value, for byte
 * arrays cut to PQ_STATS_MAX_BYTES as described at the top (exact 0 then). */
typedef struct pq_bound {
    const uint8_t *data;
    size_t len;
    int exact;
    uint8_t buf[PQ_STATS_MAX_BYTES];
} pq_bound;

/* The lower and upper bound of s; 0 when s has seen no (non-NaN) value.
 * A bound's data may point into *lo / *hi themselves: do not copy them. */
int pq_stats_bounds(const pq_stats *s, pq_bound *lo, pq_bound *hi);
/* Compares two encoded bounds in the column order `order` (<0, 0, >0). */
int pq_bound_cmp(pq_order order, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);

/* Writes the Statistics struct as field `field_id` of the open struct. */
void pq_stats_write(const pq_stats *s, pq_thrift *t, int16_t field_id);

#endif
