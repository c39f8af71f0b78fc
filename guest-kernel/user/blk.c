/*
 * blk: a dd-like program for the block devices (SYS_blk, uapi-blk.h).
 *
 *   blk [-d DEV] info                        size, mode, features of each device (or DEV)
 *   blk [-d DEV] write SECTOR COUNT SEED     write COUNT sectors of the pattern SEED
 *   blk [-d DEV] read SECTOR COUNT SEED      read them back and check them against SEED
 *                                            (both print the microseconds spent in I/O)
 *   blk [-d DEV] flush
 *   blk [-d DEV] discard SECTOR COUNT
 *   blk [-d DEV] hostile                     bad requests straight on the ring: each refused?
 *   blk [-d DEV] hostile-ring                an impossible ring index (the device is lost)
 *   blk [-d DEV] bench [MIB]                 sequential write and read of MIB MiB (default 4)
 *                                            from sector 0 (overwrites them; read-only disks
 *                                            are only read), then 4 KiB latency
 *
 * The pattern is a function of (seed, sector, word): any sector read back names what it
 * expected, so a mix-up of sectors or of seeds shows. Success prints one line starting with
 * "blk <op>:" and exits 0; a failure prints "blk: <op> ...: <reason> (<ERRNO>)" on stderr and
 * exits 1 (a pattern mismatch exits 3); a usage error exits 2.
 */
#include "ulib.h"
#include <uapi-blk.h>

#define CHUNK_SECTORS 2048u /* 1 MiB per system call */
#define WORDS         (512 / 8)

static int dev;

static long blk(long op, long d, unsigned long sector, unsigned long count, void *buf)
{
	return syscall5(SYS_blk, op, d, (long)sector, (long)count, (long)buf);
}

static const struct {
	int err;
	const char *name, *text;
} errors[] = {
    {E_IO, "EIO", "I/O error"},
    {E_NODEV, "ENODEV", "No such device"},
    {E_ROFS, "EROFS", "Read-only disk"},
    {E_OPNOTSUPP, "EOPNOTSUPP", "Not supported by the back end"},
    {E_INVAL, "EINVAL", "Invalid argument (beyond the disk?)"},
    {E_FAULT, "EFAULT", "Bad address"},
    {E_NOMEM, "ENOMEM", "Out of memory"},
};

static int fail(const char *what, long rc)
{
	for (size_t i = 0; i < ARRAY_SIZE(errors); i++)
		if (errors[i].err == -rc) {
			dprintf(2, "blk: %s: %s (%s)\n", what, errors[i].text, errors[i].name);
			return 1;
		}
	dprintf(2, "blk: %s: error %ld\n", what, rc);
	return 1;
}

static int usage(void)
{
	dprintf(2, "usage: blk [-d DEV] info | write SECTOR COUNT SEED | read SECTOR COUNT SEED\n"
	           "       blk [-d DEV] flush | discard SECTOR COUNT | hostile | hostile-ring\n"
	           "       blk [-d DEV] bench [MIB]\n");
	return 2;
}

