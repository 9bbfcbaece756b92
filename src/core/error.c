/* error: formatting of the caller-supplied error record (see error.h). */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int o2p_errorf(o2p_error *err, int code, const char *fmt, ...)
{
    if (err == NULL) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

int o2p_error_prefix(o2p_error *err, const char *fmt, ...)
{
    if (err == NULL) return O2P_EINVAL;
    char prefix[O2P_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    if (n < 0) return err->code;
    /* "prefix: old", cut to the record's size */
    char old[O2P_ERROR_MSG_MAX];
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    size_t cap = sizeof err->msg - 1, len = 0;
    const char *parts[3] = {prefix, ": ", old};
    for (int i = 0; i < 3 && len < cap; i++) {
        size_t part = strlen(parts[i]);
        if (part > cap - len) part = cap - len;
        memcpy(err->msg + len, parts[i], part);
        len += part;
    }
    err->msg[len] = '\0';
    return err->code;
}

void o2p_error_clear(o2p_error *err)
{
    if (err == NULL) return;
    err->code = O2P_OK;
    err->msg[0] = '\0';
}

const char *o2p_strerror(int code)
{
    switch (code) {
    case O2P_OK:
        return "ok";
    case O2P_EINVAL:
        return "invalid input";
    case O2P_ENOMEM:
        return "out of memory";
    case O2P_ELIMIT:
        return "limit exceeded";
    case O2P_EIO:
        return "I/O error";
    case O2P_EUNSUPPORTED:
        return "unsupported";
    case O2P_EBUSY:
        return "busy";
    case O2P_ESTATE:
        return "invalid state";
    case O2P_EAUTH:
        return "access denied";
    default:
        return "unknown error";
    }
}
