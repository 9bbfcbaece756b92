/*
 * suite_http: HTTP ingest against the real server binary (spec §9: ≥ 500k
 * records/s with 1,000-record requests on 2 cores, p99 ≤ 10 ms).
 *
 * Setup starts `otlp2parquet serve -p PORT -o TMPDIR` on a free loopback port
 * (the environment passes through, so OTLP2PARQUET_* settings apply), waits
 * for GET /health, and opens --http-conns keep-alive connections.  One
 * iteration is one POST /v1/logs of a protobuf export request; `measure`
 * spreads the iterations over the connections (one thread each, closed
 * loop: a connection sends its next request when the previous answer has
 * arrived) and returns the wall time, so the per-iteration time is the
 * inverse of the accepted-request rate (refused requests are retried, see
 * worker).  Every request's latency (first send → full response read) is
 * kept and reported as percentiles.  Also measured:
 * server start-up time (exec → first /health 200), server peak RSS (VmHWM)
 * and server CPU time per request.  The case is skipped with a message when
 * the binary does not exist.
 *
 * Fixed-rate cases (param_c = offered rows/s, HTTP_CASE_RATE): request i of
 * a sample is due at sample start + i / (rate / records); a connection that
 * is free waits until the next request's due time, and its latency counts
 * from the due time, not from the send, so a server that falls behind shows
 * its backlog (no coordinated omission).  At a rate the server sustains the
 * latency is the request's own cost, not queueing behind the closed loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../harness/gen.h"
#include "../harness/harness.h"
#include "core/mem.h"

#include <nghttp2/nghttp2.h>

#define HTTP_POOL      8
#define HTTP_MAX_CONNS 64

/* The WAL counters of one /metrics read, and what a case learns (see below). */
typedef struct wal_counters {
    int present;
    double syncs, appends, bytes, sync_sum, sync_le_10ms;
    double rolls_spare, rolls_partial, rolls_alloc, rolls_recycled; /* 0: none */
} wal_counters;

typedef struct wal_probe {
    wal_counters begin, end;
    double secs;          /* sum of the timed samples */
    char fs[64];          /* filesystem of the WAL directory */
    char durability[160]; /* the server's banner line */
} wal_probe;

typedef struct lat_list {
    double *v; /* seconds */
    size_t n, cap;
} lat_list;

typedef struct http_state {
    pid_t pid;
    uint16_t port;
    char dir[256];
    o2p_buf wire[HTTP_POOL]; /* complete HTTP requests (headers + body) */
    size_t body_bytes;
    int conns;
    int fd[HTTP_MAX_CONNS];
    lat_list lat[HTTP_MAX_CONNS];
    uint64_t status_ok, status_busy, status_other, reconnects;
    int last_bad_status;
    double startup_ms;
    long server_cpu_ticks_start;
    uint64_t requests_measured;
    int records;
    double rate_rps; /* fixed-rate cases: offered requests/s (0: closed loop) */
    wal_probe wal;
    /* per measure() call */
    double sched_t0; /* fixed rate: when request 0 of this call is due */
    _Atomic uint64_t next;
    uint64_t iters;
    int failed;
    char fail_msg[256];
    pthread_mutex_t mu;
} http_state;

static int connect_port(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static uint16_t free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    uint16_t port = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int send_all(int fd, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one HTTP/1.1 response; returns its status code, or -1 when the
 * connection failed or closed. */
static int read_response(int fd)
{
    char buf[16384];
    size_t have = 0;
    char *hdr_end = NULL;
    while (hdr_end == NULL) {
        if (have == sizeof buf - 1) return -1;
        ssize_t r = recv(fd, buf + have, sizeof buf - 1 - have, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        have += (size_t)r;
        buf[have] = '\0';
        hdr_end = strstr(buf, "\r\n\r\n");
    }
    int status = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1) return -1;
    size_t header_len = (size_t)(hdr_end + 4 - buf);
    long content_length = -1;
    int chunked = 0;
    for (char *line = strstr(buf, "\r\n"); line && line < hdr_end;
         line = strstr(line + 2, "\r\n")) {
        char *l = line + 2;
        if (strncasecmp(l, "Content-Length:", 15) == 0) content_length = strtol(l + 15, NULL, 10);
        if (strncasecmp(l, "Transfer-Encoding:", 18) == 0 && strstr(l, "chunked") &&
            strstr(l, "chunked") < strstr(l, "\r\n"))
            chunked = 1;
    }
    size_t body_have = have - header_len;
    if (chunked) {
        /* Bodies here are tiny: read until the terminating zero chunk. */
        memmove(buf, buf + header_len, body_have);
        buf[body_have] = '\0';
        while (strstr(buf, "0\r\n\r\n") == NULL) {
            if (body_have == sizeof buf - 1) return -1;
            ssize_t r = recv(fd, buf + body_have, sizeof buf - 1 - body_have, 0);
            if (r <= 0) return -1;
            body_have += (size_t)r;
            buf[body_have] = '\0';
        }
        return status;
    }
    if (content_length < 0) content_length = 0;
    while ((long)body_have < content_length) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        body_have += (size_t)r;
    }
    return status;
}

static int get_health(uint16_t port)
{
    int fd = connect_port(port);
    if (fd < 0) return -1;
    static const char req[] =
        "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    int st = send_all(fd, (const uint8_t *)req, sizeof req - 1) == 0 ? read_response(fd) : -1;
    close(fd);
    return st;
}

/* ---- the server's write-ahead log, seen through /metrics -------------------
 *
 * Every server case reads GET /metrics when its samples begin and when they
 * end.  The differences of otlp2parquet_wal_syncs_total, _appends_total and
 * _appended_bytes_total (record headers and padding included) give syncs per
 * second of sampling, appends per accepted request and WAL bytes per
 * accepted row; _sync_duration_seconds gives the mean sync time and the
 * share of syncs over 10 ms; _rolls_total{from=...} says how many new
 * segments came from the zero-filled spare, from a spare still being
 * filled, or from posix_fallocate.  In memory mode those families are absent and
 * only the mode is reported.  The mode is the server's own banner line
 * ("durability: ..."), so what is reported is what ran. */

/* Value of the series `series` (name plus labels) in a Prometheus text body. */
static int prom_value(const char *text, const char *series, double *out)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ') {
            *out = strtod(p + n + 1, NULL);
            return 1;
        }
    }
    return 0;
}

static void wal_scrape(uint16_t port, wal_counters *c)
{
    memset(c, 0, sizeof *c);
    int fd = connect_port(port);
    if (fd < 0) return;
    struct timeval tv = {.tv_sec = 10}; /* a wedged server must not hang the run */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    static const char req[] =
        "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    o2p_buf b;
    buf_init(&b, 0);
    if (send_all(fd, (const uint8_t *)req, sizeof req - 1) == 0) {
        char chunk[16384];
        ssize_t r;
        while ((r = recv(fd, chunk, sizeof chunk, 0)) > 0 || (r < 0 && errno == EINTR))
            if (r > 0 && buf_append(&b, chunk, (size_t)r) < 0) break;
    }
    close(fd);
    if (buf_push_byte(&b, '\0') == 0 && strncmp((const char *)b.data, "HTTP/1.1 200", 12) == 0) {
        const char *t = (const char *)b.data;
        c->present = prom_value(t, "otlp2parquet_wal_syncs_total", &c->syncs) &&
                     prom_value(t, "otlp2parquet_wal_appends_total", &c->appends) &&
                     prom_value(t, "otlp2parquet_wal_appended_bytes_total", &c->bytes) &&
                     prom_value(t, "otlp2parquet_wal_sync_duration_seconds_sum", &c->sync_sum) &&
                     prom_value(t, "otlp2parquet_wal_sync_duration_seconds_bucket{le=\"0.01\"}",
                                &c->sync_le_10ms);
        prom_value(t, "otlp2parquet_wal_rolls_total{from=\"spare\"}", &c->rolls_spare);
        prom_value(t, "otlp2parquet_wal_rolls_total{from=\"partial_spare\"}", &c->rolls_partial);
        prom_value(t, "otlp2parquet_wal_rolls_total{from=\"allocate\"}", &c->rolls_alloc);
        prom_value(t, "otlp2parquet_wal_rolls_total{from=\"recycled\"}", &c->rolls_recycled);
    }
    buf_free(&b);
}

