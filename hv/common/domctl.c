/*
 * The control hypercall (HYPERVISOR_domctl, public/domctl.h): dom0's only way to create,
 * build, run, stop and inspect other domains. Mechanism only: dom0 decides.
 *
 * Checks, in order: the caller is privileged (else -EPERM), the struct can be read (-EFAULT),
 * the interface version matches (-EACCES), the target exists (-ESRCH), the operation would not
 * end dom0 itself (-EPERM), then the operation's own arguments. A refused request changes
 * nothing. The whole struct is copied back when the result is 0.
 */
#define HV_DOMCTL_ALLOWED
#include <public/domctl.h>

#include <hv/bootinfo.h>
#include <hv/event.h>
#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/sched-if.h>
#include <hv/smp.h>
#include <hv/time.h>

#include "../arch/x86/pv/guest-access.h"
#include "../arch/x86/pv/mm.h"
#include "../arch/x86/pv/pv.h"

#define MAX_IMAGE_BYTES (16UL << 20)

long do_domctl(struct vcpu *v, uint64_t arg);

static unsigned int order_of(unsigned long bytes)
{
	unsigned int order = 0;

	while ((PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

static void fill_info(struct domain *d, struct hv_domctl_dominfo *info)
{
	memset(info, 0, sizeof(*info));
	info->domid = d->domain_id;
	info->state = (uint32_t)d->state;
	info->shutdown_reason = d->shutdown_code;
	for (unsigned int i = 0; i < d->max_vcpus; i++)
		info->nr_vcpus += d->vcpu[i] && pv(d->vcpu[i])->online;
	info->max_vcpus = d->max_vcpus;
	info->flags = d->is_privileged ? 1 : 0;
	info->max_mem_kib = d->max_pages * 4;
	info->current_mem_kib = d->tot_pages * 4;
	info->guarantee_kib = d->guarantee_pages * 4;
	info->cpu_time_ns = domain_cpu_time_ns(d);
	memcpy(info->uuid, d->uuid, sizeof(info->uuid));
	memcpy(info->name, d->name, sizeof(info->name));
}

static long op_create(struct hv_domctl_create *c)
{
	struct domain *d;
	uint16_t id = c->domid ? (uint16_t)c->domid : DOMID_INVALID;

	if (c->domid >= DOMID_FIRST_RESERVED || c->flags || c->max_vcpus == 0 ||
	    c->max_vcpus > XEN_LEGACY_MAX_VCPUS)
		return -EINVAL;
	if (c->current_mem_kib > c->max_mem_kib || c->guarantee_kib > c->current_mem_kib)
		return -EINVAL;
	if (c->max_mem_kib / 4 > max_frame)
		return -ENOMEM;
	c->name[sizeof(c->name) - 1] = 0;
	if (c->name[0])
		for (struct domain *o = domain_next(0); o; o = domain_next(o->domain_id + 1))
			if (strcmp(o->name, c->name) == 0)
				return -EEXIST;
	d = domain_create(id, false, c->max_vcpus);
	if (!d)
		return c->domid ? -EEXIST : -ENOMEM;
	memcpy(d->uuid, c->uuid, sizeof(d->uuid));
	memcpy(d->name, c->name, sizeof(d->name));
	d->max_pages = c->max_mem_kib / 4;
	d->target_pages = c->current_mem_kib / 4;
	d->guarantee_pages = c->guarantee_kib / 4;
	c->domid = d->domain_id;
	printk("domain %u created (\"%s\", %u vCPUs, %lu KiB)\n", d->domain_id, d->name,
	       d->max_vcpus, (unsigned long)c->current_mem_kib);
	return 0;
}

/* A copy in hv memory of len bytes at the caller's address addr (at most MAX_IMAGE_BYTES). */
static long copy_image_in(uint64_t addr, uint64_t len, void **copy, unsigned int *order)
{
	*copy = NULL;
	if (len == 0 || len > MAX_IMAGE_BYTES || addr == 0)
		return -EINVAL;
	*order = order_of(len);
	*copy = alloc_pages_virt(*order);
	if (!*copy)
		return -ENOMEM;
	if (copy_from_guest(*copy, addr, len)) {
		free_pages_virt(*copy, *order);
		*copy = NULL;
		return -EFAULT;
	}
	return 0;
}

/* domain_build, saying on hv's console why it failed. */
static long build_and_report(struct domain *d, const void *image, unsigned long len,
                             const void *ramdisk, unsigned long ramdisk_len, const char *cmdline)
{
	const char *why = "";
	long rc = domain_build(d, image, len, ramdisk, ramdisk_len, cmdline, &why);

	if (rc)
		printk("domain %u: build failed: %s (%ld)\n", d->domain_id, why, rc);
	return rc;
}

/*
 * Build from boot modules (kernel, ramdisk) or from images in the caller's memory, which are
 * copied into hv first (the caller could change them while the builder reads).
 */
static long op_build(struct domain *d, unsigned int cmd, struct hv_domctl_build *b)
{
	void *image = NULL, *ramdisk = NULL;
	unsigned int image_order = 0, ramdisk_order = 0;
	long rc;

	b->cmdline[sizeof(b->cmdline) - 1] = 0;
	if (d->built)
		return -EEXIST;
	if (cmd == HV_DOMCTL_build_module) {
		const struct boot_module *m = boot_module(b->module), *rd = NULL;

		if (!m || b->module == 0)
			return -ENOENT; /* module 0 is dom0's own kernel */
		if (b->ramdisk_module) {
			rd = boot_module(b->ramdisk_module);
			if (!rd || b->ramdisk_module == b->module)
				return -ENOENT;
		}
		return build_and_report(d, maddr_to_virt(m->start), m->end - m->start,
		                        rd ? maddr_to_virt(rd->start) : NULL,
		                        rd ? rd->end - rd->start : 0,
		                        b->cmdline[0] ? b->cmdline : m->cmdline);
	}
	if ((b->ramdisk == 0) != (b->ramdisk_len == 0))
		return -EINVAL;
	rc = copy_image_in(b->image, b->image_len, &image, &image_order);
	if (rc == 0 && b->ramdisk_len)
		rc = copy_image_in(b->ramdisk, b->ramdisk_len, &ramdisk, &ramdisk_order);
	if (rc == 0)
		rc = build_and_report(d, image, b->image_len, ramdisk, b->ramdisk_len, b->cmdline);
	if (ramdisk)
		free_pages_virt(ramdisk, ramdisk_order);
	if (image)
		free_pages_virt(image, image_order);
	return rc;
}

static long op_list(struct hv_domctl_list *l)
{
	struct hv_domctl_dominfo info;
	struct domain *d =
	    domain_next((uint16_t)(l->first_domid > 0xffff ? 0xffff : l->first_domid));

	l->count = 0;
	l->more = 0;
	if (l->max_entries > HV_MAX_DOMAINS)
		return -EINVAL;
	for (; d; d = d->domain_id == 0xffff ? NULL : domain_next(d->domain_id + 1)) {
		if (l->count == l->max_entries) {
			l->more = 1;
			break;
		}
		fill_info(d, &info);
		if (copy_to_guest(l->buffer + l->count * sizeof(info), &info, sizeof(info)))
			return -EFAULT;
		l->count++;
	}
	return 0;
}

static long op_set_mem(struct domain *d, unsigned int cmd, uint64_t kib)
{
	uint64_t pages = kib / 4;

	switch (cmd) {
	case HV_DOMCTL_set_max_mem:
		if (pages < d->tot_pages || pages < d->guarantee_pages || pages > max_frame)
			return -EINVAL;
		d->max_pages = pages;
		return 0;
	case HV_DOMCTL_set_mem_guarantee:
		if (pages > d->max_pages)
			return -EINVAL;
		d->guarantee_pages = pages;
		return 0;
	default: /* set_current_mem: the balloon target (before build: the memory built with) */
		if (pages > d->max_pages || pages < d->guarantee_pages)
			return -EINVAL;
		if (!d->built && pvd(d)->frames)
			return -EBUSY; /* already populated at the old size */
		d->target_pages = pages;
		return 0;
	}
}

long do_domctl(struct vcpu *v, uint64_t arg)
{
	struct domain *self = v->domain, *d = NULL;
	struct hv_domctl op;
	long rc;

	if (!self->is_privileged)
		return -EPERM;
	if (copy_from_guest(&op, arg, sizeof(op)))
		return -EFAULT;
	if (op.interface_version != HV_DOMCTL_INTERFACE_VERSION)
		return -EACCES;

	switch (op.cmd) {
	case HV_DOMCTL_physinfo:
	case HV_DOMCTL_create:
	case HV_DOMCTL_list:
		break;
	default:
		if (op.domain > 0xffff || !(d = domain_lookup((uint16_t)op.domain)))
			return -ESRCH;
		break;
	}
	/* dom0 may look at itself and set its own memory, but not stop or rebuild itself. */
	if (d == self) {
		switch (op.cmd) {
		case HV_DOMCTL_getinfo:
		case HV_DOMCTL_set_max_mem:
		case HV_DOMCTL_set_current_mem:
		case HV_DOMCTL_set_mem_guarantee:
		case HV_DOMCTL_sched_get:
		case HV_DOMCTL_sched_set:
			break;
		default:
			return -EPERM;
		}
	}

	switch (op.cmd) {
	case HV_DOMCTL_physinfo:
		memset(&op.u.physinfo, 0, sizeof(op.u.physinfo));
		op.u.physinfo.nr_cpus = nr_cpus_online;
		op.u.physinfo.cpu_khz = (uint32_t)tsc_khz;
		op.u.physinfo.total_kib = (uint64_t)max_frame * 4;
		op.u.physinfo.free_frames = frames_free();
		op.u.physinfo.free_kib = op.u.physinfo.free_frames * 4;
		for (struct domain *o = domain_next(0); o; o = domain_next(o->domain_id + 1))
			op.u.physinfo.nr_domains++;
		op.u.physinfo.max_domains = HV_MAX_DOMAINS;
		rc = 0;
		break;
	case HV_DOMCTL_create:
		rc = op_create(&op.u.create);
		break;
	case HV_DOMCTL_build_module:
	case HV_DOMCTL_build_buffer:
		rc = op_build(d, op.cmd, &op.u.build);
		break;
	case HV_DOMCTL_populate:
		rc = d->built ? -EEXIST : domain_populate(d);
		break;
	case HV_DOMCTL_unpause:
		rc = domain_unpause(d);
		break;
	case HV_DOMCTL_pause:
		rc = domain_pause(d);
		break;
	case HV_DOMCTL_shutdown:
		if (op.u.shutdown.reason != SHUTDOWN_poweroff &&
		    op.u.shutdown.reason != SHUTDOWN_reboot &&
		    op.u.shutdown.reason != SHUTDOWN_crash)
			return -EINVAL;
		domain_request_shutdown(d, op.u.shutdown.reason);
		rc = 0;
		break;
	case HV_DOMCTL_destroy:
		rc = domain_destroy(d);
		break;
	case HV_DOMCTL_getinfo:
		fill_info(d, &op.u.info);
		rc = 0;
		break;
	case HV_DOMCTL_list:
		rc = op_list(&op.u.list);
		break;
	case HV_DOMCTL_set_max_mem:
	case HV_DOMCTL_set_current_mem:
	case HV_DOMCTL_set_mem_guarantee:
		rc = op_set_mem(d, op.cmd, op.u.mem.kib);
		break;
	case HV_DOMCTL_set_vcpus:
		/* Before build, within the vCPUs allocated at create (the rest stay unused). */
		if (op.u.vcpus.nr_vcpus == 0 || op.u.vcpus.nr_vcpus > d->max_vcpus) {
			rc = -EINVAL;
		} else if (d->built) {
			rc = -EBUSY;
		} else {
			d->max_vcpus = op.u.vcpus.nr_vcpus;
			rc = 0;
		}
		break;
	case HV_DOMCTL_sched_get:
		memset(&op.u.sched, 0, sizeof(op.u.sched));
		sched_domain_get_params(d, &op.u.sched.weight, &op.u.sched.cap,
		                        &op.u.sched.reservation);
		rc = 0;
		break;
	case HV_DOMCTL_sched_set: {
		char msg[160];

		/* Admission may refuse a reservation: -ENOSPC, and the reason on hv's console. */
		rc = sched_domain_set_params(d, op.u.sched.weight, op.u.sched.cap,
		                             op.u.sched.reservation, msg, sizeof(msg));
		if (rc)
			printk("domain %u: %s\n", d->domain_id, msg);
		break;
	}
	case HV_DOMCTL_console_info:
		if (!d->built || !d->console_mfn)
			return -ENOENT; /* dom0, or a domU not built yet */
		memset(&op.u.console, 0, sizeof(op.u.console));
		op.u.console.mfn = d->console_mfn;
		op.u.console.port = d->console_port;
		rc = 0;
		break;
	case HV_DOMCTL_store_info:
		if (!d->built || !d->store_mfn)
			return -ENOENT; /* dom0, or a domU not built yet */
		memset(&op.u.console, 0, sizeof(op.u.console));
		op.u.console.mfn = d->store_mfn;
		op.u.console.port = d->store_port;
		rc = 0;
		break;
	default:
		rc = -ENOSYS;
		break;
	}
	if (rc == 0 && copy_to_guest(arg, &op, sizeof(op)))
		rc = -EFAULT;
	return rc;
}
