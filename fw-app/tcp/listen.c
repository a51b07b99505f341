/* Listening sockets: getaddrinfo on the configured address (literal or host name), the
 * first address that binds wins, SO_REUSEADDR so a restarted daemon gets its port back at
 * once, and getsockname for the port the kernel chose when asked for port 0. */
#include "listen.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int fw_tcp_listen(const char *addr, uint16_t port, bool discovery, struct fw_tcp_listener *l,
		  char *err, size_t errlen)
{
	struct addrinfo hints = { 0 }, *res = NULL;
	char portstr[8];
	int rc, last = -EADDRNOTAVAIL;

	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	rc = getaddrinfo(addr, portstr, &hints, &res);
	if (rc) {
		snprintf(err, errlen, "listen address '%s': %s", addr, gai_strerror(rc));
		return -EINVAL;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int one = 1;
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		if (fd < 0) {
			last = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 4096) ||
		    getsockname(fd, (struct sockaddr *)&ss, &sl)) {
			last = -errno;
			close(fd);
			continue;
		}
		rc = getnameinfo((struct sockaddr *)&ss, sl, l->addr, sizeof(l->addr), portstr,
				 sizeof(portstr), NI_NUMERICHOST | NI_NUMERICSERV);
		if (rc) {
			snprintf(l->addr, sizeof(l->addr), "%s", addr);
			portstr[0] = '0';
			portstr[1] = 0;
		}
		l->fd = fd;
		l->port = (uint16_t)atoi(portstr);
		l->discovery = discovery;
		freeaddrinfo(res);
		return 0;
	}
	freeaddrinfo(res);
	snprintf(err, errlen, "cannot listen on %s port %u: %s", addr, port, strerror(-last));
	return last;
}

void fw_tcp_format_endpoint(const char *addr, uint16_t port, char *out, size_t outlen)
{
	if (strchr(addr, ':'))
		snprintf(out, outlen, "[%s]:%u", addr, port);
	else
		snprintf(out, outlen, "%s:%u", addr, port);
}