static const char *fs_name(long type)
{
    switch ((unsigned long)type) {
    case 0xEF53:
        return "ext2/3/4";
    case 0x01021994:
        return "tmpfs (fdatasync does not reach a disk)";
    case 0x858458f6:
        return "ramfs (fdatasync does not reach a disk)";
    case 0x58465342:
        return "xfs";
    case 0x9123683e:
        return "btrfs";
    case 0x794c7630:
        return "overlayfs";
    case 0x2fc12fc1:
        return "zfs";
    case 0xf2f52010:
        return "f2fs";
    case 0x6969:
        return "nfs";
    default:
        return NULL;
    }
}

/* After start-up: the WAL directory's filesystem and the durability banner. */
static void wal_probe_setup(wal_probe *w, const char *dir)
{
    char path[320];
    snprintf(path, sizeof path, "%s/wal", dir);
    struct statfs sf;
    if (statfs(path, &sf) != 0 && statfs(dir, &sf) != 0) sf.f_type = 0;
    const char *name = fs_name((long)sf.f_type);
    if (name)
        snprintf(w->fs, sizeof w->fs, "%s", name);
    else
        snprintf(w->fs, sizeof w->fs, "statfs type 0x%lx", (unsigned long)sf.f_type);
    snprintf(path, sizeof path, "%s/server.log", dir);
    snprintf(w->durability, sizeof w->durability, "durability: unknown");
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *d = strstr(line, "durability: ");
        if (d) {
            d[strcspn(d, "\r\n")] = '\0';
            snprintf(w->durability, sizeof w->durability, "%s", d);
            break;
        }
    }
    fclose(f);
}

/* "memory", "wal sync always" or "wal sync interval", from the banner. */
static const char *wal_mode(const wal_probe *w)
{
    if (strncmp(w->durability, "durability: wal", 15) == 0)
        return strstr(w->durability, "synced every") ? "wal sync interval" : "wal sync always";
    return strncmp(w->durability, "durability: memory", 18) == 0 ? "memory" : "unknown";
}

static void wal_probe_json(const wal_probe *w, o2p_buf *json, double rows, double requests)
{
    int wal = strncmp(w->durability, "durability: wal", 15) == 0;
    buf_printf(json, ",\"durability\":\"%s\",\"wal_sync\":\"%s\",\"wal_fs\":",
               wal ? "wal" : (strstr(w->durability, "memory") ? "memory" : "unknown"),
               !wal ? "none" : (strstr(w->durability, "synced every") ? "interval" : "always"));
    json_str(json, w->fs);
    buf_append_str(json, ",\"server_durability\":");
    json_str(json, w->durability);
    if (!w->begin.present || !w->end.present) return;
    double syncs = w->end.syncs - w->begin.syncs;
    double appends = w->end.appends - w->begin.appends;
    double bytes = w->end.bytes - w->begin.bytes;
    double sum = w->end.sync_sum - w->begin.sync_sum;
    double slow = syncs - (w->end.sync_le_10ms - w->begin.sync_le_10ms);
    buf_printf(json, ",\"wal\":{\"syncs\":%.0f,\"appends\":%.0f,\"appended_bytes\":%.0f", syncs,
               appends, bytes);
    buf_append_str(json, ",\"syncs_per_sec\":");
    json_num(json, w->secs > 0 ? syncs / w->secs : -1);
    buf_append_str(json, ",\"requests_per_sync\":");
    json_num(json, syncs > 0 ? requests / syncs : -1);
    buf_append_str(json, ",\"appends_per_request\":");
    json_num(json, requests > 0 ? appends / requests : -1);
    buf_append_str(json, ",\"bytes_per_row\":");
    json_num(json, rows > 0 ? bytes / rows : -1);
    buf_append_str(json, ",\"sync_mean_ms\":");
    json_num(json, syncs > 0 ? sum / syncs * 1e3 : -1);
    buf_append_str(json, ",\"syncs_over_10ms\":");
    json_num(json, slow);
    buf_printf(
        json,
        ",\"rolls_spare\":%.0f,\"rolls_partial_spare\":%.0f,\"rolls_allocate\":%.0f,"
        "\"rolls_recycled\":%.0f",
        w->end.rolls_spare - w->begin.rolls_spare, w->end.rolls_partial - w->begin.rolls_partial,
        w->end.rolls_alloc - w->begin.rolls_alloc, w->end.rolls_recycled - w->begin.rolls_recycled);
    buf_append_str(json, "}");
}

/* ", WAL 123 syncs/s, 512 B/row, sync 1.2 ms" or "" in memory mode. */
static void wal_probe_text(const wal_probe *w, char *out, size_t cap, double rows)
{
    out[0] = '\0';
    if (!w->begin.present || !w->end.present) return;
    double syncs = w->end.syncs - w->begin.syncs;
    snprintf(
        out, cap,
        "; WAL %.0f syncs/s, %.0f B/row, sync mean %.2f ms (%s), rolls from spare/partial/"
        "fallocate/recycled %.0f/%.0f/%.0f/%.0f",
        w->secs > 0 ? syncs / w->secs : 0, rows > 0 ? (w->end.bytes - w->begin.bytes) / rows : 0,
        syncs > 0 ? (w->end.sync_sum - w->begin.sync_sum) / syncs * 1e3 : 0, w->fs,
        w->end.rolls_spare - w->begin.rolls_spare, w->end.rolls_partial - w->begin.rolls_partial,
        w->end.rolls_alloc - w->begin.rolls_alloc, w->end.rolls_recycled - w->begin.rolls_recycled);
}

static long proc_status_kb(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    long v = -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') v = strtol(line + kl + 1, NULL, 10);
    fclose(f);
    return v;
}

static long proc_cpu_ticks(pid_t pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return -1;
    long ticks = -1;
    if (fgets(line, sizeof line, f)) {
        char *p = strrchr(line, ')'); /* comm may contain spaces */
        unsigned long ut, st;
        if (p &&
            sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) == 2)
            ticks = (long)(ut + st);
    }
    fclose(f);
    return ticks;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void stop_server(http_state *s)
{
    if (s->pid <= 0) return;
    kill(s->pid, SIGTERM);
    /* The server flushes buffered rows on SIGTERM; give it time, then force. */
    for (int i = 0; i < 600; i++) {
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = 0;
            return;
        }
        usleep(50000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

static void http_teardown(void *p)
{
    http_state *s = p;
    if (s == NULL) return;
    for (int i = 0; i < s->conns; i++) {
        if (s->fd[i] >= 0) close(s->fd[i]);
        mem_free(s->lat[i].v);
    }
    stop_server(s);
    if (s->dir[0]) nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < HTTP_POOL; i++) buf_free(&s->wire[i]);
    pthread_mutex_destroy(&s->mu);
    mem_free(s);
}

static void tail_log(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL) return;
    char line[512];
    while (fgets(line, sizeof line, f)) snprintf(out, cap, "%s", line);
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
}

