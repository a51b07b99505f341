/* Applying one layer's tar entries to a rootfs. Every name is normalised first; the parent
 * is resolved inside the rootfs; the last component is only ever touched by *at() calls
 * that do not follow it. Existing paths are removed and recreated unless both are
 * directories (so inodes shared with lower layers or the cache are never modified), and
 * whiteouts and opaque markers only remove what this layer did not create. */
#include "layer_apply.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <archive_entry.h>

#include "entry_path.h"
#include "rootfs_resolve.h"
#include "tree_ops.h"
#include "upper_set.h"

#define WH_PREFIX       ".wh."
#define WH_OPAQUE       ".wh..wh..opq"
#define XATTR_MAX_PER_ENTRY 64
#define XATTR_MAX_VALUE (64u << 10)
#define QUOTE_MAX 200

struct fixup {
	char *path;
	mode_t mode;
	struct timespec mtime;
	bool has_mtime;
};

struct cl_applier {
	int rootfd;
	struct cl_unpack_options o;
	struct cl_unpack_stats *st;
	struct cl_unpack_stats own_stats;
	uint64_t entries;
	uint64_t bytes;
	uid_t euid;
	gid_t egid;
	struct cl_upper_set *upper;
	struct fixup *fixups;
	size_t n_fixups, cap_fixups;
	size_t fixup_bytes;
	/* the parent directory of the previous entry, while it stays valid */
	int parent_fd;
	char parent_path[CL_ENTRY_PATH_MAX];
	/* scratch */
	char path[CL_ENTRY_PATH_MAX];
	char dir[CL_ENTRY_PATH_MAX];
	char link[CL_ENTRY_PATH_MAX];
	char linkdir[CL_ENTRY_PATH_MAX];
	char prune[CL_ENTRY_PATH_MAX];
};

/* What the current entry is, for messages. */
struct entry_ctx {
	const char *what;       /* the layer */
	const char *raw;        /* the entry name as in the tar */
};

void cl_unpack_options_resolve(const struct cl_unpack_options *in,
			       struct cl_unpack_options *out)
{
	static const struct cl_unpack_options zero;
	*out = in ? *in : zero;
	if (!out->max_total_bytes)
		out->max_total_bytes = CL_UNPACK_DEFAULT_MAX_BYTES;
	if (!out->max_entries)
		out->max_entries = CL_UNPACK_DEFAULT_MAX_ENTRIES;
	if (out->owner == CL_OWNER_AUTO)
		out->owner = geteuid() == 0 ? CL_OWNER_PRESERVE : CL_OWNER_SELF;
	out->resolver = cl_rootfs_effective_resolver(out->resolver);
}

uint64_t cl_unpack_stream_limit(const struct cl_unpack_options *o)
{
	/* data, plus headers and padding: 16 KiB per allowed entry, plus 1 MiB of slack */
	uint64_t per_entry = 16u << 10;
	uint64_t extra = o->max_entries > UINT64_MAX / per_entry ? UINT64_MAX :
								   o->max_entries * per_entry;
	uint64_t limit = o->max_total_bytes + extra;
	if (limit < o->max_total_bytes)
		return UINT64_MAX;
	return limit + (1u << 20) < limit ? UINT64_MAX : limit + (1u << 20);
}

int cl_applier_new(int rootfd, const struct cl_unpack_options *opts,
		   struct cl_unpack_stats *stats, struct cl_applier **out, struct cl_error *err)
{
	struct cl_applier *ap = calloc(1, sizeof(*ap));
	if (!ap)
		return cl_error_set(err, ENOMEM, "out of memory");
	ap->rootfd = rootfd;
	ap->o = *opts;
	ap->st = stats ? stats : &ap->own_stats;
	ap->st->resolver = opts->resolver;
	ap->euid = geteuid();
	ap->egid = getegid();
	ap->parent_fd = -1;
	ap->upper = cl_upper_set_new();
	if (!ap->upper) {
		free(ap);
		return cl_error_set(err, ENOMEM, "out of memory");
	}
	*out = ap;
	return 0;
}

static void drop_parent(struct cl_applier *ap)
{
	if (ap->parent_fd >= 0)
		close(ap->parent_fd);
	ap->parent_fd = -1;
	ap->parent_path[0] = '\0';
}

void cl_applier_set_root(struct cl_applier *ap, int rootfd)
{
	drop_parent(ap);
	ap->rootfd = rootfd;
}

static void clear_fixups(struct cl_applier *ap)
{
	for (size_t i = 0; i < ap->n_fixups; i++)
		free(ap->fixups[i].path);
	ap->n_fixups = 0;
	ap->fixup_bytes = 0;
}

