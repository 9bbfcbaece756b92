/* cfg: defaults, the file / environment / flag layers and validation (see cfg.h). */
#include "config/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/toml.h"
#include "core/mem.h"
#include "core/version.h"

#define MIB (1024ull * 1024ull)
/* A configuration file is a few kilobytes; anything this big is a mistake. */
#define CFG_FILE_MAX (1024 * 1024)
/* Counts beyond this are surely typos (and keep int64 arithmetic safe). */
#define CFG_COUNT_MAX 2147483647ull

/* ---- key table ------------------------------------------------------- */

typedef enum key_kind {
    K_LISTEN, /* host:port */
    K_LOG_LEVEL,
    K_LOG_FORMAT,
    K_SECRET, /* optional string, never printed */
    K_SIZE,   /* bytes, integer or with a unit */
    K_COUNT,  /* positive integer */
    K_BOOL,
    K_BACKEND,
    K_PATH, /* non-empty string */
    K_BUCKET,
    K_TOKEN, /* optional string without spaces (region, access key id) */
    K_ENDPOINT,
    K_PREFIX,
    K_TRISTATE, /* bool that may stay unset */
    K_COMPRESSION,
    K_LEVEL, /* any integer, checked against the codec later */
    K_TS_UNIT,
    K_DURABILITY,
    K_FILE,        /* optional path; "" = unset */
    K_FPP,         /* a probability in (0, 0.5] */
    K_SAVING,      /* a fraction in [0, 1) */
    K_COLUMNS,     /* comma-separated column names (letters, digits, '_', '.') */
    K_GRPC_LISTEN, /* host:port of the gRPC listener */
    K_WAL_SYNC,    /* always | interval */
    K_PERCENT,     /* an integer in 1..100 */
    K_NICE         /* an integer in 0..19 */
} key_kind;

typedef struct key_def {
    const char *key; /* full dotted name in the file */
    const char *env; /* OTLP2PARQUET_* variable, NULL if none */
    key_kind kind;
    size_t offset; /* of the field in cfg_config (strings, uint64, bool, tri-state int) */
} key_def;

#define F(field) offsetof(cfg_config, field)

static const key_def key_defs[] = {
    {"server.listen_addr", "OTLP2PARQUET_LISTEN_ADDR", K_LISTEN, 0},
    {"server.log_level", "OTLP2PARQUET_LOG_LEVEL", K_LOG_LEVEL, 0},
    {"server.log_format", "OTLP2PARQUET_LOG_FORMAT", K_LOG_FORMAT, 0},
    {"server.auth_token", "OTLP2PARQUET_AUTH_TOKEN", K_SECRET, F(server.auth_token)},
    {"server.grpc_listen_addr", "OTLP2PARQUET_GRPC_LISTEN_ADDR", K_GRPC_LISTEN, 0},
    {"server.shutdown_timeout_secs", "OTLP2PARQUET_SHUTDOWN_TIMEOUT_SECS", K_COUNT,
     F(server.shutdown_timeout_secs)},
    /* TLS for the listeners (one block, shared with the HTTP listener) */
    {"request.max_payload_bytes", "OTLP2PARQUET_MAX_PAYLOAD_BYTES", K_SIZE,
     F(request.max_payload_bytes)},
    {"batch.enabled", "OTLP2PARQUET_BATCH_ENABLED", K_BOOL, F(batch.enabled)},
    {"batch.max_rows", "OTLP2PARQUET_BATCH_MAX_ROWS", K_COUNT, F(batch.max_rows)},
    {"batch.max_bytes", "OTLP2PARQUET_BATCH_MAX_BYTES", K_SIZE, F(batch.max_bytes)},
    {"batch.max_age_secs", "OTLP2PARQUET_BATCH_MAX_AGE_SECS", K_COUNT, F(batch.max_age_secs)},
    {"batch.max_buffered_bytes", "OTLP2PARQUET_BATCH_MAX_BUFFERED_BYTES", K_SIZE,
     F(batch.max_buffered_bytes)},
    {"batch.flush_threads", "OTLP2PARQUET_BATCH_FLUSH_THREADS", K_COUNT, F(batch.flush_threads)},
    {"batch.pace_above_percent", "OTLP2PARQUET_BATCH_PACE_ABOVE_PERCENT", K_PERCENT,
     F(batch.pace_above_percent)},
    {"batch.max_pace_ms", "OTLP2PARQUET_BATCH_MAX_PACE_MS", K_COUNT, F(batch.max_pace_ms)},
    {"batch.flush_nice", "OTLP2PARQUET_BATCH_FLUSH_NICE", K_NICE, F(batch.flush_nice)},
    {"storage.backend", "OTLP2PARQUET_STORAGE_BACKEND", K_BACKEND, 0},
    {"storage.fs.path", "OTLP2PARQUET_STORAGE_PATH", K_PATH, F(storage.fs.path)},
    {"storage.s3.bucket", "OTLP2PARQUET_S3_BUCKET", K_BUCKET, F(storage.s3.bucket)},
    {"storage.s3.region", "OTLP2PARQUET_S3_REGION", K_TOKEN, F(storage.s3.region)},
    {"storage.s3.endpoint", "OTLP2PARQUET_S3_ENDPOINT", K_ENDPOINT, F(storage.s3.endpoint)},
    {"storage.s3.prefix", "OTLP2PARQUET_S3_PREFIX", K_PREFIX, F(storage.s3.prefix)},
    {"storage.s3.path_style", "OTLP2PARQUET_S3_PATH_STYLE", K_TRISTATE, F(storage.s3.path_style)},
    {"storage.s3.access_key_id", NULL, K_TOKEN, F(storage.s3.access_key_id)},
    {"storage.s3.secret_access_key", NULL, K_SECRET, F(storage.s3.secret_access_key)},
    {"storage.s3.session_token", NULL, K_SECRET, F(storage.s3.session_token)},
    {"parquet.compression", "OTLP2PARQUET_PARQUET_COMPRESSION", K_COMPRESSION, 0},
    {"parquet.compression_level", "OTLP2PARQUET_PARQUET_COMPRESSION_LEVEL", K_LEVEL, 0},
    {"parquet.row_group_rows", "OTLP2PARQUET_PARQUET_ROW_GROUP_ROWS", K_COUNT,
     F(parquet.row_group_rows)},
    {"parquet.sorted_row_group_rows", "OTLP2PARQUET_PARQUET_SORTED_ROW_GROUP_ROWS", K_COUNT,
     F(parquet.sorted_row_group_rows)},
    {"parquet.row_group_span_secs", "OTLP2PARQUET_PARQUET_ROW_GROUP_SPAN_SECS", K_COUNT,
     F(parquet.row_group_span_secs)},
    {"parquet.timestamp_unit", "OTLP2PARQUET_PARQUET_TIMESTAMP_UNIT", K_TS_UNIT, 0},
    {"parquet.sort_rows", "OTLP2PARQUET_PARQUET_SORT_ROWS", K_BOOL, F(parquet.sort_rows)},
    {"parquet.page_rows", "OTLP2PARQUET_PARQUET_PAGE_ROWS", K_COUNT, F(parquet.page_rows)},
    {"parquet.page_index", "OTLP2PARQUET_PARQUET_PAGE_INDEX", K_BOOL, F(parquet.page_index)},
    {"parquet.bloom_filters", "OTLP2PARQUET_PARQUET_BLOOM_FILTERS", K_BOOL,
     F(parquet.bloom_filters)},
    {"parquet.bloom_filter_fpp", "OTLP2PARQUET_PARQUET_BLOOM_FILTER_FPP", K_FPP,
     F(parquet.bloom_filter_fpp)},
    {"parquet.min_compression_saving", "OTLP2PARQUET_PARQUET_MIN_COMPRESSION_SAVING", K_SAVING,
     F(parquet.min_compression_saving)},
    {"parquet.bloom_filter_columns", "OTLP2PARQUET_PARQUET_BLOOM_FILTER_COLUMNS", K_COLUMNS,
     F(parquet.bloom_filter_columns)},
    {"durability", "OTLP2PARQUET_DURABILITY", K_DURABILITY, 0},
    {"durability.mode", NULL, K_DURABILITY, 0},
    {"durability.dir", "OTLP2PARQUET_WAL_DIR", K_PATH, F(wal.dir)},
    {"durability.sync", "OTLP2PARQUET_WAL_SYNC", K_WAL_SYNC, 0},
    {"durability.sync_interval_ms", "OTLP2PARQUET_WAL_SYNC_INTERVAL_MS", K_COUNT,
     F(wal.sync_interval_ms)},
    {"durability.max_bytes", "OTLP2PARQUET_WAL_MAX_BYTES", K_SIZE, F(wal.max_bytes)},
    {"durability.segment_bytes", "OTLP2PARQUET_WAL_SEGMENT_BYTES", K_SIZE, F(wal.segment_bytes)},
    {"durability.spare_segment", "OTLP2PARQUET_WAL_SPARE_SEGMENT", K_BOOL, F(wal.spare_segment)},
    /* TLS for the listeners (HTTP and gRPC share these) */
    {"server.tls.cert_file", "OTLP2PARQUET_TLS_CERT_FILE", K_FILE, F(server.tls.cert_file)},
    {"server.tls.key_file", "OTLP2PARQUET_TLS_KEY_FILE", K_FILE, F(server.tls.key_file)},
    {"server.tls.client_ca_file", "OTLP2PARQUET_TLS_CLIENT_CA_FILE", K_FILE,
     F(server.tls.client_ca_file)},
};

