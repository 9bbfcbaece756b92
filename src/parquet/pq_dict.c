/* pq_dict: per-chunk hash dictionary (see pq_dict.h). */
#include "parquet/pq_dict.h"

#include <string.h>

#include "core/error.h"
#include "core/mem.h"

#define INITIAL_SLOTS 1024u
/* slots (of 8 bytes) from which pq_dict_encode prefetches */
#define PREFETCH_MIN_SLOTS 8192u
/* values whose slots pq_dict_encode prefetches ahead of a probe */
#define AHEAD 4u

void pq_dict_init(pq_dict *d, size_t width)
{
    memset(d, 0, sizeof *d);
    buf_init(&d->values, 0);
    d->width = width;
}

void pq_dict_reset(pq_dict *d, size_t width)
{
    buf_reset(&d->values);
    d->width = width;
    if (d->slots) {
        size_t nslots = d->slot_mask + 1;
        if (d->count * 8 < nslots) {
            for (size_t i = 0; i < d->count; i++) d->slots[d->slot_of[i]].entry = 0;
        } else {
            memset(d->slots, 0, nslots * sizeof *d->slots);
        }
    }
    d->count = 0;
}

void pq_dict_free(pq_dict *d)
{
    buf_free(&d->values);
    mem_free(d->offsets);
    mem_free(d->succ);
    mem_free(d->slots);
    mem_free(d->slot_of);
    memset(d, 0, sizeof *d);
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

/* n bytes at a and b equal?  Inline for short values (most keys and
 * enum-like values are under 16 bytes), where a call to memcmp costs more
 * than the comparison: two overlapping 8-byte loads cover 8..16 bytes. */
static inline int bytes_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n >= 8) {
        if (load64(a) != load64(b)) return 0;
        if (n <= 16) return load64(a + n - 8) == load64(b + n - 8);
        return memcmp(a + 8, b + 8, n - 8) == 0;
    }
    if (n >= 4) {
        uint32_t x, y, x2, y2;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        memcpy(&x2, a + n - 4, 4);
        memcpy(&y2, b + n - 4, 4);
        return x == y && x2 == y2;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static inline uint32_t finish_hash(uint64_t h)
{
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

/* Word-at-a-time multiply/rotate hash; quality is ample for a table that
 * confirms every hit with a byte comparison. */
static uint32_t hash_bytes(const uint8_t *p, size_t len)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (len * 0xc2b2ae3d27d4eb4full);
    size_t n = len;
    while (n >= 8) {
        h = rotl64(h ^ (load64(p) * 0xc2b2ae3d27d4eb4full), 31) * 0x9e3779b97f4a7c15ull;
        p += 8;
        n -= 8;
    }
    if (n > 0) {
        /* the last 1..7 bytes without a variable-length copy (a call):
         * the value's last 8 bytes shifted, or overlapping 4-byte loads, or
         * first, middle and last byte — each covers every byte */
        uint64_t w;
        if (len >= 8) {
            w = load64(p + n - 8) >> (8 * (8 - n));
        } else if (n >= 4) {
            uint32_t x, x2;
            memcpy(&x, p, 4);
            memcpy(&x2, p + n - 4, 4);
            w = x | (uint64_t)x2 << 32;
        } else {
            w = p[0] | (uint64_t)p[n / 2] << 8 | (uint64_t)p[n - 1] << 16;
        }
        h = rotl64(h ^ (w * 0xc2b2ae3d27d4eb4full), 31) * 0x9e3779b97f4a7c15ull;
    }
    return finish_hash(h);
}

static inline uint32_t hash_u64(uint64_t v)
{
    return finish_hash(v * 0x9e3779b97f4a7c15ull);
}

static inline uint32_t hash_value(const pq_dict *d, const uint8_t *v, size_t len)
{
    if (d->width == 8) return hash_u64(load64(v));
    if (d->width == 4) {
        uint32_t x;
        memcpy(&x, v, 4);
        return hash_u64(x);
    }
    return hash_bytes(v, len);
}

static const uint8_t *entry_bytes(const pq_dict *d, uint32_t i, size_t *len)
{
    if (d->width) {
        *len = d->width;
        return d->values.data + (size_t)i * d->width;
    }
    const uint8_t *p = d->values.data + d->offsets[i];
    uint32_t n;
    memcpy(&n, p, 4);
    *len = n;
    return p + 4;
}

const uint8_t *pq_dict_entry(const pq_dict *d, uint32_t i, size_t *len)
{
    return entry_bytes(d, i, len);
}

static int grow_slots(pq_dict *d)
{
    size_t nslots = d->slots ? (d->slot_mask + 1) * 2 : INITIAL_SLOTS;
    pq_dict_slot *slots = mem_calloc(nslots, sizeof *slots);
    if (slots == NULL) return O2P_ENOMEM;
    size_t mask = nslots - 1;
    if (d->slots) {
        for (size_t i = 0; i <= d->slot_mask; i++) {
            pq_dict_slot s = d->slots[i];
            if (s.entry == 0) continue;
            size_t k = s.hash & mask;
            while (slots[k].entry != 0) k = (k + 1) & mask;
            slots[k] = s;
            d->slot_of[s.entry - 1] = (uint32_t)k;
        }
        mem_free(d->slots);
    }
    d->slots = slots;
    d->slot_mask = mask;
    return O2P_OK;
}

static int add_entry(pq_dict *d, const uint8_t *v, size_t len, size_t slot, uint32_t hash)
{
    if (d->count >= UINT32_MAX - 1) return O2P_ELIMIT;
    if (d->count == d->slot_of_cap) {
        size_t cap = d->slot_of_cap ? d->slot_of_cap * 2 : 256;
        uint32_t *slot_of = mem_realloc(d->slot_of, cap * sizeof *slot_of);
        if (slot_of == NULL) return O2P_ENOMEM;
        d->slot_of = slot_of;
        d->slot_of_cap = cap;
    }
    if (d->width == 0) {
        if (len > UINT32_MAX) return O2P_ELIMIT;
        if (d->count == d->offsets_cap) {
            size_t cap = d->offsets_cap ? d->offsets_cap * 2 : 256;
            size_t *offsets = mem_realloc(d->offsets, cap * sizeof *offsets);
            if (offsets == NULL) return O2P_ENOMEM;
            d->offsets = offsets;
            uint32_t *succ = mem_realloc(d->succ, cap * sizeof *succ);
            if (succ == NULL) return O2P_ENOMEM;
            d->succ = succ;
            d->offsets_cap = cap;
        }
        uint8_t *dst = buf_extend(&d->values, 4 + len);
        if (dst == NULL) return O2P_ENOMEM;
        uint32_t n32 = (uint32_t)len;
        memcpy(dst, &n32, 4);
        memcpy(dst + 4, v, len);
        d->offsets[d->count] = d->values.len - 4 - len;
        d->succ[d->count] = UINT32_MAX;
    } else if (buf_append(&d->values, v, len) < 0) {
        return O2P_ENOMEM;
    }
    d->slots[slot].hash = hash;
    d->slot_of[d->count] = (uint32_t)slot;
    d->slots[slot].entry = (uint32_t)++d->count;
    return O2P_OK;
}

/* Keeps the load factor at or below 1/2 so probe sequences stay short. */
static inline int ensure_room(pq_dict *d)
{
    if (d->slots == NULL || (d->count + 1) * 2 > d->slot_mask + 1) return grow_slots(d);
    return O2P_OK;
}

/* The entry of v (added when new), whose hash_value is h. */
static inline __attribute__((always_inline)) int
lookup_hashed(pq_dict *d, const uint8_t *v, size_t len, uint32_t h, uint32_t *entry)
{
    int rc = ensure_room(d);
    if (rc < 0) return rc;
    size_t k = h & d->slot_mask;
    for (;;) {
        pq_dict_slot s = d->slots[k];
        if (s.entry == 0) break;
        if (s.hash == h) {
            size_t elen;
            const uint8_t *e = entry_bytes(d, s.entry - 1, &elen);
            if (elen == len && bytes_equal(e, v, len)) {
                *entry = s.entry - 1;
                return O2P_OK;
            }
        }
        k = (k + 1) & d->slot_mask;
    }
    rc = add_entry(d, v, len, k, h);
    if (rc < 0) return rc;
    *entry = (uint32_t)(d->count - 1);
    return O2P_OK;
}

static inline __attribute__((always_inline)) int lookup(pq_dict *d, const uint8_t *v, size_t len,
                                                        uint32_t *entry)
{
    return lookup_hashed(d, v, len, hash_value(d, v, len), entry);
}

int pq_dict_insert(pq_dict *d, const void *value, size_t len, uint32_t *entry)
{
    if (d->width != 0 && len != d->width) return O2P_EINVAL;
    return lookup(d, value, len, entry);
}

int pq_dict_encode(pq_dict *d, const uint8_t *plain, size_t count, uint32_t *entries,
                   size_t byte_limit)
{
    const uint8_t *p = plain;
    int rc = O2P_OK;
    if (d->width == 8) {
        for (size_t i = 0; i < count; i++, p += 8) {
            if ((rc = lookup(d, p, 8, &entries[i])) < 0) break;
            if (d->values.len > byte_limit) {
                rc = O2P_ELIMIT;
                break;
            }
        }
    } else if (d->width == 4) {
        for (size_t i = 0; i < count; i++, p += 4) {
            if ((rc = lookup(d, p, 4, &entries[i])) < 0) break;
            if (d->values.len > byte_limit) {
                rc = O2P_ELIMIT;
                break;
            }
        }
    } else if (d->width) {
        for (size_t i = 0; i < count; i++, p += d->width) {
            if ((rc = lookup(d, p, d->width, &entries[i])) < 0) break;
            if (d->values.len > byte_limit) {
                rc = O2P_ELIMIT;
                break;
            }
        }
    } else {
        /* Values often come in recurring sequences (the keys of an
         * attribute map, a resource's values on every row): guess that a
         * value is the one that followed the previous value last time, and
         * hash only when the guess is wrong. */
        uint32_t prev = UINT32_MAX;
        /* When a value needed the hash table, the next ones probably will
         * too (unique ids, numbers): the hashes of the next AHEAD values
         * are computed and their slots prefetched before this value's
         * probe, so the cache misses of several probes overlap.  Only for
         * tables too large to stay in the L1 cache: in a small one the
         * extra hashes cost more than the misses.  (Slot index with the
         * current mask; a later growth only makes a prefetch useless.)
         * The values after value i and before ahead_to (read from
         * ahead_p) have their hash in ahead_hash. */
        uint32_t ahead_hash[AHEAD];
        size_t ahead_to = 0;
        const uint8_t *ahead_p = p;
        for (size_t i = 0; i < count; i++) {
            uint32_t n;
            memcpy(&n, p, 4);
            const uint8_t *v = p + 4;
            p += 4 + (size_t)n;
            if (prev != UINT32_MAX) {
                uint32_t guess = d->succ[prev];
                if (guess != UINT32_MAX) {
                    const uint8_t *e = d->values.data + d->offsets[guess];
                    uint32_t elen;
                    memcpy(&elen, e, 4);
                    if (elen == n && bytes_equal(e + 4, v, n)) {
                        entries[i] = prev = guess;
                        continue;
                    }
                }
            }
            uint32_t h;
            if (i < ahead_to) {
                h = ahead_hash[i % AHEAD];
            } else {
                h = hash_bytes(v, n);
                ahead_to = i + 1;
                ahead_p = p;
            }
            if (d->slot_mask >= PREFETCH_MIN_SLOTS - 1) {
                size_t end = i + 1 + AHEAD < count ? i + 1 + AHEAD : count;
                for (; ahead_to < end; ahead_to++) {
                    uint32_t n2;
                    memcpy(&n2, ahead_p, 4);
                    uint32_t h2 = hash_bytes(ahead_p + 4, n2);
                    ahead_p += 4 + (size_t)n2;
                    ahead_hash[ahead_to % AHEAD] = h2;
                    __builtin_prefetch(&d->slots[h2 & d->slot_mask]);
                }
            }
            if ((rc = lookup_hashed(d, v, n, h, &entries[i])) < 0) break;
            if (prev != UINT32_MAX) d->succ[prev] = entries[i];
            prev = entries[i];
            if (d->values.len > byte_limit) {
                rc = O2P_ELIMIT;
                break;
            }
        }
    }
    return rc;
}