void cl_applier_free(struct cl_applier *ap)
{
	if (!ap)
		return;
	drop_parent(ap);
	clear_fixups(ap);
	free(ap->fixups);
	cl_upper_set_free(ap->upper);
	free(ap);
}

/* An error about the current entry: "layer …: entry "name": reason". */
__attribute__((format(printf, 4, 5))) static int entry_error(struct cl_error *err, int code,
							       const struct entry_ctx *c,
							       const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	char q[QUOTE_MAX];
	return cl_error_set(err, code, "%s: entry \"%s\": %s", c->what,
			    cl_quote(c->raw, q, sizeof(q)), reason);
}

static const char *chown_hint(int e)
{
	return e == EPERM ? " (preserving image owners needs root; unpack with owner policy "
			    "self instead)" :
			    "";
}

/* The names of one layer are kept in memory (upper set, directory fixups): bounded. */
static int names_error(int rc, const struct entry_ctx *c, struct cl_error *err)
{
	if (rc == -EFBIG)
		return entry_error(err, EFBIG, c,
				   "the layer's names need more than %u MiB of memory (the limit)",
				   CL_UPPER_SET_MAX_BYTES >> 20);
	return entry_error(err, -rc, c, "out of memory");
}

/* Resolves the directory dir inside the rootfs (O_PATH), following symlinks inside it.
 * Returns a raw -errno; -ENOENT when a component is missing. */
static int resolve_dir(struct cl_applier *ap, const char *dir)
{
	return cl_resolve_open(ap->rootfd, dir, O_PATH | O_DIRECTORY, CL_ROOTFS_NO_XDEV,
			       ap->o.resolver);
}

static int apply_dir_owner_at(struct cl_applier *ap, int pfd, const char *name)
{
	if (ap->o.owner != CL_OWNER_PRESERVE)
		return 0;
	uid_t uid = ap->o.id_shift;
	gid_t gid = ap->o.id_shift;
	if (uid == ap->euid && gid == ap->egid)
		return 0;
	return fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

/* Creates the missing directories of dir (0755, owned by image root), one component at a
 * time, each resolved from the root again so symlinks stay inside it. */
static int create_parents(struct cl_applier *ap, const char *dir, const struct entry_ctx *c,
			  struct cl_error *err)
{
	char prefix[CL_ENTRY_PATH_MAX];
	int prev = resolve_dir(ap, "");
	if (prev < 0)
		return entry_error(err, -prev, c, "cannot open the rootfs: %s", strerror(-prev));
	const char *p = dir;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t end = slash ? (size_t)(slash - dir) : strlen(dir);
		memcpy(prefix, dir, end);
		prefix[end] = '\0';
		const char *comp = prefix + (p - dir);
		int fd = resolve_dir(ap, prefix);
		if (fd == -ENOENT) {
			if (mkdirat(prev, comp, 0755) != 0) {
				int e = errno;
				close(prev);
				if (e == EEXIST)
					return entry_error(err, EBADMSG, c,
							   "parent component \"%.100s\" is a "
							   "dangling symlink",
							   prefix);
				return entry_error(err, e, c, "mkdir %.100s: %s", prefix,
						   strerror(e));
			}
			int rc = apply_dir_owner_at(ap, prev, comp);
			if (rc == 0 && fchmodat(prev, comp, 0755, 0) != 0)
				rc = -errno;
			if (rc < 0) {
				close(prev);
				return entry_error(err, -rc, c, "%.100s: %s%s", prefix, strerror(-rc),
						   chown_hint(-rc));
			}
			fd = resolve_dir(ap, prefix);
		}
		close(prev);
		if (fd < 0)
			return entry_error(err, fd == -ENOTDIR ? EBADMSG : -fd, c,
					   "parent \"%.100s\": %s", prefix,
					   fd == -ENOTDIR ? "not a directory" : strerror(-fd));
		prev = fd;
		if (!slash)
			return fd;
		p = slash + 1;
	}
}

/* The parent directory of the current entry (borrowed: owned by the cache). With create,
 * missing directories are made. Returns the fd, or -ENOENT (when !create and missing), or
 * another negative code with err set. */
