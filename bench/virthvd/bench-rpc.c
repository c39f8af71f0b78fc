/*
 * bench-rpc: latency of two libvirt calls through a daemon's socket, from a C client (libvirt's
 * C API, the stock client library), for virthvd against libvirtd (issue 8's benchmark).
 *
 *   bench-rpc [--count N] [--domains N] [--running N] [--memory-mib N] [--kernel PATH]
 *             [--block N] URI [URI...]
 *
 * For each URI: connects, defines --domains domains named bench-rpc-NNN (--memory-mib each,
 * default 64) and starts the first --running of them (default none), then times
 * virDomainGetInfo on the first one (bench-rpc-000) and virConnectListAllDomains(0).
 * The URIs are measured interleaved, in blocks of --block calls of one kind on one URI at a
 * time, so that every daemon sees the same host load; each call is timed on its own with
 * CLOCK_MONOTONIC, and the list's domain objects are freed outside the timed part. Warm-up
 * calls (one block each) are not counted. At the end every domain it made is destroyed and
 * undefined again.
 *
 * The domain XML is chosen by the URI's driver: type 'hv' (the PV kernel --kernel with the
 * command line "shell"; virthvd's simulated backend does not read it, the real machine boots it)
 * or type 'test' (libvirt's test driver). A test
 * driver's built-in domain "test" is destroyed and undefined first, so that both daemons list
 * the same number of domains.
 *
 * Output, one line per measured call and URI (nanoseconds):
 *   result URI CALL median=N p10=N p90=N min=N n=N domains=N
 * Exit status 0 when every call succeeded, 1 otherwise (with libvirt's message on stderr).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define MAX_URIS 4
#define NAME_FMT "bench-rpc-%03u"

enum { CALL_GET_INFO, CALL_LIST_ALL, NCALLS };
static const char *call_names[NCALLS] = {"virDomainGetInfo", "virConnectListAllDomains"};

struct target {
	const char *uri;
	virConnectPtr conn;
	virDomainPtr probe; /* the domain whose info is read */
	int listed;         /* domains the last list returned */
	long long *samples[NCALLS];
	unsigned nsamples[NCALLS];
};

static unsigned opt_count = 10000, opt_domains = 100, opt_block = 100, opt_running,
                opt_memory_mib = 64;
static const char *opt_kernel = "/var/lib/hv/images/guest-kernel.elf";

static void die(const char *what, const char *uri)
{
	virErrorPtr e = virGetLastError();

	fprintf(stderr, "bench-rpc: %s (%s): %s\n", what, uri, e && e->message ? e->message : "?");
	exit(1);
}