#define KEY_COUNT (sizeof key_defs / sizeof key_defs[0])

static const char *const known_sections[] = {"server",  "request",    "batch",
                                             "storage", "storage.fs", "storage.s3",
                                             "parquet", "server.tls", "durability"};

/* What each kind accepts, as the tail of the one-line error. */
static const char *expected_text(key_kind kind)
{
    switch (kind) {
    case K_LISTEN:
        return "expected host:port or [ipv6]:port, e.g. \"0.0.0.0:4318\" or \"[::1]:4318\"";
    case K_GRPC_LISTEN:
        return "expected host:port or [ipv6]:port, e.g. \"0.0.0.0:4317\" or \"[::1]:4317\"";
    case K_LOG_LEVEL:
        return "expected one of error, warn, info, debug, trace";
    case K_LOG_FORMAT:
        return "expected text or json";
    case K_SECRET:
        return "expected a string without spaces or control characters";
    case K_SIZE:
        return "expected a positive size: bytes (8388608) or a string with a unit "
               "(\"8MiB\"; units B, KB, MB, GB, TB, KiB, MiB, GiB, TiB)";
    case K_COUNT:
        return "expected a positive integer";
    case K_PERCENT:
        return "expected a percentage, an integer from 1 to 100";
    case K_NICE:
        return "expected a nice increment, an integer from 0 to 19";
    case K_BOOL:
    case K_TRISTATE:
        return "expected true or false";
    case K_BACKEND:
        return "expected fs or s3";
    case K_PATH:
        return "expected a non-empty path";
    case K_BUCKET:
        return "expected a bucket name (no '/', no spaces)";
    case K_TOKEN:
        return "expected a string without spaces";
    case K_ENDPOINT:
        return "expected a URL starting with http:// or https://, e.g. \"http://localhost:9000\"";
    case K_PREFIX:
        return "expected a key prefix string such as \"otel/\"";
    case K_COMPRESSION:
        return "expected one of zstd, snappy, gzip, lz4_raw, uncompressed";
    case K_LEVEL:
        return "expected an integer level (zstd 1..22, gzip 1..9)";
    case K_TS_UNIT:
        return "expected us or ns";
    case K_DURABILITY:
        return "expected memory or wal";
    case K_WAL_SYNC:
        return "expected always or interval";
    case K_FILE:
        return "expected a file path (\"\" = unset)";
    case K_FPP:
        return "expected a false-positive rate above 0 and at most 0.5, e.g. 0.01";
    case K_SAVING:
        return "expected a fraction from 0 to below 1, e.g. 0.05";
    case K_COLUMNS:
        return "expected comma-separated column names, e.g. \"ServiceName,SpanName\"";
    }
    return "invalid value";
}

/* ---- values from any layer ------------------------------------------- */

/* A value as given: typed from the TOML file, or text from the environment
 * and flags (which is then parsed per kind). */
typedef struct raw_value {
    toml_type type;
    int is_text; /* env/flag text: numbers and booleans are parsed from str */
    const char *str;
    int64_t i;
    double f;
    int b;
    const char *origin; /* "config.toml:7", "env OTLP2PARQUET_X", "flag --port" */
} raw_value;

/* Renders the value for a message: strings quoted with control characters
 * escaped and long ones cut, secrets hidden. */
static void render_value(const raw_value *v, int secret, char *out, size_t size)
{
    if (secret) {
        snprintf(out, size, "<redacted>");
        return;
    }
    if (v->is_text || v->type == TOML_STRING) {
        size_t o = 0;
        out[o++] = '"';
        for (const unsigned char *s = (const unsigned char *)v->str; *s && o + 8 < size; s++) {
            if (o > 80) {
                memcpy(out + o, "...", 3);
                o += 3;
                break;
            }
            if (*s == '"' || *s == '\\')
                out[o++] = '\\', out[o++] = (char)*s;
            else if (*s < 0x20 || *s == 0x7F)
                o += (size_t)snprintf(out + o, size - o, "\\x%02x", *s);
            else
                out[o++] = (char)*s;
        }
        out[o++] = '"';
        out[o] = 0;
        return;
    }
    switch (v->type) {
    case TOML_INT:
        snprintf(out, size, "%lld", (long long)v->i);
        break;
    case TOML_FLOAT:
        snprintf(out, size, "%g", v->f);
        break;
    case TOML_BOOL:
        snprintf(out, size, "%s", v->b ? "true" : "false");
        break;
    default:
        snprintf(out, size, "(%s)", toml_type_name(v->type));
        break;
    }
}

static int bad_value(o2p_error *err, const char *key, const raw_value *v, int secret,
                     const char *why)
{
    char shown[128];
    render_value(v, secret, shown, sizeof shown);
    return o2p_errorf(err, O2P_EINVAL, "config: %s = %s (%s): %s", key, shown, v->origin, why);
}

static int oom(o2p_error *err)
{
    return o2p_errorf(err, O2P_ENOMEM, "config: out of memory");
}

/* Replaces an owned string (NULL allowed). */
static int set_str(char **field, const char *value, o2p_error *err)
{
    char *copy = NULL;
    if (value) {
        copy = mem_strdup(value);
        if (copy == NULL) return oom(err);
    }
    mem_free(*field);
    *field = copy;
    return O2P_OK;
}

static int has_space_or_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7F) return 1;
    return 0;
}

static int has_ctl(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7F) return 1;
    return 0;
}