static int get_parent(struct cl_applier *ap, const char *dir, bool create,
		      const struct entry_ctx *c, struct cl_error *err)
{
	if (ap->parent_fd >= 0 && strcmp(ap->parent_path, dir) == 0)
		return ap->parent_fd;
	drop_parent(ap);
	int fd = resolve_dir(ap, dir);
	if (fd == -ENOENT && create) {
		fd = create_parents(ap, dir, c, err);
		if (fd < 0)
			return fd;
	}
	if (fd < 0) {
		if ((fd == -ENOENT || fd == -ENOTDIR) && !create)
			return -ENOENT;
		switch (-fd) {
		case ENOTDIR:
			return entry_error(err, EBADMSG, c, "a parent component is not a directory");
		case ELOOP:
			return entry_error(err, EBADMSG, c,
					   "too many symlinks resolving the parent directory");
		case EXDEV:
			return entry_error(err, EBADMSG, c,
					   "the parent directory is on another mount");
		case ENAMETOOLONG:
			return entry_error(err, EBADMSG, c, "the parent path resolves too deep");
		default:
			return entry_error(err, -fd, c, "resolving the parent directory: %s",
					   strerror(-fd));
		}
	}
	ap->parent_fd = fd;
	snprintf(ap->parent_path, sizeof(ap->parent_path), "%s", dir);
	return fd;
}

/* Marks the cached parent stale without closing it: the entry being applied still uses
 * the descriptor (its directory is intact), later entries resolve again. */
static void invalidate_parent(struct cl_applier *ap)
{
	ap->parent_path[0] = '\x01';   /* never equal to a clean path */
	ap->parent_path[1] = '\0';
}

/* Removes whatever is at pfd/name; invalidates the parent cache when a directory or
 * symlink went away (the only removals that can change how an existing path resolves). */
static int remove_existing(struct cl_applier *ap, int pfd, const char *name,
			   const struct entry_ctx *c, struct cl_error *err)
{
	bool dir_or_link = false;
	int rc = cl_tree_remove(pfd, name, &dir_or_link, err);
	if (dir_or_link)
		invalidate_parent(ap);
	if (rc < 0)
		return entry_error(err, rc, c, "replacing the existing path");
	return 0;
}

struct entry_attrs {
	uid_t uid;              /* on disk */
	gid_t gid;
	bool chown;
	mode_t mode;            /* on disk */
	bool record;            /* SELF: write CL_OWNER_XATTR */
	char record_value[64];
	struct timespec times[2];
	bool has_times;
};

static int entry_attrs(struct cl_applier *ap, struct archive_entry *e, bool is_dir,
		       const struct entry_ctx *c, struct entry_attrs *a, struct cl_error *err)
{
	memset(a, 0, sizeof(*a));
	la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
	if (uid < 0 || gid < 0 || uid > 0xfffffffeLL || gid > 0xfffffffeLL)
		return entry_error(err, EBADMSG, c, "invalid uid/gid %lld:%lld", (long long)uid,
				   (long long)gid);
	mode_t image_mode = archive_entry_perm(e) & 07777;
	mode_t mode = image_mode;
	if (mode & (S_ISUID | S_ISGID)) {
		mode &= ~(mode_t)(S_ISUID | S_ISGID);
		ap->st->stripped_setid++;
	}
	if (ap->o.owner == CL_OWNER_PRESERVE) {
		if (ap->o.id_count && ((uint64_t)uid >= ap->o.id_count ||
				       (uint64_t)gid >= ap->o.id_count))
			return entry_error(err, EBADMSG, c,
					   "uid/gid %lld:%lld outside the mapped range 0-%u",
					   (long long)uid, (long long)gid, ap->o.id_count - 1);
		uint64_t huid = (uint64_t)uid + ap->o.id_shift;
		uint64_t hgid = (uint64_t)gid + ap->o.id_shift;
		if (huid > 0xfffffffeULL || hgid > 0xfffffffeULL)
			return entry_error(err, EBADMSG, c, "uid/gid %lld:%lld overflow the id shift",
					   (long long)uid, (long long)gid);
		a->uid = (uid_t)huid;
		a->gid = (gid_t)hgid;
		a->chown = a->uid != ap->euid || a->gid != ap->egid;
	} else {
		/* the unpacking user must be able to walk, copy and remove the tree */
		mode |= is_dir ? S_IRWXU : S_IRUSR;
		if (uid != 0 || gid != 0 || mode != image_mode) {
			a->record = true;
			snprintf(a->record_value, sizeof(a->record_value), "%lld:%lld:%04o",
				 (long long)uid, (long long)gid, (unsigned)image_mode);
		}
	}
	a->mode = mode;
	if (archive_entry_mtime_is_set(e)) {
		a->has_times = true;
		a->times[1].tv_sec = archive_entry_mtime(e);
		a->times[1].tv_nsec = archive_entry_mtime_nsec(e);
		if (a->times[1].tv_nsec < 0 || a->times[1].tv_nsec > 999999999)
			a->times[1].tv_nsec = 0;
		a->times[0] = a->times[1];
		if (archive_entry_atime_is_set(e)) {
			a->times[0].tv_sec = archive_entry_atime(e);
			a->times[0].tv_nsec = archive_entry_atime_nsec(e);
			if (a->times[0].tv_nsec < 0 || a->times[0].tv_nsec > 999999999)
				a->times[0].tv_nsec = 0;
		}
	}
	return 0;
}

