/*
 * harness: command line and the measuring loop of o2p_bench (see harness.h).
 *
 *   o2p_bench [options] [FILTER...]   run cases whose name contains any FILTER
 *                                     (FILTER ending in '$': exactly that name)
 *   o2p_bench --list                  list the cases
 *   o2p_bench --run NAME [--iters N | --secs S]
 *                                     setup + untimed iterations of one case:
 *                                     the workload under perf, callgrind, DHAT
 *   o2p_bench --alloc-report [--out-file F]
 *                                     counting-allocator report (alloc_report.c)
 *
 * Options: --quick, --samples N, --min-samples N, --sample-ms MS,
 * --warmup-ms MS, --max-secs S, --out DIR, --server PATH, --http-conns N.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/mem.h"
#include "harness.h"

int alloc_report_main(const char *out_file, int quick);

bench_options bench_opts = {
    .samples = 25,
    .min_samples = 5,
    .sample_secs = 0.1,
    .warmup_secs = 0.3,
    .max_secs = 8.0,
    .out_dir = "build/bench/results",
    .server = "build/otlp2parquet",
    .http_conns = 4,
    .quick = 0,
};

typedef struct case_list {
    const bench_case **items;
    size_t count;
} case_list;

static void collect(case_list *l)
{
    const bench_case *(*suites[])(size_t *) = {suite_decode_cases, suite_encode_cases,
                                               suite_batch_cases, suite_e2e_cases,
                                               suite_http_cases};
    size_t total = 0, n;
    for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++) {
        suites[s](&n);
        total += n;
    }
    l->items = mem_alloc(total * sizeof *l->items + 1);
    l->count = 0;
    if (l->items == NULL) return;
    for (size_t s = 0; s < sizeof suites / sizeof suites[0]; s++) {
        const bench_case *c = suites[s](&n);
        for (size_t i = 0; i < n; i++) l->items[l->count++] = &c[i];
    }
}

static int mkdirs(const char *path)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

static int do_iters(const bench_case *c, void *st, uint64_t iters, double *secs, o2p_error *err)
{
    if (c->measure) return c->measure(st, iters, secs, err);
    double t0 = bench_now();
    for (uint64_t i = 0; i < iters; i++) {
        int rc = c->run(st, err);
        if (rc < 0) return rc;
    }
    *secs = bench_now() - t0;
    return 0;
}

static int write_file(const char *path, const o2p_buf *b)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) return -1;
    int ok = fwrite(b->data, 1, b->len, f) == b->len;
    ok &= fclose(f) == 0;
    return ok ? 0 : -1;
}

static void result_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s.json", bench_opts.out_dir, name);
}

static void write_skip(const bench_case *c, const char *reason)
{
    o2p_buf b;
    buf_init(&b, 0);
    buf_append_str(&b, "{\"schema\":\"o2p-bench-result/1\",\"name\":");
    json_str(&b, c->name);
    buf_append_str(&b, ",\"suite\":");
    json_str(&b, c->suite);
    buf_append_str(&b, ",\"status\":\"skipped\",\"reason\":");
    json_str(&b, reason);
    buf_append_str(&b, ",\"env\":");
    bench_env_json(&b);
    buf_append_str(&b, "}\n");
    char path[1024];
    result_path(path, sizeof path, c->name);
    write_file(path, &b);
    buf_free(&b);
}

static void human_time(double secs, char *out, size_t cap)
{
    if (secs < 1e-6)
        snprintf(out, cap, "%.1f ns", secs * 1e9);
    else if (secs < 1e-3)
        snprintf(out, cap, "%.2f us", secs * 1e6);
    else if (secs < 1)
        snprintf(out, cap, "%.2f ms", secs * 1e3);
    else
        snprintf(out, cap, "%.3f s", secs);
}

/* Runs one case fully; 0 ok, 1 skipped, -1 failed. */
static int run_case(const bench_case *c)
{
    o2p_error err = {0};
    bench_info info;
    memset(&info, 0, sizeof info);
    void *st = NULL;
    fflush(stdout);
    int rc = c->setup(c, &st, &info, &err);
    if (rc == O2P_EUNSUPPORTED) {
        printf("%-36s SKIP: %s\n", c->name, err.msg);
        write_skip(c, err.msg);
        return 1;
    }
    if (rc < 0) {
        printf("%-36s FAILED in setup: %s\n", c->name, err.msg);
        return -1;
    }

    /* Warm-up doubles the iteration count until the warm-up time is spent,
     * which also gives the per-iteration estimate used to size samples. */
    uint64_t warm_iters = 0, batch = 1;
    double warm_secs = 0;
    while (warm_secs < bench_opts.warmup_secs) {
        double s;
        rc = do_iters(c, st, batch, &s, &err);
        if (rc < 0) goto failed;
        warm_secs += s;
        warm_iters += batch;
        if (s < bench_opts.warmup_secs / 4) batch *= 2;
    }
    double per_iter = warm_secs / (double)warm_iters;
    double sample_secs = bench_opts.sample_secs;
    if (c->min_sample_secs > sample_secs) sample_secs = c->min_sample_secs;
    uint64_t iters = (uint64_t)llround(sample_secs / per_iter);
    if (iters < 1) iters = 1;
    int nsamples = bench_opts.samples;
    double est_total = per_iter * (double)iters * nsamples;
    if (est_total > bench_opts.max_secs) {
        nsamples = (int)(bench_opts.max_secs / (per_iter * (double)iters));
        if (nsamples < bench_opts.min_samples) nsamples = bench_opts.min_samples;
        if (nsamples > bench_opts.samples) nsamples = bench_opts.samples;
    }

    double *samples = mem_alloc((size_t)nsamples * sizeof *samples);
    if (samples == NULL) {
        o2p_errorf(&err, O2P_ENOMEM, "out of memory");
        goto failed;
    }
    if (c->begin_samples) c->begin_samples(st);
    for (int i = 0; i < nsamples; i++) {
        double s;
        rc = do_iters(c, st, iters, &s, &err);
        if (rc < 0) {
            mem_free(samples);
            goto failed;
        }
        samples[i] = s / (double)iters;
    }

    size_t n = (size_t)nsamples;
    double med = stats_median(samples, n), mean = stats_mean(samples, n);
    double sd = stats_stddev(samples, n), lo, hi;
    stats_bootstrap_median_ci(samples, n, 2000, 0x5eed0f0b1e5ull, &lo, &hi);
    double q1 = stats_percentile(samples, n, 25), q3 = stats_percentile(samples, n, 75);
    double mn = stats_percentile(samples, n, 0), mx = stats_percentile(samples, n, 100);
    size_t outliers = 0;
    for (size_t i = 0; i < n; i++)
        if (samples[i] < q1 - 1.5 * (q3 - q1) || samples[i] > q3 + 1.5 * (q3 - q1)) outliers++;
    double rows_s = info.rows_per_iter > 0 ? info.rows_per_iter / med : 0;
    double mb_s = info.bytes_per_iter > 0 ? info.bytes_per_iter / med / 1e6 : 0;

    o2p_buf b;
    buf_init(&b, 0);
    buf_append_str(&b, "{\"schema\":\"o2p-bench-result/1\",\"name\":");
    json_str(&b, c->name);
    buf_append_str(&b, ",\"suite\":");
    json_str(&b, c->suite);
    buf_append_str(&b, ",\"status\":\"ok\",\"description\":");
    json_str(&b, c->description);
    buf_append_str(&b, ",\"params\":");
    json_str(&b, info.params);
    buf_append_str(&b, ",\"unit\":\"seconds per iteration\"");
    buf_printf(&b, ",\"iters_per_sample\":%llu,\"warmup_iters\":%llu", (unsigned long long)iters,
               (unsigned long long)warm_iters);
    buf_append_str(&b, ",\"rows_per_iter\":");
    json_num(&b, info.rows_per_iter);
    buf_append_str(&b, ",\"bytes_per_iter\":");
    json_num(&b, info.bytes_per_iter);
    buf_append_str(&b, ",\"out_bytes_per_iter\":");
    json_num(&b, info.out_bytes_per_iter);
    buf_append_str(&b, ",\"stats\":{\"median\":");
    json_num(&b, med);
    buf_append_str(&b, ",\"mean\":");
    json_num(&b, mean);
    buf_append_str(&b, ",\"stddev\":");
    json_num(&b, sd);
    buf_append_str(&b, ",\"ci95_low\":");
    json_num(&b, lo);
    buf_append_str(&b, ",\"ci95_high\":");
    json_num(&b, hi);
    buf_append_str(&b, ",\"min\":");
    json_num(&b, mn);
    buf_append_str(&b, ",\"max\":");
    json_num(&b, mx);
    buf_append_str(&b, ",\"q1\":");
    json_num(&b, q1);
    buf_append_str(&b, ",\"q3\":");
    json_num(&b, q3);
    buf_printf(&b, ",\"outliers\":%zu,\"n\":%zu}", outliers, n);
    buf_append_str(&b, ",\"throughput\":{\"rows_per_sec\":");
    json_num(&b, rows_s);
    buf_append_str(&b, ",\"mb_per_sec\":");
    json_num(&b, mb_s);
    buf_append_str(&b, "}");
    if (c->extra_json) {
        buf_append_str(&b, ",\"extra\":{\"_\":0");
        c->extra_json(st, &b);
        buf_append_str(&b, "}");
    }
    buf_append_str(&b, ",\"samples\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) buf_push_byte(&b, ',');
        json_num(&b, samples[i]);
    }
    buf_append_str(&b, "],\"env\":");
    bench_env_json(&b);
    buf_append_str(&b, "}\n");
    char path[1024];
    result_path(path, sizeof path, c->name);
    if (write_file(path, &b) < 0) fprintf(stderr, "warning: cannot write %s\n", path);
    buf_free(&b);

    char tmed[32], tlo[32], thi[32];
    human_time(med, tmed, sizeof tmed);
    human_time(lo, tlo, sizeof tlo);
    human_time(hi, thi, sizeof thi);
    printf("%-36s %10s [%s .. %s] %7.1f%% sd  %12.0f rows/s %9.1f MB/s  (%d x %llu)\n", c->name,
           tmed, tlo, thi, med > 0 ? sd / med * 100 : 0, rows_s, mb_s, nsamples,
           (unsigned long long)iters);
    if (c->extra_text) {
        char line[512];
        line[0] = '\0';
        c->extra_text(st, line, sizeof line);
        if (line[0]) printf("%-36s %s\n", "", line);
    }
    mem_free(samples);
    if (c->teardown) c->teardown(st);
    return 0;

failed:
    printf("%-36s FAILED: %s\n", c->name, err.msg);
    if (c->teardown) c->teardown(st);
    return -1;
}

