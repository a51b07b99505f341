/* Conventions shared by every wire structure of proto/: packed little-endian layouts with
 * the kernel's __le types (as libnvme uses), and the size/offset assertion macro that pins
 * each structure to the byte numbers of its specification. */
#ifndef INSITU_PROTO_WIRE_H
#define INSITU_PROTO_WIRE_H

#include <linux/types.h>
#include <stddef.h>

#define INSITU_PACKED __attribute__((packed))

/* Pins a structure's size to the specification's figure at compile time. */
#define INSITU_ASSERT_SIZE(type, bytes) \
	_Static_assert(sizeof(type) == (bytes), #type " must be " #bytes " bytes")

/* Pins a field to its specification byte offset at compile time. */
#define INSITU_ASSERT_OFFSET(type, field, off) \
	_Static_assert(offsetof(type, field) == (off), #type "." #field " must be at byte " #off)

#endif
