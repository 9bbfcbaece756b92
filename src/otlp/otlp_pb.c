/*
 * otlp_pb: the protobuf decoder state, its dispatch per signal and the
 * message walk every signal shares (see otlp_pb.h, pb_decode.h).
 *
 * Protobuf fields may arrive in any order, so each ResourceX / ScopeX
 * message is read twice: a first pass collects the resource (or scope) and
 * schema URL, a second pass decodes the records with that context in hand.
 * The first pass only hops over the records (their lengths are known), so it
 * costs little.  A non-repeated message field that occurs twice is merged,
 * as protobuf requires: attributes accumulate, scalars take the last value.
 */
#include "otlp/otlp_pb.h"

#include <string.h>

#include "core/mem.h"
#include "otlp/pb_decode.h"

/* Frames beyond options.max_depth are never pushed; a small floor keeps the
 * request → resource → scope → record path representable. */
#define PB_MIN_DEPTH 8

int otlp_pb_state_create(otlp_pb_state **out, const otlp_options *opts)
{
    otlp_pb_state *st = mem_calloc(1, sizeof *st);
    if (st == NULL) return O2P_ENOMEM;
    st->opts = *opts;
    st->ctx.max_depth = opts->max_depth < PB_MIN_DEPTH ? PB_MIN_DEPTH : opts->max_depth;
    st->ctx.max_string = opts->max_string_bytes;
    st->ctx.frames = mem_calloc(st->ctx.max_depth, sizeof *st->ctx.frames);
    if (st->ctx.frames == NULL) {
        mem_free(st);
        return O2P_ENOMEM;
    }
    tbl_attrs_init(&st->resource_attrs, 0);
    tbl_attrs_init(&st->scope_attrs, 0);
    tbl_attrs_init(&st->record_attrs, 0);
    buf_init(&st->body, 0);
    *out = st;
    return O2P_OK;
}

void otlp_pb_state_destroy(otlp_pb_state *st)
{
    if (st == NULL) return;
    mem_free(st->ctx.frames);
    tbl_attrs_free(&st->resource_attrs);
    tbl_attrs_free(&st->scope_attrs);
    tbl_attrs_free(&st->record_attrs);
    buf_free(&st->body);
    mem_free(st->events);
    pb_pool_free(&st->event_attrs);
    mem_free(st->links);
    pb_pool_free(&st->link_attrs);
    mem_free(st->exemplars);
    pb_pool_free(&st->exemplar_attrs);
    mem_free(st->bucket_counts.v);
    mem_free(st->positive.v);
    mem_free(st->negative.v);
    mem_free(st->bounds.v);
    mem_free(st->quantiles.v);
    mem_free(st->quantile_values.v);
    mem_free(st);
}

int otlp_pb_decode(otlp_pb_state *st, otlp_signal signal, const uint8_t *body, size_t len,
                   uint64_t receive_ns, tbl_batch *out, otlp_stats *stats, o2p_error *err)
{
    st->ctx.base = body;
    st->ctx.depth = 0;
    st->ctx.err = err;
    st->out = out;
    st->stats = stats;
    st->receive_ns = receive_ns;
    /* An empty body is a valid empty request; keep pointer arithmetic defined. */
    if (body == NULL) {
        if (len != 0) return o2p_errorf(err, O2P_EINVAL, "no request body");
        return O2P_OK;
    }
    switch (signal) {
    case OTLP_LOGS:
        return pb_decode_logs(st, body, len);
    case OTLP_TRACES:
        return pb_decode_traces(st, body, len);
    case OTLP_METRICS:
        return pb_decode_metrics(st, body, len);
    }
    return o2p_errorf(err, O2P_EINVAL, "unknown signal %d", (int)signal);
}

