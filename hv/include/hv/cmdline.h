/*
 * hv's command line: space-separated `key=value` or bare `key` words. Parsed once at boot into a
 * table; every key is kept, known or not, so later subsystems can look up their own options.
 * When a key appears twice the last one wins. Read-only after cmdline_init().
 */
#ifndef HV_CMDLINE_H
#define HV_CMDLINE_H

#include <klib/compiler.h>

#define CMDLINE_MAX      1024
#define CMDLINE_MAX_ARGS 64

/* Parses @cmdline (copied; NULL is an empty command line). Words past CMDLINE_MAX_ARGS and the
 * part of the line past CMDLINE_MAX bytes are ignored. */
void cmdline_init(const char *cmdline);

/* The command line as given. */
const char *cmdline_raw(void);

/* The value of @key: the text after '=', "" for a bare key, NULL when the key is absent. */
const char *cmdline_get(const char *key);

/* True when @key is present and its value is @value. */
bool cmdline_is(const char *key, const char *value);

/*
 * Parses a size such as "512M", "4G", "1024K" or "65536" (bytes). Returns false (and leaves
 * *bytes alone) when @s is not a valid size.
 */
bool parse_size(const char *s, unsigned long long *bytes);

#endif
