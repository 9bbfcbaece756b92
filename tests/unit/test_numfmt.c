/* Unit tests for numfmt: ECMAScript-exact double spelling and integers.
 *
 * The expected strings in DOUBLE_CASES were produced by node's String(x)
 * for the expression in each comment, not by this code. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/numfmt.h"
#include "unit.h"

typedef struct double_case {
    uint64_t bits; /* the double, as IEEE-754 bits so no parsing is involved */
    const char *text;
} double_case;

static const double_case DOUBLE_CASES[] = {
    {UINT64_C(0x3fb999999999999a), "0.1"},                     /* 0.1 */
    {UINT64_C(0x3fd5555555555555), "0.3333333333333333"},      /* 1/3 */
    {UINT64_C(0x3fe5555555555555), "0.6666666666666666"},      /* 2/3 */
    {UINT64_C(0x0000000000000001), "5e-324"},                  /* 5e-324 */
    {UINT64_C(0x7fefffffffffffff), "1.7976931348623157e+308"}, /* 1.7976931348623157e308 */
    {UINT64_C(0x444b1ae4d6e2ef50), "1e+21"},                   /* 1e21 */
    {UINT64_C(0x4415af1d78b58c40), "100000000000000000000"},   /* 1e20 */
    {UINT64_C(0x3c36b082c2148b8e), "1.23e-18"},                /* 123e-20 */
    {UINT64_C(0x3eb0c6f7a0b5ed8d), "0.000001"},                /* 0.000001 */
    {UINT64_C(0x3e7ad7f29abcaf48), "1e-7"},                    /* 0.0000001 */
    {UINT64_C(0x4059000000000000), "100"},                     /* 100 */
    {UINT64_C(0xbff8000000000000), "-1.5"},                    /* -1.5 */
    {UINT64_C(0x4340000000000000), "9007199254740992"},        /* 2**53 */
    {UINT64_C(0x4340000000000001), "9007199254740994"},        /* 2**53+2 */
    {UINT64_C(0x4011666666666666), "4.35"},                    /* 4.35 */
    {UINT64_C(0x3fd3333333333333), "0.3"},                     /* 0.3 */
    {UINT64_C(0x3ff0000000000000), "1"},                       /* 1 */
    {UINT64_C(0xbff0000000000000), "-1"},                      /* -1 */
    {UINT64_C(0x4008000000000000), "3"},                       /* 3 */
    {UINT64_C(0x3fc999999999999a), "0.2"},                     /* 0.2 */
    {UINT64_C(0x3fd3333333333334), "0.30000000000000004"},     /* 0.1+0.2 */
    {UINT64_C(0x3ff8000000000000), "1.5"},                     /* 1.5 */
    {UINT64_C(0x405edd2f1a9fbe77), "123.456"},                 /* 123.456 */
    {UINT64_C(0xc05edd2f1a9fbe77), "-123.456"},                /* -123.456 */
    {UINT64_C(0x3eb0c6f7a0b5ed8d), "0.000001"},                /* 1e-6 */
    {UINT64_C(0x3e8421f5f40d8376), "1.5e-7"},                  /* 1.5e-7 */
    {UINT64_C(0x3e7ad7f29abcaf48), "1e-7"},                    /* 1e-7 */
    {UINT64_C(0x444b1ae4d6e2ef4f), "999999999999999900000"},   /* 9.999999999999999e20 */
    {UINT64_C(0x444b1ae4d6e2ef4f), "999999999999999900000"},   /* 999999999999999900000 */
    {UINT64_C(0x441ac53a7e04bcda), "123456789012345680000"},   /* 1.2345678901234568e20 */
    {UINT64_C(0x4480f0cf064dd592), "1e+22"},                   /* 1e22 */
    {UINT64_C(0x7e41eb2d66005835), "1.5e+300"},                /* 1.5e300 */
    {UINT64_C(0x81a56e1fc2f8f359), "-1e-300"},                 /* -1e-300 */
    {UINT64_C(0x0010000000000000), "2.2250738585072014e-308"}, /* 2.2250738585072014e-308 */
    {UINT64_C(0x000fffffffffffff), "2.225073858507201e-308"},  /* 2.225073858507201e-308 */
    {UINT64_C(0x0000000000000001), "5e-324"},                  /* 4.9406564584124654e-324 */
    {UINT64_C(0x0000000000000002), "1e-323"},                  /* 1e-323 */
    {UINT64_C(0x0000000000000003), "1.5e-323"},                /* 2**-1074*3 */
    {UINT64_C(0x433fffffffffffff), "9007199254740991"},        /* Number.MAX_SAFE_INTEGER */
    {UINT64_C(0xc33fffffffffffff), "-9007199254740991"},       /* -Number.MAX_SAFE_INTEGER */
    {UINT64_C(0x43e0000000000000), "9223372036854776000"},     /* 2**63 */
    {UINT64_C(0x43f0000000000000), "18446744073709552000"},    /* 2**64 */
    {UINT64_C(0x0010000000000000), "2.2250738585072014e-308"}, /* 2**-1022 */
    {UINT64_C(0x7fe0000000000000), "8.98846567431158e+307"},   /* 2**1023 */
    {UINT64_C(0x3cb0000000000000), "2.220446049250313e-16"},   /* Number.EPSILON */
    {UINT64_C(0x400921fb54442d18), "3.141592653589793"},       /* Math.PI */
    {UINT64_C(0x4005bf0a8b145769), "2.718281828459045"},       /* Math.E */
    {UINT64_C(0xc21d4223fc1f977b), "-31415926535.89793"},      /* -Math.PI*1e10 */
    {UINT64_C(0x430c6bf526340000), "1000000000000000"},        /* 1e15 */
    {UINT64_C(0x4341c37937e08000), "10000000000000000"},       /* 1e16 */
    {UINT64_C(0x4376345785d8a000), "100000000000000000"},      /* 1e17 */
    {UINT64_C(0x437b69b4ba630f35), "123456789012345680"},      /* 123456789012345678 */
    {UINT64_C(0x3f201f31f46ed246), "0.000123"},                /* 0.000123 */
    {UINT64_C(0x3ee9e0fcaf9380fc), "0.00001234"},              /* 0.00001234 */
    {UINT64_C(0x3ee4f8b588e368f1), "0.00001"},                 /* 1e-5 */
    {UINT64_C(0x3e8091f15233c21c), "1.2345678e-7"},            /* 12345.678e-11 */
    {UINT64_C(0x3ea0c6f7a0b5ed8d), "5e-7"},                    /* 5e-7 */
    {UINT64_C(0x7fd5555555555555), "5.992310449541053e+307"},  /* 1.7976931348623157e308/3 */
    {UINT64_C(0x4340000000000000), "9007199254740992"},        /* 9007199254740993 */
    {UINT64_C(0x3fc2492492492492), "0.14285714285714285"},     /* 1/7 */
    {UINT64_C(0x4040aaaaaaaaaaab), "33.333333333333336"},      /* 100/3 */
    {UINT64_C(0x44b52d02c7e14af6), "1e+23"},                   /* 1e23 */
    {UINT64_C(0x00005c0ab9347ed7), "5e-310"},                  /* 5e-310 */
    {UINT64_C(0x3ee9cb8320b15070), "0.0000123"},               /* 1.23e-5 */
    {UINT64_C(0x3fe0000000000000), "0.5"},                     /* 0.5 */
    {UINT64_C(0x3fd0000000000000), "0.25"},                    /* 0.25 */
    {UINT64_C(0x3fc0000000000000), "0.125"},                   /* 0.125 */
    {UINT64_C(0x7e6ddd4baa009303), "1e+301"},                  /* 1e300*10 */
    {UINT64_C(0x4045000000000000), "42"},                      /* 42 */
    {UINT64_C(0x4132d68700000000), "1234567"},                 /* 1234567 */
    {UINT64_C(0x412e848000000000), "1000000"},                 /* 1e6 */
    {UINT64_C(0x444b1ae4d6e2ef4f), "999999999999999900000"},   /* 1.0e21-65536*2 */
    {UINT64_C(0x4440000000000000), "590295810358705700000"},   /* 2**69 */
    {UINT64_C(0x000012688b70e62b), "1e-310"},                  /* 1e-300*1e-10 */
    {UINT64_C(0x3fd3333333333334), "0.30000000000000004"},     /* 0.1*3 */
    {UINT64_C(0x3fefffffffffffff), "0.9999999999999999"},      /* 1-2**-53 */
    {UINT64_C(0x3ff0000000000001), "1.0000000000000002"},      /* 1+2**-52 */
    {UINT64_C(0x4008000000000001), "3.0000000000000004"},      /* 3.0000000000000004 */
};

