/* Test helpers: scratch directories, tree listings, one-call unpacks. */
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum cl_resolver tu_resolver = CL_RESOLVER_AUTO;

void tu_parse_args(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "auto") == 0)
		tu_resolver = CL_RESOLVER_AUTO;
	else if (strcmp(argv[1], "openat2") == 0)
		tu_resolver = CL_RESOLVER_OPENAT2;
	else if (strcmp(argv[1], "fallback") == 0)
		tu_resolver = CL_RESOLVER_FALLBACK;
	else {
		fprintf(stderr, "usage: %s [auto|openat2|fallback]\n", argv[0]);
		exit(2);
	}
	printf("# resolver: %s\n", cl_rootfs_resolver_name(tu_resolver));
}

char *tu_workdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *p = NULL;
	if (asprintf(&p, "%s/cl-%s-XXXXXX", base && *base ? base : "/tmp", tag) < 0 ||
	    !mkdtemp(p)) {
		perror("mkdtemp");
		abort();
	}
	return p;
}

static int rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static int chmod_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(path, (st->st_mode & 07777) | 0700);
	return 0;
}

void tu_rm_rf(const char *path)
{
	nftw(path, chmod_cb, 64, FTW_PHYS);
	nftw(path, rm_cb, 64, FTW_PHYS | FTW_DEPTH);
}

const char *tu_path(const char *dir, const char *name)
{
	static char bufs[8][4096];
	static int i;
	char *b = bufs[i++ % 8];
	snprintf(b, 4096, "%s/%s", dir, name);
	return b;
}

struct lines {
	char **v;
	size_t n, cap;
	size_t rootlen;
	unsigned flags;
};

static struct lines *g_lines;

static void add_line(struct lines *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof(char *));
	}
	l->v[l->n++] = s;
}

__attribute__((format(printf, 1, 2))) static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = NULL;
	if (vasprintf(&s, f, ap) < 0)
		abort();
	va_end(ap);
	return s;
}

static char *describe_content(const char *path, off_t size)
{
	char *s = NULL;
	char *data = size <= 40 ? tu_read(path) : NULL;
	bool printable = data != NULL && (off_t)strlen(data) == size;
	for (off_t i = 0; printable && i < size; i++)
		printable = data[i] >= 0x20 && data[i] < 0x7f;
	if (printable)
		s = fmt("=%s", data);
	else
		s = fmt("#%lld", (long long)size);
	free(data);
	return s;
}

static int tree_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct lines *l = g_lines;
	if (ftw->level == 0)
		return 0;
	const char *rel = path + l->rootlen + 1;
	char *line = NULL, mt[32] = "";
	if ((l->flags & TU_TREE_MTIME) && !S_ISDIR(st->st_mode))
		snprintf(mt, sizeof(mt), " @%lld", (long long)st->st_mtime);
	if ((l->flags & TU_TREE_DIR_MTIME) && S_ISDIR(st->st_mode))
		snprintf(mt, sizeof(mt), " @%lld", (long long)st->st_mtime);
	unsigned mode = st->st_mode & 07777;
	if (S_ISDIR(st->st_mode)) {
		line = fmt("d %04o %u:%u %s%s", mode, st->st_uid, st->st_gid, rel, mt);
	} else if (S_ISREG(st->st_mode)) {
		char *c = describe_content(path, st->st_size);
		line = fmt("f %04o %u:%u %s %s%s", mode, st->st_uid, st->st_gid, rel, c, mt);
		free(c);
	} else if (S_ISLNK(st->st_mode)) {
		char target[4096];
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		line = fmt("l %u:%u %s -> %s%s", st->st_uid, st->st_gid, rel, target, mt);
	} else {
		char t = S_ISFIFO(st->st_mode) ? 'p' : S_ISCHR(st->st_mode) ? 'c' :
			 S_ISBLK(st->st_mode) ? 'b' : 's';
		line = fmt("%c %04o %u:%u %s%s", t, mode, st->st_uid, st->st_gid, rel, mt);
	}
	(void)flag;
	add_line(l, line);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join(struct lines *l)
{
	if (l->n)
		qsort(l->v, l->n, sizeof(char *), cmp_str);
	size_t total = 1;
	for (size_t i = 0; i < l->n; i++)
		total += strlen(l->v[i]) + 1;
	char *out = malloc(total);
	size_t o = 0;
	for (size_t i = 0; i < l->n; i++) {
		size_t n = strlen(l->v[i]);
		memcpy(out + o, l->v[i], n);
		out[o + n] = '\n';
		o += n + 1;
		free(l->v[i]);
	}
	out[o] = '\0';
	free(l->v);
	return out;
}

char *tu_tree(const char *root, unsigned flags)
{
	struct lines l = { .rootlen = strlen(root), .flags = flags };
	g_lines = &l;
	if (nftw(root, tree_cb, 64, FTW_PHYS) != 0) {
		fprintf(stderr, "tu_tree: %s: %s\n", root, strerror(errno));
		return strdup("(unreadable)\n");
	}
	return join(&l);
}

char *tu_ls(const char *dir)
{
	struct lines l = { 0 };
	DIR *d = opendir(dir);
	if (!d)
		return strdup("(missing)\n");
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			add_line(&l, strdup(e->d_name));
	closedir(d);
	return join(&l);
}

char *tu_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	ssize_t n;
	while ((n = read(fd, buf + len, cap - len)) > 0) {
		len += (size_t)n;
		if (len == cap)
			buf = realloc(buf, (cap *= 2) + 1);
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

bool tu_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

int tu_unpack(const char *image, const char *ref, const char *rootfs,
	      const struct cl_unpack_options *opts, struct cl_unpack_stats *st,
	      struct cl_error *err)
{
	struct cl_unpack_options o = { 0 };
	if (opts)
		o = *opts;
	o.resolver = tu_resolver;
	struct cl_image *img = NULL;
	struct cl_image_manifest *m = NULL;
	struct cl_image_selector sel = { .ref = ref };
	int rc = cl_image_open(image, &img, err);
	if (rc == 0)
		rc = cl_image_select(img, &sel, &m, err);
	if (rc == 0)
		rc = cl_image_unpack(img, m, rootfs, &o, st, err);
	cl_image_manifest_free(m);
	cl_image_close(img);
	return rc;
}

bool tu_same(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return true;
	fprintf(stderr, "%s differs.\n--- got:\n%s--- want:\n%s---\n", what, got, want);
	return false;
}
