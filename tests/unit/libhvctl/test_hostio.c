/*
 * The host's side of split I/O (libhvctl/hostio.c, devices.c): the block server and the TAPs
 * in the process that holds the link, and the device calls. The machine is
 * tests/unit/libhvctl/fake-machine (the real link, relay and hostio; the fake agent plays dom0's
 * back ends through its test operations, fake_agent.h):
 *
 *  - DEVICE_ADD / REMOVE reach the agent and are checked (kind, duplicates, missing);
 *  - a disk attached to a file: a 68 KiB write lands in the file at the right offset, reads
 *    back the same (CRC of the whole answer), flush and discard succeed and discard reads back
 *    as zeroes; counters count them;
 *  - a read-only disk refuses writes and discards with EROFS and leaves the file alone;
 *  - ranges beyond the end, zero-length requests, unknown disks, unknown operations, short or
 *    inconsistent payloads are each answered with their error, and the server goes on;
 *  - destroying the domain (or removing the device) detaches its backing;
 *  - with CAP_NET_ADMIN: a TAP per interface, frames both ways (dom0 -> TAP seen on a packet
 *    socket; the host's ARP for an address on the TAP's subnet reaches dom0), name clashes
 *    refused, the TAP gone after detach. Skipped (with a note) without the capability.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "fake_agent.h"
#include "hvctl-machine.h"
#include "internal.h"
#include "relay.h"

/* The machine to run: the TSan build of this test runs the TSan build of fake-machine. */
#ifndef FAKE_MACHINE
#define FAKE_MACHINE "tests/unit/libhvctl/fake-machine"
#endif

static pid_t fm_pid;
static char dir[64];

static void cleanup(void)
{
	if (fm_pid > 0)
		kill(fm_pid, SIGKILL);
}

static void on_alarm(int sig)
{
	(void)sig;
	cleanup();
	_exit(1);
}

static void start_fake_machine(void)
{
	char ready[128];
	int i;

	fm_pid = fork();
	REQUIRE(fm_pid >= 0);
	if (fm_pid == 0) {
		execl(FAKE_MACHINE, "fake-machine", dir, (char *)NULL);
		_exit(127);
	}
	snprintf(ready, sizeof(ready), "%s/ready", dir);
	for (i = 0; i < 1200 && access(ready, F_OK) != 0; i++) /* 30 s: a busy host */
		usleep(25000);
	REQUIRE(access(ready, F_OK) == 0);
}

static uint32_t new_domain(hvctl *h)
{
	hvctl_domain_create_args a = {
	    .max_vcpus = 1, .max_mem_kib = 65536, .current_mem_kib = 65536};
	uint32_t domid = 0;

	REQUIRE(hvctl_domain_create(h, &a, &domid) == HVCTL_OK);
	return domid;
}

/* ---- block requests as dom0 sends them ---- */

struct blk_answer {
	int rc;         /* core_call's result */
	int status;     /* the host's status (0 or -errno) */
	uint32_t len;   /* bytes it answered */
	uint32_t crc32; /* of them */
	uint8_t head[FAKE_BLK_HEAD];
};