static double from_bits(uint64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

TEST(numfmt_double_matches_ecmascript)
{
    for (size_t i = 0; i < sizeof DOUBLE_CASES / sizeof DOUBLE_CASES[0]; i++) {
        char out[NUMFMT_DOUBLE_MAX];
        size_t len = numfmt_double(from_bits(DOUBLE_CASES[i].bits), out);
        CHECK_STR(out, DOUBLE_CASES[i].text);
        CHECK_INT(len, strlen(DOUBLE_CASES[i].text));
    }
}

TEST(numfmt_double_zero_and_non_finite)
{
    char out[NUMFMT_DOUBLE_MAX];
    CHECK_INT(numfmt_double(0.0, out), 1);
    CHECK_STR(out, "0");
    CHECK_INT(numfmt_double(-0.0, out), 1);
    CHECK_STR(out, "0");
    CHECK_INT(numfmt_double(NAN, out), 3);
    CHECK_STR(out, "NaN");
    CHECK_INT(numfmt_double(-NAN, out), 3);
    CHECK_STR(out, "NaN");
    CHECK_INT(numfmt_double(INFINITY, out), 4);
    CHECK_STR(out, "+Inf");
    CHECK_INT(numfmt_double(-INFINITY, out), 4);
    CHECK_STR(out, "-Inf");
}

/* Exponent-form boundaries of Number::toString: decimal point position n
 * in (-6, 21] is written positionally. */
TEST(numfmt_double_layout_boundaries)
{
    static const struct {
        double value;
        const char *text;
    } cases[] = {
        {1e-6, "0.000001"},
        {1.5e-6, "0.0000015"},
        {9.5e-7, "9.5e-7"},
        {1e20, "100000000000000000000"},
        {1.5e20, "150000000000000000000"},
        {1e21, "1e+21"},
        {1.5e21, "1.5e+21"},
        {-1e21, "-1e+21"},
        {0.5, "0.5"},
        {12.5, "12.5"},
        {-0.000001, "-0.000001"},
        {1e100, "1e+100"},
        {1.25e-100, "1.25e-100"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[NUMFMT_DOUBLE_MAX];
        numfmt_double(cases[i].value, out);
        CHECK_STR(out, cases[i].text);
    }
}

/* Significant digits in numfmt output ("1.25e-7" -> "125"), without the
 * positional zeros of forms like "0.00012" or "1200". */
static size_t significant_digits(const char *text, char *digits)
{
    size_t n = 0;
    for (const char *p = text; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && (n > 0 || *p != '0')) digits[n++] = *p;
    while (n > 0 && digits[n - 1] == '0') n--;
    digits[n] = '\0';
    return n;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* True when some decimal with `ndigits` significant digits reads back as v:
 * only the two such decimals either side of v can, and "%.*e" gives the
 * nearer one, so that one and its neighbours cover them. */
static int shorter_round_trips(double v, int ndigits)
{
    char text[64];
    snprintf(text, sizeof text, "%.*e", ndigits - 1, fabs(v));
    char *e = strchr(text, 'e');
    int exp10 = atoi(e + 1) - (ndigits - 1);
    long long mantissa = 0;
    for (char *p = text; p < e; p++)
        if (*p != '.') mantissa = mantissa * 10 + (*p - '0');
    for (long long delta = -1; delta <= 1; delta++) {
        char candidate[64];
        snprintf(candidate, sizeof candidate, "%llde%d", mantissa + delta, exp10);
        if (strtod(candidate, NULL) == fabs(v)) return 1;
    }
    return 0;
}

TEST(numfmt_double_random_round_trip_and_shortest)
{
    uint64_t state = 20240601;
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = splitmix64(&state);
        double v = from_bits(bits);
        if (!isfinite(v)) continue;
        char out[NUMFMT_DOUBLE_MAX];
        size_t len = numfmt_double(v, out);
        CHECK(len < NUMFMT_DOUBLE_MAX);
        CHECK_INT(len, strlen(out));
        double back = strtod(out, NULL);
        CHECK_MSG(back == v, "%s does not read back as %a", out, v);
        char digits[32];
        int ndigits = (int)significant_digits(out, digits);
        CHECK(ndigits >= 1 && ndigits <= 17);
        if (ndigits > 1)
            CHECK_MSG(!shorter_round_trips(v, ndigits - 1),
                      "%s (%a) has a %d-digit form that reads back", out, v, ndigits - 1);
    }
}

/* Doubles that are integers below 2^53 take a separate path: every one of
 * them prints exactly as the integer. */
TEST(numfmt_double_integers)
{
    uint64_t state = 7;
    for (int i = 0; i < 20000; i++) {
        int64_t n = (int64_t)(splitmix64(&state) >> (11 + i % 53));
        if (i % 2) n = -n;
        char want[NUMFMT_INT_MAX], got[NUMFMT_DOUBLE_MAX];
        snprintf(want, sizeof want, "%lld", (long long)n);
        numfmt_double((double)n, got);
        CHECK_STR(got, n == 0 ? "0" : want);
    }
}

TEST(numfmt_i64_u64)
{
    char out[NUMFMT_INT_MAX];
    CHECK_INT(numfmt_i64(0, out), 1);
    CHECK_STR(out, "0");
    CHECK_INT(numfmt_i64(-1, out), 2);
    CHECK_STR(out, "-1");
    numfmt_i64(9, out);
    CHECK_STR(out, "9");
    numfmt_i64(10, out);
    CHECK_STR(out, "10");
    numfmt_i64(99, out);
    CHECK_STR(out, "99");
    numfmt_i64(100, out);
    CHECK_STR(out, "100");
    numfmt_i64(-1000000007, out);
    CHECK_STR(out, "-1000000007");
    CHECK_INT(numfmt_i64(INT64_MAX, out), 19);
    CHECK_STR(out, "9223372036854775807");
    CHECK_INT(numfmt_i64(INT64_MIN, out), 20);
    CHECK_STR(out, "-9223372036854775808");
    CHECK_INT(numfmt_u64(UINT64_MAX, out), 20);
    CHECK_STR(out, "18446744073709551615");
    numfmt_u64(0, out);
    CHECK_STR(out, "0");

    uint64_t state = 99;
    for (int i = 0; i < 10000; i++) {
        uint64_t u = splitmix64(&state) >> (i % 64);
        char want[32];
        snprintf(want, sizeof want, "%llu", (unsigned long long)u);
        CHECK_INT(numfmt_u64(u, out), strlen(want));
        CHECK_STR(out, want);
        int64_t s = (int64_t)u;
        snprintf(want, sizeof want, "%lld", (long long)s);
        CHECK_INT(numfmt_i64(s, out), strlen(want));
        CHECK_STR(out, want);
    }
}
