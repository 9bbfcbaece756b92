/*
 * http_load: a small closed-loop HTTP/1.1 load generator for the ingest
 * API.  N keep-alive connections each POST the same body over and over for
 * T seconds; it reports requests/s, MB/s, rows/s (given rows per request)
 * and latency percentiles (first byte sent to last byte received).
 *
 *   build/bench/http_load [options] URL BODYFILE
 *     -c N      connections (default 8)
 *     -d SECS   measured duration (default 10)
 *     -w SECS   warm-up before measuring (default 1)
 *     -t TYPE   Content-Type (default application/x-protobuf)
 *     -e ENC    Content-Encoding header (default none)
 *     -H 'K: V' extra header, repeatable (e.g. an Authorization)
 *     -r ROWS   rows per request, for rows/s
 *     -R RATE   fixed total request rate instead of as fast as possible;
 *               latency then counts from each request's scheduled time, so
 *               a stalled server cannot hide its backlog (no coordinated
 *               omission)
 *     -s THR    serve in process: start an http_server with THR threads on
 *               127.0.0.1:0 whose ingest callback only counts, and load it
 *               (the URL's host and port are then ignored)
 *     -j        also print one JSON line with the results
 *
 * Plain non-blocking sockets and one epoll loop keep the client's own cost
 * per request small, so on a shared machine most CPU goes to the server.
 * The client parses just what it needs: the status code and Content-Length
 * (the server always sends one).
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"
#include "server/http_server.h"

#define MAX_CONNS   4096
#define MAX_HEADERS 16
#define RESP_BUF    16384

typedef struct conn {
    int fd;
    size_t sent; /* bytes of the request written so far */
    size_t got;  /* bytes of the response in buf */
    uint64_t start_ns;
    uint64_t due_ns; /* -R: when the next request is scheduled */
    int idle;        /* -R: waiting for due_ns */
    char buf[RESP_BUF];
} conn;

typedef struct load {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    o2p_buf request; /* the complete request: headers + body */
    int epfd;
    conn *conns;
    int nconns;
    int measuring;
    uint64_t interval_ns; /* -R: per-connection spacing; 0 = closed loop */
    uint64_t ok, failed, reconnects, io_errors;
    o2p_buf latencies; /* uint32 microseconds * 10, measured phase only */
} load;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "http_load: %s\n", what);
    exit(2);
}

/* ---- the in-process target --------------------------------------------- */

static _Atomic uint64_t served_requests, served_bytes;

static int count_ingest(void *ctx, unsigned thread_index, otlp_signal signal, otlp_format format,
                        const uint8_t *body, size_t len, http_ingest_reply *reply, o2p_error *err)
{
    (void)ctx, (void)thread_index, (void)signal, (void)format, (void)body, (void)reply, (void)err;
    atomic_fetch_add_explicit(&served_requests, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&served_bytes, len, memory_order_relaxed);
    return O2P_OK;
}

/* ---- connections -------------------------------------------------------- */

