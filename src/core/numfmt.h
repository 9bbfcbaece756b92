/*
 * numfmt: number formatting with the exact spellings the output schema uses.
 *
 * numfmt_double writes the shortest decimal that round-trips to the same
 * double, spelled like ECMAScript's Number::toString: "3", "0.1", "1e+21",
 * "1e-7", "-1.5" (exponent form when the decimal exponent is < -6 or >= 21),
 * "-0" becomes "0", and non-finite values are "NaN", "+Inf", "-Inf".
 */
#ifndef O2P_CORE_NUMFMT_H
#define O2P_CORE_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

#define NUMFMT_DOUBLE_MAX 32
#define NUMFMT_INT_MAX    24

/* Writes NUL-terminated text into out; returns its length. */
size_t numfmt_double(double value, char out[NUMFMT_DOUBLE_MAX]);
size_t numfmt_i64(int64_t value, char out[NUMFMT_INT_MAX]);
size_t numfmt_u64(uint64_t value, char out[NUMFMT_INT_MAX]);

#endif
