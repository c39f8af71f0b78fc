/*
 * Physical devices of the privileged domain: its device interrupts (PHYSDEVOP_map_pirq and
 * unmap_pirq for MSI-X), with the few PCI configuration-space reads and writes hv needs to
 * check and program what dom0 names.
 *
 * What dom0 may do with a PCI device, and where each part is decided:
 *  - configuration space: dom0 reaches ports 0xcf8-0xcff itself once it has I/O privilege
 *    (PHYSDEVOP_set_iopl; emulate.c keeps COM1, the PIT and the debug-exit port for hv);
 *  - BARs: I/O memory outside RAM, which a privileged domain may map (uncached if it asks)
 *    with mmu_update/update_va_mapping (mm.c, pv_iomem_ok in mm-glue.c);
 *  - interrupts: MSI-X only, programmed by hv, never by dom0: hv owns the vector space of the
 *    CPUs, so map_pirq takes a vector from hv's pool, writes the table entry (address: this
 *    CPU's local APIC; data: the vector, fixed delivery, edge), unmasks it and enables MSI-X
 *    and bus mastering. Each interrupt on such a vector raises the owner's global VIRQ_PIRQ
 *    (public/physdev.h): dom0 binds that with EVTCHNOP_bind_virq, so an idle dom0 blocks in
 *    SCHEDOP_block and wakes on the device's interrupt, polling nothing.
 *
 * Invariants: pirqs[i] is free (d == NULL) or names one MSI-X entry of one device, programmed
 * with vector PIRQ_VECTOR_BASE + i and unmasked; no two slots name the same entry. The
 * config-space address port (0xcf8) is used by hv only under pci_lock; hv runs with interrupts
 * off, so on dom0's (single) vCPU its own cf8/cfc pairs are never split by hv's.
 */
#include <hv/event.h>
#include <hv/lib.h>
#include <hv/spinlock.h>
#include <asm/apic.h>
#include <asm/paging.h>
#include <asm/processor.h>
#include <asm/traps.h>

#include "guest-access.h"
#include "pv.h"

#define NR_PIRQS         16
#define PIRQ_VECTOR_BASE 0x60 /* vectors 0x60..0x6f: hv uses none of them otherwise */
#define PIRQ_FIRST       16   /* pirq numbers start above the legacy ISA IRQs */

#define PCI_CONF_ADDR   0xcf8
#define PCI_CONF_DATA   0xcfc
#define PCI_COMMAND     0x04
#define PCI_CMD_MEMORY  (1u << 1)
#define PCI_CMD_MASTER  (1u << 2)
#define PCI_STATUS_CAPS (1u << 4)
#define PCI_CAP_PTR     0x34
#define PCI_CAP_MSIX    0x11
#define MSIX_ENABLE     (1u << 15)
#define MSIX_FUNC_MASK  (1u << 14)
#define MSIX_ENTRY_MASK 1u

struct pirq {
	struct domain *d; /* owner; NULL when free */
	int bus, devfn, entry;
	volatile uint32_t *entry_va; /* the 16-byte table entry, mapped uncached */
};

static struct pirq pirqs[NR_PIRQS];
static DEFINE_SPINLOCK(pci_lock);
static uint64_t pirq_interrupts; /* for the curious (debugging) */

static uint32_t conf_read(int bus, int devfn, unsigned int reg)
{
	uint32_t v;

	spin_lock(&pci_lock);
	outl(PCI_CONF_ADDR,
	     0x80000000u | (uint32_t)bus << 16 | (uint32_t)devfn << 8 | (reg & 0xfc));
	v = inl(PCI_CONF_DATA);
	spin_unlock(&pci_lock);
	return v;
}

static void conf_write(int bus, int devfn, unsigned int reg, uint32_t v)
{
	spin_lock(&pci_lock);
	outl(PCI_CONF_ADDR,
	     0x80000000u | (uint32_t)bus << 16 | (uint32_t)devfn << 8 | (reg & 0xfc));
	outl(PCI_CONF_DATA, v);
	spin_unlock(&pci_lock);
}

/* Offset of the capability `id` in the function's list, or 0. Bounded: at most 48 hops. */
static unsigned int find_cap(int bus, int devfn, unsigned int id)
{
	unsigned int off, hops;

	if (!((conf_read(bus, devfn, PCI_COMMAND) >> 16) & PCI_STATUS_CAPS))
		return 0;
	off = conf_read(bus, devfn, PCI_CAP_PTR) & 0xfc;
	for (hops = 0; off >= 0x40 && hops < 48; hops++) {
		uint32_t w = conf_read(bus, devfn, off);

		if ((w & 0xff) == id)
			return off;
		off = (w >> 8) & 0xfc;
	}
	return 0;
}

static void pirq_interrupt(struct cpu_user_regs *regs)
{
	unsigned int slot = regs->entry_vector - PIRQ_VECTOR_BASE;
	struct domain *d = slot < NR_PIRQS ? pirqs[slot].d : NULL;

	apic_eoi();
	pirq_interrupts++;
	if (d && !d->is_dying)
		send_guest_global_virq(d, VIRQ_PIRQ);
	if (guest_mode(regs))
		pv_exit_to_guest(regs);
}

/* The physical base of BAR `bir` (memory BARs only), or 0. */
static uint64_t bar_base(int bus, int devfn, unsigned int bir)
{
	uint32_t lo = conf_read(bus, devfn, 0x10 + 4 * bir);
	uint64_t base = lo & ~0xfu;

	if (lo & 1)
		return 0; /* an I/O BAR cannot hold an MSI-X table */
	if ((lo & 6) == 4) {
		if (bir >= 5)
			return 0;
		base |= (uint64_t)conf_read(bus, devfn, 0x14 + 4 * bir) << 32;
	}
	return base;
}

