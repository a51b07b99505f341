/* Open-addressing hash set of path strings (xxh3), keys in an arena. Its size is bounded by
 * the unpack's entry limit: every path added comes from a tar entry (plus its ancestors). */
#include "upper_set.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#define ARENA_CHUNK (64u << 10)

struct slot {
	uint64_t hash;
	const char *key;        /* NULL: empty */
	uint32_t len;
	uint32_t flags;
};

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	char data[];
};

struct cl_upper_set {
	struct slot *slots;
	size_t cap;             /* power of two */
	size_t count;
	size_t bytes;           /* keys and slots */
	struct arena_chunk *arena;
};

struct cl_upper_set *cl_upper_set_new(void)
{
	struct cl_upper_set *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->cap = 1024;
	s->slots = calloc(s->cap, sizeof(*s->slots));
	if (!s->slots) {
		free(s);
		return NULL;
	}
	s->bytes = s->cap * sizeof(*s->slots);
	return s;
}

static void arena_free(struct arena_chunk *c)
{
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
}

void cl_upper_set_free(struct cl_upper_set *s)
{
	if (!s)
		return;
	arena_free(s->arena);
	free(s->slots);
	free(s);
}

void cl_upper_set_clear(struct cl_upper_set *s)
{
	arena_free(s->arena);
	s->arena = NULL;
	memset(s->slots, 0, s->cap * sizeof(*s->slots));
	s->count = 0;
	s->bytes = s->cap * sizeof(*s->slots);
}

static const char *arena_copy(struct cl_upper_set *s, const char *key, size_t len)
{
	struct arena_chunk *c = s->arena;
	if (!c || c->cap - c->used < len + 1) {
		size_t cap = len + 1 > ARENA_CHUNK ? len + 1 : ARENA_CHUNK;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = s->arena;
		c->used = 0;
		c->cap = cap;
		s->arena = c;
	}
	char *dst = c->data + c->used;
	memcpy(dst, key, len);
	dst[len] = '\0';
	c->used += len + 1;
	return dst;
}

static struct slot *find(const struct cl_upper_set *s, const char *key, size_t len,
			 uint64_t hash)
{
	size_t mask = s->cap - 1;
	for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
		struct slot *sl = &s->slots[i];
		if (!sl->key)
			return sl;
		if (sl->hash == hash && sl->len == len && memcmp(sl->key, key, len) == 0)
			return sl;
	}
}

static int grow(struct cl_upper_set *s)
{
	size_t ncap = s->cap * 2;
	if (s->bytes + s->cap * sizeof(struct slot) > CL_UPPER_SET_MAX_BYTES)
		return -EFBIG;
	struct slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < s->cap; i++) {
		struct slot *old = &s->slots[i];
		if (!old->key)
			continue;
		for (size_t j = (size_t)old->hash & (ncap - 1);; j = (j + 1) & (ncap - 1)) {
			if (!ns[j].key) {
				ns[j] = *old;
				break;
			}
		}
	}
	free(s->slots);
	s->bytes += s->cap * sizeof(struct slot);
	s->slots = ns;
	s->cap = ncap;
	return 0;
}

/* Sets flag on key; returns 1 if it was already set, 0 if newly set, -ENOMEM. */
static int mark(struct cl_upper_set *s, const char *key, size_t len, uint32_t flag)
{
	if ((s->count + 1) * 2 > s->cap) {
		int rc = grow(s);
		if (rc < 0)
			return rc;
	}
	uint64_t hash = XXH3_64bits(key, len);
	struct slot *sl = find(s, key, len, hash);
	if (sl->key) {
		int had = (sl->flags & flag) != 0;
		sl->flags |= flag;
		return had;
	}
	if (s->bytes + len + 1 > CL_UPPER_SET_MAX_BYTES)
		return -EFBIG;
	const char *copy = arena_copy(s, key, len);
	if (!copy)
		return -ENOMEM;
	s->bytes += len + 1;
	*sl = (struct slot){ .hash = hash, .key = copy, .len = (uint32_t)len, .flags = flag };
	s->count++;
	return 0;
}

int cl_upper_set_add(struct cl_upper_set *s, const char *path)
{
	size_t len = strlen(path);
	if (len == 0)
		return 0;
	int rc = mark(s, path, len, CL_UPPER_ENTRY);
	if (rc < 0)
		return rc;
	while (len > 0) {
		const char *slash = memrchr(path, '/', len);
		if (!slash)
			break;
		len = (size_t)(slash - path);
		rc = mark(s, path, len, CL_UPPER_ANCESTOR);
		if (rc < 0)
			return rc;
		if (rc == 1)
			break;  /* its ancestors are marked already */
	}
	return 0;
}

unsigned cl_upper_set_get(const struct cl_upper_set *s, const char *path, size_t len)
{
	if (len == 0)
		return CL_UPPER_ANCESTOR;
	uint64_t hash = XXH3_64bits(path, len);
	const struct slot *sl = find(s, path, len, hash);
	return sl->key ? sl->flags : 0;
}
