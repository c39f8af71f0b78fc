/*
 * dom0: the privileged domain, built at boot from the first boot module (its arguments become
 * the kernel command line; a PV ELF kernel or a Linux bzImage) with the second module, if
 * any, as its initrd. Its memory size is
 * `dom0_mem=` on hv's command line (default 64M). It gets SIF_PRIVILEGED | SIF_INITDOMAIN and
 * runs on the boot CPU.
 */
#include <hv/bootinfo.h>
#include <hv/cmdline.h>
#include <hv/lib.h>
#include <hv/mm.h>
#include <asm/desc.h>
#include <asm/processor.h>

#include <hv/pv.h>
#include <hv/time.h>
#include <hv/sched-if.h>

#include "dom-build.h"
#include "dom-bzimage.h"
#include "mm.h"
#include "pv.h"

#define DOM0_MEM_DEFAULT (64UL << 20)

void pv_dom0_start(void)
{
	const struct boot_module *kernel = boot_module(0), *initrd = boot_module(1);
	unsigned long long bytes = DOM0_MEM_DEFAULT;
	const char *mem = cmdline_get("dom0_mem"), *why = "";
	struct pv_elf_info elf;
	struct pv_layout layout;
	struct pv_build_args args;
	struct pv_boot_regs boot;
	struct cpu_user_regs regs;
	struct domain *d;
	struct vcpu *v;
	uint64_t nr_pages, i, *p2m;
	unsigned int order = 0, elf_order = 0;
	const void *image;
	size_t image_size;
	int rc;

	if (!kernel) {
		printk("pv: no boot module, no dom0\n");
		return;
	}
	if (mem && !parse_size(mem, &bytes))
		printk(KERN_WARN "pv: bad dom0_mem=%s, using 64M\n", mem);
	image = maddr_to_virt(kernel->start);
	image_size = kernel->end - kernel->start;
	if (pv_is_bzimage(image, image_size)) {
		/* Decoded into a temporary buffer, freed once the builder has copied the image. */
		image = pv_bzimage_unpack(image, &image_size, &elf_order, "dom0", &why);
		if (!image) {
			printk("pv: cannot build dom0: %s\n", why);
			return;
		}
	}
	nr_pages = bytes >> PAGE_SHIFT; /* what the decoded ELF took is not available */
	if (nr_pages + 1024 > frames_free())
		nr_pages = frames_free() > 2048 ? frames_free() - 1024 : 0;
	rc = pv_elf_parse(image, image_size, &elf, &why);
	if (rc == 0)
		rc = pv_compute_layout(&elf, nr_pages, initrd ? initrd->end - initrd->start : 0,
		                       false, &layout, &why);
	if (rc) {
		printk("pv: cannot build dom0: %s\n", why);
		if (image != maddr_to_virt(kernel->start))
			free_pages_virt((void *)image, elf_order);
		return;
	}

	d = domain_create(0, true, sched_dom0_vcpus());
	if (!d)
		panic("pv: cannot create dom0");
	v = d->vcpu[0];
	while ((PAGE_SIZE << order) < nr_pages * sizeof(uint64_t))
		order++;
	p2m = alloc_pages_virt(order);
	if (!p2m)
		panic("pv: no memory for dom0's P2M");
	for (i = 0; i < nr_pages; i++) {
		struct page_info *pg = alloc_frames(0);

		if (!pg)
			panic("pv: out of memory building dom0");
		p2m[i] = page_to_mfn(pg);
		pv_assign_frame(d, p2m[i], false);
	}
	pvd(d)->frames = p2m;
	pvd(d)->nr_frames = nr_pages;
	d->max_pages = nr_pages;

	args = (struct pv_build_args){
	    .d = d,
	    .v = v,
	    .p2m = p2m,
	    .initrd = initrd ? maddr_to_virt(initrd->start) : NULL,
	    .initrd_len = initrd ? initrd->end - initrd->start : 0,
	    .cmdline = kernel->cmdline,
	    .shared_info_maddr = d->shared_info_mfn << PAGE_SHIFT,
	    .si_flags = SIF_PRIVILEGED | SIF_INITDOMAIN,
	};
	pv_lock();
	rc = pv_build_image(&elf, &layout, &args, &boot, &why);
	pv_unlock();
	if (image != maddr_to_virt(kernel->start))
		free_pages_virt((void *)image, elf_order);
	if (rc)
		panic("pv: dom0: %s", why);
	printk("dom0: %s kernel, %lu MiB, entry %#lx, command line \"%s\"\n",
	       elf.guest_os[0] ? elf.guest_os : "PV", (unsigned long)(nr_pages >> 8),
	       (unsigned long)boot.rip, kernel->cmdline);

	memset(&regs, 0, sizeof(regs));
	regs.rip = boot.rip;
	regs.rsp = boot.rsp;
	regs.rsi = boot.rsi;
	regs.cs = FLAT_KERNEL_CS;
	regs.ss = FLAT_KERNEL_SS;
	regs.rflags = 0x202;

	if (sched_active()) { /* the scheduler runs vCPU 0; VCPUOP_up starts the others */
		char msg[160];

		if (sched_domain_attach(d, msg, sizeof(msg)))
			panic("pv: dom0: %s", msg);
		v->sched->regs = regs;
		sched_start_first_vcpu(v);
	}
	local_irq_disable();
	pv_cpu_init();
	this_cpu()->curr_vcpu = v;
	pv(v)->online = true;
	write_cr3(pv_current_cr3(v));
	wrmsr(MSR_FS_BASE, 0);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	pv_update_vcpu_time(v);
	pv_install_gdt(v);
	pv_enter_frame(&regs);
}

void pv_start(void)
{
	pv_mm_init();
	pv_time_init();
	pv_traps_init();
	sched_hv_init();
	pv_dom0_start();
}
