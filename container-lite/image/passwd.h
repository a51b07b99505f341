/* Parsing an image's own /etc/passwd and /etc/group — untrusted bytes — to resolve the
 * config's User. Our own bounded line parser: never NSS, which would load the image's
 * libraries into our process. Pure functions over a buffer; fuzzed. */
#ifndef CL_IMAGE_PASSWD_H
#define CL_IMAGE_PASSWD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CL_PASSWD_MAX_BYTES (1u << 20)
#define CL_PASSWD_MAX_LINES 65536u
#define CL_MAX_SUPPLEMENTARY_GROUPS 256u

struct cl_passwd_entry {
	char name[256];
	uint32_t uid;
	uint32_t gid;
};

/* Parses a decimal id of len bytes (no sign, no spaces), at most 4294967294. 0 or -EINVAL. */
int cl_parse_id(const char *s, size_t len, uint32_t *out);

/* Looks up /etc/passwd content by name (when name != NULL) or by uid. 1 found, 0 not. */
int cl_passwd_find(const char *buf, size_t len, const char *name, uint32_t uid,
		   struct cl_passwd_entry *out);

/* Looks up /etc/group content by name (when name != NULL) or by gid; *gid receives the
 * id. 1 found, 0 not. */
int cl_group_find(const char *buf, size_t len, const char *name, uint32_t *gid);

/* Collects the gids of groups listing user as a member, at most max; returns the count. */
size_t cl_group_memberships(const char *buf, size_t len, const char *user, uint32_t *gids,
			    size_t max);

#endif
