/*
 * hvctl: hv's control interface from the command line, over libhvctl, for debugging and for
 * scripts that do not want libvirt. It reaches a machine started by hv-machine (or by any
 * program using hvctl_machine_start) through that machine's state directory.
 *
 * Output is one line per record, fields separated by spaces, so that scripts can use cut/awk;
 * errors go to stderr as "hvctl: <what>: <why>". Exit codes (also in hvctl.1):
 *   0  success
 *   1  the operation failed (the machine or hv refused it; the message says why)
 *   2  usage error (unknown command or option, bad number); nothing was sent
 *   3  the machine could not be reached (no machine at DIR, agent not answering, timeout)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "hvctl-machine.h"
#include "hvctl.h"

#define EXIT_FAILED  1
#define EXIT_USAGE   2
#define EXIT_NOREACH 3

static const char *machine_dir;
static unsigned timeout_ms = 10000;
static hvctl *handle;

struct command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(int argc, char **argv);
};

static const struct command *current;

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hvctl%s%s: ", current ? " " : "", current ? current->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (current)
		fprintf(stderr, "\nTry 'hvctl %s --help'.\n", current->name);
	else
		fprintf(stderr, "\nTry 'hvctl --help'.\n");
	return EXIT_USAGE;
}

/* Reports the library's last error; returns the exit code that fits it. */
static int failed(const char *what)
{
	const hvctl_error *e = hvctl_last_error();
	int code = e->code;

	fprintf(stderr, "hvctl: %s: %s\n", what, e->message[0] ? e->message : hvctl_strerror(code));
	if (code == HVCTL_ERR_LINK_DOWN || code == HVCTL_ERR_TIMEOUT ||
	    code == HVCTL_ERR_LINK_FAULT || code == HVCTL_ERR_VERSION || code == HVCTL_ERR_CLOSED)
		return EXIT_NOREACH;
	return EXIT_FAILED;
}

/* ---- argument parsing ---- */

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_domid(const char *s, uint32_t *domid)
{
	uint64_t v;

	if (parse_u64(s, UINT32_MAX, &v))
		return usage_error("'%s' is not a domain id (a number)", s ? s : "");
	*domid = (uint32_t)v;
	return 0;
}

/* A size in KiB: a number with an optional suffix K (default), M, G. */
static int parse_kib(const char *s, uint64_t *kib)
{
	char num[32];
	size_t n = s ? strlen(s) : 0;
	uint64_t mult = 1, v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 'k':
	case 'K':
		mult = 1;
		num[--n] = '\0';
		break;
	case 'm':
	case 'M':
		mult = 1024;
		num[--n] = '\0';
		break;
	case 'g':
	case 'G':
		mult = 1024 * 1024;
		num[--n] = '\0';
		break;
	default:
		break;
	}
	if (parse_u64(num, UINT64_MAX / mult, &v))
		return -1;
	*kib = v * mult;
	return 0;
}

/* ---- the connection ---- */

static int connect_machine(void)
{
	char sock[4200];
	struct stat st;

	if (!machine_dir)
		machine_dir = getenv("HV_MACHINE");
	if (!machine_dir || !*machine_dir) {
		fprintf(stderr, "hvctl: no machine given: use --machine DIR (the state directory "
		                "of hv-machine start) or set HV_MACHINE\n");
		return EXIT_USAGE;
	}
	snprintf(sock, sizeof(sock), "%s/hvctl.sock", machine_dir);
	if (stat(sock, &st) != 0) {
		fprintf(stderr, "hvctl: no machine at %s (no %s: is hv-machine running?)\n",
		        machine_dir, sock);
		return EXIT_NOREACH;
	}
	if (hvctl_open_machine(machine_dir, &handle) != HVCTL_OK)
		return failed("cannot open the machine");
	hvctl_set_timeout(handle, timeout_ms);
	if (hvctl_wait_ready(handle, timeout_ms) != HVCTL_OK)
		return failed("the machine's agent does not answer");
	return 0;
}

/* getopt_long on a subcommand's own arguments; --help prints its help. */
static int sub_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
                      int *index)
{
	int c = getopt_long(argc, argv, shortopts, longopts, index);

	if (c == 'h') {
		printf("usage: hvctl [--machine DIR] %s %s\n\n%s\n", current->name, current->args,
		       current->help);
		exit(0);
	}
	return c;
}

#define HELP_OPT                                                                                   \
	{                                                                                          \
		"help", no_argument, NULL, 'h'                                                     \
	}

/* For subcommands that take only positional arguments. Returns optind or -1 after an error. */
static int plain_args(int argc, char **argv, int want)
{
	static const struct option opts[] = {HELP_OPT, {0}};
	int c;

	while ((c = sub_getopt(argc, argv, "h", opts, NULL)) != -1)
		if (c == '?')
			return -1;
	if (argc - optind != want) {
		usage_error("expects %d argument%s, got %d", want, want == 1 ? "" : "s",
		            argc - optind);
		return -1;
	}
	return optind;
}

/* ---- commands ---- */

static const char *state_name(hvctl_domain_state s)
{
	static const char *names[] = {"created", "running", "paused", "shutdown",
	                              "crashed", "dying",   "gone"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "unknown";
}

static const char *reason_name(hvctl_shutdown_reason r)
{
	static const char *names[] = {"poweroff", "reboot", "suspend", "crash"};

	return (unsigned)r < 4 ? names[r] : "unknown";
}

static void print_uuid(const uint8_t *u, char *out)
{
	sprintf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0],
	        u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13],
	        u[14], u[15]);
}

