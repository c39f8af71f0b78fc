/*
 * net-bw DIR DOMID DEVID in|out [AVERAGE [PEAK [BURST [FLOOR]]]]: sets (with numbers) or shows
 * (without) the bandwidth of a domain's network interface on the machine whose state directory
 * is DIR, through libhvctl (hvctl_bandwidth_set/get: KiB/s, burst in KiB, floor on `in` only).
 * Prints "in|out average=A peak=P burst=B floor=F" after the operation. Used by
 * tests/system/test_net.py. Exit 0 on success, 1 when the operation failed (the error on
 * stderr), 2 on a usage error, 3 when the machine cannot be reached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvctl-machine.h"

static int number(const char *s, uint64_t *v)
{
	char *end;

	*v = strtoull(s, &end, 10);
	return *s && !*end ? 0 : -1;
}

int main(int argc, char **argv)
{
	hvctl *h;
	hvctl_bandwidth bw = {0};
	uint64_t domid, devid, *vals[] = {&bw.average, &bw.peak, &bw.burst, &bw.floor};

	if (argc < 5 || argc > 9 || number(argv[2], &domid) || number(argv[3], &devid) ||
	    (strcmp(argv[4], "in") && strcmp(argv[4], "out"))) {
		fprintf(stderr, "usage: net-bw DIR DOMID DEVID in|out [AVERAGE [PEAK [BURST "
		                "[FLOOR]]]]\n");
		return 2;
	}
	for (int i = 5; i < argc; i++)
		if (number(argv[i], vals[i - 5])) {
			fprintf(stderr, "net-bw: '%s' is not a number\n", argv[i]);
			return 2;
		}
	bw.kind = strcmp(argv[4], "in") == 0 ? HVCTL_BW_NET_IN : HVCTL_BW_NET_OUT;
	bw.index = (unsigned)devid;
	if (hvctl_open_machine(argv[1], &h) != HVCTL_OK || hvctl_wait_ready(h, 30000) != HVCTL_OK) {
		fprintf(stderr, "net-bw: %s\n", hvctl_last_error()->message);
		return 3;
	}
	if ((argc > 5 && hvctl_bandwidth_set(h, (uint32_t)domid, &bw) != HVCTL_OK) ||
	    hvctl_bandwidth_get(h, (uint32_t)domid, &bw) != HVCTL_OK) {
		fprintf(stderr, "net-bw: %s\n", hvctl_last_error()->message);
		hvctl_close(h);
		return 1;
	}
	printf("%s average=%llu peak=%llu burst=%llu floor=%llu\n", argv[4],
	       (unsigned long long)bw.average, (unsigned long long)bw.peak,
	       (unsigned long long)bw.burst, (unsigned long long)bw.floor);
	hvctl_close(h);
	return 0;
}
