/*
 * Reading and writing guest memory from hypercall handlers. Guest pointers are guest virtual
 * addresses, dereferenced through the current vCPU's page tables; a bad pointer gives -EFAULT
 * and never an hv fault (the copies run under an exception fixup and, with SMAP, STAC/CLAC).
 * Only hypercall dispatchers call these: the workers behind them take plain structs.
 */
#ifndef HV_PV_GUEST_ACCESS_H
#define HV_PV_GUEST_ACCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The range is outside hv's reserved addresses and canonical (checked before every copy). */
bool guest_range_ok(uint64_t gva, size_t len);

/* 0, or -EFAULT if any byte of the guest range is not accessible. */
int copy_from_guest(void *dst, uint64_t gva, size_t len);
int copy_to_guest(uint64_t gva, const void *src, size_t len);

#endif