static int cmd_list(int argc, char **argv)
{
	hvctl_domain_info infos[64];
	unsigned count = 0, i;
	uint32_t first = 0;
	int rc;

	if (plain_args(argc, argv, 0) < 0)
		return EXIT_USAGE;
	if ((rc = connect_machine()))
		return rc;
	printf("%-6s %-9s %5s %12s %12s %14s\n", "DOMID", "STATE", "VCPUS", "MEM_KIB", "MAX_KIB",
	       "CPU_TIME_MS");
	do {
		if (hvctl_domain_list(handle, first, infos, 64, &count) != HVCTL_OK)
			return failed("cannot list domains");
		for (i = 0; i < count; i++) {
			const hvctl_domain_info *d = &infos[i];

			printf("%-6u %-9s %5u %12llu %12llu %14llu\n", d->domid,
			       state_name(d->state), d->nr_vcpus,
			       (unsigned long long)d->current_mem_kib,
			       (unsigned long long)d->max_mem_kib,
			       (unsigned long long)(d->cpu_time_ns / 1000000));
			first = d->domid + 1;
		}
	} while (count == 64 && first != 0);
	return 0;
}

static int cmd_info(int argc, char **argv)
{
	hvctl_domain_info d;
	char uuid[40];
	uint32_t domid = 0;
	int i, rc;

	if ((i = plain_args(argc, argv, 1)) < 0 || parse_domid(argv[i], &domid))
		return EXIT_USAGE;
	if ((rc = connect_machine()))
		return rc;
	if (hvctl_domain_info_get(handle, domid, &d) != HVCTL_OK)
		return failed("info");
	print_uuid(d.uuid, uuid);
	printf("domid: %u\nstate: %s\n", d.domid, state_name(d.state));
	if (d.state == HVCTL_DOMAIN_SHUTDOWN)
		printf("shutdown_reason: %s\n", reason_name(d.shutdown_reason));
	printf("uuid: %s\nvcpus: %u\nmax_vcpus: %u\ncurrent_mem_kib: %llu\nmax_mem_kib: %llu\n"
	       "guarantee_kib: %llu\ncpu_time_ns: %llu\n",
	       uuid, d.nr_vcpus, d.max_vcpus, (unsigned long long)d.current_mem_kib,
	       (unsigned long long)d.max_mem_kib, (unsigned long long)d.guarantee_kib,
	       (unsigned long long)d.cpu_time_ns);
	return 0;
}

static int cmd_physinfo(int argc, char **argv)
{
	hvctl_physinfo p;
	hvctl_version v;
	int rc;

	if (plain_args(argc, argv, 0) < 0)
		return EXIT_USAGE;
	if ((rc = connect_machine()))
		return rc;
	if (hvctl_hello(handle, &v) != HVCTL_OK)
		return failed("hello");
	if (hvctl_physinfo_get(handle, &p) != HVCTL_OK)
		return failed("physinfo");
	printf("hv_version: %s\nlink_version: %u.%u\ninterface_version: %u\nnr_cpus: %u\n"
	       "cpu_khz: %u\ntotal_kib: %llu\nfree_kib: %llu\nreservation_free_pct: %u\n",
	       v.hv_version, v.link_major, v.link_minor, v.interface_version, p.nr_cpus, p.cpu_khz,
	       (unsigned long long)p.total_kib, (unsigned long long)p.free_kib,
	       p.reservation_free_pct);
	return 0;
}

static void *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = (size_t)n;
	} else
		errno = EINVAL;
	fclose(f);
	return buf;
}

#define MAX_DEVS 8

struct disk_arg {
	const char *path;
	int readonly;
	int devid;
};

struct nic_arg {
	uint8_t mac[6];
	int has_mac;
	char tap[16];
	const char *ip;
};

/* --disk FILE[,ro][,dev=xvdX]: the disks take xvda, xvdb, ... in order unless dev= says. */
static int parse_disk(char *arg, struct disk_arg *d, int index)
{
	char *save = NULL, *tok = strtok_r(arg, ",", &save);

	memset(d, 0, sizeof(*d));
	if (!tok)
		return usage_error("--disk wants FILE[,ro][,dev=xvdX]");
	d->path = tok;
	d->devid = hvctl_disk_devid((char[]){'x', 'v', 'd', (char)('a' + index), 0});
	while ((tok = strtok_r(NULL, ",", &save))) {
		if (strcmp(tok, "ro") == 0)
			d->readonly = 1;
		else if (strcmp(tok, "rw") == 0)
			d->readonly = 0;
		else if (strncmp(tok, "dev=", 4) == 0 && hvctl_disk_devid(tok + 4) >= 0)
			d->devid = hvctl_disk_devid(tok + 4);
		else
			return usage_error("--disk: '%s' is not ro, rw or dev=xvda..xvdp", tok);
	}
	return 0;
}

