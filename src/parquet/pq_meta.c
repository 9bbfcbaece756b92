/* pq_meta: footer metadata (see pq_meta.h). */
#include "parquet/pq_meta.h"

#include <string.h>

#include "parquet/pq_page.h"
#include "parquet/pq_thrift.h"

/* Parquet format version of FileMetaData.version: v1 data pages only. */
#define PQ_FORMAT_VERSION 1

static void write_path(pq_thrift *t, int16_t id, const char *path)
{
    size_t parts = 1;
    for (const char *p = path; *p; p++) parts += *p == '.';
    pq_thrift_field_list(t, id, PQ_TT_BINARY, parts);
    const char *start = path;
    for (;;) {
        const char *dot = strchr(start, '.');
        size_t len = dot ? (size_t)(dot - start) : strlen(start);
        pq_thrift_binary(t, start, len);
        if (!dot) break;
        start = dot + 1;
    }
}

int pq_meta_column_chunk_open(o2p_buf *out, const pq_chunk_meta *m)
{
    pq_thrift t;
    pq_thrift_init(&t, out);
    pq_thrift_struct_begin(&t);
    /* file_offset is deprecated: the spec asks for 0 when the ColumnMetaData
     * lives only in the footer (one byte instead of up to ten) */
    pq_thrift_field_i64(&t, 2, 0);
    pq_thrift_field_struct(&t, 3);
    pq_thrift_field_i32(&t, 1, (int32_t)m->leaf->physical);
    if (m->has_dictionary) {
        pq_thrift_field_list(&t, 2, PQ_TT_I32, 3);
        pq_thrift_i32(&t, PQ_ENC_PLAIN);
        pq_thrift_i32(&t, PQ_ENC_RLE);
        pq_thrift_i32(&t, PQ_ENC_RLE_DICTIONARY);
    } else {
        pq_thrift_field_list(&t, 2, PQ_TT_I32, 2);
        pq_thrift_i32(&t, PQ_ENC_PLAIN);
        pq_thrift_i32(&t, PQ_ENC_RLE);
    }
    write_path(&t, 3, m->leaf->path);
    pq_thrift_field_i32(&t, 4, (int32_t)m->codec);
    pq_thrift_field_i64(&t, 5, (int64_t)m->num_values);
    pq_thrift_field_i64(&t, 6, (int64_t)m->uncompressed_size);
    pq_thrift_field_i64(&t, 7, (int64_t)m->compressed_size);
    pq_thrift_field_i64(&t, 9, (int64_t)m->data_page_offset);
    if (m->has_dictionary) pq_thrift_field_i64(&t, 11, (int64_t)m->dictionary_page_offset);
    if (m->stats) pq_stats_write(m->stats, &t, 12);
    /* No encoding_stats (optional): encodings already lists what the pages
     * use, and every reader parses the list for every chunk of every row
     * group on every file open (DuckDB has no footer cache by default). */
    if (m->bloom_filter_length > 0) {
        pq_thrift_field_i64(&t, 14, (int64_t)m->bloom_filter_offset);
        pq_thrift_field_i32(&t, 15, (int32_t)m->bloom_filter_length);
    }
    pq_thrift_struct_end(&t);
    /* the ColumnChunk stays open: pq_meta_column_chunk_close ends it */
    return t.status < 0 ? t.status : (t.depth == 1 ? O2P_OK : O2P_ESTATE);
}

int pq_meta_column_chunk_close(o2p_buf *out, const pq_chunk_index *ci)
{
    pq_thrift t;
    pq_thrift_init(&t, out);
    pq_thrift_struct_resume(&t, 3);
    if (ci->offset_index_length > 0) {
        pq_thrift_field_i64(&t, 4, (int64_t)ci->offset_index_offset);
        pq_thrift_field_i32(&t, 5, (int32_t)ci->offset_index_length);
    }
    if (ci->column_index_length > 0) {
        pq_thrift_field_i64(&t, 6, (int64_t)ci->column_index_offset);
        pq_thrift_field_i32(&t, 7, (int32_t)ci->column_index_length);
    }
    pq_thrift_struct_end(&t);
    return pq_thrift_status(&t);
}

