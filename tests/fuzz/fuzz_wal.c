/*
 * fuzz_wal: libFuzzer target for the WAL segment scanner (wal_scan_buffer).
 *
 * Input: a segment image.  Besides the sanitizers' checks, every record the
 * scanner reports must lie inside the input, after the header, in order,
 * with LSNs that rise and are not below the header's first LSN (older ones
 * are what a recycled segment held before), and the counts it returns must
 * match what it reported.
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
    uint64_t last_lsn;
    uint64_t first_lsn; /* the header's */
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
    if (rec->lsn < st->first_lsn || (st->records > 0 && rec->lsn <= st->last_lsn)) {
        fprintf(stderr, "fuzz_wal: an older LSN was taken\n");
        abort();
    }
    st->records++;
    st->last_offset = rec->offset;
    st->last_lsn = rec->lsn;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_state st = {data, size, 0, 0, 0, 0};
    if (size >= 24) /* the first LSN, little-endian, at offset 16 */
        for (int i = 7; i >= 0; i--) st.first_lsn = st.first_lsn << 8 | data[16 + i];
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
