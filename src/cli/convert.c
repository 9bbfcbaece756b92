/*
 * convert: `otlp2parquet convert IN... -o DIR` — OTLP files to the same
 * Parquet layout the server writes (spec §4, §7), offline.
 *
 * Every input is read, decompressed (.gz/.zst, or by magic bytes) and
 * decoded into one in-memory tbl_batch grouped by (table, service, hour);
 * only when all inputs decoded cleanly are the groups encoded and stored, one
 * file per group.  So bad input stops the run with a message naming the file
 * and the field, and leaves no files behind.  A group that outgrows
 * batch.max_bytes is written early (its file is complete) to bound memory.
 * Inputs are decoded and groups encoded on batch.flush_threads threads
 * (default: one per online CPU; opool, batch_pool); the decoded rows join
 * the groups in input order and files are stored in group order, by the
 * main thread, so the output does not depend on the thread count.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "batch/batch.h"
#include "batch/batch_pool.h"
#include "cli/cli.h"
#include "cli/runtime.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/mem.h"
#include "core/opool.h"
#include "otlp/otlp.h"
#include "server/http_decompress.h"

#define CONVERT_MAX_INPUT ((size_t)4 << 30) /* decompressed size of one input file */

typedef struct convert_totals {
    uint64_t rows[TBL_COUNT];
    uint64_t files[TBL_COUNT];
    uint64_t bytes[TBL_COUNT];
    uint64_t rejected;
    uint64_t input_bytes;
} convert_totals;

/* One decoded input between its decoding thread and the main thread. */
typedef struct convert_input {
    tbl_batch rows;
    otlp_stats stats;
    uint64_t input_bytes;
} convert_input;

/* A decoding thread's decoder and buffers, kept from one input to the next. */
typedef struct convert_worker {
    otlp_decoder *dec;
    http_decompressor dz;
    o2p_buf raw;
} convert_worker;

typedef struct convert_ctx {
    const cfg_config *cfg;
    batch_pool *pool; /* encodes groups on batch.flush_threads threads */
    tbl_group **todo; /* the groups write_groups is writing */
    const cli_args *args;
    convert_worker *workers; /* one per thread */
    convert_input *inputs;   /* one per slot of the decoding window */
    store *st;
    tbl_batch rows;
    convert_totals totals;
    int progress; /* stderr is a terminal */
} convert_ctx;

static double now_secs(void)
{
    return (double)clock_mono_ns() / 1e9;
}

static int ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && strncmp(s + len - n, suffix, n) == 0;
}

/* Splits "name.json.gz" into the content extension and the compression. */
static void classify_name(const char *path, cli_format *format, http_encoding *enc)
{
    size_t len = strlen(path);
    *enc = HTTP_ENC_IDENTITY;
    if (ends_with(path, len, ".gz")) {
        *enc = HTTP_ENC_GZIP;
        len -= 3;
    } else if (ends_with(path, len, ".zst")) {
        *enc = HTTP_ENC_ZSTD;
        len -= 4;
    }
    if (ends_with(path, len, ".jsonl") || ends_with(path, len, ".ndjson"))
        *format = CLI_FORMAT_JSONL;
    else if (ends_with(path, len, ".json"))
        *format = CLI_FORMAT_JSON;
    else if (ends_with(path, len, ".pb") || ends_with(path, len, ".binpb") ||
             ends_with(path, len, ".protobuf"))
        *format = CLI_FORMAT_PB;
    else
        *format = CLI_FORMAT_AUTO;
}

/* The signal from the file name ("logs.pb", "my-traces.json", "metrics_sum.pb"). */
static cli_signal signal_from_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (strstr(base, "log")) return CLI_SIGNAL_LOGS;
    if (strstr(base, "trace") || strstr(base, "span")) return CLI_SIGNAL_TRACES;
    if (strstr(base, "metric")) return CLI_SIGNAL_METRICS;
    return CLI_SIGNAL_AUTO;
}

