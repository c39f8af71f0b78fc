/*
 * A one-shot .xz decoder (LZMA2 with an optional x86 BCJ filter), enough for the payload of a
 * Linux bzImage built with CONFIG_KERNEL_XZ. Freestanding and pure: no allocation, no global
 * state; the whole output buffer is the LZMA dictionary, so no separate window is needed.
 * It is built into hv and into a host test that compares it with liblzma.
 */
#ifndef HV_DECOMPRESS_XZ_H
#define HV_DECOMPRESS_XZ_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode the .xz stream in[0, in_len) into out[0, out_cap). Returns 0 and the decoded size in
 * *out_len, or -1 with *why saying what is wrong (corrupt input, unsupported filter or check,
 * output larger than out_cap). The integrity check (CRC32, CRC64 or none) is verified.
 */
int xz_decompress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len,
                  const char **why);

#endif