/* The pattern's word w of sector s (splitmix64 of the three). */
static uint64_t pattern(uint64_t seed, uint64_t s, unsigned int w)
{
	uint64_t z = seed * 0x9e3779b97f4a7c15ULL + (s << 7) + w + 1;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void fill(uint64_t *buf, uint64_t seed, uint64_t sector, unsigned long count)
{
	for (unsigned long i = 0; i < count; i++)
		for (unsigned int w = 0; w < WORDS; w++)
			buf[i * WORDS + w] = pattern(seed, sector + i, w);
}

/* The first sector that differs, or -1. */
static long check(const uint64_t *buf, uint64_t seed, uint64_t sector, unsigned long count)
{
	for (unsigned long i = 0; i < count; i++)
		for (unsigned int w = 0; w < WORDS; w++)
			if (buf[i * WORDS + w] != pattern(seed, sector + i, w))
				return (long)i;
	return -1;
}

static uint64_t *chunk_buffer(void)
{
	return mmap(NULL, CHUNK_SECTORS * 512UL, PROT_READ | PROT_WRITE);
}

/* "12.34" for x/100. */
static void print_centi(uint64_t centi)
{
	printf("%lu.%02lu", (unsigned long)(centi / 100), (unsigned long)(centi % 100));
}

static int do_info(void)
{
	long n = blk(BLK_OP_COUNT, 0, 0, 0, NULL);

	if (n < 0)
		return fail("info", n);
	if (n == 0) {
		printf("blk info: no block devices\n");
		return 0;
	}
	for (long d = 0; d < n; d++) {
		struct blk_uinfo u;
		long rc;

		if (dev >= 0 && d != dev)
			continue;
		rc = syscall5(SYS_blk, BLK_OP_INFO, d, (long)&u, 0, 0);
		if (rc)
			return fail("info", rc);
		printf("blk info: blk%ld devid %u sectors %lu (%lu KiB) sector-size %u %s%s%s\n", d,
		       u.devid, u.sectors, u.sectors / 2, u.sector_size,
		       u.readonly ? "read-only" : "read-write",
		       (u.features & BLK_UFEATURE_FLUSH) ? " flush" : "",
		       (u.features & BLK_UFEATURE_DISCARD) ? " discard" : "");
	}
	return 0;
}

/*
 * read/write: in calls of up to BLK_MAX_SECTORS_PER_CALL (8 MiB), so that a transfer up to that
 * size is one stream of requests. The time printed is the time spent in those calls only (not
 * in making or checking the pattern), so that it measures the disk path.
 */
static int do_rw(bool write, uint64_t sector, uint64_t count, uint64_t seed)
{
	unsigned long chunk = (unsigned long)MIN(count, (uint64_t)BLK_MAX_SECTORS_PER_CALL);
	uint64_t *buf = mmap(NULL, (chunk ? chunk : 1) * 512UL, PROT_READ | PROT_WRITE), io = 0;

	if (!buf)
		return fail(write ? "write" : "read", -E_NOMEM);
	for (uint64_t done = 0; done < count;) {
		unsigned long n = (unsigned long)MIN(count - done, (uint64_t)chunk);
		uint64_t t0;
		long rc, bad;

		if (write)
			fill(buf, seed, sector + done, n);
		t0 = uptime_ns();
		rc = blk(write ? BLK_OP_WRITE : BLK_OP_READ, dev, sector + done, n, buf);
		io += uptime_ns() - t0;
		if (rc) {
			char what[64];

			snprintf(what, sizeof(what), "%s %lu sectors at %lu",
			         write ? "write" : "read", n, (unsigned long)(sector + done));
			return fail(what, rc);
		}
		if (!write && (bad = check(buf, seed, sector + done, n)) >= 0) {
			dprintf(2, "blk: read: sector %lu does not hold pattern %lu\n",
			        (unsigned long)(sector + done + (uint64_t)bad),
			        (unsigned long)seed);
			return 3;
		}
		done += n;
	}
	printf("blk %s: %lu sectors at %lu %s seed %lu (%lu us)\n", write ? "write" : "read",
	       (unsigned long)count, (unsigned long)sector, write ? "written" : "verified",
	       (unsigned long)seed, (unsigned long)(io / 1000));
	return 0;
}

/* Sequential MB/s (10^6 bytes/s) of `mib` MiB in 1 MiB calls. */
static int bench_seq(bool write, uint64_t *buf, unsigned long mib)
{
	uint64_t t0 = uptime_ns(), ns;

	for (unsigned long i = 0; i < mib; i++) {
		long rc = blk(write ? BLK_OP_WRITE : BLK_OP_READ, dev, (uint64_t)i * CHUNK_SECTORS,
		              CHUNK_SECTORS, buf);

		if (rc)
			return fail(write ? "bench write" : "bench read", rc);
	}
	ns = uptime_ns() - t0;
	if (ns == 0)
		ns = 1;
	printf("blk bench: sequential %s %lu MiB in %lu us: ", write ? "write" : "read", mib,
	       (unsigned long)(ns / 1000));
	print_centi((uint64_t)mib * 1048576ULL * 100ULL * 1000ULL / ns); /* bytes/us = MB/s */
	printf(" MB/s\n");
	return 0;
}

/* 4 KiB requests one at a time: average, minimum and maximum latency. */
static int bench_latency(bool write, uint64_t *buf, unsigned long span_sectors)
{
	const unsigned int rounds = 200;
	uint64_t sum = 0, lo = ~0ULL, hi = 0, x = 12345;

	for (unsigned int i = 0; i < rounds; i++) {
		uint64_t t0, ns, sector;
		long rc;

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		sector = ((x >> 33) % (span_sectors / 8)) * 8;
		t0 = uptime_ns();
		rc = blk(write ? BLK_OP_WRITE : BLK_OP_READ, dev, sector, 8, buf);
		ns = uptime_ns() - t0;
		if (rc)
			return fail(write ? "bench write 4k" : "bench read 4k", rc);
		sum += ns;
		lo = MIN(lo, ns);
		hi = MAX(hi, ns);
	}
	printf("blk bench: 4k %s latency avg %lu us min %lu us max %lu us (%u requests)\n",
	       write ? "write" : "read", (unsigned long)(sum / rounds / 1000),
	       (unsigned long)(lo / 1000), (unsigned long)(hi / 1000), rounds);
	return 0;
}

static int do_bench(unsigned long mib)
{
	uint64_t *buf = chunk_buffer();
	struct blk_uinfo u;
	long rc = syscall5(SYS_blk, BLK_OP_INFO, dev, (long)&u, 0, 0);

	if (rc)
		return fail("bench", rc);
	if (!buf)
		return fail("bench", -E_NOMEM);
	if ((uint64_t)mib * CHUNK_SECTORS > u.sectors)
		mib = (unsigned long)(u.sectors / CHUNK_SECTORS);
	if (mib == 0) {
		dprintf(2, "blk: bench: the disk is smaller than 1 MiB\n");
		return 1;
	}
	fill(buf, 1, 0, CHUNK_SECTORS);
	if (!u.readonly && (rc = bench_seq(true, buf, mib)))
		return (int)rc;
	if ((rc = bench_seq(false, buf, mib)))
		return (int)rc;
	if (!u.readonly && (rc = bench_latency(true, buf, mib * CHUNK_SECTORS)))
		return (int)rc;
	return bench_latency(false, buf, mib * CHUNK_SECTORS);
}

static bool number(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !*s)
		return false;
	*v = strtoull(s, &end, 0);
	return *end == '\0';
}