/* Applies the entry's user.* xattrs and, under SELF, our ownership record to fd. */
static int apply_xattrs(struct cl_applier *ap, int fd, struct archive_entry *e,
			const struct entry_attrs *a, const struct entry_ctx *c,
			struct cl_error *err)
{
	int n = 0;
	const char *seen[XATTR_MAX_PER_ENTRY];
	if (archive_entry_xattr_reset(e) > 0) {
		const char *name;
		const void *value;
		size_t size;
		while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
			/* libarchive's pax writer stores each xattr twice (LIBARCHIVE.xattr and
			 * SCHILY.xattr) and its reader returns both: act once per name */
			bool dup = false;
			for (int i = 0; i < n && i < XATTR_MAX_PER_ENTRY && !dup; i++)
				dup = strcmp(seen[i], name) == 0;
			if (dup)
				continue;
			if (n < XATTR_MAX_PER_ENTRY)
				seen[n] = name;
			if (++n > XATTR_MAX_PER_ENTRY || strncmp(name, "user.", 5) != 0 ||
			    strncmp(name, "user.containerlite.", 19) == 0 ||
			    size > XATTR_MAX_VALUE) {
				ap->st->skipped_xattrs++;
				continue;
			}
			if (fsetxattr(fd, name, value, size, 0) != 0) {
				if (errno == ENOTSUP || errno == EPERM || errno == E2BIG ||
				    errno == ERANGE || errno == ENOSPC || errno == EINVAL) {
					ap->st->skipped_xattrs++;
					continue;
				}
				return entry_error(err, errno, c, "setxattr: %s", strerror(errno));
			}
		}
	}
	if (a->record && fsetxattr(fd, CL_OWNER_XATTR, a->record_value, strlen(a->record_value),
				   0) != 0)
		ap->st->skipped_xattrs++;
	return 0;
}

/* Ownership, xattrs, mode and times of a regular file on its descriptor. */
static int finish_file(struct cl_applier *ap, int fd, struct archive_entry *e,
		       const struct entry_attrs *a, const struct entry_ctx *c,
		       struct cl_error *err)
{
	/* chown before chmod: chown may clear mode bits */
	if (a->chown && fchown(fd, a->uid, a->gid) != 0)
		return entry_error(err, errno, c, "chown: %s%s", strerror(errno), chown_hint(errno));
	int rc = apply_xattrs(ap, fd, e, a, c, err);
	if (rc < 0)
		return rc;
	if (fchmod(fd, a->mode) != 0)
		return entry_error(err, errno, c, "chmod: %s", strerror(errno));
	if (a->has_times && futimens(fd, a->times) != 0)
		return entry_error(err, errno, c, "utimens: %s", strerror(errno));
	return 0;
}

static int write_data(struct cl_applier *ap, struct archive *tar, int fd, int64_t size,
		      const struct entry_ctx *c, struct cl_error *err)
{
	int64_t end = 0;
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(tar, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return entry_error(err, archive_errno(tar) == EFBIG ? EFBIG : EBADMSG, c,
					   "reading data: %s",
					   archive_error_string(tar) ? archive_error_string(tar) :
								       "damaged tar");
		if (off < 0 || (uint64_t)off + len > (uint64_t)size)
			return entry_error(err, EBADMSG, c, "data beyond the entry's size");
		const char *p = buf;
		size_t done = 0;
		while (done < len) {
			ssize_t w = pwrite(fd, p + done, len - done, off + (off_t)done);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return entry_error(err, errno, c, "write: %s", strerror(errno));
			}
			done += (size_t)w;
		}
		ap->st->bytes += len;
		if (off + (int64_t)len > end)
			end = off + (int64_t)len;
	}
	/* a sparse entry may end in a hole */
	if (end < size && ftruncate(fd, size) != 0)
		return entry_error(err, errno, c, "truncate: %s", strerror(errno));
	return 0;
}

