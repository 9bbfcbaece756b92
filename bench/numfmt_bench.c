/*
 * numfmt_bench: ns per call of numfmt_double on the kinds of values OTLP
 * carries (random bit patterns, short decimals like metric readings, small
 * integers), with snprintf("%.17g") as a yardstick.
 *
 *   build/bench/numfmt_bench [iterations]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/mem.h"
#include "core/numfmt.h"

#define VALUE_COUNT 4096

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* The checksum keeps the compiler from dropping the formatting work. */
static void run(const char *label, const double *values, long iterations)
{
    char out[NUMFMT_DOUBLE_MAX];
    size_t checksum = 0;
    double start = now_ns();
    for (long i = 0; i < iterations; i++) checksum += numfmt_double(values[i % VALUE_COUNT], out);
    double numfmt_ns = (now_ns() - start) / (double)iterations;

    char text[40];
    start = now_ns();
    for (long i = 0; i < iterations; i++)
        checksum += (size_t)snprintf(text, sizeof text, "%.17g", values[i % VALUE_COUNT]);
    double printf_ns = (now_ns() - start) / (double)iterations;

    printf("%-22s numfmt_double %6.1f ns/call   snprintf %%.17g %6.1f ns/call   (%zu)\n", label,
           numfmt_ns, printf_ns, checksum);
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 2000000;
    if (iterations <= 0) iterations = 2000000;
    double *values = mem_alloc(VALUE_COUNT * sizeof *values);
    if (values == NULL) return 1;
    uint64_t state = 1;

    for (int i = 0; i < VALUE_COUNT;) {
        uint64_t bits = splitmix64(&state);
        memcpy(&values[i], &bits, sizeof bits);
        if (values[i] == values[i] && values[i] - values[i] == 0) i++; /* finite only */
    }
    run("random bit patterns", values, iterations);

    for (int i = 0; i < VALUE_COUNT; i++)
        values[i] = (double)(splitmix64(&state) % 100000) / 100.0; /* e.g. 123.45 */
    run("two-decimal readings", values, iterations);

    for (int i = 0; i < VALUE_COUNT; i++) values[i] = (double)(splitmix64(&state) % 1000000);
    run("integers < 1e6", values, iterations);

    mem_free(values);
    return 0;
}
