/*
 * klib string and memory functions (see klib/string.h). Written for clarity, not speed: hv and
 * guest-kernel copy little data through them. Built once per freestanding flavour and compiled
 * as-is (with renamed symbols) into the host unit tests.
 */
#include <klib/string.h>

/*
 * memcpy and memset do most of klib's work (zeroing frames, copying page tables), and hv often
 * runs under an emulator where every loop iteration costs, so they move 8 bytes at a time with
 * the string instructions and finish the odd bytes one by one.
 */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	size_t words = n / 8, rest = n % 8;

	__asm__ __volatile__("rep movsq\n\t"
	                     "mov %[rest], %%rcx\n\t"
	                     "rep movsb"
	                     : "+D"(d), "+S"(src), "+c"(words), [rest] "+r"(rest)
	                     :
	                     : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	/* Overlapping with the destination above the source: copy backwards. */
	d += n;
	s += n;
	while (n--)
		*--d = *--s;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t words = n / 8, rest = n % 8;
	uint64_t pattern = 0x0101010101010101ULL * (unsigned char)c;

	__asm__ __volatile__("rep stosq\n\t"
	                     "mov %[rest], %%rcx\n\t"
	                     "rep stosb"
	                     : "+D"(d), "+c"(words), [rest] "+r"(rest)
	                     : "a"(pattern)
	                     : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n; n--, p++)
		if (*p == (unsigned char)c)
			return (void *)p;
	return NULL;
}

size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

char *strstr(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (; *haystack; haystack++)
		if (strncmp(haystack, needle, n) == 0)
			return (char *)haystack;
	return n == 0 ? (char *)haystack : NULL;
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

static int digit_value(char c)
{
	if (isdigit(c))
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* Parses an optional sign and base prefix, then digits; *neg says whether '-' was seen. */
static unsigned long long parse_unsigned(const char *s, char **end, int base, bool *neg)
{
	const char *start = s;
	unsigned long long value = 0;
	bool overflow = false, any = false;

	while (isspace(*s))
		s++;
	*neg = false;
	if (*s == '+' || *s == '-')
		*neg = *s++ == '-';
	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') &&
	    isxdigit(s[2])) {
		s += 2;
		base = 16;
	} else if (base == 0) {
		base = s[0] == '0' ? 8 : 10;
	}
	for (;; s++) {
		int d = digit_value(*s);
		if (d >= base)
			break;
		any = true;
		if (value > (~0ULL - (unsigned)d) / (unsigned)base)
			overflow = true;
		else
			value = value * (unsigned)base + (unsigned)d;
	}
	if (end)
		*end = (char *)(any ? s : start);
	if (!any)
		return 0;
	return overflow ? ~0ULL : value;
}

unsigned long long strtoull(const char *s, char **end, int base)
{
	bool neg;
	unsigned long long v = parse_unsigned(s, end, base, &neg);

	return neg ? -v : v;
}

unsigned long strtoul(const char *s, char **end, int base)
{
	return (unsigned long)strtoull(s, end, base);
}

long strtol(const char *s, char **end, int base)
{
	bool neg;
	unsigned long long v = parse_unsigned(s, end, base, &neg);

	if (neg)
		return v > (unsigned long long)__LONG_MAX__ + 1 ? (-__LONG_MAX__ - 1) : -(long)v;
	return v > (unsigned long long)__LONG_MAX__ ? __LONG_MAX__ : (long)v;
}
