/* Unit tests for src/config/cfg: defaults, layering, validation, redaction. */
#include <stdio.h>
#include <stdlib.h>

#include "config/cfg.h"
#include "core/mem.h"
#include "unit.h"

/* A fake environment: NULL-terminated name/value pairs. */
static const char *fake_getenv(const char *name, void *ctx)
{
    const char *const *pairs = ctx;
    for (size_t i = 0; pairs && pairs[i]; i += 2)
        if (strcmp(pairs[i], name) == 0) return pairs[i + 1];
    return NULL;
}

static char *write_file(const char *name, const char *text)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", unit_tmpdir(), name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
    return path;
}

/* Loads with only the given file text (NULL: no file), env and flags. */
static int load(cfg_config *cfg, const char *file_text, const char *const *env, cfg_flags flags,
                o2p_error *err)
{
    cfg_sources src = {.getenv = fake_getenv, .getenv_ctx = (void *)env, .flags = flags};
    src.search_dir = unit_tmpdir(); /* an empty dir: the real ./config.toml never leaks in */
    if (file_text) src.config_path = write_file("test.toml", file_text);
    o2p_error_clear(err);
    return cfg_load(cfg, &src, err);
}

static void expect_error(const char *file_text, const char *const *env, cfg_flags flags,
                         const char *want)
{
    cfg_config cfg;
    o2p_error err;
    int rc = load(&cfg, file_text, env, flags, &err);
    CHECK_MSG(rc < 0, "expected an error containing \"%s\"", want);
    CHECK_MSG(strstr(err.msg, want) != NULL, "message \"%s\" lacks \"%s\"", err.msg, want);
    CHECK_MSG(strchr(err.msg, '\n') == NULL, "message has several lines: %s", err.msg);
    cfg_free(&cfg);
}

static const cfg_flags no_flags;

TEST(cfg_defaults_match_the_spec)
{
    cfg_config cfg;
    o2p_error err;
    CHECK_OK(load(&cfg, NULL, NULL, no_flags, &err));
    CHECK_STR(cfg.server.listen_addr, "0.0.0.0:4318");
    CHECK_STR(cfg.server.listen_host, "0.0.0.0");
    CHECK_INT(cfg.server.listen_port, 4318);
    CHECK_INT(cfg.server.log_level, LOG_LEVEL_INFO);
    CHECK_INT(cfg.server.log_format, LOG_FORMAT_TEXT);
    CHECK(cfg.server.auth_token == NULL);
    CHECK_UINT(cfg.request.max_payload_bytes, 8u << 20);
    CHECK(cfg.batch.enabled);
    CHECK_UINT(cfg.batch.max_rows, 200000);
    CHECK_UINT(cfg.batch.max_bytes, 128u << 20);
    CHECK_UINT(cfg.batch.max_age_secs, 10);
    CHECK_UINT(cfg.batch.max_buffered_bytes, 512u << 20);
    CHECK_INT(cfg.storage.backend, CFG_BACKEND_FS);
    CHECK_STR(cfg.storage.fs.path, "./data");
    CHECK(cfg.storage.s3.bucket == NULL && cfg.storage.s3.endpoint == NULL &&
          cfg.storage.s3.prefix == NULL);
    CHECK_STR(cfg.storage.s3.region, "us-east-1");
    CHECK_INT(cfg.storage.s3.path_style, 0);
    CHECK_INT(cfg.parquet.compression, CFG_COMPRESSION_ZSTD);
    CHECK_INT(cfg.parquet.compression_level, 3);
    CHECK_UINT(cfg.parquet.row_group_rows, 1048576);
    CHECK_UINT(cfg.parquet.sorted_row_group_rows, 100000);
    CHECK_UINT(cfg.parquet.row_group_span_secs, 600);
    CHECK_INT(cfg.parquet.timestamp_unit, CFG_TS_MICROS);
    CHECK_INT(cfg.parquet.sort_rows, 1);
    CHECK_UINT(cfg.parquet.page_rows, 100000);
    CHECK(cfg.parquet.bloom_filter_fpp == 0.01);
    CHECK(cfg.parquet.min_compression_saving == 0.05);
    CHECK(cfg.parquet.bloom_filter_columns == NULL);
    CHECK(cfg.parquet.bloom_filters);
    CHECK(cfg.parquet.page_index);
    CHECK_INT(cfg.durability, CFG_DURABILITY_WAL);
    CHECK(cfg.wal.dir == NULL);
    CHECK(!cfg.wal.sync_interval);
    CHECK_UINT(cfg.wal.sync_interval_ms, 100);
    CHECK_UINT(cfg.wal.max_bytes, 4ull << 30);
    CHECK_UINT(cfg.wal.segment_bytes, 64ull << 20);
    CHECK(!cfg.wal.spare_segment);
    o2p_buf dir;
    buf_init(&dir, 0);
    CHECK_OK(cfg_wal_dir(&cfg, &dir));
    CHECK_MEM(dir.data, dir.len, "./data/.wal", 11);
    buf_free(&dir);
    CHECK(cfg.config_file == NULL);
    cfg_free(&cfg);
}