/* The signal of a JSON body from its top-level member name. */
static cli_signal signal_from_json(const uint8_t *p, size_t n)
{
    size_t scan = n < 65536 ? n : 65536;
    static const struct {
        const char *key;
        cli_signal signal;
    } keys[] = {
        {"\"resourceLogs\"", CLI_SIGNAL_LOGS},       {"\"resource_logs\"", CLI_SIGNAL_LOGS},
        {"\"resourceSpans\"", CLI_SIGNAL_TRACES},    {"\"resource_spans\"", CLI_SIGNAL_TRACES},
        {"\"resourceMetrics\"", CLI_SIGNAL_METRICS}, {"\"resource_metrics\"", CLI_SIGNAL_METRICS}};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (memmem(p, scan, keys[k].key, strlen(keys[k].key))) return keys[k].signal;
    return CLI_SIGNAL_AUTO;
}

static int read_file(const char *path, o2p_buf *out, o2p_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return o2p_errorf(err, O2P_EIO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return o2p_errorf(err, O2P_EINVAL, "%s: is a directory", path);
    }
    buf_reset(out);
    if (st.st_size > 0 && buf_reserve(out, (size_t)st.st_size) < 0) {
        close(fd);
        return o2p_errorf(err, O2P_ENOMEM, "%s: out of memory reading %lld bytes", path,
                          (long long)st.st_size);
    }
    for (;;) {
        if (buf_reserve(out, 65536) < 0) {
            close(fd);
            return o2p_errorf(err, O2P_ENOMEM, "%s: out of memory", path);
        }
        ssize_t n = read(fd, out->data + out->len, out->cap - out->len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            return o2p_errorf(err, O2P_EIO, "%s: %s", path, strerror(e));
        }
        if (n == 0) break;
        out->len += (size_t)n;
    }
    close(fd);
    return O2P_OK;
}

static const char *signal_word(cli_signal s)
{
    return s == CLI_SIGNAL_LOGS ? "logs" : s == CLI_SIGNAL_TRACES ? "traces" : "metrics";
}

/* Stores one encoded group and empties it (main thread, in group order). */
static int store_group(void *ctx, size_t i, const o2p_buf *file, const char *key, o2p_error *err)
{
    convert_ctx *c = ctx;
    O2P_TRY(store_put(c->st, key, file->data, file->len, err));
    tbl_group *g = c->todo[i];
    c->totals.files[g->table]++;
    c->totals.bytes[g->table] += file->len;
    pq_colset_reset(&g->rows);
    g->in_use = 0;
    c->rows.num_groups--;
    return O2P_OK;
}

/* Writes every buffered group (or only those over max_bytes when
 * only_big) and empties them. */
