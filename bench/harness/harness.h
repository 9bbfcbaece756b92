/*
 * harness: the benchmark runner behind `make bench` (spec §8).
 *
 * A benchmark is a bench_case: setup builds its input once, run performs one
 * iteration (decode one request, encode one file, ...), teardown frees.  The
 * runner warms the case up, sizes the iterations per sample so one sample
 * takes about --sample-ms, takes --samples timed samples, and reports the
 * per-iteration time as median, mean, standard deviation and a bootstrap
 * 95 % confidence interval of the median, plus throughput (rows/s and MB/s of
 * input) from the median.  Each result is written as JSON with every sample
 * and the environment (CPU, compiler, CFLAGS, git revision, date) so that
 * scripts/bench_compare.py and scripts/bench_report.py can work from files.
 *
 * Cases whose single iteration is longer than a sample (the 1M-record
 * pipeline) run one iteration per sample, and their sample count is cut so
 * the case stays within --max-secs (never below --min-samples): otherwise
 * `make bench` would take many minutes on a 2-core machine.
 */
#ifndef O2P_BENCH_HARNESS_H
#define O2P_BENCH_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

/* What setup learns about one iteration, for throughput and the report. */
typedef struct bench_info {
    double rows_per_iter;      /* records (rows) processed by one iteration */
    double bytes_per_iter;     /* input bytes processed by one iteration */
    double out_bytes_per_iter; /* output bytes (e.g. Parquet) of one iteration; 0 if n/a */
    char params[256];          /* human-readable parameters ("1000 records/request, 8 requests") */
} bench_info;

typedef struct bench_case bench_case;

struct bench_case {
    const char *name;  /* dotted, e.g. "decode.logs.protobuf"; also the result file name */
    const char *suite; /* "decode", "encode", "e2e", "http" */
    const char *description;
    /* Builds the input.  O2P_EUNSUPPORTED with a message = skip the case
     * (e.g. the server binary is missing); any other negative = failure. */
    int (*setup)(const bench_case *c, void **state, bench_info *info, o2p_error *err);
    /* One iteration; unused when measure is set. */
    int (*run)(void *state, o2p_error *err);
    /* Optional: performs `iters` iterations and returns their wall time in
     * seconds (for cases that are not a simple loop, like HTTP load). */
    int (*measure)(void *state, uint64_t iters, double *secs, o2p_error *err);
    /* Optional: called once after warm-up, before the timed samples. */
    void (*begin_samples)(void *state);
    /* Optional: appends extra JSON members (",\"key\":value..." without
     * braces) measured during the samples, e.g. latency percentiles. */
    void (*extra_json)(void *state, o2p_buf *json);
    /* Optional: one extra line for the console summary. */
    void (*extra_text)(void *state, char *line, size_t cap);
    void (*teardown)(void *state);
    /* Lower bound of one sample's duration for this case, seconds (0: the
     * --sample-ms option alone).  Latency percentiles need many requests. */
    double min_sample_secs;
    /* Suite-specific parameters. */
    int param_a;
    int param_b;
    long param_c;
    /* Server settings for cases that start the server: "KEY=VALUE" pairs
     * separated by spaces (e.g. "OTLP2PARQUET_DURABILITY=memory"); NULL = defaults. */
    const char *server_env;
};

/* Options of a run (command line). */
typedef struct bench_options {
    int samples;        /* timed samples per case */
    int min_samples;    /* floor when --max-secs cuts the count */
    double sample_secs; /* target duration of one sample */
    double warmup_secs;
    double max_secs;     /* budget per case for the timed samples */
    const char *out_dir; /* results directory */
    const char *server;  /* path of the otlp2parquet binary (http suite) */
    int http_conns;      /* concurrent keep-alive connections (http suite) */
    int quick;
} bench_options;

extern bench_options bench_opts;

/* Suites register their cases here (one file per suite in bench/suites/). */
const bench_case *suite_decode_cases(size_t *count);
const bench_case *suite_encode_cases(size_t *count);
const bench_case *suite_batch_cases(size_t *count);
const bench_case *suite_e2e_cases(size_t *count);
const bench_case *suite_http_cases(size_t *count);

/* Writes one mixed10 request body (protobuf export request, `records` log
 * records over 10 services) to path (suite_http.c). */
int http_dump_mixed_body(const char *path, int records, o2p_error *err);

/* Monotonic clock in seconds / nanoseconds. */
double bench_now(void);
uint64_t bench_now_ns(void);

/* Statistics over doubles (copies, never reorders the input). */
double stats_median(const double *v, size_t n);
double stats_mean(const double *v, size_t n);
double stats_stddev(const double *v, size_t n);
double stats_percentile(const double *v, size_t n, double p); /* p in [0,100], linear */
/* Bootstrap (resamples, fixed seed) 95 % CI of the median. */
void stats_bootstrap_median_ci(const double *v, size_t n, int resamples, uint64_t seed, double *lo,
                               double *hi);

/* JSON helpers appending to a buffer. */
void json_str(o2p_buf *b, const char *s);
void json_num(o2p_buf *b, double v);

/* The environment object ({...}) for result files. */
void bench_env_json(o2p_buf *b);

#endif
