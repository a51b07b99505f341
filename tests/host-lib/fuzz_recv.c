/* Fuzzes the initiator's handling of untrusted device bytes: the input (after one byte that
 * picks the digests) is the stream a device sends on a queue with four commands outstanding
 * (recv_fixture.h); tq_recv_one() runs on it until the stream ends or the queue fails, then
 * every command must have completed. A crash, a sanitizer report or a hang is a finding. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "recv_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fixture f;

	if (size < 1 || size > 65536)
		return 0;
	fixture_open(&f, data[0] & (INSITU_TCP_DGST_HDR | INSITU_TCP_DGST_DATA));
	fixture_run(&f, data + 1, size - 1);
	tq_fail(&f.q, ECONNRESET, "fuzz: end of stream");

	struct ins_req *done[8];
	unsigned n = tq_reap(&f.q, done, 8, 4);

	if (n != 4)
		abort();
	for (unsigned i = 0; i < n; i++)
		if (!done[i]->done)
			abort();
	fixture_close(&f);
	return 0;
}