static int write_groups(convert_ctx *c, int only_big, o2p_error *err)
{
    size_t n = 0;
    for (size_t i = 0; i < c->rows.cap; i++) {
        tbl_group *g = &c->rows.groups[i];
        if (!g->in_use || g->rows.num_rows == 0) continue;
        if (only_big && pq_colset_mem(&g->rows) < c->cfg->batch.max_bytes) continue;
        n++;
    }
    if (n == 0) return O2P_OK;
    tbl_group **todo = mem_calloc(n, sizeof *todo);
    if (todo == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    n = 0;
    for (size_t i = 0; i < c->rows.cap; i++) {
        tbl_group *g = &c->rows.groups[i];
        if (!g->in_use || g->rows.num_rows == 0) continue;
        if (only_big && pq_colset_mem(&g->rows) < c->cfg->batch.max_bytes) continue;
        todo[n++] = g;
    }
    c->todo = todo;
    int rc = batch_pool_encode(c->pool, (const tbl_group *const *)todo, n, store_group, c, err);
    c->todo = NULL;
    mem_free(todo);
    return rc;
}

/* Reads, decompresses and decodes one input into rows (any thread). */
static int convert_one(otlp_decoder *dec, http_decompressor *dz, o2p_buf *raw, const char *path,
                       const cli_args *args, convert_input *in, o2p_error *err)
{
    cli_format format;
    http_encoding enc;
    classify_name(path, &format, &enc);
    if (args->format != CLI_FORMAT_AUTO) format = args->format;
    int rc = read_file(path, raw, err);
    if (rc < 0) return rc;
    in->input_bytes = raw->len;
    /* compressed files are recognised by their magic bytes too */
    if (raw->len >= 2 && raw->data[0] == 0x1f && raw->data[1] == 0x8b) enc = HTTP_ENC_GZIP;
    if (raw->len >= 4 && memcmp(raw->data, "\x28\xb5\x2f\xfd", 4) == 0) enc = HTTP_ENC_ZSTD;
    const uint8_t *body = raw->data;
    size_t len = raw->len;
    if (enc != HTTP_ENC_IDENTITY) {
        rc = http_decompress(dz, enc, raw->data, raw->len, err);
        if (rc < 0) return o2p_error_prefix(err, "%s", path);
        body = dz->out.data;
        len = dz->out.len;
    }
    if (format == CLI_FORMAT_AUTO) {
        size_t i = 0;
        while (i < len && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r' || body[i] == '\t'))
            i++;
        if (i < len && body[i] == '{') {
            const uint8_t *nl = memchr(body + i, '\n', len - i);
            int more = nl && memchr(nl, '{', len - (size_t)(nl - body)) != NULL;
            format = more ? CLI_FORMAT_JSONL : CLI_FORMAT_JSON;
        } else {
            format = CLI_FORMAT_PB;
        }
    }
    cli_signal signal = args->signal;
    if (signal == CLI_SIGNAL_AUTO) signal = signal_from_name(path);
    if (signal == CLI_SIGNAL_AUTO && format != CLI_FORMAT_PB) signal = signal_from_json(body, len);
    if (signal == CLI_SIGNAL_AUTO)
        return o2p_errorf(err, O2P_EINVAL,
                          "%s: cannot tell whether it holds logs, traces or metrics; use --signal",
                          path);
    otlp_signal osig = signal == CLI_SIGNAL_LOGS     ? OTLP_LOGS
                       : signal == CLI_SIGNAL_TRACES ? OTLP_TRACES
                                                     : OTLP_METRICS;
    otlp_format ofmt = format == CLI_FORMAT_PB     ? OTLP_FMT_PROTOBUF
                       : format == CLI_FORMAT_JSON ? OTLP_FMT_JSON
                                                   : OTLP_FMT_JSONL;
    uint64_t receive_ns = clock_real_ns();
    memset(&in->stats, 0, sizeof in->stats);
    rc = otlp_decode(dec, osig, ofmt, body, len, receive_ns, &in->rows, &in->stats, err);
    if (rc < 0)
        return o2p_error_prefix(err, "%s (%s %s)", path, signal_word(signal),
                                format == CLI_FORMAT_PB     ? "protobuf"
                                : format == CLI_FORMAT_JSON ? "JSON"
                                                            : "JSONL");
    return O2P_OK;
}

static int decode_work(void *ctx, int thread, size_t job, size_t slot, o2p_error *err)
{
    convert_ctx *c = ctx;
    convert_worker *w = &c->workers[thread];
    convert_input *in = &c->inputs[slot];
    tbl_batch_reset(&in->rows);
    return convert_one(w->dec, &w->dz, &w->raw, c->args->positional[job], c->args, in, err);
}

/* Main thread, inputs in order: the rows join the groups, big groups are written. */
static int decode_done(void *ctx, size_t job, size_t slot, o2p_error *err)
{
    convert_ctx *c = ctx;
    convert_input *in = &c->inputs[slot];
    const char *path = c->args->positional[job];
    if (c->progress)
        fprintf(stderr, "\r[%zu/%d] %s ...\033[K", job + 1, c->args->positional_count, path);
    c->totals.input_bytes += in->input_bytes;
    for (int t = 0; t < TBL_COUNT; t++) c->totals.rows[t] += in->stats.rows[t];
    c->totals.rejected += in->stats.rejected;
    if (in->stats.rejected)
        fprintf(stderr, "%s: skipped %llu items: %s\n", path,
                (unsigned long long)in->stats.rejected, in->stats.rejected_reason);
    int rc = tbl_batch_append(&c->rows, &in->rows);
    if (rc < 0)
        return o2p_errorf(err, rc, "%s: %s while buffering its rows", path, o2p_strerror(rc));
    return write_groups(c, 1, err);
}

static void print_summary(const convert_ctx *c, double secs)
{
    uint64_t rows = 0, files = 0, bytes = 0;
    printf("%-36s %12s %8s %14s\n", "table", "rows", "files", "bytes");
    for (int t = 0; t < TBL_COUNT; t++) {
        if (c->totals.rows[t] == 0 && c->totals.files[t] == 0) continue;
        printf("%-36s %12llu %8llu %14llu\n", tbl_name((tbl_id)t),
               (unsigned long long)c->totals.rows[t], (unsigned long long)c->totals.files[t],
               (unsigned long long)c->totals.bytes[t]);
        rows += c->totals.rows[t];
        files += c->totals.files[t];
        bytes += c->totals.bytes[t];
    }
    printf("%-36s %12llu %8llu %14llu\n", "total", (unsigned long long)rows,
           (unsigned long long)files, (unsigned long long)bytes);
    if (c->totals.rejected)
        printf("skipped items: %llu (metric points without a value)\n",
               (unsigned long long)c->totals.rejected);
    printf("%llu input bytes in %.3f s: %.0f records/s, written to %s\n",
           (unsigned long long)c->totals.input_bytes, secs, secs > 0 ? (double)rows / secs : 0.0,
           store_describe(c->st));
}

int cli_convert(const cfg_config *cfg, const cli_args *args)
{
    if (args->positional_count == 0) {
        fprintf(stderr, "convert: no input files (usage: otlp2parquet convert IN... -o DIR)\n");
        return 2;
    }
    o2p_error err;
    o2p_error_clear(&err);
    convert_ctx c;
    memset(&c, 0, sizeof c);
    c.cfg = cfg;
    c.progress = isatty(STDERR_FILENO);
    pq_writer_options popts;
    runtime_parquet_options(cfg, &popts);
    int threads = cfg->batch.flush_threads > 64 ? 64 : (int)cfg->batch.flush_threads;
    int rc = batch_pool_create(&c.pool, threads, &popts, &err);
    if (rc < 0) {
        fprintf(stderr, "convert: %s\n", err.msg);
        return 1;
    }
    tbl_schemas schemas;
    rc = runtime_schemas(cfg, &schemas, &err);
    if (rc < 0) {
        fprintf(stderr, "convert: %s\n", err.msg);
        batch_pool_destroy(c.pool);
        return 1;
    }
    rc = runtime_open_store(cfg, &c.st, &err);
    if (rc < 0) {
        fprintf(stderr, "convert: %s\n", err.msg);
        batch_pool_destroy(c.pool);
        tbl_schemas_free(&schemas);
        return 1;
    }
    /* Inputs are decoded on as many threads as groups are encoded, each
     * into its own batch, and join c.rows in input order on this thread. */
    int nthreads = batch_pool_threads(c.pool);
    size_t window = (size_t)nthreads + 1;
    c.args = args;
    c.workers = mem_calloc((size_t)nthreads, sizeof *c.workers);
    c.inputs = mem_calloc(window, sizeof *c.inputs);
    if (c.workers == NULL || c.inputs == NULL) rc = o2p_errorf(&err, O2P_ENOMEM, "out of memory");
    otlp_options oopts;
    otlp_options_default(&oopts);
    for (int t = 0; c.workers && t < nthreads; t++) {
        http_decompressor_init(&c.workers[t].dz, CONVERT_MAX_INPUT);
        buf_init(&c.workers[t].raw, 0);
        if (rc == 0) rc = otlp_decoder_create(&c.workers[t].dec, &oopts, &err);
    }
    for (size_t i = 0; c.inputs && i < window; i++) tbl_batch_init(&c.inputs[i].rows, &schemas);
    tbl_batch_init(&c.rows, &schemas);

    double t0 = now_secs();
    if (rc == 0)
        rc = opool_run(nthreads, window, (size_t)args->positional_count, decode_work, decode_done,
                       &c, &err);
    if (rc == 0) rc = write_groups(&c, 0, &err);
    double secs = now_secs() - t0;
    if (c.progress) fprintf(stderr, "\r\033[K");

    if (rc < 0)
        fprintf(stderr, "convert: %s\n", err.msg);
    else
        print_summary(&c, secs);

    for (int t = 0; c.workers && t < nthreads; t++) {
        otlp_decoder_destroy(c.workers[t].dec);
        http_decompressor_free(&c.workers[t].dz);
        buf_free(&c.workers[t].raw);
    }
    for (size_t i = 0; c.inputs && i < window; i++) tbl_batch_free(&c.inputs[i].rows);
    mem_free(c.workers);
    mem_free(c.inputs);
    tbl_batch_free(&c.rows);
    store_destroy(c.st);
    tbl_schemas_free(&schemas);
    batch_pool_destroy(c.pool);
    return rc < 0 ? 1 : 0;
}
