/*
 * store_impl: the backend table behind store.h, shared by store.c and the
 * backends (store_fs.c, store_s3.c).  Not for other modules.
 */
#ifndef O2P_STORAGE_STORE_IMPL_H
#define O2P_STORAGE_STORE_IMPL_H

#include "storage/store.h"

typedef struct store_ops {
    int (*put)(store *s, const char *key, const uint8_t *data, size_t len, o2p_error *err);
    int (*check)(store *s, o2p_error *err);
    void (*destroy)(store *s);
    int (*exists)(store *s, const char *key, o2p_error *err);
} store_ops;

/* First member of every backend's handle. */
struct store {
    const store_ops *ops;
    char *description; /* mem_* allocated, freed by store_destroy */
};

/* Checks that key is a clean relative path: not empty, no leading '/', no
 * empty, "." or ".." segment, no control characters.  Returns 0 or
 * O2P_EINVAL with a message. */
int store_validate_key(const char *key, o2p_error *err);

#endif