/* Applies "K=V K=V" to the environment (in the forked child). */
static void apply_env(const char *env)
{
    if (env == NULL) return;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s", env);
    for (char *save = NULL, *kv = strtok_r(tmp, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(kv, '=');
        if (eq == NULL) continue;
        *eq = '\0';
        setenv(kv, eq + 1, 1);
    }
}

/*
 * Starts `serve` on a free loopback port with its data in a fresh directory
 * made from tmpl (a mkdtemp template under $TMPDIR, default /tmp; its path
 * goes to dir), the "K=V ..." settings of env and the gRPC listener at
 * grpc_port ("0" = off), output in <dir>/server.log; returns once /health
 * answers 200, with the start-up time.  The write-ahead log (when the
 * server runs with one) is <dir>/wal, beside <dir>/data on the same
 * filesystem, so its fdatasync costs what the data directory's would.
 */
static int bench_server_start(const char *tmpl, const char *env, const char *grpc_port, char *dir,
                              size_t dir_cap, uint16_t *port_out, pid_t *pid_out,
                              double *startup_ms, o2p_error *err)
{
    char t[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(t, sizeof t, "%s/%s", tmp && tmp[0] ? tmp : "/tmp", tmpl);
    if (mkdtemp(t) == NULL) return o2p_errorf(err, O2P_EIO, "mkdtemp: %s", strerror(errno));
    snprintf(dir, dir_cap, "%s", t);
    uint16_t p = free_port();
    if (p == 0) return o2p_errorf(err, O2P_EIO, "no free loopback port");
    *port_out = p;
    char port[16], data[300], logpath[300], waldir[300];
    snprintf(port, sizeof port, "%u", p);
    snprintf(data, sizeof data, "%s/data", dir);
    snprintf(logpath, sizeof logpath, "%s/server.log", dir);
    snprintf(waldir, sizeof waldir, "%s/wal", dir);
    double t0 = bench_now();
    pid_t pid = fork();
    if (pid < 0) return o2p_errorf(err, O2P_EIO, "fork: %s", strerror(errno));
    if (pid == 0) {
        int lfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (lfd >= 0) {
            dup2(lfd, 1);
            dup2(lfd, 2);
        }
        setenv("OTLP2PARQUET_WAL_DIR", waldir, 1);
        apply_env(env);
        execl(bench_opts.server, bench_opts.server, "serve", "-p", port, "--grpc-port", grpc_port,
              "-o", data, (char *)NULL);
        _exit(127);
    }
    *pid_out = pid;
    for (;;) {
        if (get_health(p) == 200) break;
        int wst;
        if (waitpid(pid, &wst, WNOHANG) == pid) {
            *pid_out = 0;
            char last[512];
            tail_log(logpath, last, sizeof last);
            return o2p_errorf(err, O2P_EIO, "server exited during start-up: %s", last);
        }
        if (bench_now() - t0 > 15) return o2p_errorf(err, O2P_EIO, "server not healthy after 15 s");
        usleep(1000);
    }
    *startup_ms = (bench_now() - t0) * 1e3;
    return O2P_OK;
}

static int http_setup_state(const bench_case *c, void **out, bench_info *info, o2p_error *err)
{
    if (access(bench_opts.server, X_OK) != 0)
        return o2p_errorf(err, O2P_EUNSUPPORTED,
                          "server binary %s not found (build it with make, or set "
                          "O2P_BENCH_SERVER / --server)",
                          bench_opts.server);
    http_state *s = mem_calloc(1, sizeof *s);
    if (s == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    *out = s;
    pthread_mutex_init(&s->mu, NULL);
    s->records = c->param_a;
    s->rate_rps = c->param_c > 0 ? (double)c->param_c / c->param_a : 0;
    s->conns = c->param_b > 0 ? c->param_b : bench_opts.http_conns; /* 0: --http-conns */
    if (s->conns > HTTP_MAX_CONNS) s->conns = HTTP_MAX_CONNS;
    for (int i = 0; i < HTTP_MAX_CONNS; i++) s->fd[i] = -1;

    /* Request pool: distinct bodies, timestamps "now" so partitions look live. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t base = (uint64_t)now.tv_sec * 1000000000ull;
    o2p_buf body;
    buf_init(&body, 0);
    for (int i = 0; i < HTTP_POOL; i++) {
        buf_reset(&body);
        long rc = gen_request(&body, OTLP_LOGS, OTLP_FMT_PROTOBUF, (size_t)s->records, 500 + i,
                              base, (unsigned)i);
        if (rc < 0) {
            buf_free(&body);
            return o2p_errorf(err, (int)rc, "generating request %d failed", i);
        }
        buf_init(&s->wire[i], 0);
        buf_printf(&s->wire[i],
                   "POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                   "application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
                   body.len);
        buf_append(&s->wire[i], body.data, body.len);
        s->body_bytes += body.len;
    }
    buf_free(&body);

    const char *gport = getenv("O2P_BENCH_GRPC_PORT"); /* gRPC off unless the gRPC case asks */
    O2P_TRY(bench_server_start("o2p-bench-http-XXXXXX", c->server_env, gport ? gport : "0", s->dir,
                               sizeof s->dir, &s->port, &s->pid, &s->startup_ms, err));
    wal_probe_setup(&s->wal, s->dir);
    for (int i = 0; i < s->conns; i++) {
        s->fd[i] = connect_port(s->port);
        if (s->fd[i] < 0) return o2p_errorf(err, O2P_EIO, "connect: %s", strerror(errno));
    }
    info->rows_per_iter = s->records;
    info->bytes_per_iter = (double)s->body_bytes / HTTP_POOL;
    snprintf(info->params, sizeof info->params,
             "POST /v1/logs protobuf, %d records/request (%.0f bytes), %d keep-alive connections, "
             "%s, WAL dir on %s%s",
             s->records, info->bytes_per_iter, s->conns, wal_mode(&s->wal), s->wal.fs,
             s->rate_rps > 0 ? ", fixed rate (open loop)" : ", closed loop");
    return 0;
}

/* A failure stops the server it started and frees the state: the harness
 * does not tear down a case whose setup failed (grpc_setup relies on it). */
static int http_setup(const bench_case *c, void **out, bench_info *info, o2p_error *err)
{
    int rc = http_setup_state(c, out, info, err);
    if (rc < 0 && *out) {
        http_teardown(*out);
        *out = NULL;
    }
    return rc;
}

/* Sleeps until the monotonic time t (bench_now's clock). */
static void sleep_until(double t)
{
    struct timespec ts = {(time_t)t, (long)((t - (double)(time_t)t) * 1e9)};
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

typedef struct worker_arg {
    http_state *s;
    int index;
} worker_arg;

static void *worker(void *p)
{
    worker_arg *a = p;
    http_state *s = a->s;
    lat_list *lat = &s->lat[a->index];
    for (;;) {
        uint64_t i = atomic_fetch_add(&s->next, 1);
        if (i >= s->iters) break;
        const o2p_buf *w = &s->wire[i % HTTP_POOL];
        int status = -1, attempts = 0;
        double t0;
        if (s->rate_rps > 0) {
            t0 = s->sched_t0 + (double)i / s->rate_rps; /* due time, maybe past */
            if (t0 > bench_now()) sleep_until(t0);
        } else {
            t0 = bench_now();
        }
        /* A refused request (429/503) is retried after 10 ms until accepted,
         * as an exporter would (sooner than the advertised Retry-After, so the
         * benchmark keeps pressure on): rows/s then counts accepted rows only,
         * and the latency runs from the first attempt to the acceptance. */
        for (;;) {
            status = -1;
            for (int conn_try = 0; conn_try < 2 && status < 0; conn_try++) {
                if (s->fd[a->index] < 0) {
                    s->fd[a->index] = connect_port(s->port);
                    pthread_mutex_lock(&s->mu);
                    s->reconnects++;
                    pthread_mutex_unlock(&s->mu);
                    if (s->fd[a->index] < 0) break;
                }
                if (send_all(s->fd[a->index], w->data, w->len) == 0)
                    status = read_response(s->fd[a->index]);
                if (status < 0) {
                    close(s->fd[a->index]);
                    s->fd[a->index] = -1;
                }
            }
            if ((status == 429 || status == 503) && ++attempts < 1000) {
                pthread_mutex_lock(&s->mu);
                s->status_busy++;
                s->last_bad_status = status;
                pthread_mutex_unlock(&s->mu);
                usleep(10000);
                continue;
            }
            break;
        }
        double el = bench_now() - t0;
        pthread_mutex_lock(&s->mu);
        if (status < 0) {
            s->failed = 1;
            snprintf(s->fail_msg, sizeof s->fail_msg, "connection to the server failed");
        } else if (status == 200) {
            s->status_ok++;
        } else {
            s->status_other++;
            s->last_bad_status = status;
        }
        pthread_mutex_unlock(&s->mu);
        if (status < 0) break;
        if (lat->n == lat->cap) {
            size_t cap = lat->cap ? lat->cap * 2 : 1024;
            double *v = mem_realloc(lat->v, cap * sizeof *v);
            if (v == NULL) continue;
            lat->v = v;
            lat->cap = cap;
        }
        lat->v[lat->n++] = el;
    }
    return NULL;
}

static int http_measure(void *p, uint64_t iters, double *secs, o2p_error *err)
{
    http_state *s = p;
    atomic_store(&s->next, 0);
    s->iters = iters;
    pthread_t th[HTTP_MAX_CONNS];
    worker_arg args[HTTP_MAX_CONNS];
    double t0 = bench_now();
    s->sched_t0 = t0;
    int started = 0;
    for (int i = 0; i < s->conns; i++) {
        args[i].s = s;
        args[i].index = i;
        if (pthread_create(&th[i], NULL, worker, &args[i]) != 0) break;
        started++;
    }
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    *secs = bench_now() - t0;
    s->wal.secs += *secs;
    s->requests_measured += iters;
    if (started == 0) return o2p_errorf(err, O2P_EIO, "pthread_create failed");
    if (s->failed) return o2p_errorf(err, O2P_EIO, "%s", s->fail_msg);
    if (s->status_other)
        return o2p_errorf(err, O2P_EINVAL, "server answered HTTP %d (see the server log)",
                          s->last_bad_status);
    return 0;
}

static void http_begin(void *p)
{
    http_state *s = p;
    for (int i = 0; i < s->conns; i++) s->lat[i].n = 0;
    s->status_ok = s->status_busy = s->status_other = 0;
    s->requests_measured = 0;
    s->server_cpu_ticks_start = proc_cpu_ticks(s->pid);
    s->wal.secs = 0;
    s->wal.end.present = 0;
    wal_scrape(s->port, &s->wal.begin);
}

/* The WAL counters at the end of the samples (read once). */
static void http_wal_end(http_state *s)
{
    if (!s->wal.end.present) wal_scrape(s->port, &s->wal.end);
}

static int http_latencies(http_state *s, double **out, size_t *n)
{
    size_t total = 0;
    for (int i = 0; i < s->conns; i++) total += s->lat[i].n;
    double *all = mem_alloc(total * sizeof *all + 1);
    if (all == NULL) return -1;
    size_t k = 0;
    for (int i = 0; i < s->conns; i++) {
        memcpy(all + k, s->lat[i].v, s->lat[i].n * sizeof *all);
        k += s->lat[i].n;
    }
    *out = all;
    *n = total;
    return 0;
}

static void http_extra(void *p, o2p_buf *json)
{
    http_state *s = p;
    double *all;
    size_t n;
    if (http_latencies(s, &all, &n) < 0) return;
    buf_printf(json, ",\"latency_ms\":{\"p50\":");
    json_num(json, stats_percentile(all, n, 50) * 1e3);
    buf_append_str(json, ",\"p95\":");
    json_num(json, stats_percentile(all, n, 95) * 1e3);
    buf_append_str(json, ",\"p99\":");
    json_num(json, stats_percentile(all, n, 99) * 1e3);
    buf_append_str(json, ",\"max\":");
    json_num(json, stats_percentile(all, n, 100) * 1e3);
    buf_append_str(json, ",\"mean\":");
    json_num(json, stats_mean(all, n) * 1e3);
    buf_printf(json, ",\"requests\":%zu}", n);
    mem_free(all);
    long ticks = proc_cpu_ticks(s->pid);
    double cpu_s = ticks >= 0 && s->server_cpu_ticks_start >= 0
                       ? (double)(ticks - s->server_cpu_ticks_start) / (double)sysconf(_SC_CLK_TCK)
                       : -1;
    buf_printf(json,
               ",\"records_per_request\":%d,\"connections\":%d,\"offered_rows_per_sec\":%.0f,"
               "\"status_200\":%llu,"
               "\"status_429_503\":%llu,\"status_other\":%llu,\"reconnects\":%llu",
               s->records, s->conns, s->rate_rps * s->records, (unsigned long long)s->status_ok,
               (unsigned long long)s->status_busy, (unsigned long long)s->status_other,
               (unsigned long long)s->reconnects);
    buf_append_str(json, ",\"server_startup_ms\":");
    json_num(json, s->startup_ms);
    long hwm = proc_status_kb(s->pid, "VmHWM");
    buf_append_str(json, ",\"server_peak_rss_bytes\":");
    json_num(json, hwm >= 0 ? (double)hwm * 1024 : -1);
    buf_append_str(json, ",\"server_cpu_us_per_request\":");
    json_num(json,
             cpu_s >= 0 && s->requests_measured ? cpu_s * 1e6 / (double)s->requests_measured : -1);
    http_wal_end(s);
    wal_probe_json(&s->wal, json, (double)s->status_ok * s->records, (double)s->status_ok);
}

static void http_text(void *p, char *line, size_t cap)
{
    http_state *s = p;
    double *all;
    size_t n;
    if (http_latencies(s, &all, &n) < 0) return;
    http_wal_end(s);
    char wal[256];
    wal_probe_text(&s->wal, wal, sizeof wal, (double)s->status_ok * s->records);
    snprintf(line, cap,
             "%slatency p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  (%zu requests, %llu 429/503; "
             "server start-up %.1f ms, peak RSS %.1f MiB%s)",
             s->rate_rps > 0 ? "offered rate, " : "", stats_percentile(all, n, 50) * 1e3,
             stats_percentile(all, n, 95) * 1e3, stats_percentile(all, n, 99) * 1e3, n,
             (unsigned long long)s->status_busy, s->startup_ms,
             (double)proc_status_kb(s->pid, "VmHWM") / 1024.0, wal);
    mem_free(all);
}

/*
 * mixed10: the traffic of issue 12.  Each request carries 1,000 log records
 * over 10 services (10 resource_logs of 100 records: a protobuf export
 * request is a concatenation of its resource_logs, so the body is ten
 * generated requests back to back).  One thread drives every connection
 * through epoll (non-blocking sockets), closed loop, no back-off: a refused
 * request (429/503) is counted and its connection sends the next request
 * at once.  One iteration is one ACCEPTED request, so rows/s are accepted
 * rows/s.  Requests stay in flight between measure() calls (the loop keeps
 * its steady state; the gap between samples is negligible).  Latencies are
 * those of accepted requests.  A case may set server environment variables.
 */
#define MIXED_POOL     4
#define MIXED_SERVICES 10
#define MIXED_MAX_CONN 1000

typedef struct mixed_conn {
    int fd;
    const o2p_buf *w; /* request being sent */
    size_t sent;
    char rbuf[2048];
    size_t rhave;
    double t0;
} mixed_conn;

typedef struct mixed_state {
    pid_t pid;
    uint16_t port;
    char dir[256];
    double startup_ms;
    o2p_buf wire[MIXED_POOL];
    size_t body_bytes;
    int conns, records;
    int ep;
    mixed_conn *c;
    uint64_t seq;
    lat_list lat;
    uint64_t ok, refused, other, reconnects, requests;
    int last_bad_status;
    long cpu_start;
    wal_probe wal;
} mixed_state;

/* Appends one mixed10 body (records spread evenly over 10 services). */
static int mixed_body(o2p_buf *body, int records, uint64_t seed, uint64_t base_ns)
{
    for (int svc = 0; svc < MIXED_SERVICES; svc++) {
        size_t share = (size_t)(records / MIXED_SERVICES + (svc < records % MIXED_SERVICES));
        long rc = gen_request(body, OTLP_LOGS, OTLP_FMT_PROTOBUF, share,
                              seed * MIXED_SERVICES + (uint64_t)svc, base_ns, (unsigned)svc);
        if (rc < 0) return (int)rc;
    }
    return 0;
}

static void mixed_teardown(void *p)
{
    mixed_state *s = p;
    if (s == NULL) return;
    if (s->c)
        for (int i = 0; i < s->conns; i++)
            if (s->c[i].fd >= 0) close(s->c[i].fd);
    if (s->ep >= 0) close(s->ep);
    mem_free(s->c);
    mem_free(s->lat.v);
    if (s->pid > 0) {
        http_state tmp;
        memset(&tmp, 0, sizeof tmp);
        tmp.pid = s->pid;
        stop_server(&tmp);
    }
    if (s->dir[0]) nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    for (int i = 0; i < MIXED_POOL; i++) buf_free(&s->wire[i]);
    mem_free(s);
}

static int mixed_connect(mixed_state *s, mixed_conn *c)
{
    c->fd = connect_port(s->port);
    if (c->fd < 0) return -1;
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    return epoll_ctl(s->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static int mixed_setup_state(const bench_case *cs, void **out, bench_info *info, o2p_error *err)
{
    if (access(bench_opts.server, X_OK) != 0)
        return o2p_errorf(err, O2P_EUNSUPPORTED,
                          "server binary %s not found (build it with make, or set "
                          "O2P_BENCH_SERVER / --server)",
                          bench_opts.server);
    mixed_state *s = mem_calloc(1, sizeof *s);
    if (s == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    *out = s;
    s->ep = -1;
    s->records = cs->param_a;
    s->conns = cs->param_b > 0 ? cs->param_b : bench_opts.http_conns;
    if (s->conns > MIXED_MAX_CONN) s->conns = MIXED_MAX_CONN;
    /* 1,000 connections need more descriptors than the usual soft limit. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)s->conns + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t base = (uint64_t)now.tv_sec * 1000000000ull;
    o2p_buf body;
    buf_init(&body, 0);
    for (int i = 0; i < MIXED_POOL; i++) {
        buf_reset(&body);
        int rc = mixed_body(&body, s->records, 700 + (uint64_t)i, base);
        if (rc < 0) {
            buf_free(&body);
            return o2p_errorf(err, rc, "generating request %d failed", i);
        }
        buf_init(&s->wire[i], 0);
        buf_printf(&s->wire[i],
                   "POST /v1/logs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                   "application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
                   body.len);
        buf_append(&s->wire[i], body.data, body.len);
        s->body_bytes += body.len;
    }
    buf_free(&body);

    O2P_TRY(bench_server_start("o2p-bench-mixed-XXXXXX", cs->server_env, "0", s->dir, sizeof s->dir,
                               &s->port, &s->pid, &s->startup_ms, err));
    wal_probe_setup(&s->wal, s->dir);
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    s->c = mem_calloc((size_t)s->conns, sizeof *s->c);
    for (int i = 0; s->c && i < s->conns; i++) s->c[i].fd = -1; /* for mixed_teardown */
    if (s->ep < 0 || s->c == NULL) return o2p_errorf(err, O2P_EIO, "epoll/alloc failed");
    for (int i = 0; i < s->conns; i++) {
        if (mixed_connect(s, &s->c[i]) != 0)
            return o2p_errorf(err, O2P_EIO, "connect %d: %s", i, strerror(errno));
        s->c[i].w = &s->wire[s->seq++ % MIXED_POOL];
        s->c[i].t0 = bench_now();
    }
    info->rows_per_iter = s->records;
    info->bytes_per_iter = (double)s->body_bytes / MIXED_POOL;
    snprintf(
        info->params, sizeof info->params,
        "POST /v1/logs protobuf, %d records/request over %d services (%.0f bytes, %.0f B/record), "
        "%d keep-alive connections (epoll, closed loop, no back-off), %s, WAL dir on %s",
        s->records, MIXED_SERVICES, info->bytes_per_iter, info->bytes_per_iter / s->records,
        s->conns, wal_mode(&s->wal), s->wal.fs);
    return 0;
}

/* Like http_setup: a failure leaves no server running. */
static int mixed_setup(const bench_case *cs, void **out, bench_info *info, o2p_error *err)
{
    int rc = mixed_setup_state(cs, out, info, err);
    if (rc < 0 && *out) {
        mixed_teardown(*out);
        *out = NULL;
    }
    return rc;
}

/* The connection's next request: a fresh body from the pool, sending. */
static void mixed_next(mixed_state *s, mixed_conn *c)
{
    c->w = &s->wire[s->seq++ % MIXED_POOL];
    c->sent = 0;
    c->rhave = 0;
    c->t0 = bench_now();
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Returns the status once rbuf holds a complete response, 0 if not yet,
 * -1 when it is malformed. */
static int mixed_parse(mixed_conn *c)
{
    c->rbuf[c->rhave] = '\0';
    char *end = strstr(c->rbuf, "\r\n\r\n");
    if (end == NULL) return c->rhave >= sizeof c->rbuf - 1 ? -1 : 0;
    int status = 0;
    if (sscanf(c->rbuf, "HTTP/1.%*d %d", &status) != 1) return -1;
    size_t hl = (size_t)(end + 4 - c->rbuf);
    long clen = 0;
    int chunked = 0;
    for (char *l = strstr(c->rbuf, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n")) {
        if (strncasecmp(l + 2, "Content-Length:", 15) == 0) clen = strtol(l + 17, NULL, 10);
        if (strncasecmp(l + 2, "Transfer-Encoding:", 18) == 0) chunked = 1;
    }
    if (chunked)
        return strstr(end + 2, "\r\n0\r\n\r\n") || strstr(end, "\r\n\r\n0\r\n\r\n")
                   ? status
                   : (c->rhave >= sizeof c->rbuf - 1 ? -1 : 0);
    if (clen < 0 || hl + (size_t)clen > sizeof c->rbuf - 1) return -1;
    return c->rhave >= hl + (size_t)clen ? status : 0;
}

static int mixed_measure(void *p, uint64_t iters, double *secs, o2p_error *err)
{
    mixed_state *s = p;
    struct epoll_event evs[256];
    uint64_t done = 0;
    double t0 = bench_now();
    while (done < iters) {
        int n = epoll_wait(s->ep, evs, 256, 30000);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return o2p_errorf(err, O2P_EIO, "no response from the server for 30 s");
        for (int k = 0; k < n; k++) {
            mixed_conn *c = evs[k].data.ptr;
            int status = 0;
            if (c->sent < c->w->len) {
                ssize_t w = send(c->fd, c->w->data + c->sent, c->w->len - c->sent, MSG_NOSIGNAL);
                if (w > 0) {
                    c->sent += (size_t)w;
                    if (c->sent == c->w->len) {
                        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                        epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
                    }
                    continue;
                }
                if (w < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                status = -1;
            } else {
                ssize_t r = recv(c->fd, c->rbuf + c->rhave, sizeof c->rbuf - 1 - c->rhave, 0);
                if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                if (r <= 0)
                    status = -1;
                else {
                    c->rhave += (size_t)r;
                    status = mixed_parse(c);
                    if (status == 0) continue;
                }
            }
            if (status < 0) {
                /* The server closed the connection (or answered garbage):
                 * reconnect and send a new request. */
                epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                s->reconnects++;
                if (mixed_connect(s, c) != 0)
                    return o2p_errorf(err, O2P_EIO, "reconnect: %s", strerror(errno));
                c->sent = 0;
                c->rhave = 0;
                c->t0 = bench_now();
                continue;
            }
            s->requests++;
            if (status == 200) {
                s->ok++;
                done++;
                if (s->lat.n == s->lat.cap) {
                    size_t cap = s->lat.cap ? s->lat.cap * 2 : 4096;
                    double *v = mem_realloc(s->lat.v, cap * sizeof *v);
                    if (v == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
                    s->lat.v = v;
                    s->lat.cap = cap;
                }
                s->lat.v[s->lat.n++] = bench_now() - c->t0;
            } else if (status == 429 || status == 503) {
                s->refused++;
            } else {
                s->other++;
                s->last_bad_status = status;
            }
            mixed_next(s, c);
        }
        if (s->other)
            return o2p_errorf(err, O2P_EINVAL, "server answered HTTP %d (see the server log)",
                              s->last_bad_status);
    }
    *secs = bench_now() - t0;
    s->wal.secs += *secs;
    return 0;
}

static void mixed_begin(void *p)
{
    mixed_state *s = p;
    s->lat.n = 0;
    s->ok = s->refused = s->other = s->requests = 0;
    s->cpu_start = proc_cpu_ticks(s->pid);
    s->wal.secs = 0;
    s->wal.end.present = 0;
    wal_scrape(s->port, &s->wal.begin);
}

static void mixed_extra(void *p, o2p_buf *json)
{
    mixed_state *s = p;
    double *v = s->lat.v;
    size_t n = s->lat.n;
    buf_printf(json, ",\"latency_ms\":{\"p50\":");
    json_num(json, stats_percentile(v, n, 50) * 1e3);
    buf_append_str(json, ",\"p95\":");
    json_num(json, stats_percentile(v, n, 95) * 1e3);
    buf_append_str(json, ",\"p99\":");
    json_num(json, stats_percentile(v, n, 99) * 1e3);
    buf_append_str(json, ",\"max\":");
    json_num(json, stats_percentile(v, n, 100) * 1e3);
    buf_append_str(json, ",\"mean\":");
    json_num(json, stats_mean(v, n) * 1e3);
    buf_printf(json, ",\"requests\":%zu}", n);
    long ticks = proc_cpu_ticks(s->pid);
    double cpu_s = ticks >= 0 && s->cpu_start >= 0
                       ? (double)(ticks - s->cpu_start) / (double)sysconf(_SC_CLK_TCK)
                       : -1;
    buf_printf(json,
               ",\"workload\":\"mixed10\",\"services\":%d,\"records_per_request\":%d,"
               "\"connections\":%d,\"status_200\":%llu,\"status_429_503\":%llu,"
               "\"refused\":%llu,\"status_other\":%llu,\"reconnects\":%llu",
               MIXED_SERVICES, s->records, s->conns, (unsigned long long)s->ok,
               (unsigned long long)s->refused, (unsigned long long)s->refused,
               (unsigned long long)s->other, (unsigned long long)s->reconnects);
    buf_append_str(json, ",\"server_startup_ms\":");
    json_num(json, s->startup_ms);
    long hwm = proc_status_kb(s->pid, "VmHWM");
    buf_append_str(json, ",\"server_peak_rss_bytes\":");
    json_num(json, hwm >= 0 ? (double)hwm * 1024 : -1);
    buf_append_str(json, ",\"server_cpu_us_per_request\":");
    json_num(json, cpu_s >= 0 && s->requests ? cpu_s * 1e6 / (double)s->requests : -1);
    if (!s->wal.end.present) wal_scrape(s->port, &s->wal.end);
    wal_probe_json(&s->wal, json, (double)s->ok * s->records, (double)s->ok);
}

static void mixed_text(void *p, char *line, size_t cap)
{
    mixed_state *s = p;
    if (!s->wal.end.present) wal_scrape(s->port, &s->wal.end);
    char wal[256];
    wal_probe_text(&s->wal, wal, sizeof wal, (double)s->ok * s->records);
    snprintf(line, cap,
             "accepted p50 %.2f ms  p99 %.2f ms  (%zu accepted, %llu refused 429/503, %llu "
             "reconnects; server peak RSS %.1f MiB%s)",
             stats_percentile(s->lat.v, s->lat.n, 50) * 1e3,
             stats_percentile(s->lat.v, s->lat.n, 99) * 1e3, s->lat.n,
             (unsigned long long)s->refused, (unsigned long long)s->reconnects,
             (double)proc_status_kb(s->pid, "VmHWM") / 1024.0, wal);
}

/* Writes one mixed10 request body (protobuf, `records` records over 10
 * services) to path, for independent load generators (scripts/wrk_mixed.sh). */
int http_dump_mixed_body(const char *path, int records, o2p_error *err)
{
    o2p_buf body;
    buf_init(&body, 0);
    int rc = mixed_body(&body, records, 700, GEN_BASE_NS);
    if (rc < 0) {
        buf_free(&body);
        return o2p_errorf(err, rc, "generating the body failed");
    }
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(body.data, 1, body.len, f) != body.len || fclose(f) != 0) {
        if (f) fclose(f);
        buf_free(&body);
        return o2p_errorf(err, O2P_EIO, "writing %s: %s", path, strerror(errno));
    }
    buf_free(&body);
    return 0;
}

/* A mixed10 case: name, records/request, connections (0 = --http-conns),
 * server environment ("K=V ..." or NULL). */
#define MIXED_CASE(case_name, records, conns, env)                                                 \
    {                                                                                              \
        .name = case_name, .suite = "http",                                                        \
        .description = "HTTP ingest, issue 12 traffic: 1,000 records over 10 services, "           \
                       "closed loop, no back-off",                                                 \
        .setup = mixed_setup, .measure = mixed_measure, .begin_samples = mixed_begin,              \
        .extra_json = mixed_extra, .extra_text = mixed_text, .teardown = mixed_teardown,           \
        .min_sample_secs = 0.5, .param_a = records, .param_b = conns, .server_env = env            \
    }

/* ---- OTLP/gRPC: the same requests over HTTP/2 (nghttp2 client sessions) --
 *
 * The server runs with its gRPC listener on a second free port.  Each
 * connection is one thread with one HTTP/2 session keeping param_b calls
 * in flight (closed loop per stream; 0 = GRPC_BENCH_STREAMS); there are
 * --http-conns / param_c connections (param_c 0 = 1).  So
 * grpc.ingest.logs.r1000.s1 has exactly the HTTP case's connections and
 * calls in flight, and .x4 the same calls in flight multiplexed 4 to a
 * connection, as a gRPC client does; a call is
 * one unary LogsService/Export of the same protobuf bodies as the HTTP
 * case.  RESOURCE_EXHAUSTED/UNAVAILABLE are retried after 10 ms like 429/503
 * above; latency runs from the first attempt to the OK trailer. */

#define GRPC_BENCH_STREAMS  4
#define GRPC_BENCH_SEND_MAX (512u * 1024)

typedef struct grpc_bench_call {
    int32_t stream_id;
    const o2p_buf *msg; /* prefix + body */
    size_t off;
    double t0;
    double retry_at; /* stream_id 0: submit at this time (0 = at once) */
    int status;      /* grpc-status, -1 until the trailers arrive */
} grpc_bench_call;

typedef struct grpc_bench_conn {
    http_state *s;
    int index;
    int fd;
    nghttp2_session *session;
    grpc_bench_call calls[GRPC_BENCH_STREAMS];
    o2p_buf wbuf; /* frames gathered for one send */
    int in_flight;
    int broken;
} grpc_bench_conn;

static o2p_buf grpc_msgs[HTTP_POOL];
static uint16_t grpc_port_of_state;
static int grpc_streams = GRPC_BENCH_STREAMS; /* calls in flight per connection */

static ssize_t gb_read(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                       uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
    (void)session;
    (void)stream_id;
    (void)user_data;
    grpc_bench_call *call = source->ptr;
    size_t left = call->msg->len - call->off;
    size_t n = left < length ? left : length;
    memcpy(buf, call->msg->data + call->off, n);
    call->off += n;
    if (call->off == call->msg->len) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static int gb_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data)
{
    (void)flags;
    (void)user_data;
    (void)valuelen; /* nghttp2 NUL-terminates values */
    grpc_bench_call *call = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (call && namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
        call->status = (int)strtol((const char *)value, NULL, 10);
    return 0;
}

static int gb_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                    void *user_data)
{
    (void)error_code;
    grpc_bench_conn *c = user_data;
    grpc_bench_call *call = nghttp2_session_get_stream_user_data(session, stream_id);
    if (call == NULL) return 0;
    http_state *s = c->s;
    if (call->status == 8 || call->status == 14) {
        pthread_mutex_lock(&s->mu);
        s->status_busy++;
        pthread_mutex_unlock(&s->mu);
        /* resubmitted by the loop in 10 ms, keeping t0; the connection's
         * other streams go on meanwhile (a sleep here would stall them) */
        call->retry_at = bench_now() + 0.010;
        call->stream_id = 0;
        call->off = 0;
        return 0;
    }
    double el = bench_now() - call->t0;
    pthread_mutex_lock(&s->mu);
    if (call->status == 0) {
        s->status_ok++;
    } else {
        s->status_other++;
        s->last_bad_status = call->status;
    }
    pthread_mutex_unlock(&s->mu);
    lat_list *lat = &s->lat[c->index];
    if (lat->n == lat->cap) {
        size_t cap = lat->cap ? lat->cap * 2 : 1024;
        double *v = mem_realloc(lat->v, cap * sizeof *v);
        if (v != NULL) {
            lat->v = v;
            lat->cap = cap;
        }
    }
    if (lat->n < lat->cap) lat->v[lat->n++] = el;
    call->msg = NULL;
    c->in_flight--;
    return 0;
}

static int gb_submit(grpc_bench_conn *c, grpc_bench_call *call)
{
    static const nghttp2_nv nva[] = {
#define GB_NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, 0}
        GB_NV(":method", "POST"),
        GB_NV(":scheme", "http"),
        GB_NV(":authority", "127.0.0.1"),
        GB_NV(":path", "/opentelemetry.proto.collector.logs.v1.LogsService/Export"),
        GB_NV("content-type", "application/grpc"),
        GB_NV("te", "trailers"),
#undef GB_NV
    };
    nghttp2_data_provider prd = {.source = {.ptr = call}, .read_callback = gb_read};
    call->status = -1;
    int32_t id =
        nghttp2_submit_request(c->session, NULL, nva, sizeof nva / sizeof nva[0], &prd, call);
    if (id < 0) return -1;
    call->stream_id = id;
    return 0;
}

static void *grpc_worker(void *p)
{
    grpc_bench_conn *c = p;
    http_state *s = c->s;
    uint8_t buf[65536];
    for (;;) {
        double now = bench_now(), wait = -1; /* seconds until the next retry is due */
        for (int k = 0; k < grpc_streams; k++) {
            grpc_bench_call *call = &c->calls[k];
            if (call->msg == NULL) {
                uint64_t i = atomic_fetch_add(&s->next, 1);
                if (i >= s->iters) continue;
                call->msg = &grpc_msgs[i % HTTP_POOL];
                call->off = 0;
                call->t0 = now;
                call->retry_at = 0;
                call->stream_id = 0;
                c->in_flight++;
            }
            if (call->stream_id != 0) continue;
            if (call->retry_at > now) {
                double d = call->retry_at - now;
                if (wait < 0 || d < wait) wait = d;
            } else if (gb_submit(c, call) < 0) {
                c->broken = 1;
            }
        }
        if (c->in_flight == 0 || c->broken) break;
        /* frames are gathered into one send, as the HTTP client sends a
         * request in one: 16 KiB DATA frames sent one by one cost both
         * sides a syscall and a TCP segment train each */
        const uint8_t *out;
        ssize_t n;
        buf_reset(&c->wbuf);
        while ((n = nghttp2_session_mem_send(c->session, &out)) > 0) {
            if (buf_append(&c->wbuf, out, (size_t)n) < 0) {
                c->broken = 1;
                break;
            }
            if (c->wbuf.len >= GRPC_BENCH_SEND_MAX) {
                if (send_all(c->fd, c->wbuf.data, c->wbuf.len) < 0) c->broken = 1;
                buf_reset(&c->wbuf);
                if (c->broken) break;
            }
        }
        if (!c->broken && c->wbuf.len && send_all(c->fd, c->wbuf.data, c->wbuf.len) < 0)
            c->broken = 1;
        if (n < 0 || c->broken) break;
        if (wait >= 0) {
            /* a refused call waits for its retry: read only what is there */
            struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
            int ms = (int)(wait * 1e3) + 1;
            int pr = poll(&pfd, 1, ms);
            if (pr < 0 && errno != EINTR) {
                c->broken = 1;
                break;
            }
            if (pr <= 0) continue;
        }
        ssize_t r = recv(c->fd, buf, sizeof buf, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0 || nghttp2_session_mem_recv(c->session, buf, (size_t)r) < 0) {
            c->broken = 1;
            break;
        }
    }
    if (c->broken) {
        pthread_mutex_lock(&s->mu);
        s->failed = 1;
        snprintf(s->fail_msg, sizeof s->fail_msg, "gRPC connection to the server failed");
        pthread_mutex_unlock(&s->mu);
    }
    return NULL;
}

static grpc_bench_conn grpc_conns[HTTP_MAX_CONNS];

static int grpc_open(grpc_bench_conn *c, http_state *s, int index)
{
    memset(c, 0, sizeof *c);
    buf_init(&c->wbuf, 0);
    c->s = s;
    c->index = index;
    /* /health answers before the server opens its gRPC listener: retry
     * the connect for up to 10 s */
    double t0 = bench_now();
    while ((c->fd = connect_port(grpc_port_of_state)) < 0 && bench_now() - t0 < 10) usleep(10000);
    if (c->fd < 0) return -1;
    nghttp2_session_callbacks *cbs;
    if (nghttp2_session_callbacks_new(&cbs) != 0) return -1;
    nghttp2_session_callbacks_set_on_header_callback(cbs, gb_header);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, gb_close);
    int rc = nghttp2_session_client_new(&c->session, cbs, c);
    nghttp2_session_callbacks_del(cbs);
    if (rc != 0) return -1;
    nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
    nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, iv, 1);
    return 0;
}

static int grpc_measure(void *p, uint64_t iters, double *secs, o2p_error *err)
{
    http_state *s = p;
    atomic_store(&s->next, 0);
    s->iters = iters;
    pthread_t th[HTTP_MAX_CONNS];
    double t0 = bench_now();
    int started = 0;
    for (int i = 0; i < s->conns; i++) {
        for (int k = 0; k < GRPC_BENCH_STREAMS; k++) grpc_conns[i].calls[k].msg = NULL;
        grpc_conns[i].in_flight = 0;
        if (pthread_create(&th[i], NULL, grpc_worker, &grpc_conns[i]) != 0) break;
        started++;
    }
    for (int i = 0; i < started; i++) pthread_join(th[i], NULL);
    *secs = bench_now() - t0;
    s->requests_measured += iters;
    if (started == 0) return o2p_errorf(err, O2P_EIO, "pthread_create failed");
    if (s->failed) return o2p_errorf(err, O2P_EIO, "%s", s->fail_msg);
    if (s->status_other)
        return o2p_errorf(err, O2P_EINVAL, "server answered grpc-status %d (see the server log)",
                          s->last_bad_status);
    return 0;
}

static void grpc_teardown(void *p)
{
    http_state *s = p;
    for (int i = 0; s && i < s->conns; i++) {
        if (grpc_conns[i].session) nghttp2_session_del(grpc_conns[i].session);
        if (grpc_conns[i].fd > 0) close(grpc_conns[i].fd);
        buf_free(&grpc_conns[i].wbuf);
        memset(&grpc_conns[i], 0, sizeof grpc_conns[i]);
    }
    for (int i = 0; i < HTTP_POOL; i++) buf_free(&grpc_msgs[i]);
    http_teardown(p);
}

/* The gRPC half of grpc_setup, once the server runs. */
static int grpc_prepare(const bench_case *c, http_state *s, bench_info *info, o2p_error *err)
{
    grpc_streams =
        c->param_b > 0 && c->param_b <= GRPC_BENCH_STREAMS ? c->param_b : GRPC_BENCH_STREAMS;
    for (int i = 0; i < HTTP_POOL; i++) {
        /* the body is what follows the HTTP headers */
        const uint8_t *hdr_end = memmem(s->wire[i].data, s->wire[i].len, "\r\n\r\n", 4);
        if (hdr_end == NULL) return o2p_errorf(err, O2P_EINVAL, "request %d has no body", i);
        const uint8_t *body = hdr_end + 4;
        size_t len = s->wire[i].len - (size_t)(body - s->wire[i].data);
        buf_init(&grpc_msgs[i], 0);
        uint8_t prefix[5] = {0, (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                             (uint8_t)len};
        if (buf_append(&grpc_msgs[i], prefix, 5) < 0 || buf_append(&grpc_msgs[i], body, len) < 0)
            return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    }
    for (int i = 0; i < s->conns; i++) {
        if (s->fd[i] >= 0) close(s->fd[i]); /* the HTTP connections are not used */
        s->fd[i] = -1;
    }
    /* param_b is the streams per connection here, not the connections
     * http_setup took it for: --http-conns / param_c connections */
    s->conns = bench_opts.http_conns / (c->param_c > 1 ? (int)c->param_c : 1);
    if (s->conns < 1) s->conns = 1;
    if (s->conns > HTTP_MAX_CONNS) s->conns = HTTP_MAX_CONNS;
    for (int i = 0; i < s->conns; i++) {
        if (grpc_open(&grpc_conns[i], s, i) < 0)
            return o2p_errorf(err, O2P_EIO, "gRPC connect: %s", strerror(errno));
    }
    snprintf(info->params, sizeof info->params,
             "OTLP/gRPC LogsService/Export (h2c), %d records/request (%.0f bytes), %d connections "
             "x %d concurrent streams, server %s",
             s->records, info->bytes_per_iter, s->conns, grpc_streams, bench_opts.server);
    return 0;
}

/* Like http_setup, with the gRPC listener on and the bodies framed as gRPC
 * messages instead of HTTP requests.  A failure stops the server it started
 * (http_setup does so for its own failures). */
static int grpc_setup(const bench_case *c, void **out, bench_info *info, o2p_error *err)
{
    grpc_port_of_state = free_port();
    if (grpc_port_of_state == 0) return o2p_errorf(err, O2P_EIO, "no free loopback port");
    char gport[16];
    snprintf(gport, sizeof gport, "%u", grpc_port_of_state);
    setenv("O2P_BENCH_GRPC_PORT", gport, 1);
    int rc = http_setup(c, out, info, err);
    unsetenv("O2P_BENCH_GRPC_PORT");
    if (rc == 0) rc = grpc_prepare(c, *out, info, err);
    if (rc < 0 && *out) {
        grpc_teardown(*out);
        *out = NULL;
    }
    return rc;
}

/* A gRPC case beside grpc.ingest.logs.r1000: name, streams per connection,
 * connection divisor, what that means. */
#define GRPC_CASE(case_name, streams, divisor, what)                                               \
    {                                                                                              \
        .name = case_name, .suite = "http",                                                        \
        .description = "OTLP/gRPC ingest: LogsService/Export, 1,000 records/request, " what,       \
        .setup = grpc_setup, .measure = grpc_measure, .begin_samples = http_begin,                 \
        .extra_json = http_extra, .extra_text = http_text, .teardown = grpc_teardown,              \
        .min_sample_secs = 0.25, .param_a = 1000, .param_b = streams, .param_c = divisor,          \
        .server_env = ENV_MEMORY                                                                   \
    }

/* An HTTP ingest case: name, records/request, durability (description),
 * server environment; HTTP_CASE_C also fixes the number of connections
 * (HTTP_CASE uses --http-conns). */
#define HTTP_CASE_C(case_name, records, conns, what, mode, env)                                    \
    {                                                                                              \
        .name = case_name, .suite = "http",                                                        \
        .description = "HTTP ingest: POST /v1/logs protobuf, " what " records/request, " mode,     \
        .setup = http_setup, .measure = http_measure, .begin_samples = http_begin,                 \
        .extra_json = http_extra, .extra_text = http_text, .teardown = http_teardown,              \
        .min_sample_secs = 0.25, .param_a = records, .param_b = conns, .server_env = env           \
    }
#define HTTP_CASE(case_name, records, what, mode, env)                                             \
    HTTP_CASE_C(case_name, records, 0, what, mode, env)
/* Open loop at a fixed offered rate (rows/s), conns connections. */
#define HTTP_CASE_RATE(case_name, records, conns, rate, what, mode, env)                           \
    {                                                                                              \
        .name = case_name, .suite = "http",                                                        \
        .description = "HTTP ingest: POST /v1/logs protobuf, " what " records/request, " mode,     \
        .setup = http_setup, .measure = http_measure, .begin_samples = http_begin,                 \
        .extra_json = http_extra, .extra_text = http_text, .teardown = http_teardown,              \
        .min_sample_secs = 0.5, .param_a = records, .param_b = conns, .param_c = rate,             \
        .server_env = env                                                                          \
    }

/* The cases measured before the WAL existed keep their names and measure
 * what they measured: memory mode, set explicitly now that the server's
 * default is durability = "wal".  The WAL's cost is measured by the
 * http.wal.r1000.* trio (memory, sync always, sync interval: one run, same
 * requests) and by the .wal variants of the mixed10 cases. */
#define ENV_MEMORY       "OTLP2PARQUET_DURABILITY=memory"
#define ENV_WAL_ALWAYS   "OTLP2PARQUET_DURABILITY=wal OTLP2PARQUET_WAL_SYNC=always"
#define ENV_WAL_INTERVAL "OTLP2PARQUET_DURABILITY=wal OTLP2PARQUET_WAL_SYNC=interval"
/* sync always with the zero-filled spare segment (the A/B of the spare) */
#define ENV_WAL_SPARE                                                                              \
    "OTLP2PARQUET_DURABILITY=wal OTLP2PARQUET_WAL_SYNC=always OTLP2PARQUET_WAL_SPARE_SEGMENT=true"

static const bench_case http_cases[] = {
    {.name = "grpc.ingest.logs.r1000",
     .suite = "http",
     .description = "OTLP/gRPC ingest: LogsService/Export, 1,000 records/request, "
                    "4 concurrent streams per connection",
     .setup = grpc_setup,
     .measure = grpc_measure,
     .begin_samples = http_begin,
     .extra_json = http_extra,
     .extra_text = http_text,
     .teardown = grpc_teardown,
     .min_sample_secs = 0.25,
     .param_a = 1000,
     .server_env = ENV_MEMORY},
    GRPC_CASE("grpc.ingest.logs.r1000.s1", 1, 1,
              "1 stream per connection, --http-conns connections: the HTTP case's shape"),
    GRPC_CASE("grpc.ingest.logs.r1000.x4", 4, 4,
              "4 streams per connection, --http-conns / 4 connections: the HTTP case's calls in "
              "flight, multiplexed"),
    HTTP_CASE("http.ingest.logs.protobuf.r100", 100, "100", "memory mode", ENV_MEMORY),
    HTTP_CASE("http.ingest.logs.protobuf.r1000", 1000, "1,000", "memory mode", ENV_MEMORY),
    HTTP_CASE("http.ingest.logs.protobuf.r10000", 10000, "10,000", "memory mode", ENV_MEMORY),
    HTTP_CASE("http.wal.r1000.memory", 1000, "1,000", "memory mode (reference of the WAL cases)",
              ENV_MEMORY),
    HTTP_CASE("http.wal.r1000.always", 1000, "1,000", "WAL, fdatasync before each answer",
              ENV_WAL_ALWAYS),
    HTTP_CASE("http.wal.r1000.interval", 1000, "1,000", "WAL, fdatasync every 100 ms",
              ENV_WAL_INTERVAL),
    HTTP_CASE("http.wal.r1000.spare", 1000, "1,000",
              "WAL, fdatasync before each answer, zero-filled spare segment", ENV_WAL_SPARE),
    /* 16 connections: enough requests in flight for group commit to merge */
    HTTP_CASE_C("http.wal.r1000.c16.memory", 1000, 16, "1,000",
                "16 connections, memory mode (reference)", ENV_MEMORY),
    HTTP_CASE_C("http.wal.r1000.c16.always", 1000, 16, "1,000",
                "16 connections, WAL, fdatasync before each answer", ENV_WAL_ALWAYS),
    HTTP_CASE_C("http.wal.r1000.c16.interval", 1000, 16, "1,000",
                "16 connections, WAL, fdatasync every 100 ms", ENV_WAL_INTERVAL),
    /* the latency at a sustainable load: open loop at ~half the capacity, and
     * a closed loop of 2 connections (less queueing than 4) */
    HTTP_CASE_RATE("http.wal.rate300k.memory", 1000, 4, 300000, "1,000",
                   "4 connections, fixed rate 300 k rows/s, memory mode (reference)", ENV_MEMORY),
    HTTP_CASE_RATE("http.wal.rate300k.always", 1000, 4, 300000, "1,000",
                   "4 connections, fixed rate 300 k rows/s, WAL, fdatasync before each answer",
                   ENV_WAL_ALWAYS),
    HTTP_CASE_RATE("http.wal.rate300k.spare", 1000, 4, 300000, "1,000",
                   "4 connections, fixed rate 300 k rows/s, WAL sync always, spare segment",
                   ENV_WAL_SPARE),
    HTTP_CASE_C("http.wal.r1000.c2.memory", 1000, 2, "1,000",
                "2 connections, memory mode (reference)", ENV_MEMORY),
    HTTP_CASE_C("http.wal.r1000.c2.always", 1000, 2, "1,000",
                "2 connections, WAL, fdatasync before each answer", ENV_WAL_ALWAYS),
    HTTP_CASE_C("http.wal.r1000.c2.spare", 1000, 2, "1,000",
                "2 connections, WAL sync always, spare segment", ENV_WAL_SPARE),
    MIXED_CASE("http.mixed10.c2", 1000, 2, ENV_MEMORY),
    MIXED_CASE("http.mixed10.c2.wal", 1000, 2, ENV_WAL_ALWAYS),
    MIXED_CASE("http.mixed10.c2.wal_interval", 1000, 2, ENV_WAL_INTERVAL),
    MIXED_CASE("http.mixed10.c16", 1000, 16, ENV_MEMORY),
    MIXED_CASE("http.mixed10.c16.wal", 1000, 16, ENV_WAL_ALWAYS),
    MIXED_CASE("http.mixed10.c1000", 1000, 1000, ENV_MEMORY),
};

const bench_case *suite_http_cases(size_t *count)
{
    *count = sizeof http_cases / sizeof http_cases[0];
    return http_cases;
}
