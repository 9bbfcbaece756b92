/*
 * otlp: the decoder object and the dispatch of a request body to the
 * protobuf or JSON decoder (see otlp.h).  The decoder owns one state per
 * wire format; each keeps its scratch between calls.
 */
#include "otlp/otlp.h"

#include <string.h>

#include "core/mem.h"
#include "otlp/otlp_json.h"
#include "otlp/otlp_pb.h"

struct otlp_decoder {
    otlp_options opts;
    otlp_pb_state *pb;
    otlp_json_state *json;
};

static const char *const signal_names[] = {"logs", "traces", "metrics"};

const char *otlp_signal_name(otlp_signal s)
{
    return (unsigned)s < 3 ? signal_names[s] : "unknown";
}

int otlp_signal_parse(const char *name, otlp_signal *out)
{
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, signal_names[i]) == 0) {
            *out = (otlp_signal)i;
            return O2P_OK;
        }
    }
    return O2P_EINVAL;
}

int otlp_format_parse(const char *name, otlp_format *out)
{
    if (strcmp(name, "pb") == 0 || strcmp(name, "protobuf") == 0)
        *out = OTLP_FMT_PROTOBUF;
    else if (strcmp(name, "json") == 0)
        *out = OTLP_FMT_JSON;
    else if (strcmp(name, "jsonl") == 0)
        *out = OTLP_FMT_JSONL;
    else
        return O2P_EINVAL;
    return O2P_OK;
}

void otlp_options_default(otlp_options *o)
{
    o->max_depth = 64;
    o->max_string_bytes = 16u << 20;
}

int otlp_decoder_create(otlp_decoder **out, const otlp_options *opts, o2p_error *err)
{
    otlp_decoder *d = mem_calloc(1, sizeof *d);
    if (d == NULL) return o2p_errorf(err, O2P_ENOMEM, "otlp decoder: out of memory");
    if (opts)
        d->opts = *opts;
    else
        otlp_options_default(&d->opts);
    if (otlp_pb_state_create(&d->pb, &d->opts) < 0 ||
        otlp_json_state_create(&d->json, &d->opts) < 0) {
        otlp_decoder_destroy(d);
        return o2p_errorf(err, O2P_ENOMEM, "otlp decoder: out of memory");
    }
    *out = d;
    return O2P_OK;
}

void otlp_decoder_destroy(otlp_decoder *d)
{
    if (d == NULL) return;
    otlp_pb_state_destroy(d->pb);
    otlp_json_state_destroy(d->json);
    mem_free(d);
}

int otlp_decode(otlp_decoder *d, otlp_signal signal, otlp_format format, const uint8_t *body,
                size_t len, uint64_t receive_ns, tbl_batch *out, otlp_stats *stats, o2p_error *err)
{
    if ((unsigned)signal > OTLP_METRICS)
        return o2p_errorf(err, O2P_EINVAL, "unknown signal %d", (int)signal);
    switch (format) {
    case OTLP_FMT_PROTOBUF:
        return otlp_pb_decode(d->pb, signal, body, len, receive_ns, out, stats, err);
    case OTLP_FMT_JSON:
    case OTLP_FMT_JSONL:
        return otlp_json_decode(d->json, signal, body, len, format == OTLP_FMT_JSONL, receive_ns,
                                out, stats, err);
    }
    return o2p_errorf(err, O2P_EUNSUPPORTED, "unknown request format %d", (int)format);
}