TEST(cfg_file_sets_every_section)
{
    cfg_config cfg;
    o2p_error err;
    const char *text = "durability = \"wal\"\n"
                       "[server]\n"
                       "listen_addr = \"127.0.0.1:9000\"\n"
                       "log_level = \"debug\"\n"
                       "log_format = \"json\"\n"
                       "auth_token = \"tok3n\"\n"
                       "[request]\n"
                       "max_payload_bytes = \"16MiB\"\n"
                       "[batch]\n"
                       "enabled = false\n"
                       "max_rows = 1_000\n"
                       "max_bytes = 1048576\n"
                       "max_age_secs = 3\n"
                       "max_buffered_bytes = \"1GB\"\n"
                       "[storage]\n"
                       "backend = \"s3\"\n"
                       "[storage.fs]\n"
                       "path = \"/var/lib/o2p\"\n"
                       "[storage.s3]\n"
                       "bucket = \"telemetry\"\n"
                       "region = \"eu-west-1\"\n"
                       "prefix = \"otel\"\n"
                       "access_key_id = \"AKID\"\n"
                       "secret_access_key = \"s3cr3t\"\n"
                       "session_token = \"sess\"\n"
                       "[parquet]\n"
                       "compression = \"gzip\"\n"
                       "compression_level = 9\n"
                       "row_group_rows = 5000\n"
                       "sorted_row_group_rows = 3000\n"
                       "row_group_span_secs = 300\n"
                       "timestamp_unit = \"ns\"\n"
                       "sort_rows = false\n"
                       "page_rows = 5000\n"
                       "bloom_filter_fpp = 0.05\n"
                       "bloom_filters = false\n"
                       "page_index = false\n"
                       "min_compression_saving = 0\n"
                       "bloom_filter_columns = \"ServiceName, SpanName\"\n";
    CHECK_OK(load(&cfg, text, NULL, no_flags, &err));
    CHECK_STR(cfg.server.listen_addr, "127.0.0.1:9000");
    CHECK_INT(cfg.server.listen_port, 9000);
    CHECK_INT(cfg.server.log_level, LOG_LEVEL_DEBUG);
    CHECK_INT(cfg.server.log_format, LOG_FORMAT_JSON);
    CHECK_STR(cfg.server.auth_token, "tok3n");
    CHECK_UINT(cfg.request.max_payload_bytes, 16u << 20);
    CHECK(!cfg.batch.enabled);
    CHECK_UINT(cfg.batch.max_rows, 1000);
    CHECK_UINT(cfg.batch.max_bytes, 1048576);
    CHECK_UINT(cfg.batch.max_age_secs, 3);
    CHECK_UINT(cfg.batch.max_buffered_bytes, 1000000000ull);
    CHECK_INT(cfg.storage.backend, CFG_BACKEND_S3);
    CHECK_STR(cfg.storage.fs.path, "/var/lib/o2p");
    CHECK_STR(cfg.storage.s3.bucket, "telemetry");
    CHECK_STR(cfg.storage.s3.region, "eu-west-1");
    CHECK_STR(cfg.storage.s3.prefix, "otel/");
    CHECK_STR(cfg.storage.s3.access_key_id, "AKID");
    CHECK_STR(cfg.storage.s3.secret_access_key, "s3cr3t");
    CHECK_STR(cfg.storage.s3.session_token, "sess");
    CHECK_INT(cfg.storage.s3.path_style, 0);
    CHECK_INT(cfg.parquet.compression, CFG_COMPRESSION_GZIP);
    CHECK_INT(cfg.parquet.compression_level, 9);
    CHECK_UINT(cfg.parquet.row_group_rows, 5000);
    CHECK_UINT(cfg.parquet.sorted_row_group_rows, 3000);
    CHECK_UINT(cfg.parquet.row_group_span_secs, 300);
    CHECK_INT(cfg.parquet.timestamp_unit, CFG_TS_NANOS);
    CHECK_INT(cfg.parquet.sort_rows, 0);
    CHECK_UINT(cfg.parquet.page_rows, 5000);
    CHECK(cfg.parquet.bloom_filter_fpp == 0.05);
    CHECK(!cfg.parquet.bloom_filters);
    CHECK(!cfg.parquet.page_index);
    CHECK(cfg.parquet.min_compression_saving == 0.0);
    CHECK_STR(cfg.parquet.bloom_filter_columns, "ServiceName, SpanName");
    CHECK_INT(cfg.durability, CFG_DURABILITY_WAL);
    CHECK(cfg.config_file != NULL && strstr(cfg.config_file, "test.toml") != NULL);
    cfg_free(&cfg);
}

TEST(cfg_env_overrides_file_and_flags_override_env)
{
    cfg_config cfg;
    o2p_error err;
    const char *text = "[server]\nlog_level = \"warn\"\nlisten_addr = \"0.0.0.0:1000\"\n"
                       "[batch]\nmax_rows = 10\n[storage.fs]\npath = \"/from/file\"\n";
    const char *env[] = {"OTLP2PARQUET_LOG_LEVEL",
                         "debug",
                         "OTLP2PARQUET_BATCH_MAX_ROWS",
                         "20",
                         "OTLP2PARQUET_LISTEN_ADDR",
                         "10.0.0.1:2000",
                         "OTLP2PARQUET_STORAGE_PATH",
                         "/from/env",
                         "OTLP2PARQUET_BATCH_ENABLED",
                         "false",
                         "OTLP2PARQUET_MAX_PAYLOAD_BYTES",
                         "1MiB",
                         "OTLP2PARQUET_PARQUET_TIMESTAMP_UNIT",
                         "ns",
                         "OTLP2PARQUET_DURABILITY",
                         "wal",
                         "OTLP2PARQUET_PARQUET_SORT_ROWS",
                         "false",
                         "OTLP2PARQUET_PARQUET_PAGE_ROWS",
                         "777",
                         "OTLP2PARQUET_PARQUET_BLOOM_FILTER_FPP",
                         "0.02",
                         "OTLP2PARQUET_PARQUET_MIN_COMPRESSION_SAVING",
                         "0.125",
                         "OTLP2PARQUET_LOG_FORMAT",
                         "", /* empty = unset */
                         NULL};
    CHECK_OK(load(&cfg, text, env, no_flags, &err));
    CHECK_INT(cfg.server.log_level, LOG_LEVEL_DEBUG);
    CHECK_UINT(cfg.batch.max_rows, 20);
    CHECK_STR(cfg.server.listen_addr, "10.0.0.1:2000");
    CHECK_STR(cfg.storage.fs.path, "/from/env");
    CHECK(!cfg.batch.enabled);
    CHECK_UINT(cfg.request.max_payload_bytes, 1u << 20);
    CHECK_INT(cfg.parquet.timestamp_unit, CFG_TS_NANOS);
    CHECK_INT(cfg.durability, CFG_DURABILITY_WAL);
    CHECK_INT(cfg.server.log_format, LOG_FORMAT_TEXT);
    CHECK_INT(cfg.parquet.sort_rows, 0);
    CHECK_UINT(cfg.parquet.page_rows, 777);
    CHECK(cfg.parquet.bloom_filter_fpp == 0.02);
    CHECK(cfg.parquet.min_compression_saving == 0.125);
    cfg_free(&cfg);

    cfg_flags flags = {
        .port = "3000", .output_dir = "/from/flag", .log_level = "error", .compression = "snappy"};
    CHECK_OK(load(&cfg, text, env, flags, &err));
    CHECK_INT(cfg.server.log_level, LOG_LEVEL_ERROR);
    CHECK_STR(cfg.server.listen_addr, "10.0.0.1:3000");
    CHECK_INT(cfg.server.listen_port, 3000);
    CHECK_STR(cfg.storage.fs.path, "/from/flag");
    CHECK_INT(cfg.parquet.compression, CFG_COMPRESSION_SNAPPY);
    CHECK_INT(cfg.parquet.compression_level, 0);
    cfg_free(&cfg);
}

