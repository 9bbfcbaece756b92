/*
 * gen: deterministic synthetic OTLP export requests for the benchmarks.
 *
 * A request is first drawn as plain C records (resource, scope, log
 * records / spans / metric points with typed attributes) from a seeded
 * generator, then serialized either as protobuf (our own small wire writer)
 * or as OTLP/JSON, so both formats carry exactly the same content and the
 * same seed always gives the same bytes.  The content imitates what SDKs
 * send: a dozen resource attributes, log bodies from templates with varying
 * numbers, HTTP-ish attributes, trace context on most records, spans in
 * traces with events and links, and gauge/sum/histogram metrics.
 */
#ifndef O2P_BENCH_GEN_H
#define O2P_BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "otlp/otlp.h"

/* Appends one export request with `records` rows (log records, spans, or
 * metric data points) to out.  base_ns is the first timestamp; every
 * timestamp stays within [base_ns, base_ns + 10 min).  `service` selects the
 * service.name among a fixed list (modulo its length).  Returns the number
 * of rows the request holds (== records), or a negative status. */
long gen_request(o2p_buf *out, otlp_signal signal, otlp_format format, size_t records,
                 uint64_t seed, uint64_t base_ns, unsigned service);

/* A fixed start time (an hour boundary) so runs are reproducible. */
#define GEN_BASE_NS 1700002800000000000ull

#endif