int cmd_blk(int argc, char **argv)
{
	uint64_t a, b, c;
	long rc;
	int i = 1;

	dev = -1;
	if (argc > 2 && strcmp(argv[1], "-d") == 0) {
		if (!number(argv[2], &a))
			return usage();
		dev = (int)a;
		i = 3;
	}
	if (i >= argc)
		return usage();
	if (strcmp(argv[i], "info") == 0)
		return do_info();
	if (dev < 0)
		dev = 0;
	if (strcmp(argv[i], "write") == 0 || strcmp(argv[i], "read") == 0) {
		if (argc != i + 4 || !number(argv[i + 1], &a) || !number(argv[i + 2], &b) ||
		    !number(argv[i + 3], &c))
			return usage();
		return do_rw(argv[i][0] == 'w', a, b, c);
	}
	if (strcmp(argv[i], "flush") == 0) {
		if ((rc = blk(BLK_OP_FLUSH, dev, 0, 0, NULL)))
			return fail("flush", rc);
		printf("blk flush: done\n");
		return 0;
	}
	if (strcmp(argv[i], "discard") == 0) {
		if (argc != i + 3 || !number(argv[i + 1], &a) || !number(argv[i + 2], &b))
			return usage();
		if ((rc = blk(BLK_OP_DISCARD, dev, a, b, NULL)))
			return fail("discard", rc);
		printf("blk discard: %lu sectors at %lu\n", (unsigned long)b, (unsigned long)a);
		return 0;
	}
	if (strcmp(argv[i], "hostile") == 0) {
		if ((rc = blk(BLK_OP_HOSTILE, dev, 0, 0, NULL)) < 0)
			return fail("hostile", rc);
		printf("blk hostile: %ld bad requests refused, device still works%s\n",
		       rc & (BLK_HOSTILE_RO_REFUSED - 1),
		       (rc & BLK_HOSTILE_RO_REFUSED) ? ", write to a read-only disk refused" : "");
		return 0;
	}
	if (strcmp(argv[i], "hostile-ring") == 0) {
		if ((rc = blk(BLK_OP_HOSTILE_RING, dev, 0, 0, NULL)) < 0)
			return fail("hostile-ring", rc);
		printf("blk hostile-ring: impossible ring index published, device given up\n");
		return 0;
	}
	if (strcmp(argv[i], "bench") == 0) {
		a = 4;
		if (argc > i + 1 && !number(argv[i + 1], &a))
			return usage();
		return do_bench((unsigned long)a);
	}
	return usage();
}
