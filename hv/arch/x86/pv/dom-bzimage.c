/*
 * Linux bzImages for the PV builder: a bzImage (boot protocol 2.08 or later) carries its ELF
 * vmlinux compressed in the payload (setup_sects, payload_offset at 0x248, payload_length at
 * 0x24c); the compression is recognised by its magic bytes, as Xen's and libxenguest's
 * loaders do. hv decodes xz (what Debian's kernels use: CONFIG_KERNEL_XZ); the other formats
 * are named in the refusal so that the reason is plain.
 *
 * Pure code except pv_bzimage_unpack (at the end), which allocates hv memory for the ELF: the
 * rest reads the image and writes the caller's buffer only; the image may come from a domain
 * through the control interface, so every field is checked against the image size.
 */
#include "dom-bzimage.h"

#include <hv/lib.h>
#include <hv/mm.h>
#include <hv/time.h>
#include <asm/processor.h>

#include "../../../common/decompress/xz.h"

/* No PV Linux decodes to more than this (Debian's 6.1 is 64 MiB): a larger stated size is a
 * damaged or hostile header, refused before hv tries to find that much contiguous memory. */
#define ELF_SIZE_MAX (256UL << 20)

#define SETUP_SECTS      0x1f1
#define HEADER_MAGIC     0x202 /* "HdrS" */
#define PROTOCOL_VERSION 0x206
#define PAYLOAD_OFFSET   0x248
#define PAYLOAD_LENGTH   0x24c
#define HEADER_END       0x250

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool pv_is_bzimage(const void *image, size_t size)
{
	const uint8_t *p = image;

	return size >= HEADER_END && p[HEADER_MAGIC] == 'H' && p[HEADER_MAGIC + 1] == 'd' &&
	       p[HEADER_MAGIC + 2] == 'r' && p[HEADER_MAGIC + 3] == 'S';
}

static const char *compression_name(const uint8_t *p, size_t len)
{
	static const struct {
		const char *name;
		uint8_t magic[6];
		size_t len;
	} formats[] = {
	    {"gzip", {0x1f, 0x8b}, 2},
	    {"bzip2", {'B', 'Z', 'h'}, 3},
	    {"lzma", {0x5d, 0x00}, 2},
	    {"lzo", {0x89, 'L', 'Z'}, 3},
	    {"lz4", {0x02, 0x21, 0x4c, 0x18}, 4},
	    {"zstd", {0x28, 0xb5, 0x2f, 0xfd}, 4},
	};

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		size_t j = 0;

		while (j < formats[i].len && j < len && p[j] == formats[i].magic[j])
			j++;
		if (j == formats[i].len)
			return formats[i].name;
	}
	return NULL;
}

int pv_bzimage_payload(const void *image, size_t size, const uint8_t **payload, size_t *len,
                       size_t *elf_size, const char **why)
{
	const uint8_t *p = image;
	size_t setup, start, plen;
	const char *name;

	if (!pv_is_bzimage(image, size)) {
		*why = "not a bzImage";
		return -1;
	}
	if ((p[PROTOCOL_VERSION] | p[PROTOCOL_VERSION + 1] << 8) < 0x208) {
		*why = "bzImage boot protocol older than 2.08 (no payload fields)";
		return -1;
	}
	setup = p[SETUP_SECTS] ? p[SETUP_SECTS] : 4;
	start = (setup + 1) * 512;
	plen = rd32(p + PAYLOAD_LENGTH);
	if (start > size || rd32(p + PAYLOAD_OFFSET) > size - start ||
	    plen > size - start - rd32(p + PAYLOAD_OFFSET) || plen < 16) {
		*why = "the bzImage payload lies outside the file";
		return -1;
	}
	start += rd32(p + PAYLOAD_OFFSET);
	p += start;
	if (!(plen >= 6 && p[0] == 0xfd && p[1] == '7' && p[2] == 'z' && p[3] == 'X' &&
	      p[4] == 'Z' && p[5] == 0)) {
		name = compression_name(p, plen);
		*why = name && name[0] == 'g'   ? "bzImage payload is gzip: hv decodes xz only"
		       : name && name[0] == 'z' ? "bzImage payload is zstd: hv decodes xz only"
		       : name ? "bzImage payload compression is not xz: hv decodes "
		                "xz only"
		              : "bzImage payload compression not recognised";
		return -1;
	}
	/* The kernel's build appends the uncompressed size (le32) to every compressed payload. */
	*payload = p;
	*len = plen - 4;
	*elf_size = rd32(p + plen - 4);
	if (*elf_size < 64) {
		*why = "the bzImage's uncompressed size is implausible";
		return -1;
	}
	return 0;
}

int pv_bzimage_decompress(const uint8_t *payload, size_t len, void *out, size_t out_size,
                          const char **why)
{
	size_t got;

	if (xz_decompress(payload, len, out, out_size, &got, why))
		return -1;
	if (got != out_size) {
		*why = "the bzImage payload does not decode to the size it states";
		return -1;
	}
	return 0;
}

void *pv_bzimage_unpack(const void *image, size_t *size, unsigned int *order, const char *who,
                        const char **why)
{
	const uint8_t *payload;
	size_t len, elf_size;
	uint64_t t0 = rdtsc();
	void *elf;

	if (pv_bzimage_payload(image, *size, &payload, &len, &elf_size, why))
		return NULL;
	if (elf_size > ELF_SIZE_MAX) {
		*why = "the bzImage states an uncompressed size above 256 MiB";
		return NULL;
	}
	for (*order = 0; (PAGE_SIZE << *order) < elf_size; (*order)++)
		;
	elf = alloc_pages_virt(*order);
	if (!elf) {
		*why = "no contiguous hv memory to decompress the bzImage into";
		return NULL;
	}
	if (pv_bzimage_decompress(payload, len, elf, elf_size, why)) {
		free_pages_virt(elf, *order);
		return NULL;
	}
	printk("%s: bzImage: xz payload of %lu KiB decoded to a %lu KiB ELF in %lu ms\n", who,
	       (unsigned long)len >> 10, (unsigned long)elf_size >> 10,
	       (unsigned long)((rdtsc() - t0) / tsc_khz));
	*size = elf_size;
	return elf;
}
