/*
 * Block devices for user programs: the operations of SYS_blk (uapi.h), served by
 * kernel/sys_blk.c over include/blkdev.h. syscall5(SYS_blk, op, dev, sector, count, buf);
 * results are 0 (or a count) or a negative errno. Sectors are 512 bytes. One call moves at
 * most BLK_MAX_SECTORS_PER_CALL sectors.
 */
#ifndef GK_UAPI_BLK_H
#define GK_UAPI_BLK_H

#define BLK_OP_COUNT        0 /* () -> number of block devices */
#define BLK_OP_INFO         1 /* (dev, struct blk_uinfo *) */
#define BLK_OP_READ         2 /* (dev, sector, count, buf) */
#define BLK_OP_WRITE        3 /* (dev, sector, count, buf) */
#define BLK_OP_FLUSH        4 /* (dev) */
#define BLK_OP_DISCARD      5 /* (dev, sector, count) */
#define BLK_OP_HOSTILE      6 /* (dev) -> requests refused, | BLK_HOSTILE_RO_REFUSED (a test) */
#define BLK_OP_HOSTILE_RING 7 /* (dev): corrupts the ring index; the device is lost (a test) */

#define BLK_HOSTILE_RO_REFUSED 0x10000

#define BLK_MAX_SECTORS_PER_CALL 16384u /* 8 MiB */

#define BLK_UFEATURE_FLUSH   0x1u
#define BLK_UFEATURE_DISCARD 0x2u

#define E_IO        5
#define E_NODEV     19
#define E_ROFS      30
#define E_OPNOTSUPP 95

#ifndef __ASSEMBLY__
struct blk_uinfo {
	unsigned long sectors;
	unsigned int sector_size; /* 512 */
	unsigned int readonly;    /* 1 if writes are refused */
	unsigned int devid;       /* XenBus virtual device (51712 = xvda) */
	unsigned int features;    /* BLK_UFEATURE_* */
};
#endif

#endif
