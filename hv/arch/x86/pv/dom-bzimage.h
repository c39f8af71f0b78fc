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

#endif