static int apply_file(struct cl_applier *ap, struct archive *tar, struct archive_entry *e,
		      int pfd, const char *base, const struct entry_ctx *c, struct cl_error *err)
{
	struct entry_attrs a;
	int rc = entry_attrs(ap, e, false, c, &a, err);
	if (rc < 0)
		return rc;
	int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST) {
		if ((rc = remove_existing(ap, pfd, base, c, err)) < 0)
			return rc;
		fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	}
	if (fd < 0)
		return entry_error(err, errno, c, "create: %s", strerror(errno));
	int64_t size = archive_entry_size(e);
	rc = write_data(ap, tar, fd, size < 0 ? 0 : size, c, err);
	if (rc == 0)
		rc = finish_file(ap, fd, e, &a, c, err);
	close(fd);
	return rc;
}

static int add_fixup(struct cl_applier *ap, const char *path, const struct entry_attrs *a)
{
	size_t len = strlen(path) + 1 + sizeof(struct fixup);
	if (ap->fixup_bytes + len > CL_UPPER_SET_MAX_BYTES)
		return -EFBIG;
	ap->fixup_bytes += len;
	if (ap->n_fixups == ap->cap_fixups) {
		size_t ncap = ap->cap_fixups ? ap->cap_fixups * 2 : 64;
		struct fixup *nf = realloc(ap->fixups, ncap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		ap->fixups = nf;
		ap->cap_fixups = ncap;
	}
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	ap->fixups[ap->n_fixups++] = (struct fixup){
		.path = copy, .mode = a->mode, .mtime = a->times[1], .has_mtime = a->has_times
	};
	return 0;
}

/* A merged directory's attributes are replaced: drop the lower layer's user.* xattrs. */
static void clear_user_xattrs(int fd)
{
	char names[4096];
	ssize_t len = flistxattr(fd, names, sizeof(names));
	for (ssize_t off = 0; len > 0 && off < len; off += (ssize_t)strlen(names + off) + 1)
		if (strncmp(names + off, "user.", 5) == 0)
			fremovexattr(fd, names + off);
}

static int apply_dir(struct cl_applier *ap, struct archive_entry *e, int pfd, const char *base,
		     const char *path, const struct entry_ctx *c, struct cl_error *err)
{
	struct entry_attrs a;
	int rc = entry_attrs(ap, e, true, c, &a, err);
	if (rc < 0)
		return rc;
	bool merged = false;
	if (mkdirat(pfd, base, 0700) != 0) {
		if (errno != EEXIST)
			return entry_error(err, errno, c, "mkdir: %s", strerror(errno));
		struct stat st;
		if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
			merged = true;
		} else {
			if ((rc = remove_existing(ap, pfd, base, c, err)) < 0)
				return rc;
			if (mkdirat(pfd, base, 0700) != 0)
				return entry_error(err, errno, c, "mkdir: %s", strerror(errno));
		}
	}
	int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return entry_error(err, errno, c, "open: %s", strerror(errno));
	if (merged)
		clear_user_xattrs(fd);
	if (a.chown && fchown(fd, a.uid, a.gid) != 0)
		rc = entry_error(err, errno, c, "chown: %s%s", strerror(errno), chown_hint(errno));
	if (rc == 0)
		rc = apply_xattrs(ap, fd, e, &a, c, err);
	/* keep it writable for the rest of the layer; the final mode comes at the end */
	if (rc == 0 && ap->o.owner == CL_OWNER_SELF && fchmod(fd, a.mode | S_IRWXU) != 0)
		rc = entry_error(err, errno, c, "chmod: %s", strerror(errno));
	close(fd);
	if (rc == 0) {
		int frc = add_fixup(ap, path, &a);
		if (frc < 0)
			rc = names_error(frc, c, err);
	}
	return rc;
}

static int apply_symlink(struct cl_applier *ap, struct archive_entry *e, int pfd,
			 const char *base, const struct entry_ctx *c, struct cl_error *err)
{
	const char *target = archive_entry_symlink(e);
	if (!target || !*target)
		return entry_error(err, EBADMSG, c, "symlink with an empty target");
	if (strlen(target) >= PATH_MAX)
		return entry_error(err, EBADMSG, c, "symlink target longer than %d bytes",
				   PATH_MAX - 1);
	struct entry_attrs a;
	int rc = entry_attrs(ap, e, false, c, &a, err);
	if (rc < 0)
		return rc;
	if (symlinkat(target, pfd, base) != 0) {
		if (errno != EEXIST)
			return entry_error(err, errno, c, "symlink: %s", strerror(errno));
		if ((rc = remove_existing(ap, pfd, base, c, err)) < 0)
			return rc;
		if (symlinkat(target, pfd, base) != 0)
			return entry_error(err, errno, c, "symlink: %s", strerror(errno));
	}
	if (a.chown && fchownat(pfd, base, a.uid, a.gid, AT_SYMLINK_NOFOLLOW) != 0)
		return entry_error(err, errno, c, "chown: %s%s", strerror(errno), chown_hint(errno));
	if (a.has_times && utimensat(pfd, base, a.times, AT_SYMLINK_NOFOLLOW) != 0)
		return entry_error(err, errno, c, "utimens: %s", strerror(errno));
	return 0;
}

