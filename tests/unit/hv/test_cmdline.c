/*
 * hv's command-line parser (hv/common/cmdline.c, compiled as-is on the host): a table of lines
 * and the lookups they must answer. Exit status 1 on any failure.
 */
#include <stdio.h>
#include <string.h>
#include <hv/cmdline.h>

static int failures, checks;

/* Expects cmdline_get(@key) to be @want (NULL: absent). */
static void expect_get(int line, const char *key, const char *want)
{
	const char *got = cmdline_get(key);

	checks++;
	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0)) {
		fprintf(stderr, "FAIL line %d: cmdline_get(\"%s\") = %s%s%s, want %s%s%s\n", line,
		        key, got ? "\"" : "", got ? got : "NULL", got ? "\"" : "", want ? "\"" : "",
		        want ? want : "NULL", want ? "\"" : "");
		failures++;
	}
}

#define GET(key, want) expect_get(__LINE__, key, want)

static void expect_size(int line, const char *s, int ok, unsigned long long want)
{
	unsigned long long got = 12345;
	int r = parse_size(s, &got);

	checks++;
	if (r != ok || (ok && got != want) || (!ok && got != 12345)) {
		fprintf(stderr, "FAIL line %d: parse_size(\"%s\") = %d/%llu, want %d/%llu\n", line,
		        s, r, got, ok, want);
		failures++;
	}
}

#define SIZE(s, ok, want) expect_size(__LINE__, s, ok, want)

int main(void)
{
	char long_line[3000];

	/* The contract's options, bare keys and unknown keys kept for later users. */
	cmdline_init("console=com1 loglvl=debug mem=512M selftest=fault on_idle=exit noapic "
	             "dom0_mem=1G");
	GET("console", "com1");
	GET("loglvl", "debug");
	GET("mem", "512M");
	GET("selftest", "fault");
	GET("on_idle", "exit");
	GET("noapic", "");
	GET("dom0_mem", "1G");
	GET("on_panic", NULL);
	GET("mem=512M", NULL);
	GET("con", NULL); /* no prefix matches */
	checks++;
	if (!cmdline_is("on_idle", "exit") || cmdline_is("on_idle", "exi") || cmdline_is("x", "")) {
		fprintf(stderr, "FAIL cmdline_is\n");
		failures++;
	}
	checks++;
	if (strcmp(cmdline_raw(), "console=com1 loglvl=debug mem=512M selftest=fault on_idle=exit "
	                          "noapic dom0_mem=1G") != 0) {
		fprintf(stderr, "FAIL cmdline_raw: %s\n", cmdline_raw());
		failures++;
	}

	/* Extra spaces, tabs, last one wins, '=' inside a value, empty value, "=x" ignored. */
	cmdline_init("  a=1\tb=2   a=3 c=x=y d= =junk  ");
	GET("a", "3");
	GET("b", "2");
	GET("c", "x=y");
	GET("d", "");
	GET("", NULL);

	/* Empty and NULL lines. */
	cmdline_init("");
	GET("a", NULL);
	cmdline_init(NULL);
	GET("a", NULL);
	checks++;
	if (strcmp(cmdline_raw(), "") != 0) {
		fprintf(stderr, "FAIL NULL cmdline\n");
		failures++;
	}

	/* Too many words: the first CMDLINE_MAX_ARGS are kept. */
	{
		char many[2048] = "";
		for (int i = 0; i < CMDLINE_MAX_ARGS + 10; i++)
			sprintf(many + strlen(many), "k%d=%d ", i, i);
		cmdline_init(many);
		GET("k0", "0");
		GET("k63", "63");
		GET("k64", NULL);
	}

	/* Overlong line: cut at CMDLINE_MAX - 1 bytes, no overflow. */
	memset(long_line, 'x', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	memcpy(long_line, "first=1 ", 8);
	cmdline_init(long_line);
	GET("first", "1");
	checks++;
	if (strlen(cmdline_raw()) != CMDLINE_MAX - 1) {
		fprintf(stderr, "FAIL long line kept %zu bytes\n", strlen(cmdline_raw()));
		failures++;
	}

	SIZE("512M", 1, 512ULL << 20);
	SIZE("4G", 1, 4ULL << 30);
	SIZE("1024K", 1, 1024ULL << 10);
	SIZE("1t", 1, 1ULL << 40);
	SIZE("65536", 1, 65536);
	SIZE("0x1000", 1, 4096);
	SIZE("", 0, 0);
	SIZE("M", 0, 0);
	SIZE("12Q", 0, 0);
	SIZE("12MB", 0, 0);
	SIZE("-5M", 0, 0);
	SIZE("99999999999999999999G", 0, 0);

	printf("test_cmdline: %d checks, %d failures\n", checks, failures);
	return failures ? 1 : 0;
}
