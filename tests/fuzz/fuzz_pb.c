/*
 * fuzz_pb: libFuzzer target for the protobuf decoders.
 *
 * Input: one byte choosing the signal (logs, traces, metrics), then the
 * request body.  Besides the sanitizers' checks, every accepted request must
 * leave each table group with the same row count in every column
 * (pq_colset_check), and a rejected one must say why.
 */
#include <stdio.h>
#include <stdlib.h>

#include "otlp/otlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tbl_schemas schemas;
static tbl_batch batch;
static otlp_decoder *decoder;

static void setup(void)
{
    o2p_error err = {0};
    otlp_options opts;
    otlp_options_default(&opts);
    opts.max_string_bytes = 4096; /* also exercise the limit paths */
    if (tbl_schemas_init(&schemas, TBL_TS_MICROS, &err) < 0 ||
        otlp_decoder_create(&decoder, &opts, &err) < 0) {
        fprintf(stderr, "fuzz_pb setup: %s\n", err.msg);
        abort();
    }
    tbl_batch_init(&batch, &schemas);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (decoder == NULL) setup();
    if (size < 1) return 0;
    otlp_signal signal = (otlp_signal)(data[0] % 3);
    otlp_stats stats = {0};
    o2p_error err = {0};
    tbl_batch_reset(&batch);
    int rc = otlp_decode(decoder, signal, OTLP_FMT_PROTOBUF, data + 1, size - 1, 1, &batch, &stats,
                         &err);
    if (rc < 0) {
        if (err.msg[0] == '\0') abort(); /* every rejection names its reason */
        return 0;
    }
    for (size_t i = 0; i < batch.cap; i++) {
        if (!batch.groups[i].in_use) continue;
        if (pq_colset_check(&batch.groups[i].rows, &err) < 0) {
            fprintf(stderr, "inconsistent columns: %s\n", err.msg);
            abort();
        }
    }
    return 0;
}
