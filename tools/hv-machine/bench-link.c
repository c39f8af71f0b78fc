/*
 * bench-link: the control plane's two benchmarks, on one machine started here (QEMU with hv and
 * dom0 = guest-kernel in `agent` mode), all figures from the same boot:
 *
 *  1. Round trip of a null control request from the host through the management link, dom0's
 *     agent and hv and back: PHYSINFO (the agent makes one read-only control hypercall), and
 *     HELLO (the agent alone, for reference); median of --count, against the median of a QMP
 *     query-status to the same QEMU, measured in the same run, interleaved in blocks of 100 so
 *     that both see the same machine load. Both go through the library as every client does
 *     (hvctl: the machine's control relay socket; QMP: the starter's QMP connection).
 *  2. Image transfer throughput: --image-mib of random bytes streamed on the bulk channel
 *     (BEGIN, DATA..., END: the agent checks the image with the 64-bit sums of link protocol
 *     1.1, or CRC-32 with a 1.0 agent), best of --transfers, against
 *     dom0's own memcpy bandwidth, which the agent measures at start and prints on the console.
 *
 *   bench-link --hv hv/hv.elf --dom0 guest-kernel/guest.elf [--dom0-cmdline TEXT]
 *              [--count N] [--image-mib M] [--transfers T] [--accel tcg|kvm|auto] [--dir DIR]
 *
 * dom0's command line defaults to "agent" (e.g. "agent agent_spin_us=0" to measure without
 * the agent's short look-again after each request).
 *
 * Prints the figures and the two ratios against the goals (round trip no slower than QMP;
 * transfer at least half of dom0's memcpy). Exit 0 when measured (whether or not the goals are
 * met), 1 if the machine did not start or a call failed, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hvctl-machine.h"
#include "internal.h"

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static void stats(const char *what, long long *t, long n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp_ll);
	printf("%-38s n=%ld median=%.1f us p10=%.1f us p90=%.1f us min=%.1f us max=%.1f us\n", what,
	       n, t[n / 2] / 1e3, t[n / 10] / 1e3, t[n * 9 / 10] / 1e3, t[0] / 1e3, t[n - 1] / 1e3);
}

/* dom0's memcpy figure from the serial console ("agent: memcpy bandwidth N KiB/s"). */
static unsigned long long dom0_memcpy_kib_s(const char *serial)
{
	char line[512];
	unsigned long long kib = 0;
	FILE *f = fopen(serial, "r");
	const char *p;

	while (f && fgets(line, sizeof(line), f))
		if ((p = strstr(line, "agent: memcpy bandwidth ")) != NULL)
			kib = strtoull(p + strlen("agent: memcpy bandwidth "), NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

/*
 * dom0's own view of the image transfers ("agent: image N: B bytes received and checked (CHECK)
 * in U us", BEGIN to END in dom0): the check used and the shortest time, 0 if none found.
 */
static unsigned long long dom0_image_us(const char *serial, char *check, size_t check_size)
{
	char line[512];
	unsigned long long best = 0, us;
	FILE *f = fopen(serial, "r");
	const char *p, *q;

	snprintf(check, check_size, "?");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, "agent: image "))
			continue;
		if ((p = strstr(line, "checked (")) && (q = strstr(p, ") in "))) {
			p += strlen("checked (");
			snprintf(check, check_size, "%.*s", (int)(q - p), p);
			us = strtoull(q + strlen(") in "), NULL, 10);
		} else if ((q = strstr(line, "checked in "))) { /* a 1.0 agent: CRC-32 */
			snprintf(check, check_size, "crc32");
			us = strtoull(q + strlen("checked in "), NULL, 10);
		} else
			continue;
		if (us && (!best || us < best))
			best = us;
	}
	if (f)
		fclose(f);
	return best;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {{"hv", required_argument, NULL, 'k'},
	                                     {"dom0", required_argument, NULL, '0'},
	                                     {"dom0-cmdline", required_argument, NULL, 'c'},
	                                     {"count", required_argument, NULL, 'n'},
	                                     {"image-mib", required_argument, NULL, 'i'},
	                                     {"transfers", required_argument, NULL, 't'},
	                                     {"dir", required_argument, NULL, 'd'},
	                                     {"accel", required_argument, NULL, 'a'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	const char *usage =
	    "usage: bench-link --hv IMAGE --dom0 ELF [--dom0-cmdline TEXT] [--count N] "
	    "[--image-mib M] [--transfers T] [--accel A] [--dir DIR]\n";
	hvctl_machine_config cfg = {.memory_mib = 512,
	                            .cpus = 1,
	                            .dom0_cmdline = "agent",
	                            .wait_agent = 1,
	                            .die_with_parent = 1};
	char tmpdir[] = "/tmp/bench-link.XXXXXX", serial[4200];
	long count = 10000, image_mib = 8, transfers = 3, i, done;
	long long *t_phys, *t_hello, *t_qmp, best_ns = 0;
	unsigned long long memcpy_kib;
	hvctl_machine *m;
	hvctl_physinfo pi;
	hvctl_error err;
	uint8_t *image;
	hvctl *h;
	int c, rc = 0, no_physinfo = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			cfg.hv = optarg;
			break;
		case '0':
			cfg.dom0 = optarg;
			break;
		case 'c':
			cfg.dom0_cmdline = optarg;
			break;
		case 'n':
			count = strtol(optarg, NULL, 10);
			break;
		case 'i':
			image_mib = strtol(optarg, NULL, 10);
			break;
		case 't':
			transfers = strtol(optarg, NULL, 10);
			break;
		case 'd':
			cfg.state_dir = optarg;
			break;
		case 'a':
			cfg.accel = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!cfg.hv || !cfg.dom0 || count < 10 || count > 1000000 || image_mib < 1 ||
	    image_mib > 16 || transfers < 1 || transfers > 20 || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (!cfg.state_dir) {
		if (!mkdtemp(tmpdir)) {
			perror("bench-link: mkdtemp");
			return 1;
		}
		cfg.state_dir = tmpdir;
	}
	snprintf(serial, sizeof(serial), "%s/serial.log", cfg.state_dir);
	t_phys = calloc((size_t)count, sizeof(long long));
	t_hello = calloc((size_t)count, sizeof(long long));
	t_qmp = calloc((size_t)count, sizeof(long long));
	image = malloc((size_t)image_mib << 20);
	if (!t_phys || !t_hello || !t_qmp || !image) {
		fprintf(stderr, "bench-link: out of memory\n");
		return 1;
	}
	srand(12345);
	for (i = 0; i < image_mib << 20; i++)
		image[i] = (uint8_t)rand();

	if (hvctl_machine_start(&cfg, &m) != HVCTL_OK) {
		fprintf(stderr, "bench-link: %s\n", hvctl_last_error()->message);
		return 1;
	}
	h = hvctl_machine_handle(m);
	hvctl_set_timeout(h, 30000);
	printf("accel: %s; dom0 command line: %s\n", hvctl_machine_accel(m), cfg.dom0_cmdline);

	/* An hv without the control hypercall answers PHYSINFO with -ENOSYS: then the null
	 * request stops at the agent (HELLO) and the output says so. */
	if (hvctl_physinfo_get(h, &pi) == HVCTL_ERR_UNSUPPORTED) {
		printf("note: hv does not implement physinfo; the null request is HELLO (agent "
		       "only)\n");
		no_physinfo = 1;
	}
	/* Warm up both paths. */
	for (i = 0; i < 20; i++) {
		char *reply = NULL;

		if (!no_physinfo)
			hvctl_physinfo_get(h, &pi);
		hvctl_hello(h, NULL);
		hvctl_machine_qmp(m, "query-status", NULL, &reply);
		free(reply);
	}
	/* Interleaved blocks, so that a change of load on the host hits all three alike. */
	for (done = 0; rc == 0 && done < count; done += 100) {
		long end = done + 100 < count ? done + 100 : count;

		for (i = done; rc == 0 && i < end; i++) {
			long long t0 = now_ns();

			if ((no_physinfo ? hvctl_hello(h, NULL) : hvctl_physinfo_get(h, &pi)) !=
			    HVCTL_OK)
				rc = 1;
			t_phys[i] = now_ns() - t0;
		}
		for (i = done; rc == 0 && i < end; i++) {
			long long t0 = now_ns();

			if (hvctl_hello(h, NULL) != HVCTL_OK)
				rc = 1;
			t_hello[i] = now_ns() - t0;
		}
		for (i = done; rc == 0 && i < end; i++) {
			char *reply = NULL;
			long long t0 = now_ns();

			if (hvctl_machine_qmp(m, "query-status", NULL, &reply) != HVCTL_OK)
				rc = 1;
			t_qmp[i] = now_ns() - t0;
			free(reply);
		}
	}
	if (rc)
		fprintf(stderr, "bench-link: %s\n", hvctl_last_error()->message);

	for (i = 0; rc == 0 && i < transfers; i++) {
		uint32_t xfer;
		long long t0 = now_ns(), dt;

		memset(&err, 0, sizeof(err));
		if (bulk_upload(h, HVLINK_BULK_KERNEL, image, (size_t)image_mib << 20, &xfer,
		                &err)) {
			fprintf(stderr, "bench-link: transfer: %s\n", err.message);
			rc = 1;
			break;
		}
		dt = now_ns() - t0;
		if (!best_ns || dt < best_ns)
			best_ns = dt;
		printf("transfer %ld: %ld MiB in %.1f ms = %.0f KiB/s\n", i + 1, image_mib,
		       dt / 1e6, (double)(image_mib << 10) * 1e9 / (double)dt);
	}
	hvctl_machine_stop(m, 15000, NULL);
	memcpy_kib = dom0_memcpy_kib_s(serial);

	if (rc == 0) {
		double qmp, phys, hello, xfer_kib;
		unsigned long long dom0_us;
		char check[16];

		stats(no_physinfo ? "null request (HELLO, no physinfo):"
		                  : "null request (PHYSINFO, via hv):",
		      t_phys, count);
		stats("HELLO (agent only):", t_hello, count);
		stats("QMP query-status (same QEMU):", t_qmp, count);
		phys = (double)t_phys[count / 2];
		hello = (double)t_hello[count / 2];
		qmp = (double)t_qmp[count / 2];
		printf(
		    "round trip ratio (median PHYSINFO / median QMP): %.2f (HELLO: %.2f); goal <= "
		    "1: %s\n",
		    phys / qmp, hello / qmp, phys <= qmp ? "met" : "NOT met");
		xfer_kib = (double)(image_mib << 10) * 1e9 / (double)best_ns;
		dom0_us = dom0_image_us(serial, check, sizeof(check));
		printf("image transfer (best of %ld, %ld MiB, checked in dom0 by %s): %.0f KiB/s\n",
		       transfers, image_mib, check, xfer_kib);
		if (dom0_us)
			printf(
			    "dom0's own time for an image (BEGIN to END checked, best): %llu us\n",
			    dom0_us);
		if (memcpy_kib) {
			printf("dom0 memcpy (same boot): %llu KiB/s\n", memcpy_kib);
			printf("transfer / memcpy: %.3f; goal >= 0.5: %s\n",
			       xfer_kib / (double)memcpy_kib,
			       xfer_kib >= memcpy_kib / 2.0 ? "met" : "NOT met");
		} else {
			printf("dom0 memcpy: not found in %s\n", serial);
			rc = 1;
		}
	}
	if (cfg.state_dir == tmpdir) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			rc = 1;
	}
	free(t_phys);
	free(t_hello);
	free(t_qmp);
	free(image);
	return rc;
}
