/*
 * fuzz_grpc: libFuzzer target over the HTTP/2 + gRPC framing layer — the
 * input is what a client sends on a connection (preface, frames, HPACK
 * headers, length-prefixed messages), fed in pieces to a grpc_h2 server
 * session in memory.  The ingest callback answers by the message's first
 * byte so every status path (OK with partial success, INVALID_ARGUMENT,
 * busy with RetryInfo, UNAVAILABLE) runs; its output is drained as a
 * socket would.  An input that starts like a snappy stream (0xff) is also
 * decoded as grpc-encoding "snappy" (snappy_frame, through the same
 * decompressor).  When the last byte has bit 1 set, calls are dispatched
 * (as to the server's decode pool) and completed later, newest first,
 * after more input has arrived.  When it has bit 2 set, admission is
 * paced (admit_paced): some calls wait for their turn and are released
 * between reads, the rest at the end.  Nothing may crash, leak or grow
 * past the limits.
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

/* Paced admission: 77 bytes are refused, multiples of 3 wait. */
static int fuzz_admit_paced(void *ctx, otlp_signal signal, size_t body_bytes, uint64_t *wait_ns,
                            http_ingest_reply *reply, o2p_error *err)
{
    (void)ctx;
    (void)signal;
    (void)reply;
    if (body_bytes == 77) return o2p_errorf(err, O2P_EBUSY, "admission would wait too long");
    *wait_ns = body_bytes % 3 == 0 ? 1000000 : 0;
    return O2P_OK;
}

typedef struct fuzz_stash {
    grpc_h2_job *jobs[16];
    size_t n;
    const http_handlers *hd;
    http_decompressor dec;
} fuzz_stash;

/* Runs and completes the stashed jobs, newest first. */
static void fuzz_complete(fuzz_stash *st, grpc_h2 *h)
{
    while (st->n > 0) {
        grpc_h2_job *job = st->jobs[--st->n];
        grpc_h2_job_run(job, st->hd, 1, &st->dec, 4096, NULL);
        grpc_h2_complete(h, job);
    }
}

static void fuzz_dispatch(void *ctx, grpc_h2 *h, grpc_h2_job *job)
{
    fuzz_stash *st = ctx;
    if (st->n == sizeof st->jobs / sizeof st->jobs[0]) fuzz_complete(st, h);
    st->jobs[st->n++] = job;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const http_handlers plain = {.ingest = fuzz_ingest, .admit = fuzz_admit};
    static const http_handlers paced = {
        .ingest = fuzz_ingest, .admit = fuzz_admit, .admit_paced = fuzz_admit_paced};
    const http_handlers *hd = size > 0 && (data[size - 1] & 4) ? &paced : &plain;
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
    grpc_h2_env_init(&env, hd, 0, 4096, size > 0 && (data[size - 1] & 1) ? "tok" : NULL);
    fuzz_stash st = {.hd = hd};
    http_decompressor_init(&st.dec, 4096);
    if (size > 0 && (data[size - 1] & 2)) {
        env.dispatch = fuzz_dispatch;
        env.dispatch_ctx = &st;
    }
    grpc_h2 *h = grpc_h2_new(&env);
    if (h == NULL) {
        http_decompressor_free(&st.dec);
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
        if (off & 1) fuzz_complete(&st, h);       /* some answers come back between reads */
        if (off & 2) grpc_h2_tick(h, UINT64_MAX); /* some waits end between reads */
        off += n;
        step = step * 3 + 1;
        if (step > 4096) step = 7;
    }
    grpc_h2_tick(h, UINT64_MAX);
    fuzz_complete(&st, h);
    grpc_h2_goaway(h);
    buf_reset(&out);
    grpc_h2_send(h, &out, 1u << 20);
    buf_free(&out);
    grpc_h2_free(h);
    http_decompressor_free(&st.dec);
    grpc_h2_env_free(&env);
    return 0;
}
