/*
 * SYS_blk: user programs' access to the block devices (uapi-blk.h over blkdev.h).
 *
 * Data moves straight between the user's buffer and the front end's request pages (the copy
 * callbacks fault user pages in as copy_to_user does), so no kernel buffer sits in between.
 * Invariant: a bad user address stops the transfer with -E_FAULT after what is in flight has
 * finished; nothing the user passes reaches the ring unchecked (blkdev.h checks the range).
 */
#include <kernel.h>
#include <mm.h>
#include <proc.h>
#include <blkdev.h>
#include <uapi-blk.h>

static int to_user(void *ctx, uint64_t off, void *kbuf, size_t len)
{
	return copy_to_user(&current->vm, (uint64_t)ctx + off, kbuf, len) ? -E_FAULT : 0;
}

static int from_user(void *ctx, uint64_t off, void *kbuf, size_t len)
{
	return copy_from_user(&current->vm, kbuf, (uint64_t)ctx + off, len) ? -E_FAULT : 0;
}

long sys_blk(uint64_t op, uint64_t dev, uint64_t sector, uint64_t count, uint64_t ubuf);

long sys_blk(uint64_t op, uint64_t dev, uint64_t sector, uint64_t count, uint64_t ubuf)
{
	if (op != BLK_OP_COUNT && dev >= (uint64_t)blk_count())
		return -E_NODEV;
	switch (op) {
	case BLK_OP_COUNT:
		return blk_count();
	case BLK_OP_INFO: {
		struct blk_uinfo u = {.sector_size = BLK_SECTOR_SIZE};
		uint64_t sectors;
		bool ro;
		int rc = blk_info((unsigned int)dev, &sectors, &ro);

		if (rc == 0)
			rc = blk_info_ext((unsigned int)dev, &u.devid, &u.features);
		if (rc)
			return rc;
		u.sectors = sectors;
		u.readonly = ro;
		return copy_to_user(&current->vm, sector, &u, sizeof(u)) ? -E_FAULT : 0;
	}
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		if (count == 0)
			return 0;
		if (count > BLK_MAX_SECTORS_PER_CALL)
			return -E_INVAL;
		return blk_transfer((unsigned int)dev, op == BLK_OP_WRITE, sector, (uint32_t)count,
		                    op == BLK_OP_WRITE ? from_user : to_user, (void *)ubuf);
	case BLK_OP_FLUSH:
		return blk_flush((unsigned int)dev);
	case BLK_OP_DISCARD:
		return blk_discard((unsigned int)dev, sector, count);
	case BLK_OP_HOSTILE: {
		bool ro_refused;
		int n = blk_hostile((unsigned int)dev, &ro_refused);

		return n < 0 ? n : n | (ro_refused ? BLK_HOSTILE_RO_REFUSED : 0);
	}
	case BLK_OP_HOSTILE_RING:
		return blk_hostile_ring((unsigned int)dev);
	default:
		return -E_INVAL;
	}
}
