/* Fuzz target: the OCI document parsers (index, manifest, config, oci-layout) on the same
 * untrusted bytes. Whatever the input: no crash, no leak, and a result that parsed has the
 * invariants the rest of the library relies on. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "oci_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_descriptor(const struct cl_image_descriptor *d)
{
	if (!d->media_type || !d->digest || cl_digest_parse(d->digest, NULL, NULL, "") != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct cl_error err = { 0 };

	struct cl_oci_index idx;
	if (cl_oci_parse_index(buf, size, "index", &idx, &err) == 0) {
		for (size_t i = 0; i < idx.n; i++) {
			check_descriptor(&idx.entries[i].desc);
			if (!idx.entries[i].os || !idx.entries[i].architecture ||
			    !idx.entries[i].variant)
				abort();
		}
		cl_oci_index_free(&idx);
	} else if (err.code >= 0 || !err.msg[0]) {
		abort();   /* a failure always carries a code and a message */
	}

	cl_error_clear(&err);
	struct cl_oci_manifest m;
	if (cl_oci_parse_manifest(buf, size, "manifest", NULL, &m, &err) == 0) {
		check_descriptor(&m.config);
		for (size_t i = 0; i < m.n_layers; i++)
			check_descriptor(&m.layers[i].blob);
		cl_oci_manifest_free(&m);
	}
	cl_error_clear(&err);
	if (cl_oci_parse_manifest(buf, size, "manifest", CL_MT_MANIFEST, &m, &err) == 0)
		cl_oci_manifest_free(&m);

	cl_error_clear(&err);
	struct cl_oci_config c;
	if (cl_oci_parse_config(buf, size, "config", &c, &err) == 0) {
		if (!c.cfg.os || !c.cfg.architecture || !c.cfg.variant || !c.cfg.entrypoint ||
		    !c.cfg.cmd || !c.cfg.env || !c.cfg.working_dir || !c.cfg.user)
			abort();
		for (size_t i = 0; c.cfg.env[i]; i++)
			if (!strchr(c.cfg.env[i], '=') || c.cfg.env[i][0] == '=')
				abort();
		for (size_t i = 0; i < c.n_diff_ids; i++)
			if (cl_digest_parse(c.diff_ids[i], NULL, NULL, "") != 0)
				abort();
		cl_oci_config_free(&c);
	}

	cl_error_clear(&err);
	cl_oci_parse_layout_file(buf, size, "oci-layout", &err);
	return 0;
}