int pq_meta_row_group(o2p_buf *out, const o2p_buf *chunks, size_t num_cols,
                      uint64_t total_byte_size, uint64_t num_rows, uint64_t file_offset,
                      uint64_t total_compressed_size, size_t ordinal, int sort_leaf)
{
    pq_thrift t;
    pq_thrift_init(&t, out);
    pq_thrift_struct_begin(&t);
    pq_thrift_field_list(&t, 1, PQ_TT_STRUCT, num_cols);
    pq_thrift_raw(&t, chunks->data, chunks->len);
    pq_thrift_field_i64(&t, 2, (int64_t)total_byte_size);
    pq_thrift_field_i64(&t, 3, (int64_t)num_rows);
    if (sort_leaf >= 0) { /* list<SortingColumn{1: column_idx, 2: descending, 3: nulls_first}> */
        pq_thrift_field_list(&t, 4, PQ_TT_STRUCT, 1);
        pq_thrift_struct_begin(&t);
        pq_thrift_field_i32(&t, 1, sort_leaf);
        pq_thrift_field_bool(&t, 2, 0);
        pq_thrift_field_bool(&t, 3, 1);
        pq_thrift_struct_end(&t);
    }
    pq_thrift_field_i64(&t, 5, (int64_t)file_offset);
    pq_thrift_field_i64(&t, 6, (int64_t)total_compressed_size);
    if (ordinal <= INT16_MAX) pq_thrift_field_i16(&t, 7, (int16_t)ordinal);
    pq_thrift_struct_end(&t);
    return pq_thrift_status(&t);
}

/* Legacy ConvertedType values, or -1 when the annotation has none. */
static int converted_type(pq_logical logical)
{
    switch (logical) {
    case PQ_LOGICAL_STRING:
        return 0;
    case PQ_LOGICAL_MAP:
        return 1;
    case PQ_LOGICAL_LIST:
        return 3;
    case PQ_LOGICAL_TIMESTAMP_MILLIS:
        return 9;
    case PQ_LOGICAL_TIMESTAMP_MICROS:
        return 10;
    case PQ_LOGICAL_UINT8:
        return 11;
    case PQ_LOGICAL_UINT16:
        return 12;
    case PQ_LOGICAL_UINT32:
        return 13;
    case PQ_LOGICAL_UINT64:
        return 14;
    case PQ_LOGICAL_INT8:
        return 15;
    case PQ_LOGICAL_INT16:
        return 16;
    case PQ_LOGICAL_INT32:
        return 17;
    case PQ_LOGICAL_INT64:
        return 18;
    case PQ_LOGICAL_NONE:
    case PQ_LOGICAL_TIMESTAMP_NANOS:
        break;
    }
    return -1;
}

static void int_type(pq_thrift *t, int bits, int is_signed)
{
    pq_thrift_field_struct(t, 10);
    pq_thrift_field_i8(t, 1, (int8_t)bits);
    pq_thrift_field_bool(t, 2, is_signed);
    pq_thrift_struct_end(t);
}

static void timestamp_type(pq_thrift *t, int16_t unit)
{
    pq_thrift_field_struct(t, 8);
    pq_thrift_field_bool(t, 1, 1);
    pq_thrift_field_struct(t, 2);
    pq_thrift_field_struct(t, unit);
    pq_thrift_struct_end(t);
    pq_thrift_struct_end(t);
    pq_thrift_struct_end(t);
}

static void empty_member(pq_thrift *t, int16_t id)
{
    pq_thrift_field_struct(t, id);
    pq_thrift_struct_end(t);
}

