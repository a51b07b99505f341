/* The host's identity for Fabrics Connect: a host NQN and a 16-byte host identifier that
 * stay the same across runs on one machine, like nvme-cli's (DESIGN.md §2.1). */
#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define HOSTNQN_FILE   "/etc/nvme/hostnqn"
#define MACHINE_ID     "/etc/machine-id"
#define UUID_NQN_PREFIX "nqn.2014-08.org.nvmexpress:uuid:"
/* HMAC key: makes our identifier specific to this application, not the machine id itself */
static const char app_key[] = "insitu host identity v1";

static int read_line(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	if (!fgets(buf, (int)cap, f)) {
		fclose(f);
		return -ENODATA;
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] ? 0 : -ENODATA;
}

static void uuid_text(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

/* "…:uuid:xxxxxxxx-xxxx-…" carries the host identifier; take it when the NQN has one. */
static bool uuid_from_nqn(const char *nqn, uint8_t out[16])
{
	const char *u = strstr(nqn, ":uuid:");

	if (!u)
		return false;
	u += 6;
	int n = 0;

	for (const char *p = u; *p && n < 32; p++) {
		if (*p == '-')
			continue;
		if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
			return false;
		unsigned v;

		if (sscanf(p, "%2x", &v) != 1)
			return false;
		out[n / 2] = (uint8_t)v;
		n += 2;
		p++;
	}
	return n == 32;
}

static int derived_uuid(uint8_t out[16])
{
	char mid[128];
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned maclen = 0;

	if (read_line(MACHINE_ID, mid, sizeof(mid)) < 0)
		return -ENOENT;
	if (!HMAC(EVP_sha256(), app_key, (int)strlen(app_key), (const unsigned char *)mid,
		  strlen(mid), mac, &maclen) || maclen < 16)
		return -EIO;
	memcpy(out, mac, 16);
	out[6] = (uint8_t)((out[6] & 0x0f) | 0x40);	/* version 4 layout, RFC 4122 variant */
	out[8] = (uint8_t)((out[8] & 0x3f) | 0x80);
	return 0;
}

int ins_host_identity(const char *given, char nqn[INSITU_NQN_MAX + 1], uint8_t hostid[16])
{
	char line[INSITU_NQN_MAX + 2];
	uint8_t uuid[16];
	char text[37];
	bool have_uuid = derived_uuid(uuid) == 0;

	if (given && *given) {
		if (strlen(given) > INSITU_NQN_MAX || strncmp(given, "nqn.", 4) != 0)
			return ins_fail(-EINVAL, "host NQN '%s' must start with \"nqn.\" and have at "
					"most %d bytes", given, INSITU_NQN_MAX);
		snprintf(nqn, INSITU_NQN_MAX + 1, "%s", given);
	} else if (read_line(HOSTNQN_FILE, line, sizeof(line)) == 0 &&
		   strncmp(line, "nqn.", 4) == 0 && strlen(line) <= INSITU_NQN_MAX) {
		snprintf(nqn, INSITU_NQN_MAX + 1, "%s", line);
	} else {
		if (!have_uuid)
			return ins_fail(-ENOENT, "no host NQN: %s and %s are missing; give one with "
					"--hostnqn", HOSTNQN_FILE, MACHINE_ID);
		uuid_text(uuid, text);
		snprintf(nqn, INSITU_NQN_MAX + 1, UUID_NQN_PREFIX "%s", text);
	}
	if (!uuid_from_nqn(nqn, hostid)) {
		if (!have_uuid)
			memset(uuid, 0, sizeof(uuid));
		memcpy(hostid, uuid, 16);
	}
	return 0;
}
