/* pq_thrift: Thrift compact-protocol encoder (see pq_thrift.h). */
#include "parquet/pq_thrift.h"

#include <string.h>

#include "core/error.h"
#include "parquet/pq_varint.h"

void pq_thrift_init(pq_thrift *t, o2p_buf *out)
{
    t->out = out;
    t->status = O2P_OK;
    t->depth = 0;
    memset(t->last_id, 0, sizeof t->last_id);
}

int pq_thrift_status(const pq_thrift *t)
{
    if (t->status < 0) return t->status;
    return t->depth == 0 ? O2P_OK : O2P_ESTATE;
}

static void put_bytes(pq_thrift *t, const void *data, size_t len)
{
    if (t->status < 0) return;
    if (buf_append(t->out, data, len) < 0) t->status = O2P_ENOMEM;
}

static void put_byte(pq_thrift *t, uint8_t byte)
{
    put_bytes(t, &byte, 1);
}

static void put_varint(pq_thrift *t, uint64_t v)
{
    uint8_t tmp[PQ_VARINT_MAX];
    put_bytes(t, tmp, pq_varint_put(tmp, v));
}

/* The short form packs the id delta into the type byte when it is 1..15;
 * otherwise the id follows as a zigzag i16 varint. */
static void field_header(pq_thrift *t, int16_t id, uint8_t type)
{
    if (t->status < 0) return;
    if (t->depth == 0) {
        t->status = O2P_ESTATE;
        return;
    }
    int16_t *last = &t->last_id[t->depth - 1];
    int delta = (int)id - (int)*last;
    if (delta > 0 && delta <= 15) {
        put_byte(t, (uint8_t)((delta << 4) | type));
    } else {
        put_byte(t, type);
        put_varint(t, pq_zigzag32(id));
    }
    *last = id;
}

static void push(pq_thrift *t)
{
    if (t->status < 0) return;
    if (t->depth == PQ_THRIFT_MAX_DEPTH) {
        t->status = O2P_ELIMIT;
        return;
    }
    t->last_id[t->depth++] = 0;
}

void pq_thrift_struct_begin(pq_thrift *t)
{
    push(t);
}

void pq_thrift_struct_resume(pq_thrift *t, int16_t last_id)
{
    push(t);
    if (t->status == O2P_OK) t->last_id[t->depth - 1] = last_id;
}

void pq_thrift_struct_end(pq_thrift *t)
{
    if (t->status < 0) return;
    if (t->depth == 0) {
        t->status = O2P_ESTATE;
        return;
    }
    put_byte(t, 0);
    t->depth--;
}

void pq_thrift_field_struct(pq_thrift *t, int16_t id)
{
    field_header(t, id, PQ_TT_STRUCT);
    push(t);
}

void pq_thrift_field_bool(pq_thrift *t, int16_t id, int value)
{
    field_header(t, id, value ? PQ_TT_BOOL_TRUE : PQ_TT_BOOL_FALSE);
}

void pq_thrift_field_i8(pq_thrift *t, int16_t id, int8_t value)
{
    field_header(t, id, PQ_TT_BYTE);
    put_byte(t, (uint8_t)value);
}

void pq_thrift_field_i16(pq_thrift *t, int16_t id, int16_t value)
{
    field_header(t, id, PQ_TT_I16);
    put_varint(t, pq_zigzag32(value));
}

void pq_thrift_field_i32(pq_thrift *t, int16_t id, int32_t value)
{
    field_header(t, id, PQ_TT_I32);
    put_varint(t, pq_zigzag32(value));
}

void pq_thrift_field_i64(pq_thrift *t, int16_t id, int64_t value)
{
    field_header(t, id, PQ_TT_I64);
    put_varint(t, pq_zigzag64(value));
}

void pq_thrift_field_binary(pq_thrift *t, int16_t id, const void *data, size_t len)
{
    field_header(t, id, PQ_TT_BINARY);
    pq_thrift_binary(t, data, len);
}

void pq_thrift_field_string(pq_thrift *t, int16_t id, const char *s)
{
    pq_thrift_field_binary(t, id, s, strlen(s));
}

void pq_thrift_field_list(pq_thrift *t, int16_t id, uint8_t elem_type, size_t count)
{
    field_header(t, id, PQ_TT_LIST);
    if (count < 15) {
        put_byte(t, (uint8_t)((count << 4) | elem_type));
    } else {
        put_byte(t, (uint8_t)(0xF0 | elem_type));
        put_varint(t, count);
    }
}

void pq_thrift_i32(pq_thrift *t, int32_t value)
{
    put_varint(t, pq_zigzag32(value));
}

void pq_thrift_i64(pq_thrift *t, int64_t value)
{
    put_varint(t, pq_zigzag64(value));
}

void pq_thrift_binary(pq_thrift *t, const void *data, size_t len)
{
    put_varint(t, len);
    put_bytes(t, data, len);
}

void pq_thrift_raw(pq_thrift *t, const void *data, size_t len)
{
    put_bytes(t, data, len);
}
