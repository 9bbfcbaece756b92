/* runtime: shared set-up of serve and convert (see runtime.h). */
#include "cli/runtime.h"

#include <stdlib.h>
#include <string.h>

void runtime_parquet_options(const cfg_config *cfg, pq_writer_options *out)
{
    pq_writer_options_default(out);
    out->codec = (pq_codec)cfg->parquet.compression;
    out->compression_level = cfg->parquet.compression_level;
    out->row_group_rows = (size_t)cfg->parquet.row_group_rows;
    out->sorted_row_group_rows = (size_t)cfg->parquet.sorted_row_group_rows;
    out->row_group_span_secs = cfg->parquet.row_group_span_secs;
    out->sort_rows = cfg->parquet.sort_rows;
    out->page_rows = (size_t)cfg->parquet.page_rows;
    out->bloom_fpp = cfg->parquet.bloom_filter_fpp;
    out->bloom_filters = cfg->parquet.bloom_filters;
    out->page_index = cfg->parquet.page_index;
    out->min_compression_saving = cfg->parquet.min_compression_saving;
    out->bloom_columns = cfg->parquet.bloom_filter_columns;
}

int runtime_open_store(const cfg_config *cfg, store **out, o2p_error *err)
{
    if (cfg->storage.backend == CFG_BACKEND_FS)
        return store_open_fs(out, cfg->storage.fs.path, err);
    const cfg_s3 *s3 = &cfg->storage.s3;
    store_s3_config sc;
    store_s3_config_init(&sc);
    sc.bucket = s3->bucket;
    sc.region = s3->region;
    sc.endpoint = s3->endpoint;
    sc.prefix = s3->prefix;
    sc.path_style = s3->path_style;
    sc.access_key_id = s3->access_key_id;
    sc.secret_access_key = s3->secret_access_key;
    sc.session_token = s3->session_token;
    sc.profile = s3->profile;
    /* The configuration takes AWS_* keys when the file gives none; name the
     * environment in messages then, so users fix the right place. */
    const char *env_key = getenv("AWS_ACCESS_KEY_ID");
    const char *env_secret = getenv("AWS_SECRET_ACCESS_KEY");
    if (s3->access_key_id && env_key && env_secret && s3->secret_access_key &&
        strcmp(s3->access_key_id, env_key) == 0 && strcmp(s3->secret_access_key, env_secret) == 0)
        sc.credentials_source = "the environment (AWS_ACCESS_KEY_ID)";
    return store_open_s3(out, &sc, err);
}

/* Every name in parquet.bloom_filter_columns must be a column of some table. */
static int check_bloom_columns(const cfg_config *cfg, const tbl_schemas *s, o2p_error *err)
{
    const char *list = cfg->parquet.bloom_filter_columns;
    while (list != NULL && *list) {
        const char *comma = strchr(list, ',');
        size_t len = comma ? (size_t)(comma - list) : strlen(list);
        while (len > 0 && *list == ' ') list++, len--;
        while (len > 0 && list[len - 1] == ' ') len--;
        char name[256];
        if (len > 0) {
            if (len >= sizeof name) len = sizeof name - 1;
            memcpy(name, list, len);
            name[len] = '\0';
            int found = 0;
            for (int t = 0; t < TBL_COUNT && !found; t++)
                found = pq_schema_find_leaf(s->schema[t], name) >= 0;
            if (!found)
                return o2p_errorf(err, O2P_EINVAL,
                                  "config: parquet.bloom_filter_columns: no table has a column "
                                  "named \"%s\" (MAP keys such as attribute names cannot have "
                                  "bloom filters)",
                                  name);
        }
        if (!comma) break;
        list = comma + 1;
    }
    return O2P_OK;
}

int runtime_schemas(const cfg_config *cfg, tbl_schemas *out, o2p_error *err)
{
    int rc = tbl_schemas_init(
        out, cfg->parquet.timestamp_unit == CFG_TS_NANOS ? TBL_TS_NANOS : TBL_TS_MICROS, err);
    if (rc < 0) return rc;
    rc = check_bloom_columns(cfg, out, err);
    if (rc < 0) tbl_schemas_free(out);
    return rc;
}