/* --nic [MAC][,tap=NAME][,ip=A.B.C.D/NN] */
static int parse_nic(char *arg, struct nic_arg *n)
{
	char *save = NULL, *tok;
	unsigned m[6];

	memset(n, 0, sizeof(*n));
	for (tok = strtok_r(arg, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char end;

		if (strcmp(tok, "auto") == 0) {
			continue; /* every default */
		} else if (strncmp(tok, "tap=", 4) == 0) {
			if (strlen(tok + 4) == 0 || strlen(tok + 4) > 15)
				return usage_error("--nic: a TAP name has 1 to 15 characters");
			strcpy(n->tap, tok + 4);
		} else if (strncmp(tok, "ip=", 3) == 0) {
			n->ip = tok + 3;
		} else if (sscanf(tok, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4],
		                  &m[5], &end) == 6) {
			for (int i = 0; i < 6; i++) {
				if (m[i] > 255)
					return usage_error("--nic: bad MAC address '%s'", tok);
				n->mac[i] = (uint8_t)m[i];
			}
			if (n->mac[0] & 1)
				return usage_error("--nic: %s is a multicast address", tok);
			n->has_mac = 1;
		} else {
			return usage_error("--nic: '%s' is not a MAC address, tap=NAME or "
			                   "ip=A.B.C.D/NN",
			                   tok);
		}
	}
	return 0;
}

