/*
 * copy_from_guest / copy_to_guest (see guest-access.h). The range is checked against hv's
 * reserved range first, so a guest can never make hv read or write hv memory through a
 * hypercall argument; the copy itself is `rep movsq` + `rep movsb` (pv_copy_raw in entry-pv.S)
 * between stac and clac, and a fault on it returns -EFAULT through the fixups in traps-pv.c.
 */
#include <asm/processor.h>

#include "guest-access.h"
#include "pv.h"

/* [gva, gva + len) lies in guest-owned, canonical address space. */
bool guest_range_ok(uint64_t gva, size_t len)
{
	uint64_t end = gva + len;

	if (len == 0)
		return true;
	if (end < gva)
		return false;
	if (end <= 0x0000800000000000ull)
		return true;
	return gva >= HYPERVISOR_VIRT_END;
}

int copy_from_guest(void *dst, uint64_t gva, size_t len)
{
	long left;

	if (!guest_range_ok(gva, len))
		return -EFAULT;
	stac();
	left = pv_copy_raw(dst, (const void *)gva, len);
	clac();
	return left ? -EFAULT : 0;
}

int copy_to_guest(uint64_t gva, const void *src, size_t len)
{
	long left;

	if (!guest_range_ok(gva, len))
		return -EFAULT;
	stac();
	left = pv_copy_raw((void *)gva, src, len);
	clac();
	return left ? -EFAULT : 0;
}