static int apply_fifo(struct cl_applier *ap, struct archive_entry *e, int pfd, const char *base,
		      const struct entry_ctx *c, struct cl_error *err)
{
	struct entry_attrs a;
	int rc = entry_attrs(ap, e, false, c, &a, err);
	if (rc < 0)
		return rc;
	if (mknodat(pfd, base, S_IFIFO | 0600, 0) != 0) {
		if (errno != EEXIST)
			return entry_error(err, errno, c, "mkfifo: %s", strerror(errno));
		if ((rc = remove_existing(ap, pfd, base, c, err)) < 0)
			return rc;
		if (mknodat(pfd, base, S_IFIFO | 0600, 0) != 0)
			return entry_error(err, errno, c, "mkfifo: %s", strerror(errno));
	}
	if (a.chown && fchownat(pfd, base, a.uid, a.gid, AT_SYMLINK_NOFOLLOW) != 0)
		return entry_error(err, errno, c, "chown: %s%s", strerror(errno), chown_hint(errno));
	/* we just created it and nothing else writes the tree: following is not a concern */
	if (fchmodat(pfd, base, a.mode, 0) != 0)
		return entry_error(err, errno, c, "chmod: %s", strerror(errno));
	if (a.has_times && utimensat(pfd, base, a.times, AT_SYMLINK_NOFOLLOW) != 0)
		return entry_error(err, errno, c, "utimens: %s", strerror(errno));
	return 0;
}

static bool is_whiteout_name(const char *name)
{
	return strncmp(name, WH_PREFIX, 4) == 0;
}

static int apply_hardlink(struct cl_applier *ap, struct archive_entry *e, const char *dir,
			  const char *base, const struct entry_ctx *c, struct cl_error *err)
{
	const char *why;
	char q[QUOTE_MAX];
	const char *raw_target = archive_entry_hardlink(e);
	if (cl_entry_path_normalise(raw_target, ap->link, &why) < 0)
		return entry_error(err, EBADMSG, c, "hard link target \"%s\": %s",
				   cl_quote(raw_target, q, sizeof(q)), why);
	if (!ap->link[0])
		return entry_error(err, EBADMSG, c, "hard link to the root directory");
	const char *tbase;
	cl_entry_path_split(ap->link, ap->linkdir, &tbase);
	if (is_whiteout_name(tbase))
		return entry_error(err, EBADMSG, c, "hard link to a whiteout name");
	int tpfd = resolve_dir(ap, ap->linkdir);
	if (tpfd < 0)
		return entry_error(err, tpfd == -ENOENT || tpfd == -ENOTDIR ? EBADMSG : -tpfd, c,
				   "hard link target \"%s\" does not exist",
				   cl_quote(raw_target, q, sizeof(q)));
	struct stat tst;
	int rc = 0;
	if (fstatat(tpfd, tbase, &tst, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = entry_error(err, errno == ENOENT ? EBADMSG : errno, c,
				 "hard link target \"%s\" does not exist",
				 cl_quote(raw_target, q, sizeof(q)));
		goto out;
	}
	if (S_ISDIR(tst.st_mode)) {
		rc = entry_error(err, EBADMSG, c, "hard link to a directory");
		goto out;
	}
	int pfd = get_parent(ap, dir, true, c, err);
	if (pfd < 0) {
		rc = pfd;
		goto out;
	}
	struct stat cur;
	if (fstatat(pfd, base, &cur, AT_SYMLINK_NOFOLLOW) == 0) {
		if (cur.st_ino == tst.st_ino && cur.st_dev == tst.st_dev)
			goto out;  /* already that inode */
		if ((rc = remove_existing(ap, pfd, base, c, err)) < 0)
			goto out;
	}
	/* the link entry's own mode, owner and times are ignored: they would change the
	 * target inode, which lower layers or the cache may share */
	if (linkat(tpfd, tbase, pfd, base, 0) != 0)
		rc = entry_error(err, errno == ENOENT ? EBADMSG : errno, c, "link: %s",
				 strerror(errno));
out:
	close(tpfd);
	return rc;
}

/* Removes everything under the directory fd that the current layer did not create;
 * ap->prune holds its path (plen bytes). */
static int prune_lower(struct cl_applier *ap, int fd, size_t plen, unsigned depth,
		       const struct entry_ctx *c, struct cl_error *err)
{
	if (depth > CL_ENTRY_MAX_DEPTH + 1)
		return entry_error(err, EBADMSG, c, "opaque directory nested too deep");
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return entry_error(err, errno, c, "opendir: %s", strerror(errno));
	}
	int rc = 0;
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				rc = entry_error(err, errno, c, "readdir: %s", strerror(errno));
			break;
		}
		const char *n = de->d_name;
		if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0')))
			continue;
		size_t nlen = strlen(n);
		unsigned flags = 0;
		size_t clen = plen + (plen ? 1 : 0) + nlen;
		if (clen < CL_ENTRY_PATH_MAX) {
			if (plen)
				ap->prune[plen] = '/';
			memcpy(ap->prune + plen + (plen ? 1 : 0), n, nlen + 1);
			flags = cl_upper_set_get(ap->upper, ap->prune, clen);
			ap->prune[plen] = '\0';
		}
		if (!flags) {
			bool dl = false;
			if ((rc = cl_tree_remove(fd, n, &dl, err)) < 0) {
				rc = entry_error(err, rc, c, "whiteout");
				break;
			}
			if (dl)
				invalidate_parent(ap);
			continue;
		}
		int child = openat(fd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (child < 0)
			continue;  /* not a directory (or a symlink): created by this layer, kept */
		if (plen)
			ap->prune[plen] = '/';
		memcpy(ap->prune + plen + (plen ? 1 : 0), n, nlen + 1);
		rc = prune_lower(ap, child, clen, depth + 1, c, err);
		ap->prune[plen] = '\0';
		close(child);
		if (rc < 0)
			break;
	}
	closedir(d);
	return rc;
}

