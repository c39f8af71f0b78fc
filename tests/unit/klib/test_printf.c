/*
 * klib vsnprintf/snprintf against fixed expectations and, where ISO C defines the result, against
 * the host C library. Compiles klib/printf.c and klib/string.c themselves (renamed, see
 * klib-rename.h). Prints one line per failure; exit status is the number of failures (max 1).
 */
#include "klib-rename.h"
#include "../../../klib/string.c"
#include "../../../klib/printf.c"

static int failures, checks;

/* Checks klib's output and return value against @expect, and against the host's snprintf
 * when @compare_host is set. */
#define CHECK_FMT(compare_host, expect, fmt, ...)                                                  \
	do {                                                                                       \
		char got[256], ref[256];                                                           \
		int n = klib_snprintf(got, sizeof(got), fmt, ##__VA_ARGS__);                       \
		checks++;                                                                          \
		if (host_strcmp(got, expect) != 0 || n != (int)klib_strlen(expect)) {              \
			fprintf(stderr,                                                            \
			        "FAIL line %d: fmt \"%s\": got \"%s\" (%d), want \"%s\"\n",        \
			        __LINE__, fmt, got, n, expect);                                    \
			failures++;                                                                \
		}                                                                                  \
		if (compare_host) {                                                                \
			host_snprintf(ref, sizeof(ref), fmt, ##__VA_ARGS__);                       \
			if (host_strcmp(ref, expect) != 0) {                                       \
				fprintf(stderr,                                                    \
				        "FAIL line %d: expectation \"%s\" != host \"%s\"\n",       \
				        __LINE__, expect, ref);                                    \
				failures++;                                                        \
			}                                                                          \
		}                                                                                  \
	} while (0)

#define CHECK(expect, fmt, ...)           CHECK_FMT(1, expect, fmt, ##__VA_ARGS__)
#define CHECK_KLIB_ONLY(expect, fmt, ...) CHECK_FMT(0, expect, fmt, ##__VA_ARGS__)

static void test_integers(void)
{
	CHECK("0", "%d", 0);
	CHECK("-1", "%d", -1);
	CHECK("2147483647", "%d", 2147483647);
	CHECK("-2147483648", "%d", (int)-2147483648LL);
	CHECK("42", "%i", 42);
	CHECK("4294967295", "%u", 4294967295u);
	CHECK("ff", "%x", 255);
	CHECK("FF", "%X", 255);
	CHECK("deadbeef", "%x", 0xdeadbeefu);
	CHECK("ffffffffffffffff", "%lx", ~0UL);
	CHECK("123456789abcdef0", "%llx", 0x123456789abcdef0ULL);
	CHECK("-9223372036854775808", "%ld", (long)(-9223372036854775807L - 1));
	CHECK("18446744073709551615", "%llu", ~0ULL);
	CHECK("12345", "%zu", (size_t)12345);
	CHECK("-5", "%zd", (ssize_t)-5);
	CHECK("255", "%hhu", 0x1ff); /* truncated to unsigned char */
	CHECK("-1", "%hd", 0xffff);  /* truncated to short */
	CHECK("17", "%o", 15);
	CHECK("017", "%#o", 15);
	CHECK("0", "%#o", 0);
	CHECK("0x1f", "%#x", 31);
	CHECK("0X1F", "%#X", 31);
	CHECK("0", "%#x", 0);
	CHECK("+5", "%+d", 5);
	CHECK(" 5", "% d", 5);
	CHECK("-5", "%+d", -5);
}

static void test_width_precision(void)
{
	CHECK("   42", "%5d", 42);
	CHECK("42   |", "%-5d|", 42);
	CHECK("00042", "%05d", 42);
	CHECK("-0042", "%05d", -42);
	CHECK("0x000000000000002a", "0x%016lx", 42UL);
	CHECK("00000000dead0000", "%016llx", 0xdead0000ULL);
	CHECK("  007", "%5.3d", 7);
	CHECK("  -007", "%6.3d", -7);
	CHECK("", "%.0d", 0);
	CHECK("   ", "%3.0d", 0);
	CHECK("0x00ff", "%#06x", 255);
	CHECK("   42", "%*d", 5, 42);
	CHECK("42   ", "%*d", -5, 42);
	CHECK("007", "%.*d", 3, 7);
	CHECK("12345", "%2d", 12345); /* width never truncates */
}

static void test_strings_chars(void)
{
	CHECK("hello", "%s", "hello");
	CHECK("  abc", "%5s", "abc");
	CHECK("abc  |", "%-5s|", "abc");
	CHECK("ab", "%.2s", "abcdef");
	CHECK("   ab", "%5.2s", "abcdef");
	CHECK("", "%.0s", "abc");
	CHECK("x", "%c", 'x');
	CHECK("  x", "%3c", 'x');
	CHECK("x  |", "%-3c|", 'x');
	CHECK("100%", "100%%");
	CHECK("a-b-c", "%s-%c-%s", "a", 'b', "c");
	CHECK("abc", "%.3s", "abc");             /* exactly the precision */
	const char *volatile null_string = NULL; /* hidden from the compiler's format checks */
	CHECK_KLIB_ONLY("(null)", "%s", null_string);
}

static void test_pointers(void)
{
	int x;
	char want[64];

	CHECK_KLIB_ONLY("0xdead0000", "%p", (void *)0xdead0000UL);
	CHECK_KLIB_ONLY("0xffff82d080200000", "%p", (void *)0xffff82d080200000UL);
	CHECK_KLIB_ONLY("0x0", "%p", (void *)0);
	host_snprintf(want, sizeof(want), "%p", (void *)&x);
	CHECK_KLIB_ONLY(want, "%p", (void *)&x);
}

static void test_truncation(void)
{
	char buf[8];
	int n;

	/* Returns the full length, stores size-1 characters and a NUL. */
	n = klib_snprintf(buf, sizeof(buf), "%s", "0123456789");
	checks++;
	if (n != 10 || host_strcmp(buf, "0123456") != 0) {
		fprintf(stderr, "FAIL truncation: %d \"%s\"\n", n, buf);
		failures++;
	}
	/* size 0: nothing written, length still returned. */
	buf[0] = 'Z';
	n = klib_snprintf(buf, 0, "%d", 12345);
	checks++;
	if (n != 5 || buf[0] != 'Z') {
		fprintf(stderr, "FAIL size 0: %d '%c'\n", n, buf[0]);
		failures++;
	}
	/* size 1: only the NUL. */
	n = klib_snprintf(buf, 1, "abc");
	checks++;
	if (n != 3 || buf[0] != '\0') {
		fprintf(stderr, "FAIL size 1: %d\n", n);
		failures++;
	}
	/* Truncation in the middle of a padded number. */
	n = klib_snprintf(buf, 4, "%08x", 0x1234);
	checks++;
	if (n != 8 || host_strcmp(buf, "000") != 0) {
		fprintf(stderr, "FAIL padded truncation: %d \"%s\"\n", n, buf);
		failures++;
	}
}

int main(void)
{
	test_integers();
	test_width_precision();
	test_strings_chars();
	test_pointers();
	test_truncation();
	printf("test_printf: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