/* Attaches the backing of every device and adds the devices (the domain is built). */
static int add_devices(uint32_t domid, const struct disk_arg *disks, int ndisks,
                       const struct nic_arg *nics, int nnics)
{
	char what[96], tap[16];
	int i;

	for (i = 0; i < ndisks; i++) {
		hvctl_device dev = {.kind = HVCTL_DEVICE_DISK,
		                    .devid = (unsigned)disks[i].devid,
		                    .readonly = disks[i].readonly};

		snprintf(what, sizeof(what), "attach %s to domain %u", disks[i].path, domid);
		if (hvctl_disk_attach(handle, domid, dev.devid, disks[i].path, dev.readonly,
		                      &dev.sectors) != HVCTL_OK)
			return failed(what);
		snprintf(what, sizeof(what), "add disk %u to domain %u", dev.devid, domid);
		if (hvctl_device_add(handle, domid, &dev) != HVCTL_OK)
			return failed(what);
	}
	for (i = 0; i < nnics; i++) {
		hvctl_device dev = {.kind = HVCTL_DEVICE_NIC, .devid = (unsigned)i};

		if (nics[i].has_mac)
			memcpy(dev.mac, nics[i].mac, 6);
		else /* Xen's prefix, then the domain and the interface */
			memcpy(dev.mac,
			       (uint8_t[]){0x00, 0x16, 0x3e, (uint8_t)((domid >> 8) & 0x7f),
			                   (uint8_t)domid, (uint8_t)i},
			       6);
		snprintf(what, sizeof(what), "make the TAP of interface %d of domain %u", i, domid);
		if (hvctl_nic_attach(handle, domid, (unsigned)i, nics[i].tap, nics[i].ip, tap) !=
		    HVCTL_OK)
			return failed(what);
		snprintf(what, sizeof(what), "add interface %d to domain %u", i, domid);
		if (hvctl_device_add(handle, domid, &dev) != HVCTL_OK)
			return failed(what);
		fprintf(stderr,
		        "hvctl: domain %u interface %d: %02x:%02x:%02x:%02x:%02x:%02x on %s\n",
		        domid, i, dev.mac[0], dev.mac[1], dev.mac[2], dev.mac[3], dev.mac[4],
		        dev.mac[5], tap);
	}
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {{"memory", required_argument, NULL, 'm'},
	                                     {"vcpus", required_argument, NULL, 'v'},
	                                     {"cmdline", required_argument, NULL, 'c'},
	                                     {"ramdisk", required_argument, NULL, 'R'},
	                                     {"name", required_argument, NULL, 'n'},
	                                     {"weight", required_argument, NULL, 'w'},
	                                     {"cap", required_argument, NULL, 'C'},
	                                     {"reservation", required_argument, NULL, 'r'},
	                                     {"paused", no_argument, NULL, 'p'},
	                                     {"disk", required_argument, NULL, 'D'},
	                                     {"nic", required_argument, NULL, 'N'},
	                                     HELP_OPT,
	                                     {0}};
	hvctl_domain_create_args ca = {0};
	hvctl_build_args ba = {0};
	const char *cmdline = "", *name = NULL, *ramdisk_path = NULL;
	uint64_t mem = 0, vcpus = 1, v;
	int c, paused = 0, rc;
	uint32_t domid = 0;
	void *image, *ramdisk = NULL;
	size_t len = 0, ramdisk_len = 0;
	char what[64];
	struct disk_arg disks[MAX_DEVS];
	struct nic_arg nics[MAX_DEVS];
	int ndisks = 0, nnics = 0;

	while ((c = sub_getopt(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'D':
			if (ndisks == MAX_DEVS)
				return usage_error("at most %d disks", MAX_DEVS);
			if (parse_disk(optarg, &disks[ndisks], ndisks))
				return EXIT_USAGE;
			ndisks++;
			break;
		case 'N':
			if (nnics == MAX_DEVS)
				return usage_error("at most %d interfaces", MAX_DEVS);
			if (parse_nic(optarg, &nics[nnics]))
				return EXIT_USAGE;
			nnics++;
			break;
		case 'm':
			if (parse_u64(optarg, UINT64_MAX / 1024, &mem) || mem == 0)
				return usage_error("--memory wants MiB, a positive number: '%s'",
				                   optarg);
			break;
		case 'v':
			if (parse_u64(optarg, 4096, &vcpus) || vcpus == 0)
				return usage_error("--vcpus wants a number from 1: '%s'", optarg);
			break;
		case 'c':
			cmdline = optarg;
			if (strlen(cmdline) > 1023)
				return usage_error("--cmdline is longer than 1023 bytes");
			break;
		case 'n':
			name = optarg;
			break;
		case 'R':
			ramdisk_path = optarg;
			break;
		case 'w':
		case 'C':
		case 'r':
			if (parse_u64(optarg, c == 'w' ? 65535 : 100000, &v))
				return usage_error("--%s wants a number: '%s'",
				                   c == 'w'   ? "weight"
				                   : c == 'C' ? "cap"
				                              : "reservation",
				                   optarg);
			if (c == 'w')
				ca.weight = (unsigned)v;
			else if (c == 'C')
				ca.cap = (unsigned)v;
			else
				ca.reservation = (unsigned)v;
			break;
		case 'p':
			paused = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return usage_error("expects the kernel image (a PV ELF or a bzImage) and no more");
	if (!mem)
		return usage_error("--memory MiB is required");
	image = read_file(argv[optind], &len);
	if (!image) {
		fprintf(stderr, "hvctl create: cannot read %s: %s\n", argv[optind],
		        errno ? strerror(errno) : "empty file");
		return EXIT_FAILED;
	}
	if (ramdisk_path && !(ramdisk = read_file(ramdisk_path, &ramdisk_len))) {
		fprintf(stderr, "hvctl create: cannot read the ramdisk %s: %s\n", ramdisk_path,
		        errno ? strerror(errno) : "empty file");
		free(image);
		return EXIT_FAILED;
	}
	if ((rc = connect_machine())) {
		free(image);
		free(ramdisk);
		return rc;
	}
	ca.max_vcpus = (unsigned)vcpus;
	ca.max_mem_kib = ca.current_mem_kib = mem * 1024;
	if (hvctl_domain_create(handle, &ca, &domid) != HVCTL_OK) {
		free(image);
		free(ramdisk);
		return failed("create");
	}
	ba.kernel = image;
	ba.kernel_len = len;
	ba.ramdisk = ramdisk;
	ba.ramdisk_len = ramdisk_len;
	ba.cmdline = cmdline;
	snprintf(what, sizeof(what), "build domain %u", domid);
	rc = hvctl_domain_build(handle, domid, &ba) != HVCTL_OK ? failed(what) : 0;
	free(image);
	free(ramdisk);
	if (!rc)
		rc = add_devices(domid, disks, ndisks, nics, nnics);
	if (rc) {
		hvctl_domain_destroy(handle, domid); /* no half-built domain left behind */
		return rc;
	}
	if (!paused && hvctl_domain_unpause(handle, domid) != HVCTL_OK)
		return failed("unpause");
	/* hv has no domain names (they live in virthvd): --name only labels this output. */
	printf("%u%s%s\n", domid, name ? " " : "", name ? name : "");
	return 0;
}

/* What the machine's holder backs: one line per device. */
static int cmd_backing(int argc, char **argv)
{
	hvctl_backing list[64];
	unsigned n = 0, i;
	int rc;

	if (plain_args(argc, argv, 0) < 0)
		return EXIT_USAGE;
	if ((rc = connect_machine()))
		return rc;
	if (hvctl_backing_list(handle, list, 64, &n) != HVCTL_OK)
		return failed("list the devices' backing");
	for (i = 0; i < n; i++) {
		const hvctl_backing *b = &list[i];

		if (b->kind == HVCTL_DEVICE_DISK)
			printf("%u disk %u %s %s sectors=%llu reads=%llu writes=%llu flushes=%llu "
			       "discards=%llu read_bytes=%llu written_bytes=%llu errors=%llu\n",
			       b->domid, b->devid, b->readonly ? "ro" : "rw", b->name,
			       (unsigned long long)b->sectors, (unsigned long long)b->ops[0],
			       (unsigned long long)b->ops[1], (unsigned long long)b->ops[2],
			       (unsigned long long)b->ops[3], (unsigned long long)b->bytes[0],
			       (unsigned long long)b->bytes[1], (unsigned long long)b->errors);
		else
			printf("%u nic %u %s to_tap=%llu from_tap=%llu to_tap_bytes=%llu "
			       "from_tap_bytes=%llu to_tap_dropped=%llu from_tap_dropped=%llu\n",
			       b->domid, b->devid, b->name, (unsigned long long)b->ops[0],
			       (unsigned long long)b->ops[1], (unsigned long long)b->bytes[0],
			       (unsigned long long)b->bytes[1], (unsigned long long)b->ops[2],
			       (unsigned long long)b->ops[3]);
	}
	return 0;
}

static int simple_domain_op(int argc, char **argv, int (*op)(hvctl *, uint32_t), const char *what)
{
	uint32_t domid = 0;
	int i, rc;

	if ((i = plain_args(argc, argv, 1)) < 0 || parse_domid(argv[i], &domid))
		return EXIT_USAGE;
	if ((rc = connect_machine()))
		return rc;
	if (op(handle, domid) != HVCTL_OK)
		return failed(what);
	return 0;
}

static int cmd_pause(int argc, char **argv)
{
	return simple_domain_op(argc, argv, hvctl_domain_pause, "pause");
}

static int cmd_unpause(int argc, char **argv)
{
	return simple_domain_op(argc, argv, hvctl_domain_unpause, "unpause");
}

static int cmd_destroy(int argc, char **argv)
{
	return simple_domain_op(argc, argv, hvctl_domain_destroy, "destroy");
}

static int cmd_shutdown(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"reason", required_argument, NULL, 'r'}, HELP_OPT, {0}};
	static const char *reasons[] = {"poweroff", "reboot", "suspend", "crash"};
	hvctl_shutdown_reason reason = HVCTL_SHUTDOWN_POWEROFF;
	uint32_t domid = 0;
	int c, i, rc;

	while ((c = sub_getopt(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'r')
			return EXIT_USAGE;
		for (i = 0; i < 4 && strcmp(optarg, reasons[i]); i++)
			;
		if (i == 4)
			return usage_error(
			    "--reason is poweroff, reboot, suspend or crash, not '%s'", optarg);
		reason = (hvctl_shutdown_reason)i;
	}
	if (argc - optind != 1)
		return usage_error("expects one domain id");
	if (parse_domid(argv[optind], &domid))
		return EXIT_USAGE;
	if ((rc = connect_machine()))
		return rc;
	if (hvctl_domain_shutdown(handle, domid, reason) != HVCTL_OK)
		return failed("shutdown");
	return 0;
}

/* "a,p,b[,f]": up to max comma-separated numbers into v (missing ones stay 0). */
static int parse_rates(const char *s, uint64_t *v, int max)
{
	char buf[128], *save = NULL, *tok;
	int n = 0;

	if (strlen(s) >= sizeof(buf))
		return -1;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max || parse_u64(tok, UINT64_MAX / 1024, &v[n]))
			return -1;
		n++;
	}
	return n ? 0 : -1;
}

