/*
 * The small programs of the multi-call binary and its dispatch on argv[0].
 */
#include "ulib.h"

static int cmd_echo(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		printf("%s%s", argv[i], i + 1 < argc ? " " : "");
	printf("\n");
	return 0;
}

static int cmd_cat(int argc, char **argv)
{
	char buf[512];
	long n;
	while ((n = read(0, buf, sizeof(buf))) > 0)
		write_all(1, buf, (size_t)n);
	return 0;
}

static int cmd_yes(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 10;
	for (int i = 0; i < n; i++)
		printf("y\n");
	return 0;
}

static int cmd_ps(int argc, char **argv)
{
	struct procinfo pi;
	printf("  PID  PPID S NAME               PAGES    TIME(ms)\n");
	for (int i = 0; procinfo(i, &pi) == 0; i++)
		printf("%5d %5d %c %-16s %7lu %11lu\n", pi.pid, pi.ppid, pi.state, pi.name,
		       pi.pages, pi.runtime / 1000000);
	return 0;
}

static int cmd_free(int argc, char **argv)
{
	struct meminfo mi;
	if (meminfo(&mi))
		return 1;
	printf("free: %lu pages free of %lu (used %lu), page size %lu\n", mi.free_pages,
	       mi.total_pages, mi.total_pages - mi.free_pages, mi.page_size);
	return 0;
}

static int cmd_uptime(int argc, char **argv)
{
	uint64_t ns = uptime_ns();
	char plat[32];
	platform_name(plat, sizeof(plat));
	printf("uptime: %lu.%03lu s on %s\n", (unsigned long)(ns / 1000000000),
	       (unsigned long)(ns / 1000000 % 1000), plat);
	return 0;
}

static int cmd_true(int argc, char **argv)
{
	return 0;
}

static int cmd_false(int argc, char **argv)
{
	return 1;
}

static int cmd_kill(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int rc = kill(atoi(argv[1]), argc > 2 ? atoi(argv[2]) : SIGTERM);
	if (rc)
		printf("kill: %d\n", rc);
	return rc ? 1 : 0;
}

static int cmd_sleep(int argc, char **argv)
{
	nanosleep_ns((uint64_t)(argc > 1 ? atoi(argv[1]) : 1000) * 1000000);
	return 0;
}

/* spin SECONDS: burn the CPU and report the rate of progress (loops per ms of wall time). */
static int cmd_spin(int argc, char **argv)
{
	uint64_t secs = argc > 1 ? (uint64_t)atoi(argv[1]) : 1;
	uint64_t start = uptime_ns(), end = start + secs * 1000000000ULL, loops = 0;
	volatile uint64_t sink = 0;
	while (uptime_ns() < end) {
		for (int i = 0; i < 1000; i++)
			sink += (uint64_t)i;
		loops++;
	}
	uint64_t ms = (uptime_ns() - start) / 1000000;
	printf("spin: pid %d: %lu kloops in %lu ms, %lu kloops/s\n", getpid(), (unsigned long)loops,
	       (unsigned long)ms, (unsigned long)(ms ? loops * 1000 / ms : 0));
	return 0;
}

static int cmd_poweroff(int argc, char **argv)
{
	return shutdown(0);
}

static int cmd_reboot(int argc, char **argv)
{
	return shutdown(1);
}

static const struct {
	const char *name;
	command_fn fn;
} commands[] = {
    {"sh", cmd_sh},
    {"ps", cmd_ps},
    {"free", cmd_free},
    {"uptime", cmd_uptime},
    {"echo", cmd_echo},
    {"cat", cmd_cat},
    {"bench", cmd_bench},
    {"selftest", cmd_selftest},
    {"spin", cmd_spin},
    {"poweroff", cmd_poweroff},
    {"reboot", cmd_reboot},
    {"true", cmd_true},
    {"false", cmd_false},
    {"kill", cmd_kill},
    {"sleep", cmd_sleep},
    {"forktest", cmd_forktest},
    {"pipering", cmd_pipering},
    {"cowtest", cmd_cowtest},
    {"faulttest", cmd_faulttest},
    {"yes", cmd_yes},
    {"dom", cmd_dom},
    {"ping", cmd_ping},
    {"udpsend", cmd_udpsend},
    {"udpsink", cmd_udpsink},
    {"ifconfig", cmd_ifconfig},
    {"netstat", cmd_netstat},
    {"blk", cmd_blk},
};

command_fn find_command(const char *name)
{
	const char *slash = strrchr(name, '/');
	if (slash)
		name = slash + 1;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].fn;
	return NULL;
}

int user_main(int argc, char **argv);

int user_main(int argc, char **argv)
{
	command_fn fn = argc > 0 ? find_command(argv[0]) : NULL;
	if (!fn) {
		dprintf(2, "%s: no such program\n", argc > 0 ? argv[0] : "?");
		return 127;
	}
	return fn(argc, argv);
}