TEST(cfg_port_flag_keeps_ipv6_host)
{
    cfg_config cfg;
    o2p_error err;
    cfg_flags flags = {.port = "9999"};
    CHECK_OK(load(&cfg, "[server]\nlisten_addr = \"[::1]:4318\"\n", NULL, flags, &err));
    CHECK_STR(cfg.server.listen_addr, "[::1]:9999");
    CHECK_STR(cfg.server.listen_host, "::1");
    CHECK_INT(cfg.server.listen_port, 9999);
    cfg_free(&cfg);

    CHECK_OK(load(&cfg, "[server]\nlisten_addr = \":4318\"\n", NULL, no_flags, &err));
    CHECK_STR(cfg.server.listen_addr, "0.0.0.0:4318");
    cfg_free(&cfg);

    expect_error(NULL, NULL, (cfg_flags){.port = "70000"},
                 "config: port = \"70000\" (flag --port): expected a port number");
    expect_error("[server]\nlisten_addr = \"::1:4318\"\n", NULL, no_flags,
                 "config: server.listen_addr = \"::1:4318\"");
    expect_error("[server]\nlisten_addr = \"localhost\"\n", NULL, no_flags, "expected host:port");
}

TEST(cfg_bad_value_message_names_key_value_origin)
{
    expect_error("[server]\n\n\n\n\n[batch]\nmax_rows = \"abc\"\n", NULL, no_flags,
                 "config: batch.max_rows = \"abc\" (");
    expect_error("[server]\n\n\n\n\n[batch]\nmax_rows = \"abc\"\n", NULL, no_flags,
                 "test.toml:7): expected a positive integer");
    expect_error("[batch]\nmax_rows = 0\n", NULL, no_flags, "batch.max_rows = 0 (");
    expect_error("[batch]\nenabled = \"yes\"\n", NULL, no_flags, "batch.enabled = \"yes\"");
    expect_error("[server]\nlog_level = \"loud\"\n", NULL, no_flags,
                 "expected one of error, warn, info, debug, trace");
    expect_error("[parquet]\ncompression = \"brotli\"\n", NULL, no_flags,
                 "parquet.compression = \"brotli\"");
    expect_error("[parquet]\ntimestamp_unit = \"ms\"\n", NULL, no_flags, "expected us or ns");
    expect_error("[parquet]\nbloom_filter_fpp = 1.5\n", NULL, no_flags,
                 "parquet.bloom_filter_fpp = 1.5");
    expect_error("[parquet]\nbloom_filter_fpp = 0\n", NULL, no_flags, "false-positive rate");
    expect_error("[parquet]\nrow_group_span_secs = 0\n", NULL, no_flags,
                 "parquet.row_group_span_secs = 0");
    expect_error("[parquet]\nmin_compression_saving = 1\n", NULL, no_flags,
                 "parquet.min_compression_saving = 1");
    expect_error("[parquet]\nmin_compression_saving = -0.1\n", NULL, no_flags,
                 "expected a fraction from 0 to below 1");
    expect_error("[parquet]\nbloom_filter_columns = \"ResourceAttributes['k']\"\n", NULL, no_flags,
                 "parquet.bloom_filter_columns");
    expect_error("durability = \"disk\"\n", NULL, no_flags, "expected memory or wal");
    expect_error("[storage]\nbackend = \"gcs\"\n", NULL, no_flags, "expected fs or s3");
    expect_error("[storage.s3]\nendpoint = \"localhost:9000\"\n", NULL, no_flags,
                 "http:// or https://");
    expect_error("[request]\nmax_payload_bytes = \"8 parsecs\"\n", NULL, no_flags,
                 "request.max_payload_bytes = \"8 parsecs\"");
    expect_error("[request]\nmax_payload_bytes = -1\n", NULL, no_flags, "expected a positive size");

    const char *env[] = {"OTLP2PARQUET_BATCH_MAX_ROWS", "12x", NULL};
    expect_error(NULL, env, no_flags,
                 "config: batch.max_rows = \"12x\" (env OTLP2PARQUET_BATCH_MAX_ROWS): expected a "
                 "positive integer");
    expect_error(NULL, NULL, (cfg_flags){.log_level = "chatty"},
                 "server.log_level = \"chatty\" (flag --log-level)");
}