/* Parses decimal digits only (no sign, no spaces) into out. */
static int parse_u64(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9') return O2P_EINVAL;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return O2P_EINVAL;
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) return O2P_EINVAL;
        v = v * 10 + d;
    }
    *out = v;
    return O2P_OK;
}

int cfg_parse_size(const char *text, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {{"", 1},
                 {"b", 1},
                 {"kb", 1000ull},
                 {"mb", 1000ull * 1000},
                 {"gb", 1000ull * 1000 * 1000},
                 {"tb", 1000ull * 1000 * 1000 * 1000},
                 {"kib", 1024ull},
                 {"mib", MIB},
                 {"gib", MIB * 1024},
                 {"tib", MIB * MIB}};
    if (text == NULL) return O2P_EINVAL;
    const char *p = text;
    while (*p == ' ') p++;
    uint64_t number = 0;
    const char *digits = p;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (number > (UINT64_MAX - d) / 10) return O2P_EINVAL;
        number = number * 10 + d;
        p++;
    }
    if (p == digits) return O2P_EINVAL;
    while (*p == ' ') p++;
    char unit[8];
    size_t n = 0;
    while (*p && *p != ' ' && n + 1 < sizeof unit) unit[n++] = (char)tolower((unsigned char)*p++);
    unit[n] = 0;
    while (*p == ' ') p++;
    if (*p) return O2P_EINVAL;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(unit, units[i].unit) != 0) continue;
        if (number == 0 || number > UINT64_MAX / units[i].mult) return O2P_EINVAL;
        *out = number * units[i].mult;
        return O2P_OK;
    }
    return O2P_EINVAL;
}

/* Gets an integer from a TOML integer or, for env/flag text, from digits
 * with an optional leading '-'. */
static int value_int(const raw_value *v, int64_t *out)
{
    if (v->is_text) {
        const char *s = v->str;
        int neg = *s == '-';
        if (neg || *s == '+') s++;
        uint64_t u;
        if (parse_u64(s, &u) < 0 || u > (uint64_t)INT64_MAX) return O2P_EINVAL;
        *out = neg ? -(int64_t)u : (int64_t)u;
        return O2P_OK;
    }
    if (v->type != TOML_INT) return O2P_EINVAL;
    *out = v->i;
    return O2P_OK;
}

static int value_bool(const raw_value *v, int *out)
{
    if (!v->is_text) {
        if (v->type != TOML_BOOL) return O2P_EINVAL;
        *out = v->b;
        return O2P_OK;
    }
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v->str, yes[i]) == 0) return *out = 1, O2P_OK;
        if (strcasecmp(v->str, no[i]) == 0) return *out = 0, O2P_OK;
    }
    return O2P_EINVAL;
}

/* The string of a value, or NULL when the value is not a string. */
static const char *value_str(const raw_value *v)
{
    return v->is_text || v->type == TOML_STRING ? v->str : NULL;
}

/* Splits "host:port" / "[v6]:port" / ":port" into its parts; host_out gets
 * the host without brackets ("0.0.0.0" when empty). */
static int parse_listen(const char *addr, char *host_out, size_t host_size, uint16_t *port_out)
{
    const char *colon;
    const char *host = addr;
    size_t host_len;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (close == NULL || close[1] != ':') return O2P_EINVAL;
        host = addr + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
        if (host_len == 0 || memchr(host, ':', host_len) == NULL) return O2P_EINVAL;
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL) return O2P_EINVAL;
        host_len = (size_t)(colon - addr);
        /* An unbracketed IPv6 address is ambiguous: which colon starts the port? */
        if (memchr(addr, ':', host_len) != NULL) return O2P_EINVAL;
    }
    for (size_t i = 0; i < host_len; i++)
        if ((unsigned char)host[i] <= 0x20 || host[i] == '/' || host[i] == '[' || host[i] == ']')
            return O2P_EINVAL;
    uint64_t port;
    if (parse_u64(colon + 1, &port) < 0 || port > 65535 || strlen(colon + 1) > 5) return O2P_EINVAL;
    if (host_len == 0) {
        host = "0.0.0.0";
        host_len = 7;
    }
    if (host_len + 1 > host_size) return O2P_EINVAL;
    memcpy(host_out, host, host_len);
    host_out[host_len] = 0;
    *port_out = (uint16_t)port;
    return O2P_OK;
}

