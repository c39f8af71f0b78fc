/*
 * dom0's view of hv's control interface (public/domctl.h): one call per operation, each
 * returning 0 or a negative errno from hv. kernel/domctl.c fills the versioned request; the
 * platform makes the hypercall (arch/pv/domctl-pv.c; a platform without hv answers -ENOSYS).
 *
 * User space reaches the same interface through one system call that forwards a whole
 * struct hv_domctl (domctl_forward), so a `dom` program needs no kernel change per operation.
 * Only dom0 gets anything but -EPERM from hv.
 *
 * domtest_run() holds dom0's built-in multi-domain scenarios (kernel/domtest.c), picked with
 * `domtest=<name>` on dom0's command line; domu_run() the domU side (`domu=<mode>`,
 * arch/pv/domu-tests.c). Both end by powering the domain off.
 */
#ifndef GK_DOMCTL_H
#define GK_DOMCTL_H

#include <klib/compiler.h>

#define HV_DOMCTL_ALLOWED
#include <public/domctl.h>

/* Platform: issue the hypercall on op (in guest-kernel memory). */
long arch_domctl(struct hv_domctl *op);
/* Platform: an unbound event channel of domain `dom` that `remote` may bind (0 or -errno). */
long arch_evtchn_alloc_unbound(uint32_t dom, uint32_t remote, uint32_t *port);

long dom_physinfo(struct hv_domctl_physinfo *out);
long dom_create(const char *name, uint64_t mem_kib, uint32_t vcpus, uint32_t *domid);
long dom_build_module(uint32_t domid, uint32_t module, const char *cmdline);
long dom_build_buffer(uint32_t domid, const void *image, uint64_t len, const char *cmdline);
long dom_unpause(uint32_t domid);
long dom_pause(uint32_t domid);
long dom_shutdown(uint32_t domid, uint32_t reason);
long dom_destroy(uint32_t domid);
long dom_info(uint32_t domid, struct hv_domctl_dominfo *out);
/* Up to max entries with id >= first into out; *count written. */
long dom_list(uint32_t first, struct hv_domctl_dominfo *out, uint32_t max, uint32_t *count);
/* cmd: HV_DOMCTL_set_max_mem, _set_current_mem or _set_mem_guarantee. */
long dom_set_mem(uint32_t domid, uint32_t cmd, uint64_t kib);
long dom_sched_get(uint32_t domid, struct hv_domctl_sched *out);
long dom_sched_set(uint32_t domid, const struct hv_domctl_sched *in);

/*
 * For the system call of a user-space `dom` program: op is a copy (in kernel memory) of the
 * caller's struct; its interface_version is the caller's, so hv checks it. Any buffer address
 * inside (build_buffer image, list buffer) must be a kernel address the caller copied into.
 */
long domctl_forward(struct hv_domctl *op);

/* "created", "running", ... for a HV_DOMSTATE_*. */
const char *dom_state_name(uint32_t state);

__noreturn void domtest_run(const char *name);
__noreturn void domu_run(const char *mode);

#endif