TEST(cfg_unknown_keys_and_sections)
{
    expect_error("[server]\nlisten = \"x\"\n", NULL, no_flags,
                 "config: unknown key server.listen (");
    expect_error("[batch]\nmax_row = 5\n", NULL, no_flags,
                 "test.toml:2); did you mean batch.max_rows?");
    expect_error("[servr]\n", NULL, no_flags, "unknown section servr");
    expect_error("[servr]\n", NULL, no_flags, "did you mean server?");
    expect_error("[storage.gcs]\nbucket = \"x\"\n", NULL, no_flags,
                 "unknown section storage.gcs (");
    expect_error("storage = \"fs\"\n", NULL, no_flags, "storage (");
    expect_error("[server]\nlisten_addr = [\"a\"]\n", NULL, no_flags,
                 "line 2: arrays are not supported");
    expect_error("totally_unrelated_key = 1\n", NULL, no_flags,
                 "unknown key totally_unrelated_key");
}

TEST(cfg_missing_explicit_file_is_an_error)
{
    cfg_config cfg;
    o2p_error err;
    cfg_sources src = {.config_path = "/nonexistent/dir/otlp2parquet.toml",
                       .search_dir = unit_tmpdir()};
    CHECK(cfg_load(&cfg, &src, &err) < 0);
    CHECK(strstr(err.msg, "/nonexistent/dir/otlp2parquet.toml") != NULL);
    CHECK(strstr(err.msg, "not found") != NULL);
    CHECK(strstr(err.msg, "--config") != NULL);

    const char *env[] = {"OTLP2PARQUET_CONFIG", "/nonexistent/x.toml", NULL};
    cfg_sources src2 = {
        .getenv = fake_getenv, .getenv_ctx = (void *)env, .search_dir = unit_tmpdir()};
    CHECK(cfg_load(&cfg, &src2, &err) < 0);
    CHECK(strstr(err.msg, "OTLP2PARQUET_CONFIG") != NULL);
    cfg_free(&cfg);
}

TEST(cfg_search_order)
{
    cfg_config cfg;
    o2p_error err;
    cfg_sources src = {.search_dir = unit_tmpdir()};
    write_file(".otlp2parquet.toml", "[batch]\nmax_rows = 2\n");
    CHECK_OK(cfg_load(&cfg, &src, &err));
    CHECK_UINT(cfg.batch.max_rows, 2);
    CHECK(strstr(cfg.config_file, ".otlp2parquet.toml") != NULL);
    cfg_free(&cfg);

    write_file("config.toml", "[batch]\nmax_rows = 1\n");
    CHECK_OK(cfg_load(&cfg, &src, &err));
    CHECK_UINT(cfg.batch.max_rows, 1);
    cfg_free(&cfg);

    /* $OTLP2PARQUET_CONFIG beats the default names; --config beats it. */
    char env_path[512];
    snprintf(env_path, sizeof env_path, "%s", write_file("env.toml", "[batch]\nmax_rows = 3\n"));
    const char *env[] = {"OTLP2PARQUET_CONFIG", env_path, NULL};
    src.getenv = fake_getenv;
    src.getenv_ctx = (void *)env;
    CHECK_OK(cfg_load(&cfg, &src, &err));
    CHECK_UINT(cfg.batch.max_rows, 3);
    cfg_free(&cfg);
    src.config_path = write_file("flag.toml", "[batch]\nmax_rows = 4\n");
    CHECK_OK(cfg_load(&cfg, &src, &err));
    CHECK_UINT(cfg.batch.max_rows, 4);
    cfg_free(&cfg);
}

TEST(cfg_size_units)
{
    uint64_t v;
    CHECK_OK(cfg_parse_size("8MiB", &v));
    CHECK_UINT(v, 8ull << 20);
    CHECK_OK(cfg_parse_size("512MB", &v));
    CHECK_UINT(v, 512000000ull);
    CHECK_OK(cfg_parse_size("1GiB", &v));
    CHECK_UINT(v, 1ull << 30);
    CHECK_OK(cfg_parse_size("100KiB", &v));
    CHECK_UINT(v, 102400);
    CHECK_OK(cfg_parse_size("100 kb", &v));
    CHECK_UINT(v, 100000);
    CHECK_OK(cfg_parse_size("2TiB", &v));
    CHECK_UINT(v, 2ull << 40);
    CHECK_OK(cfg_parse_size("42", &v));
    CHECK_UINT(v, 42);
    CHECK_OK(cfg_parse_size("42B", &v));
    CHECK_UINT(v, 42);
    CHECK(cfg_parse_size("0", &v) < 0);
    CHECK(cfg_parse_size("", &v) < 0);
    CHECK(cfg_parse_size("MiB", &v) < 0);
    CHECK(cfg_parse_size("1.5GiB", &v) < 0);
    CHECK(cfg_parse_size("-1", &v) < 0);
    CHECK(cfg_parse_size("8 MiB extra", &v) < 0);
    CHECK(cfg_parse_size("99999999999TiB", &v) < 0);
    CHECK(cfg_parse_size("18446744073709551616", &v) < 0);
}

