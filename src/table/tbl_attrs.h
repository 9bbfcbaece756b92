/*
 * tbl_attrs: a scratch list of key/value strings that becomes one
 * MAP<STRING,STRING> value.
 *
 * Decoders collect a map here (keys and stringified values in received
 * order, copied into the scratch's text or referenced where they lie in the
 * request), call tbl_attrs_finish once (duplicate keys: the last one wins and
 * keeps its position), then emit it into the map's key/value columns — once,
 * or once per row for resource and scope attributes, which repeat on every
 * row of their resource/scope.  The scratch is reused: reset keeps its
 * memory, so the steady state allocates nothing.
 */
#ifndef O2P_TABLE_ATTRS_H
#define O2P_TABLE_ATTRS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "parquet/pq_column.h"

/* A key or value lies at an offset in the scratch's text, or (ref != NULL)
 * outside it, in memory that outlives the scratch's use (a request body). */
typedef struct tbl_kv {
    const uint8_t *key_ref, *val_ref;
    uint32_t key_off, key_len;
    uint32_t val_off, val_len;
    uint32_t dropped; /* 1 when a later item has the same key */
} tbl_kv;

typedef struct tbl_attrs {
    o2p_buf text; /* key and value bytes */
    tbl_kv *items;
    size_t count;
    size_t cap;
    size_t live;          /* items not dropped (after finish) */
    uint32_t *hash_slots; /* duplicate detection for large maps */
    size_t hash_cap;
    int failed; /* sticky O2P_ENOMEM / O2P_ELIMIT */
    /* The live keys and values PLAIN-encoded (u32 length + bytes), built on
     * the second top-level emit: resource and scope maps repeat on every
     * row, and a pre-encoded run appends with one copy per column. */
    o2p_buf enc_keys;
    o2p_buf enc_vals;
    unsigned emits; /* top-level emits since the last reset */
} tbl_attrs;

void tbl_attrs_init(tbl_attrs *a, size_t text_limit);
void tbl_attrs_free(tbl_attrs *a);
void tbl_attrs_reset(tbl_attrs *a);

/* Starts an item with this key; the value's bytes are then appended to
 * a->text (directly, e.g. by a stringifier) and the item is closed with
 * tbl_attrs_value_end. */
void tbl_attrs_key(tbl_attrs *a, const void *key, size_t key_len);
void tbl_attrs_value_end(tbl_attrs *a);
/* Convenience: key and a ready value. */
void tbl_attrs_add(tbl_attrs *a, const void *key, size_t key_len, const void *val, size_t val_len);

/* As tbl_attrs_key / tbl_attrs_add, but the item references the bytes
 * given instead of copying them: they must stay unchanged until the
 * scratch is reset (decoders pass slices of the request body). */
void tbl_attrs_key_ref(tbl_attrs *a, const void *key, size_t key_len);
void tbl_attrs_add_ref(tbl_attrs *a, const void *key, size_t key_len, const void *val,
                       size_t val_len);

/* Marks duplicates (last wins).  Must be called before emit/find. */
void tbl_attrs_finish(tbl_attrs *a);

/* Finds the value of `key` (after finish); returns 1 and sets *val and *val_len, or 0. */
int tbl_attrs_find(const tbl_attrs *a, const char *key, size_t key_len, const uint8_t **val,
                   size_t *val_len);

/*
 * Writes the map into its key column `key_col` and value column key_col + 1.
 * def_present is the key leaf's max_def (1 for a top-level map, 2 inside a
 * list element); rep_first is the repetition level of the map's first entry
 * (0 for a top-level map or the first list element, 1 for later elements);
 * later entries repeat at the key leaf's max_rep.  An empty map writes one
 * entry (def_present - 1, rep_first).
 */
void tbl_attrs_emit(const tbl_attrs *a, pq_column *key_col, uint8_t def_present, uint8_t rep_first);

/* A top-level map that is written on many rows (resource and scope
 * attributes): from the second call on, the map is appended as one
 * pre-encoded run per column.  Same result as tbl_attrs_emit_top. */
void tbl_attrs_emit_repeated(tbl_attrs *a, pq_column *key_col);

/* A top-level map. */
static inline void tbl_attrs_emit_top(const tbl_attrs *a, pq_column *key_col)
{
    tbl_attrs_emit(a, key_col, 1, 0);
}

#endif
