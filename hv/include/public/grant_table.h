/*
 * Grant tables, version 1 (hypercall #20, grant_table_op(cmd, args, count); args is an array of
 * count structs of the command's type).
 *
 * A domain grants another access to one of its frames by filling an entry of its grant table
 * (frames shared with the hypervisor): write domid and frame, a write barrier, then flags.
 * Revoke with a compare-and-swap of flags to 0, only while GTF_reading/GTF_writing are clear.
 * The hypercall returns 0 or -errno; each operation's own result is in its status (GNTST_*).
 */
#ifndef __HV_PUBLIC_GRANT_TABLE_H__
#define __HV_PUBLIC_GRANT_TABLE_H__

#include "xen.h"

typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;

struct grant_entry_v1 {
	uint16_t flags; /* GTF_* */
	domid_t domid;  /* domain being granted access */
	uint32_t frame; /* PV: MFN */
};
typedef struct grant_entry_v1 grant_entry_v1_t;

#define GNTTAB_NR_RESERVED_ENTRIES 8
#define GNTTAB_RESERVED_CONSOLE    0
#define GNTTAB_RESERVED_XENSTORE   1

/* Entry type (flags bits 0-1). */
#define GTF_invalid         0
#define GTF_permit_access   1
#define GTF_accept_transfer 2
#define GTF_transitive      3
#define GTF_type_mask       3
/* permit_access subflags. */
#define GTF_readonly (1U << 2) /* grantee may only read */
#define GTF_reading  (1U << 3) /* hypervisor: grantee has it mapped/copying for reading */
#define GTF_writing  (1U << 4) /* hypervisor: ... for writing */
#define GTF_PWT      (1U << 5)
#define GTF_PCD      (1U << 6)
#define GTF_PAT      (1U << 7)
#define GTF_sub_page (1U << 8)
/* accept_transfer subflags. */
#define GTF_transfer_committed (1U << 2)
#define GTF_transfer_completed (1U << 3)

#define GNTTABOP_map_grant_ref     0
#define GNTTABOP_unmap_grant_ref   1
#define GNTTABOP_setup_table       2
#define GNTTABOP_dump_table        3
#define GNTTABOP_transfer          4
#define GNTTABOP_copy              5
#define GNTTABOP_query_size        6
#define GNTTABOP_unmap_and_replace 7
#define GNTTABOP_set_version       8
#define GNTTABOP_get_status_frames 9
#define GNTTABOP_get_version       10
#define GNTTABOP_swap_grant_ref    11
#define GNTTABOP_cache_flush       12

/* map_grant_ref flags. */
#define GNTMAP_device_map       (1U << 0)
#define GNTMAP_host_map         (1U << 1)
#define GNTMAP_readonly         (1U << 2)
#define GNTMAP_application_map  (1U << 3) /* also usable by guest user mode */
#define GNTMAP_contains_pte     (1U << 4) /* host_addr is the machine address of a PTE */
#define GNTMAP_guest_avail_mask 0xffff0000U

/* Per-operation status codes. */
#define GNTST_okay              0
#define GNTST_general_error     (-1)
#define GNTST_bad_domain        (-2)
#define GNTST_bad_gntref        (-3)
#define GNTST_bad_handle        (-4)
#define GNTST_bad_virt_addr     (-5)
#define GNTST_bad_dev_addr      (-6)
#define GNTST_no_device_space   (-7)
#define GNTST_permission_denied (-8)
#define GNTST_bad_page          (-9)
#define GNTST_bad_copy_arg      (-10)
#define GNTST_address_too_big   (-11)
#define GNTST_eagain            (-12)
#define GNTST_no_space          (-13)

/* map_grant_ref: map <dom, ref> at host_addr; handle identifies the mapping. */
struct gnttab_map_grant_ref {
	uint64_t host_addr;    /* IN */
	uint32_t flags;        /* IN: GNTMAP_* */
	grant_ref_t ref;       /* IN */
	domid_t dom;           /* IN */
	int16_t status;        /* OUT: GNTST_* */
	grant_handle_t handle; /* OUT */
	uint64_t dev_bus_addr; /* OUT */
};

struct gnttab_unmap_grant_ref {
	uint64_t host_addr;    /* IN */
	uint64_t dev_bus_addr; /* IN */
	grant_handle_t handle; /* IN */
	int16_t status;        /* OUT */
};

/* setup_table: grow dom's table to nr_frames and list its frames (PV maps them itself). */
struct gnttab_setup_table {
	domid_t dom;         /* IN */
	uint32_t nr_frames;  /* IN */
	int16_t status;      /* OUT */
	uint64_t frame_list; /* IN: guest VA of an array of nr_frames xen_pfn_t, OUT: filled */
};

struct gnttab_dump_table {
	domid_t dom;    /* IN */
	int16_t status; /* OUT */
};

struct gnttab_transfer {
	xen_pfn_t mfn;   /* IN */
	domid_t domid;   /* IN */
	grant_ref_t ref; /* IN */
	int16_t status;  /* OUT */
};

/* copy: between grant references or own frames; must not cross a page boundary. */
#define GNTCOPY_source_gref (1U << 0)
#define GNTCOPY_dest_gref   (1U << 1)
struct gnttab_copy_ptr {
	union {
		grant_ref_t ref;
		xen_pfn_t gmfn;
	} u;
	domid_t domid;
	uint16_t offset;
};
struct gnttab_copy {
	struct gnttab_copy_ptr source, dest; /* IN */
	uint16_t len;                        /* IN */
	uint16_t flags;                      /* IN: GNTCOPY_* */
	int16_t status;                      /* OUT */
};

/* query_size: current and maximum frames of dom's table. */
struct gnttab_query_size {
	domid_t dom;            /* IN */
	uint32_t nr_frames;     /* OUT */
	uint32_t max_nr_frames; /* OUT */
	int16_t status;         /* OUT */
};

struct gnttab_unmap_and_replace {
	uint64_t host_addr;    /* IN */
	uint64_t new_addr;     /* IN */
	grant_handle_t handle; /* IN */
	int16_t status;        /* OUT */
};

struct gnttab_set_version {
	uint32_t version; /* IN: 1 or 2; OUT: the version in force */
};

struct gnttab_get_version {
	domid_t dom; /* IN */
	uint16_t pad;
	uint32_t version; /* OUT */
};

struct gnttab_swap_grant_ref {
	grant_ref_t ref_a; /* IN */
	grant_ref_t ref_b; /* IN */
	int16_t status;    /* OUT */
};

#endif /* __HV_PUBLIC_GRANT_TABLE_H__ */
