/*
 * fuzz_grpc: libFuzzer target over the HTTP/2 + gRPC framing layer — the
 * input is what a client sends on a connection (preface, frames, HPACK
 * headers, length-prefixed messages), fed in pieces to a grpc_h2 server
 * session in memory.  The ingest callback answers by the message's first
 * byte so every status path (OK with partial success, INVALID_ARGUMENT,
 * busy with RetryInfo, UNAVAILABLE) runs; its output is drained as a
 * socket would.  An input that starts like a snappy stream (0xff) is also
 * decoded as grpc-encoding "snappy" (snappy_frame, through the same
 * decompressor).  Nothing may crash, leak or grow past the limits.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "server/grpc_h2.h"

static int fuzz_ingest(void *ctx, unsigned thread_index, otlp_signal signal, otlp_format format,
                       const uint8_t *body, size_t len, http_ingest_reply *reply, o2p_error *err)
{
    (void)ctx;
    (void)thread_index;
    (void)signal;
    (void)format;
    switch (len ? body[0] % 5 : 0) {
    case 1:
        reply->rejected = len;
        snprintf(reply->message, sizeof reply->message, "rejected %zu", len);
        return O2P_OK;
    case 2:
        return o2p_errorf(err, O2P_EINVAL, "bad field \xff%%");
    case 3:
        reply->retry_after_secs = 2;
        return o2p_errorf(err, O2P_EBUSY, "buffer full");
    case 4:
        return O2P_EIO;
    default:
        return O2P_OK;
    }
}

static int fuzz_admit(void *ctx, otlp_signal signal, size_t body_bytes, http_ingest_reply *reply,
                      o2p_error *err)
{
    (void)ctx;
    (void)signal;
    (void)reply;
    return body_bytes == 77 ? o2p_errorf(err, O2P_EBUSY, "admit refused") : O2P_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const http_handlers handlers = {.ingest = fuzz_ingest, .admit = fuzz_admit};
    if (size > 0 && data[0] == 0xff) {
        http_decompressor d;
        http_decompressor_init(&d, 4096);
        o2p_error err;
        if (http_decompress(&d, HTTP_ENC_SNAPPY, data, size, &err) == O2P_OK && d.out.len > 4096)
            __builtin_trap(); /* the limit holds */
        http_decompressor_free(&d);
    }
    grpc_h2_env env;
    /* a small limit so oversized messages and connection caps are reachable */
    grpc_h2_env_init(&env, &handlers, 0, 4096, size > 0 && (data[size - 1] & 1) ? "tok" : NULL);
    grpc_h2 *h = grpc_h2_new(&env);
    if (h == NULL) {
        grpc_h2_env_free(&env);
        return 0;
    }
    o2p_buf out;
    buf_init(&out, 0);
    /* pieces of varying size, as reads from a socket would be */
    size_t off = 0, step = 1;
    while (off < size) {
        size_t n = size - off < step ? size - off : step;
        int rc = grpc_h2_recv(h, data + off, n);
        buf_reset(&out);
        grpc_h2_send(h, &out, 1u << 20);
        if (rc < 0 || grpc_h2_done(h)) break;
        off += n;
        step = step * 3 + 1;
        if (step > 4096) step = 7;
    }
    grpc_h2_goaway(h);
    buf_reset(&out);
    grpc_h2_send(h, &out, 1u << 20);
    buf_free(&out);
    grpc_h2_free(h);
    grpc_h2_env_free(&env);
    return 0;
}