/* The same for the gRPC listener. */
static int set_grpc_listen(cfg_config *cfg, const char *host, uint16_t port, o2p_error *err)
{
    char addr[300];
    int v6 = strchr(host, ':') != NULL;
    snprintf(addr, sizeof addr, v6 ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
    O2P_TRY(set_str(&cfg->server.grpc_listen_host, host, err));
    O2P_TRY(set_str(&cfg->server.grpc_listen_addr, addr, err));
    cfg->server.grpc_listen_port = port;
    return O2P_OK;
}

/* Stores host and port and rebuilds the normalized listen_addr. */
static int set_listen(cfg_config *cfg, const char *host, uint16_t port, o2p_error *err)
{
    char addr[300];
    int v6 = strchr(host, ':') != NULL;
    snprintf(addr, sizeof addr, v6 ? "[%s]:%u" : "%s:%u", host, (unsigned)port);
    O2P_TRY(set_str(&cfg->server.listen_host, host, err));
    O2P_TRY(set_str(&cfg->server.listen_addr, addr, err));
    cfg->server.listen_port = port;
    return O2P_OK;
}

static int lookup_name(const char *name, const char *const *names, const int *values, size_t count,
                       int *out)
{
    for (size_t i = 0; i < count; i++) {
        if (strcasecmp(name, names[i]) == 0) {
            *out = values[i];
            return O2P_OK;
        }
    }
    return O2P_EINVAL;
}

static int parse_compression(const char *name, cfg_compression *out)
{
    static const char *const names[] = {"zstd", "snappy",       "gzip", "lz4_raw",
                                        "lz4",  "uncompressed", "none"};
    static const int values[] = {CFG_COMPRESSION_ZSTD,        CFG_COMPRESSION_SNAPPY,
                                 CFG_COMPRESSION_GZIP,        CFG_COMPRESSION_LZ4_RAW,
                                 CFG_COMPRESSION_LZ4_RAW,     CFG_COMPRESSION_UNCOMPRESSED,
                                 CFG_COMPRESSION_UNCOMPRESSED};
    int v;
    O2P_TRY(lookup_name(name, names, values, 7, &v));
    *out = (cfg_compression)v;
    return O2P_OK;
}

/* Applies one value to one key; every check that needs only this value
 * happens here so the message can name where the value came from. */
static int apply_value(cfg_config *cfg, const key_def *def, const raw_value *v, o2p_error *err)
{
    char *base = (char *)cfg;
    const char *s = value_str(v);
    int secret = def->kind == K_SECRET;
#define BAD() bad_value(err, def->key, v, secret, expected_text(def->kind))

    switch (def->kind) {
    case K_LISTEN: {
        char host[256];
        uint16_t port;
        if (s == NULL || parse_listen(s, host, sizeof host, &port) < 0) return BAD();
        return set_listen(cfg, host, port, err);
    }
    case K_GRPC_LISTEN: {
        char host[256];
        uint16_t port;
        if (s == NULL || parse_listen(s, host, sizeof host, &port) < 0) return BAD();
        return set_grpc_listen(cfg, host, port, err);
    }
    case K_LOG_LEVEL:
        if (s == NULL || log_level_parse(s, &cfg->server.log_level) < 0) return BAD();
        return O2P_OK;
    case K_LOG_FORMAT:
        if (s == NULL || log_format_parse(s, &cfg->server.log_format) < 0) return BAD();
        return O2P_OK;
    case K_SECRET:
    case K_TOKEN:
        if (s == NULL || has_space_or_ctl(s)) return BAD();
        /* "" means "not set", so a file value can be cleared. */
        return set_str((char **)(base + def->offset), *s ? s : NULL, err);
    case K_PATH:
        if (s == NULL || *s == 0) return BAD();
        return set_str((char **)(base + def->offset), s, err);
    case K_FILE:
        if (s == NULL || has_ctl(s)) return BAD();
        return set_str((char **)(base + def->offset), *s ? s : NULL, err);
    case K_BUCKET:
        if (s == NULL || *s == 0 || strchr(s, '/') || has_space_or_ctl(s)) return BAD();
        return set_str((char **)(base + def->offset), s, err);
    case K_SIZE: {
        uint64_t bytes;
        int64_t i;
        if (s != NULL) {
            if (cfg_parse_size(s, &bytes) < 0) return BAD();
        } else if (value_int(v, &i) == 0 && i > 0) {
            bytes = (uint64_t)i;
        } else {
            return BAD();
        }
        *(uint64_t *)(void *)(base + def->offset) = bytes;
        return O2P_OK;
    }
    case K_COUNT: {
        int64_t i;
        if (value_int(v, &i) < 0 || i <= 0 || (uint64_t)i > CFG_COUNT_MAX) return BAD();
        *(uint64_t *)(void *)(base + def->offset) = (uint64_t)i;
        return O2P_OK;
    }
    case K_PERCENT: {
        int64_t i;
        if (value_int(v, &i) < 0 || i < 1 || i > 100) return BAD();
        *(uint64_t *)(void *)(base + def->offset) = (uint64_t)i;
        return O2P_OK;
    }
    case K_NICE: {
        int64_t i;
        if (value_int(v, &i) < 0 || i < 0 || i > 19) return BAD();
        *(uint64_t *)(void *)(base + def->offset) = (uint64_t)i;
        return O2P_OK;
    }
    case K_BOOL: {
        int b;
        if (value_bool(v, &b) < 0) return BAD();
        *(bool *)(base + def->offset) = b != 0;
        return O2P_OK;
    }
    case K_TRISTATE: {
        int b;
        if (value_bool(v, &b) < 0) return BAD();
        *(int *)(void *)(base + def->offset) = b;
        return O2P_OK;
    }
    case K_BACKEND: {
        static const char *const names[] = {"fs", "s3"};
        static const int values[] = {CFG_BACKEND_FS, CFG_BACKEND_S3};
        int b;
        if (s == NULL || lookup_name(s, names, values, 2, &b) < 0) return BAD();
        cfg->storage.backend = (cfg_backend)b;
        return O2P_OK;
    }
    case K_ENDPOINT: {
        if (s == NULL || has_space_or_ctl(s)) return BAD();
        if (*s == 0) return set_str(&cfg->storage.s3.endpoint, NULL, err);
        size_t scheme = strncasecmp(s, "http://", 7) == 0    ? 7
                        : strncasecmp(s, "https://", 8) == 0 ? 8
                                                             : 0;
        size_t len = strlen(s);
        while (len > scheme && s[len - 1] == '/') len--; /* paths are joined with '/' later */
        if (scheme == 0 || len == scheme || s[scheme] == '/') return BAD();
        char *copy = mem_strndup(s, len);
        if (copy == NULL) return oom(err);
        mem_free(cfg->storage.s3.endpoint);
        cfg->storage.s3.endpoint = copy;
        return O2P_OK;
    }
    case K_PREFIX: {
        if (s == NULL || strchr(s, '\\') || has_space_or_ctl(s)) return BAD();
        /* Object keys never start with '/', and the prefix is a "folder":
         * "otel" and "/otel" and "otel/" all mean "otel/". */
        while (*s == '/') s++;
        size_t len = strlen(s);
        if (len == 0) return set_str(&cfg->storage.s3.prefix, NULL, err);
        char *copy = mem_alloc(len + 2);
        if (copy == NULL) return oom(err);
        memcpy(copy, s, len);
        if (copy[len - 1] != '/') copy[len++] = '/';
        copy[len] = 0;
        mem_free(cfg->storage.s3.prefix);
        cfg->storage.s3.prefix = copy;
        return O2P_OK;
    }
    case K_COMPRESSION:
        if (s == NULL || parse_compression(s, &cfg->parquet.compression) < 0) return BAD();
        return O2P_OK;
    case K_LEVEL: {
        int64_t i;
        if (value_int(v, &i) < 0 || i < -1000 || i > 1000) return BAD();
        cfg->parquet.compression_level = (int)i;
        snprintf(cfg->parquet.compression_level_origin,
                 sizeof cfg->parquet.compression_level_origin, "%s", v->origin);
        return O2P_OK;
    }
    case K_TS_UNIT: {
        static const char *const names[] = {"us", "ns"};
        static const int values[] = {CFG_TS_MICROS, CFG_TS_NANOS};
        int u;
        if (s == NULL || lookup_name(s, names, values, 2, &u) < 0) return BAD();
        cfg->parquet.timestamp_unit = (cfg_timestamp_unit)u;
        return O2P_OK;
    }
    case K_WAL_SYNC: {
        static const char *const names[] = {"always", "interval"};
        static const int values[] = {0, 1};
        int m;
        if (s == NULL || lookup_name(s, names, values, 2, &m) < 0) return BAD();
        cfg->wal.sync_interval = m == 1;
        return O2P_OK;
    }
    case K_DURABILITY: {
        static const char *const names[] = {"memory", "wal"};
        static const int values[] = {CFG_DURABILITY_MEMORY, CFG_DURABILITY_WAL};
        int d;
        if (s == NULL || lookup_name(s, names, values, 2, &d) < 0) return BAD();
        cfg->durability = (cfg_durability)d;
        return O2P_OK;
    }
    case K_FPP:
    case K_SAVING: {
        double f;
        if (v->is_text) {
            char *end;
            f = strtod(v->str, &end);
            if (end == v->str || *end != 0) return BAD();
        } else if (v->type == TOML_FLOAT) {
            f = v->f;
        } else if (v->type == TOML_INT && def->kind == K_SAVING) {
            f = (double)v->i;
        } else {
            return BAD();
        }
        if (def->kind == K_FPP && !(f > 0.0 && f <= 0.5)) return BAD();
        if (def->kind == K_SAVING && !(f >= 0.0 && f < 1.0)) return BAD();
        *(double *)(void *)(base + def->offset) = f;
        return O2P_OK;
    }
    case K_COLUMNS:
        if (s == NULL) return BAD();
        for (const char *p = s; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != ',' && *p != ' ')
                return BAD();
        return set_str((char **)(base + def->offset), s, err);
    }
#undef BAD
    return O2P_EINVAL;
}

/* ---- defaults and lifetime ------------------------------------------- */

int cfg_defaults(cfg_config *cfg, o2p_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->server.log_level = LOG_LEVEL_INFO;
    cfg->server.log_format = LOG_FORMAT_TEXT;
    cfg->server.shutdown_timeout_secs = 30;
    cfg->request.max_payload_bytes = 8 * MIB;
    cfg->batch.enabled = true;
    cfg->batch.max_rows = 200000;
    cfg->batch.max_bytes = 128 * MIB;
    cfg->batch.max_age_secs = 10;
    cfg->batch.max_buffered_bytes = 512 * MIB;
    cfg->batch.pace_above_percent = 50;
    cfg->batch.max_pace_ms = 1000;
    cfg->batch.flush_nice = 10;
    cfg->storage.backend = CFG_BACKEND_FS;
    cfg->storage.s3.path_style = CFG_UNSET;
    cfg->parquet.compression = CFG_COMPRESSION_ZSTD;
    cfg->parquet.compression_level = CFG_UNSET;
    cfg->parquet.row_group_rows = 1048576;
    cfg->parquet.sorted_row_group_rows = 100000;
    cfg->parquet.row_group_span_secs = 600;
    cfg->parquet.timestamp_unit = CFG_TS_MICROS;
    cfg->parquet.sort_rows = 1;
    cfg->parquet.page_rows = 100000;
    cfg->parquet.bloom_filter_fpp = 0.01;
    cfg->parquet.bloom_filters = true;
    cfg->parquet.page_index = true;
    cfg->parquet.min_compression_saving = 0.05;
    cfg->durability = CFG_DURABILITY_WAL;
    cfg->wal.sync_interval_ms = 100;
    cfg->wal.max_bytes = 4096 * MIB;
    cfg->wal.segment_bytes = 64 * MIB;
    int rc = set_listen(cfg, "0.0.0.0", 4318, err);
    if (rc == 0) rc = set_grpc_listen(cfg, "0.0.0.0", 4317, err);
    if (rc == 0) rc = set_str(&cfg->storage.fs.path, "./data", err);
    if (rc < 0) cfg_free(cfg);
    return rc;
}

void cfg_free(cfg_config *cfg)
{
    char **owned[] = {&cfg->server.listen_addr,
                      &cfg->server.listen_host,
                      &cfg->server.auth_token,
                      &cfg->server.grpc_listen_addr,
                      &cfg->server.grpc_listen_host,
                      &cfg->server.tls.cert_file,
                      &cfg->server.tls.key_file,
                      &cfg->server.tls.client_ca_file,
                      &cfg->storage.fs.path,
                      &cfg->storage.s3.bucket,
                      &cfg->storage.s3.region,
                      &cfg->storage.s3.endpoint,
                      &cfg->storage.s3.prefix,
                      &cfg->storage.s3.access_key_id,
                      &cfg->storage.s3.secret_access_key,
                      &cfg->storage.s3.session_token,
                      &cfg->storage.s3.profile,
                      &cfg->parquet.bloom_filter_columns,
                      &cfg->wal.dir,
                      &cfg->config_file};
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
        mem_free(*owned[i]);
        *owned[i] = NULL;
    }
}