static int prune_path(struct cl_applier *ap, int pfd, const char *base, const char *path,
		      const struct entry_ctx *c, struct cl_error *err)
{
	int fd = *base ? openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) :
			 openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;  /* not a directory: nothing below it to hide */
	size_t plen = strlen(path);
	memcpy(ap->prune, path, plen + 1);
	int rc = prune_lower(ap, fd, plen, 0, c, err);
	close(fd);
	return rc;
}

static int apply_whiteout(struct cl_applier *ap, const char *dir, const char *base,
			  const struct entry_ctx *c, struct cl_error *err)
{
	ap->st->whiteouts++;
	if (strcmp(base, WH_OPAQUE) == 0) {
		/* the marker is an entry under dir: dir exists in this layer */
		int pfd = get_parent(ap, dir, true, c, err);
		if (pfd < 0)
			return pfd;
		int rc = cl_upper_set_add(ap->upper, ap->path);
		if (rc < 0)
			return names_error(rc, c, err);
		return prune_path(ap, pfd, "", dir, c, err);
	}
	const char *name = base + 4;
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    is_whiteout_name(name))
		return entry_error(err, EBADMSG, c, "invalid whiteout name");
	int pfd = get_parent(ap, dir, false, c, err);
	if (pfd == -ENOENT)
		return 0;  /* nothing there to hide */
	if (pfd < 0)
		return pfd;
	char target[CL_ENTRY_PATH_MAX];
	int n = snprintf(target, sizeof(target), "%s%s%s", dir, *dir ? "/" : "", name);
	if (n < 0 || (size_t)n >= sizeof(target))
		return entry_error(err, EBADMSG, c, "whiteout name too long");
	if (cl_upper_set_get(ap->upper, target, (size_t)n))
		return prune_path(ap, pfd, name, target, c, err);
	return remove_existing(ap, pfd, name, c, err);
}