int pb_nested_begin(otlp_pb_state *st, const pb_field *f, void **arr, size_t *cap, size_t elem,
                    size_t index, pb_attrs_pool *pool, const char *name, tbl_attrs **attrs)
{
    if (mem_reserve_array(arr, cap, index + 1, elem) < 0)
        return pb_emit_failed(st, O2P_ENOMEM, f->at);
    *attrs = pb_pool_get(pool, index);
    if (*attrs == NULL) return pb_emit_failed(st, O2P_ENOMEM, f->at);
    return pb_push(&st->ctx, name, (long)index, f->at);
}

tbl_attrs *pb_pool_get(pb_attrs_pool *p, size_t i)
{
    if (i >= p->count) {
        size_t cap = p->count;
        void *items = p->items;
        if (mem_reserve_array(&items, &cap, i + 1, sizeof *p->items) < 0) return NULL;
        p->items = items;
        for (size_t k = p->count; k < cap; k++) tbl_attrs_init(&p->items[k], 0);
        p->count = cap;
    }
    tbl_attrs_reset(&p->items[i]);
    return &p->items[i];
}

void pb_pool_free(pb_attrs_pool *p)
{
    for (size_t i = 0; i < p->count; i++) tbl_attrs_free(&p->items[i]);
    mem_free(p->items);
    p->items = NULL;
    p->count = 0;
}

static const char *status_text(int rc)
{
    return rc == O2P_ELIMIT ? "attribute text exceeds its size limit" : "out of memory";
}

int pb_emit_failed(otlp_pb_state *st, int rc, const uint8_t *at)
{
    return pb_fail(&st->ctx, NULL, at, rc, "%s", status_text(rc));
}

int pb_attrs_finish(otlp_pb_state *st, tbl_attrs *a, const char *what, const uint8_t *at)
{
    tbl_attrs_finish(a);
    if (a->failed < 0) return pb_fail(&st->ctx, what, at, a->failed, "%s", status_text(a->failed));
    return O2P_OK;
}

static const char *const keyvalue_names[] = {[1] = "key", [2] = "value"};

/* The common KeyValue — key first, then a value that is only a
 * stringValue — added without the general walk, key and value referenced
 * in the request: 1 when it was, 0 when the general path must read it
 * (other value kinds or layouts, malformed input). */
static int keyvalue_plain(const otlp_pb_state *st, const pb_field *f, tbl_attrs *a)
{
    const uint8_t *p = f->data, *end = f->data + f->len, *key, *any, *s;
    size_t key_len, any_len, s_len;
    if (!pb_take_len(&p, end, 0x0a, &key, &key_len) ||
        !pb_take_len(&p, end, 0x12, &any, &any_len) || p != end || key_len > st->ctx.max_string ||
        !utf8_valid(key, key_len) || !pb_anyvalue_plain(st, any, any_len, &s, &s_len))
        return 0;
    tbl_attrs_add_ref(a, key, key_len, s, s_len);
    return 1;
}

int pb_keyvalue(otlp_pb_state *st, const pb_field *f, const char *list_name, long index,
                tbl_attrs *a)
{
    pb_ctx *ctx = &st->ctx;
    if (f->wire == PB_LEN && keyvalue_plain(st, f, a)) return O2P_OK;
    if (f->wire != PB_LEN)
        return pb_fail(ctx, list_name, f->at, O2P_EINVAL, "expected a length-delimited KeyValue");
    O2P_TRY(pb_push(ctx, list_name, index, f->at));
    pb_reader r;
    pb_reader_init(&r, f->data, f->len, PB_NAMES(keyvalue_names));
    const uint8_t *key = (const uint8_t *)""; /* a KeyValue without a key has key "" */
    size_t key_len = 0;
    /* Two slots, so keeping the value field is a pointer swap, not a copy. */
    pb_field slots[2], *value = NULL;
    int slot = 0, rc;
    while ((rc = pb_next(ctx, &r, &slots[slot])) > 0) {
        pb_field *kf = &slots[slot];
        if (kf->num == 1) {
            O2P_TRY(pb_string(ctx, &r, kf, &key, &key_len));
        } else if (kf->num == 2) {
            O2P_TRY(pb_want(ctx, &r, kf, PB_LEN));
            value = kf;
            slot ^= 1;
        }
    }
    if (rc < 0) return rc;
    tbl_attrs_key_ref(a, key, key_len);
    if (value && !a->failed)
        O2P_TRY(pb_anyvalue_string(st, value->data, value->len, value->at, "value", &a->text));
    tbl_attrs_value_end(a);
    pb_pop(ctx);
    return O2P_OK;
}