const char *cfg_process_getenv(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

/* ---- the file layer -------------------------------------------------- */

static const key_def *find_key(const char *key)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcmp(key_defs[i].key, key) == 0) return &key_defs[i];
    return NULL;
}

static int is_section(const char *key)
{
    for (size_t i = 0; i < sizeof known_sections / sizeof known_sections[0]; i++)
        if (strcmp(known_sections[i], key) == 0) return 1;
    return 0;
}

/* Edit distance, for "did you mean" on typos; long inputs are not compared. */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The closest known key (or section), if it is close enough to be a typo. */
static const char *suggest(const char *key, int sections)
{
    const char *best = NULL;
    size_t best_d = 3;
    size_t count = sections ? sizeof known_sections / sizeof known_sections[0] : KEY_COUNT;
    for (size_t i = 0; i < count; i++) {
        const char *cand = sections ? known_sections[i] : key_defs[i].key;
        size_t d = edit_distance(key, cand);
        if (d < best_d) best_d = d, best = cand;
    }
    return best;
}

static int unknown(o2p_error *err, const char *what, const char *key, const char *origin, int line,
                   int sections)
{
    const char *hint = suggest(key, sections);
    if (hint)
        return o2p_errorf(err, O2P_EINVAL, "config: unknown %s %s (%s:%d); did you mean %s?", what,
                          key, origin, line, hint);
    return o2p_errorf(err, O2P_EINVAL, "config: unknown %s %s (%s:%d)", what, key, origin, line);
}

int cfg_apply_toml(cfg_config *cfg, const char *text, size_t len, const char *origin,
                   o2p_error *err)
{
    toml_doc doc;
    int rc = toml_parse(&doc, text, len, err);
    if (rc < 0) {
        o2p_error_prefix(err, "config: %s", origin);
        toml_free(&doc);
        return rc;
    }
    for (size_t i = 0; i < doc.count && rc == 0; i++) {
        const toml_entry *e = &doc.entries[i];
        if (e->type == TOML_TABLE) {
            if (!is_section(e->key)) rc = unknown(err, "section", e->key, origin, e->line, 1);
            continue;
        }
        const key_def *def = find_key(e->key);
        if (def == NULL) {
            if (is_section(e->key))
                rc = o2p_errorf(err, O2P_EINVAL,
                                "config: %s (%s:%d) is a section: write [%s] and its keys below it",
                                e->key, origin, e->line, e->key);
            else
                rc = unknown(err, "key", e->key, origin, e->line, 0);
            continue;
        }
        char where[300];
        snprintf(where, sizeof where, "%s:%d", origin, e->line);
        raw_value v = {
            .type = e->type, .str = e->str, .i = e->i, .f = e->f, .b = e->b, .origin = where};
        rc = apply_value(cfg, def, &v, err);
    }
    toml_free(&doc);
    return rc;
}

/* Reads the whole file; missing files are O2P_EIO with errno kept for the caller. */
static int read_file(const char *path, o2p_buf *out, int *errno_out)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        *errno_out = errno;
        return O2P_EIO;
    }
    int rc = O2P_OK;
    *errno_out = 0;
    for (;;) {
        uint8_t *chunk = buf_extend(out, 4096);
        if (chunk == NULL) {
            rc = out->len + 4096 > out->limit && out->limit ? O2P_ELIMIT : O2P_ENOMEM;
            break;
        }
        size_t n = fread(chunk, 1, 4096, f);
        out->len -= 4096 - n;
        if (n < 4096) {
            if (ferror(f)) {
                *errno_out = errno ? errno : EIO;
                rc = O2P_EIO;
            }
            break;
        }
    }
    fclose(f);
    return rc;
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return errno != ENOENT;
    fclose(f);
    return 1;
}

/* Picks the file per the search order and applies it. */
static int load_file(cfg_config *cfg, const cfg_sources *src, o2p_error *err)
{
    const char *path = src->config_path;
    const char *named_by = "--config";
    char candidate[4096];
    if (path == NULL && src->getenv) {
        const char *env = src->getenv("OTLP2PARQUET_CONFIG", src->getenv_ctx);
        if (env && *env) path = env, named_by = "OTLP2PARQUET_CONFIG";
    }
    if (path == NULL) {
        static const char *const names[] = {"config.toml", ".otlp2parquet.toml"};
        for (size_t i = 0; i < 2 && path == NULL; i++) {
            if (src->search_dir)
                snprintf(candidate, sizeof candidate, "%s/%s", src->search_dir, names[i]);
            else
                snprintf(candidate, sizeof candidate, "%s", names[i]);
            if (file_exists(candidate)) path = candidate;
        }
        if (path == NULL) return O2P_OK; /* no file: defaults and environment only */
        named_by = NULL;
    }
    if (*path == 0) return o2p_errorf(err, O2P_EINVAL, "config: %s: empty file name", named_by);

    o2p_buf text;
    buf_init(&text, CFG_FILE_MAX);
    int file_errno = 0;
    int rc = read_file(path, &text, &file_errno);
    if (rc == O2P_ELIMIT) {
        rc = o2p_errorf(err, O2P_EINVAL,
                        "config: %s: larger than %d bytes; is this really the config file?", path,
                        CFG_FILE_MAX);
    } else if (rc == O2P_ENOMEM) {
        rc = oom(err);
    } else if (rc < 0 && file_errno == ENOENT) {
        rc = o2p_errorf(err, O2P_EINVAL, "config: config file %s (from %s) not found", path,
                        named_by ? named_by : "search");
    } else if (rc < 0) {
        rc = o2p_errorf(err, O2P_EINVAL, "config: cannot read %s: %s", path, strerror(file_errno));
    } else {
        rc = set_str(&cfg->config_file, path, err);
        if (rc == 0) rc = cfg_apply_toml(cfg, (const char *)text.data, text.len, path, err);
    }
    buf_free(&text);
    return rc;
}