static long map_msix(struct domain *d, struct physdev_map_pirq *m)
{
	unsigned int cap, size, bir, slot, free_slot = NR_PIRQS;
	uint32_t ctl, tbl;
	uint64_t base, pa;
	volatile uint32_t *e;

	if (m->domid != DOMID_SELF && m->domid != d->domain_id)
		return -EINVAL; /* pirqs for other domains: not implemented */
	if (m->type != MAP_PIRQ_TYPE_MSI || m->table_base == 0)
		return -EOPNOTSUPP; /* GSIs and plain MSI: not implemented */
	if (m->bus < 0 || m->bus > 255 || m->devfn < 0 || m->devfn > 255 || m->entry_nr < 0)
		return -EINVAL;
	if ((conf_read(m->bus, m->devfn, 0) & 0xffff) == 0xffff)
		return -ENODEV;
	cap = find_cap(m->bus, m->devfn, PCI_CAP_MSIX);
	if (!cap)
		return -ENODEV;
	ctl = conf_read(m->bus, m->devfn, cap) >> 16;
	size = (ctl & 0x7ff) + 1;
	if ((unsigned int)m->entry_nr >= size)
		return -EINVAL;
	tbl = conf_read(m->bus, m->devfn, cap + 4);
	bir = tbl & 7;
	if (bir > 5)
		return -ENODEV;
	base = bar_base(m->bus, m->devfn, bir);
	if (base == 0 || base != m->table_base)
		return -EINVAL;

	for (slot = 0; slot < NR_PIRQS; slot++) {
		struct pirq *p = &pirqs[slot];

		if (p->d == d && p->bus == m->bus && p->devfn == m->devfn &&
		    p->entry == m->entry_nr) {
			m->pirq = PIRQ_FIRST + (int)slot; /* already mapped: the same pirq */
			return 0;
		}
		if (p->d && p->bus == m->bus && p->devfn == m->devfn && p->entry == m->entry_nr)
			return -EBUSY;
		if (!p->d && free_slot == NR_PIRQS)
			free_slot = slot;
	}
	if (free_slot == NR_PIRQS)
		return -ENOSPC;
	slot = free_slot;

	pa = base + (tbl & ~7u) + 16ull * (unsigned int)m->entry_nr;
	e = (volatile uint32_t *)((uint8_t *)ioremap(pa & ~0xfffull, PAGE_SIZE) + (pa & 0xfff));
	set_trap_handler(PIRQ_VECTOR_BASE + slot, pirq_interrupt);
	pirqs[slot] = (struct pirq){
	    .d = d, .bus = m->bus, .devfn = m->devfn, .entry = m->entry_nr, .entry_va = e};

	e[3] |= MSIX_ENTRY_MASK;
	e[0] = 0xfee00000u | (this_cpu()->apic_id << 12);
	e[1] = 0;
	e[2] = PIRQ_VECTOR_BASE + slot; /* fixed delivery, edge */
	conf_write(m->bus, m->devfn, PCI_COMMAND,
	           (conf_read(m->bus, m->devfn, PCI_COMMAND) & 0xffff) | PCI_CMD_MEMORY |
	               PCI_CMD_MASTER);
	conf_write(m->bus, m->devfn, cap,
	           (conf_read(m->bus, m->devfn, cap) & ~(MSIX_FUNC_MASK << 16)) |
	               (MSIX_ENABLE << 16));
	e[3] &= ~MSIX_ENTRY_MASK;
	m->pirq = PIRQ_FIRST + (int)slot;
	printk("physdev: d%u pirq %d = MSI-X entry %d of %02x:%02x.%x, vector %#x\n", d->domain_id,
	       m->pirq, m->entry_nr, m->bus, m->devfn >> 3, m->devfn & 7, PIRQ_VECTOR_BASE + slot);
	return 0;
}

static long unmap_pirq(struct domain *d, const struct physdev_unmap_pirq *u)
{
	unsigned int slot = (unsigned int)(u->pirq - PIRQ_FIRST);

	if (u->domid != DOMID_SELF && u->domid != d->domain_id)
		return -EINVAL;
	if (u->pirq < PIRQ_FIRST || slot >= NR_PIRQS || pirqs[slot].d != d)
		return -EINVAL;
	pirqs[slot].entry_va[3] |= MSIX_ENTRY_MASK;
	pirqs[slot].d = NULL;
	return 0;
}

long pv_physdev_pirq_op(struct vcpu *v, unsigned int cmd, uint64_t arg);
long pv_physdev_pirq_op(struct vcpu *v, unsigned int cmd, uint64_t arg)
{
	struct physdev_map_pirq m;
	struct physdev_unmap_pirq u;
	long rc;

	if (!v->domain->is_privileged)
		return -EPERM;
	switch (cmd) {
	case PHYSDEVOP_map_pirq:
		if (copy_from_guest(&m, arg, sizeof(m)))
			return -EFAULT;
		pv_lock();
		rc = map_msix(v->domain, &m);
		pv_unlock();
		if (rc == 0 && copy_to_guest(arg, &m, sizeof(m)))
			rc = -EFAULT;
		return rc;
	case PHYSDEVOP_unmap_pirq:
		if (copy_from_guest(&u, arg, sizeof(u)))
			return -EFAULT;
		pv_lock();
		rc = unmap_pirq(v->domain, &u);
		pv_unlock();
		return rc;
	default:
		return -ENOSYS;
	}
}
