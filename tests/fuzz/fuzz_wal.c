/*
 * fuzz_wal: libFuzzer target for the WAL segment scanner (wal_scan_buffer).
 *
 * Input: a segment image.  Besides the sanitizers' checks, every record the
 * scanner reports must lie inside the input, after the header, in order, and
 * the counts it returns must match what it reported.
 */
#include <stdio.h>
#include <stdlib.h>

#include "wal/wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct fuzz_state {
    const uint8_t *data;
    size_t size;
    uint64_t records;
    uint64_t last_offset;
} fuzz_state;

static int visit(void *ctx, const wal_record *rec)
{
    fuzz_state *st = ctx;
    if (rec->payload < st->data || rec->payload + rec->len > st->data + st->size ||
        rec->offset < 32 || (st->records > 0 && rec->offset <= st->last_offset) ||
        (rec->type != WAL_DATA && rec->type != WAL_INTENT && rec->type != WAL_CANCEL)) {
        fprintf(stderr, "fuzz_wal: record out of bounds or out of order\n");
        abort();
    }
    st->records++;
    st->last_offset = rec->offset;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_state st = {data, size, 0, 0};
    wal_scan_result res;
    o2p_error err;
    int rc = wal_scan_buffer(data, size, visit, &st, &res, &err);
    if (rc == 0 && (res.records != st.records || res.end > size)) {
        fprintf(stderr, "fuzz_wal: counts disagree\n");
        abort();
    }
    if (rc < 0 && err.msg[0] == '\0') {
        fprintf(stderr, "fuzz_wal: error without a message\n");
        abort();
    }
    return 0;
}
