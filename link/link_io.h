/*
 * The messages of the management link's data channels: block (HVLINK_CHAN_BLOCK) and network
 * (HVLINK_CHAN_NET). Framing in link_proto.h; the devices themselves are added on the control
 * channel (HVLINK_CTL_DEVICE_ADD, link_ctl.h).
 *
 * Block channel: here dom0 asks and the host answers (the reverse of the control channel).
 * dom0's block back end sends HVLINK_MSG_REQUEST records on the G2H ring, one per guest request
 * (or part of one); the host does real I/O on the file it attached to (domid, devid) and answers
 * on the H2G ring with the same id: status 0 or -HVLINK_E* (EIO, EROFS for a write to a
 * read-only disk, EINVAL for a range beyond the disk, ENOENT for no such disk). A READ's answer
 * carries nr_sectors * 512 bytes; a WRITE's request carries them after the struct. FLUSH is
 * answered only once the file's data is on stable storage (fdatasync). Several requests may be
 * in flight; answers may come in any order.
 *
 * Network channel: Ethernet frames, both ways, as HVLINK_MSG_NOREPLY records of type
 * HVLINK_NET_FRAME: struct hvlink_net_frame then the frame (14-byte header, no FCS, at most
 * HVLINK_NET_MAX_FRAME bytes). H2G: a frame the host's TAP of VIF (domid, devid) received; it
 * enters dom0's switch on that TAP's port. G2H: a frame dom0's switch sends out of that TAP's
 * port. A frame for a VIF the other side does not know is dropped and counted, not answered.
 */
#ifndef HVLINK_LINK_IO_H
#define HVLINK_LINK_IO_H

#include <stdint.h>

#define HVLINK_SECTOR_SIZE 512u

enum hvlink_blk_op {
	HVLINK_BLK_READ = 1,    /* hvlink_blk_req -> nr_sectors * 512 bytes */
	HVLINK_BLK_WRITE = 2,   /* hvlink_blk_req + nr_sectors * 512 bytes -> (none) */
	HVLINK_BLK_FLUSH = 3,   /* hvlink_blk_req (sector, nr_sectors 0) -> (none) */
	HVLINK_BLK_DISCARD = 4, /* hvlink_blk_req -> (none): the range reads back as zeroes */
};

struct hvlink_blk_req {
	uint32_t domid;
	uint16_t devid;
	uint16_t reserved0;
	uint64_t sector;     /* first 512-byte sector */
	uint32_t nr_sectors; /* READ/WRITE: at most the ring's max_msg / 512 */
	uint32_t reserved1;
};

enum hvlink_net_op {
	HVLINK_NET_FRAME = 1, /* hvlink_net_frame + the frame (NOREPLY) */
};

#define HVLINK_NET_MAX_FRAME 1514u /* Ethernet without FCS, MTU 1500 */

struct hvlink_net_frame {
	uint32_t domid;
	uint16_t devid;
	uint16_t reserved;
};

_Static_assert(sizeof(struct hvlink_blk_req) == 24, "blk req");
_Static_assert(sizeof(struct hvlink_net_frame) == 8, "net frame");

#endif
