/* The set of paths the layer being applied has created (and their ancestors), which decides
 * what a whiteout or an opaque marker may remove: only content of lower layers. */
#ifndef CL_IMAGE_UPPER_SET_H
#define CL_IMAGE_UPPER_SET_H

#include <stddef.h>

/* Memory the names of one layer may take: a layer of a million 4 KiB names would
 * otherwise cost gigabytes within the default entry limit. */
#define CL_UPPER_SET_MAX_BYTES (256u << 20)

#define CL_UPPER_ENTRY    1u   /* the layer has an entry at this path */
#define CL_UPPER_ANCESTOR 2u   /* the layer has an entry below this path */

struct cl_upper_set;

struct cl_upper_set *cl_upper_set_new(void);
void cl_upper_set_free(struct cl_upper_set *s);
/* Forgets every path (called when a new layer starts). */
void cl_upper_set_clear(struct cl_upper_set *s);
/* Marks the clean relative path as an entry and its ancestors as ancestors. -ENOMEM, or
 * -EFBIG past CL_UPPER_SET_MAX_BYTES. */
int cl_upper_set_add(struct cl_upper_set *s, const char *path);
/* The flags of path (len bytes, need not be NUL-terminated); 0 when absent. */
unsigned cl_upper_set_get(const struct cl_upper_set *s, const char *path, size_t len);

#endif
