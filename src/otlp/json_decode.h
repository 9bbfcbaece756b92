/*
 * json_decode: internals shared by the OTLP/JSON decoders (otlp_json.c,
 * json_fields.c, json_anyvalue.c, json_logs.c, json_traces.c,
 * json_metrics.c).  Not part of the public API.
 *
 * The decoders keep the path of the value being read (names and array
 * indices) so every rejection can name the field, and reuse all scratch in
 * otlp_json_state across records and requests.  Functions return 0 or a
 * negative status; on failure the message is either already formatted
 * (jd_fail) or is the reader's syntax error, which otlp_json_decode prefixes
 * with the path at the point of failure (the path is not unwound on errors).
 */
#ifndef O2P_OTLP_JSON_DECODE_H
#define O2P_OTLP_JSON_DECODE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"
#include "otlp/json_reader.h"
#include "otlp/otlp.h"
#include "otlp/otlp_json.h"
#include "otlp/otlp_rows.h"
#include "table/tbl_attrs.h"
#include "table/tbl_batch.h"

#define JD_PATH_MAX 32

typedef struct jd_path_item {
    const char *name;
    long index; /* -1: not an array element */
} jd_path_item;

struct otlp_json_state {
    otlp_options opts;
    json_reader r;

    jd_path_item path[JD_PATH_MAX];
    size_t path_len; /* may exceed JD_PATH_MAX; deeper items are not recorded */
    o2p_error e;     /* the message of a semantic error (has_msg) */
    int has_msg;

    /* escaped strings that must outlive the next read, by lifetime */
    o2p_arena arena_outer;  /* resource and scope */
    o2p_arena arena_metric; /* one metric */
    o2p_arena arena_rec;    /* one record (log, span, point) */

    o2p_buf tmp;  /* bytesValue decoding, slow-path keys */
    o2p_buf body; /* the log body, stringified */

    tbl_attrs res_attrs, scope_attrs, item_attrs;
    tbl_attrs **pool; /* attribute lists of events, links, exemplars */
    size_t pool_cap, pool_used;

    otlp_span_event *events; /* of the current span */
    size_t events_cap, num_events;
    otlp_span_link *links;
    size_t links_cap, num_links;
    otlp_exemplar *exemplars; /* of the current data point */
    size_t exemplars_cap, num_exemplars;
    uint64_t *counts[3]; /* bucket counts: explicit, positive, negative */
    size_t counts_cap[3];
    double *doubles[3]; /* explicit bounds, quantiles, quantile values */
    size_t doubles_cap[3];
    size_t num_quantiles;
    otlp_metric metric; /* the metric whose points are being read */

    /* Where each scope's items array starts and ends, recorded by the
     * resource level's first pass (jd_level_object). */
    const uint8_t **skip_from, **skip_to;
    size_t skip_len, skip_cap, skip_next;

    /* per call */
    tbl_batch *out;
    otlp_stats *stats; /* the caller's, or own_stats */
    otlp_stats own_stats;
    uint64_t receive_ns;
    otlp_resource res;
    otlp_scope scope;
};

/* Field names (string literals): the lowerCamelCase and proto snake_case
 * spellings. */
#define JD_KEY(k, camel, snake)                                                                    \
    (json_str_eq((k), "" camel, sizeof(camel) - 1) || json_str_eq((k), "" snake, sizeof(snake) - 1))
#define JD_KEY1(k, name) json_str_eq((k), "" name, sizeof(name) - 1)

/* The same for names held in variables. */
static inline int jd_key_var(json_str k, const char *camel, const char *snake)
{
    return json_str_eq(k, camel, strlen(camel)) || json_str_eq(k, snake, strlen(snake));
}

static inline void jd_push(otlp_json_state *s, const char *name, long index)
{
    if (s->path_len < JD_PATH_MAX) {
        s->path[s->path_len].name = name;
        s->path[s->path_len].index = index;
    }
    s->path_len++;
}
static inline void jd_set_index(otlp_json_state *s, long index)
{
    if (s->path_len - 1 < JD_PATH_MAX) s->path[s->path_len - 1].index = index;
}
static inline void jd_pop(otlp_json_state *s)
{
    s->path_len--;
}

