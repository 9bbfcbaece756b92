/* tbl_batch: rows grouped by (table, service, hour) (see tbl_batch.h). */
#include "table/tbl_batch.h"

#include <string.h>

#include "core/mem.h"

#define NS_PER_HOUR 3600000000000ULL

void tbl_batch_init(tbl_batch *b, const tbl_schemas *schemas)
{
    memset(b, 0, sizeof *b);
    b->schemas = schemas;
}

void tbl_batch_free(tbl_batch *b)
{
    for (size_t i = 0; i < b->cap; i++) {
        pq_colset_free(&b->groups[i].rows);
        mem_free(b->groups[i].service);
    }
    mem_free(b->groups);
    memset(b, 0, sizeof *b);
}

void tbl_batch_reset(tbl_batch *b)
{
    for (size_t i = 0; i < b->cap; i++) {
        tbl_group *g = &b->groups[i];
        if (g->rows.cols) pq_colset_reset(&g->rows);
        g->in_use = 0;
    }
    b->num_groups = 0;
    b->last_hit = 0;
    b->failed = 0;
}

static int group_matches(const tbl_group *g, tbl_id table, const uint8_t *service, size_t len,
                         int64_t hour)
{
    return g->in_use && g->table == table && g->hour == hour && g->service_len == len &&
           memcmp(g->service, service, len) == 0;
}

/* Claims a free slot (reusing an old group's buffers when one has the same
 * table, so its column allocations carry over). */
static tbl_group *claim_slot(tbl_batch *b, tbl_id table)
{
    tbl_group *fallback = NULL;
    for (size_t i = 0; i < b->cap; i++) {
        tbl_group *g = &b->groups[i];
        if (g->in_use) continue;
        if (g->rows.cols && g->table == table) return g;
        if (fallback == NULL) fallback = g;
    }
    if (fallback) {
        if (fallback->rows.cols) pq_colset_free(&fallback->rows);
        return fallback;
    }
    size_t cap = b->cap ? b->cap * 2 : 8;
    tbl_group *groups = mem_realloc(b->groups, cap * sizeof *groups);
    if (groups == NULL) return NULL;
    memset(groups + b->cap, 0, (cap - b->cap) * sizeof *groups);
    b->groups = groups;
    tbl_group *g = &groups[b->cap];
    b->cap = cap;
    return g;
}

tbl_group *tbl_batch_group(tbl_batch *b, tbl_id table, const uint8_t *service, size_t service_len,
                           uint64_t ts_unix_ns)
{
    if (service_len > TBL_SERVICE_MAX) service_len = TBL_SERVICE_MAX;
    int64_t hour = (int64_t)(ts_unix_ns / NS_PER_HOUR);
    if (b->last_hit < b->cap &&
        group_matches(&b->groups[b->last_hit], table, service, service_len, hour))
        return &b->groups[b->last_hit];
    for (size_t i = 0; i < b->cap; i++) {
        if (group_matches(&b->groups[i], table, service, service_len, hour)) {
            b->last_hit = i;
            return &b->groups[i];
        }
    }
    tbl_group *g = claim_slot(b, table);
    if (g == NULL) {
        b->failed = O2P_ENOMEM;
        return NULL;
    }
    if (g->rows.cols == NULL && pq_colset_init(&g->rows, b->schemas->schema[table]) < 0) {
        b->failed = O2P_ENOMEM;
        return NULL;
    }
    if (g->service_cap < service_len + 1) {
        char *s = mem_realloc(g->service, service_len + 1);
        if (s == NULL) {
            b->failed = O2P_ENOMEM;
            return NULL;
        }
        g->service = s;
        g->service_cap = service_len + 1;
    }
    memcpy(g->service, service, service_len);
    g->service[service_len] = '\0';
    g->service_len = service_len;
    g->table = table;
    g->hour = hour;
    g->min_ts_us = 0;
    g->max_ts_us = 0;
    g->in_use = 1;
    b->num_groups++;
    b->last_hit = (size_t)(g - b->groups);
    return g;
}

size_t tbl_batch_rows(const tbl_batch *b, tbl_id table)
{
    size_t rows = 0;
    for (size_t i = 0; i < b->cap; i++) {
        const tbl_group *g = &b->groups[i];
        if (g->in_use && (table == TBL_COUNT || g->table == table)) rows += g->rows.num_rows;
    }
    return rows;
}

size_t tbl_batch_mem(const tbl_batch *b)
{
    size_t bytes = 0;
    for (size_t i = 0; i < b->cap; i++)
        if (b->groups[i].rows.cols) bytes += pq_colset_mem(&b->groups[i].rows);
    return bytes;
}

int tbl_batch_append(tbl_batch *dst, const tbl_batch *src)
{
    for (size_t i = 0; i < src->cap; i++) {
        const tbl_group *s = &src->groups[i];
        if (!s->in_use || s->rows.num_rows == 0) continue;
        tbl_group *g = tbl_batch_group(dst, s->table, (const uint8_t *)s->service, s->service_len,
                                       (uint64_t)s->hour * NS_PER_HOUR);
        if (g == NULL) return O2P_ENOMEM;
        if (g->rows.num_rows == 0 || s->min_ts_us < g->min_ts_us) g->min_ts_us = s->min_ts_us;
        if (g->rows.num_rows == 0 || s->max_ts_us > g->max_ts_us) g->max_ts_us = s->max_ts_us;
        int rc = pq_colset_append(&g->rows, &s->rows);
        if (rc < 0) return rc;
    }
    return O2P_OK;
}