/* libvirt prints every error by default, even the expected "no such domain" of a lookup. */
static void quiet(void *opaque, virErrorPtr e)
{
	(void)opaque;
	(void)e;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int is_test_driver(const char *uri)
{
	return strncmp(uri, "test:", 5) == 0 || strncmp(uri, "test+", 5) == 0;
}

static char *domain_xml(const char *uri, unsigned i)
{
	char *xml = NULL;
	int n;

	if (is_test_driver(uri))
		n = asprintf(&xml,
		             "<domain type='test'><name>" NAME_FMT "</name>"
		             "<uuid>6a1c0000-0000-4000-8000-%012x</uuid>"
		             "<memory unit='MiB'>%u</memory><vcpu>1</vcpu>"
		             "<os><type arch='x86_64'>hvm</type></os></domain>",
		             i, i, opt_memory_mib);
	else
		n = asprintf(&xml,
		             "<domain type='hv'><name>" NAME_FMT "</name>"
		             "<uuid>6a1c0000-0000-4000-8000-%012x</uuid>"
		             "<memory unit='MiB'>%u</memory><vcpu>1</vcpu>"
		             "<os><type arch='x86_64'>linux</type>"
		             "<kernel>%s</kernel>"
		             "<cmdline>shell</cmdline></os></domain>",
		             i, i, opt_memory_mib, opt_kernel);
	return n < 0 ? NULL : xml;
}

/* Removes a domain by name if it exists (left from an earlier run, or the test driver's own). */
static void remove_domain(virConnectPtr conn, const char *name)
{
	virDomainPtr d = virDomainLookupByName(conn, name);

	if (!d) {
		virResetLastError();
		return;
	}
	if (virDomainIsActive(d) == 1)
		virDomainDestroy(d);
	virDomainUndefine(d);
	virDomainFree(d);
	virResetLastError();
}

static void setup(struct target *t)
{
	char name[64];

	t->conn = virConnectOpen(t->uri);
	if (!t->conn)
		die("cannot connect", t->uri);
	if (is_test_driver(t->uri))
		remove_domain(t->conn, "test");
	for (unsigned i = 0; i < opt_domains; i++) {
		char *xml = domain_xml(t->uri, i);
		virDomainPtr d;

		snprintf(name, sizeof(name), NAME_FMT, i);
		remove_domain(t->conn, name);
		if (!xml || !(d = virDomainDefineXML(t->conn, xml)))
			die("cannot define a domain", t->uri);
		free(xml);
		if (i < opt_running && virDomainCreate(d) < 0)
			die("cannot start a domain", t->uri);
		virDomainFree(d);
	}
	snprintf(name, sizeof(name), NAME_FMT, 0u);
	t->probe = virDomainLookupByName(t->conn, name);
	if (!t->probe)
		die("cannot look up the probe domain", t->uri);
	for (int c = 0; c < NCALLS; c++) {
		t->samples[c] = calloc(opt_count, sizeof(long long));
		if (!t->samples[c]) {
			fprintf(stderr, "bench-rpc: out of memory\n");
			exit(1);
		}
	}
}

static void teardown(struct target *t)
{
	char name[64];

	virDomainFree(t->probe);
	for (unsigned i = 0; i < opt_domains; i++) {
		snprintf(name, sizeof(name), NAME_FMT, i);
		remove_domain(t->conn, name);
	}
	virConnectClose(t->conn);
}

/* Runs n calls of one kind; stores their times when record is set. */
static void run_block(struct target *t, int call, unsigned n, int record)
{
	for (unsigned k = 0; k < n; k++) {
		virDomainInfo info;
		virDomainPtr *doms = NULL;
		long long t0, t1;
		int rc;

		t0 = now_ns();
		if (call == CALL_GET_INFO)
			rc = virDomainGetInfo(t->probe, &info);
		else
			rc = virConnectListAllDomains(t->conn, &doms, 0);
		t1 = now_ns();
		if (rc < 0)
			die(call_names[call], t->uri);
		if (call == CALL_GET_INFO && opt_running && info.state != VIR_DOMAIN_RUNNING) {
			fprintf(stderr,
			        "bench-rpc: %s: the probe domain is in state %d, not running\n",
			        t->uri, info.state);
			exit(1);
		}
		if (call == CALL_LIST_ALL) {
			t->listed = rc;
			for (int i = 0; i < rc; i++)
				virDomainFree(doms[i]);
			free(doms);
		}
		if (record)
			t->samples[call][t->nsamples[call]++] = t1 - t0;
	}
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static void report(struct target *t)
{
	for (int c = 0; c < NCALLS; c++) {
		long long *s = t->samples[c];
		unsigned n = t->nsamples[c];

		qsort(s, n, sizeof(*s), cmp_ll);
		printf("result %s %s median=%lld p10=%lld p90=%lld min=%lld n=%u domains=%d\n",
		       t->uri, call_names[c], s[n / 2], s[n / 10], s[n * 9 / 10], s[0], n,
		       t->listed);
	}
}

static void usage(FILE *out)
{
	fprintf(out, "usage: bench-rpc [--count N] [--domains N] [--running N] [--memory-mib N]\n"
	             "                 [--kernel PATH] [--block N] URI...\n");
}

static unsigned parse_count(const char *s, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (!*s || *end || v == 0 || v > 10000000) {
		fprintf(stderr, "bench-rpc: --%s wants a positive number, not '%s'\n", what, s);
		exit(2);
	}
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"count", required_argument, NULL, 'c'},
	                                     {"domains", required_argument, NULL, 'd'},
	                                     {"block", required_argument, NULL, 'b'},
	                                     {"running", required_argument, NULL, 'r'},
	                                     {"memory-mib", required_argument, NULL, 'm'},
	                                     {"kernel", required_argument, NULL, 'k'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	struct target targets[MAX_URIS];
	unsigned ntargets, done, round = 0;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			opt_count = parse_count(optarg, "count");
			break;
		case 'd':
			opt_domains = parse_count(optarg, "domains");
			break;
		case 'b':
			opt_block = parse_count(optarg, "block");
			break;
		case 'r':
			opt_running = parse_count(optarg, "running");
			break;
		case 'm':
			opt_memory_mib = parse_count(optarg, "memory-mib");
			break;
		case 'k':
			opt_kernel = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	ntargets = (unsigned)(argc - optind);
	if (ntargets == 0 || ntargets > MAX_URIS) {
		usage(stderr);
		return 2;
	}
	virSetErrorFunc(NULL, quiet);
	memset(targets, 0, sizeof(targets));
	for (unsigned i = 0; i < ntargets; i++) {
		targets[i].uri = argv[optind + i];
		setup(&targets[i]);
	}
	for (unsigned i = 0; i < ntargets; i++)
		for (c = 0; c < NCALLS; c++)
			run_block(&targets[i], c, opt_block, 0);
	for (done = 0; done < opt_count;) {
		unsigned n = opt_count - done < opt_block ? opt_count - done : opt_block;

		/* Each round starts with the next URI, so that none always goes first. */
		for (c = 0; c < NCALLS; c++)
			for (unsigned i = 0; i < ntargets; i++)
				run_block(&targets[(i + round) % ntargets], c, n, 1);
		done += n;
		round++;
	}
	for (unsigned i = 0; i < ntargets; i++) {
		report(&targets[i]);
		teardown(&targets[i]);
	}
	return 0;
}