/* Formats "<path>.<field>: <message>" (field may be NULL) and returns code. */
int jd_fail(otlp_json_state *s, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Writes the path (and field) into out. */
void jd_path_format(const otlp_json_state *s, const char *field, char *out, size_t cap);

/* Typed field readers: the reader is at the field's value; null leaves *out
 * untouched (absent).  `field` names the field in error messages. */
int jd_u64(otlp_json_state *s, const char *field, uint64_t *out);
int jd_i64(otlp_json_state *s, const char *field, int64_t *out);
int jd_u32(otlp_json_state *s, const char *field, uint32_t *out);
int jd_i32(otlp_json_state *s, const char *field, int32_t *out);
/* *present is set to 1 when a value (not null) was read. */
int jd_double(otlp_json_state *s, const char *field, double *out, int *present);
int jd_bool(otlp_json_state *s, const char *field, int *out);
int jd_string(otlp_json_state *s, const char *field, otlp_bytes *out, o2p_arena *arena);
int jd_trace_id(otlp_json_state *s, const char *field, otlp_trace_id *out);
int jd_span_id(otlp_json_state *s, const char *field, otlp_span_id *out);

typedef enum jd_enum_kind {
    JD_ENUM_SEVERITY,
    JD_ENUM_SPAN_KIND,
    JD_ENUM_STATUS_CODE,
    JD_ENUM_TEMPORALITY
} jd_enum_kind;
/* An enum as its number or its name (unknown names are an error). */
int jd_enum(otlp_json_state *s, const char *field, jd_enum_kind kind, int32_t *out);

/* Arrays of numbers into the state's reusable arrays. */
int jd_u64_array(otlp_json_state *s, const char *field, int which, size_t *count);
int jd_double_array(otlp_json_state *s, const char *field, int which, size_t *count);

/* Makes room for `need` elements of `size` bytes in *arr (capacity *cap). */
int jd_reserve(otlp_json_state *s, void **arr, size_t *cap, size_t need, size_t size);
/* A reset attribute list from the pool (valid for the current record). */
tbl_attrs *jd_pool_attrs(otlp_json_state *s);
/* Finishes attrs and reports a sticky failure. */
int jd_attrs_done(otlp_json_state *s, tbl_attrs *a, const char *field);

/* AnyValue (json_anyvalue.c): appends the stringified value (spec §2) at the
 * reader to dst; nested != 0 writes it as a JSON value (inside an array or
 * kvlist). */
int jd_anyvalue(otlp_json_state *s, o2p_buf *dst, int nested);
/* A KeyValue array (or null) appended to a (not reset). */
int jd_attributes(otlp_json_state *s, const char *field, tbl_attrs *a);

/* Resource/scope levels (otlp_json.c).  A level object carries a head
 * (resource or scope), a schemaUrl and an items array, in any order: the
 * head and schemaUrl are read first, then the items are decoded. */
typedef struct jd_level {
    const char *head_camel, *head_snake;
    const char *items_camel, *items_snake;
    int (*head)(otlp_json_state *s);
    int (*items)(otlp_json_state *s);
    int is_scope;
    /* resource levels: the items member of their scope objects, whose
     * extent the first pass records so the scope's first pass can jump it */
    const char *child_items_camel, *child_items_snake;
} jd_level;
int jd_level_object(otlp_json_state *s, const jd_level *lv);
/* Iterates an array (or null) calling fn for each element, with the path
 * item `name`[i]. */
int jd_each(otlp_json_state *s, const char *name, int (*fn)(otlp_json_state *s));

/* Per signal: the items of one scope (logRecords, spans, metrics). */
int jd_log_records(otlp_json_state *s);
int jd_spans(otlp_json_state *s);
int jd_metrics(otlp_json_state *s);

#endif
