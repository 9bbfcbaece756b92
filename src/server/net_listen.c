/* net_listen: bind and listen for a front door (see net_listen.h). */
#include "server/net_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int net_listen(const char *label, const char *addr, int *fd_out, uint16_t *port_out, o2p_error *err)
{
    char host[256];
    const char *port_text;
    if (addr == NULL || *addr == '\0')
        return o2p_errorf(err, O2P_EINVAL, "%s is empty; expected host:port", label);
    if (addr[0] == '[') {
        const char *close_br = strchr(addr, ']');
        if (close_br == NULL || close_br[1] != ':' || (size_t)(close_br - addr - 1) >= sizeof host)
            return o2p_errorf(err, O2P_EINVAL, "%s '%s': expected [ipv6]:port", label, addr);
        memcpy(host, addr + 1, (size_t)(close_br - addr - 1));
        host[close_br - addr - 1] = '\0';
        port_text = close_br + 2;
    } else {
        const char *colon = strrchr(addr, ':');
        if (colon == NULL || (size_t)(colon - addr) >= sizeof host)
            return o2p_errorf(err, O2P_EINVAL, "%s '%s': expected host:port", label, addr);
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
        port_text = colon + 1;
    }
    char *end;
    errno = 0;
    unsigned long port = strtoul(port_text, &end, 10);
    if (*port_text == '\0' || *end != '\0' || errno != 0 || port > 65535)
        return o2p_errorf(err, O2P_EINVAL, "%s '%s': port must be 0..65535", label, addr);

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port_buf[8];
    snprintf(port_buf, sizeof port_buf, "%lu", port);
    int gai = getaddrinfo(host[0] ? host : "0.0.0.0", port_buf, &hints, &res);
    if (gai != 0) return o2p_errorf(err, O2P_EINVAL, "%s '%s': %s", label, addr, gai_strerror(gai));
    int last_errno = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd =
            socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            last_errno = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOMAXCONN) == 0) {
            struct sockaddr_storage bound;
            socklen_t bound_len = sizeof bound;
            getsockname(fd, (struct sockaddr *)&bound, &bound_len);
            *port_out =
                ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                  : ((struct sockaddr_in *)&bound)->sin_port);
            *fd_out = fd;
            freeaddrinfo(res);
            return O2P_OK;
        }
        last_errno = errno;
        close(fd);
    }
    freeaddrinfo(res);
    return o2p_errorf(err, O2P_EIO, "%s '%s': %s", label, addr, strerror(last_errno));
}
