/* pq_page: page headers (see pq_page.h). */
#include "parquet/pq_page.h"

#include "parquet/pq_thrift.h"

static int sizes_fit(size_t uncompressed, size_t compressed, size_t num_values)
{
    return uncompressed <= INT32_MAX && compressed <= INT32_MAX && num_values <= INT32_MAX;
}

int pq_page_data_header(o2p_buf *out, size_t uncompressed, size_t compressed, size_t num_values,
                        int encoding, const pq_stats *stats)
{
    if (!sizes_fit(uncompressed, compressed, num_values)) return O2P_ELIMIT;
    pq_thrift t;
    pq_thrift_init(&t, out);
    pq_thrift_struct_begin(&t);
    pq_thrift_field_i32(&t, 1, PQ_PAGE_DATA);
    pq_thrift_field_i32(&t, 2, (int32_t)uncompressed);
    pq_thrift_field_i32(&t, 3, (int32_t)compressed);
    pq_thrift_field_struct(&t, 5);
    pq_thrift_field_i32(&t, 1, (int32_t)num_values);
    pq_thrift_field_i32(&t, 2, encoding);
    pq_thrift_field_i32(&t, 3, PQ_ENC_RLE);
    pq_thrift_field_i32(&t, 4, PQ_ENC_RLE);
    if (stats) pq_stats_write(stats, &t, 5);
    pq_thrift_struct_end(&t);
    pq_thrift_struct_end(&t);
    return pq_thrift_status(&t);
}

int pq_page_dict_header(o2p_buf *out, size_t uncompressed, size_t compressed, size_t num_values)
{
    if (!sizes_fit(uncompressed, compressed, num_values)) return O2P_ELIMIT;
    pq_thrift t;
    pq_thrift_init(&t, out);
    pq_thrift_struct_begin(&t);
    pq_thrift_field_i32(&t, 1, PQ_PAGE_DICTIONARY);
    pq_thrift_field_i32(&t, 2, (int32_t)uncompressed);
    pq_thrift_field_i32(&t, 3, (int32_t)compressed);
    pq_thrift_field_struct(&t, 7);
    pq_thrift_field_i32(&t, 1, (int32_t)num_values);
    pq_thrift_field_i32(&t, 2, PQ_ENC_PLAIN);
    pq_thrift_struct_end(&t);
    pq_thrift_struct_end(&t);
    return pq_thrift_status(&t);
}