static void print_bw(const char *what, const hvctl_bandwidth *bw)
{
	printf("%s average=%llu peak=%llu burst=%llu floor=%llu iops=%llu\n", what,
	       (unsigned long long)bw->average, (unsigned long long)bw->peak,
	       (unsigned long long)bw->burst, (unsigned long long)bw->floor,
	       (unsigned long long)bw->iops);
}

/* Sets (with options) or shows a disk's I/O limits: blkdeviotune DOMID DISK. */
static int cmd_blkdeviotune(int argc, char **argv)
{
	static const struct option opts[] = {{"average", required_argument, NULL, 'a'},
	                                     {"iops", required_argument, NULL, 'i'},
	                                     HELP_OPT,
	                                     {0}};
	hvctl_bandwidth bw = {.kind = HVCTL_BW_BLOCK};
	uint64_t v;
	uint32_t domid = 0;
	int c, rc, set = 0, devid;

	while ((c = sub_getopt(argc, argv, "h", opts, NULL)) != -1) {
		if ((c != 'a' && c != 'i') || parse_u64(optarg, UINT64_MAX / 1024, &v))
			return c == 'a' || c == 'i'
			           ? usage_error("--%s wants a number, not '%s'",
			                         c == 'a' ? "average" : "iops", optarg)
			           : EXIT_USAGE;
		if (c == 'a')
			bw.average = v;
		else
			bw.iops = v;
		set = 1;
	}
	if (argc - optind != 2)
		return usage_error("expects a domain id and a disk (xvda..xvdp)");
	if (parse_domid(argv[optind], &domid))
		return EXIT_USAGE;
	devid = hvctl_disk_devid(argv[optind + 1]);
	if (devid < 0)
		return usage_error("'%s' is not a disk name (xvda..xvdp)", argv[optind + 1]);
	bw.index = (unsigned)devid;
	if ((rc = connect_machine()))
		return rc;
	if (set && hvctl_bandwidth_set(handle, domid, &bw) != HVCTL_OK)
		return failed("blkdeviotune");
	if (hvctl_bandwidth_get(handle, domid, &bw) != HVCTL_OK)
		return failed("blkdeviotune");
	print_bw(argv[optind + 1], &bw);
	return 0;
}

/* Sets (with options) or shows an interface's bandwidth: domiftune DOMID N. */
static int cmd_domiftune(int argc, char **argv)
{
	static const struct option opts[] = {{"inbound", required_argument, NULL, 'i'},
	                                     {"outbound", required_argument, NULL, 'o'},
	                                     HELP_OPT,
	                                     {0}};
	hvctl_bandwidth in = {.kind = HVCTL_BW_NET_IN}, out = {.kind = HVCTL_BW_NET_OUT};
	uint64_t v[4];
	uint64_t n;
	uint32_t domid = 0;
	int c, rc, set_in = 0, set_out = 0;

	while ((c = sub_getopt(argc, argv, "h", opts, NULL)) != -1) {
		if (c != 'i' && c != 'o')
			return EXIT_USAGE;
		memset(v, 0, sizeof(v));
		if (parse_rates(optarg, v, c == 'i' ? 4 : 3))
			return usage_error(
			    "--%s wants average[,peak[,burst%s]] in KiB/s and KiB, not "
			    "'%s'",
			    c == 'i' ? "inbound" : "outbound", c == 'i' ? "[,floor]" : "", optarg);
		if (c == 'i') {
			in.average = v[0], in.peak = v[1], in.burst = v[2], in.floor = v[3];
			set_in = 1;
		} else {
			out.average = v[0], out.peak = v[1], out.burst = v[2];
			set_out = 1;
		}
	}
	if (argc - optind != 2)
		return usage_error("expects a domain id and an interface number");
	if (parse_domid(argv[optind], &domid))
		return EXIT_USAGE;
	if (parse_u64(argv[optind + 1], 65535, &n))
		return usage_error("'%s' is not an interface number", argv[optind + 1]);
	in.index = out.index = (unsigned)n;
	if ((rc = connect_machine()))
		return rc;
	if ((set_in && hvctl_bandwidth_set(handle, domid, &in) != HVCTL_OK) ||
	    (set_out && hvctl_bandwidth_set(handle, domid, &out) != HVCTL_OK))
		return failed("domiftune");
	if (hvctl_bandwidth_get(handle, domid, &in) != HVCTL_OK ||
	    hvctl_bandwidth_get(handle, domid, &out) != HVCTL_OK)
		return failed("domiftune");
	print_bw("inbound", &in);
	print_bw("outbound", &out);
	return 0;
}

