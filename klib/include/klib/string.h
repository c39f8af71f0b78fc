/*
 * klib string and memory functions: the subset of <string.h>, <stdlib.h> and <ctype.h> that hv
 * and guest-kernel use. Same names and semantics as ISO C, so the compiler's own calls to
 * memcpy/memset/memmove/memcmp land here.
 */
#ifndef KLIB_STRING_H
#define KLIB_STRING_H

#include <klib/compiler.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);

size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strstr(const char *haystack, const char *needle);
/* Copies at most size-1 bytes and always terminates (when size > 0); returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);

/*
 * strtoul/strtoull/strtol: base 0 accepts 0x (hex), 0 (octal) and decimal prefixes. *end (when
 * not NULL) points just after the last digit used; overflow saturates at the type's maximum.
 */
unsigned long strtoul(const char *s, char **end, int base);
unsigned long long strtoull(const char *s, char **end, int base);
long strtol(const char *s, char **end, int base);

static inline int isdigit(int c)
{
	return c >= '0' && c <= '9';
}

static inline int isxdigit(int c)
{
	return isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static inline int isspace(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static inline int isalpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int tolower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

#endif
