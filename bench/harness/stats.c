/*
 * stats: the few statistics the harness reports.  The confidence interval
 * of the median is a percentile bootstrap because sample times are skewed
 * (a noisy machine only ever makes samples slower), so a normal-theory
 * interval around the mean would be misleading.  The bootstrap seed is fixed
 * so the same samples always give the same interval.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "core/mem.h"

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double *sorted_copy(const double *v, size_t n)
{
    double *c = mem_alloc(n * sizeof *c + 1);
    if (c == NULL) return NULL;
    memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_double);
    return c;
}

static double median_sorted(const double *s, size_t n)
{
    if (n == 0) return NAN;
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
}

double stats_median(const double *v, size_t n)
{
    double *s = sorted_copy(v, n);
    if (s == NULL) return NAN;
    double m = median_sorted(s, n);
    mem_free(s);
    return m;
}

double stats_mean(const double *v, size_t n)
{
    if (n == 0) return NAN;
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += v[i];
    return sum / (double)n;
}

double stats_stddev(const double *v, size_t n)
{
    if (n < 2) return 0;
    double m = stats_mean(v, n), ss = 0;
    for (size_t i = 0; i < n; i++) ss += (v[i] - m) * (v[i] - m);
    return sqrt(ss / (double)(n - 1));
}

static double percentile_sorted(const double *s, size_t n, double p)
{
    if (n == 0) return NAN;
    double pos = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(pos);
    size_t hi = lo + 1 < n ? lo + 1 : lo;
    double frac = pos - (double)lo;
    return s[lo] + (s[hi] - s[lo]) * frac;
}

double stats_percentile(const double *v, size_t n, double p)
{
    double *s = sorted_copy(v, n);
    if (s == NULL) return NAN;
    double r = percentile_sorted(s, n, p);
    mem_free(s);
    return r;
}

static uint64_t splitmix(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void stats_bootstrap_median_ci(const double *v, size_t n, int resamples, uint64_t seed, double *lo,
                               double *hi)
{
    *lo = *hi = NAN;
    if (n == 0 || resamples <= 0) return;
    double *meds = mem_alloc((size_t)resamples * sizeof *meds);
    double *draw = mem_alloc(n * sizeof *draw);
    if (meds == NULL || draw == NULL) {
        mem_free(meds);
        mem_free(draw);
        return;
    }
    uint64_t st = seed;
    for (int r = 0; r < resamples; r++) {
        for (size_t i = 0; i < n; i++) draw[i] = v[splitmix(&st) % n];
        qsort(draw, n, sizeof *draw, cmp_double);
        meds[r] = median_sorted(draw, n);
    }
    qsort(meds, (size_t)resamples, sizeof *meds, cmp_double);
    *lo = percentile_sorted(meds, (size_t)resamples, 2.5);
    *hi = percentile_sorted(meds, (size_t)resamples, 97.5);
    mem_free(meds);
    mem_free(draw);
}
