/*
 * The management link's device in dom0: QEMU's ivshmem-doorbell (PCI 1af4:1110). BAR0 holds
 * its registers (IVPosition at 8, Doorbell at 12), BAR1 its MSI-X table, BAR2 the shared
 * memory the host laid out (link/link_proto.h).
 *
 * How dom0 gets each piece from the hypervisor:
 *  - I/O privilege (PHYSDEVOP_set_iopl) for configuration space (pci.c);
 *  - the BARs: I/O memory outside RAM, which a privileged domain may map through
 *    mmu_update; registers uncached (PCD|PWT), the shared memory write-back (it is RAM on the
 *    host side, and the ring protocol orders its accesses with barriers);
 *  - the interrupts: PHYSDEVOP_map_pirq for each MSI-X entry (the hypervisor programs the
 *    entry, dom0 never writes the table), then EVTCHNOP_bind_virq(VIRQ_PIRQ): every doorbell
 *    of the host arrives as that one event, and the agent then looks at every ring.
 *
 * The I/O window: one L2 under the self-test scratch L3 (slot 1, 1 GiB at
 * PV_SCRATCH_BASE + 1 GiB), filled on demand with L1 tables; ranges are handed out once and
 * never reused (the agent maps the device once and image buffers a few times).
 */
#include <kernel.h>
#include <mm.h>
#include <klib/string.h>
#include <public/physdev.h>
#include "../arch/pv/pv.h"
#include "dom0.h"

#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110
#define REG_IVPOSITION 2 /* 32-bit register index */
#define REG_DOORBELL   3

#define IO_WINDOW_BASE  (PV_SCRATCH_BASE + (1UL << 30))
#define IO_WINDOW_PAGES (512UL * 512UL)

volatile uint64_t dom0_link_events;

static uint64_t *io_l2;
static uint64_t *io_l1[512];
static unsigned long io_next; /* next free page of the window */

static long mmu_update1(uint64_t *entry, uint64_t val)
{
	struct mmu_update u = {.ptr = pv_virt_to_maddr(entry) | MMU_NORMAL_PT_UPDATE, .val = val};

	return HYPERVISOR_mmu_update(&u, 1, NULL, DOMID_SELF);
}

/* The L1 table that maps window page `page`, created (and hooked in) on first use. */
static uint64_t *window_l1(unsigned long page)
{
	unsigned int i = (unsigned int)(page / 512);
	long rc;

	if (!io_l2) {
		uint64_t *l2 = pv_alloc_pinned_table(2, &rc);

		if (!l2)
			return NULL;
		rc = mmu_update1(&pv_scratch_l3[1], pv_virt_to_maddr(l2) | TABLE_PROT);
		if (rc) {
			printk("dom0: hooking the I/O window failed: %ld\n", rc);
			pv_free_pinned_table(l2);
			return NULL;
		}
		io_l2 = l2;
	}
	if (!io_l1[i]) {
		uint64_t *l1 = pv_alloc_pinned_table(1, &rc);

		if (!l1)
			return NULL;
		rc = mmu_update1(&io_l2[i], pv_virt_to_maddr(l1) | TABLE_PROT);
		if (rc) {
			printk("dom0: hooking an I/O L1 failed: %ld\n", rc);
			pv_free_pinned_table(l1);
			return NULL;
		}
		io_l1[i] = l1;
	}
	return io_l1[i];
}

static void *map_frames_of(const uint64_t *mfns, unsigned long n, bool uc, domid_t owner);

void *dom0_map_frames(const uint64_t *mfns, unsigned long n, bool uc)
{
	return map_frames_of(mfns, n, uc, DOMID_SELF);
}

void *dom0_map_foreign(uint64_t mfn, uint16_t domid)
{
	return map_frames_of(&mfn, 1, false, domid);
}

/* owner: whose frames they are (a privileged domain may map another domain's RAM). */
static void *map_frames_of(const uint64_t *mfns, unsigned long n, bool uc, domid_t owner)
{
	uint64_t flags = L1_PROT | (1ULL << 63) | (uc ? XEN_PTE_PCD | XEN_PTE_PWT : 0);
	struct mmu_update batch[64];
	unsigned int nb = 0;
	unsigned long first = io_next;
	long rc;

	if (n == 0 || n > IO_WINDOW_PAGES - io_next)
		return NULL;
	for (unsigned long i = 0; i < n; i++) {
		unsigned long page = first + i;
		uint64_t *l1 = window_l1(page);

		if (!l1)
			return NULL;
		batch[nb].ptr = pv_virt_to_maddr(&l1[page % 512]) | MMU_NORMAL_PT_UPDATE;
		batch[nb].val = (mfns[i] << PAGE_SHIFT) | flags;
		if (++nb == ARRAY_SIZE(batch) || i + 1 == n) {
			rc = HYPERVISOR_mmu_update(batch, nb, NULL, owner);
			if (rc) {
				printk("dom0: mapping frame %#llx failed: %ld\n",
				       (unsigned long long)mfns[i], rc);
				return NULL;
			}
			nb = 0;
		}
	}
	io_next += n;
	return (void *)(IO_WINDOW_BASE + first * PAGE_SIZE);
}

