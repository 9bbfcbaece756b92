/*
 * log_rows: one minimal log row (service, time, body; everything else
 * empty) appended to a tbl_batch, for the tests of the batcher and of its
 * encoding pool.
 */
#ifndef O2P_TESTS_LOG_ROWS_H
#define O2P_TESTS_LOG_ROWS_H

#include <stdint.h>
#include <string.h>

#include "table/tbl_attrs.h"
#include "table/tbl_write.h"

/* `empty` is a finished tbl_attrs with no entries.  0, or -1 when the
 * batch could not make the group. */
static inline int log_row_add(tbl_batch *rows, const tbl_attrs *empty, const char *service,
                              uint64_t ts_ns, const char *body, size_t body_len)
{
    tbl_group *g =
        tbl_batch_group(rows, TBL_LOGS, (const uint8_t *)service, strlen(service), ts_ns);
    if (g == NULL) return -1;
    pq_column *c = g->rows.cols;
    int64_t ts = tbl_ts(rows, ts_ns);
    tbl_put_i64(&c[LOG_TIMESTAMP], ts);
    tbl_put_i64(&c[LOG_OBSERVED_TIMESTAMP], ts);
    tbl_put_str(&c[LOG_TRACE_ID], "", 0);
    tbl_put_str(&c[LOG_SPAN_ID], "", 0);
    tbl_put_i32(&c[LOG_TRACE_FLAGS], 0);
    tbl_put_str(&c[LOG_SEVERITY_TEXT], "INFO", 4);
    tbl_put_i32(&c[LOG_SEVERITY_NUMBER], 9);
    tbl_put_str(&c[LOG_SERVICE_NAME], service, strlen(service));
    tbl_put_str(&c[LOG_BODY], body, body_len);
    tbl_put_str(&c[LOG_RESOURCE_SCHEMA_URL], "", 0);
    tbl_attrs_emit_top(empty, &c[LOG_RESOURCE_ATTRS]);
    tbl_put_str(&c[LOG_SCOPE_SCHEMA_URL], "", 0);
    tbl_put_str(&c[LOG_SCOPE_NAME], "", 0);
    tbl_put_str(&c[LOG_SCOPE_VERSION], "", 0);
    tbl_attrs_emit_top(empty, &c[LOG_SCOPE_ATTRS]);
    tbl_attrs_emit_top(empty, &c[LOG_ATTRS]);
    tbl_put_str(&c[LOG_EVENT_NAME], "", 0);
    tbl_group_row_done(g, ts_ns);
    return 0;
}

#endif
