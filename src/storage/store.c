/* store: dispatch to the fs or S3 backend, and the shared key check. */
#include "storage/store_impl.h"

#include <string.h>

#include "core/mem.h"

int store_validate_key(const char *key, o2p_error *err)
{
    if (key == NULL || key[0] == '\0')
        return o2p_errorf(err, O2P_EINVAL, "store: empty object key");
    if (key[0] == '/')
        return o2p_errorf(err, O2P_EINVAL, "store: object key '%s' is absolute", key);
    const char *seg = key;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t seg_len = end ? (size_t)(end - seg) : strlen(seg);
        if (seg_len == 0 || (seg_len == 1 && seg[0] == '.') ||
            (seg_len == 2 && seg[0] == '.' && seg[1] == '.'))
            return o2p_errorf(err, O2P_EINVAL,
                              "store: object key '%s' has an empty, '.' or '..' segment", key);
        for (size_t i = 0; i < seg_len; i++)
            if ((unsigned char)seg[i] < 0x20 || seg[i] == 0x7f)
                return o2p_errorf(err, O2P_EINVAL, "store: object key has a control character");
        if (end == NULL) break;
        seg = end + 1;
    }
    return O2P_OK;
}

int store_put(store *s, const char *key, const uint8_t *data, size_t len, o2p_error *err)
{
    O2P_TRY(store_validate_key(key, err));
    return s->ops->put(s, key, data, len, err);
}

int store_exists(store *s, const char *key, o2p_error *err)
{
    O2P_TRY(store_validate_key(key, err));
    return s->ops->exists(s, key, err);
}

int store_check(store *s, o2p_error *err)
{
    return s->ops->check(s, err);
}

const char *store_describe(const store *s)
{
    return s->description;
}

void store_destroy(store *s)
{
    if (s == NULL) return;
    mem_free(s->description);
    s->ops->destroy(s);
}