/* ---- environment and flags ------------------------------------------- */

static int apply_text(cfg_config *cfg, const key_def *def, const char *text, const char *origin,
                      o2p_error *err)
{
    raw_value v = {.type = TOML_STRING, .is_text = 1, .str = text, .origin = origin};
    return apply_value(cfg, def, &v, err);
}

static const char *env_get(const cfg_sources *src, const char *name)
{
    if (src->getenv == NULL) return NULL;
    const char *v = src->getenv(name, src->getenv_ctx);
    /* An empty variable counts as unset, as shells make "unsetting" by
     * assigning nothing easy and common. */
    return v && *v ? v : NULL;
}

static int load_env(cfg_config *cfg, const cfg_sources *src, o2p_error *err)
{
    char origin[96];
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const key_def *def = &key_defs[i];
        const char *v = def->env ? env_get(src, def->env) : NULL;
        if (v == NULL) continue;
        snprintf(origin, sizeof origin, "env %s", def->env);
        O2P_TRY(apply_text(cfg, def, v, origin, err));
    }

    /* The standard AWS variables fill in what the file and OTLP2PARQUET_*
     * left out.  Keys are taken as a set so a file's static key is never
     * paired with a session token from the environment. */
    cfg_s3 *s3 = &cfg->storage.s3;
    if (s3->access_key_id == NULL && s3->secret_access_key == NULL) {
        static const struct {
            const char *env;
            const char *key;
        } creds[] = {{"AWS_ACCESS_KEY_ID", "storage.s3.access_key_id"},
                     {"AWS_SECRET_ACCESS_KEY", "storage.s3.secret_access_key"},
                     {"AWS_SESSION_TOKEN", "storage.s3.session_token"}};
        for (size_t i = 0; i < 3; i++) {
            const char *v = env_get(src, creds[i].env);
            if (v == NULL) continue;
            snprintf(origin, sizeof origin, "env %s", creds[i].env);
            O2P_TRY(apply_text(cfg, find_key(creds[i].key), v, origin, err));
        }
    }
    if (s3->region == NULL) {
        static const char *const region_vars[] = {"AWS_REGION", "AWS_DEFAULT_REGION"};
        for (size_t i = 0; i < 2 && s3->region == NULL; i++) {
            const char *v = env_get(src, region_vars[i]);
            if (v == NULL) continue;
            snprintf(origin, sizeof origin, "env %s", region_vars[i]);
            O2P_TRY(apply_text(cfg, find_key("storage.s3.region"), v, origin, err));
        }
    }
    const char *profile = env_get(src, "AWS_PROFILE");
    if (profile) O2P_TRY(set_str(&s3->profile, profile, err));
    return O2P_OK;
}

static int load_flags(cfg_config *cfg, const cfg_flags *flags, o2p_error *err)
{
    if (flags->port) {
        uint64_t port;
        if (parse_u64(flags->port, &port) < 0 || port > 65535) {
            raw_value v = {
                .type = TOML_STRING, .is_text = 1, .str = flags->port, .origin = "flag --port"};
            return bad_value(err, "port", &v, 0,
                             "expected a port number 0-65535 (0 = any free port)");
        }
        char *host = mem_strdup(cfg->server.listen_host);
        if (host == NULL) return oom(err);
        int rc = set_listen(cfg, host, (uint16_t)port, err);
        mem_free(host);
        O2P_TRY(rc);
    }
    if (flags->grpc_port) {
        uint64_t port;
        if (parse_u64(flags->grpc_port, &port) < 0 || port > 65535) {
            raw_value v = {.type = TOML_STRING,
                           .is_text = 1,
                           .str = flags->grpc_port,
                           .origin = "flag --grpc-port"};
            return bad_value(err, "grpc-port", &v, 0, "expected a port number 0-65535 (0 = off)");
        }
        if (port == 0) {
            mem_free(cfg->server.grpc_listen_addr);
            cfg->server.grpc_listen_addr = NULL;
        } else {
            char *host =
                mem_strdup(cfg->server.grpc_listen_host ? cfg->server.grpc_listen_host : "0.0.0.0");
            if (host == NULL) return oom(err);
            int rc = set_grpc_listen(cfg, host, (uint16_t)port, err);
            mem_free(host);
            O2P_TRY(rc);
        }
    }
    if (flags->output_dir) {
        O2P_TRY(
            apply_text(cfg, find_key("storage.fs.path"), flags->output_dir, "flag --output", err));
        /* Naming an output directory means "write here", whatever the file says. */
        cfg->storage.backend = CFG_BACKEND_FS;
    }
    if (flags->log_level)
        O2P_TRY(apply_text(cfg, find_key("server.log_level"), flags->log_level, "flag --log-level",
                           err));
    if (flags->compression)
        O2P_TRY(apply_text(cfg, find_key("parquet.compression"), flags->compression,
                           "flag --compression", err));
    return O2P_OK;
}

/* ---- resolution and validation --------------------------------------- */

int cfg_finish(cfg_config *cfg, o2p_error *err)
{
    /* Compression level: ranges are the codecs' own. */
    cfg_compression codec = cfg->parquet.compression;
    int level = cfg->parquet.compression_level;
    int lo = 0, hi = 0, dflt = 0;
    if (codec == CFG_COMPRESSION_ZSTD)
        lo = 1, hi = 22, dflt = 3;
    else if (codec == CFG_COMPRESSION_GZIP)
        lo = 1, hi = 9, dflt = 6;
    if (level == CFG_UNSET && cfg->parquet.compression_level_origin[0] == 0) {
        cfg->parquet.compression_level = dflt;
    } else if (hi == 0) {
        return o2p_errorf(err, O2P_EINVAL,
                          "config: parquet.compression_level = %d (%s): %s has no compression "
                          "levels; remove the setting",
                          level, cfg->parquet.compression_level_origin,
                          cfg_compression_name(codec));
    } else if (level < lo || level > hi) {
        return o2p_errorf(
            err, O2P_EINVAL, "config: parquet.compression_level = %d (%s): expected %d..%d for %s",
            level, cfg->parquet.compression_level_origin, lo, hi, cfg_compression_name(codec));
    }

    /* TLS: a certificate needs its key (and the reverse); client CAs need both */
    if ((cfg->server.tls.cert_file == NULL) != (cfg->server.tls.key_file == NULL))
        return o2p_errorf(err, O2P_EINVAL,
                          "config: server.tls.%s is set but server.tls.%s is not: give both "
                          "(PEM files) to serve TLS, or neither",
                          cfg->server.tls.cert_file ? "cert_file" : "key_file",
                          cfg->server.tls.cert_file ? "key_file" : "cert_file");
    if (cfg->server.tls.client_ca_file && cfg->server.tls.cert_file == NULL)
        return o2p_errorf(err, O2P_EINVAL,
                          "config: server.tls.client_ca_file is set but server.tls.cert_file and "
                          "server.tls.key_file are not: mutual TLS needs TLS");

    cfg_s3 *s3 = &cfg->storage.s3;
    if (s3->path_style == CFG_UNSET) s3->path_style = s3->endpoint != NULL;
    if (s3->region == NULL) O2P_TRY(set_str(&s3->region, "us-east-1", err));

    /* S3 settings only matter (and are only required) when S3 is used, so
     * stray AWS_* variables never stop a local-disk setup. */
    if (cfg->storage.backend == CFG_BACKEND_S3) {
        if (s3->bucket == NULL)
            return o2p_errorf(err, O2P_EINVAL,
                              "config: storage.s3.bucket is required when storage.backend = \"s3\" "
                              "(or set OTLP2PARQUET_S3_BUCKET)");
        if ((s3->access_key_id == NULL) != (s3->secret_access_key == NULL))
            return o2p_errorf(err, O2P_EINVAL,
                              "config: storage.s3.%s is set but storage.s3.%s is not: give both "
                              "(or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or neither",
                              s3->access_key_id ? "access_key_id" : "secret_access_key",
                              s3->access_key_id ? "secret_access_key" : "access_key_id");
    }
    return O2P_OK;
}

