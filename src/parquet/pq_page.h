/*
 * pq_page: the Thrift PageHeader in front of every page — format v1 data
 * pages and dictionary pages — and the Parquet enum values they use.
 */
#ifndef O2P_PARQUET_PAGE_H
#define O2P_PARQUET_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "parquet/pq_stats.h"

/* Thrift `Encoding` values. */
enum { PQ_ENC_PLAIN = 0, PQ_ENC_RLE = 3, PQ_ENC_RLE_DICTIONARY = 8 };
/* Thrift `PageType` values. */
enum { PQ_PAGE_DATA = 0, PQ_PAGE_DICTIONARY = 2 };

/* Appends a DATA_PAGE header: num_values level entries (nulls included),
 * values encoded with `encoding`, levels RLE, optional page statistics.
 * O2P_ELIMIT when a size does not fit Thrift's i32. */
int pq_page_data_header(o2p_buf *out, size_t uncompressed, size_t compressed, size_t num_values,
                        int encoding, const pq_stats *stats);
/* Appends a DICTIONARY_PAGE header for a PLAIN dictionary of num_values entries. */
int pq_page_dict_header(o2p_buf *out, size_t uncompressed, size_t compressed, size_t num_values);

#endif