static struct blk_answer blk_fill(hvctl *h, uint32_t type, const void *payload, uint32_t len,
                                  uint32_t fill_len, uint32_t seed)
{
	uint8_t *req = malloc(sizeof(struct fake_blk_op) + len);
	uint8_t *rsp = malloc(sizeof(struct fake_blk_result) + FAKE_BLK_HEAD);
	struct fake_blk_op op = {.blk_type = type, .fill_len = fill_len, .seed = seed};
	struct blk_answer a;
	hvctl_error err = {0};
	uint32_t got = 0;

	memset(&a, 0, sizeof(a));
	memcpy(req, &op, sizeof(op));
	if (len)
		memcpy(req + sizeof(op), payload, len);
	a.rc = core_call(h, HVLINK_CHAN_CONTROL, FAKE_OP_BLOCK, req, (uint32_t)sizeof(op) + len,
	                 rsp, (uint32_t)sizeof(struct fake_blk_result) + FAKE_BLK_HEAD, &got, &err);
	a.status = a.rc == HVCTL_OK ? 0 : -err.remote_errno;
	if (a.rc == HVCTL_OK && got >= sizeof(struct fake_blk_result)) {
		struct fake_blk_result res;

		memcpy(&res, rsp, sizeof(res));
		a.len = res.len;
		a.crc32 = res.crc32;
		memcpy(a.head, rsp + sizeof(res), got - sizeof(res));
	}
	if (a.rc != HVCTL_OK && a.status == 0)
		fprintf(stderr, "block call: %s\n", err.message);
	free(req);
	free(rsp);
	return a;
}

static struct blk_answer blk_raw(hvctl *h, uint32_t type, const void *payload, uint32_t len)
{
	return blk_fill(h, type, payload, len, 0, 0);
}

/* A request for (domid, devid); a WRITE's data is fake_pattern(i, seed), made by the agent. */
static struct blk_answer blk(hvctl *h, uint32_t type, uint32_t domid, uint16_t devid,
                             uint64_t sector, uint32_t nr, uint32_t seed)
{
	struct hvlink_blk_req q = {
	    .domid = domid, .devid = devid, .sector = sector, .nr_sectors = nr};

	return blk_fill(h, type, &q, sizeof(q), type == HVLINK_BLK_WRITE ? nr * 512 : 0, seed);
}

static int make_file(const char *name, size_t size, uint8_t fill, char *path, size_t psize)
{
	uint8_t *buf = malloc(size);
	int fd;

	snprintf(path, psize, "%s/%s", dir, name);
	memset(buf, fill, size);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	REQUIRE(fd >= 0);
	REQUIRE(write(fd, buf, size) == (ssize_t)size);
	free(buf);
	return fd;
}

static const hvctl_backing *find_backing(hvctl_backing *list, unsigned n, uint32_t domid,
                                         hvctl_device_kind kind, unsigned devid)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (list[i].domid == domid && list[i].kind == kind && list[i].devid == devid)
			return &list[i];
	return NULL;
}

static void test_devices(hvctl *h)
{
	uint32_t d = new_domain(h);
	hvctl_device disk = {.kind = HVCTL_DEVICE_DISK, .devid = 51712, .sectors = 2048};
	hvctl_device nic = {
	    .kind = HVCTL_DEVICE_NIC, .devid = 0, .mac = {0x00, 0x16, 0x3e, 1, 2, 3}};
	hvctl_device bad = nic;

	CHECK_EQ(hvctl_disk_devid("xvda"), 51712);
	CHECK_EQ(hvctl_disk_devid("xvdb"), 51728);
	CHECK_EQ(hvctl_disk_devid("sda"), -1);
	CHECK_EQ(hvctl_disk_devid("xvdaa"), -1);
	CHECK_EQ(hvctl_device_add(h, d, &disk), HVCTL_OK);
	CHECK_EQ(hvctl_device_add(h, d, &nic), HVCTL_OK);
	CHECK_EQ(hvctl_device_add(h, d, &disk), HVCTL_ERR_EXISTS);
	bad.mac[0] = 0x01;
	CHECK_EQ(hvctl_device_add(h, d, &bad), HVCTL_ERR_INVALID);
	bad = disk;
	bad.sectors = 0;
	CHECK_EQ(hvctl_device_add(h, d, &bad), HVCTL_ERR_INVALID);
	bad.kind = (hvctl_device_kind)7;
	CHECK_EQ(hvctl_device_add(h, d, &bad), HVCTL_ERR_INVALID);
	CHECK_EQ(hvctl_device_add(h, 9999, &disk), HVCTL_ERR_NO_DOMAIN);
	CHECK_EQ(hvctl_device_remove(h, d, HVCTL_DEVICE_DISK, 51712), HVCTL_OK);
	CHECK_EQ(hvctl_device_remove(h, d, HVCTL_DEVICE_DISK, 51712), HVCTL_ERR_INVALID);
	CHECK(strstr(hvctl_last_error()->message, "no device") != NULL);
	CHECK_EQ(hvctl_device_remove(h, d, HVCTL_DEVICE_NIC, 0), HVCTL_OK);
	CHECK_EQ(hvctl_domain_destroy(h, d), HVCTL_OK);
}

