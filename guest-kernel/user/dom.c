/*
 * dom: dom0's shell program over hv's control interface (SYS_domctl), so that tests can drive
 * many domains before the management link does it for them.
 *
 *   dom physinfo                          free and total memory, CPUs, domains
 *   dom list                              one line per domain
 *   dom info ID
 *   dom create NAME MEM_KIB VCPUS MODULE [CMDLINE...]
 *                                         create, build from hv's boot module, unpause; prints
 *                                         the new id (a failed build or unpause destroys it)
 *   dom pause ID | unpause ID | destroy ID
 *   dom sched ID [weight=N] [cap=N] [reservation=N]
 *   dom mem ID max|current|guarantee KIB
 *
 * Every failure prints `dom: <what> <id>: <reason> (<ERRNO>)` on stderr and exits 1; a usage
 * error exits 2. The shell does not understand quotes, so CMDLINE is the remaining words
 * joined by spaces, with one pair of surrounding double quotes removed.
 */
#include "ulib.h"

#define HV_DOMCTL_ALLOWED
#include <public/domctl.h>

static const struct {
	int err;
	const char *name, *text;
} errors[] = {
    {1, "EPERM", "Operation not permitted"},
    {2, "ENOENT", "No such entry"},
    {3, "ESRCH", "No such domain"},
    {7, "E2BIG", "Argument too big"},
    {11, "EAGAIN", "Try again"},
    {12, "ENOMEM", "Out of memory"},
    {13, "EACCES", "Interface version mismatch"},
    {14, "EFAULT", "Bad address"},
    {16, "EBUSY", "Busy"},
    {17, "EEXIST", "Already exists"},
    {22, "EINVAL", "Invalid argument"},
    {28, "ENOSPC", "No space left"},
    {34, "ERANGE", "Out of range"},
    {38, "ENOSYS", "Not implemented"},
    {95, "EOPNOTSUPP", "Not supported"},
};

static int fail(const char *what, const char *id, long rc)
{
	for (size_t i = 0; i < ARRAY_SIZE(errors); i++)
		if (errors[i].err == -rc) {
			dprintf(2, "dom: %s%s%s: %s (%s)\n", what, id ? " " : "", id ? id : "",
			        errors[i].text, errors[i].name);
			return 1;
		}
	dprintf(2, "dom: %s%s%s: error %ld\n", what, id ? " " : "", id ? id : "", rc);
	return 1;
}

static int usage(void)
{
	dprintf(2, "usage: dom physinfo | list | info ID | pause ID | unpause ID | destroy ID\n"
	           "       dom create NAME MEM_KIB VCPUS MODULE [CMDLINE]\n"
	           "       dom sched ID [weight=N] [cap=N] [reservation=N]\n"
	           "       dom mem ID max|current|guarantee KIB\n");
	return 2;
}

/* A decimal number, whole string; false for anything else. */
static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

static bool parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;

	if (!parse_u64(s, &v) || v > UINT32_MAX)
		return false;
	*out = (uint32_t)v;
	return true;
}

static long domctl(uint32_t cmd, uint32_t domid, struct hv_domctl *op)
{
	op->interface_version = HV_DOMCTL_INTERFACE_VERSION;
	op->cmd = cmd;
	op->domain = domid;
	op->reserved = 0;
	return syscall2(SYS_domctl, op, sizeof(*op));
}

static const char *state_name(uint32_t state)
{
	static const char *const names[] = {"created",  "running", "paused",
	                                    "shutdown", "crashed", "dying"};

	return state < ARRAY_SIZE(names) ? names[state] : "unknown";
}

static int do_physinfo(void)
{
	struct hv_domctl op = {0};
	long rc = domctl(HV_DOMCTL_physinfo, 0, &op);

	if (rc)
		return fail("physinfo", NULL, rc);
	struct hv_domctl_physinfo *p = &op.u.physinfo;
	printf("physinfo: cpus %u, cpu_khz %u, total_kib %lu, free_kib %lu, free_frames %lu, "
	       "domains %u of %u\n",
	       p->nr_cpus, p->cpu_khz, (unsigned long)p->total_kib, (unsigned long)p->free_kib,
	       (unsigned long)p->free_frames, p->nr_domains, p->max_domains);
	return 0;
}

