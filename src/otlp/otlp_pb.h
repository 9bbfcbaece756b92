/*
 * otlp_pb: OTLP/protobuf export requests (logs, traces, metrics) into table
 * rows.
 *
 * Decodes straight from the wire into the otlp_rows structs and emits each
 * record as soon as it is complete: no message tree, and all scratch
 * (attribute lists, the stringified log body, span events and links, point
 * buckets, quantiles and exemplars) lives in the state and is reused, so the
 * steady state allocates nothing per record.
 */
#ifndef O2P_OTLP_PB_H
#define O2P_OTLP_PB_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "otlp/otlp.h"
#include "table/tbl_batch.h"

typedef struct otlp_pb_state otlp_pb_state;

int otlp_pb_state_create(otlp_pb_state **out, const otlp_options *opts);
void otlp_pb_state_destroy(otlp_pb_state *s);

/* Decodes one Export{Logs,Trace,Metrics}ServiceRequest and appends its rows
 * to `out`.  All-or-nothing: on a negative return err names the bad field's
 * path and byte offset, and the caller discards the batch.  stats is added
 * to, not reset. */
int otlp_pb_decode(otlp_pb_state *s, otlp_signal signal, const uint8_t *body, size_t len,
                   uint64_t receive_ns, tbl_batch *out, otlp_stats *stats, o2p_error *err);

#endif
