/* Unit tests for the Thrift compact encoder and varint/zigzag helpers;
 * expected bytes are worked out by hand from the Thrift compact protocol
 * specification. */
#include "core/buf.h"
#include "core/error.h"
#include "core/mem.h"
#include "parquet/pq_thrift.h"
#include "parquet/pq_varint.h"
#include "unit.h"

TEST(pq_varint_encoding)
{
    uint8_t b[PQ_VARINT_MAX];
    CHECK_BYTES(b, pq_varint_put(b, 0), 0x00);
    CHECK_BYTES(b, pq_varint_put(b, 1), 0x01);
    CHECK_BYTES(b, pq_varint_put(b, 127), 0x7F);
    CHECK_BYTES(b, pq_varint_put(b, 128), 0x80, 0x01);
    CHECK_BYTES(b, pq_varint_put(b, 300), 0xAC, 0x02);
    CHECK_BYTES(b, pq_varint_put(b, 1ull << 32), 0x80, 0x80, 0x80, 0x80, 0x10);
    CHECK_BYTES(b, pq_varint_put(b, UINT64_MAX), 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                0xFF, 0x01);
}

TEST(pq_varint_zigzag)
{
    CHECK_UINT(pq_zigzag32(0), 0);
    CHECK_UINT(pq_zigzag32(-1), 1);
    CHECK_UINT(pq_zigzag32(1), 2);
    CHECK_UINT(pq_zigzag32(-2), 3);
    CHECK_UINT(pq_zigzag32(INT32_MAX), 0xFFFFFFFEu);
    CHECK_UINT(pq_zigzag32(INT32_MIN), 0xFFFFFFFFu);
    CHECK_UINT(pq_zigzag64(-3), 5);
    CHECK_UINT(pq_zigzag64(INT64_MAX), 0xFFFFFFFFFFFFFFFEull);
    CHECK_UINT(pq_zigzag64(INT64_MIN), 0xFFFFFFFFFFFFFFFFull);
}

TEST(pq_thrift_fields_and_deltas)
{
    o2p_buf b;
    buf_init(&b, 0);
    pq_thrift t;
    pq_thrift_init(&t, &b);
    pq_thrift_struct_begin(&t);
    pq_thrift_field_i32(&t, 1, 5);           /* delta 1, i32: 0x15, zigzag 10 */
    pq_thrift_field_i32(&t, 3, -1);          /* delta 2: 0x25, zigzag 1 */
    pq_thrift_field_i64(&t, 20, 300);        /* delta 17: long form 0x06, id zz 40, value zz 600 */
    pq_thrift_field_bool(&t, 21, 1);         /* 0x11 */
    pq_thrift_field_bool(&t, 22, 0);         /* 0x12 */
    pq_thrift_field_binary(&t, 23, "ab", 2); /* 0x18 len 2 */
    pq_thrift_field_i16(&t, 24, -2);         /* 0x14 zigzag 3 */
    pq_thrift_field_i8(&t, 25, -1);          /* 0x13 0xFF */
    pq_thrift_field_i32(&t, 2, 7);           /* backwards: long form 0x05, id zz 4 */
    pq_thrift_struct_end(&t);
    CHECK_OK(pq_thrift_status(&t));
    CHECK_BYTES(b.data, b.len, 0x15, 0x0A, 0x25, 0x01, 0x06, 0x28, 0xD8, 0x04, 0x11, 0x12, 0x18,
                0x02, 'a', 'b', 0x14, 0x03, 0x13, 0xFF, 0x05, 0x04, 0x0E, 0x00);
    buf_free(&b);
}

TEST(pq_thrift_lists_and_nested_structs)
{
    o2p_buf b;
    buf_init(&b, 0);
    pq_thrift t;
    pq_thrift_init(&t, &b);
    pq_thrift_struct_begin(&t);
    pq_thrift_field_list(&t, 1, PQ_TT_I32, 3); /* 0x19, size 3 i32: 0x35 */
    pq_thrift_i32(&t, 1);
    pq_thrift_i32(&t, -1);
    pq_thrift_i32(&t, 64);
    pq_thrift_field_list(&t, 2, PQ_TT_STRUCT, 1); /* 0x19 0x1C */
    pq_thrift_struct_begin(&t);
    pq_thrift_field_string(&t, 4, "x"); /* ids restart inside the element: delta 4 0x48 */
    pq_thrift_struct_end(&t);
    pq_thrift_field_struct(&t, 3); /* 0x1C, last id back to 2 outside */
    pq_thrift_field_struct(&t, 1); /* 0x1C */
    pq_thrift_struct_end(&t);
    pq_thrift_field_i64(&t, 2, 1); /* after field 1 of this struct: 0x16 0x02 */
    pq_thrift_struct_end(&t);
    pq_thrift_field_list(&t, 4, PQ_TT_BINARY, 15); /* long list header: 0x19 0xF8 0x0F */
    for (int i = 0; i < 15; i++) pq_thrift_binary(&t, "", 0);
    pq_thrift_struct_end(&t);
    CHECK_OK(pq_thrift_status(&t));
    CHECK_BYTES(b.data, b.len, 0x19, 0x35, 0x02, 0x01, 0x80, 0x01, 0x19, 0x1C, 0x48, 0x01, 'x',
                0x00, 0x1C, 0x1C, 0x00, 0x16, 0x02, 0x00, 0x19, 0xF8, 0x0F, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0x00);
    buf_free(&b);
}

TEST(pq_thrift_status_reports_misuse_and_oom)
{
    o2p_buf b;
    buf_init(&b, 0);
    pq_thrift t;
    pq_thrift_init(&t, &b);
    pq_thrift_struct_begin(&t);
    CHECK_INT(pq_thrift_status(&t), O2P_ESTATE); /* still open */
    for (int i = 0; i < PQ_THRIFT_MAX_DEPTH; i++) pq_thrift_field_struct(&t, 1);
    CHECK_INT(pq_thrift_status(&t), O2P_ELIMIT);

    pq_thrift_init(&t, &b);
    pq_thrift_field_i32(&t, 1, 1); /* a field outside any struct */
    CHECK_INT(pq_thrift_status(&t), O2P_ESTATE);

    o2p_buf small;
    buf_init(&small, 3);
    pq_thrift_init(&t, &small);
    pq_thrift_struct_begin(&t);
    pq_thrift_field_string(&t, 1, "too long for three bytes");
    pq_thrift_struct_end(&t);
    CHECK_INT(pq_thrift_status(&t), O2P_ENOMEM);
    buf_free(&small);

    buf_reset(&b);
    buf_free(&b);
    mem_fail_after(0);
    pq_thrift_init(&t, &b);
    pq_thrift_struct_begin(&t);
    pq_thrift_field_i32(&t, 1, 1);
    mem_fail_after(-1);
    CHECK_INT(pq_thrift_status(&t), O2P_ENOMEM);
    buf_free(&b);
}