/* Untimed iterations of one case for profilers. */
static int run_workload(const bench_case *c, long iters, double secs)
{
    o2p_error err = {0};
    bench_info info;
    memset(&info, 0, sizeof info);
    void *st = NULL;
    int rc = c->setup(c, &st, &info, &err);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", c->name, err.msg);
        return rc == O2P_EUNSUPPORTED ? 77 : 1;
    }
    double t0 = bench_now(), s;
    long done = 0;
    while (secs > 0 ? bench_now() - t0 < secs : done < iters) {
        rc = do_iters(c, st, 1, &s, &err);
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", c->name, err.msg);
            if (c->teardown) c->teardown(st);
            return 1;
        }
        done++;
    }
    double el = bench_now() - t0;
    fprintf(stderr, "%s: %ld iterations in %.3f s (%.0f rows/s)\n", c->name, done, el,
            el > 0 ? info.rows_per_iter * (double)done / el : 0);
    if (c->teardown) c->teardown(st);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: o2p_bench [--quick] [--samples N] [--min-samples N] [--sample-ms MS]\n"
                    "                 [--warmup-ms MS] [--max-secs S] [--out DIR] [--server PATH]\n"
                    "                 [--http-conns N] [FILTER...]\n"
                    "       o2p_bench --list\n"
                    "       o2p_bench --run NAME [--iters N | --secs S]\n"
                    "       o2p_bench --alloc-report [--quick] [--out-file FILE]\n"
                    "       o2p_bench --dump-body FILE   (one mixed10 request body, protobuf)\n");
}

