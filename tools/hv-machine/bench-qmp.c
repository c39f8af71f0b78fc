/*
 * bench-qmp: the round trip of a QMP query-status to the machine's QEMU, measured through
 * libhvctl's machine starter (hvctl_machine_qmp: JSON out, QEMU's main loop, JSON back).
 *
 * This is the anchor of the future control-link benchmark (a null control request from the
 * host through the link, dom0's agent and hv and back, against this figure on the same QEMU).
 * It is NOT a control-plane result: nothing here crosses the link, dom0 or hv.
 *
 *   bench-qmp --hv hv/hv.elf [--count N] [--dir DIR] [--accel tcg|kvm|auto]
 *
 * Prints one line: count, median, p10, p90, min, max in microseconds. Exit 0, or 1 if the
 * machine did not start, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hvctl-machine.h"

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"hv", required_argument, NULL, 'k'},  {"count", required_argument, NULL, 'n'},
	    {"dir", required_argument, NULL, 'd'}, {"accel", required_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},      {0}};
	hvctl_machine_config cfg = {.memory_mib = 256, .die_with_parent = 1};
	char tmpdir[] = "/tmp/bench-qmp.XXXXXX";
	hvctl_machine *m;
	long long *t;
	long count = 1000, i;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			cfg.hv = optarg;
			break;
		case 'n':
			count = strtol(optarg, NULL, 10);
			break;
		case 'd':
			cfg.state_dir = optarg;
			break;
		case 'a':
			cfg.accel = optarg;
			break;
		case 'h':
			printf("usage: bench-qmp --hv IMAGE [--count N] [--dir DIR] [--accel A]\n");
			return 0;
		default:
			return 2;
		}
	}
	if (!cfg.hv || count < 1 || count > 10000000 || optind != argc) {
		fprintf(stderr,
		        "usage: bench-qmp --hv IMAGE [--count N] [--dir DIR] [--accel A]\n");
		return 2;
	}
	if (!cfg.state_dir) {
		if (!mkdtemp(tmpdir)) {
			perror("bench-qmp: mkdtemp");
			return 1;
		}
		cfg.state_dir = tmpdir;
	}
	t = calloc((size_t)count, sizeof(*t));
	if (!t || hvctl_machine_start(&cfg, &m) != HVCTL_OK) {
		fprintf(stderr, "bench-qmp: %s\n", hvctl_last_error()->message);
		return 1;
	}
	for (i = 0; i < 10; i++) { /* warm up */
		char *reply = NULL;

		hvctl_machine_qmp(m, "query-status", NULL, &reply);
		free(reply);
	}
	for (i = 0; i < count; i++) {
		char *reply = NULL;
		long long t0 = now_ns();

		if (hvctl_machine_qmp(m, "query-status", NULL, &reply) != HVCTL_OK) {
			fprintf(stderr, "bench-qmp: %s\n", hvctl_last_error()->message);
			rc = 1;
			break;
		}
		t[i] = now_ns() - t0;
		free(reply);
	}
	printf("accel: %s\n", hvctl_machine_accel(m));
	hvctl_machine_stop(m, 10000, NULL);
	if (rc == 0) {
		qsort(t, (size_t)count, sizeof(*t), cmp_ll);
		printf("QMP query-status round trip (QEMU only; not a control-plane result): "
		       "n=%ld median=%.1f us p10=%.1f us p90=%.1f us min=%.1f us max=%.1f us\n",
		       count, t[count / 2] / 1e3, t[count / 10] / 1e3, t[count * 9 / 10] / 1e3,
		       t[0] / 1e3, t[count - 1] / 1e3);
	}
	free(t);
	if (cfg.state_dir == tmpdir) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			rc = 1;
	}
	return rc;
}
