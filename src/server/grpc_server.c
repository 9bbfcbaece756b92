/*
 * grpc_server: sockets, TLS and epoll workers for OTLP/gRPC (see
 * grpc_server.h).
 *
 * Per connection: a non-blocking socket, an optional SSL object (handshake
 * first), a grpc_h2 session and an output buffer.  Reading stops while more
 * than GRPC_OUT_HIGH bytes wait to be written, so a peer that does not read
 * cannot make us queue without bound, and while GRPC_CONN_MAX_JOBS of its
 * calls are with the decode pool (their bodies also stay counted against
 * the connection's max_payload until answered).
 *
 * Accepting: whichever worker wakes for the listening socket accepts, and
 * the connections go to the workers in turn (the accepting one hands a
 * socket to another through its `incoming` list and done_fd).  Left to
 * wake-ups, one worker took every connection that arrived meanwhile, so
 * all the framing of several clients could queue on one core.
 *
 * Finished calls go to the decode pool (grpc_pool); a worker hands each
 * back through its worker's `done` list and eventfd, and the connection
 * thread answers it.  A connection closed while calls of it are out stays
 * allocated (unlinked, `dead`) until the last one comes back.
 *
 * Paced calls (see grpc_h2.h) wait in their sessions, not in a thread:
 * each worker arms a timerfd at its connections' next admission time (ns
 * precision: an epoll_wait timeout would round every wait up to a whole
 * millisecond), then ticks the sessions that are due.  A graceful stop
 * ends every wait at once, so waiting calls are admitted and answered
 * within the drain.
 */
#include "server/grpc_server.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <openssl/err.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "server/grpc_h2.h"
#include "server/grpc_pool.h"
#include "server/net_listen.h"

#define GRPC_OUT_HIGH      (1u << 20)
#define GRPC_CONN_MAX_JOBS 16 /* calls of one connection with the pool before it stops reading */
/* One recv takes up to this much: a 1,000-record call (~270 KB) arrives in
 * a few reads instead of 17 of 16 KiB, each also a pass through nghttp2
 * and a flush. */
#define GRPC_READ_CHUNK     (256u * 1024)
#define GRPC_HANDSHAKE_SECS 10

typedef struct grpc_conn grpc_conn;
typedef struct grpc_worker grpc_worker;

struct grpc_conn {
    int fd;
    SSL *ssl; /* NULL for cleartext */
    int handshaking;
    grpc_h2 *h2; /* NULL until the handshake is done */
    o2p_buf out;
    size_t out_off;
    uint64_t last_ns;
    uint32_t events; /* registered epoll events */
    unsigned jobs;   /* calls with the decode pool */
    int dead;        /* closed; freed when jobs reaches 0 */
    int answered;    /* on the list of connections grpc_take_done sends answers on */
    grpc_conn *answered_next;
    grpc_worker *worker;
    grpc_conn *prev, *next;
};

struct grpc_worker {
    grpc_server *srv;
    unsigned index;
    pthread_t thread;
    int started;
    int epfd;
    int wake_fd;
    int done_fd;       /* eventfd: jobs are waiting in done */
    int timer_fd;      /* timerfd: a paced call's admission time has come */
    uint64_t armed_ns; /* timer_fd's deadline, 0 when disarmed */
    pthread_mutex_t done_mu;
    grpc_h2_job *done;
    int *incoming; /* accepted sockets handed to this worker (under done_mu) */
    size_t nincoming, incoming_cap;
    grpc_h2_env env;
    uint8_t *rbuf; /* GRPC_READ_CHUNK bytes for recv */
    grpc_conn *conns;
    size_t nconns;
};

struct grpc_server {
    int listen_fd;
    uint16_t port;
    unsigned nworkers;
    grpc_worker *workers;
    http_handlers handlers;
    char *auth_token;
    size_t max_payload;
    uint64_t idle_ns, shutdown_ns;
    grpc_metrics *metrics; /* the caller's, or NULL */
    atomic_int stopping;
    pthread_mutex_t tls_lock;
    SSL_CTX *tls; /* NULL: cleartext */
    char *cert_file, *key_file, *ca_file;
    grpc_pool *pool;
    atomic_uint next_worker; /* the worker the next accepted connection goes to */
};