int main(int argc, char **argv)
{
    const char *filters[64];
    size_t nfilters = 0;
    const char *run_name = NULL, *alloc_out = "build/bench/alloc/alloc_report.json";
    long run_iters = 0;
    double run_secs = 0;
    mem_tune_for_large_buffers(); /* as the server and convert run */
    int list = 0, alloc = 0;
    const char *env_server = getenv("O2P_BENCH_SERVER");
    if (env_server && *env_server) bench_opts.server = env_server;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV()                                                                                    \
    do {                                                                                           \
        if (v == NULL) {                                                                           \
            fprintf(stderr, "o2p_bench: %s needs a value\n", a);                                   \
            return 2;                                                                              \
        }                                                                                          \
        i++;                                                                                       \
    } while (0)
        if (!strcmp(a, "--quick")) {
            bench_opts.quick = 1;
            bench_opts.samples = 10;
            bench_opts.min_samples = 3;
            bench_opts.sample_secs = 0.03;
            bench_opts.warmup_secs = 0.08;
            bench_opts.max_secs = 2.0;
        } else if (!strcmp(a, "--samples")) {
            NEEDV();
            bench_opts.samples = atoi(v);
        } else if (!strcmp(a, "--min-samples")) {
            NEEDV();
            bench_opts.min_samples = atoi(v);
        } else if (!strcmp(a, "--sample-ms")) {
            NEEDV();
            bench_opts.sample_secs = atof(v) / 1e3;
        } else if (!strcmp(a, "--warmup-ms")) {
            NEEDV();
            bench_opts.warmup_secs = atof(v) / 1e3;
        } else if (!strcmp(a, "--max-secs")) {
            NEEDV();
            bench_opts.max_secs = atof(v);
        } else if (!strcmp(a, "--out")) {
            NEEDV();
            bench_opts.out_dir = v;
        } else if (!strcmp(a, "--server")) {
            NEEDV();
            bench_opts.server = v;
        } else if (!strcmp(a, "--http-conns")) {
            NEEDV();
            bench_opts.http_conns = atoi(v);
        } else if (!strcmp(a, "--list")) {
            list = 1;
        } else if (!strcmp(a, "--run")) {
            NEEDV();
            run_name = v;
        } else if (!strcmp(a, "--iters")) {
            NEEDV();
            run_iters = atol(v);
        } else if (!strcmp(a, "--secs")) {
            NEEDV();
            run_secs = atof(v);
        } else if (!strcmp(a, "--dump-body")) {
            NEEDV();
            o2p_error derr = {0};
            if (http_dump_mixed_body(v, 1000, &derr) < 0) {
                fprintf(stderr, "o2p_bench: --dump-body: %s\n", derr.msg);
                return 1;
            }
            return 0;
        } else if (!strcmp(a, "--alloc-report")) {
            alloc = 1;
        } else if (!strcmp(a, "--out-file")) {
            NEEDV();
            alloc_out = v;
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            return 0;
        } else if (a[0] == '-') {
            fprintf(stderr, "o2p_bench: unknown option %s\n", a);
            usage();
            return 2;
        } else if (nfilters < sizeof filters / sizeof filters[0]) {
            filters[nfilters++] = a;
        }
#undef NEEDV
    }
    if (bench_opts.samples < 2 || bench_opts.min_samples < 2 || bench_opts.sample_secs <= 0 ||
        bench_opts.http_conns < 1) {
        fprintf(stderr, "o2p_bench: samples and min-samples must be >= 2, sample-ms > 0, "
                        "http-conns >= 1\n");
        return 2;
    }
    if (alloc) return alloc_report_main(alloc_out, bench_opts.quick);

    case_list cases;
    collect(&cases);
    if (list) {
        for (size_t i = 0; i < cases.count; i++)
            printf("%-36s %s\n", cases.items[i]->name, cases.items[i]->description);
        mem_free(cases.items);
        return 0;
    }
    if (run_name) {
        for (size_t i = 0; i < cases.count; i++)
            if (!strcmp(cases.items[i]->name, run_name)) {
                int rc = run_workload(cases.items[i], run_iters > 0 ? run_iters : 1, run_secs);
                mem_free(cases.items);
                return rc;
            }
        fprintf(stderr, "o2p_bench: no case named %s (see --list)\n", run_name);
        mem_free(cases.items);
        return 2;
    }

    if (mkdirs(bench_opts.out_dir) < 0) {
        fprintf(stderr, "o2p_bench: cannot create %s: %s\n", bench_opts.out_dir, strerror(errno));
        return 2;
    }
    printf("o2p_bench: %d samples (min %d), ~%.0f ms/sample, warm-up %.0f ms, <= %.1f s/case "
           "-> %s\n",
           bench_opts.samples, bench_opts.min_samples, bench_opts.sample_secs * 1e3,
           bench_opts.warmup_secs * 1e3, bench_opts.max_secs, bench_opts.out_dir);
    printf("%-36s %10s %-23s %9s %19s %14s\n", "benchmark", "median", " [95% CI of median]",
           "rel.sd", "throughput", "");
    int failed = 0, ran = 0, skipped = 0;
    for (size_t i = 0; i < cases.count; i++) {
        const bench_case *c = cases.items[i];
        int match = nfilters == 0;
        for (size_t f = 0; f < nfilters && !match; f++) {
            size_t fl = strlen(filters[f]);
            if (fl > 0 && filters[f][fl - 1] == '$')
                match = strlen(c->name) == fl - 1 && memcmp(c->name, filters[f], fl - 1) == 0;
            else
                match = strstr(c->name, filters[f]) != NULL;
        }
        if (!match) continue;
        int rc = run_case(c);
        if (rc < 0)
            failed++;
        else if (rc == 1)
            skipped++;
        else
            ran++;
    }
    printf("o2p_bench: %d ran, %d skipped, %d failed\n", ran, skipped, failed);
    mem_free(cases.items);
    if (ran + skipped + failed == 0) {
        fprintf(stderr, "o2p_bench: no case matches the filter (see --list)\n");
        return 2;
    }
    return failed ? 1 : 0;
}
