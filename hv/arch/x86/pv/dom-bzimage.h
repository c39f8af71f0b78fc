/*
 * Linux bzImages as PV kernel images (dom-bzimage.c): find the compressed ELF payload, learn
 * its uncompressed size, decode it into a buffer the caller provides; the ELF then goes to
 * pv_elf_parse like any PV kernel.
 */
#ifndef HV_PV_DOM_BZIMAGE_H
#define HV_PV_DOM_BZIMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool pv_is_bzimage(const void *image, size_t size);

/* The compressed payload [*payload, +*len) and the size of the ELF it holds; 0 or -1 + *why. */
int pv_bzimage_payload(const void *image, size_t size, const uint8_t **payload, size_t *len,
                       size_t *elf_size, const char **why);

/* Decode the payload into out[0, out_size) (out_size from pv_bzimage_payload). */
int pv_bzimage_decompress(const uint8_t *payload, size_t len, void *out, size_t out_size,
                          const char **why);

/*
 * The ELF of a bzImage in fresh hv memory (2^*order pages, free it with free_pages_virt once
 * the builder has copied it); *size becomes the ELF's size. Says on hv's console, named who,
 * how long the decode took. NULL and *why if the image cannot be decoded or memory is short.
 */
void *pv_bzimage_unpack(const void *image, size_t *size, unsigned int *order, const char *who,
                        const char **why);

#endif