/* ---- listening ------------------------------------------------------------ */

/* ---- connections ---------------------------------------------------------- */

static void grpc_conn_close(grpc_worker *w, grpc_conn *c)
{
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->ssl) SSL_free(c->ssl);
    grpc_h2_free(c->h2);
    c->h2 = NULL;
    buf_free(&c->out);
    grpc_metrics_connections(w->srv->metrics, w->index, -1);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    w->nconns--;
    c->dead = 1;
    if (c->jobs == 0) mem_free(c);
}

/* grpc_h2 dispatch: the call goes to the decode pool. */
static void grpc_conn_dispatch(void *ctx, grpc_h2 *h, grpc_h2_job *job)
{
    grpc_server *srv = ctx;
    grpc_conn *c = grpc_h2_owner(h);
    job->owner = c;
    c->jobs++;
    grpc_pool_submit(srv->pool, job);
}

/* grpc_pool done, on a pool thread: back to the connection's worker. */
static void grpc_job_done(void *ctx, grpc_h2_job *job)
{
    (void)ctx;
    grpc_conn *c = job->owner;
    grpc_worker *w = c->worker;
    pthread_mutex_lock(&w->done_mu);
    /* a non-empty list has a wake-up pending already (the worker reads the
     * eventfd before it takes the list) */
    int wake = w->done == NULL;
    job->next = w->done;
    w->done = job;
    pthread_mutex_unlock(&w->done_mu);
    uint64_t one = 1;
    if (wake && write(w->done_fd, &one, sizeof one) < 0) LOG_WARN("grpc: cannot wake a worker");
}

static int grpc_conn_io(grpc_worker *w, grpc_conn *c);
static int grpc_conn_answered(grpc_worker *w, grpc_conn *c);

/* Takes the jobs the pool gave back: answers them (or frees them for a
 * dead connection).  Returns how many came back. */
static size_t grpc_take_done(grpc_worker *w, int answer)
{
    pthread_mutex_lock(&w->done_mu);
    grpc_h2_job *job = w->done;
    w->done = NULL;
    pthread_mutex_unlock(&w->done_mu);
    /* the list is newest first: answer in the order the pool finished */
    grpc_h2_job *rev = NULL;
    while (job) {
        grpc_h2_job *next = job->next;
        job->next = rev;
        rev = job;
        job = next;
    }
    size_t n = 0;
    grpc_conn *answered = NULL; /* each once, however many of its calls came back */
    for (job = rev; job; n++) {
        grpc_h2_job *next = job->next;
        grpc_conn *c = job->owner;
        c->jobs--;
        if (c->dead || !answer) {
            grpc_h2_job_free(job);
            if (c->dead && c->jobs == 0) mem_free(c);
        } else {
            grpc_h2_complete(c->h2, job);
            if (!c->answered) {
                c->answered = 1;
                c->answered_next = answered;
                answered = c;
            }
        }
        job = next;
    }
    while (answered) {
        grpc_conn *c = answered;
        answered = c->answered_next;
        c->answered = 0;
        if (grpc_conn_answered(w, c) < 0) grpc_conn_close(w, c);
    }
    return n;
}

static void grpc_conn_events(grpc_worker *w, grpc_conn *c, uint32_t ev)
{
    if (ev == c->events) return;
    struct epoll_event e = {.events = ev, .data.ptr = c};
    epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &e);
    c->events = ev;
}