TEST(cfg_s3_prefix_and_path_style)
{
    cfg_config cfg;
    o2p_error err;
    CHECK_OK(load(&cfg,
                  "[storage]\nbackend = \"s3\"\n[storage.s3]\nbucket = \"b\"\nprefix = \"/a/b\"\n",
                  NULL, no_flags, &err));
    CHECK_STR(cfg.storage.s3.prefix, "a/b/");
    CHECK_INT(cfg.storage.s3.path_style, 0); /* AWS: virtual-hosted */
    cfg_free(&cfg);

    const char *env[] = {"OTLP2PARQUET_S3_PREFIX", "logs/", "OTLP2PARQUET_S3_ENDPOINT",
                         "http://127.0.0.1:9000/", NULL};
    CHECK_OK(load(&cfg, "[storage]\nbackend = \"s3\"\n[storage.s3]\nbucket = \"b\"\n", env,
                  no_flags, &err));
    CHECK_STR(cfg.storage.s3.prefix, "logs/");
    CHECK_STR(cfg.storage.s3.endpoint, "http://127.0.0.1:9000");
    CHECK_INT(cfg.storage.s3.path_style, 1); /* custom endpoint: path-style */
    cfg_free(&cfg);

    /* An explicit setting wins over the endpoint-based default, from any layer. */
    const char *env2[] = {"OTLP2PARQUET_S3_ENDPOINT", "https://s3.example.com",
                          "OTLP2PARQUET_S3_PATH_STYLE", "false", NULL};
    CHECK_OK(load(&cfg, NULL, env2, no_flags, &err));
    CHECK_INT(cfg.storage.s3.path_style, 0);
    cfg_free(&cfg);
    CHECK_OK(load(&cfg, "[storage.s3]\npath_style = true\n", NULL, no_flags, &err));
    CHECK_INT(cfg.storage.s3.path_style, 1);
    cfg_free(&cfg);

    CHECK_OK(load(&cfg, "[storage.s3]\nprefix = \"\"\n", NULL, no_flags, &err));
    CHECK(cfg.storage.s3.prefix == NULL);
    cfg_free(&cfg);

    expect_error("[storage]\nbackend = \"s3\"\n", NULL, no_flags, "storage.s3.bucket is required");
    expect_error("[storage.s3]\nbucket = \"a/b\"\n", NULL, no_flags, "expected a bucket name");
}

TEST(cfg_aws_env_fallbacks)
{
    cfg_config cfg;
    o2p_error err;
    const char *env[] = {"AWS_ACCESS_KEY_ID",
                         "ENVKEY",
                         "AWS_SECRET_ACCESS_KEY",
                         "ENVSECRET",
                         "AWS_SESSION_TOKEN",
                         "ENVSESSION",
                         "AWS_REGION",
                         "ap-south-1",
                         "AWS_PROFILE",
                         "work",
                         "OTLP2PARQUET_S3_BUCKET",
                         "bkt",
                         "OTLP2PARQUET_STORAGE_BACKEND",
                         "s3",
                         NULL};
    CHECK_OK(load(&cfg, NULL, env, no_flags, &err));
    CHECK_INT(cfg.storage.backend, CFG_BACKEND_S3);
    CHECK_STR(cfg.storage.s3.bucket, "bkt");
    CHECK_STR(cfg.storage.s3.access_key_id, "ENVKEY");
    CHECK_STR(cfg.storage.s3.secret_access_key, "ENVSECRET");
    CHECK_STR(cfg.storage.s3.session_token, "ENVSESSION");
    CHECK_STR(cfg.storage.s3.region, "ap-south-1");
    CHECK_STR(cfg.storage.s3.profile, "work");
    cfg_free(&cfg);

    /* The file's keys win, and the env session token is not mixed in. */
    CHECK_OK(load(&cfg,
                  "[storage.s3]\nregion = \"eu-central-1\"\naccess_key_id = \"FILEKEY\"\n"
                  "secret_access_key = \"FILESECRET\"\n",
                  env, no_flags, &err));
    CHECK_STR(cfg.storage.s3.access_key_id, "FILEKEY");
    CHECK_STR(cfg.storage.s3.secret_access_key, "FILESECRET");
    CHECK(cfg.storage.s3.session_token == NULL);
    CHECK_STR(cfg.storage.s3.region, "eu-central-1");
    cfg_free(&cfg);

    const char *half[] = {"AWS_ACCESS_KEY_ID", "K", NULL};
    expect_error("[storage]\nbackend = \"s3\"\n[storage.s3]\nbucket = \"b\"\n", half, no_flags,
                 "storage.s3.access_key_id is set but storage.s3.secret_access_key is not");
}

TEST(cfg_compression_levels_per_codec)
{
    cfg_config cfg;
    o2p_error err;
    CHECK_OK(load(&cfg, "[parquet]\ncompression = \"gzip\"\n", NULL, no_flags, &err));
    CHECK_INT(cfg.parquet.compression_level, 6);
    cfg_free(&cfg);
    CHECK_OK(load(&cfg, "[parquet]\ncompression = \"lz4_raw\"\n", NULL, no_flags, &err));
    CHECK_INT(cfg.parquet.compression, CFG_COMPRESSION_LZ4_RAW);
    CHECK_INT(cfg.parquet.compression_level, 0);
    cfg_free(&cfg);
    CHECK_OK(load(&cfg, "[parquet]\ncompression_level = 19\n", NULL, no_flags, &err));
    CHECK_INT(cfg.parquet.compression_level, 19);
    cfg_free(&cfg);
    expect_error("[parquet]\ncompression_level = 23\n", NULL, no_flags,
                 "config: parquet.compression_level = 23 (");
    expect_error("[parquet]\ncompression_level = 23\n", NULL, no_flags,
                 "test.toml:2): expected 1..22 for zstd");
    expect_error("[parquet]\ncompression = \"gzip\"\ncompression_level = 10\n", NULL, no_flags,
                 "expected 1..9 for gzip");
    expect_error("[parquet]\ncompression = \"snappy\"\ncompression_level = 1\n", NULL, no_flags,
                 "snappy has no compression levels");
    const char *env[] = {"OTLP2PARQUET_PARQUET_COMPRESSION_LEVEL", "0", NULL};
    expect_error(NULL, env, no_flags,
                 "(env OTLP2PARQUET_PARQUET_COMPRESSION_LEVEL): expected 1..22");
}

