/*
 * otlp: decoding of OTLP export requests into table rows.
 *
 * One otlp_decoder per thread; it keeps its scratch memory between calls so
 * the steady state allocates nothing per record.  otlp_decode turns one
 * request body (protobuf, OTLP/JSON, or JSON Lines of export requests) into
 * rows appended to a tbl_batch, grouped by (table, service, hour).
 *
 * A request is all-or-nothing: on error the function returns a negative
 * status with a message naming the path of the bad field
 * ("resourceSpans[0].scopeSpans[1].spans[3].traceId: expected 32 hex digits
 * or base64 of 16 bytes"; JSONL messages start with "line N: "), and the
 * caller must discard the batch (tbl_batch_reset).  Items the spec says to
 * skip (metric points with no value) are counted in otlp_stats.rejected.
 */
#ifndef O2P_OTLP_H
#define O2P_OTLP_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "table/tbl_batch.h"

typedef enum otlp_signal { OTLP_LOGS = 0, OTLP_TRACES, OTLP_METRICS } otlp_signal;
typedef enum otlp_format { OTLP_FMT_PROTOBUF = 0, OTLP_FMT_JSON, OTLP_FMT_JSONL } otlp_format;

const char *otlp_signal_name(otlp_signal s); /* "logs", "traces", "metrics" */
int otlp_signal_parse(const char *name, otlp_signal *out);
int otlp_format_parse(const char *name, otlp_format *out); /* "pb"|"protobuf", "json", "jsonl" */

typedef struct otlp_options {
    size_t max_depth;        /* nesting bound for messages, AnyValue and JSON (default 64) */
    size_t max_string_bytes; /* longest string/bytes field accepted (default 16 MiB) */
} otlp_options;

void otlp_options_default(otlp_options *o);

typedef struct otlp_stats {
    uint64_t rows[TBL_COUNT];  /* rows appended per table */
    uint64_t rejected;         /* items skipped (e.g. metric points without a value) */
    char rejected_reason[160]; /* message for partial_success when rejected > 0 */
} otlp_stats;

typedef struct otlp_decoder otlp_decoder;

int otlp_decoder_create(otlp_decoder **out, const otlp_options *opts, o2p_error *err);
void otlp_decoder_destroy(otlp_decoder *d);

/* receive_ns: the time the request was received (logs with neither a time
 * nor an observed time get it as Timestamp). */
int otlp_decode(otlp_decoder *d, otlp_signal signal, otlp_format format, const uint8_t *body,
                size_t len, uint64_t receive_ns, tbl_batch *out, otlp_stats *stats, o2p_error *err);

#endif
