/* Unit tests for src/parquet/pq_radix: the radix sort orders like a stable
 * comparison sort, payloads travel with their keys, skipped bytes. */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "parquet/pq_radix.h"
#include "unit.h"

typedef struct {
    uint64_t key;
    uint32_t val;
} kv;

static int cmp_kv(const void *pa, const void *pb)
{
    const kv *a = pa, *b = pb;
    if (a->key != b->key) return a->key < b->key ? -1 : 1;
    return a->val < b->val ? -1 : a->val > b->val; /* vals are arrival order */
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* n keys drawn by make(i, rand), sorted both ways and compared. */
static void check_against_qsort(size_t n, int shape)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull + (uint64_t)shape;
    uint64_t *keys = mem_alloc((n ? n : 1) * sizeof *keys);
    uint64_t *tk = mem_alloc((n ? n : 1) * sizeof *tk);
    uint32_t *vals = mem_alloc((n ? n : 1) * sizeof *vals);
    uint32_t *tv = mem_alloc((n ? n : 1) * sizeof *tv);
    kv *ref = mem_alloc((n ? n : 1) * sizeof *ref);
    CHECK(keys && tk && vals && tv && ref);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = next_rand(&seed);
        uint64_t k = shape == 0   ? r                                  /* any bytes */
                     : shape == 1 ? 0x17a0000000000000ull + (r % 5000) /* timestamps */
                     : shape == 2 ? r % 7                              /* many equal */
                                  : (uint64_t)(n - i) << 40;           /* one middle byte */
        keys[i] = k;
        vals[i] = (uint32_t)i;
        ref[i] = (kv){k, (uint32_t)i};
    }
    qsort(ref, n, sizeof *ref, cmp_kv);
    pq_radix_sort_u64(keys, vals, tk, tv, n);
    for (size_t i = 0; i < n; i++) {
        CHECK_MSG(keys[i] == ref[i].key && vals[i] == ref[i].val,
                  "shape %d, n %zu: position %zu holds %llx/%u, expected %llx/%u", shape, n, i,
                  (unsigned long long)keys[i], vals[i], (unsigned long long)ref[i].key, ref[i].val);
    }
    /* keys alone */
    for (size_t i = 0; i < n; i++) keys[i] = ref[(i * 7919) % (n ? n : 1)].key;
    pq_radix_sort_u64(keys, NULL, tk, NULL, n);
    for (size_t i = 1; i < n; i++) CHECK(keys[i - 1] <= keys[i]);
    mem_free(keys);
    mem_free(tk);
    mem_free(vals);
    mem_free(tv);
    mem_free(ref);
}

TEST(pq_radix_sorts_like_a_stable_comparison_sort)
{
    const size_t sizes[] = {0, 1, 2, 3, 255, 256, 257, 5000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        for (int shape = 0; shape < 4; shape++) check_against_qsort(sizes[k], shape);
}
