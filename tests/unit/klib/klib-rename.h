/*
 * Host unit tests compile klib's real sources into the test program. klib uses the ISO C names
 * (memcpy, snprintf, ...), which would clash with the host C library, so the tests include this
 * header first: it renames every klib function to klib_<name>, leaving the host's own functions
 * available as a reference to compare against.
 */
#ifndef KLIB_RENAME_H
#define KLIB_RENAME_H

/* Host headers first, so that the renames below do not touch their declarations. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The host's own functions, kept as references before the renames hide their names. */
static int (*const host_snprintf)(char *, size_t, const char *, ...) = snprintf;
static unsigned long (*const host_strtoul)(const char *, char **, int) = strtoul;
static long (*const host_strtol)(const char *, char **, int) = strtol;
static int (*const host_strcmp)(const char *, const char *) = strcmp;
static int (*const host_strncmp)(const char *, const char *, size_t) = strncmp;
static int (*const host_memcmp)(const void *, const void *, size_t) = memcmp;

#define memcpy    klib_memcpy
#define memmove   klib_memmove
#define memset    klib_memset
#define memcmp    klib_memcmp
#define memchr    klib_memchr
#define strlen    klib_strlen
#define strnlen   klib_strnlen
#define strcmp    klib_strcmp
#define strncmp   klib_strncmp
#define strchr    klib_strchr
#define strrchr   klib_strrchr
#define strstr    klib_strstr
#define strlcpy   klib_strlcpy
#define strtoul   klib_strtoul
#define strtoull  klib_strtoull
#define strtol    klib_strtol
#define isdigit   klib_isdigit
#define isxdigit  klib_isxdigit
#define isspace   klib_isspace
#define isalpha   klib_isalpha
#define tolower   klib_tolower
#define vsnprintf klib_vsnprintf
#define snprintf  klib_snprintf

#endif