void *dom0_map_io(uint64_t paddr, uint64_t size, bool uc)
{
	static uint64_t mfns[512];
	unsigned long n = (unsigned long)((size + PAGE_SIZE - 1) / PAGE_SIZE), done = 0;
	uint8_t *va = NULL;

	/* In pieces of 512 frames; consecutive calls get consecutive window ranges. */
	while (done < n) {
		unsigned long k = MIN(n - done, 512UL);

		for (unsigned long i = 0; i < k; i++)
			mfns[i] = (paddr >> PAGE_SHIFT) + done + i;
		uint8_t *p = dom0_map_frames(mfns, k, uc);
		if (!p)
			return NULL;
		if (!va)
			va = p;
		done += k;
	}
	return va + (paddr & (PAGE_SIZE - 1));
}

int dom0_unmap(void *va, unsigned long n)
{
	unsigned long first = ((uintptr_t)va - IO_WINDOW_BASE) / PAGE_SIZE;

	for (unsigned long i = 0; i < n; i++) {
		unsigned long page = first + i;
		long rc = io_l1[page / 512] ? mmu_update1(&io_l1[page / 512][page % 512], 0) : -1;

		if (rc)
			return (int)rc;
	}
	return (int)pv_flush_tlb();
}

static void link_event(evtchn_port_t port)
{
	(void)port;
	dom0_link_events++;
}

void dom0_link_ring(struct dom0_link *l, uint16_t peer, uint16_t vector)
{
	WRITE_ONCE(l->regs[REG_DOORBELL], (uint32_t)peer << 16 | vector);
}

int dom0_link_init(struct dom0_link *l)
{
	struct physdev_set_iopl iopl = {.iopl = 1};
	struct evtchn_bind_virq bv = {.virq = VIRQ_PIRQ, .vcpu = 0};
	long rc;

	memset(l, 0, sizeof(*l));
	if ((rc = HYPERVISOR_physdev_op(PHYSDEVOP_set_iopl, &iopl))) {
		printk("dom0: set_iopl failed: %ld\n", rc);
		return (int)rc;
	}
	if (pci_find(IVSHMEM_VENDOR, IVSHMEM_DEVICE, &l->pci)) {
		printk("dom0: no ivshmem device (1af4:1110) on PCI: no management link\n");
		return -XEN_ENODEV;
	}
	printk("dom0: ivshmem at %02x:%02x.%x, BAR0 %#llx (%llu), BAR2 %#llx (%llu KiB), "
	       "MSI-X %u entries in BAR%u\n",
	       l->pci.bus, l->pci.devfn >> 3, l->pci.devfn & 7, (unsigned long long)l->pci.bar[0],
	       (unsigned long long)l->pci.bar_size[0], (unsigned long long)l->pci.bar[2],
	       (unsigned long long)(l->pci.bar_size[2] >> 10), l->pci.msix_entries,
	       l->pci.msix_bir);
	if (!l->pci.bar[0] || !l->pci.bar[2] || !l->pci.msix_cap) {
		printk("dom0: the ivshmem device lacks registers, memory or MSI-X\n");
		return -XEN_ENODEV;
	}
	/* Memory decoding on (the firmware usually has it on already). */
	pci_write32(l->pci.bus, l->pci.devfn, 0x04,
	            (pci_read32(l->pci.bus, l->pci.devfn, 0x04) & 0xffff) | 0x2);
	l->regs = dom0_map_io(l->pci.bar[0], PAGE_SIZE, true);
	l->shm_size = l->pci.bar_size[2];
	l->shm = dom0_map_io(l->pci.bar[2], l->shm_size, false);
	if (!l->regs || !l->shm)
		return -XEN_ENOMEM;
	l->ivposition = READ_ONCE(l->regs[REG_IVPOSITION]);

	for (unsigned int v = 0; v < l->pci.msix_entries && v < 16; v++) {
		struct physdev_map_pirq m = {.domid = DOMID_SELF,
		                             .type = MAP_PIRQ_TYPE_MSI,
		                             .bus = l->pci.bus,
		                             .devfn = l->pci.devfn,
		                             .entry_nr = (int32_t)v,
		                             .table_base = l->pci.bar[l->pci.msix_bir]};

		if ((rc = HYPERVISOR_physdev_op(PHYSDEVOP_map_pirq, &m))) {
			printk("dom0: map_pirq of MSI-X entry %u failed: %ld\n", v, rc);
			return (int)rc;
		}
		l->vectors++;
	}
	if ((rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &bv))) {
		printk("dom0: binding VIRQ_PIRQ failed: %ld\n", rc);
		return (int)rc;
	}
	l->event_port = bv.port;
	pv_evtchn_bind(bv.port, link_event);
	pv_evtchn_unmask(bv.port);
	printk("dom0: link device mapped: IVPosition %u, %u vectors on event port %u\n",
	       l->ivposition, l->vectors, l->event_port);
	return 0;
}