static int cmd_sched_get(int argc, char **argv)
{
	hvctl_sched_params p;
	uint32_t domid = 0;
	int i, rc;

	if ((i = plain_args(argc, argv, 1)) < 0 || parse_domid(argv[i], &domid))
		return EXIT_USAGE;
	if ((rc = connect_machine()))
		return rc;
	if (hvctl_sched_get(handle, domid, &p) != HVCTL_OK)
		return failed("sched-get");
	printf("weight: %u\ncap: %u\nreservation: %u\n", p.weight, p.cap, p.reservation);
	return 0;
}

static int cmd_sched_set(int argc, char **argv)
{
	static const struct option opts[] = {{"weight", required_argument, NULL, 'w'},
	                                     {"cap", required_argument, NULL, 'c'},
	                                     {"reservation", required_argument, NULL, 'r'},
	                                     HELP_OPT,
	                                     {0}};
	int have_w = 0, have_c = 0, have_r = 0, c, rc;
	uint64_t w = 0, cap = 0, r = 0;
	hvctl_sched_params p;
	uint32_t domid = 0;

	while ((c = sub_getopt(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (parse_u64(optarg, 65535, &w) || w == 0)
				return usage_error("--weight is 1..65535, not '%s'", optarg);
			have_w = 1;
			break;
		case 'c':
			if (parse_u64(optarg, 100000, &cap))
				return usage_error("--cap is a percentage of one CPU, not '%s'",
				                   optarg);
			have_c = 1;
			break;
		case 'r':
			if (parse_u64(optarg, 100000, &r))
				return usage_error(
				    "--reservation is a percentage of one CPU, not '%s'", optarg);
			have_r = 1;
			break;
		default:
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1)
		return usage_error("expects one domain id");
	if (parse_domid(argv[optind], &domid))
		return EXIT_USAGE;
	if (!have_w && !have_c && !have_r)
		return usage_error("give at least one of --weight, --cap, --reservation");
	if ((rc = connect_machine()))
		return rc;
	/* Parameters not given keep their values. */
	if (hvctl_sched_get(handle, domid, &p) != HVCTL_OK)
		return failed("sched-set");
	if (have_w)
		p.weight = (unsigned)w;
	if (have_c)
		p.cap = (unsigned)cap;
	if (have_r)
		p.reservation = (unsigned)r;
	if (hvctl_sched_set(handle, domid, &p) != HVCTL_OK)
		return failed("sched-set");
	return 0;
}

static int cmd_mem_set(int argc, char **argv)
{
	static const struct option opts[] = {{"max", required_argument, NULL, 'm'},
	                                     {"current", required_argument, NULL, 'c'},
	                                     {"guarantee", required_argument, NULL, 'g'},
	                                     HELP_OPT,
	                                     {0}};
	uint64_t val[3];
	int have[3] = {0, 0, 0}, c, rc, k;
	uint32_t domid = 0;

	while ((c = sub_getopt(argc, argv, "h", opts, NULL)) != -1) {
		k = c == 'm' ? 0 : c == 'c' ? 1 : c == 'g' ? 2 : -1;
		if (k < 0)
			return EXIT_USAGE;
		if (parse_kib(optarg, &val[k]))
			return usage_error("'%s' is not a size (KiB, or with a suffix K, M, G)",
			                   optarg);
		have[k] = 1;
	}
	if (argc - optind != 1)
		return usage_error("expects one domain id");
	if (parse_domid(argv[optind], &domid))
		return EXIT_USAGE;
	if (!have[0] && !have[1] && !have[2])
		return usage_error("give at least one of --max, --current, --guarantee");
	if ((rc = connect_machine()))
		return rc;
	/* max first, so that raising max and current together works in one command. */
	if (have[0] && hvctl_domain_set_max_mem(handle, domid, val[0]) != HVCTL_OK)
		return failed("mem-set --max");
	if (have[1] && hvctl_domain_set_current_mem(handle, domid, val[1]) != HVCTL_OK)
		return failed("mem-set --current");
	if (have[2] && hvctl_domain_set_mem_guarantee(handle, domid, val[2]) != HVCTL_OK)
		return failed("mem-set --guarantee");
	return 0;
}

static int cmd_vcpus_set(int argc, char **argv)
{
	uint32_t domid = 0;
	uint64_t n;
	int i, rc;

	if ((i = plain_args(argc, argv, 2)) < 0 || parse_domid(argv[i], &domid))
		return EXIT_USAGE;
	if (parse_u64(argv[i + 1], 4096, &n) || n == 0)
		return usage_error("'%s' is not a number of vcpus", argv[i + 1]);
	if ((rc = connect_machine()))
		return rc;
	if (hvctl_domain_set_vcpus(handle, domid, (unsigned)n) != HVCTL_OK)
		return failed("vcpus-set");
	return 0;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int cmd_console(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"once", no_argument, NULL, 'o'}, {"no-input", no_argument, NULL, 'n'}, HELP_OPT, {0}};
	struct termios saved, raw;
	int once = 0, input = 1, c, rc, tty = 0, status = 0;
	uint32_t domid = 0;

	while ((c = sub_getopt(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'o')
			once = 1;
		else if (c == 'n')
			input = 0;
		else
			return EXIT_USAGE;
	}
	if (argc - optind != 1)
		return usage_error("expects one domain id");
	if (parse_domid(argv[optind], &domid))
		return EXIT_USAGE;
	if ((rc = connect_machine()))
		return rc;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (input && !once && isatty(0) && tcgetattr(0, &saved) == 0) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		tty = 1;
		fprintf(stderr, "[console of domain %u; Ctrl-] leaves]\r\n", domid);
	}
	while (!interrupted) {
		char buf[4096];
		size_t got = 0;
		struct pollfd p = {.fd = 0, .events = POLLIN};

		if (hvctl_console_read(handle, domid, buf, sizeof(buf), &got) != HVCTL_OK) {
			status = failed("console");
			break;
		}
		if (got && fwrite(buf, 1, got, stdout) != got)
			break;
		fflush(stdout);
		if (once && got == 0)
			break;
		if (got)
			continue; /* more may be waiting */
		if (input && poll(&p, 1, 50) == 1) {
			ssize_t n = read(0, buf, sizeof(buf));
			size_t written = 0;

			if (n <= 0) {
				input = 0; /* EOF: keep showing output until interrupted */
				continue;
			}
			if (tty && memchr(buf, 0x1d, (size_t)n))
				break;
			/* The console's input buffer may take part now, the rest later. */
			while (written < (size_t)n && !interrupted) {
				size_t w = 0;

				if (hvctl_console_write(handle, domid, buf + written,
				                        (size_t)n - written, &w) != HVCTL_OK) {
					status = failed("console");
					break;
				}
				written += w;
				if (!w)
					usleep(20000);
			}
			if (status)
				break;
		} else if (!input) {
			usleep(50000);
		}
	}
	if (tty)
		tcsetattr(0, TCSANOW, &saved);
	return status;
}

static void print_event(const hvctl_event *ev, void *opaque)
{
	unsigned long *count = opaque;

	switch (ev->kind) {
	case HVCTL_EVENT_DOMAIN_STATE:
		if (ev->state == HVCTL_DOMAIN_SHUTDOWN)
			printf("domain %u %s %s\n", ev->domid, state_name(ev->state),
			       reason_name(ev->shutdown_reason));
		else
			printf("domain %u %s\n", ev->domid, state_name(ev->state));
		break;
	case HVCTL_EVENT_LINK_UP:
		printf("link up\n");
		break;
	case HVCTL_EVENT_LINK_DOWN:
		printf("link down %s\n", ev->message);
		break;
	}
	fflush(stdout);
	__atomic_add_fetch(count, 1, __ATOMIC_SEQ_CST);
}

static int cmd_events(int argc, char **argv)
{
	static const struct option opts[] = {{"count", required_argument, NULL, 'c'},
	                                     {"for", required_argument, NULL, 'f'},
	                                     HELP_OPT,
	                                     {0}};
	uint64_t max = 0, secs = 0;
	unsigned long count = 0;
	struct timespec start, now;
	int c, rc;

	while ((c = sub_getopt(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'c' && !parse_u64(optarg, UINT32_MAX, &max) && max)
			continue;
		if (c == 'f' && !parse_u64(optarg, 86400 * 365, &secs))
			continue;
		if (c == 'c' || c == 'f')
			return usage_error("--%s wants a positive number, not '%s'",
			                   c == 'c' ? "count" : "for", optarg);
		return EXIT_USAGE;
	}
	if (argc - optind != 0)
		return usage_error("takes no arguments");
	if ((rc = connect_machine()))
		return rc;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (hvctl_subscribe(handle, print_event, &count) != HVCTL_OK)
		return failed("events");
	printf("subscribed\n");
	fflush(stdout);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!interrupted) {
		if (max && __atomic_load_n(&count, __ATOMIC_SEQ_CST) >= max)
			break;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (secs && (uint64_t)(now.tv_sec - start.tv_sec) >= secs)
			break;
		usleep(20000);
	}
	hvctl_unsubscribe(handle);
	return 0;
}

static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
    {"list", "", "Lists the domains: id, state, vcpus, memory (KiB), CPU time (ms).", cmd_list},
    {"info", "DOMID", "Shows one domain's state, vcpus, memory and CPU time.", cmd_info},
    {"physinfo", "", "Shows hv's version and the machine: CPUs, memory, free reservation.",
     cmd_physinfo},
    {"create",
     "KERNEL --memory MiB [--vcpus N] [--cmdline TEXT] [--ramdisk FILE] [--name NAME] "
     "[--weight W] [--cap PCT] [--reservation PCT] [--paused]\n"
     "       [--disk FILE[,ro][,dev=xvdX]]... [--nic auto|[MAC][,tap=NAME][,ip=A.B.C.D/NN]]...",
     "Creates a domain, sends it the kernel (a PV ELF, or a Linux bzImage such as\n"
     "/boot/vmlinuz-*) and the ramdisk over the link, builds it, gives it its devices and\n"
     "(unless --paused) unpauses it. Prints the new domain id (and NAME, which only labels\n"
     "the output: hv itself has no domain names). A domain whose build or devices fail is\n"
     "destroyed.\n"
     "--disk: FILE backs the next disk (xvda, xvdb, ... unless dev= says), read-only with\n"
     "ro. --nic: the next interface (0, 1, ...) with MAC (default 00:16:3e:..; 'auto' takes\n"
     "every default), backed by a\n"
     "TAP on this host named NAME (default hv<domid>.<n>) that gets the address ip= if\n"
     "given. The machine's holder (hv-machine) opens the files and TAPs.",
     cmd_create},
    {"backing", "",
     "Lists the files and TAPs that back the domains' devices.\n"
     "One line per device: domid, kind, device number, then the file (rw/ro, size,\n"
     "operations) or the TAP (frames each way), as the machine's holder keeps them.",
     cmd_backing},
    {"blkdeviotune", "DOMID DISK [--average KiB/s] [--iops N]",
     "Sets (with options) and shows a disk's I/O limits.\n"
     "The disk is xvda..xvdp; dom0's block back end enforces the average bytes (KiB/s)\n"
     "and operations per second; 0 = none.",
     cmd_blkdeviotune},
    {"domiftune", "DOMID N [--inbound AVG[,PEAK[,BURST[,FLOOR]]]] [--outbound AVG[,PEAK[,BURST]]]",
     "Sets (with options) and shows a network interface's bandwidth.\n"
     "N is 0, 1, ...; dom0's switch enforces it: rates in KiB/s, burst in KiB, 0 = none;\n"
     "the floor is the inbound rate the interface keeps when others contend.",
     cmd_domiftune},
    {"pause", "DOMID", "Pauses a domain.", cmd_pause},
    {"unpause", "DOMID", "Unpauses a domain (also starts a created one).", cmd_unpause},
    {"shutdown", "DOMID [--reason poweroff|reboot|suspend|crash]",
     "Asks a domain to shut down (default reason poweroff).", cmd_shutdown},
    {"destroy", "DOMID", "Destroys a domain at once.", cmd_destroy},
    {"sched-get", "DOMID", "Shows a domain's weight, cap and reservation.", cmd_sched_get},
    {"sched-set", "DOMID [--weight 1..65535] [--cap PCT] [--reservation PCT]",
     "Changes a domain's scheduler parameters; those not given keep their values.\n"
     "cap and reservation are percentages of one CPU, 0 = none. A reservation that does\n"
     "not fit beside the others is refused.",
     cmd_sched_set},
    {"mem-set", "DOMID [--max SIZE] [--current SIZE] [--guarantee SIZE]",
     "Sets a domain's maximum, current (balloon target) and guaranteed memory.\n"
     "SIZE is in KiB, or with a suffix K, M or G.",
     cmd_mem_set},
    {"vcpus-set", "DOMID N", "Sets the number of online vcpus.", cmd_vcpus_set},
    {"console", "DOMID [--once] [--no-input]",
     "Connects to a domain's console: its output to stdout, stdin to its input.\n"
     "On a terminal, Ctrl-] leaves. --once prints what is waiting and exits;\n"
     "--no-input only shows output (until interrupted).",
     cmd_console},
    {"events", "[--count N] [--for SECONDS]",
     "Prints domain state changes as they happen, one per line (\"domain 3 running\"),\n"
     "after a first line \"subscribed\"; stops after N events, after SECONDS, or on Ctrl-C.",
     cmd_events},
    {"help", "[COMMAND]", "Shows the commands, or one command's help.", cmd_help},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	unsigned i;

	fprintf(out, "usage: hvctl [--machine DIR] [--timeout SECONDS] COMMAND [ARGS]\n"
	             "\n"
	             "hv's control interface over the management link of a machine started by\n"
	             "hv-machine (DIR is its state directory; default $HV_MACHINE).\n"
	             "\n"
	             "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++) /* the first line of each help */
		fprintf(out, "  %-12s %.*s\n", commands[i].name,
		        (int)strcspn(commands[i].help, "\n"), commands[i].help);
	fprintf(out, "\n'hvctl COMMAND --help' shows a command's help.\n"
	             "Exit status: 0 success, 1 the operation failed, 2 usage error,\n"
	             "3 the machine could not be reached.\n");
}

static const struct command *find_command(const char *name)
{
	unsigned i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	c = find_command(argv[1]);
	if (!c)
		return usage_error("no command '%s'", argv[1]);
	printf("usage: hvctl [--machine DIR] %s %s\n\n%s\n", c->name, c->args, c->help);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"machine", required_argument, NULL, 'M'},
	                                     {"timeout", required_argument, NULL, 't'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {"version", no_argument, NULL, 'V'},
	                                     {0}};
	uint64_t secs;
	int c, rc;

	signal(SIGPIPE, SIG_IGN);
	while ((c = getopt_long(argc, argv, "+hM:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'M':
			machine_dir = optarg;
			break;
		case 't':
			if (parse_u64(optarg, 3600, &secs) || secs == 0)
				return usage_error("--timeout wants seconds (1..3600), not '%s'",
				                   optarg);
			timeout_ms = (unsigned)secs * 1000;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("hvctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	current = find_command(argv[optind]);
	if (!current) {
		fprintf(stderr, "hvctl: no command '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	optind = 0; /* 0, not 1: glibc then forgets the global "+" (stop at the first non-option) */
	rc = current->run(argc, argv);
	if (handle)
		hvctl_close(handle);
	return rc;
}
