/*
 * pb_decode: the internals shared by the protobuf decoders — the decoder
 * state with its reusable scratch, the message walk common to all signals
 * (request → resource → scope → item) and the KeyValue/AnyValue readers.
 * Only src/otlp/pb_*.c and otlp_pb.c include this.
 */
#ifndef O2P_OTLP_PB_DECODE_H
#define O2P_OTLP_PB_DECODE_H

#include "otlp/otlp_pb.h"
#include "otlp/otlp_rows.h"
#include "otlp/pb_reader.h"

/* A growable set of attribute scratches, one per list element (span events,
 * links, exemplars).  Elements keep their memory across requests. */
typedef struct pb_attrs_pool {
    tbl_attrs *items;
    size_t count; /* initialised items */
} pb_attrs_pool;

typedef struct pb_u64s {
    uint64_t *v;
    size_t n, cap;
} pb_u64s;

typedef struct pb_f64s {
    double *v;
    size_t n, cap;
} pb_f64s;

struct otlp_pb_state {
    otlp_options opts;
    pb_ctx ctx;
    /* per request */
    tbl_batch *out;
    otlp_stats *stats;
    uint64_t receive_ns;
    /* per resource / scope / record */
    tbl_attrs resource_attrs;
    tbl_attrs scope_attrs;
    tbl_attrs record_attrs;
    o2p_buf body;
    /* traces */
    otlp_span_event *events;
    size_t events_cap;
    pb_attrs_pool event_attrs;
    otlp_span_link *links;
    size_t links_cap;
    pb_attrs_pool link_attrs;
    /* metrics */
    otlp_exemplar *exemplars;
    size_t exemplars_cap;
    pb_attrs_pool exemplar_attrs;
    pb_u64s bucket_counts, positive, negative;
    pb_f64s bounds, quantiles, quantile_values;
};

/* Emits the record in field f (an element of the scope's item list). */
typedef int (*pb_item_fn)(otlp_pb_state *st, const otlp_resource *r, const otlp_scope *s,
                          const pb_field *f);

typedef struct pb_signal_desc {
    const char *resource_list; /* "resourceLogs" */
    const char *scope_list;    /* "scopeLogs" */
    const char *item_list;     /* "logRecords" */
    pb_names resource_names;   /* fields of ResourceLogs */
    pb_names scope_names;      /* fields of ScopeLogs */
    pb_item_fn item;
} pb_signal_desc;

/* Walks an Export*ServiceRequest, calling desc->item for every record. */
int pb_decode_request(otlp_pb_state *st, const pb_signal_desc *desc, const uint8_t *body,
                      size_t len);

int pb_decode_logs(otlp_pb_state *st, const uint8_t *body, size_t len);
int pb_decode_traces(otlp_pb_state *st, const uint8_t *body, size_t len);
int pb_decode_metrics(otlp_pb_state *st, const uint8_t *body, size_t len);

/* Appends one KeyValue (field f of reader r, element `index` of the list
 * `list_name`) to a: the key (referenced in the request), then the value —
 * a string referenced, anything else stringified into a's text. */
int pb_keyvalue(otlp_pb_state *st, const pb_field *f, const char *list_name, long index,
                tbl_attrs *a);
/* Finishes an attribute list, turning a scratch failure into an error. */
int pb_attrs_finish(otlp_pb_state *st, tbl_attrs *a, const char *what, const uint8_t *at);

/* Appends the spec §2 string form of the AnyValue message (data, len) to
 * out; frame_name names it in error paths ("body", "value"). */
int pb_anyvalue_string(otlp_pb_state *st, const uint8_t *data, size_t len, const uint8_t *at,
                       const char *frame_name, o2p_buf *out);

/* An AnyValue message that is exactly one stringValue (the common case of
 * attribute values and log bodies): 1 with the string as a slice of the
 * request when it is valid UTF-8 within max_string; 0 for anything else,
 * which pb_anyvalue_string then decodes (and words its errors). */
static inline int pb_anyvalue_plain(const otlp_pb_state *st, const uint8_t *data, size_t len,
                                    const uint8_t **out, size_t *out_len)
{
    const uint8_t *p = data, *end = data + len;
    return pb_take_len(&p, end, 0x0a, out, out_len) && p == end && *out_len <= st->ctx.max_string &&
           utf8_valid(*out, *out_len);
}

/* Element i of the pool, reset and ready (NULL when out of memory). */
tbl_attrs *pb_pool_get(pb_attrs_pool *p, size_t i);
void pb_pool_free(pb_attrs_pool *p);

/* Begins element `index` of a repeated nested message (span events, links,
 * exemplars): makes room for it in its array (*arr, *cap; elem bytes each),
 * takes its attribute scratch from `pool` (*attrs), and enters
 * "name[index]" in the error path (leave with pb_pop).  Returns 0 or the
 * located out-of-memory error. */
int pb_nested_begin(otlp_pb_state *st, const pb_field *f, void **arr, size_t *cap, size_t elem,
                    size_t index, pb_attrs_pool *pool, const char *name, tbl_attrs **attrs);

/* A failed emit (out of memory / scratch limit) as a located error. */
int pb_emit_failed(otlp_pb_state *st, int rc, const uint8_t *at);

#endif
