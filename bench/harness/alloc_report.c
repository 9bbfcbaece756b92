/*
 * alloc_report: the counting-allocator report (spec §8 "dhat-heap" row, §9
 * "zero allocations per record in the steady-state decode path").
 *
 * Every allocation in the library goes through mem_* (src/core/mem.h), which
 * counts calls, bytes and the peak of bytes in use.  For each signal × format
 * × request size this measures, around otlp_decode of requests into a reused
 * tbl_batch (what a server thread does):
 *   cold   the first request after the decoder and batch were created
 *   steady N further requests after a warm-up pass over the request pool:
 *          allocations and bytes per request and per record
 * and, for 1,000-record protobuf requests of each signal, the allocations of
 * batch_encode_group for the groups that ten requests filled (the flusher's
 * cost per file).  Each configuration runs in a forked child so the peak
 * (mem tracks one process-wide peak) belongs to that configuration alone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "batch/batch.h"
#include "core/mem.h"
#include "gen.h"
#include "harness.h"
#include "otlp/otlp.h"

int alloc_report_main(const char *out_file, int quick);

#define POOL 4

typedef struct alloc_cfg {
    otlp_signal signal;
    otlp_format format;
    size_t records;
    int encode; /* also measure batch_encode_group */
} alloc_cfg;

static int measure_cfg(const alloc_cfg *cfg, int steady_requests, o2p_buf *out, o2p_error *err)
{
    mem_stats base, a, b;
    mem_get_stats(&base);
    o2p_buf req[POOL];
    size_t input = 0;
    for (int i = 0; i < POOL; i++) {
        buf_init(&req[i], 0);
        long rc = gen_request(&req[i], cfg->signal, cfg->format, cfg->records, 900 + (uint64_t)i,
                              GEN_BASE_NS, (unsigned)i);
        if (rc < 0) return o2p_errorf(err, (int)rc, "generating a request failed");
        input += req[i].len;
    }
    tbl_schemas schemas;
    O2P_TRY(tbl_schemas_init(&schemas, TBL_TS_MICROS, err));
    tbl_batch rows_batch;
    tbl_batch_init(&rows_batch, &schemas);
    otlp_decoder *dec;
    otlp_options o;
    otlp_options_default(&o);
    O2P_TRY(otlp_decoder_create(&dec, &o, err));
    otlp_stats st;

    mem_get_stats(&a);
    tbl_batch_reset(&rows_batch);
    O2P_TRY(otlp_decode(dec, cfg->signal, cfg->format, req[0].data, req[0].len, GEN_BASE_NS,
                        &rows_batch, &st, err));
    mem_get_stats(&b);
    uint64_t cold_allocs = b.allocations - a.allocations;
    uint64_t cold_bytes = b.bytes_allocated - a.bytes_allocated;

    for (int i = 0; i < POOL; i++) { /* warm-up: every request once */
        tbl_batch_reset(&rows_batch);
        O2P_TRY(otlp_decode(dec, cfg->signal, cfg->format, req[i].data, req[i].len, GEN_BASE_NS,
                            &rows_batch, &st, err));
    }
    mem_get_stats(&a);
    uint64_t rows = 0;
    for (int i = 0; i < steady_requests; i++) {
        tbl_batch_reset(&rows_batch);
        memset(&st, 0, sizeof st);
        O2P_TRY(otlp_decode(dec, cfg->signal, cfg->format, req[i % POOL].data, req[i % POOL].len,
                            GEN_BASE_NS, &rows_batch, &st, err));
        for (int t = 0; t < TBL_COUNT; t++) rows += st.rows[t];
    }
    mem_get_stats(&b);
    uint64_t steady_allocs = b.allocations - a.allocations;
    uint64_t steady_bytes = b.bytes_allocated - a.bytes_allocated;
    uint64_t retained = b.bytes_in_use - base.bytes_in_use - input;

    buf_append_str(out, "{\"signal\":");
    json_str(out, otlp_signal_name(cfg->signal));
    buf_append_str(out, ",\"format\":");
    json_str(out, cfg->format == OTLP_FMT_PROTOBUF ? "protobuf" : "json");
    buf_printf(out,
               ",\"records_per_request\":%zu,\"request_bytes\":%zu,\"cold_allocations\":%llu,"
               "\"cold_bytes\":%llu,\"steady_requests\":%d,\"steady_records\":%llu,"
               "\"steady_allocations\":%llu,\"steady_bytes\":%llu",
               cfg->records, input / POOL, (unsigned long long)cold_allocs,
               (unsigned long long)cold_bytes, steady_requests, (unsigned long long)rows,
               (unsigned long long)steady_allocs, (unsigned long long)steady_bytes);
    buf_append_str(out, ",\"allocations_per_request\":");
    json_num(out, (double)steady_allocs / steady_requests);
    buf_append_str(out, ",\"bytes_per_request\":");
    json_num(out, (double)steady_bytes / steady_requests);
    buf_append_str(out, ",\"allocations_per_record\":");
    json_num(out, rows ? (double)steady_allocs / (double)rows : 0);
    buf_printf(out, ",\"retained_bytes\":%llu", (unsigned long long)retained);

    if (cfg->encode) {
        /* Ten requests into one batch, then one file per group. */
        tbl_batch_reset(&rows_batch);
        for (int i = 0; i < 10; i++)
            O2P_TRY(otlp_decode(dec, cfg->signal, cfg->format, req[i % POOL].data,
                                req[i % POOL].len, GEN_BASE_NS, &rows_batch, &st, err));
        pq_writer_options popts;
        pq_writer_options_default(&popts);
        o2p_buf file;
        buf_init(&file, 0);
        char key[1024];
        size_t files = 0, enc_rows = 0;
        mem_get_stats(&a);
        for (size_t g = 0; g < rows_batch.cap; g++) {
            const tbl_group *grp = &rows_batch.groups[g];
            if (!grp->in_use || grp->rows.num_rows == 0) continue;
            key[0] = '\0';
            O2P_TRY(batch_encode_group(grp, &popts, &file, key, sizeof key, err));
            files++;
            enc_rows += grp->rows.num_rows;
        }
        mem_get_stats(&b);
        buf_printf(out,
                   ",\"encode\":{\"files\":%zu,\"rows\":%zu,\"allocations\":%llu,\"bytes\":%llu,"
                   "\"allocations_per_file\":",
                   files, enc_rows, (unsigned long long)(b.allocations - a.allocations),
                   (unsigned long long)(b.bytes_allocated - a.bytes_allocated));
        json_num(out, files ? (double)(b.allocations - a.allocations) / (double)files : 0);
        buf_append_str(out, "}");
        buf_free(&file);
    }
    mem_get_stats(&b);
    buf_printf(out, ",\"peak_heap_bytes\":%llu}",
               (unsigned long long)(b.peak_bytes_in_use - base.bytes_in_use));

    otlp_decoder_destroy(dec);
    tbl_batch_free(&rows_batch);
    tbl_schemas_free(&schemas);
    for (int i = 0; i < POOL; i++) buf_free(&req[i]);
    return 0;
}

