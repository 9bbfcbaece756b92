/*
 * fuzz_json: libFuzzer target for the JSON reader and the OTLP/JSON
 * decoders.
 *
 * The first input byte picks the signal (logs, traces, metrics) and whether
 * the rest is JSON Lines; the rest is the body.  Besides crashes and
 * sanitizer reports it checks one invariant: a body the decoder accepts
 * must be valid JSON by itself (json_skip + json_finish), so the fast
 * lookahead can never let invalid input through.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "otlp/json_reader.h"
#include "otlp/otlp_json.h"
#include "table/tbl_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int valid_json(const uint8_t *doc, size_t len)
{
    json_reader r;
    json_reader_init(&r, 64, 1 << 20);
    json_reader_start(&r, doc, len);
    int rc = json_skip(&r);
    if (rc == 0) rc = json_finish(&r);
    json_reader_free(&r);
    return rc == 0;
}

/* Every non-blank line of a JSONL body must be valid JSON. */
static int valid_jsonl(const uint8_t *p, size_t len)
{
    const uint8_t *end = p + len;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *line_end = nl ? nl : end;
        const uint8_t *q = p;
        while (q < line_end && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q < line_end && !valid_json(p, (size_t)(line_end - p))) return 0;
        p = nl ? nl + 1 : end;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static tbl_schemas schemas;
    static tbl_batch batch;
    static otlp_json_state *st;
    if (st == NULL) {
        o2p_error err;
        if (tbl_schemas_init(&schemas, TBL_TS_MICROS, &err) < 0) abort();
        tbl_batch_init(&batch, &schemas);
        otlp_options o;
        otlp_options_default(&o);
        o.max_depth = 64;
        if (otlp_json_state_create(&st, &o) < 0) abort();
    }
    if (size < 1) return 0;
    otlp_signal signal = (otlp_signal)(data[0] % 3);
    int jsonl = (data[0] >> 2) & 1;
    const uint8_t *body = data + 1;
    size_t len = size - 1;

    tbl_batch_reset(&batch);
    otlp_stats stats;
    memset(&stats, 0, sizeof stats);
    o2p_error err;
    int rc = otlp_json_decode(st, signal, body, len, jsonl, 1, &batch, &stats, &err);
    if (rc == 0 && !(jsonl ? valid_jsonl(body, len) : valid_json(body, len))) abort();
    if (rc < 0 && err.msg[0] == '\0') abort(); /* every rejection explains itself */
    return 0;
}