/* Reads into buf: > 0 bytes, 0 would block, < 0 closed or failed. */
static ssize_t grpc_conn_read(grpc_conn *c, uint8_t *buf, size_t cap)
{
    if (c->ssl == NULL) {
        ssize_t n = recv(c->fd, buf, cap, 0);
        if (n > 0) return n;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return 0;
        return -1;
    }
    int n = SSL_read(c->ssl, buf, (int)cap);
    if (n > 0) return n;
    int e = SSL_get_error(c->ssl, n);
    ERR_clear_error();
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

static ssize_t grpc_conn_write(grpc_conn *c, const uint8_t *buf, size_t len)
{
    if (c->ssl == NULL) {
        ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL);
        if (n >= 0) return n;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    }
    int n = SSL_write(c->ssl, buf, (int)(len > 1u << 30 ? 1u << 30 : len));
    if (n > 0) return n;
    int e = SSL_get_error(c->ssl, n);
    ERR_clear_error();
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/* Writes what the session has to say; < 0 when the connection is dead. */
static int grpc_conn_flush(grpc_conn *c)
{
    for (;;) {
        if (c->out_off == c->out.len) {
            buf_reset(&c->out);
            c->out_off = 0;
            if (grpc_h2_send(c->h2, &c->out, 65536) < 0 && c->out.len == 0) return -1;
            if (c->out.len == 0) return 0;
        }
        ssize_t n = grpc_conn_write(c, c->out.data + c->out_off, c->out.len - c->out_off);
        if (n < 0) return -1;
        if (n == 0) return 0;
        c->out_off += (size_t)n;
    }
}

static int grpc_conn_start_h2(grpc_worker *w, grpc_conn *c)
{
    c->h2 = grpc_h2_new(&w->env);
    if (c->h2) grpc_h2_set_owner(c->h2, c);
    return c->h2 ? 0 : -1;
}

/* Sends what can be sent and asks epoll for what the connection waits
 * for; < 0 when it should be closed. */
static int grpc_conn_settle(grpc_worker *w, grpc_conn *c)
{
    if (grpc_conn_flush(c) < 0) return -1;
    if (grpc_h2_done(c->h2)) return -1;
    int pending = c->out_off < c->out.len;
    uint32_t in = c->out.len - c->out_off < GRPC_OUT_HIGH && c->jobs < GRPC_CONN_MAX_JOBS
                      ? EPOLLIN
                      : 0; /* level-triggered: not asked for while we would not read */
    grpc_conn_events(w, c, in | (pending ? EPOLLOUT : 0));
    return 0;
}

/* Handles readiness; returns < 0 when the connection should be closed. */
static int grpc_conn_io(grpc_worker *w, grpc_conn *c)
{
    if (c->handshaking) {
        int r = SSL_do_handshake(c->ssl);
        if (r != 1) {
            int e = SSL_get_error(c->ssl, r);
            if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
                ERR_clear_error();
                grpc_conn_events(w, c, e == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
                return 0;
            }
            unsigned long le = ERR_peek_last_error();
            const char *why = le ? ERR_reason_error_string(le) : NULL;
            LOG_DEBUG("grpc: TLS handshake refused: %s", why ? why : "connection closed");
            ERR_clear_error();
            return -1;
        }
        c->handshaking = 0;
        const unsigned char *proto = NULL;
        unsigned plen = 0;
        SSL_get0_alpn_selected(c->ssl, &proto, &plen);
        if (plen != 2 || memcmp(proto, "h2", 2) != 0) return -1;
        if (grpc_conn_start_h2(w, c) < 0) return -1;
    }
    uint8_t *buf = w->rbuf;
    int closed = 0;
    while (c->out.len - c->out_off < GRPC_OUT_HIGH && c->jobs < GRPC_CONN_MAX_JOBS) {
        ssize_t n = grpc_conn_read(c, buf, GRPC_READ_CHUNK);
        if (n == 0) break;
        if (n < 0) {
            closed = 1;
            break;
        }
        c->last_ns = clock_mono_ns();
        if (grpc_h2_recv(c->h2, buf, (size_t)n) < 0) {
            grpc_conn_flush(c); /* the GOAWAY, best effort */
            return -1;
        }
        if (grpc_conn_flush(c) < 0) return -1;
    }
    if (closed) return -1;
    return grpc_conn_settle(w, c);
}

/* Answers were submitted: sends them.  A cleartext connection is not read
 * here (a recv would mostly find nothing): level-triggered epoll reports
 * what waits, also once reading resumes after a pause.  TLS may hold
 * decrypted bytes epoll cannot see, so it goes through grpc_conn_io. */
static int grpc_conn_answered(grpc_worker *w, grpc_conn *c)
{
    if (c->ssl) return grpc_conn_io(w, c);
    return grpc_conn_settle(w, c);
}

/* Takes an accepted socket as one of this worker's connections. */
static void grpc_conn_add(grpc_worker *w, int fd)
{
    grpc_server *srv = w->srv;
    grpc_conn *c = mem_calloc(1, sizeof *c);
    if (c == NULL) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->worker = w;
    grpc_metrics_connections(srv->metrics, w->index, 1);
    buf_init(&c->out, 0);
    c->last_ns = clock_mono_ns();
    pthread_mutex_lock(&srv->tls_lock);
    if (srv->tls) c->ssl = SSL_new(srv->tls);
    int tls_wanted = srv->tls != NULL;
    pthread_mutex_unlock(&srv->tls_lock);
    int ok = 1;
    if (tls_wanted) {
        ok = c->ssl && SSL_set_fd(c->ssl, fd) == 1;
        if (ok) SSL_set_accept_state(c->ssl);
        c->handshaking = 1;
    } else {
        ok = grpc_conn_start_h2(w, c) == 0;
    }
    c->next = w->conns;
    if (w->conns) w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    c->events = EPOLLIN;
    struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
    if (!ok || epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
        grpc_conn_close(w, c);
        return;
    }
    if (w->env.stopping && c->h2) grpc_h2_goaway(c->h2);
    if (grpc_conn_io(w, c) < 0) grpc_conn_close(w, c);
}

/* Hands an accepted socket to worker `to` (not the caller's); closes it
 * when out of memory. */
static void grpc_conn_hand(grpc_worker *to, int fd)
{
    pthread_mutex_lock(&to->done_mu);
    int ok = 1;
    if (to->nincoming == to->incoming_cap) {
        size_t cap = to->incoming_cap ? to->incoming_cap * 2 : 8;
        int *v = mem_realloc(to->incoming, cap * sizeof *v);
        if (v == NULL) {
            ok = 0;
        } else {
            to->incoming = v;
            to->incoming_cap = cap;
        }
    }
    if (ok) to->incoming[to->nincoming++] = fd;
    pthread_mutex_unlock(&to->done_mu);
    if (!ok) {
        close(fd);
        return;
    }
    /* always woken: the done list's "a wake-up is pending" shortcut
     * (grpc_job_done) must not count on this one */
    uint64_t one = 1;
    if (write(to->done_fd, &one, sizeof one) < 0) LOG_WARN("grpc: cannot wake a worker");
}

/* The sockets other workers handed to this one. */
static void grpc_take_incoming(grpc_worker *w)
{
    for (;;) {
        pthread_mutex_lock(&w->done_mu);
        int fd = w->nincoming ? w->incoming[--w->nincoming] : -1;
        pthread_mutex_unlock(&w->done_mu);
        if (fd < 0) return;
        grpc_conn_add(w, fd);
    }
}

static void grpc_accept(grpc_worker *w)
{
    grpc_server *srv = w->srv;
    for (int i = 0; i < 64; i++) {
        int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        grpc_worker *to = &srv->workers[atomic_fetch_add(&srv->next_worker, 1) % srv->nworkers];
        if (to == w)
            grpc_conn_add(w, fd);
        else
            grpc_conn_hand(to, fd);
    }
}

/* The earliest admission time of a paced call on this worker (UINT64_MAX:
 * none). */
static uint64_t grpc_next_due(grpc_worker *w)
{
    uint64_t due = UINT64_MAX;
    for (grpc_conn *c = w->conns; c; c = c->next) {
        if (c->h2 == NULL || grpc_h2_waiting(c->h2) == 0) continue;
        uint64_t d = grpc_h2_next_due(c->h2);
        if (d < due) due = d;
    }
    return due;
}

/* Sets the timer to the next admission time (UINT64_MAX: disarms it). */
static void grpc_arm(grpc_worker *w, uint64_t due)
{
    uint64_t at = due == UINT64_MAX ? 0 : due;
    if (at == w->armed_ns) return;
    struct itimerspec its = {
        .it_value = {.tv_sec = (time_t)(at / 1000000000u), .tv_nsec = (long)(at % 1000000000u)}};
    if (timerfd_settime(w->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) == 0) w->armed_ns = at;
}

/* Starts the paced calls due by now (UINT64_MAX: all) and sends what the
 * sessions then have to say. */
static void grpc_tick(grpc_worker *w, uint64_t now)
{
    grpc_conn *c = w->conns;
    while (c) {
        grpc_conn *next = c->next;
        if (c->h2 && grpc_h2_waiting(c->h2) && grpc_h2_tick(c->h2, now) > 0 &&
            grpc_conn_io(w, c) < 0)
            grpc_conn_close(w, c);
        c = next;
    }
}

/* Idle connections (nothing received for idle_ns; a TLS handshake gets
 * GRPC_HANDSHAKE_SECS) are closed. */
static void grpc_sweep(grpc_worker *w, uint64_t now)
{
    grpc_conn *c = w->conns;
    while (c) {
        grpc_conn *next = c->next;
        uint64_t limit =
            c->handshaking ? (uint64_t)GRPC_HANDSHAKE_SECS * 1000000000ull : w->srv->idle_ns;
        if (now > c->last_ns + limit) grpc_conn_close(w, c);
        c = next;
    }
}

static void *grpc_worker_main(void *arg)
{
    grpc_worker *w = arg;
    grpc_server *srv = w->srv;
    struct epoll_event evs[64];
    uint64_t drain_deadline = 0;
    int drain_now = 0;
    for (;;) {
        uint64_t due = grpc_next_due(w);
        grpc_arm(w, due);
        int n = epoll_wait(w->epfd, evs, 64, 1000);
        for (int i = 0; i < n; i++) {
            void *p = evs[i].data.ptr;
            if (p == &srv->listen_fd) {
                grpc_accept(w);
            } else if (p == &w->done_fd) {
                uint64_t v;
                if (read(w->done_fd, &v, sizeof v) < 0) v = 0;
                grpc_take_done(w, 1);
                grpc_take_incoming(w);
            } else if (p == &w->timer_fd) {
                uint64_t v;
                if (read(w->timer_fd, &v, sizeof v) < 0) v = 0;
                w->armed_ns = 0; /* fired: a one-shot timer is disarmed */
            } else if (p == &w->wake_fd) {
                uint64_t v;
                if (read(w->wake_fd, &v, sizeof v) < 0) v = 0;
                /* the GOAWAY pass runs after this batch: it may close
                 * connections that later events of the batch name */
                if (!w->env.stopping) drain_now = 1;
            } else {
                grpc_conn *c = p;
                /* a hang-up is reported even while reading is paused */
                if ((evs[i].events & (EPOLLHUP | EPOLLERR)) && !(c->events & EPOLLIN))
                    grpc_conn_close(w, c);
                else if (grpc_conn_io(w, c) < 0)
                    grpc_conn_close(w, c);
            }
        }
        if (drain_now) {
            drain_now = 0;
            w->env.stopping = 1;
            epoll_ctl(w->epfd, EPOLL_CTL_DEL, srv->listen_fd, NULL);
            drain_deadline = clock_mono_ns() + srv->shutdown_ns;
            grpc_conn *c = w->conns;
            while (c) {
                grpc_conn *next = c->next;
                if (c->h2) {
                    grpc_h2_goaway(c->h2);
                    grpc_h2_tick(c->h2, UINT64_MAX); /* no call waits for its turn now */
                    if (grpc_conn_io(w, c) < 0) grpc_conn_close(w, c);
                } else {
                    grpc_conn_close(w, c);
                }
                c = next;
            }
        }
        uint64_t now = clock_mono_ns();
        if (due <= now) {
            grpc_tick(w, now);
            now = clock_mono_ns(); /* the tick's reads moved connections' last_ns past it */
        }
        grpc_sweep(w, now);
        if (w->env.stopping && (w->nconns == 0 || now > drain_deadline)) break;
    }
    while (w->conns) grpc_conn_close(w, w->conns);
    return NULL;
}

/* ---- start / stop --------------------------------------------------------- */

static void grpc_free(grpc_server *srv)
{
    for (unsigned i = 0; srv->workers && i < srv->nworkers; i++) {
        grpc_worker *w = &srv->workers[i];
        if (w->epfd >= 0) close(w->epfd);
        if (w->wake_fd >= 0) close(w->wake_fd);
        if (w->done_fd >= 0) close(w->done_fd);
        if (w->timer_fd >= 0) close(w->timer_fd);
        pthread_mutex_destroy(&w->done_mu);
        for (size_t k = 0; k < w->nincoming; k++)
            close(w->incoming[k]); /* handed during the stop */
        mem_free(w->incoming);
        grpc_h2_env_free(&w->env);
        mem_free(w->rbuf);
    }
    mem_free(srv->workers);
    if (srv->listen_fd >= 0) close(srv->listen_fd);
    if (srv->tls) SSL_CTX_free(srv->tls);
    pthread_mutex_destroy(&srv->tls_lock);
    mem_free(srv->auth_token);
    mem_free(srv->cert_file);
    mem_free(srv->key_file);
    mem_free(srv->ca_file);
    mem_free(srv);
}

static int grpc_dup(char **dst, const char *src)
{
    if (src == NULL || src[0] == '\0') return O2P_OK;
    *dst = mem_strdup(src);
    return *dst ? O2P_OK : O2P_ENOMEM;
}

int grpc_server_reload_tls(grpc_server *srv, o2p_error *err)
{
    if (srv->cert_file == NULL) return O2P_OK;
    grpc_tls_files f = {srv->cert_file, srv->key_file, srv->ca_file};
    SSL_CTX *ctx;
    O2P_TRY(grpc_tls_ctx_create(&f, &ctx, err));
    pthread_mutex_lock(&srv->tls_lock);
    SSL_CTX *old = srv->tls;
    srv->tls = ctx;
    pthread_mutex_unlock(&srv->tls_lock);
    SSL_CTX_free(old); /* connections still using it hold their own reference */
    return O2P_OK;
}

int grpc_server_start(grpc_server **out, const grpc_config *config, const http_handlers *handlers,
                      o2p_error *err)
{
    *out = NULL;
    grpc_server *srv = mem_calloc(1, sizeof *srv);
    if (srv == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    srv->listen_fd = -1;
    pthread_mutex_init(&srv->tls_lock, NULL);
    srv->handlers = *handlers;
    srv->max_payload =
        config->max_payload_bytes ? config->max_payload_bytes : HTTP_DEFAULT_MAX_PAYLOAD;
    srv->idle_ns =
        (uint64_t)(config->idle_timeout_secs ? config->idle_timeout_secs : 300) * 1000000000ull;
    srv->shutdown_ns =
        (uint64_t)(config->shutdown_timeout_secs ? config->shutdown_timeout_secs : 30) *
        1000000000ull;
    srv->nworkers = config->threads ? config->threads : 1;
    srv->metrics = config->metrics;
    grpc_metrics_workers(srv->metrics, srv->nworkers);
    int rc = grpc_dup(&srv->auth_token, config->auth_token);
    if (rc == 0) rc = grpc_dup(&srv->cert_file, config->tls.cert_file);
    if (rc == 0) rc = grpc_dup(&srv->key_file, config->tls.key_file);
    if (rc == 0) rc = grpc_dup(&srv->ca_file, config->tls.client_ca_file);
    if (rc < 0) {
        grpc_free(srv);
        return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    }
    if (srv->cert_file || srv->key_file) {
        grpc_tls_files f = {srv->cert_file, srv->key_file, srv->ca_file};
        rc = grpc_tls_ctx_create(&f, &srv->tls, err);
    }
    if (rc == 0)
        rc = net_listen("grpc_listen_addr", config->listen_addr, &srv->listen_fd, &srv->port, err);
    if (rc == 0 && (srv->workers = mem_calloc(srv->nworkers, sizeof *srv->workers)) == NULL)
        rc = o2p_errorf(err, O2P_ENOMEM, "out of memory");
    for (unsigned i = 0; rc == 0 && i < srv->nworkers; i++) {
        srv->workers[i].epfd = srv->workers[i].wake_fd = srv->workers[i].done_fd = -1;
        srv->workers[i].timer_fd = -1;
        pthread_mutex_init(&srv->workers[i].done_mu, NULL);
    }
    if (rc == 0) {
        /* as many decode threads as connection threads, with the same
         * ingest thread indexes: the connection threads no longer ingest */
        grpc_pool_config pc = {.threads = srv->nworkers,
                               .thread_base = config->thread_base,
                               .max_payload = srv->max_payload,
                               .handlers = &srv->handlers,
                               .metrics = srv->metrics,
                               .done = grpc_job_done,
                               .done_ctx = srv};
        rc = grpc_pool_start(&srv->pool, &pc, err);
    }
    for (unsigned i = 0; rc == 0 && i < srv->nworkers; i++) {
        grpc_worker *w = &srv->workers[i];
        w->srv = srv;
        w->index = i;
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        w->done_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        w->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        w->rbuf = mem_alloc(GRPC_READ_CHUNK);
        grpc_h2_env_init(&w->env, &srv->handlers, config->thread_base + i, srv->max_payload,
                         srv->auth_token);
        w->env.metrics = srv->metrics;
        w->env.dispatch = grpc_conn_dispatch;
        w->env.dispatch_ctx = srv;
        struct epoll_event le = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &srv->listen_fd};
        struct epoll_event we = {.events = EPOLLIN, .data.ptr = &w->wake_fd};
        struct epoll_event de = {.events = EPOLLIN, .data.ptr = &w->done_fd};
        struct epoll_event te = {.events = EPOLLIN, .data.ptr = &w->timer_fd};
        if (w->rbuf == NULL)
            rc = o2p_errorf(err, O2P_ENOMEM, "out of memory");
        else if (w->epfd < 0 || w->wake_fd < 0 || w->done_fd < 0 || w->timer_fd < 0 ||
                 epoll_ctl(w->epfd, EPOLL_CTL_ADD, srv->listen_fd, &le) < 0 ||
                 epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wake_fd, &we) < 0 ||
                 epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->done_fd, &de) < 0 ||
                 epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->timer_fd, &te) < 0)
            rc = o2p_errorf(err, O2P_EIO, "grpc: epoll: %s", strerror(errno));
    }
    for (unsigned i = 0; rc == 0 && i < srv->nworkers; i++) {
        if (pthread_create(&srv->workers[i].thread, NULL, grpc_worker_main, &srv->workers[i]) != 0)
            rc = o2p_errorf(err, O2P_EIO, "grpc: cannot start threads");
        else
            srv->workers[i].started = 1;
    }
    if (rc < 0) {
        grpc_server_stop(srv);
        return rc;
    }
    *out = srv;
    return O2P_OK;
}

uint16_t grpc_server_port(const grpc_server *srv)
{
    return srv->port;
}

void grpc_server_stop(grpc_server *srv)
{
    if (srv == NULL) return;
    atomic_store(&srv->stopping, 1);
    for (unsigned i = 0; srv->workers && i < srv->nworkers; i++) {
        uint64_t one = 1;
        if (srv->workers[i].wake_fd >= 0 && write(srv->workers[i].wake_fd, &one, sizeof one) < 0)
            LOG_WARN("grpc: cannot wake a worker: %s", strerror(errno));
    }
    for (unsigned i = 0; srv->workers && i < srv->nworkers; i++)
        if (srv->workers[i].started) pthread_join(srv->workers[i].thread, NULL);
    /* calls still queued (drain deadline passed) are dropped unanswered;
     * then every job is back in a done list and the last connections go */
    grpc_pool_stop(srv->pool);
    srv->pool = NULL;
    for (unsigned i = 0; srv->workers && i < srv->nworkers; i++)
        grpc_take_done(&srv->workers[i], 0);
    grpc_free(srv);
}