static void test_block(hvctl *h)
{
	const uint32_t nr = 136; /* 68 KiB: more than one 64 KiB guest request */
	uint32_t d = new_domain(h);
	uint8_t *pat = malloc(nr * 512), *back = malloc(nr * 512), zero[4096] = {0};
	char path[128], ropath[128];
	int fd = make_file("disk.img", 1 << 20, 0xee, path, sizeof(path));
	int rofd = make_file("ro.img", 64 << 10, 0x5a, ropath, sizeof(ropath));
	hvctl_backing list[8];
	const hvctl_backing *b;
	struct blk_answer a;
	uint64_t sectors = 0;
	unsigned n = 0, i;

	for (i = 0; i < nr * 512; i++)
		pat[i] = fake_pattern(i, 7);
	CHECK_EQ(hvctl_disk_attach(h, d, 51712, path, 0, &sectors), HVCTL_OK);
	CHECK_EQ(sectors, 2048);
	CHECK_EQ(hvctl_disk_attach(h, d, 51728, ropath, 1, &sectors), HVCTL_OK);
	CHECK_EQ(sectors, 128);
	CHECK_EQ(hvctl_disk_attach(h, d, 51744, "/nonexistent/disk", 0, NULL), HVCTL_ERR_INVALID);
	CHECK_EQ(hvctl_disk_attach(h, d, 51744, dir, 0, NULL), HVCTL_ERR_INVALID);
	CHECK(strstr(hvctl_last_error()->message, "neither a file") != NULL);

	/* Write, read back, flush: the bytes are in the file where the sectors say. */
	a = blk(h, HVLINK_BLK_WRITE, d, 51712, 100, nr, 7);
	CHECK_EQ(a.rc, HVCTL_OK);
	CHECK_EQ(a.len, 0);
	CHECK_EQ(pread(fd, back, nr * 512, 100 * 512), (ssize_t)(nr * 512));
	CHECK(memcmp(back, pat, nr * 512) == 0);
	a = blk(h, HVLINK_BLK_READ, d, 51712, 100, nr, 0);
	CHECK_EQ(a.rc, HVCTL_OK);
	CHECK_EQ(a.len, nr * 512);
	CHECK_EQ(a.crc32, fake_crc32(pat, nr * 512));
	CHECK(memcmp(a.head, pat, FAKE_BLK_HEAD) == 0);
	a = blk(h, HVLINK_BLK_READ, d, 51712, 99, 1, 0); /* the sector before is untouched */
	CHECK_EQ(a.rc, HVCTL_OK);
	CHECK(a.len == 512 && a.head[0] == 0xee && a.head[511] == 0xee);
	a = blk(h, HVLINK_BLK_FLUSH, d, 51712, 0, 0, 0);
	CHECK_EQ(a.rc, HVCTL_OK);

	/* Discard: the range reads back as zeroes, its neighbours keep their bytes. */
	a = blk(h, HVLINK_BLK_DISCARD, d, 51712, 104, 8, 0);
	CHECK_EQ(a.rc, HVCTL_OK);
	a = blk(h, HVLINK_BLK_READ, d, 51712, 104, 8, 0);
	CHECK_EQ(a.rc, HVCTL_OK);
	CHECK(a.len == 4096 && memcmp(a.head, zero, 4096) == 0);
	CHECK_EQ(pread(fd, back, 512, 103 * 512), 512);
	CHECK(memcmp(back, pat + 3 * 512, 512) == 0);
	CHECK_EQ(pread(fd, back, 512, 112 * 512), 512);
	CHECK(memcmp(back, pat + 12 * 512, 512) == 0);

	/* The last sector is in range; one more is not. */
	CHECK_EQ(blk(h, HVLINK_BLK_READ, d, 51712, 2047, 1, 0).rc, HVCTL_OK);
	a = blk(h, HVLINK_BLK_READ, d, 51712, 2047, 2, 0);
	CHECK_EQ(a.status, -HVLINK_EINVAL);
	a = blk(h, HVLINK_BLK_WRITE, d, 51712, 2048, 1, 7);
	CHECK_EQ(a.status, -HVLINK_EINVAL);
	a = blk(h, HVLINK_BLK_READ, d, 51712, UINT64_MAX / 512 + 5, 1, 0);
	CHECK_EQ(a.status, -HVLINK_EINVAL);
	a = blk(h, HVLINK_BLK_READ, d, 51712, 0, 0, 0);
	CHECK_EQ(a.status, -HVLINK_EINVAL);
	a = blk(h, HVLINK_BLK_DISCARD, d, 51712, 2000, 100, 0);
	CHECK_EQ(a.status, -HVLINK_EINVAL);

	/* Read-only: reads work, writes and discards are refused, the file is unchanged. */
	a = blk(h, HVLINK_BLK_READ, d, 51728, 0, 8, 0);
	CHECK(a.rc == HVCTL_OK && a.len == 4096 && a.head[0] == 0x5a);
	a = blk(h, HVLINK_BLK_WRITE, d, 51728, 0, 1, 7);
	CHECK_EQ(a.status, -HVLINK_EROFS);
	a = blk(h, HVLINK_BLK_DISCARD, d, 51728, 0, 1, 0);
	CHECK_EQ(a.status, -HVLINK_EROFS);
	CHECK_EQ(blk(h, HVLINK_BLK_FLUSH, d, 51728, 0, 0, 0).rc, HVCTL_OK);
	CHECK_EQ(pread(rofd, back, 512, 0), 512);
	CHECK(back[0] == 0x5a && back[511] == 0x5a);

	/* Nothing attached there. */
	CHECK_EQ(blk(h, HVLINK_BLK_READ, d + 100, 51712, 0, 1, 0).status, -HVLINK_ENOENT);
	CHECK_EQ(blk(h, HVLINK_BLK_READ, d, 51760, 0, 1, 0).status, -HVLINK_ENOENT);

	/* Garbage: each gets its error, and the server goes on. */
	{
		struct hvlink_blk_req q = {
		    .domid = d, .devid = 51712, .sector = 0, .nr_sectors = 2};
		uint8_t buf[sizeof(q) + 512];

		CHECK_EQ(blk_raw(h, 99, &q, sizeof(q)).status, -HVLINK_ENOSYS);
		CHECK_EQ(blk_raw(h, HVLINK_BLK_READ, &q, 10).status, -HVLINK_EINVAL);
		CHECK_EQ(blk_raw(h, HVLINK_BLK_READ, NULL, 0).status, -HVLINK_EINVAL);
		memcpy(buf, &q, sizeof(q));
		memset(buf + sizeof(q), 0x77, 512);
		/* A write of 2 sectors carrying 1: refused, nothing written. */
		CHECK_EQ(blk_raw(h, HVLINK_BLK_WRITE, buf, sizeof(buf)).status, -HVLINK_EINVAL);
		CHECK_EQ(pread(fd, back, 512, 0), 512);
		CHECK_EQ(back[0], 0xee);
		/* A read with bytes after its struct. */
		CHECK_EQ(blk_raw(h, HVLINK_BLK_READ, buf, sizeof(buf)).status, -HVLINK_EINVAL);
	}
	a = blk(h, HVLINK_BLK_READ, d, 51712, 100, 1, 0);
	CHECK(a.rc == HVCTL_OK && memcmp(a.head, pat, 512) == 0);

	/* The holder counts what it did. */
	CHECK_EQ(hvctl_backing_list(h, list, 8, &n), HVCTL_OK);
	b = find_backing(list, n, d, HVCTL_DEVICE_DISK, 51712);
	CHECK(b != NULL);
	if (b) {
		CHECK_EQ(b->ops[0], 5); /* reads */
		CHECK_EQ(b->ops[1], 1); /* writes */
		CHECK_EQ(b->ops[2], 1); /* flushes */
		CHECK_EQ(b->ops[3], 1); /* discards */
		CHECK_EQ(b->bytes[1], nr * 512);
		CHECK(b->errors >= 5);
		CHECK(!b->readonly && b->sectors == 2048 && strcmp(b->name, path) == 0);
	}
	b = find_backing(list, n, d, HVCTL_DEVICE_DISK, 51728);
	CHECK(b != NULL && b->readonly);

	/* Removing the device detaches its backing; destroying the domain detaches the rest. */
	{
		hvctl_device dev = {.kind = HVCTL_DEVICE_DISK, .devid = 51728, .sectors = 128};

		CHECK_EQ(hvctl_device_add(h, d, &dev), HVCTL_OK);
		CHECK_EQ(hvctl_device_remove(h, d, HVCTL_DEVICE_DISK, 51728), HVCTL_OK);
	}
	CHECK_EQ(hvctl_backing_list(h, list, 8, &n), HVCTL_OK);
	CHECK(find_backing(list, n, d, HVCTL_DEVICE_DISK, 51728) == NULL);
	CHECK(find_backing(list, n, d, HVCTL_DEVICE_DISK, 51712) != NULL);
	CHECK_EQ(hvctl_domain_destroy(h, d), HVCTL_OK);
	CHECK_EQ(hvctl_backing_list(h, list, 8, &n), HVCTL_OK);
	CHECK(find_backing(list, n, d, HVCTL_DEVICE_DISK, 51712) == NULL);
	CHECK_EQ(blk(h, HVLINK_BLK_READ, d, 51712, 0, 1, 0).status, -HVLINK_ENOENT);
	CHECK_EQ(hvctl_device_detach(h, d, HVCTL_DEVICE_DISK, 51712), HVCTL_ERR_INVALID);

	close(fd);
	close(rofd);
	free(pat);
	free(back);
}

