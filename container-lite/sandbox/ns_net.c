/* The network namespace: a new one has only a loopback device, down. Bringing it up gives
 * the sandbox 127.0.0.1 for talking to itself; there is no route anywhere else. */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "sandbox_internal.h"

int cl_sbx_net_loopback_up(struct cl_error *err)
{
	cl_cleanup_fd int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return cl_error_set(err, -errno, "network: socket: %s", cl_sbx_errstr(errno));
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return cl_error_set(err, -errno, "network: lo flags: %s", cl_sbx_errstr(errno));
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return cl_error_set(err, -errno, "network: bring lo up: %s", cl_sbx_errstr(errno));
	return 0;
}
