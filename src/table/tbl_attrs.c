/* tbl_attrs: key/value scratch for MAP<STRING,STRING> columns (see tbl_attrs.h). */
#include "table/tbl_attrs.h"

#include <string.h>

#include "core/mem.h"

/* Above this many items duplicate detection uses a hash table instead of
 * comparing every pair. */
#define ATTRS_LINEAR_MAX 16

void tbl_attrs_init(tbl_attrs *a, size_t text_limit)
{
    memset(a, 0, sizeof *a);
    buf_init(&a->text, text_limit);
    buf_init(&a->enc_keys, 0);
    buf_init(&a->enc_vals, 0);
}

void tbl_attrs_free(tbl_attrs *a)
{
    buf_free(&a->text);
    buf_free(&a->enc_keys);
    buf_free(&a->enc_vals);
    mem_free(a->items);
    mem_free(a->hash_slots);
    memset(a, 0, sizeof *a);
}

void tbl_attrs_reset(tbl_attrs *a)
{
    buf_reset(&a->text);
    a->count = 0;
    a->live = 0;
    a->failed = 0;
    a->emits = 0;
}

static inline const uint8_t *kv_key(const tbl_attrs *a, const tbl_kv *kv)
{
    return kv->key_ref ? kv->key_ref : a->text.data + kv->key_off;
}

static inline const uint8_t *kv_val(const tbl_attrs *a, const tbl_kv *kv)
{
    return kv->val_ref ? kv->val_ref : a->text.data + kv->val_off;
}

static int grow_items(tbl_attrs *a)
{
    size_t cap = a->cap ? a->cap * 2 : 16;
    tbl_kv *items = mem_realloc(a->items, cap * sizeof *items);
    if (items == NULL) {
        a->failed = O2P_ENOMEM;
        return -1;
    }
    a->items = items;
    a->cap = cap;
    return 0;
}

/* A new item (NULL, with a->failed set, when there is no room).  Inline,
 * growth apart: it runs for every attribute of every record. */
static inline tbl_kv *new_item(tbl_attrs *a)
{
    if (a->failed || (a->count == a->cap && grow_items(a) < 0)) return NULL;
    tbl_kv *kv = &a->items[a->count++];
    kv->key_ref = NULL;
    kv->val_ref = NULL;
    kv->dropped = 0;
    kv->val_len = 0;
    return kv;
}

void tbl_attrs_key(tbl_attrs *a, const void *key, size_t key_len)
{
    if (a->failed) return;
    if (a->text.len > UINT32_MAX - key_len) {
        a->failed = O2P_ELIMIT;
        return;
    }
    tbl_kv *kv = new_item(a);
    if (kv == NULL) return;
    kv->key_off = (uint32_t)a->text.len;
    kv->key_len = (uint32_t)key_len;
    int rc = buf_append(&a->text, key, key_len);
    if (rc < 0) a->failed = rc;
    kv->val_off = (uint32_t)a->text.len;
}

void tbl_attrs_key_ref(tbl_attrs *a, const void *key, size_t key_len)
{
    if (a->failed) return;
    if (key_len > UINT32_MAX) {
        a->failed = O2P_ELIMIT;
        return;
    }
    tbl_kv *kv = new_item(a);
    if (kv == NULL) return;
    kv->key_ref = key;
    kv->key_off = 0;
    kv->key_len = (uint32_t)key_len;
    kv->val_off = (uint32_t)a->text.len;
}

void tbl_attrs_add_ref(tbl_attrs *a, const void *key, size_t key_len, const void *val,
                       size_t val_len)
{
    if (a->failed) return;
    if (val_len > UINT32_MAX) {
        a->failed = O2P_ELIMIT;
        return;
    }
    tbl_attrs_key_ref(a, key, key_len);
    if (a->failed) return;
    tbl_kv *kv = &a->items[a->count - 1];
    kv->val_ref = val;
    kv->val_len = (uint32_t)val_len;
}

void tbl_attrs_value_end(tbl_attrs *a)
{
    if (a->failed || a->count == 0) return;
    tbl_kv *kv = &a->items[a->count - 1];
    if (kv->val_ref) return; /* tbl_attrs_add_ref: the value is set */
    if (a->text.len - kv->val_off > UINT32_MAX) {
        a->failed = O2P_ELIMIT;
        return;
    }
    kv->val_len = (uint32_t)(a->text.len - kv->val_off);
}

void tbl_attrs_add(tbl_attrs *a, const void *key, size_t key_len, const void *val, size_t val_len)
{
    tbl_attrs_key(a, key, key_len);
    if (a->failed) return;
    int rc = buf_append(&a->text, val, val_len);
    if (rc < 0) {
        a->failed = rc;
        return;
    }
    tbl_attrs_value_end(a);
}

