/* token-stats: a preprocessing program as a pipeline would ship it in an image. It reads
 * every tokenised shard in /data (little-endian 16-bit token ids), and writes one JSON line
 * per shard to /out/stats.jsonl: tokens, distinct ids, and the five most frequent ids. The
 * host then receives a few hundred bytes instead of the shards. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { VOCAB = 65536, TOP = 5 };

static int shard_stats(const char *dir, const char *name, FILE *out)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	FILE *in = fopen(path, "rb");
	if (!in)
		return -errno;
	static uint64_t count[VOCAB];
	memset(count, 0, sizeof(count));
	uint64_t tokens = 0;
	uint8_t buf[1 << 16];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 1) {
		for (size_t i = 0; i + 1 < n; i += 2)
			count[buf[i] | (unsigned)buf[i + 1] << 8]++;
		tokens += n / 2;
	}
	const int failed = ferror(in);
	fclose(in);
	if (failed)
		return -EIO;

	/* the TOP most frequent ids, most frequent first; ties keep the smaller id */
	unsigned distinct = 0, top_id[TOP] = { 0 };
	uint64_t top_count[TOP] = { 0 };
	for (unsigned id = 0; id < VOCAB; id++) {
		if (!count[id])
			continue;
		distinct++;
		for (unsigned k = 0; k < TOP; k++) {
			if (count[id] > top_count[k]) {
				memmove(&top_id[k + 1], &top_id[k], (TOP - 1 - k) * sizeof(top_id[0]));
				memmove(&top_count[k + 1], &top_count[k],
					(TOP - 1 - k) * sizeof(top_count[0]));
				top_id[k] = id;
				top_count[k] = count[id];
				break;
			}
		}
	}
	fprintf(out, "{\"shard\":\"%s\",\"tokens\":%llu,\"distinct\":%u,\"top\":[", name,
		(unsigned long long)tokens, distinct);
	for (unsigned k = 0; k < TOP && k < distinct; k++)
		fprintf(out, "%s[%u,%llu]", k ? "," : "", top_id[k],
			(unsigned long long)top_count[k]);
	fputs("]}\n", out);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	const char *in_dir = argc > 1 ? argv[1] : "/data";
	const char *out_path = argc > 2 ? argv[2] : "/out/stats.jsonl";
	struct dirent **names;
	const int n = scandir(in_dir, &names, NULL, by_name);
	if (n < 0) {
		fprintf(stderr, "token-stats: %s: %s\n", in_dir, strerror(errno));
		return 1;
	}
	FILE *out = fopen(out_path, "w");
	if (!out) {
		fprintf(stderr, "token-stats: %s: %s\n", out_path, strerror(errno));
		return 1;
	}
	int status = 0;
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			const int rc = shard_stats(in_dir, names[i]->d_name, out);
			if (rc < 0) {
				fprintf(stderr, "token-stats: %s/%s: %s\n", in_dir, names[i]->d_name,
					strerror(-rc));
				status = 1;
			}
		}
		free(names[i]);
	}
	free(names);
	if (fclose(out) != 0) {
		fprintf(stderr, "token-stats: %s: %s\n", out_path, strerror(errno));
		status = 1;
	}
	return status;
}
