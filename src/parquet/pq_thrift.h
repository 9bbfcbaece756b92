/*
 * pq_thrift: a Thrift compact-protocol encoder, just enough of it to write
 * Parquet's page headers and file footer.
 *
 * The encoder appends to a caller-owned o2p_buf and remembers, per open
 * struct, the last field id so field headers can use the one-byte delta form.
 * Write calls return nothing: the first failure (out of memory, nesting too
 * deep) is kept in `status` and later calls do nothing, so a long run of
 * fields is checked once at the end with pq_thrift_status.
 *
 * Structs are opened either as a field (pq_thrift_field_struct) or bare
 * (pq_thrift_struct_begin: the top-level message, or an element of a list of
 * structs) and are closed with pq_thrift_struct_end, which writes the stop
 * byte.  A struct serialized on its own is context-free in the compact
 * protocol, so a list element may also be appended pre-encoded (pq_thrift_raw).
 */
#ifndef O2P_PARQUET_THRIFT_H
#define O2P_PARQUET_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Compact-protocol type nibbles. */
enum {
    PQ_TT_BOOL_TRUE = 1,
    PQ_TT_BOOL_FALSE = 2,
    PQ_TT_BYTE = 3,
    PQ_TT_I16 = 4,
    PQ_TT_I32 = 5,
    PQ_TT_I64 = 6,
    PQ_TT_DOUBLE = 7,
    PQ_TT_BINARY = 8,
    PQ_TT_LIST = 9,
    PQ_TT_SET = 10,
    PQ_TT_MAP = 11,
    PQ_TT_STRUCT = 12
};

/* Parquet's metadata nests at most 6 structs deep; leave room. */
#define PQ_THRIFT_MAX_DEPTH 16

typedef struct pq_thrift {
    o2p_buf *out;
    int status;                           /* 0 or the first negative status */
    int depth;                            /* open structs */
    int16_t last_id[PQ_THRIFT_MAX_DEPTH]; /* last field id per open struct */
} pq_thrift;

void pq_thrift_init(pq_thrift *t, o2p_buf *out);
/* O2P_OK, or the first failure; also O2P_ESTATE when structs are still open. */
int pq_thrift_status(const pq_thrift *t);

void pq_thrift_struct_begin(pq_thrift *t);
void pq_thrift_struct_end(pq_thrift *t);
/* Continues a struct whose fields up to last_id were written earlier (into
 * the same output, without its stop byte): the next field's id is encoded
 * relative to last_id; pq_thrift_struct_end ends it. */
void pq_thrift_struct_resume(pq_thrift *t, int16_t last_id);

void pq_thrift_field_struct(pq_thrift *t, int16_t id);
void pq_thrift_field_bool(pq_thrift *t, int16_t id, int value);
void pq_thrift_field_i8(pq_thrift *t, int16_t id, int8_t value);
void pq_thrift_field_i16(pq_thrift *t, int16_t id, int16_t value);
void pq_thrift_field_i32(pq_thrift *t, int16_t id, int32_t value);
void pq_thrift_field_i64(pq_thrift *t, int16_t id, int64_t value);
void pq_thrift_field_binary(pq_thrift *t, int16_t id, const void *data, size_t len);
void pq_thrift_field_string(pq_thrift *t, int16_t id, const char *s);
/* A list field header; the caller then writes exactly `count` elements. */
void pq_thrift_field_list(pq_thrift *t, int16_t id, uint8_t elem_type, size_t count);

/* List elements. */
void pq_thrift_i32(pq_thrift *t, int32_t value);
void pq_thrift_i64(pq_thrift *t, int64_t value);
void pq_thrift_binary(pq_thrift *t, const void *data, size_t len);
void pq_thrift_raw(pq_thrift *t, const void *data, size_t len);

#endif