/* Host operations as a hostile client could send them: each refused, nothing attached. */
static void test_host_op_garbage(hvctl *h)
{
	static struct relay_host_disk disk;
	struct relay_host_nic nic = {.domid = 1, .devid = 0};
	uint8_t rsp[64];
	hvctl_error err = {0};
	hvctl_backing list[4];
	uint32_t got;
	unsigned n = 9;

#define HOST_OP(op, req, len)                                                                      \
	core_call(h, RELAY_CHAN_HOST, op, req, len, rsp, sizeof(rsp), &got, &err)
	CHECK_EQ(HOST_OP(99, NULL, 0), HVCTL_ERR_UNSUPPORTED);
	CHECK_EQ(HOST_OP(0, NULL, 0), HVCTL_ERR_UNSUPPORTED);
	CHECK_EQ(HOST_OP(RELAY_HOST_DISK_ATTACH, &disk, 10), HVCTL_ERR_INVALID);
	CHECK(strstr(err.message, "expected") != NULL);
	memset(&disk, 'a', sizeof(disk)); /* no NUL anywhere in the path */
	disk.flags = 0;
	CHECK_EQ(HOST_OP(RELAY_HOST_DISK_ATTACH, &disk, sizeof(disk)), HVCTL_ERR_INVALID);
	memset(&disk, 0, sizeof(disk));
	strcpy(disk.path, "relative/disk.img");
	CHECK_EQ(HOST_OP(RELAY_HOST_DISK_ATTACH, &disk, sizeof(disk)), HVCTL_ERR_INVALID);
	strcpy(disk.path, "/dev/null");
	disk.flags = 0x80;
	CHECK_EQ(HOST_OP(RELAY_HOST_DISK_ATTACH, &disk, sizeof(disk)), HVCTL_ERR_INVALID);
	CHECK(strstr(err.message, "flags") != NULL);
	disk.flags = RELAY_HOST_RO; /* a character device: not a disk */
	CHECK_EQ(HOST_OP(RELAY_HOST_DISK_ATTACH, &disk, sizeof(disk)), HVCTL_ERR_INVALID);
	/* A FIFO nobody writes to: refused at once (opening it must not wait for a writer). */
	snprintf(disk.path, sizeof(disk.path), "%s/fifo", dir);
	REQUIRE(mkfifo(disk.path, 0600) == 0);
	CHECK_EQ(HOST_OP(RELAY_HOST_DISK_ATTACH, &disk, sizeof(disk)), HVCTL_ERR_INVALID);
	CHECK(strstr(err.message, "neither a file") != NULL);
	memset(nic.tap, 'x', sizeof(nic.tap)); /* 16 characters, no NUL */
	CHECK_EQ(HOST_OP(RELAY_HOST_NIC_ATTACH, &nic, sizeof(nic)), HVCTL_ERR_INVALID);
	strcpy(nic.tap, "../x");
	CHECK_EQ(HOST_OP(RELAY_HOST_NIC_ATTACH, &nic, sizeof(nic)), HVCTL_ERR_INVALID);
	nic.tap[0] = '\0';
	nic.ipv4 = 0x0100000a;
	nic.prefix = 31;
	CHECK_EQ(HOST_OP(RELAY_HOST_NIC_ATTACH, &nic, sizeof(nic)), HVCTL_ERR_INVALID);
	CHECK_EQ(HOST_OP(RELAY_HOST_DETACH, &nic, 3), HVCTL_ERR_INVALID);
	CHECK_EQ(HOST_OP(RELAY_HOST_LIST, &nic, 4), HVCTL_ERR_INVALID);
#undef HOST_OP
	CHECK_EQ(hvctl_backing_list(h, list, 4, &n), HVCTL_OK);
	CHECK_EQ(n, 0);
}