/* The LogicalType union (field 10 of SchemaElement). */
static void logical_type(pq_thrift *t, pq_logical logical)
{
    if (logical == PQ_LOGICAL_NONE) return;
    pq_thrift_field_struct(t, 10);
    switch (logical) {
    case PQ_LOGICAL_STRING:
        empty_member(t, 1);
        break;
    case PQ_LOGICAL_MAP:
        empty_member(t, 2);
        break;
    case PQ_LOGICAL_LIST:
        empty_member(t, 3);
        break;
    case PQ_LOGICAL_TIMESTAMP_MILLIS:
        timestamp_type(t, 1);
        break;
    case PQ_LOGICAL_TIMESTAMP_MICROS:
        timestamp_type(t, 2);
        break;
    case PQ_LOGICAL_TIMESTAMP_NANOS:
        timestamp_type(t, 3);
        break;
    case PQ_LOGICAL_INT8:
        int_type(t, 8, 1);
        break;
    case PQ_LOGICAL_INT16:
        int_type(t, 16, 1);
        break;
    case PQ_LOGICAL_INT32:
        int_type(t, 32, 1);
        break;
    case PQ_LOGICAL_INT64:
        int_type(t, 64, 1);
        break;
    case PQ_LOGICAL_UINT8:
        int_type(t, 8, 0);
        break;
    case PQ_LOGICAL_UINT16:
        int_type(t, 16, 0);
        break;
    case PQ_LOGICAL_UINT32:
        int_type(t, 32, 0);
        break;
    case PQ_LOGICAL_UINT64:
        int_type(t, 64, 0);
        break;
    case PQ_LOGICAL_NONE:
        break;
    }
    pq_thrift_struct_end(t);
}

static void schema_element(pq_thrift *t, const pq_node_info *n, int is_root)
{
    pq_thrift_struct_begin(t);
    if (n->is_leaf) {
        pq_thrift_field_i32(t, 1, (int32_t)n->physical);
        if (n->physical == PQ_FIXED_LEN_BYTE_ARRAY) pq_thrift_field_i32(t, 2, n->type_length);
    }
    if (!is_root) pq_thrift_field_i32(t, 3, (int32_t)n->repetition);
    pq_thrift_field_string(t, 4, n->name);
    if (!n->is_leaf) pq_thrift_field_i32(t, 5, n->num_children);
    int ct = converted_type(n->logical);
    if (ct >= 0) pq_thrift_field_i32(t, 6, ct);
    logical_type(t, n->logical);
    pq_thrift_struct_end(t);
}

int pq_meta_footer(o2p_buf *out, const pq_schema *schema, uint64_t num_rows,
                   const o2p_buf *row_groups, size_t num_row_groups, const pq_kv *metadata,
                   size_t num_metadata, const char *created_by)
{
    pq_thrift t;
    pq_thrift_init(&t, out);
    pq_thrift_struct_begin(&t);
    pq_thrift_field_i32(&t, 1, PQ_FORMAT_VERSION);
    size_t nodes = pq_schema_num_nodes(schema);
    pq_thrift_field_list(&t, 2, PQ_TT_STRUCT, nodes);
    for (size_t i = 0; i < nodes; i++) {
        pq_node_info n;
        pq_schema_node_preorder(schema, i, &n);
        schema_element(&t, &n, i == 0);
    }
    pq_thrift_field_i64(&t, 3, (int64_t)num_rows);
    pq_thrift_field_list(&t, 4, PQ_TT_STRUCT, num_row_groups);
    pq_thrift_raw(&t, row_groups->data, row_groups->len);
    if (num_metadata > 0) {
        pq_thrift_field_list(&t, 5, PQ_TT_STRUCT, num_metadata);
        for (size_t i = 0; i < num_metadata; i++) {
            pq_thrift_struct_begin(&t);
            pq_thrift_field_string(&t, 1, metadata[i].key);
            if (metadata[i].value) pq_thrift_field_string(&t, 2, metadata[i].value);
            pq_thrift_struct_end(&t);
        }
    }
    pq_thrift_field_string(&t, 6, created_by);
    /* TYPE_DEFINED_ORDER for every leaf tells readers that min_value and
     * max_value follow each type's own sort order. */
    size_t leaves = pq_schema_num_leaves(schema);
    pq_thrift_field_list(&t, 7, PQ_TT_STRUCT, leaves);
    for (size_t i = 0; i < leaves; i++) {
        pq_thrift_struct_begin(&t);
        empty_member(&t, 1);
        pq_thrift_struct_end(&t);
    }
    pq_thrift_struct_end(&t);
    return pq_thrift_status(&t);
}
