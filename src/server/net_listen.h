/*
 * net_listen: the listening socket of a front door (HTTP on 4318, gRPC on
 * 4317), shared so both parse addresses and report errors the same way.
 */
#ifndef O2P_SERVER_NET_LISTEN_H
#define O2P_SERVER_NET_LISTEN_H

#include <stdint.h>

#include "core/error.h"

/* Splits "host:port" / "[v6]:port" / ":port" (all interfaces), then binds
 * and listens on a non-blocking, close-on-exec socket (port 0 picks a free
 * one).  *fd and *port (the bound port) on success; errors start with
 * "<label> '<addr>': " (O2P_EINVAL for a bad address, O2P_EIO when binding
 * fails). */
int net_listen(const char *label, const char *addr, int *fd, uint16_t *port, o2p_error *err);

#endif