/* ---- network ---- */

static int net_recv(hvctl *h, uint8_t *buf, uint32_t cap, uint32_t *len)
{
	struct hvlink_ctl_head q = {.interface_version = HVLINK_CTL_INTERFACE_VERSION};
	hvctl_error err = {0};

	return core_call(h, HVLINK_CHAN_CONTROL, FAKE_OP_NET_RECV, &q, sizeof(q), buf, cap, len,
	                 &err);
}

/* A name the kernel chose from the template "hv%d". */
static int is_kernel_name(const char *s)
{
	size_t i;

	if (strncmp(s, "hv", 2) != 0 || !s[2])
		return 0;
	for (i = 2; s[i]; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

static void test_net(hvctl *h)
{
	uint32_t d = new_domain(h);
	char tap[16], name[16], other[16], addr[32], target[32];
	uint8_t frame[8 + 64], got[8 + 1514];
	struct hvlink_net_frame nf = {.domid = d, .devid = 0};
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
	hvctl_error err = {0};
	uint32_t len = 0;
	int ps, us, i, seen;
	hvctl_backing list[8];
	unsigned n;

	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK) != 0) {
		printf("test_hostio: network part skipped (needs root and /dev/net/tun)\n");
		CHECK_EQ(hvctl_domain_destroy(h, d), HVCTL_OK);
		return;
	}
	snprintf(name, sizeof(name), "hvt%u", (unsigned)getpid() % 100000);
	snprintf(addr, sizeof(addr), "10.213.%u.1/24", (unsigned)getpid() % 250);
	snprintf(target, sizeof(target), "10.213.%u.2", (unsigned)getpid() % 250);
	if (hvctl_nic_attach(h, d, 0, name, addr, tap) != HVCTL_OK) {
		printf("test_hostio: network part skipped: %s\n", hvctl_last_error()->message);
		CHECK_EQ(hvctl_domain_destroy(h, d), HVCTL_OK);
		return;
	}
	CHECK(strcmp(tap, name) == 0);
	CHECK(if_nametoindex(tap) != 0);
	/* Default name hv<domid>.<devid> (or, when another machine on this host holds that
	 * name, one the kernel picks: hvN), and a clash of a name asked for. */
	CHECK_EQ(hvctl_nic_attach(h, d, 1, NULL, NULL, other), HVCTL_OK);
	snprintf(name, sizeof(name), "hv%u.1", d);
	CHECK(strcmp(other, name) == 0 || is_kernel_name(other));
	{
		/* This process holds hv<d>.<n> itself (n of its own: the same test may run beside
		 * this one): the holder takes another name. */
		unsigned n3 = 100 + (unsigned)getpid() % 60000, idx;
		struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI};
		int own = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
		char third[16];

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "hv%u.%u", d, n3);
		if (own >= 0 && ioctl(own, TUNSETIFF, &ifr) == 0) {
			CHECK_EQ(hvctl_nic_attach(h, d, n3, NULL, NULL, third), HVCTL_OK);
			idx = if_nametoindex(third);
			CHECK(is_kernel_name(third) && idx != 0);
			CHECK_EQ(hvctl_device_detach(h, d, HVCTL_DEVICE_NIC, n3), HVCTL_OK);
			/* gone (or its name already taken by another machine's new TAP) */
			CHECK(if_nametoindex(third) != idx);
		} else {
			CHECK(!"cannot make a TAP in the test itself");
		}
		if (own >= 0)
			close(own);
	}
	CHECK_EQ(hvctl_nic_attach(h, d, 2, tap, NULL, NULL), HVCTL_ERR_EXISTS);
	CHECK_EQ(hvctl_nic_attach(h, d, 2, "bad name!", NULL, NULL), HVCTL_ERR_INVALID);
	CHECK_EQ(hvctl_nic_attach(h, d, 2, NULL, "10.1.2.3", NULL), HVCTL_ERR_INVALID);

	/* dom0 -> TAP: the frame appears on the host's interface. */
	ps = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	REQUIRE(ps >= 0);
	sll.sll_ifindex = (int)if_nametoindex(tap);
	REQUIRE(bind(ps, (struct sockaddr *)&sll, sizeof(sll)) == 0);
	memcpy(frame, &nf, sizeof(nf));
	memset(frame + 8, 0xff, 6);                                    /* broadcast */
	memcpy(frame + 14, (uint8_t[]){0x00, 0x16, 0x3e, 9, 8, 7}, 6); /* source */
	frame[20] = 0x88;                                              /* local experimental */
	frame[21] = 0xb5;
	memcpy(frame + 22, "hostio says hello", 18);
	CHECK_EQ(core_call(h, HVLINK_CHAN_CONTROL, FAKE_OP_NET_SEND, frame, sizeof(frame), NULL, 0,
	                   NULL, &err),
	         HVCTL_OK);
	seen = 0;
	for (i = 0; i < 40 && !seen; i++) {
		struct pollfd pf = {.fd = ps, .events = POLLIN};
		ssize_t r;

		if (poll(&pf, 1, 50) <= 0)
			continue;
		r = recv(ps, got, sizeof(got), 0);
		if (r == 64 && got[12] == 0x88 && got[13] == 0xb5 &&
		    memcmp(got + 14, "hostio says hello", 18) == 0)
			seen = 1;
	}
	CHECK(seen);

	/* TAP -> dom0: the host's ARP for a neighbour on the TAP's subnet reaches dom0, tagged
	 * with the VIF it came from. */
	us = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	inet_pton(AF_INET, target, &to.sin_addr);
	seen = 0;
	for (i = 0; i < 60 && !seen; i++) {
		if (i % 10 == 0 &&
		    sendto(us, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) < 0) {
			/* EHOSTUNREACH after a failed resolution: try again */
		}
		while (!seen && net_recv(h, got, sizeof(got), &len) == HVCTL_OK) {
			struct hvlink_net_frame f;

			memcpy(&f, got, sizeof(f));
			if (len >= 8 + 42 && f.domid == d && f.devid == 0 && got[8 + 12] == 0x08 &&
			    got[8 + 13] == 0x06) {
				struct in_addr tpa;

				memcpy(&tpa, got + 8 + 38, 4);
				seen = strcmp(inet_ntoa(tpa), target) == 0;
			}
		}
		usleep(50000);
	}
	CHECK(seen);
	close(us);
	close(ps);

	CHECK_EQ(hvctl_backing_list(h, list, 8, &n), HVCTL_OK);
	{
		const hvctl_backing *b = find_backing(list, n, d, HVCTL_DEVICE_NIC, 0);

		CHECK(b != NULL && strcmp(b->name, tap) == 0 && b->ops[0] >= 1 && b->ops[1] >= 1);
	}
	/* Detached: the TAP is gone at once, and its name free again. */
	CHECK_EQ(hvctl_device_detach(h, d, HVCTL_DEVICE_NIC, 0), HVCTL_OK);
	CHECK_EQ(if_nametoindex(tap), 0);
	CHECK_EQ(hvctl_nic_attach(h, d, 0, tap, NULL, NULL), HVCTL_OK);
	CHECK_EQ(hvctl_domain_detach_all(h, d), HVCTL_OK);
	CHECK_EQ(if_nametoindex(tap), 0);
	CHECK_EQ(if_nametoindex(other), 0);
	/* A domain destroyed and started again under a new id takes its TAP's name at once
	 * (the destroy detaches it on the link thread, without waiting for it to close). */
	for (i = 0; i < 5; i++) {
		uint32_t d2 = new_domain(h);

		CHECK_EQ(hvctl_nic_attach(h, d, 0, tap, NULL, NULL), HVCTL_OK);
		CHECK_EQ(hvctl_domain_destroy(h, d), HVCTL_OK);
		CHECK_EQ(hvctl_nic_attach(h, d2, 0, tap, NULL, NULL), HVCTL_OK);
		d = d2;
	}
	CHECK_EQ(hvctl_domain_destroy(h, d), HVCTL_OK);
	CHECK_EQ(hvctl_backing_list(h, list, 8, &n), HVCTL_OK);
	CHECK_EQ(n, 0);
	for (i = 0; i < 50 && if_nametoindex(tap) != 0; i++)
		usleep(20000);
	CHECK_EQ(if_nametoindex(tap), 0);
}

int main(void)
{
	hvctl *h;

	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	alarm(90);
	atexit(cleanup);
	snprintf(dir, sizeof(dir), "/tmp/test-hostio.XXXXXX");
	REQUIRE(mkdtemp(dir));
	start_fake_machine();
	REQUIRE(hvctl_open_machine(dir, &h) == HVCTL_OK);
	REQUIRE(hvctl_wait_ready(h, 5000) == HVCTL_OK);

	test_devices(h);
	test_host_op_garbage(h);
	test_block(h);
	test_net(h);

	hvctl_close(h);
	kill(fm_pid, SIGTERM);
	{
		int status = -1;

		/* 0: it stopped in order (a ThreadSanitizer build exits 66 after a report). */
		CHECK(waitpid(fm_pid, &status, 0) == fm_pid);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	fm_pid = 0;
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0);
	}
	CHECK_DONE();
}