int cfg_load(cfg_config *cfg, const cfg_sources *src, o2p_error *err)
{
    int rc = cfg_defaults(cfg, err);
    if (rc < 0) return rc;
    rc = load_file(cfg, src, err);
    if (rc == 0) rc = load_env(cfg, src, err);
    if (rc == 0) rc = load_flags(cfg, &src->flags, err);
    if (rc == 0) rc = cfg_finish(cfg, err);
    if (rc < 0) cfg_free(cfg);
    return rc;
}

/* ---- names and summaries --------------------------------------------- */

const char *cfg_backend_name(cfg_backend backend)
{
    return backend == CFG_BACKEND_S3 ? "s3" : "fs";
}

const char *cfg_compression_name(cfg_compression compression)
{
    switch (compression) {
    case CFG_COMPRESSION_UNCOMPRESSED:
        return "uncompressed";
    case CFG_COMPRESSION_SNAPPY:
        return "snappy";
    case CFG_COMPRESSION_GZIP:
        return "gzip";
    case CFG_COMPRESSION_ZSTD:
        return "zstd";
    case CFG_COMPRESSION_LZ4_RAW:
        return "lz4_raw";
    }
    return "unknown";
}

const char *cfg_timestamp_unit_name(cfg_timestamp_unit unit)
{
    return unit == CFG_TS_NANOS ? "ns" : "us";
}

const char *cfg_durability_name(cfg_durability durability)
{
    return durability == CFG_DURABILITY_WAL ? "wal" : "memory";
}

/* "128 MiB" when exact, else plain bytes. */
static void format_size(uint64_t bytes, char *out, size_t size)
{
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    const char *unit = NULL;
    uint64_t v = bytes;
    for (size_t i = 0; i < 4 && v >= 1024 && v % 1024 == 0; i++) v /= 1024, unit = units[i];
    if (unit)
        snprintf(out, size, "%llu %s", (unsigned long long)v, unit);
    else
        snprintf(out, size, "%llu bytes", (unsigned long long)bytes);
}

int cfg_storage_target(const cfg_config *cfg, o2p_buf *out)
{
    if (cfg->storage.backend == CFG_BACKEND_FS)
        return buf_printf(out, "fs %s", cfg->storage.fs.path);
    const cfg_s3 *s3 = &cfg->storage.s3;
    O2P_TRY(buf_printf(out, "s3 s3://%s/%s (region %s", s3->bucket ? s3->bucket : "(unset)",
                       s3->prefix ? s3->prefix : "", s3->region ? s3->region : "(unset)"));
    if (s3->endpoint) O2P_TRY(buf_printf(out, ", endpoint %s", s3->endpoint));
    return buf_printf(out, "%s)", s3->path_style == 1 ? ", path-style" : "");
}

static int describe_str(o2p_buf *out, const char *key, const char *value)
{
    if (value == NULL) return buf_printf(out, "%s = (unset)\n", key);
    return buf_printf(out, "%s = \"%s\"\n", key, value);
}

static int describe_secret(o2p_buf *out, const char *key, const char *value)
{
    return buf_printf(out, "%s = %s\n", key, value ? "<redacted>" : "(unset)");
}