/* Runs one configuration in a child; its JSON object comes back on a pipe. */
static int run_child(const alloc_cfg *cfg, int steady, o2p_buf *out)
{
    int pfd[2];
    if (pipe(pfd) != 0) return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(pfd[0]);
        o2p_buf b;
        buf_init(&b, 0);
        o2p_error err = {0};
        int rc = measure_cfg(cfg, steady, &b, &err);
        if (rc < 0) {
            fprintf(stderr, "alloc-report: %s/%d: %s\n", otlp_signal_name(cfg->signal),
                    (int)cfg->records, err.msg);
            _exit(1);
        }
        size_t off = 0;
        while (off < b.len) {
            ssize_t w = write(pfd[1], b.data + off, b.len - off);
            if (w <= 0) _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(pfd[1]);
    char chunk[4096];
    ssize_t r;
    size_t before = out->len;
    while ((r = read(pfd[0], chunk, sizeof chunk)) > 0) buf_append(out, chunk, (size_t)r);
    close(pfd[0]);
    int st;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || out->len == before) {
        out->len = before;
        return -1;
    }
    return 0;
}

static double json_field(const char *obj, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(obj, pat);
    return p ? strtod(p + strlen(pat), NULL) : -1;
}

int alloc_report_main(const char *out_file, int quick)
{
    static const size_t sizes[] = {100, 1000, 10000};
    int steady = quick ? 10 : 50;
    o2p_buf json;
    buf_init(&json, 0);
    buf_append_str(&json, "{\"schema\":\"o2p-alloc-report/1\",\"env\":");
    bench_env_json(&json);
    buf_printf(&json, ",\"steady_requests\":%d,\"configs\":[", steady);
    printf("%-8s %-9s %8s %12s %12s %14s %12s %14s\n", "signal", "format", "records", "cold allocs",
           "allocs/req", "bytes/req", "allocs/rec", "peak heap");
    int n = 0, failed = 0;
    for (int sig = 0; sig < 3; sig++)
        for (int fmt = 0; fmt < 2; fmt++)
            for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
                alloc_cfg cfg = {(otlp_signal)sig, fmt ? OTLP_FMT_JSON : OTLP_FMT_PROTOBUF,
                                 sizes[k], fmt == 0 && sizes[k] == 1000};
                size_t start = json.len + (n ? 1 : 0);
                if (n) buf_push_byte(&json, ',');
                if (run_child(&cfg, steady, &json) < 0) {
                    if (n) json.len--;
                    failed++;
                    continue;
                }
                n++;
                buf_push_byte(&json, '\0');
                const char *obj = (const char *)json.data + start;
                printf(
                    "%-8s %-9s %8zu %12.0f %12.1f %14.0f %12.4f %14.0f\n",
                    otlp_signal_name(cfg.signal), fmt ? "json" : "protobuf", cfg.records,
                    json_field(obj, "cold_allocations"), json_field(obj, "allocations_per_request"),
                    json_field(obj, "bytes_per_request"), json_field(obj, "allocations_per_record"),
                    json_field(obj, "peak_heap_bytes"));
                json.len--; /* drop the NUL */
            }
    buf_append_str(&json, "]}\n");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", out_file);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        char cmd[1100];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "alloc-report: cannot create %s\n", dir);
    }
    FILE *f = fopen(out_file, "w");
    if (f == NULL || fwrite(json.data, 1, json.len, f) != json.len) {
        fprintf(stderr, "alloc-report: cannot write %s: %s\n", out_file, strerror(errno));
        if (f) fclose(f);
        buf_free(&json);
        return 1;
    }
    fclose(f);
    printf("alloc-report: %d configurations (%d failed) -> %s\n", n, failed, out_file);
    buf_free(&json);
    return failed ? 1 : 0;
}
