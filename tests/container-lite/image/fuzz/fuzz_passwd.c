/* Fuzz target: /etc/passwd and /etc/group parsing of an image's files. The input is split
 * at its first NUL into a passwd part and a group part; lookups by name, by id, and group
 * memberships must stay in bounds and return well-formed answers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "passwd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	const char *nul = memchr(buf, '\0', size);
	size_t plen = nul ? (size_t)(nul - buf) : size;
	const char *group = nul ? nul + 1 : buf;
	size_t glen = nul ? size - plen - 1 : size;

	static const char *const names[] = { "root", "alice", "", "a:b", "nobody" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct cl_passwd_entry pw;
		if (cl_passwd_find(buf, plen, names[i], 0, &pw) == 1 &&
		    strcmp(pw.name, names[i]) != 0)
			abort();
		uint32_t gid = 0;
		cl_group_find(group, glen, names[i], &gid);
		uint32_t gids[CL_MAX_SUPPLEMENTARY_GROUPS];
		size_t n = cl_group_memberships(group, glen, names[i], gids, 4);
		if (n > 4)
			abort();
	}
	struct cl_passwd_entry pw;
	if (cl_passwd_find(buf, plen, NULL, 1000, &pw) == 1 && pw.uid != 1000)
		abort();
	uint32_t gid = 27;
	if (cl_group_find(group, glen, NULL, &gid) == 1 && gid != 27)
		abort();
	uint32_t id;
	if (cl_parse_id(buf, plen < 12 ? plen : 12, &id) == 0 && id == 0xffffffffu)
		abort();
	return 0;
}
