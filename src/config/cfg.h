/*
 * cfg: the server's configuration, its defaults, and how it is assembled.
 *
 * Layers, each overriding the one before (spec §6):
 *   1. built-in defaults (cfg_defaults)
 *   2. the TOML file: cfg_sources.config_path (--config), else
 *      $OTLP2PARQUET_CONFIG, else ./config.toml, else ./.otlp2parquet.toml;
 *      a file named explicitly (flag or variable) must exist, the two
 *      default names are optional
 *   3. OTLP2PARQUET_* environment variables, then AWS_ACCESS_KEY_ID /
 *      AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN / AWS_REGION (AWS_DEFAULT_REGION)
 *      as fallbacks for what neither gave; AWS_PROFILE is kept for the S3
 *      module, which reads ~/.aws/credentials itself
 *   4. command-line flags (cfg_flags)
 * Then values that depend on other keys are resolved (storage.s3.path_style,
 * the per-codec default compression level) and the whole is validated.
 *
 * Every problem stops start-up with ONE line naming the key, where the
 * value came from, the value and what is allowed:
 *   config: batch.max_rows = "abc" (config.toml:7): expected a positive integer
 * Unknown keys and sections in the file are errors too.  Secret values
 * (auth_token, secret_access_key, session_token) are never printed, not even
 * in error messages: use cfg_describe / cfg_banner to show a configuration.
 *
 * Sizes (max_payload_bytes, max_bytes, max_buffered_bytes) are integers
 * (bytes) or strings with a unit: "100KiB", "8MiB", "1GiB", "1TiB" (powers of
 * 1024) or "100KB", "512MB", "1GB", "1TB" (powers of 1000), "B" for bytes;
 * units are case-insensitive and may follow a space.
 */
#ifndef O2P_CONFIG_CFG_H
#define O2P_CONFIG_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/log.h"

typedef enum cfg_backend { CFG_BACKEND_FS = 0, CFG_BACKEND_S3 = 1 } cfg_backend;

/* Values are those of Parquet's Thrift CompressionCodec enum (and pq_codec). */
typedef enum cfg_compression {
    CFG_COMPRESSION_UNCOMPRESSED = 0,
    CFG_COMPRESSION_SNAPPY = 1,
    CFG_COMPRESSION_GZIP = 2,
    CFG_COMPRESSION_ZSTD = 6,
    CFG_COMPRESSION_LZ4_RAW = 7
} cfg_compression;

typedef enum cfg_timestamp_unit { CFG_TS_MICROS = 0, CFG_TS_NANOS = 1 } cfg_timestamp_unit;

typedef enum cfg_durability { CFG_DURABILITY_MEMORY = 0, CFG_DURABILITY_WAL = 1 } cfg_durability;

/* Marks a tri-state setting nobody has set yet (storage.s3.path_style during
 * loading, parquet.compression_level until resolved). */
#define CFG_UNSET (-1)

/* [storage.s3] */
typedef struct cfg_s3 {
    char *bucket;
    char *region;   /* "us-east-1" when nothing gives one */
    char *endpoint; /* NULL = AWS for the region; else "http(s)://host[:port]", no trailing '/' */
    char *prefix;   /* NULL, or ends with "/" and has no leading "/" */
    int path_style; /* 0/1 after cfg_load (CFG_UNSET while loading) */
    char *access_key_id;
    char *secret_access_key; /* SECRET */
    char *session_token;     /* SECRET */
    char *profile;           /* from AWS_PROFILE; NULL = default profile */
} cfg_s3;

/* All strings are owned by the config (mem_*) and freed by cfg_free.
 * Optional strings are NULL when not configured (never ""). */
