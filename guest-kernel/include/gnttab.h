/*
 * Grant tables as guest-kernel uses them (arch/pv/gnttab.c), Xen's v1 ABI
 * (public/grant_table.h): a front end grants a peer access to pages of its own; a back end maps
 * a peer's grant or copies through it. PV platform only. Functions return 0 (or a value >= 0)
 * or a negative Xen errno.
 *
 * Invariant: a reference is free for reuse only after gnttab_end_access() succeeded, i.e. the
 * peer holds no mapping of the page any more (as Linux's gnttab_end_foreign_access_ref).
 */
#ifndef GK_GNTTAB_H
#define GK_GNTTAB_H

#include <klib/compiler.h>
#include <public/grant_table.h>

/* Sets up this domain's grant table (GNTTABOP_setup_table, frames mapped). Idempotent. */
int gnttab_init(void);

/* Front end: lets domid access the page at va (page-aligned, ours). Returns the ref (>= 0). */
int gnttab_grant_access(uint16_t domid, const void *va, bool readonly);
/* Revokes ref; -XEN_EBUSY while the peer still has it mapped (try again later). */
int gnttab_end_access(grant_ref_t ref);

/* Back end: maps domid's grant ref at a fresh virtual page. NULL on failure (*err set). */
void *gnttab_map(uint16_t domid, grant_ref_t ref, bool readonly, grant_handle_t *handle, int *err);
int gnttab_unmap(void *va, grant_handle_t handle);

/* Back end: n copies in one hypercall (GNTTABOP_copy); each op's status is filled in.
 * Returns 0 if the hypercall ran (check every status), else a negative errno. */
int gnttab_copy(struct gnttab_copy *ops, unsigned int n);

/* A GNTST_* status as a negative Xen errno (0 for GNTST_okay). */
int gnttab_status_errno(int16_t status);

#endif
