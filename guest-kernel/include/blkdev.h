/*
 * Block devices as the kernel sees them (arch/pv/blkfront.c: Xen's blkif front end). Devices
 * are numbered 0..blk_count()-1 in the order they were connected; sectors are 512 bytes.
 * Natively (no hypervisor) there are none.
 *
 * A transfer of any length is split into ring requests of up to 11 pages each, several in
 * flight at once; the call returns when every part has been answered. Functions return 0 or a
 * negative Xen errno: -XEN_ENODEV (no such device), -XEN_EINVAL (range beyond the disk),
 * -XEN_EROFS (write to a read-only disk), -XEN_EOPNOTSUPP (the back end lacks the feature),
 * -XEN_EIO (the back end answered an error or stopped answering), -XEN_EFAULT (a copy failed).
 */
#ifndef GK_BLKDEV_H
#define GK_BLKDEV_H

#include <klib/compiler.h>

#define BLK_SECTOR_SIZE 512u

/* What the back end advertised. */
#define BLK_FEATURE_FLUSH   0x1u
#define BLK_FEATURE_DISCARD 0x2u

int blk_count(void);
/* Size in sectors and whether the disk is read-only; any pointer may be NULL. */
int blk_info(unsigned int dev, uint64_t *sectors, bool *readonly);
/* The XenBus device id (51712 = xvda) and BLK_FEATURE_* bits. */
int blk_info_ext(unsigned int dev, unsigned int *devid, unsigned int *features);

/* buf: kernel memory, count * 512 bytes. */
int blk_read(unsigned int dev, uint64_t sector, uint32_t count, void *buf);
int blk_write(unsigned int dev, uint64_t sector, uint32_t count, const void *buf);
/* Returns once everything written before is on stable storage. */
int blk_flush(unsigned int dev);
/* The range may read back as zeroes afterwards. */
int blk_discard(unsigned int dev, uint64_t sector, uint64_t count);

/*
 * The general transfer: the data goes through `copy`, called for consecutive pieces of the
 * transfer (off = byte offset in it, at most one page each): for a write it fills kbuf from
 * the caller's data, for a read it takes kbuf's bytes to the caller. A non-zero return from
 * copy stops the transfer (what is in flight completes) and is returned.
 */
typedef int (*blk_copy_fn)(void *ctx, uint64_t off, void *kbuf, size_t len);
int blk_transfer(unsigned int dev, bool write, uint64_t sector, uint32_t count, blk_copy_fn copy,
                 void *ctx);

/*
 * Test of the back end's defences: sends requests a hostile guest could (bad segment counts
 * and sector ranges, bad grant refs, unknown operations, a write to a read-only disk) and
 * checks each is refused, then that an honest read still works. Returns the number refused
 * (*ro_write_refused says whether the read-only case ran and was refused) or -XEN_EIO.
 */
int blk_hostile(unsigned int dev, bool *ro_write_refused);
/* Publishes an impossible request index (the back end must stop the device); the device is
 * unusable afterwards. */
int blk_hostile_ring(unsigned int dev);

#endif
