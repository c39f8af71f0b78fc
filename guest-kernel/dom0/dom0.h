/*
 * dom0's role of guest-kernel (Xen-PV platform only): the PCI bus seen through configuration
 * ports (pci.c), the management link's device mapped and wired to an event (link.c), and the
 * control agent that serves the link (agent.c). Started by kernel_main() when the command line
 * says `agent`; nothing here runs in other modes.
 */
#ifndef GK_DOM0_H
#define GK_DOM0_H

#include <klib/compiler.h>

/* ---- pci.c: configuration space through ports 0xcf8/0xcfc (needs I/O privilege) ---- */
struct pci_dev {
	int bus, devfn;
	uint16_t vendor, device;
	uint64_t bar[6];           /* physical base of each memory BAR, 0 if none */
	uint64_t bar_size[6];      /* bytes */
	unsigned int msix_cap;     /* config offset of the MSI-X capability, 0 if none */
	unsigned int msix_entries; /* table size */
	unsigned int msix_bir;     /* BAR holding the table */
};

uint32_t pci_read32(int bus, int devfn, unsigned int reg);
void pci_write32(int bus, int devfn, unsigned int reg, uint32_t v);
/* Scans bus 0..255 for vendor:device; fills *dev (BARs sized, MSI-X found). 0 or -1. */
int pci_find(uint16_t vendor, uint16_t device, struct pci_dev *dev);

/* ---- link.c: the ivshmem device of the management link ---- */
struct dom0_link {
	struct pci_dev pci;
	volatile uint32_t *regs; /* BAR0: ivshmem registers, uncached */
	uint8_t *shm;            /* BAR2: the shared memory, write-back */
	uint64_t shm_size;
	uint32_t ivposition;  /* our ivshmem peer id */
	unsigned int vectors; /* MSI-X entries mapped to pirqs */
	uint32_t event_port;  /* VIRQ_PIRQ's event channel */
};

/* Finds and maps the device and wires its interrupts to an event. 0 or a negative errno. */
int dom0_link_init(struct dom0_link *l);
/* Rings peer's doorbell `vector`. */
void dom0_link_ring(struct dom0_link *l, uint16_t peer, uint16_t vector);
/* Times since the last call the device's event fired (the handler only counts). */
extern volatile uint64_t dom0_link_events;

/*
 * Maps machine frames at a fresh range of dom0's I/O window (uncached when uc). For RAM frames
 * of our own, pass the frames of pages we own. Returns the virtual address or NULL.
 */
void *dom0_map_frames(const uint64_t *mfns, unsigned long n, bool uc);
/* Maps one RAM frame of domain domid (privileged foreign mapping), write-back. */
void *dom0_map_foreign(uint64_t mfn, uint16_t domid);
void *dom0_map_io(uint64_t paddr, uint64_t size, bool uc);
/* Removes n pages mapped by dom0_map_frames at va (the range itself is not reused). */
int dom0_unmap(void *va, unsigned long n);

/* ---- agent.c ---- */
__noreturn void dom0_agent_main(void);

#endif
