/*
 * klib string and memory functions, compiled from klib/string.c (renamed, see klib-rename.h),
 * checked against fixed expectations and the host C library. Exit status 1 on any failure.
 */
#include "klib-rename.h"
#include "../../../klib/string.c"
#include <klib/list.h>
#include <klib/bitops.h>

static int failures, checks;

#define EXPECT(cond)                                                                               \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #cond);                    \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static int sign(int v)
{
	return v < 0 ? -1 : v > 0;
}

static void test_mem(void)
{
	char a[64], b[64];

	for (int i = 0; i < 64; i++)
		a[i] = (char)i;
	EXPECT(klib_memcpy(b, a, 64) == b && host_memcmp(a, b, 64) == 0);
	EXPECT(klib_memset(b, 0x5a, 10) == b && b[0] == 0x5a && b[9] == 0x5a && b[10] == 10);
	EXPECT(klib_memcmp(a, a, 64) == 0);
	b[20] = 100;
	EXPECT(klib_memcmp(a, b + 0, 0) == 0);
	klib_memcpy(b, a, 64);
	b[5] = (char)0xff; /* unsigned comparison: 0xff > 5 */
	EXPECT(klib_memcmp(a, b, 64) < 0 && klib_memcmp(b, a, 64) > 0);

	/* memmove with overlap in both directions. */
	for (int i = 0; i < 64; i++)
		a[i] = (char)i;
	klib_memmove(a + 1, a, 10);
	EXPECT(a[0] == 0 && a[1] == 0 && a[10] == 9 && a[11] == 11);
	for (int i = 0; i < 64; i++)
		a[i] = (char)i;
	klib_memmove(a, a + 1, 10);
	EXPECT(a[0] == 1 && a[9] == 10 && a[10] == 10);
	EXPECT(klib_memchr("abcdef", 'd', 6) != NULL &&
	       *(char *)klib_memchr("abcdef", 'd', 6) == 'd');
	EXPECT(klib_memchr("abcdef", 'd', 3) == NULL);
}

/* Every length 0..40 at every alignment 0..7 of source and destination, against a byte loop;
 * guard bytes around the destination must stay untouched. */
static void test_mem_sizes(void)
{
	unsigned char src[64], dst[80], want[80];

	for (int i = 0; i < 64; i++)
		src[i] = (unsigned char)(i * 7 + 1);
	for (size_t n = 0; n <= 40; n++)
		for (int sa = 0; sa < 8; sa++)
			for (int da = 0; da < 8; da++) {
				for (int i = 0; i < 80; i++)
					dst[i] = want[i] = 0xee;
				for (size_t i = 0; i < n; i++)
					want[16 + da + i] = src[sa + i];
				EXPECT(klib_memcpy(dst + 16 + da, src + sa, n) == dst + 16 + da);
				EXPECT(host_memcmp(dst, want, 80) == 0);
				for (size_t i = 0; i < n; i++)
					want[16 + da + i] = 0x3c;
				EXPECT(klib_memset(dst + 16 + da, 0x3c, n) == dst + 16 + da);
				EXPECT(host_memcmp(dst, want, 80) == 0);
			}
}

static void test_str(void)
{
	const char *words[] = {"", "a", "ab", "abc", "b", "abd", "\xff", "A"};
	char buf[8];

	EXPECT(klib_strlen("") == 0 && klib_strlen("hello") == 5);
	EXPECT(klib_strnlen("hello", 3) == 3 && klib_strnlen("hi", 10) == 2);
	for (unsigned i = 0; i < 8; i++)
		for (unsigned j = 0; j < 8; j++) {
			EXPECT(sign(klib_strcmp(words[i], words[j])) ==
			       sign(host_strcmp(words[i], words[j])));
			EXPECT(sign(klib_strncmp(words[i], words[j], 2)) ==
			       sign(host_strncmp(words[i], words[j], 2)));
		}
	EXPECT(klib_strncmp("abcX", "abcY", 3) == 0);
	EXPECT(klib_strchr("key=value", '=') == (const char *)"key=value" + 3 ||
	       *klib_strchr("key=value", '=') == '=');
	EXPECT(klib_strchr("abc", 'z') == NULL);
	EXPECT(klib_strchr("abc", '\0') != NULL && *klib_strchr("abc", '\0') == '\0');
	EXPECT(klib_strrchr("a/b/c", '/') != NULL && klib_strrchr("a/b/c", '/')[1] == 'c');
	EXPECT(klib_strstr("hello world", "o w") != NULL && klib_strstr("hello", "xyz") == NULL);
	EXPECT(klib_strlcpy(buf, "0123456789", sizeof(buf)) == 10 &&
	       host_strcmp(buf, "0123456") == 0);
	EXPECT(klib_strlcpy(buf, "ab", sizeof(buf)) == 2 && host_strcmp(buf, "ab") == 0);
}