/* Resource / InstrumentationScope attribute lists read with pb_keyvalue. */
static const char *const resource_names[] = {
    [1] = "attributes", [2] = "droppedAttributesCount", [3] = "entityRefs"};
static const char *const scope_msg_names[] = {
    [1] = "name", [2] = "version", [3] = "attributes", [4] = "droppedAttributesCount"};

static int decode_resource(otlp_pb_state *st, const pb_field *f, long *attr_index)
{
    pb_ctx *ctx = &st->ctx;
    O2P_TRY(pb_push(ctx, "resource", -1, f->at));
    pb_reader r;
    pb_reader_init(&r, f->data, f->len, PB_NAMES(resource_names));
    pb_field rf;
    int rc;
    while ((rc = pb_next(ctx, &r, &rf)) > 0)
        if (rf.num == 1)
            O2P_TRY(pb_keyvalue(st, &rf, "attributes", (*attr_index)++, &st->resource_attrs));
    if (rc < 0) return rc;
    pb_pop(ctx);
    return O2P_OK;
}

static int decode_scope(otlp_pb_state *st, const pb_field *f, otlp_scope *scope, long *attr_index)
{
    pb_ctx *ctx = &st->ctx;
    O2P_TRY(pb_push(ctx, "scope", -1, f->at));
    pb_reader r;
    pb_reader_init(&r, f->data, f->len, PB_NAMES(scope_msg_names));
    pb_field sf;
    uint64_t v;
    int rc;
    while ((rc = pb_next(ctx, &r, &sf)) > 0) {
        switch (sf.num) {
        case 1:
            O2P_TRY(pb_string(ctx, &r, &sf, &scope->name.ptr, &scope->name.len));
            break;
        case 2:
            O2P_TRY(pb_string(ctx, &r, &sf, &scope->version.ptr, &scope->version.len));
            break;
        case 3:
            O2P_TRY(pb_keyvalue(st, &sf, "attributes", (*attr_index)++, &st->scope_attrs));
            break;
        case 4:
            O2P_TRY(pb_scalar(ctx, &r, &sf, PB_VARINT, &v));
            scope->dropped_attributes_count = (uint32_t)v;
            break;
        default:
            break;
        }
    }
    if (rc < 0) return rc;
    pb_pop(ctx);
    return O2P_OK;
}

/* The first pass hops from record tag to record tag: a chain of dependent
 * loads, one cache miss per record when the body is not in cache.  Streaming
 * the bytes ahead of the hop into the cache (each line once) overlaps those
 * misses, and the second pass then reads the records from cache. */
#define PB_PREFETCH_WINDOW 1024

static const uint8_t *prefetch_ahead(const uint8_t *ahead, const uint8_t *at, const uint8_t *end)
{
    const uint8_t *limit = (size_t)(end - at) > PB_PREFETCH_WINDOW ? at + PB_PREFETCH_WINDOW : end;
    for (; ahead < limit; ahead += 64) __builtin_prefetch(ahead);
    return ahead;
}

