/*
 * serve_wal: the write-ahead log as `serve` uses it (durability = "wal";
 * docs/durability.md).
 *
 * Before a request is answered 200 its decompressed body is appended to the
 * log as a DATA record (signal, format, receive time, body) and synced; its
 * rows then go to the batcher tagged with the record's LSN.  HTTP requests
 * do not wait for the sync on their thread (serve_wal_append_async): the
 * log's syncer calls back once the record is durable.  Through the
 * batcher's journal hook every buffered group holds a reference on the LSNs
 * of its rows, logs an INTENT record (object key + LSNs) before it stores a
 * file, and releases the references once the file is stored; the log
 * deletes a segment when nothing in it is referenced.  A DATA record that
 * ends up refused (429/503 after it was written) is followed by a CANCEL.
 *
 * Replay (a thread, at start): INTENT records are collected first; for each
 * DATA record not cancelled, the body is decoded again with its own receive
 * time (so rows and partitions come out the same), the partitions already
 * stored under an INTENT's key that names it (store_exists, retried while
 * storage fails) are dropped, and the rest is submitted with the old LSN.
 * /ready is false until replay is over; new requests are taken meanwhile.
 */
#ifndef O2P_CLI_SERVE_WAL_H
#define O2P_CLI_SERVE_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "batch/batch.h"
#include "config/cfg.h"
#include "core/buf.h"
#include "core/error.h"
#include "otlp/otlp.h"
#include "storage/store.h"
#include "wal/wal.h"

typedef struct serve_wal serve_wal;

/* Opens (locks, scans) the log configured in cfg.  O2P_EBUSY when another
 * server holds it. */
int serve_wal_open(serve_wal **out, const cfg_config *cfg, const tbl_schemas *schemas, store *st,
                   o2p_error *err);

/* Installs the journal on b and starts the replay thread. */
int serve_wal_start(serve_wal *sw, batch *b, o2p_error *err);

/* Appends a request (before its rows are submitted) and waits until it is
 * durable; *lsn is its record.  O2P_EBUSY past max_bytes, O2P_EIO when the
 * disk fails (nothing acknowledged). */
int serve_wal_append(serve_wal *sw, otlp_signal signal, otlp_format format, uint64_t receive_ns,
                     const uint8_t *body, size_t len, uint64_t *lsn, o2p_error *err);

/* 1 when serve_wal_append_async answers without blocking (sync = always). */
int serve_wal_async(const serve_wal *sw);

/* serve_wal_append without waiting: writes the record (wt->lsn is its LSN)
 * and returns; wt->done runs once it is durable (rc O2P_OK) or its sync
 * failed (O2P_EIO: the caller answers 503 and calls serve_wal_done with
 * cancel = 1), on the log's syncer or completion thread, or on this one before the
 * return when the log is closing.  A failure returned here (O2P_EBUSY past max_bytes,
 * O2P_EIO) means nothing was logged and done is never called. */
int serve_wal_append_async(serve_wal *sw, otlp_signal signal, otlp_format format,
                           uint64_t receive_ns, const uint8_t *body, size_t len, wal_waiter *wt,
                           o2p_error *err);

/* The request's own reference, after its rows were submitted (accepted:
 * the groups hold theirs) or refused (cancel = 1: a CANCEL record is
 * written so replay never brings back what the client was told to retry). */
void serve_wal_done(serve_wal *sw, uint64_t lsn, int cancel);

/* 1 when replay is over and the disk is healthy; else 0 and why. */
int serve_wal_ready(serve_wal *sw, char *why, size_t cap);

/* Prometheus families otlp2parquet_wal_*. */
void serve_wal_metrics(serve_wal *sw, o2p_buf *out);

/* Waits for the replay thread (stop = 1 asks it to give up early: what it
 * did not submit stays in the log for the next start). */
void serve_wal_stop_replay(serve_wal *sw, int stop);

/* After batch_shutdown: syncs and closes the log. */
void serve_wal_close(serve_wal *sw);

#endif