TEST(cfg_secrets_are_redacted)
{
    cfg_config cfg;
    o2p_error err;
    const char *env[] = {"OTLP2PARQUET_AUTH_TOKEN",
                         "TOPSECRETTOKEN",
                         "AWS_ACCESS_KEY_ID",
                         "AKIDPUBLIC",
                         "AWS_SECRET_ACCESS_KEY",
                         "TOPSECRETKEY",
                         "AWS_SESSION_TOKEN",
                         "TOPSECRETSESSION",
                         NULL};
    CHECK_OK(load(&cfg, NULL, env, no_flags, &err));
    o2p_buf out;
    buf_init(&out, 0);
    CHECK_OK(cfg_describe(&cfg, &out));
    CHECK_OK(cfg_banner(&cfg, &out));
    CHECK_OK(buf_push_byte(&out, 0));
    const char *text = (const char *)out.data;
    CHECK(strstr(text, "TOPSECRET") == NULL);
    CHECK(strstr(text, "server.auth_token = <redacted>") != NULL);
    CHECK(strstr(text, "storage.s3.secret_access_key = <redacted>") != NULL);
    CHECK(strstr(text, "storage.s3.session_token = <redacted>") != NULL);
    CHECK(strstr(text, "storage.s3.access_key_id = \"AKIDPUBLIC\"") != NULL);
    CHECK(strstr(text, "authentication: bearer token") != NULL);
    buf_free(&out);
    cfg_free(&cfg);

    /* Not in error messages either. */
    expect_error("[server]\nauth_token = \"TOPSECRET with space\"\n", NULL, no_flags,
                 "server.auth_token = <redacted> (");
    cfg_config c2;
    const char *bad[] = {"OTLP2PARQUET_AUTH_TOKEN", "TOPSECRET\x01", NULL};
    CHECK(load(&c2, NULL, bad, no_flags, &err) < 0);
    CHECK(strstr(err.msg, "TOPSECRET") == NULL);
}

TEST(cfg_banner_and_storage_target)
{
    cfg_config cfg;
    o2p_error err;
    CHECK_OK(load(&cfg,
                  "[storage]\nbackend = \"s3\"\n[storage.s3]\nbucket = \"b\"\nprefix = \"p\"\n"
                  "endpoint = \"http://minio:9000\"\n",
                  NULL, no_flags, &err));
    o2p_buf out;
    buf_init(&out, 0);
    CHECK_OK(cfg_storage_target(&cfg, &out));
    CHECK_OK(buf_push_byte(&out, 0));
    CHECK_STR((const char *)out.data,
              "s3 s3://b/p/ (region us-east-1, endpoint http://minio:9000, path-style)");
    buf_reset(&out);
    CHECK_OK(cfg_banner(&cfg, &out));
    CHECK_OK(buf_push_byte(&out, 0));
    const char *text = (const char *)out.data;
    CHECK(strstr(text, "otlp2parquet ") == text);
    CHECK(strstr(text, "listening on http://0.0.0.0:4318 (authentication: off)") != NULL);
    CHECK(strstr(text, "flush at 200000 rows, 128 MiB or 10 s; memory budget 512 MiB") != NULL);
    CHECK(strstr(text, "parquet: zstd level 3") != NULL);
    buf_free(&out);
    cfg_free(&cfg);
}

/* The shipped example must load and must equal the defaults. */
TEST(cfg_example_file_loads)
{
    char path[1024];
    snprintf(path, sizeof path, "config.example.toml");
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        /* Run from elsewhere: find it relative to this source file. */
        snprintf(path, sizeof path, "%s", __FILE__);
        char *slash = strrchr(path, '/');
        if (slash) *slash = 0;
        strncat(path, "/../../config.example.toml", sizeof path - strlen(path) - 1);
        f = fopen(path, "rb");
    }
    CHECK_MSG(f != NULL, "config.example.toml not found");
    fclose(f);
    cfg_config cfg, dflt;
    o2p_error err;
    cfg_sources src = {.config_path = path, .search_dir = unit_tmpdir()};
    int rc = cfg_load(&cfg, &src, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    cfg_sources none = {.search_dir = unit_tmpdir()};
    CHECK_OK(cfg_load(&dflt, &none, &err));
    o2p_buf a, b;
    buf_init(&a, 0);
    buf_init(&b, 0);
    CHECK_OK(cfg_describe(&cfg, &a));
    CHECK_OK(cfg_describe(&dflt, &b));
    CHECK_MEM(a.data, a.len, b.data, b.len);
    buf_free(&a);
    buf_free(&b);
    cfg_free(&cfg);
    cfg_free(&dflt);
}

TEST(cfg_load_survives_oom)
{
    const char *text =
        "[server]\nauth_token = \"t\"\n[storage.s3]\nbucket = \"b\"\nprefix = \"x\"\n"
        "endpoint = \"http://h:1\"\n";
    for (long n = 0; n < 200; n++) {
        cfg_config cfg;
        o2p_error err;
        char *path = write_file("oom.toml", text);
        cfg_sources src = {.config_path = path, .search_dir = unit_tmpdir()};
        mem_fail_after(n);
        int rc = cfg_load(&cfg, &src, &err);
        mem_fail_after(-1);
        CHECK_MSG(rc == 0 || rc == O2P_ENOMEM, "fail_after %ld: rc %d (%s)", n, rc, err.msg);
        cfg_free(&cfg);
        if (rc == 0) return;
    }
    CHECK_MSG(0, "cfg_load never succeeded");
}