static int decode_scope_level(otlp_pb_state *st, const pb_signal_desc *desc,
                              const otlp_resource *res, const pb_field *f)
{
    pb_ctx *ctx = &st->ctx;
    static const uint8_t empty[1];
    otlp_scope scope = {.name = {empty, 0}, .version = {empty, 0}, .schema_url = {empty, 0}};
    tbl_attrs_reset(&st->scope_attrs);
    scope.attrs = &st->scope_attrs;
    long attr_index = 0;
    pb_reader r;
    pb_field sf;
    int rc;
    pb_reader_init(&r, f->data, f->len, desc->scope_names);
    const uint8_t *ahead = r.p;
    while ((rc = pb_next(ctx, &r, &sf)) > 0) {
        ahead = prefetch_ahead(ahead, r.p, r.end);
        if (sf.num == 1) {
            O2P_TRY(pb_want(ctx, &r, &sf, PB_LEN));
            O2P_TRY(decode_scope(st, &sf, &scope, &attr_index));
        } else if (sf.num == 3) {
            O2P_TRY(pb_string(ctx, &r, &sf, &scope.schema_url.ptr, &scope.schema_url.len));
        }
    }
    if (rc < 0) return rc;
    O2P_TRY(pb_attrs_finish(st, &st->scope_attrs, "scope.attributes", f->at));
    otlp_scope_finish(&scope);

    long index = 0;
    pb_reader_init(&r, f->data, f->len, desc->scope_names);
    while ((rc = pb_next(ctx, &r, &sf)) > 0) {
        if (sf.num != 2) continue;
        O2P_TRY(pb_want(ctx, &r, &sf, PB_LEN));
        O2P_TRY(pb_push(ctx, desc->item_list, index++, sf.at));
        O2P_TRY(desc->item(st, res, &scope, &sf));
        pb_pop(ctx);
    }
    return rc;
}

static int decode_resource_level(otlp_pb_state *st, const pb_signal_desc *desc, const pb_field *f)
{
    pb_ctx *ctx = &st->ctx;
    static const uint8_t empty[1];
    otlp_resource res = {.schema_url = {empty, 0}};
    tbl_attrs_reset(&st->resource_attrs);
    res.attrs = &st->resource_attrs;
    long attr_index = 0;
    pb_reader r;
    pb_field rf;
    int rc;
    pb_reader_init(&r, f->data, f->len, desc->resource_names);
    while ((rc = pb_next(ctx, &r, &rf)) > 0) {
        if (rf.num == 1) {
            O2P_TRY(pb_want(ctx, &r, &rf, PB_LEN));
            O2P_TRY(decode_resource(st, &rf, &attr_index));
        } else if (rf.num == 3) {
            O2P_TRY(pb_string(ctx, &r, &rf, &res.schema_url.ptr, &res.schema_url.len));
        }
    }
    if (rc < 0) return rc;
    O2P_TRY(pb_attrs_finish(st, &st->resource_attrs, "resource.attributes", f->at));
    otlp_resource_finish(&res);

    long index = 0;
    pb_reader_init(&r, f->data, f->len, desc->resource_names);
    while ((rc = pb_next(ctx, &r, &rf)) > 0) {
        if (rf.num != 2) continue;
        O2P_TRY(pb_want(ctx, &r, &rf, PB_LEN));
        O2P_TRY(pb_push(ctx, desc->scope_list, index++, rf.at));
        O2P_TRY(decode_scope_level(st, desc, &res, &rf));
        pb_pop(ctx);
    }
    return rc;
}

int pb_decode_request(otlp_pb_state *st, const pb_signal_desc *desc, const uint8_t *body,
                      size_t len)
{
    pb_ctx *ctx = &st->ctx;
    const char *request_names[2] = {NULL, desc->resource_list};
    pb_reader r;
    pb_reader_init(&r, body, len, PB_NAMES(request_names));
    pb_field f;
    long index = 0;
    int rc;
    while ((rc = pb_next(ctx, &r, &f)) > 0) {
        if (f.num != 1) continue;
        O2P_TRY(pb_want(ctx, &r, &f, PB_LEN));
        O2P_TRY(pb_push(ctx, desc->resource_list, index++, f.at));
        O2P_TRY(decode_resource_level(st, desc, &f));
        pb_pop(ctx);
    }
    return rc;
}
