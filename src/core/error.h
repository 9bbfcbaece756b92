/*
 * error: status codes and the caller-supplied error record.
 *
 * Every fallible function returns an int status (O2P_OK == 0, negative on
 * failure) and, when given a non-NULL o2p_error, writes a message a user can
 * act on ("logs: resourceLogs[2]...traceId: expected 32 hex digits").  The
 * record lives in the caller's memory; nothing here allocates.
 */
#ifndef O2P_CORE_ERROR_H
#define O2P_CORE_ERROR_H

#include <stddef.h>

enum {
    O2P_OK = 0,
    O2P_EINVAL = -1,       /* malformed or invalid input (HTTP 400) */
    O2P_ENOMEM = -2,       /* allocation failed or memory budget exceeded */
    O2P_ELIMIT = -3,       /* a size or depth limit was exceeded (HTTP 413) */
    O2P_EIO = -4,          /* storage or system I/O failure (retryable) */
    O2P_EUNSUPPORTED = -5, /* unsupported type, encoding or codec (HTTP 415) */
    O2P_EBUSY = -6,        /* temporarily unable; retry later (HTTP 429/503) */
    O2P_ESTATE = -7,       /* API misuse: call in the wrong state */
    O2P_EAUTH = -8         /* credentials rejected (not retryable) */
};

#define O2P_ERROR_MSG_MAX 512

typedef struct o2p_error {
    int code;
    char msg[O2P_ERROR_MSG_MAX];
} o2p_error;

/* Formats msg into err (if non-NULL), sets err->code, returns code. */
int o2p_errorf(o2p_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prepends "prefix: " to an existing message (used to add context as an
 * error travels up).  Returns err->code (or O2P_EINVAL when err is NULL). */
int o2p_error_prefix(o2p_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Clears the record. */
void o2p_error_clear(o2p_error *err);

/* Short name of a status code ("invalid input", "out of memory", ...). */
const char *o2p_strerror(int code);

/* Propagate a failing status in one line. */
#define O2P_TRY(expr)                                                                              \
    do {                                                                                           \
        int o2p_try_rc_ = (expr);                                                                  \
        if (o2p_try_rc_ < 0) return o2p_try_rc_;                                                   \
    } while (0)

#endif