static int conn_open(load *l, conn *c)
{
    c->fd = socket(l->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(c->fd, (struct sockaddr *)&l->addr, l->addr_len) < 0 && errno != EINPROGRESS) {
        close(c->fd);
        return -1;
    }
    c->sent = 0;
    c->got = 0;
    c->start_ns = now_ns();
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

static void conn_reopen(load *l, conn *c)
{
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    l->reconnects++;
    if (conn_open(l, c) < 0) die("reconnect failed");
}

static void conn_start_request(load *l, conn *c)
{
    c->sent = 0;
    c->got = 0;
    c->idle = 0;
    c->start_ns = l->interval_ns ? c->due_ns : now_ns();
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void conn_send(load *l, conn *c)
{
    while (c->sent < l->request.len) {
        ssize_t n = send(c->fd, l->request.data + c->sent, l->request.len - c->sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EAGAIN) return;
            l->io_errors++;
            conn_reopen(l, c);
            return;
        }
        c->sent += (size_t)n;
    }
    /* fully sent: only wait for the response now */
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Returns the total response length once headers are in, else 0. */
static size_t response_length(const conn *c, int *status, int *closes)
{
    const char *end = memmem(c->buf, c->got, "\r\n\r\n", 4);
    if (end == NULL) return 0;
    size_t header_len = (size_t)(end - c->buf) + 4;
    *status = atoi(c->buf + 9); /* "HTTP/1.1 200" */
    size_t body_len = 0;
    *closes = 0;
    for (const char *p = c->buf; p < end;) {
        const char *eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
        if (strncasecmp(p, "Content-Length:", 15) == 0) body_len = strtoull(p + 15, NULL, 10);
        if (strncasecmp(p, "Connection: close", 17) == 0) *closes = 1;
        p = eol + 2;
    }
    return header_len + body_len;
}

static void conn_recv(load *l, conn *c)
{
    for (;;) {
        if (c->got == sizeof c->buf) die("response larger than the receive buffer");
        ssize_t n = recv(c->fd, c->buf + c->got, sizeof c->buf - c->got, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            l->io_errors++;
            conn_reopen(l, c);
            return;
        }
        if (n < 0) return;
        c->got += (size_t)n;
        int status = 0, closes = 0;
        size_t total = response_length(c, &status, &closes);
        if (total == 0 || c->got < total) continue;
        if (l->measuring) {
            if (status == 200)
                l->ok++;
            else
                l->failed++;
            uint64_t tenth_us = (now_ns() - c->start_ns) / 100;
            uint32_t v = tenth_us > UINT32_MAX ? UINT32_MAX : (uint32_t)tenth_us;
            if (buf_append(&l->latencies, &v, sizeof v) < 0) die("out of memory");
        }
        if (closes) {
            conn_reopen(l, c);
            if (l->interval_ns) c->start_ns = c->due_ns;
        } else if (l->interval_ns) {
            c->due_ns += l->interval_ns;
            if (c->due_ns <= now_ns())
                conn_start_request(l, c);
            else
                c->idle = 1;
        } else {
            conn_start_request(l, c);
        }
        return;
    }
}

static void run_for(load *l, double secs)
{
    uint64_t end = now_ns() + (uint64_t)(secs * 1e9);
    struct epoll_event events[256];
    while (now_ns() < end) {
        /* In fixed-rate mode sleep exactly until the next scheduled
         * request: a coarse timeout would be counted as server latency. */
        uint64_t wait_ns = 100000000;
        if (l->interval_ns) {
            uint64_t now = now_ns();
            for (int k = 0; k < l->nconns; k++) {
                if (!l->conns[k].idle) continue;
                uint64_t due = l->conns[k].due_ns;
                if (due <= now)
                    wait_ns = 0;
                else if (due - now < wait_ns)
                    wait_ns = due - now;
            }
        }
        struct timespec timeout = {(time_t)(wait_ns / 1000000000u), (long)(wait_ns % 1000000000u)};
        int n = epoll_pwait2(l->epfd, events, 256, &timeout, NULL);
        for (int i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (events[i].events & (EPOLLERR | EPOLLHUP) && !(events[i].events & EPOLLIN)) {
                l->io_errors++;
                conn_reopen(l, c);
                continue;
            }
            if ((events[i].events & EPOLLOUT) && c->sent < l->request.len) conn_send(l, c);
            if (events[i].events & EPOLLIN) conn_recv(l, c);
        }
        if (l->interval_ns) {
            uint64_t now = now_ns();
            for (int k = 0; k < l->nconns; k++)
                if (l->conns[k].idle && l->conns[k].due_ns <= now)
                    conn_start_request(l, &l->conns[k]);
        }
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static double percentile_ms(const uint32_t *sorted, size_t n, double q)
{
    if (n == 0) return 0;
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return (double)sorted[i] / 10000.0;
}

/* ---- set-up --------------------------------------------------------------- */

static void parse_url(const char *url, char *host, size_t host_cap, char *port, char *path)
{
    if (strncmp(url, "http://", 7) != 0) die("URL must start with http://");
    const char *h = url + 7;
    const char *slash = strchr(h, '/');
    const char *hp_end = slash ? slash : h + strlen(h);
    strcpy(path, slash ? slash : "/");
    const char *colon = NULL;
    if (*h == '[') {
        const char *rb = memchr(h, ']', (size_t)(hp_end - h));
        if (!rb) die("bad IPv6 host in URL");
        if ((size_t)(rb - h - 1) >= host_cap) die("host too long");
        memcpy(host, h + 1, (size_t)(rb - h - 1));
        host[rb - h - 1] = '\0';
        colon = rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(h, ':', (size_t)(hp_end - h));
        const char *he = colon ? colon : hp_end;
        if ((size_t)(he - h) >= host_cap) die("host too long");
        memcpy(host, h, (size_t)(he - h));
        host[he - h] = '\0';
    }
    if (colon) {
        size_t plen = (size_t)(hp_end - colon - 1);
        if (plen == 0 || plen > 5) die("bad port in URL");
        memcpy(port, colon + 1, plen);
        port[plen] = '\0';
    } else {
        strcpy(port, "80");
    }
}

static void read_file(const char *path, o2p_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open the body file");
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (buf_append(out, chunk, n) < 0) die("out of memory");
    fclose(f);
}

static void usage(void)
{
    fprintf(stderr, "usage: http_load [-c conns] [-d secs] [-w secs] [-t type] [-e enc] "
                    "[-H 'K: V']... [-r rows] [-R rate] [-s threads] [-j] URL BODYFILE\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int conns = 8, json = 0;
    unsigned serve_threads = 0;
    double duration = 10, warmup = 1, rows = 0, rate = 0;
    const char *ctype = "application/x-protobuf", *cenc = NULL;
    const char *extra[MAX_HEADERS];
    int nextra = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] != '\0'; i++) {
        char opt = argv[i][1];
        if (opt == 'j') {
            json = 1;
            continue;
        }
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        switch (opt) {
        case 'c':
            conns = atoi(v);
            break;
        case 'd':
            duration = atof(v);
            break;
        case 'w':
            warmup = atof(v);
            break;
        case 't':
            ctype = v;
            break;
        case 'e':
            cenc = v;
            break;
        case 'r':
            rows = atof(v);
            break;
        case 'R':
            rate = atof(v);
            break;
        case 's':
            serve_threads = (unsigned)atoi(v);
            break;
        case 'H':
            if (nextra == MAX_HEADERS) die("too many -H");
            extra[nextra++] = v;
            break;
        default:
            usage();
        }
    }
    if (argc - i != 2 || conns < 1 || conns > MAX_CONNS || duration <= 0) usage();
    const char *url = argv[i], *body_path = argv[i + 1];

    char host[256], port[8], path[1024];
    if (strlen(url) >= sizeof path) die("URL too long");
    parse_url(url, host, sizeof host, port, path);

    http_server *srv = NULL;
    if (serve_threads > 0) {
        http_config cfg = {
            .listen_addr = "127.0.0.1:0", .threads = serve_threads, .max_payload_bytes = 64u << 20};
        http_handlers h = {.ingest = count_ingest};
        o2p_error err;
        if (http_server_start(&srv, &cfg, &h, &err) < 0) die(err.msg);
        strcpy(host, "127.0.0.1");
        snprintf(port, sizeof port, "%u", http_server_port(srv));
    }

    load l;
    memset(&l, 0, sizeof l);
    buf_init(&l.request, 0);
    buf_init(&l.latencies, 0);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res;
    if (getaddrinfo(host, port, &hints, &res) != 0) die("cannot resolve the URL's host");
    memcpy(&l.addr, res->ai_addr, res->ai_addrlen);
    l.addr_len = res->ai_addrlen;
    freeaddrinfo(res);

    o2p_buf body;
    buf_init(&body, 0);
    read_file(body_path, &body);
    buf_printf(&l.request, "POST %s HTTP/1.1\r\nHost: %s:%s\r\nContent-Type: %s\r\n", path, host,
               port, ctype);
    if (cenc) buf_printf(&l.request, "Content-Encoding: %s\r\n", cenc);
    for (int k = 0; k < nextra; k++) buf_printf(&l.request, "%s\r\n", extra[k]);
    buf_printf(&l.request, "Content-Length: %zu\r\n\r\n", body.len);
    if (buf_append(&l.request, body.data, body.len) < 0) die("out of memory");

    l.epfd = epoll_create1(EPOLL_CLOEXEC);
    l.conns = mem_calloc((size_t)conns, sizeof *l.conns);
    if (!l.conns) die("out of memory");
    l.nconns = conns;
    if (rate > 0) l.interval_ns = (uint64_t)((double)conns * 1e9 / rate);
    uint64_t first = now_ns();
    for (int k = 0; k < conns; k++) {
        if (conn_open(&l, &l.conns[k]) < 0) die("connect failed");
        /* spread the connections' schedules evenly over one interval */
        l.conns[k].due_ns = first + l.interval_ns * (uint64_t)k / (uint64_t)conns;
        l.conns[k].start_ns = l.interval_ns ? l.conns[k].due_ns : first;
    }

    if (warmup > 0) run_for(&l, warmup);
    l.measuring = 1;
    uint64_t t0 = now_ns();
    run_for(&l, duration);
    double secs = (double)(now_ns() - t0) / 1e9;

    size_t n = l.latencies.len / sizeof(uint32_t);
    uint32_t *lat = (uint32_t *)l.latencies.data;
    if (n) qsort(lat, n, sizeof *lat, cmp_u32);
    double rps = (double)(l.ok + l.failed) / secs;
    double mbps = (double)l.ok * (double)body.len / secs / 1e6;
    double p50 = percentile_ms(lat, n, 0.50), p90 = percentile_ms(lat, n, 0.90),
           p99 = percentile_ms(lat, n, 0.99), pmax = n ? (double)lat[n - 1] / 10000.0 : 0;

    printf("target      %s%s (%d connections, body %zu bytes%s%s", url,
           srv ? " [in-process server]" : "", conns, body.len, cenc ? ", " : "", cenc ? cenc : "");
    if (rate > 0) printf(", fixed rate %.0f requests/s", rate);
    printf(")\n");
    printf("requests    %llu ok, %llu non-200, %llu I/O errors, %llu reconnects in %.2f s\n",
           (unsigned long long)l.ok, (unsigned long long)l.failed, (unsigned long long)l.io_errors,
           (unsigned long long)l.reconnects, secs);
    printf("throughput  %.0f requests/s, %.1f MB/s", rps, mbps);
    if (rows > 0) printf(", %.0f rows/s", (double)l.ok * rows / secs);
    printf("\nlatency ms  p50 %.3f  p90 %.3f  p99 %.3f  max %.3f\n", p50, p90, p99, pmax);
    if (json)
        printf("{\"requests_per_sec\":%.1f,\"mb_per_sec\":%.2f,\"rows_per_sec\":%.0f,"
               "\"ok\":%llu,\"non_200\":%llu,\"io_errors\":%llu,\"p50_ms\":%.4f,"
               "\"p90_ms\":%.4f,\"p99_ms\":%.4f,\"max_ms\":%.4f,\"connections\":%d,"
               "\"body_bytes\":%zu}\n",
               rps, mbps, rows > 0 ? (double)l.ok * rows / secs : 0, (unsigned long long)l.ok,
               (unsigned long long)l.failed, (unsigned long long)l.io_errors, p50, p90, p99, pmax,
               conns, body.len);

    for (int k = 0; k < conns; k++) close(l.conns[k].fd);
    close(l.epfd);
    if (srv) {
        http_server_stop(srv);
        printf("server      ingest callback saw %llu requests, %llu body bytes\n",
               (unsigned long long)atomic_load(&served_requests),
               (unsigned long long)atomic_load(&served_bytes));
        if (atomic_load(&served_requests) < l.ok) die("server counted fewer requests than sent");
    }
    mem_free(l.conns);
    buf_free(&l.request);
    buf_free(&l.latencies);
    buf_free(&body);
    return l.failed || l.io_errors ? 1 : 0;
}