/* Success and every kind of failure give back all memory. */
TEST(cfg_load_frees_everything)
{
    mem_stats before, after;
    mem_get_stats(&before);
    const char *texts[] = {
        "[server]\nauth_token = \"t\"\n[storage.s3]\nbucket = \"b\"\nprefix = \"x\"\nendpoint = "
        "\"http://h:1\"\n",
        "[server]\nauth_token = \"t\"\n[batch]\nmax_rows = \"abc\"\n",
        "[server]\nlisten_addr = \"1.2.3.4:5\"\nnope = 1\n",
        "[server]\nlisten_addr = [1]\n",
        "[parquet]\ncompression_level = 99\n",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        cfg_config cfg;
        o2p_error err;
        const char *env[] = {"AWS_ACCESS_KEY_ID", "K", "AWS_PROFILE", "p", NULL};
        (void)load(&cfg, texts[i], env, (cfg_flags){.port = "1", .output_dir = "/o"}, &err);
        cfg_free(&cfg);
    }
    mem_get_stats(&after);
    CHECK_UINT(after.bytes_in_use, before.bytes_in_use);
}

TEST(cfg_tls_keys)
{
    cfg_config cfg;
    o2p_error err;
    CHECK_OK(load(&cfg, NULL, NULL, no_flags, &err));
    CHECK(cfg.server.tls.cert_file == NULL && cfg.server.tls.key_file == NULL &&
          cfg.server.tls.client_ca_file == NULL);
    cfg_free(&cfg);

    CHECK_OK(load(&cfg,
                  "[server.tls]\ncert_file = \"/etc/o2p/server.pem\"\n"
                  "key_file = \"/etc/o2p/server key.pem\"\nclient_ca_file = \"/etc/o2p/ca.pem\"\n",
                  NULL, no_flags, &err));
    CHECK_STR(cfg.server.tls.cert_file, "/etc/o2p/server.pem");
    CHECK_STR(cfg.server.tls.key_file, "/etc/o2p/server key.pem"); /* spaces are fine in paths */
    CHECK_STR(cfg.server.tls.client_ca_file, "/etc/o2p/ca.pem");
    o2p_buf out;
    buf_init(&out, 0);
    CHECK_OK(cfg_banner(&cfg, &out));
    CHECK_OK(buf_push_byte(&out, 0));
    CHECK(strstr((const char *)out.data, "listening on https://0.0.0.0:4318") != NULL);
    CHECK(strstr((const char *)out.data, "client certificates: /etc/o2p/ca.pem") != NULL);
    buf_reset(&out);
    CHECK_OK(cfg_describe(&cfg, &out));
    CHECK_OK(buf_push_byte(&out, 0));
    CHECK(strstr((const char *)out.data, "server.tls.cert_file = \"/etc/o2p/server.pem\"") != NULL);
    buf_free(&out);
    cfg_free(&cfg);

    /* the environment overrides the file; an empty variable counts as unset */
    const char *env[] = {"OTLP2PARQUET_TLS_CERT_FILE",
                         "/env/cert.pem",
                         "OTLP2PARQUET_TLS_KEY_FILE",
                         "/env/key.pem",
                         "OTLP2PARQUET_TLS_CLIENT_CA_FILE",
                         "",
                         NULL};
    CHECK_OK(load(&cfg, "[server.tls]\nclient_ca_file = \"/file/ca.pem\"\n", env, no_flags, &err));
    CHECK_STR(cfg.server.tls.cert_file, "/env/cert.pem");
    CHECK_STR(cfg.server.tls.key_file, "/env/key.pem");
    CHECK_STR(cfg.server.tls.client_ca_file, "/file/ca.pem");
    cfg_free(&cfg);
    /* "" in the file clears */
    CHECK_OK(load(&cfg, "[server.tls]\nclient_ca_file = \"\"\n", NULL, no_flags, &err));
    CHECK(cfg.server.tls.client_ca_file == NULL);
    cfg_free(&cfg);

    expect_error("[server.tls]\ncert_file = \"/c.pem\"\n", NULL, no_flags,
                 "server.tls.cert_file is set but server.tls.key_file is not");
    expect_error("[server.tls]\nkey_file = \"/k.pem\"\n", NULL, no_flags,
                 "server.tls.key_file is set but server.tls.cert_file is not");
    expect_error("[server.tls]\nclient_ca_file = \"/ca.pem\"\n", NULL, no_flags,
                 "server.tls.client_ca_file is set but server.tls.cert_file");
    expect_error("[server.tls]\ncert_file = 5\n", NULL, no_flags, "server.tls.cert_file = 5 (");
    expect_error("[server.tls]\nkey_fille = \"/k.pem\"\n", NULL, no_flags,
                 "did you mean server.tls.key_file?");
}

TEST(cfg_grpc_listener_and_tls)
{
    cfg_config cfg;
    o2p_error err;
    CHECK_OK(load(&cfg, NULL, NULL, no_flags, &err));
    CHECK_STR(cfg.server.grpc_listen_addr, "0.0.0.0:4317");
    CHECK_INT(cfg.server.grpc_listen_port, 4317);
    CHECK(cfg.server.tls.cert_file == NULL && cfg.server.tls.client_ca_file == NULL);
    cfg_free(&cfg);

    const char *text = "[server]\ngrpc_listen_addr = \"127.0.0.1:5000\"\n"
                       "[server.tls]\ncert_file = \"/c.pem\"\nkey_file = \"/k.pem\"\n";
    const char *env[] = {"OTLP2PARQUET_TLS_CLIENT_CA_FILE", "/ca.pem", NULL};
    CHECK_OK(load(&cfg, text, env, no_flags, &err));
    CHECK_STR(cfg.server.grpc_listen_addr, "127.0.0.1:5000");
    CHECK_STR(cfg.server.tls.cert_file, "/c.pem");
    CHECK_STR(cfg.server.tls.key_file, "/k.pem");
    CHECK_STR(cfg.server.tls.client_ca_file, "/ca.pem");
    cfg_free(&cfg);

    const char *env2[] = {"OTLP2PARQUET_GRPC_LISTEN_ADDR", "[::1]:0", NULL};
    CHECK_OK(load(&cfg, text, env2, (cfg_flags){.grpc_port = "6000"}, &err));
    CHECK_STR(cfg.server.grpc_listen_addr, "[::1]:6000");
    cfg_free(&cfg);
    CHECK_OK(load(&cfg, text, NULL, (cfg_flags){.grpc_port = "0"}, &err));
    CHECK(cfg.server.grpc_listen_addr == NULL); /* 0 = off */
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(cfg_banner(&cfg, &b));
    buf_push_byte(&b, 0);
    CHECK(strstr((const char *)b.data, "grpc: off\n") != NULL);
    buf_free(&b);
    cfg_free(&cfg);

    expect_error(NULL, NULL, (cfg_flags){.grpc_port = "x"},
                 "config: grpc-port = \"x\" (flag --grpc-port): expected a port number");
    expect_error("[server]\ngrpc_listen_addr = \"nope\"\n", NULL, no_flags,
                 "config: server.grpc_listen_addr = \"nope\"");
}