static void print_row(const struct hv_domctl_dominfo *d)
{
	printf("%4u %-16s %-8s %5u %9lu %9lu %9lu %9lu\n", d->domid, d->name[0] ? d->name : "-",
	       state_name(d->state), d->nr_vcpus, (unsigned long)d->current_mem_kib,
	       (unsigned long)d->max_mem_kib, (unsigned long)d->guarantee_kib,
	       (unsigned long)(d->cpu_time_ns / 1000000));
}

static int do_list(void)
{
	enum { CHUNK = 16 };
	struct hv_domctl_dominfo *buf = malloc(CHUNK * sizeof(*buf));
	struct hv_domctl op;
	uint32_t first = 0;
	long rc;

	if (!buf)
		return fail("list", NULL, -E_NOMEM);
	printf("  ID NAME             STATE    VCPUS   MEM_KIB   MAX_KIB  GUAR_KIB   CPU(ms)\n");
	for (;;) {
		memset(&op, 0, sizeof(op));
		op.u.list.first_domid = first;
		op.u.list.max_entries = CHUNK;
		op.u.list.buffer = (uint64_t)(uintptr_t)buf;
		rc = domctl(HV_DOMCTL_list, 0, &op);
		if (rc)
			break;
		for (uint32_t i = 0; i < op.u.list.count; i++)
			print_row(&buf[i]);
		if (!op.u.list.more || op.u.list.count == 0)
			break;
		first = buf[op.u.list.count - 1].domid + 1;
	}
	free(buf);
	return rc ? fail("list", NULL, rc) : 0;
}

static int do_info(const char *id, uint32_t domid)
{
	struct hv_domctl op = {0};
	long rc = domctl(HV_DOMCTL_getinfo, domid, &op);

	if (rc)
		return fail("info", id, rc);
	struct hv_domctl_dominfo *d = &op.u.info;
	printf("id: %u\nname: %s\nstate: %s\n", d->domid, d->name[0] ? d->name : "-",
	       state_name(d->state));
	if (d->state == HV_DOMSTATE_SHUTDOWN)
		printf("shutdown_reason: %u\n", d->shutdown_reason);
	printf("vcpus: %u of %u\nprivileged: %s\nmax_mem_kib: %lu\ncurrent_mem_kib: %lu\n"
	       "guarantee_kib: %lu\ncpu_time_ms: %lu\n",
	       d->nr_vcpus, d->max_vcpus, (d->flags & 1) ? "yes" : "no",
	       (unsigned long)d->max_mem_kib, (unsigned long)d->current_mem_kib,
	       (unsigned long)d->guarantee_kib, (unsigned long)(d->cpu_time_ns / 1000000));
	return 0;
}

/* pause, unpause, destroy: no arguments besides the domain. */
static int do_simple(const char *what, uint32_t cmd, const char *id, uint32_t domid)
{
	struct hv_domctl op = {0};
	long rc = domctl(cmd, domid, &op);

	if (rc)
		return fail(what, id, rc);
	printf("dom: %s %u: ok\n", what, domid);
	return 0;
}

static int do_create(int argc, char **argv)
{
	static char cmdline[HV_DOMCTL_CMDLINE_MAX];
	struct hv_domctl op = {0};
	uint64_t mem_kib;
	uint32_t vcpus, module, domid;
	size_t len = 0;
	long rc;

	if (argc < 6 || strlen(argv[2]) >= sizeof(op.u.create.name) ||
	    !parse_u64(argv[3], &mem_kib) || !parse_u32(argv[4], &vcpus) ||
	    !parse_u32(argv[5], &module))
		return usage();
	cmdline[0] = 0;
	for (int i = 6; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (len + n + 2 > sizeof(cmdline)) {
			dprintf(2, "dom: create: command line longer than %d bytes\n",
			        HV_DOMCTL_CMDLINE_MAX - 1);
			return 2;
		}
		if (len)
			cmdline[len++] = ' ';
		memcpy(cmdline + len, argv[i], n + 1);
		len += n;
	}
	if (len >= 2 && cmdline[0] == '"' && cmdline[len - 1] == '"') {
		memmove(cmdline, cmdline + 1, len - 2);
		cmdline[len - 2] = 0;
	}

	strlcpy(op.u.create.name, argv[2], sizeof(op.u.create.name));
	op.u.create.max_vcpus = vcpus;
	op.u.create.max_mem_kib = mem_kib;
	op.u.create.current_mem_kib = mem_kib;
	rc = domctl(HV_DOMCTL_create, 0, &op);
	if (rc)
		return fail("create", argv[2], rc);
	domid = op.u.create.domid;

	memset(&op, 0, sizeof(op));
	op.u.build.module = module;
	strlcpy(op.u.build.cmdline, cmdline, sizeof(op.u.build.cmdline));
	rc = domctl(HV_DOMCTL_build_module, domid, &op);
	if (rc == 0) {
		memset(&op, 0, sizeof(op));
		rc = domctl(HV_DOMCTL_unpause, domid, &op);
	}
	if (rc) {
		char id[16];
		snprintf(id, sizeof(id), "%u", domid);
		fail("create: build/unpause of domain", id, rc);
		memset(&op, 0, sizeof(op));
		domctl(HV_DOMCTL_destroy, domid, &op);
		return 1;
	}
	printf("dom: created %s as domain %u\n", argv[2], domid);
	return 0;
}