typedef struct cfg_config {
    struct {
        char *listen_addr;    /* normalized "host:port" or "[v6]:port" */
        char *listen_host;    /* host part without brackets: "0.0.0.0", "::1" */
        uint16_t listen_port; /* 0 = any free port */
        log_level log_level;
        log_format log_format;
        char *auth_token; /* SECRET; NULL = no authentication */
        /* OTLP/gRPC listener; NULL = off (--grpc-port 0) */
        char *grpc_listen_addr;    /* normalized "host:port" or "[v6]:port" */
        char *grpc_listen_host;    /* host part without brackets */
        uint16_t grpc_listen_port; /* 0 = any free port */
        /* how long SIGTERM waits for requests and calls already received */
        uint64_t shutdown_timeout_secs;
        struct {
            char *cert_file;      /* PEM chain; NULL = plain text listeners */
            char *key_file;       /* PEM private key; set exactly when cert_file is */
            char *client_ca_file; /* PEM CAs; NULL = no client certificates (mutual TLS off) */
        } tls;
    } server;
    struct {
        uint64_t max_payload_bytes;
    } request;
    struct {
        bool enabled;
        uint64_t max_rows;
        uint64_t max_bytes;
        uint64_t max_age_secs;
        uint64_t max_buffered_bytes;
        uint64_t flush_threads;      /* 0: one per online CPU */
        uint64_t pace_above_percent; /* 1..100; 100: never pace */
        uint64_t max_pace_ms;
        uint64_t flush_nice; /* 0..19; 0: flushers at the process's priority */
    } batch;
    struct {
        cfg_backend backend;
        struct {
            char *path;
        } fs;
        cfg_s3 s3;
    } storage;
    struct {
        cfg_compression compression;
        int compression_level; /* resolved per codec after cfg_load; 0 for codecs without levels */
        char
            compression_level_origin[64]; /* where the level was set ("" = default), for messages */
        uint64_t row_group_rows;
        uint64_t sorted_row_group_rows; /* max rows per row group of a sorted file */
        uint64_t row_group_span_secs;   /* sorted row groups end at multiples of this */
        cfg_timestamp_unit timestamp_unit;
        bool sort_rows;                /* rows ordered by Timestamp / TimeUnix in every file */
        uint64_t page_rows;            /* max rows per data page */
        double bloom_filter_fpp;       /* bloom filter false-positive rate */
        bool bloom_filters;            /* write bloom filters at all */
        bool page_index;               /* write ColumnIndex + OffsetIndex */
        double min_compression_saving; /* below it a column chunk is UNCOMPRESSED */
        char *bloom_filter_columns;    /* extra bloom filter columns, comma-separated; NULL: none */
    } parquet;
    cfg_durability durability;
    struct {
        char *dir;                 /* NULL: the default (cfg_wal_dir) */
        bool sync_interval;        /* false: sync before each answer ("always") */
        uint64_t sync_interval_ms; /* sync_interval: the loss window */
        uint64_t max_bytes;        /* disk the log may take */
        uint64_t segment_bytes;    /* segment roll size */
        bool spare_segment;        /* zero-fill the next segment ahead (default false) */
    } wal;
    char *config_file; /* the file that was loaded, NULL when none */
} cfg_config;

/* getenv-like lookup; returns NULL when the variable is not set. */
typedef const char *(*cfg_getenv_fn)(const char *name, void *ctx);

/* Values from command-line flags; NULL = flag not given.  Strings are the
 * raw flag text, validated by cfg_load like any other layer. */
typedef struct cfg_flags {
    const char *port;        /* -p/--port: replaces the port of listen_addr */
    const char *grpc_port;   /* --grpc-port: replaces the port of grpc_listen_addr; 0 = off */
    const char *output_dir;  /* -o/--output: storage.fs.path, and backend = fs */
    const char *log_level;   /* -v/--log-level */
    const char *compression; /* convert --compression: parquet.compression */
} cfg_flags;

typedef struct cfg_sources {
    const char *config_path; /* --config FILE; NULL = search */
    cfg_getenv_fn getenv;    /* NULL = no environment at all */
    void *getenv_ctx;
    const char *search_dir; /* where to look for config.toml; NULL = "." */
    cfg_flags flags;
} cfg_sources;

/* A cfg_getenv_fn reading the process environment (ctx unused). */
const char *cfg_process_getenv(const char *name, void *ctx);

/* Fills cfg with the built-in defaults (allocates; free with cfg_free). */
int cfg_defaults(cfg_config *cfg, o2p_error *err);

/* Builds cfg from all layers and validates it.  On failure returns a
 * negative status with the one-line message (starting "config: ") in err and
 * leaves cfg freed (cfg_free is still safe to call). */
int cfg_load(cfg_config *cfg, const cfg_sources *src, o2p_error *err);

/* Applies TOML text as the file layer on top of cfg (`origin` names the file
 * in messages).  Part of cfg_load, exposed for tests and tools; does not
 * resolve or validate cross-key rules (cfg_finish does). */
int cfg_apply_toml(cfg_config *cfg, const char *text, size_t len, const char *origin,
                   o2p_error *err);

/* Resolves defaults that depend on other keys and validates the whole
 * configuration (the last step of cfg_load). */
int cfg_finish(cfg_config *cfg, o2p_error *err);

void cfg_free(cfg_config *cfg);

/* Names used in files, variables and messages. */
const char *cfg_backend_name(cfg_backend backend);
const char *cfg_compression_name(cfg_compression compression);
const char *cfg_timestamp_unit_name(cfg_timestamp_unit unit);
const char *cfg_durability_name(cfg_durability durability);

/* Parses a size: integer bytes or a number with a unit (see above).  Returns
 * O2P_EINVAL for anything else, zero, or overflow. */
int cfg_parse_size(const char *text, uint64_t *out);

/* One-line summary of where files go: "fs ./data" or
 * "s3 s3://bucket/prefix (region us-east-1, endpoint http://..., path-style)". */
int cfg_storage_target(const cfg_config *cfg, o2p_buf *out);

/* Every key as `section.key = value` lines (TOML-ish), secrets shown as
 * "<redacted>" when set, unset optional keys as "(unset)". */
int cfg_describe(const cfg_config *cfg, o2p_buf *out);

/* The start-up summary: version, listen address, storage target, batching,
 * Parquet settings, durability, authentication on/off.  Several lines, each
 * ending in '\n'; no secrets. */
int cfg_banner(const cfg_config *cfg, o2p_buf *out);

/* The write-ahead log's directory: durability.dir, else `.wal` inside the
 * local data root, or `./wal` with the S3 backend. */
int cfg_wal_dir(const cfg_config *cfg, o2p_buf *out);

#endif
