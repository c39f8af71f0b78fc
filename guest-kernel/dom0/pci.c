/*
 * PCI configuration space through the legacy mechanism #1 (ports 0xcf8/0xcfc), as dom0 sees it:
 * the port accesses trap to the hypervisor, which performs them for a domain with I/O
 * privilege (PHYSDEVOP_set_iopl, done by link.c before the first scan). Segment 0 only.
 *
 * BAR sizing writes all-ones to a BAR and reads it back, with memory decoding switched off
 * meanwhile so that the device never answers at the probe address; the original value and the
 * command register are restored before returning.
 */
#include <kernel.h>
#include <klib/string.h>
#include "dom0.h"

#define PCI_COMMAND     0x04
#define PCI_CMD_MEMORY  (1u << 1)
#define PCI_STATUS_CAPS (1u << 4)
#define PCI_CAP_PTR     0x34
#define PCI_CAP_MSIX    0x11

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" ::"a"(v), "Nd"(port));
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static uint32_t conf_addr(int bus, int devfn, unsigned int reg)
{
	return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)devfn << 8 | (reg & 0xfc);
}

uint32_t pci_read32(int bus, int devfn, unsigned int reg)
{
	outl(0xcf8, conf_addr(bus, devfn, reg));
	return inl(0xcfc);
}

void pci_write32(int bus, int devfn, unsigned int reg, uint32_t v)
{
	outl(0xcf8, conf_addr(bus, devfn, reg));
	outl(0xcfc, v);
}

static void size_bars(struct pci_dev *d)
{
	uint32_t cmd = pci_read32(d->bus, d->devfn, PCI_COMMAND);

	pci_write32(d->bus, d->devfn, PCI_COMMAND, (cmd & 0xffff) & ~PCI_CMD_MEMORY);
	for (unsigned int i = 0; i < 6; i++) {
		unsigned int reg = 0x10 + 4 * i;
		uint32_t lo = pci_read32(d->bus, d->devfn, reg), hi = 0, mlo, mhi = 0xffffffffu;
		bool is64 = (lo & 7) == 4;

		if (lo & 1)
			continue; /* I/O BAR: not used here */
		if (is64 && i < 5)
			hi = pci_read32(d->bus, d->devfn, reg + 4);
		pci_write32(d->bus, d->devfn, reg, 0xffffffffu);
		mlo = pci_read32(d->bus, d->devfn, reg);
		pci_write32(d->bus, d->devfn, reg, lo);
		if (is64 && i < 5) {
			pci_write32(d->bus, d->devfn, reg + 4, 0xffffffffu);
			mhi = pci_read32(d->bus, d->devfn, reg + 4);
			pci_write32(d->bus, d->devfn, reg + 4, hi);
		}
		uint64_t mask = ((uint64_t)mhi << 32) | (mlo & ~0xfu);
		if (!is64)
			mask |= 0xffffffff00000000ull;
		if ((mlo & ~0xfu) != 0) {
			d->bar[i] = ((uint64_t)hi << 32) | (lo & ~0xfu);
			d->bar_size[i] = ~mask + 1;
		}
		if (is64)
			i++;
	}
	pci_write32(d->bus, d->devfn, PCI_COMMAND, cmd & 0xffff);
}

static void find_msix(struct pci_dev *d)
{
	unsigned int off, hops;

	if (!((pci_read32(d->bus, d->devfn, PCI_COMMAND) >> 16) & PCI_STATUS_CAPS))
		return;
	off = pci_read32(d->bus, d->devfn, PCI_CAP_PTR) & 0xfc;
	for (hops = 0; off >= 0x40 && hops < 48; hops++) {
		uint32_t w = pci_read32(d->bus, d->devfn, off);

		if ((w & 0xff) == PCI_CAP_MSIX) {
			d->msix_cap = off;
			d->msix_entries = ((w >> 16) & 0x7ff) + 1;
			d->msix_bir = pci_read32(d->bus, d->devfn, off + 4) & 7;
			return;
		}
		off = (w >> 8) & 0xfc;
	}
}

int pci_find(uint16_t vendor, uint16_t device, struct pci_dev *dev)
{
	for (int bus = 0; bus < 256; bus++) {
		for (int devfn = 0; devfn < 256; devfn++) {
			uint32_t id = pci_read32(bus, devfn, 0);

			if ((id & 0xffff) == 0xffff) {
				if ((devfn & 7) == 0)
					devfn += 7; /* no function 0: no device */
				continue;
			}
			if ((id & 0xffff) != vendor || (id >> 16) != device)
				continue;
			memset(dev, 0, sizeof(*dev));
			dev->bus = bus;
			dev->devfn = devfn;
			dev->vendor = vendor;
			dev->device = device;
			size_bars(dev);
			find_msix(dev);
			return 0;
		}
	}
	return -1;
}
