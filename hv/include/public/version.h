/*
 * Version and feature queries (hypercall #17, xen_version(cmd, arg)). Unknown commands =>
 * -ENOSYS. XENVER_version returns (major << 16 | minor) directly; the others fill arg.
 */
#ifndef __HV_PUBLIC_VERSION_H__
#define __HV_PUBLIC_VERSION_H__

#include "xen.h"

#define XENVER_version             0  /* NULL */
#define XENVER_extraversion        1  /* xen_extraversion_t */
#define XENVER_compile_info        2  /* struct xen_compile_info */
#define XENVER_capabilities        3  /* xen_capabilities_info_t */
#define XENVER_changeset           4  /* xen_changeset_info_t */
#define XENVER_platform_parameters 5  /* struct xen_platform_parameters */
#define XENVER_get_features        6  /* struct xen_feature_info */
#define XENVER_pagesize            7  /* NULL: returns the page size */
#define XENVER_guest_handle        8  /* xen_domain_handle_t */
#define XENVER_commandline         9  /* xen_commandline_t */
#define XENVER_build_id            10 /* struct xen_build_id */
#define XENVER_extraversion2       11 /* struct xen_varbuf */
#define XENVER_capabilities2       12 /* struct xen_varbuf */
#define XENVER_changeset2          13 /* struct xen_varbuf */
#define XENVER_commandline2        14 /* struct xen_varbuf */

typedef char xen_extraversion_t[16];
typedef char xen_capabilities_info_t[1024];
typedef char xen_changeset_info_t[64];
typedef char xen_commandline_t[1024];
typedef uint8_t xen_domain_handle_t[16];

struct xen_compile_info {
	char compiler[64];
	char compile_by[16];
	char compile_domain[32];
	char compile_date[32];
};

struct xen_platform_parameters {
	xen_ulong_t virt_start; /* start of the hypervisor's reserved range */
};

struct xen_feature_info {
	uint32_t submap_idx; /* IN: which 32-bit submap (only 0) */
	uint32_t submap;     /* OUT: XENFEAT_* bits */
};

/* Variable-length replies of the *2 sub-commands: len is the room (IN) and the length (OUT). */
struct xen_varbuf {
	uint32_t len;
	char buf[];
};

struct xen_build_id {
	uint32_t len; /* IN: room in buf; OUT: length */
	uint8_t buf[];
};

#endif /* __HV_PUBLIC_VERSION_H__ */