static void test_strtoul(void)
{
	const char *cases[] = {"0",     "123",
	                       "0x1f",  "0X1F",
	                       "017",   "  42",
	                       "-7",    "+8",
	                       "12abc", "abc",
	                       "0x",    "99999999999999999999999",
	                       "ffff",  "0xffffffffffffffff"};
	int bases[] = {0, 10, 16};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (unsigned b = 0; b < 3; b++) {
			char *e1, *e2;
			unsigned long v1 = klib_strtoul(cases[i], &e1, bases[b]);
			unsigned long v2 = host_strtoul(cases[i], &e2, bases[b]);
			long s1 = klib_strtol(cases[i], NULL, bases[b]);
			long s2 = host_strtol(cases[i], NULL, bases[b]);
			checks++;
			if (v1 != v2 || e1 != e2 || s1 != s2) {
				fprintf(stderr,
				        "FAIL strtoul(\"%s\", %d): %lu/%ld end+%ld, host %lu/%ld "
				        "end+%ld\n",
				        cases[i], bases[b], v1, s1, (long)(e1 - cases[i]), v2, s2,
				        (long)(e2 - cases[i]));
				failures++;
			}
		}
}

struct item {
	int value;
	struct list_head link;
};

static void test_list_bitops(void)
{
	LIST_HEAD(head);
	struct item items[5], *pos, *tmp;
	int sum = 0, order[5], n = 0;
	unsigned long map[3] = {0};

	EXPECT(list_empty(&head));
	for (int i = 0; i < 5; i++) {
		items[i].value = i;
		list_add_tail(&items[i].link, &head);
	}
	list_for_each_entry(pos, &head, link) order[n++] = pos->value;
	EXPECT(n == 5 && order[0] == 0 && order[4] == 4);
	list_for_each_entry_safe(pos, tmp, &head, link)
	{
		if (pos->value % 2)
			list_del(&pos->link);
	}
	list_for_each_entry(pos, &head, link) sum += pos->value;
	EXPECT(sum == 0 + 2 + 4);
	list_add(&items[1].link, &head);
	EXPECT(list_first_entry(&head, struct item, link)->value == 1);

	set_bit(3, map);
	set_bit(64, map);
	set_bit(130, map);
	EXPECT(test_bit(3, map) && test_bit(64, map) && !test_bit(65, map));
	EXPECT(find_first_bit(map, 192) == 3);
	EXPECT(find_next_bit(map, 192, 4) == 64);
	EXPECT(find_next_bit(map, 192, 65) == 130);
	EXPECT(find_next_bit(map, 130, 65) == 130); /* none below size: returns size */
	EXPECT(find_next_zero_bit(map, 192, 3) == 4);
	clear_bit(64, map);
	EXPECT(!test_bit(64, map));
	EXPECT(!atomic_test_and_set_bit(5, map) && atomic_test_and_set_bit(5, map));
	EXPECT(atomic_test_and_clear_bit(5, map) && !test_bit(5, map));
	EXPECT(fls_nz(1) == 0 && fls_nz(0x80000000UL) == 31 && ffs_nz(0x100) == 8);
}

int main(void)
{
	test_mem();
	test_mem_sizes();
	test_str();
	test_strtoul();
	test_list_bitops();
	printf("test_string: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
