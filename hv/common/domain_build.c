/*
 * Building a domU through the control interface: its memory (populate: target_pages fresh
 * frames, owned by the domain, listed in its P2M), then its image, written by the same PV
 * builder that builds dom0 (hv/arch/x86/pv/dom-*.c). The image (a PV ELF, or a Linux bzImage
 * whose xz payload is decoded here first) and the ramdisk, if any, come from hv's boot modules
 * or from buffers dom0 passed; either way the builder reads them from hv's memory. The ramdisk
 * goes where the kernel asks (after the mapped region, as a PFN, for Linux's MOD_START_PFN).
 *
 * The console and XenStore pages of the boot contract are laid out and get an unbound event
 * channel each towards dom0, so start_info is what a Xen domU expects; until the split console
 * exists, domUs write to hv's console through console_io.
 *
 * A failed build leaves the domain unbuilt with its memory assigned; destroy gives it back.
 */
#include <hv/event.h>
#include <hv/lib.h>
#include <hv/mm.h>

#include "../arch/x86/pv/dom-build.h"
#include "../arch/x86/pv/dom-bzimage.h"
#include "../arch/x86/pv/mm.h"
#include "../arch/x86/pv/pv.h"

static unsigned int order_of(unsigned long bytes)
{
	unsigned int order = 0;

	while ((PAGE_SIZE << order) < bytes)
		order++;
	return order;
}

int domain_populate(struct domain *d)
{
	struct pv_domain *pd = pvd(d);
	uint64_t n = d->target_pages;

	if (pd->frames)
		return pd->nr_frames == n ? 0 : -EEXIST;
	if (n < 256 || n > d->max_pages)
		return -EINVAL; /* 1 MiB at least: the builder needs room */
	if (n + 1024 > frames_free())
		return -ENOMEM; /* leave hv some room of its own */
	pd->frames = alloc_pages_virt(order_of(n * sizeof(uint64_t)));
	if (!pd->frames)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++) {
		struct page_info *pg = alloc_frames(0);

		if (!pg)
			return -ENOMEM; /* what was assigned goes back at destroy */
		pd->frames[i] = page_to_mfn(pg);
		pv_lock();
		pv_assign_frame(d, pd->frames[i], false);
		pv_unlock();
		pd->nr_frames = i + 1;
	}
	return 0;
}

int evtchn_alloc_unbound_port(struct domain *d, uint16_t remote);

/* Event channels for the store and console, then the image written into the domain's frames. */
static int build_image(struct domain *d, const struct pv_elf_info *elf,
                       const struct pv_layout *layout, const void *ramdisk,
                       unsigned long ramdisk_len, const char *cmdline, const char **why)
{
	struct pv_build_args args;
	struct pv_boot_regs boot;
	int rc, store, console;

	store = evtchn_alloc_unbound_port(d, 0);
	console = evtchn_alloc_unbound_port(d, 0);
	if (store < 0 || console < 0) {
		*why = "no event channel for the console or store";
		return -ENOSPC;
	}
	args = (struct pv_build_args){
	    .d = d,
	    .v = d->vcpu[0],
	    .p2m = pvd(d)->frames,
	    .initrd = ramdisk,
	    .initrd_len = ramdisk_len,
	    .cmdline = cmdline,
	    .shared_info_maddr = d->shared_info_mfn << PAGE_SHIFT,
	    .si_flags = 0,
	    .store_evtchn = (uint32_t)store,
	    .console_evtchn = (uint32_t)console,
	};
	pv_lock();
	rc = pv_build_image(elf, layout, &args, &boot, why);
	pv_unlock();
	if (rc)
		return rc;
	d->boot_rip = boot.rip;
	d->boot_rsp = boot.rsp;
	d->boot_rsi = boot.rsi;
	d->console_mfn = pvd(d)->frames[layout->console_pfn];
	d->console_port = (uint32_t)console;
	d->store_mfn = pvd(d)->frames[layout->xenstore_pfn];
	d->store_port = (uint32_t)store;
	d->built = true;
	printk("domain %u built: %s kernel, %lu KiB, entry %#lx, command line \"%s\"\n",
	       d->domain_id, elf->guest_os[0] ? elf->guest_os : "PV",
	       (unsigned long)(pvd(d)->nr_frames * 4), (unsigned long)boot.rip, cmdline);
	if (ramdisk_len)
		printk("domain %u: ramdisk of %lu KiB at pfn %#lx%s\n", d->domain_id,
		       ramdisk_len >> 10, (unsigned long)layout->initrd_pfn,
		       layout->initrd_va ? " (mapped)" : " (SIF_MOD_START_PFN)");
	return 0;
}

/* The ELF the builder reads: image itself, or its bzImage payload decoded into *elf_buf. */
static const void *kernel_elf(struct domain *d, const void *image, size_t *len, void **elf_buf,
                              unsigned int *elf_order, const char **why)
{
	char who[24];

	*elf_buf = NULL;
	if (!pv_is_bzimage(image, *len))
		return image;
	snprintf(who, sizeof(who), "domain %u", d->domain_id);
	*elf_buf = pv_bzimage_unpack(image, len, elf_order, who, why);
	return *elf_buf;
}

int domain_build(struct domain *d, const void *image, unsigned long len, const void *ramdisk,
                 unsigned long ramdisk_len, const char *cmdline, const char **why)
{
	struct pv_elf_info elf;
	struct pv_layout layout;
	int rc;
	size_t elf_len = len;
	unsigned int elf_order = 0;
	void *elf_buf;
	const void *kernel;

	*why = "";
	if (d->built || d->is_dying) {
		*why = "domain already built or dying";
		return -EEXIST;
	}
	rc = domain_populate(d);
	if (rc) {
		*why = "cannot allocate the domain's memory";
		return rc;
	}
	kernel = kernel_elf(d, image, &elf_len, &elf_buf, &elf_order, why);
	if (!kernel)
		return -EINVAL;
	rc = pv_elf_parse(kernel, elf_len, &elf, why);
	if (rc == 0)
		rc = pv_compute_layout(&elf, pvd(d)->nr_frames, ramdisk_len, true, &layout, why);
	if (rc == 0)
		rc = build_image(d, &elf, &layout, ramdisk, ramdisk_len, cmdline, why);
	if (elf_buf)
		free_pages_virt(elf_buf, elf_order);
	return rc;
}