static int do_sched(int argc, char **argv, uint32_t domid)
{
	struct hv_domctl op = {0};
	struct hv_domctl_sched s;
	long rc = domctl(HV_DOMCTL_sched_get, domid, &op);

	if (rc)
		return fail("sched", argv[2], rc);
	s = op.u.sched;
	for (int i = 3; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		uint32_t *field = NULL;
		if (eq && strncmp(argv[i], "weight=", 7) == 0)
			field = &s.weight;
		else if (eq && strncmp(argv[i], "cap=", 4) == 0)
			field = &s.cap;
		else if (eq && strncmp(argv[i], "reservation=", 12) == 0)
			field = &s.reservation;
		if (!field || !parse_u32(eq + 1, field))
			return usage();
	}
	if (argc > 3) {
		memset(&op, 0, sizeof(op));
		op.u.sched = s;
		rc = domctl(HV_DOMCTL_sched_set, domid, &op);
		if (rc)
			return fail("sched", argv[2], rc);
	}
	printf("sched %u: weight=%u cap=%u reservation=%u\n", domid, s.weight, s.cap,
	       s.reservation);
	return 0;
}

static int do_mem(int argc, char **argv, uint32_t domid)
{
	struct hv_domctl op = {0};
	uint32_t cmd;
	uint64_t kib;
	long rc;

	if (argc != 5 || !parse_u64(argv[4], &kib))
		return usage();
	if (strcmp(argv[3], "max") == 0)
		cmd = HV_DOMCTL_set_max_mem;
	else if (strcmp(argv[3], "current") == 0)
		cmd = HV_DOMCTL_set_current_mem;
	else if (strcmp(argv[3], "guarantee") == 0)
		cmd = HV_DOMCTL_set_mem_guarantee;
	else
		return usage();
	op.u.mem.kib = kib;
	rc = domctl(cmd, domid, &op);
	if (rc)
		return fail("mem", argv[2], rc);
	printf("dom: mem %u %s %lu KiB: ok\n", domid, argv[3], (unsigned long)kib);
	return 0;
}

int cmd_dom(int argc, char **argv)
{
	uint32_t domid;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "physinfo") == 0)
		return do_physinfo();
	if (strcmp(argv[1], "list") == 0)
		return do_list();
	if (strcmp(argv[1], "create") == 0)
		return do_create(argc, argv);
	/* Every other subcommand names a domain first. */
	if (argc < 3 || !parse_u32(argv[2], &domid))
		return usage();
	if (strcmp(argv[1], "info") == 0)
		return do_info(argv[2], domid);
	if (strcmp(argv[1], "pause") == 0)
		return do_simple("pause", HV_DOMCTL_pause, argv[2], domid);
	if (strcmp(argv[1], "unpause") == 0)
		return do_simple("unpause", HV_DOMCTL_unpause, argv[2], domid);
	if (strcmp(argv[1], "destroy") == 0)
		return do_simple("destroy", HV_DOMCTL_destroy, argv[2], domid);
	if (strcmp(argv[1], "sched") == 0)
		return do_sched(argc, argv, domid);
	if (strcmp(argv[1], "mem") == 0)
		return do_mem(argc, argv, domid);
	return usage();
}
