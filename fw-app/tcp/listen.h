/* The listening sockets of insitu-fw: resolve the listen address, bind (port 0: any free
 * port), listen, and report the address and port actually bound. */
#ifndef INSITU_FW_TCP_LISTEN_H
#define INSITU_FW_TCP_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reactor.h"

/* Fills l (fd, addr, port) or returns a negative errno with err naming the address. */
int fw_tcp_listen(const char *addr, uint16_t port, bool discovery, struct fw_tcp_listener *l,
		  char *err, size_t errlen);

/* "ADDR:PORT", or "[ADDR]:PORT" for an IPv6 address. */
void fw_tcp_format_endpoint(const char *addr, uint16_t port, char *out, size_t outlen);

#endif
