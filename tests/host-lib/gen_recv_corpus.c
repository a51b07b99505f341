/* Writes the seed corpus of fuzz_recv: well-formed device streams for the fixture's four
 * outstanding commands (recv_fixture.h), in each digest setting. Usage: gen_recv_corpus DIR */
#include <stdio.h>
#include <stdlib.h>

#include "recv_fixture.h"

static struct dev_stream s;

static void save(const char *dir, const char *name, uint8_t dg)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s-d%u", dir, name, dg);
	f = fopen(path, "wb");
	if (!f || fwrite(s.buf, 1, s.len, f) != s.len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (uint8_t dg = 0; dg < 4; dg++) {
		stream_start(&s, dg);
		stream_resp(&s, FIX_CID_FLUSH, 0);
		save(argv[1], "flush", dg);

		stream_start(&s, dg);
		stream_c2h(&s, FIX_CID_READ, 0, 4096, false, false);
		stream_c2h(&s, FIX_CID_READ, 4096, 4096, true, false);
		stream_resp(&s, FIX_CID_READ, 0);
		save(argv[1], "read", dg);

		stream_start(&s, dg);
		stream_c2h(&s, FIX_CID_READ, 0, FIX_READ_LEN, true, true);
		save(argv[1], "read-success", dg);

		stream_start(&s, dg);
		stream_r2t(&s, FIX_CID_WRITE, 1, 0, 8192);
		stream_r2t(&s, FIX_CID_WRITE, 2, 8192, 8192);
		stream_resp(&s, FIX_CID_WRITE, 0);
		save(argv[1], "write", dg);

		stream_start(&s, dg);
		stream_c2h(&s, FIX_CID_ID, 0, FIX_ID_LEN, true, false);
		stream_resp(&s, FIX_CID_ID, 0);
		stream_r2t(&s, FIX_CID_WRITE, 7, 0, FIX_WRITE_LEN);
		stream_resp(&s, FIX_CID_FLUSH, 0x0002);	/* Invalid Field in Command */
		stream_resp(&s, FIX_CID_WRITE, 0);
		stream_c2h(&s, FIX_CID_READ, 0, FIX_READ_LEN, true, false);
		stream_resp(&s, FIX_CID_READ, 0x0080);	/* LBA Out of Range */
		save(argv[1], "all", dg);

		stream_start(&s, dg);
		stream_term(&s, 0x02, 0);
		save(argv[1], "term", dg);
	}
	return 0;
}