int cfg_describe(const cfg_config *cfg, o2p_buf *out)
{
    const cfg_s3 *s3 = &cfg->storage.s3;
    O2P_TRY(describe_str(out, "server.listen_addr", cfg->server.listen_addr));
    O2P_TRY(describe_str(out, "server.log_level", log_level_name(cfg->server.log_level)));
    O2P_TRY(describe_str(out, "server.log_format",
                         cfg->server.log_format == LOG_FORMAT_JSON ? "json" : "text"));
    O2P_TRY(describe_secret(out, "server.auth_token", cfg->server.auth_token));
    O2P_TRY(buf_printf(out, "server.shutdown_timeout_secs = %llu\n",
                       (unsigned long long)cfg->server.shutdown_timeout_secs));
    O2P_TRY(describe_str(out, "server.grpc_listen_addr",
                         cfg->server.grpc_listen_addr ? cfg->server.grpc_listen_addr : "(off)"));
    O2P_TRY(describe_str(out, "server.tls.cert_file", cfg->server.tls.cert_file));
    O2P_TRY(describe_str(out, "server.tls.key_file", cfg->server.tls.key_file));
    O2P_TRY(describe_str(out, "server.tls.client_ca_file", cfg->server.tls.client_ca_file));
    O2P_TRY(buf_printf(out, "request.max_payload_bytes = %llu\n",
                       (unsigned long long)cfg->request.max_payload_bytes));
    O2P_TRY(buf_printf(out, "batch.enabled = %s\n", cfg->batch.enabled ? "true" : "false"));
    O2P_TRY(buf_printf(out, "batch.max_rows = %llu\n", (unsigned long long)cfg->batch.max_rows));
    O2P_TRY(buf_printf(out, "batch.max_bytes = %llu\n", (unsigned long long)cfg->batch.max_bytes));
    O2P_TRY(buf_printf(out, "batch.max_age_secs = %llu\n",
                       (unsigned long long)cfg->batch.max_age_secs));
    O2P_TRY(buf_printf(out, "batch.max_buffered_bytes = %llu\n",
                       (unsigned long long)cfg->batch.max_buffered_bytes));
    if (cfg->batch.flush_threads)
        O2P_TRY(buf_printf(out, "batch.flush_threads = %llu\n",
                           (unsigned long long)cfg->batch.flush_threads));
    else
        O2P_TRY(buf_append_str(out, "batch.flush_threads = 0 (one per online CPU)\n"));
    O2P_TRY(buf_printf(out, "batch.pace_above_percent = %llu\n",
                       (unsigned long long)cfg->batch.pace_above_percent));
    O2P_TRY(
        buf_printf(out, "batch.max_pace_ms = %llu\n", (unsigned long long)cfg->batch.max_pace_ms));
    O2P_TRY(
        buf_printf(out, "batch.flush_nice = %llu\n", (unsigned long long)cfg->batch.flush_nice));
    O2P_TRY(describe_str(out, "storage.backend", cfg_backend_name(cfg->storage.backend)));
    O2P_TRY(describe_str(out, "storage.fs.path", cfg->storage.fs.path));
    O2P_TRY(describe_str(out, "storage.s3.bucket", s3->bucket));
    O2P_TRY(describe_str(out, "storage.s3.region", s3->region));
    O2P_TRY(describe_str(out, "storage.s3.endpoint", s3->endpoint));
    O2P_TRY(describe_str(out, "storage.s3.prefix", s3->prefix));
    if (s3->path_style == CFG_UNSET)
        O2P_TRY(buf_append_str(out, "storage.s3.path_style = (unset)\n"));
    else
        O2P_TRY(buf_printf(out, "storage.s3.path_style = %s\n", s3->path_style ? "true" : "false"));
    O2P_TRY(describe_str(out, "storage.s3.access_key_id", s3->access_key_id));
    O2P_TRY(describe_secret(out, "storage.s3.secret_access_key", s3->secret_access_key));
    O2P_TRY(describe_secret(out, "storage.s3.session_token", s3->session_token));
    O2P_TRY(describe_str(out, "AWS_PROFILE", s3->profile));
    O2P_TRY(
        describe_str(out, "parquet.compression", cfg_compression_name(cfg->parquet.compression)));
    O2P_TRY(buf_printf(out, "parquet.compression_level = %d\n", cfg->parquet.compression_level));
    O2P_TRY(buf_printf(out, "parquet.row_group_rows = %llu\n",
                       (unsigned long long)cfg->parquet.row_group_rows));
    O2P_TRY(buf_printf(out, "parquet.sorted_row_group_rows = %llu\n",
                       (unsigned long long)cfg->parquet.sorted_row_group_rows));
    O2P_TRY(buf_printf(out, "parquet.row_group_span_secs = %llu\n",
                       (unsigned long long)cfg->parquet.row_group_span_secs));
    O2P_TRY(describe_str(out, "parquet.timestamp_unit",
                         cfg_timestamp_unit_name(cfg->parquet.timestamp_unit)));
    O2P_TRY(buf_printf(out, "parquet.sort_rows = %s\n", cfg->parquet.sort_rows ? "true" : "false"));
    O2P_TRY(
        buf_printf(out, "parquet.page_rows = %llu\n", (unsigned long long)cfg->parquet.page_rows));
    O2P_TRY(
        buf_printf(out, "parquet.page_index = %s\n", cfg->parquet.page_index ? "true" : "false"));
    O2P_TRY(buf_printf(out, "parquet.bloom_filters = %s\n",
                       cfg->parquet.bloom_filters ? "true" : "false"));
    O2P_TRY(buf_printf(out, "parquet.bloom_filter_fpp = %g\n", cfg->parquet.bloom_filter_fpp));
    O2P_TRY(describe_str(out, "parquet.bloom_filter_columns", cfg->parquet.bloom_filter_columns));
    O2P_TRY(buf_printf(out, "parquet.min_compression_saving = %g\n",
                       cfg->parquet.min_compression_saving));
    O2P_TRY(describe_str(out, "durability.mode", cfg_durability_name(cfg->durability)));
    O2P_TRY(describe_str(out, "durability.dir", cfg->wal.dir));
    O2P_TRY(describe_str(out, "durability.sync", cfg->wal.sync_interval ? "interval" : "always"));
    O2P_TRY(buf_printf(out, "durability.sync_interval_ms = %llu\n",
                       (unsigned long long)cfg->wal.sync_interval_ms));
    O2P_TRY(
        buf_printf(out, "durability.max_bytes = %llu\n", (unsigned long long)cfg->wal.max_bytes));
    O2P_TRY(buf_printf(out, "durability.segment_bytes = %llu\n",
                       (unsigned long long)cfg->wal.segment_bytes));
    return buf_printf(out, "durability.spare_segment = %s\n",
                      cfg->wal.spare_segment ? "true" : "false");
}

int cfg_wal_dir(const cfg_config *cfg, o2p_buf *out)
{
    if (cfg->wal.dir) return buf_append_str(out, cfg->wal.dir);
    if (cfg->storage.backend == CFG_BACKEND_S3) return buf_append_str(out, "./wal");
    const char *root = cfg->storage.fs.path ? cfg->storage.fs.path : ".";
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/') n--;
    return buf_printf(out, "%.*s/.wal", (int)n, root);
}

int cfg_banner(const cfg_config *cfg, o2p_buf *out)
{
    char a[32], b[32];
    O2P_TRY(buf_printf(out, "otlp2parquet %s\n", O2P_VERSION));
    O2P_TRY(buf_printf(out, "listening on %s://%s (authentication: %s)\n",
                       cfg->server.tls.cert_file ? "https" : "http", cfg->server.listen_addr,
                       cfg->server.auth_token ? "bearer token" : "off"));
    if (cfg->server.tls.cert_file)
        O2P_TRY(buf_printf(out, "tls: certificate %s, key %s, client certificates: %s\n",
                           cfg->server.tls.cert_file, cfg->server.tls.key_file,
                           cfg->server.tls.client_ca_file ? cfg->server.tls.client_ca_file
                                                          : "not required"));
    if (cfg->server.grpc_listen_addr)
        O2P_TRY(buf_printf(out, "listening on grpc%s://%s (authentication: %s%s)\n",
                           cfg->server.tls.cert_file ? "s" : "", cfg->server.grpc_listen_addr,
                           cfg->server.auth_token ? "bearer token" : "off",
                           cfg->server.tls.client_ca_file ? ", client certificates" : ""));
    else
        O2P_TRY(buf_append_str(out, "grpc: off\n"));
    O2P_TRY(buf_append_str(out, "storage: "));
    O2P_TRY(cfg_storage_target(cfg, out));
    O2P_TRY(buf_append_str(out, "\n"));
    format_size(cfg->batch.max_bytes, a, sizeof a);
    format_size(cfg->batch.max_buffered_bytes, b, sizeof b);
    if (cfg->batch.enabled)
        O2P_TRY(buf_printf(out, "batching: flush at %llu rows, %s or %llu s; memory budget %s\n",
                           (unsigned long long)cfg->batch.max_rows, a,
                           (unsigned long long)cfg->batch.max_age_secs, b));
    else
        O2P_TRY(buf_printf(out, "batching: off (one file per request); memory budget %s\n", b));
    format_size(cfg->request.max_payload_bytes, a, sizeof a);
    O2P_TRY(buf_printf(out, "requests: up to %s (also after decompression)\n", a));
    O2P_TRY(buf_printf(out, "parquet: %s", cfg_compression_name(cfg->parquet.compression)));
    if (cfg->parquet.compression_level)
        O2P_TRY(buf_printf(out, " level %d", cfg->parquet.compression_level));
    O2P_TRY(buf_printf(out, ", row groups of up to %llu rows, timestamps in %s\n",
                       (unsigned long long)cfg->parquet.row_group_rows,
                       cfg_timestamp_unit_name(cfg->parquet.timestamp_unit)));
    if (cfg->durability == CFG_DURABILITY_WAL) {
        O2P_TRY(buf_append_str(out, "durability: wal in "));
        O2P_TRY(cfg_wal_dir(cfg, out));
        if (cfg->wal.sync_interval)
            O2P_TRY(buf_printf(out, " (synced every %llu ms: a crash may lose that much)\n",
                               (unsigned long long)cfg->wal.sync_interval_ms));
        else
            O2P_TRY(buf_append_str(out, " (synced before each answer)\n"));
    } else {
        O2P_TRY(buf_append_str(out, "durability: memory (a crash loses what is buffered)\n"));
    }
    return buf_printf(out, "config: %s\n",
                      cfg->config_file ? cfg->config_file : "(no file; defaults and environment)");
}
