/*
 * batch_file: one buffered group -> one Parquet file in memory plus its
 * storage key (spec §3 metadata, §4 layout).  Shared by the flusher threads
 * and the offline `convert` command.
 */
#include <string.h>

#include "batch/batch.h"
#include "core/version.h"
#include "storage/layout.h"

int batch_encode_group(const tbl_group *g, const pq_writer_options *opts, o2p_buf *file, char *key,
                       size_t key_cap, o2p_error *err)
{
    pq_kv meta[] = {
        {"otlp2parquet.table", tbl_name(g->table)},
        {"otlp2parquet.schema_version", TBL_SCHEMA_VERSION},
    };
    pq_writer_options o = *opts;
    o.metadata = meta;
    o.num_metadata = sizeof meta / sizeof meta[0];
    o.sort_leaf = tbl_sort_leaf(g->table);
    o.bloom_table_columns = tbl_bloom_columns(g->table);
    o.plain_table_columns = tbl_plain_columns(g->table);

    int rc;
    if (key[0] == '\0') {
        o2p_buf keybuf;
        buf_init(&keybuf, key_cap);
        rc = layout_object_key(&keybuf, tbl_dataset(g->table), (const uint8_t *)g->service,
                               g->service_len, g->hour, g->min_ts_us, NULL, err);
        if (rc < 0) {
            buf_free(&keybuf);
            return rc;
        }
        if (keybuf.len >= key_cap) {
            buf_free(&keybuf);
            return o2p_errorf(err, O2P_ELIMIT, "object key longer than %zu bytes", key_cap - 1);
        }
        memcpy(key, keybuf.data, keybuf.len);
        key[keybuf.len] = '\0';
        buf_free(&keybuf);
    }

    buf_reset(file);
    pq_writer *w = NULL;
    rc = pq_writer_open(&w, g->rows.schema, &o, pq_sink_buf(file), err);
    if (rc == 0) rc = pq_writer_write(w, &g->rows, err);
    if (rc == 0) rc = pq_writer_close(w, err);
    pq_writer_destroy(w);
    if (rc < 0) o2p_error_prefix(err, "%s: encoding %s", tbl_name(g->table), key);
    return rc;
}