static int kv_same_key(const tbl_attrs *a, const tbl_kv *x, const tbl_kv *y)
{
    return x->key_len == y->key_len && memcmp(kv_key(a, x), kv_key(a, y), x->key_len) == 0;
}

static uint32_t key_hash(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a: keys are short */
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Walks items from last to first; an item whose key was already seen later
 * is dropped, so the last occurrence wins. */
static void finish_hashed(tbl_attrs *a)
{
    size_t need = 1;
    while (need < a->count * 2) need <<= 1;
    if (need > a->hash_cap) {
        uint32_t *slots = mem_realloc(a->hash_slots, need * sizeof *slots);
        if (slots == NULL) {
            a->failed = O2P_ENOMEM;
            return;
        }
        a->hash_slots = slots;
        a->hash_cap = need;
    }
    memset(a->hash_slots, 0xff, need * sizeof *a->hash_slots);
    for (size_t i = a->count; i-- > 0;) {
        tbl_kv *kv = &a->items[i];
        size_t slot = key_hash(kv_key(a, kv), kv->key_len) & (need - 1);
        for (;;) {
            uint32_t other = a->hash_slots[slot];
            if (other == UINT32_MAX) {
                a->hash_slots[slot] = (uint32_t)i;
                break;
            }
            if (kv_same_key(a, kv, &a->items[other])) {
                kv->dropped = 1;
                break;
            }
            slot = (slot + 1) & (need - 1);
        }
    }
}

void tbl_attrs_finish(tbl_attrs *a)
{
    if (a->failed) return;
    if (a->count > ATTRS_LINEAR_MAX) {
        finish_hashed(a);
    } else {
        for (size_t i = 0; i < a->count; i++)
            for (size_t j = i + 1; j < a->count; j++)
                if (kv_same_key(a, &a->items[i], &a->items[j])) {
                    a->items[i].dropped = 1;
                    break;
                }
    }
    a->live = 0;
    for (size_t i = 0; i < a->count; i++) a->live += !a->items[i].dropped;
    a->emits = 0;
}

/* PLAIN-encodes the live keys and values once for repeated emits. */
static int encode_run(tbl_attrs *a)
{
    buf_reset(&a->enc_keys);
    buf_reset(&a->enc_vals);
    for (size_t i = 0; i < a->count; i++) {
        const tbl_kv *kv = &a->items[i];
        if (kv->dropped) continue;
        if (buf_append(&a->enc_keys, &kv->key_len, 4) < 0 ||
            buf_append(&a->enc_keys, kv_key(a, kv), kv->key_len) < 0 ||
            buf_append(&a->enc_vals, &kv->val_len, 4) < 0 ||
            buf_append(&a->enc_vals, kv_val(a, kv), kv->val_len) < 0)
            return O2P_ENOMEM;
    }
    return O2P_OK;
}

void tbl_attrs_emit_repeated(tbl_attrs *a, pq_column *key_col)
{
    if (a->live == 0 || a->failed || ++a->emits < 2) {
        tbl_attrs_emit(a, key_col, 1, 0);
        return;
    }
    if (a->emits == 2 && encode_run(a) < 0) {
        a->emits = 0; /* no room for the run: keep emitting value by value */
        tbl_attrs_emit(a, key_col, 1, 0);
        return;
    }
    uint8_t rep_next = key_col->leaf->max_rep;
    pq_col_put_plain_run(key_col, a->enc_keys.data, a->enc_keys.len, a->live, 1, 0, rep_next);
    pq_col_put_plain_run(key_col + 1, a->enc_vals.data, a->enc_vals.len, a->live, 1, 0, rep_next);
}

int tbl_attrs_find(const tbl_attrs *a, const char *key, size_t key_len, const uint8_t **val,
                   size_t *val_len)
{
    for (size_t i = a->count; i-- > 0;) {
        const tbl_kv *kv = &a->items[i];
        if (kv->key_len == key_len && memcmp(kv_key(a, kv), key, key_len) == 0) {
            *val = kv_val(a, kv);
            *val_len = kv->val_len;
            return 1;
        }
    }
    return 0;
}

void tbl_attrs_emit(const tbl_attrs *a, pq_column *key_col, uint8_t def_present, uint8_t rep_first)
{
    pq_column *val_col = key_col + 1;
    if (a->live == 0) {
        pq_col_put_null(key_col, (uint8_t)(def_present - 1), rep_first);
        pq_col_put_null(val_col, (uint8_t)(def_present - 1), rep_first);
        return;
    }
    uint8_t rep_next = key_col->leaf->max_rep;
    uint8_t rep = rep_first;
    for (size_t i = 0; i < a->count; i++) {
        const tbl_kv *kv = &a->items[i];
        if (kv->dropped) continue;
        pq_col_put_bytes(key_col, kv_key(a, kv), kv->key_len, def_present, rep);
        pq_col_put_bytes(val_col, kv_val(a, kv), kv->val_len, def_present, rep);
        rep = rep_next;
    }
}
