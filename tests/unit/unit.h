/*
 * unit: the tiny unit-test framework.
 *
 * TEST(name) defines a test and registers it before main runs.  Each test
 * runs in its own forked process with a timeout, so a crash or hang in one
 * case is reported as that case's failure and the others still run.
 * CHECK* macros report the file, line and values, and end the test.
 *
 *   ./build/unit_tests             run everything
 *   ./build/unit_tests pq_thrift   run tests whose name contains the filter
 */
#ifndef O2P_TESTS_UNIT_H
#define O2P_TESTS_UNIT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef void (*unit_fn)(void);
void unit_register(const char *name, const char *file, unit_fn fn);
void unit_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
void unit_fail_mem(const char *file, int line, const char *what, const void *got, size_t got_len,
                   const void *want, size_t want_len) __attribute__((noreturn));
/* Path of a scratch directory private to the running test (created on demand). */
const char *unit_tmpdir(void);

/* A test that polls every 10 ms for another thread's work (a flusher, a
 * server thread) gives up after this many polls: 30 s, far beyond what a
 * loaded machine needs and well inside the 120 s test timeout.  The poll
 * ends as soon as its condition holds, so passing runs are not slower. */
#define UNIT_POLLS_10MS 3000

#define TEST(name)                                                                                 \
    static void name(void);                                                                        \
    __attribute__((constructor)) static void unit_reg_##name(void)                                 \
    {                                                                                              \
        unit_register(#name, __FILE__, name);                                                      \
    }                                                                                              \
    static void name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) unit_fail(__FILE__, __LINE__, "CHECK(%s) failed", #cond);                     \
    } while (0)

#define CHECK_MSG(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) unit_fail(__FILE__, __LINE__, __VA_ARGS__);                                   \
    } while (0)

#define CHECK_INT(got, want)                                                                       \
    do {                                                                                           \
        long long unit_g_ = (long long)(got), unit_w_ = (long long)(want);                         \
        if (unit_g_ != unit_w_)                                                                    \
            unit_fail(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #got, unit_g_, #want, \
                      unit_w_);                                                                    \
    } while (0)

#define CHECK_UINT(got, want)                                                                      \
    do {                                                                                           \
        unsigned long long unit_g_ = (unsigned long long)(got),                                    \
                           unit_w_ = (unsigned long long)(want);                                   \
        if (unit_g_ != unit_w_)                                                                    \
            unit_fail(__FILE__, __LINE__, "%s == %llu, expected %llu", #got, unit_g_, unit_w_);    \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *unit_g_ = (got), *unit_w_ = (want);                                            \
        if (unit_g_ == NULL || strcmp(unit_g_, unit_w_) != 0)                                      \
            unit_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #got,                   \
                      unit_g_ ? unit_g_ : "(null)", unit_w_);                                      \
    } while (0)

/* Compares a byte range with an expected byte sequence. */
#define CHECK_MEM(got, got_len, want, want_len)                                                    \
    do {                                                                                           \
        size_t unit_gl_ = (got_len), unit_wl_ = (want_len);                                        \
        if (unit_gl_ != unit_wl_ || memcmp((got), (want), unit_gl_) != 0)                          \
            unit_fail_mem(__FILE__, __LINE__, #got, (got), unit_gl_, (want), unit_wl_);            \
    } while (0)

/* CHECK_BYTES(ptr, len, 0x01, 0x02, ...) */
#define CHECK_BYTES(got, got_len, ...)                                                             \
    do {                                                                                           \
        static const uint8_t unit_want_[] = {__VA_ARGS__};                                         \
        CHECK_MEM((got), (got_len), unit_want_, sizeof unit_want_);                                \
    } while (0)

#define CHECK_OK(expr)                                                                             \
    do {                                                                                           \
        int unit_rc_ = (expr);                                                                     \
        if (unit_rc_ != 0) unit_fail(__FILE__, __LINE__, "%s returned %d", #expr, unit_rc_);       \
    } while (0)

#endif