TEST(cfg_durability_spare_segment)
{
    cfg_config cfg;
    o2p_error err;
    CHECK_OK(load(&cfg, "[durability]\nspare_segment = true\n", NULL, no_flags, &err));
    CHECK(cfg.wal.spare_segment);
    cfg_free(&cfg);
    const char *env[] = {"OTLP2PARQUET_WAL_SPARE_SEGMENT", "false", NULL};
    CHECK_OK(load(&cfg, "[durability]\nspare_segment = true\n", env, no_flags, &err));
    CHECK(!cfg.wal.spare_segment);
    cfg_free(&cfg);
    const char *bad[] = {"OTLP2PARQUET_WAL_SPARE_SEGMENT", "sometimes", NULL};
    CHECK(load(&cfg, NULL, bad, no_flags, &err) < 0);
    CHECK_MSG(strstr(err.msg, "OTLP2PARQUET_WAL_SPARE_SEGMENT") != NULL &&
                  strstr(err.msg, "true or false") != NULL,
              "error: %s", err.msg);
}

TEST(cfg_batch_pacing_keys)
{
    cfg_config cfg;
    o2p_error err;
    CHECK_OK(load(&cfg, NULL, NULL, no_flags, &err));
    CHECK_UINT(cfg.batch.pace_above_percent, 50);
    CHECK_UINT(cfg.batch.max_pace_ms, 1000);
    cfg_free(&cfg);
    CHECK_OK(
        load(&cfg, "[batch]\npace_above_percent = 100\nmax_pace_ms = 250\n", NULL, no_flags, &err));
    CHECK_UINT(cfg.batch.pace_above_percent, 100);
    CHECK_UINT(cfg.batch.max_pace_ms, 250);
    cfg_free(&cfg);
    const char *env[] = {"OTLP2PARQUET_BATCH_PACE_ABOVE_PERCENT", "70",
                         "OTLP2PARQUET_BATCH_MAX_PACE_MS", "40", NULL};
    CHECK_OK(load(&cfg, "[batch]\npace_above_percent = 20\n", env, no_flags, &err));
    CHECK_UINT(cfg.batch.pace_above_percent, 70);
    CHECK_UINT(cfg.batch.max_pace_ms, 40);
    cfg_free(&cfg);
    expect_error("[batch]\npace_above_percent = 101\n", NULL, no_flags,
                 "batch.pace_above_percent = 101 (");
    expect_error("[batch]\npace_above_percent = 0\n", NULL, no_flags,
                 "expected a percentage, an integer from 1 to 100");
    expect_error("[batch]\npace_above_percent = \"half\"\n", NULL, no_flags,
                 "batch.pace_above_percent = \"half\"");
    expect_error("[batch]\nmax_pace_ms = 0\n", NULL, no_flags, "batch.max_pace_ms = 0 (");
}

TEST(cfg_server_shutdown_timeout_secs)
{
    cfg_config cfg;
    o2p_error err;
    CHECK_OK(load(&cfg, NULL, NULL, no_flags, &err));
    CHECK_UINT(cfg.server.shutdown_timeout_secs, 30);
    cfg_free(&cfg);
    CHECK_OK(load(&cfg, "[server]\nshutdown_timeout_secs = 5\n", NULL, no_flags, &err));
    CHECK_UINT(cfg.server.shutdown_timeout_secs, 5);
    cfg_free(&cfg);
    const char *env[] = {"OTLP2PARQUET_SHUTDOWN_TIMEOUT_SECS", "2", NULL};
    CHECK_OK(load(&cfg, "[server]\nshutdown_timeout_secs = 5\n", env, no_flags, &err));
    CHECK_UINT(cfg.server.shutdown_timeout_secs, 2);
    cfg_free(&cfg);
    expect_error("[server]\nshutdown_timeout_secs = 0\n", NULL, no_flags,
                 "expected a positive integer");
}

TEST(cfg_batch_flush_nice)
{
    cfg_config cfg;
    o2p_error err;
    CHECK_OK(load(&cfg, NULL, NULL, no_flags, &err));
    CHECK_UINT(cfg.batch.flush_nice, 10);
    cfg_free(&cfg);
    CHECK_OK(load(&cfg, "[batch]\nflush_nice = 0\n", NULL, no_flags, &err));
    CHECK_UINT(cfg.batch.flush_nice, 0);
    cfg_free(&cfg);
    const char *env[] = {"OTLP2PARQUET_BATCH_FLUSH_NICE", "19", NULL};
    CHECK_OK(load(&cfg, "[batch]\nflush_nice = 3\n", env, no_flags, &err));
    CHECK_UINT(cfg.batch.flush_nice, 19);
    cfg_free(&cfg);
    expect_error("[batch]\nflush_nice = 20\n", NULL, no_flags,
                 "expected a nice increment, an integer from 0 to 19");
    expect_error("[batch]\nflush_nice = -1\n", NULL, no_flags, "batch.flush_nice = -1 (");
}
