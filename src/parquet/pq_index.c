/* pq_index: ColumnIndex and OffsetIndex structs (see pq_index.h). */
#include "parquet/pq_index.h"

#include <string.h>

#include "core/error.h"
#include "parquet/pq_thrift.h"

void pq_index_init(pq_index *ix)
{
    memset(ix, 0, sizeof *ix);
    buf_init(&ix->null_pages, 0);
    buf_init(&ix->bounds, 0);
    buf_init(&ix->null_counts, 0);
    buf_init(&ix->locations, 0);
    buf_init(&ix->prev_lo, 0);
    buf_init(&ix->prev_hi, 0);
    buf_init(&ix->column_indexes, 0);
    buf_init(&ix->offset_indexes, 0);
}

void pq_index_free(pq_index *ix)
{
    buf_free(&ix->null_pages);
    buf_free(&ix->bounds);
    buf_free(&ix->null_counts);
    buf_free(&ix->locations);
    buf_free(&ix->prev_lo);
    buf_free(&ix->prev_hi);
    buf_free(&ix->column_indexes);
    buf_free(&ix->offset_indexes);
}

void pq_index_reset(pq_index *ix)
{
    buf_reset(&ix->column_indexes);
    buf_reset(&ix->offset_indexes);
    pq_index_chunk_begin(ix, PQ_ORDER_BYTES);
}

void pq_index_chunk_begin(pq_index *ix, pq_order order)
{
    ix->order = order;
    ix->pages = 0;
    ix->no_bounds = 0;
    ix->ascending = ix->descending = 1;
    ix->has_prev = 0;
    buf_reset(&ix->null_pages);
    buf_reset(&ix->bounds);
    buf_reset(&ix->null_counts);
    buf_reset(&ix->locations);
}

/* bounds holds per page: u32 lo_len, lo bytes, u32 hi_len, hi bytes */
static int put_bound(o2p_buf *b, const uint8_t *data, size_t len)
{
    uint32_t n = (uint32_t)len;
    if (buf_append(b, &n, 4) < 0) return O2P_ENOMEM;
    return len ? buf_append(b, data, len) : O2P_OK;
}

static int set_buf(o2p_buf *b, const uint8_t *data, size_t len)
{
    buf_reset(b);
    return len ? buf_append(b, data, len) : O2P_OK;
}

int pq_index_page(pq_index *ix, const pq_stats *page, uint64_t offset, uint64_t size,
                  uint64_t first_row)
{
    pq_bound lo, hi;
    int has = pq_stats_bounds(page, &lo, &hi);
    /* values that are all NaN: no bound, yet not a null page */
    if (!has && page->nan_count > 0) ix->no_bounds = 1;
    uint8_t is_null = !has;
    int rc = buf_push_byte(&ix->null_pages, is_null);
    if (rc == O2P_OK) rc = put_bound(&ix->bounds, has ? lo.data : NULL, has ? lo.len : 0);
    if (rc == O2P_OK) rc = put_bound(&ix->bounds, has ? hi.data : NULL, has ? hi.len : 0);
    int64_t nulls = (int64_t)page->null_count;
    if (rc == O2P_OK) rc = buf_append(&ix->null_counts, &nulls, 8);
    uint64_t loc[3] = {offset, size, first_row};
    if (rc == O2P_OK) rc = buf_append(&ix->locations, loc, sizeof loc);
    if (rc == O2P_OK && has) {
        if (ix->has_prev) {
            int c_lo = pq_bound_cmp(ix->order, ix->prev_lo.data, ix->prev_lo.len, lo.data, lo.len);
            int c_hi = pq_bound_cmp(ix->order, ix->prev_hi.data, ix->prev_hi.len, hi.data, hi.len);
            if (c_lo > 0 || c_hi > 0) ix->ascending = 0;
            if (c_lo < 0 || c_hi < 0) ix->descending = 0;
        }
        rc = set_buf(&ix->prev_lo, lo.data, lo.len);
        if (rc == O2P_OK) rc = set_buf(&ix->prev_hi, hi.data, hi.len);
        ix->has_prev = 1;
    }
    if (rc < 0) return O2P_ENOMEM;
    ix->pages++;
    return O2P_OK;
}

static const uint8_t *next_bound(const uint8_t *p, const uint8_t **data, size_t *len)
{
    uint32_t n;
    memcpy(&n, p, 4);
    *data = p + 4;
    *len = n;
    return p + 4 + n;
}

int pq_index_chunk_end(pq_index *ix, pq_index_ref *ref)
{
    pq_thrift t;
    size_t n = ix->pages;
    ref->column_off = ix->column_indexes.len;
    ref->column_len = 0;
    if (!ix->no_bounds && n > 0) {
        pq_thrift_init(&t, &ix->column_indexes);
        pq_thrift_struct_begin(&t);
        pq_thrift_field_list(&t, 1, PQ_TT_BOOL_TRUE, n);
        for (size_t i = 0; i < n; i++) {
            /* list elements of type bool are one byte: 1 true, 2 false (compact) */
            uint8_t b = ix->null_pages.data[i] ? 1 : 2;
            pq_thrift_raw(&t, &b, 1);
        }
        for (int pass = 0; pass < 2; pass++) { /* 2: min_values, 3: max_values */
            pq_thrift_field_list(&t, (int16_t)(2 + pass), PQ_TT_BINARY, n);
            const uint8_t *p = ix->bounds.data;
            for (size_t i = 0; i < n; i++) {
                const uint8_t *lo, *hi;
                size_t lo_len, hi_len;
                p = next_bound(p, &lo, &lo_len);
                p = next_bound(p, &hi, &hi_len);
                if (pass == 0)
                    pq_thrift_binary(&t, lo, lo_len);
                else
                    pq_thrift_binary(&t, hi, hi_len);
            }
        }
        int order = !ix->has_prev    ? PQ_BOUNDARY_UNORDERED
                    : ix->ascending  ? PQ_BOUNDARY_ASCENDING
                    : ix->descending ? PQ_BOUNDARY_DESCENDING
                                     : PQ_BOUNDARY_UNORDERED;
        pq_thrift_field_i32(&t, 4, order);
        pq_thrift_field_list(&t, 5, PQ_TT_I64, n);
        for (size_t i = 0; i < n; i++) {
            int64_t v;
            memcpy(&v, ix->null_counts.data + 8 * i, 8);
            pq_thrift_i64(&t, v);
        }
        pq_thrift_struct_end(&t);
        if (pq_thrift_status(&t) < 0) return O2P_ENOMEM;
        ref->column_len = ix->column_indexes.len - ref->column_off;
    }
    ref->offset_off = ix->offset_indexes.len;
    pq_thrift_init(&t, &ix->offset_indexes);
    pq_thrift_struct_begin(&t);
    pq_thrift_field_list(&t, 1, PQ_TT_STRUCT, n);
    for (size_t i = 0; i < n; i++) {
        uint64_t loc[3];
        memcpy(loc, ix->locations.data + sizeof loc * i, sizeof loc);
        pq_thrift_struct_begin(&t);
        pq_thrift_field_i64(&t, 1, (int64_t)loc[0]);
        pq_thrift_field_i32(&t, 2, (int32_t)loc[1]);
        pq_thrift_field_i64(&t, 3, (int64_t)loc[2]);
        pq_thrift_struct_end(&t);
    }
    pq_thrift_struct_end(&t);
    if (pq_thrift_status(&t) < 0) return O2P_ENOMEM;
    ref->offset_len = ix->offset_indexes.len - ref->offset_off;
    return O2P_OK;
}