static int apply_entry(struct cl_applier *ap, struct archive *tar, struct archive_entry *e,
		       const char *what, struct cl_error *err)
{
	const char *raw = archive_entry_pathname(e);
	struct entry_ctx c = { .what = what, .raw = raw ? raw : "" };
	if (!raw)
		return entry_error(err, EBADMSG, &c, "entry without a name");
	if (++ap->entries > ap->o.max_entries)
		return entry_error(err, EFBIG, &c, "more than %llu entries (the limit)",
				   (unsigned long long)ap->o.max_entries);
	ap->st->entries++;
	la_int64_t size = archive_entry_size(e);
	if (size < 0)
		size = 0;
	if ((uint64_t)size > ap->o.max_total_bytes - ap->bytes)
		return entry_error(err, EFBIG, &c,
				   "%lld bytes would exceed the unpack limit of %llu bytes",
				   (long long)size, (unsigned long long)ap->o.max_total_bytes);
	ap->bytes += (uint64_t)size;

	const char *why;
	if (cl_entry_path_normalise(raw, ap->path, &why) < 0)
		return entry_error(err, EBADMSG, &c, "%s", why);
	const char *hardlink = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	if (!ap->path[0]) {
		if (type == AE_IFDIR && !hardlink)
			return 0;  /* the root's own entry: the root is ours, not the image's */
		return entry_error(err, EBADMSG, &c, "would replace the root directory");
	}
	const char *base;
	cl_entry_path_split(ap->path, ap->dir, &base);
	for (const char *p = ap->dir; *p;) {
		if (is_whiteout_name(p))
			return entry_error(err, EBADMSG, &c,
					   "a parent component has the reserved prefix .wh.");
		const char *slash = strchr(p, '/');
		if (!slash)
			break;
		p = slash + 1;
	}
	if (is_whiteout_name(base))
		return apply_whiteout(ap, ap->dir, base, &c, err);

	int rc;
	if (hardlink) {
		rc = apply_hardlink(ap, e, ap->dir, base, &c, err);
	} else {
		int pfd = get_parent(ap, ap->dir, true, &c, err);
		if (pfd < 0)
			return pfd;
		switch (type) {
		case AE_IFREG:
			rc = apply_file(ap, tar, e, pfd, base, &c, err);
			break;
		case AE_IFDIR:
			rc = apply_dir(ap, e, pfd, base, ap->path, &c, err);
			break;
		case AE_IFLNK:
			rc = apply_symlink(ap, e, pfd, base, &c, err);
			break;
		case AE_IFIFO:
			rc = apply_fifo(ap, e, pfd, base, &c, err);
			break;
		case AE_IFCHR:
		case AE_IFBLK:
		case AE_IFSOCK:
			/* never created; what was there is still replaced */
			ap->st->skipped_devices++;
			rc = remove_existing(ap, pfd, base, &c, err);
			break;
		default:
			return entry_error(err, EBADMSG, &c, "unknown entry type 0%o",
					   (unsigned)type);
		}
	}
	if (rc < 0)
		return rc;
	rc = cl_upper_set_add(ap->upper, ap->path);
	return rc < 0 ? names_error(rc, &c, err) : 0;
}

/* Directory modes and mtimes, deferred to the end of the layer; re-resolved without
 * following the last component, and skipped when the path is no longer a directory. */
static int apply_fixups(struct cl_applier *ap, const char *what, struct cl_error *err)
{
	int rc = 0;
	for (size_t i = 0; i < ap->n_fixups && rc == 0; i++) {
		struct fixup *f = &ap->fixups[i];
		const char *base;
		cl_entry_path_split(f->path, ap->dir, &base);
		int pfd = resolve_dir(ap, ap->dir);
		if (pfd < 0)
			continue;
		int fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(pfd);
		if (fd < 0)
			continue;
		char q[QUOTE_MAX];
		if (fchmod(fd, f->mode) != 0)
			rc = cl_error_set(err, errno, "%s: directory \"%s\": chmod: %s", what,
					  cl_quote(f->path, q, sizeof(q)), strerror(errno));
		struct timespec ts[2] = { f->mtime, f->mtime };
		if (rc == 0 && f->has_mtime && futimens(fd, ts) != 0)
			rc = cl_error_set(err, errno, "%s: directory \"%s\": utimens: %s", what,
					  cl_quote(f->path, q, sizeof(q)), strerror(errno));
		close(fd);
	}
	clear_fixups(ap);
	return rc;
}

int cl_applier_apply(struct cl_applier *ap, struct archive *tar, const char *what,
		     struct cl_error *err)
{
	cl_upper_set_clear(ap->upper);
	clear_fixups(ap);
	drop_parent(ap);
	int rc = 0;
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(tar, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = cl_error_set(err, archive_errno(tar) == EFBIG ? EFBIG : EBADMSG,
					  "%s: damaged tar stream after %llu entries: %s", what,
					  (unsigned long long)ap->entries,
					  archive_error_string(tar) ? archive_error_string(tar) :
								      "unknown error");
			break;
		}
		/* ARCHIVE_WARN: e.g. a name not convertible to the locale; the raw bytes are
		 * what we want */
		if ((rc = apply_entry(ap, tar, e, what, err)) < 0)
			break;
	}
	if (rc == 0)
		rc = apply_fixups(ap, what, err);
	clear_fixups(ap);
	drop_parent(ap);
	return rc;
}
