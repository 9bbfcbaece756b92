/*
 * otlp_json: OTLP/JSON (and JSON Lines) export requests into table rows.
 *
 * Reads the OTLP/JSON encoding (lowerCamelCase or proto snake_case field
 * names, 64-bit integers as numbers or decimal strings, enums as numbers or
 * names, ids as hex or base64) with the strict json_reader and hands every
 * record to the shared emit API (otlp_rows.h), so rows are identical to the
 * protobuf path.  The state keeps all scratch (attribute lists, decoded
 * strings, point arrays) between calls: the steady state allocates nothing.
 */
#ifndef O2P_OTLP_JSON_H
#define O2P_OTLP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "otlp/otlp.h"
#include "table/tbl_batch.h"

typedef struct otlp_json_state otlp_json_state;

int otlp_json_state_create(otlp_json_state **out, const otlp_options *opts);
void otlp_json_state_destroy(otlp_json_state *s);

/*
 * Decodes one request body (jsonl != 0: one export request per non-empty
 * line) and appends its rows to `out`.  All-or-nothing: on a negative return
 * err names the bad field's path (JSONL: "line N: ..."), and the caller
 * discards the batch.  stats (rows, rejected points) is added to, not reset.
 */
int otlp_json_decode(otlp_json_state *s, otlp_signal signal, const uint8_t *body, size_t len,
                     int jsonl, uint64_t receive_ns, tbl_batch *out, otlp_stats *stats,
                     o2p_error *err);

#endif
