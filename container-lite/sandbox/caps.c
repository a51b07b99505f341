/* Capabilities of the sandbox: none. Securebits lock the root-gets-capabilities rules off,
 * the bounding set is emptied (so exec can grant nothing, even to uid 0 inside), then the
 * permitted/effective/inheritable sets are cleared and the ambient set emptied (libcap). */
#include <errno.h>
#include <linux/securebits.h>
#include <string.h>
#include <sys/capability.h>

#include "sandbox_internal.h"

int cl_sbx_caps_lock_and_drop_bounding(struct cl_error *err)
{
	/* NOROOT: uid 0 gains no capabilities at execve; NO_SETUID_FIXUP: a uid change does
	 * not grant or keep any (we clear them explicitly); NO_CAP_AMBIENT_RAISE: the
	 * ambient set stays empty. All locked, so the program cannot undo them. */
	const unsigned bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
			      SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
			      SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	if (cap_set_secbits(bits) < 0)
		return cl_error_set(err, -errno, "capabilities: set securebits: %s",
				    cl_sbx_errstr(errno));

	const cap_value_t max = cap_max_bits();
	for (cap_value_t v = 0; v < max; v++) {
		if (cap_drop_bound(v) < 0 && errno != EINVAL)
			return cl_error_set(err, -errno, "capabilities: drop capability %d from "
					    "the bounding set: %s", (int)v, cl_sbx_errstr(errno));
	}
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		return cl_error_set(err, -errno, "capabilities: clear the ambient set: %s",
				    cl_sbx_errstr(errno));
	return 0;
}

/* After the identity switch: empty permitted, effective and inheritable sets. empty was
 * made by cap_init() in the supervisor (the child does not allocate). */
int cl_sbx_caps_clear(cap_t empty, struct cl_error *err)
{
	if (cap_set_proc(empty) < 0)
		return cl_error_set(err, -errno, "capabilities: clear all sets: %s",
				    cl_sbx_errstr(errno));
	if (cap_reset_ambient() < 0 && errno != EINVAL)
		return cl_error_set(err, -errno, "capabilities: clear the ambient set: %s",
				    cl_sbx_errstr(errno));
	return 0;
}
