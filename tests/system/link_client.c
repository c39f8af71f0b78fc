/*
 * link-client DIR: sends dom0's agent, on the machine whose state directory is DIR, requests
 * that a correct client never sends (unknown types, bad lengths, truncated payloads, a wrong
 * interface version, bulk messages out of order), each checked to come back as an error with
 * the expected errno, and after each checks that the agent still serves (HELLO and PHYSINFO).
 * Used by tests/system/test_control_link.py. It goes through libhvctl's internal core_call,
 * which sends whatever it is given: the typed API would refuse to build these requests.
 *
 * Prints one line per case ("ok NAME: errno N: message" or "FAIL NAME: ..."), then
 * "link-client: N cases, M failed". Exit 0 when every case behaved, 1 otherwise, 3 when the
 * machine cannot be reached.
 */
#include <stdio.h>
#include <string.h>

#include "hvctl-machine.h"
#include "internal.h"

static hvctl *h;
static int failures, cases;
static int have_hv; /* hv implements the control hypercall (physinfo answers) */

/* Sends one raw request and checks its errno; then checks the agent still answers. */
static void expect(const char *name, uint16_t chan, uint16_t type, const void *payload,
                   uint32_t len, int want_errno)
{
	uint8_t rsp[512];
	uint32_t rsp_len = 0;
	hvctl_error err = {0};
	hvctl_physinfo pi;
	int rc;

	cases++;
	rc = core_call(h, chan, type, payload, len, rsp, sizeof(rsp), &rsp_len, &err);
	if (rc == HVCTL_OK || err.remote_errno != want_errno) {
		printf("FAIL %s: status %d errno %d (wanted errno %d): %s\n", name, rc,
		       err.remote_errno, want_errno, err.message);
		failures++;
		return;
	}
	if (hvctl_hello(h, NULL) != HVCTL_OK ||
	    (have_hv && hvctl_physinfo_get(h, &pi) != HVCTL_OK)) {
		printf("FAIL %s: the agent stopped serving: %s\n", name,
		       hvctl_last_error()->message);
		failures++;
		return;
	}
	printf("ok %s: errno %d: %s\n", name, err.remote_errno, err.message);
}

static struct hvlink_ctl_head head(uint32_t version, uint32_t domid)
{
	struct hvlink_ctl_head hd = {.interface_version = version, .domid = domid};

	return hd;
}

int main(int argc, char **argv)
{
	struct hvlink_ctl_head good = head(HVLINK_CTL_INTERFACE_VERSION, 0);
	struct hvlink_ctl_head bad_version = head(HVLINK_CTL_INTERFACE_VERSION + 98, 0);
	struct hvlink_ctl_head no_domain = head(HVLINK_CTL_INTERFACE_VERSION, 4321);
	uint8_t big[2048];
	struct hvlink_bulk_end end = {.xfer = 0x7777, .crc32 = 0};
	struct hvlink_ctl_shutdown sd = {.head = good, .reason = 77};

	if (argc != 2) {
		fprintf(stderr, "usage: link-client DIR\n");
		return 2;
	}
	if (hvctl_open_machine(argv[1], &h) != HVCTL_OK || hvctl_wait_ready(h, 30000) != HVCTL_OK) {
		fprintf(stderr, "link-client: %s\n", hvctl_last_error()->message);
		return 3;
	}
	hvctl_set_timeout(h, 20000);
	{
		hvctl_physinfo pi;

		have_hv = hvctl_physinfo_get(h, &pi) == HVCTL_OK;
		if (!have_hv)
			printf("note: hv answers no control operation (%s); the cases that need it "
			       "are "
			       "skipped\n",
			       hvctl_last_error()->message);
	}
	memset(big, 0xa5, sizeof(big));
	memcpy(big, &good, sizeof(good));

	expect("unknown-type", HVLINK_CHAN_CONTROL, 0x77, &good, sizeof(good), HVLINK_ENOSYS);
	expect("type-zero", HVLINK_CHAN_CONTROL, 0, &good, sizeof(good), HVLINK_ENOSYS);
	expect("event-type-as-request", HVLINK_CHAN_CONTROL, HVLINK_CTL_EV_DOMAIN_STATE, &good,
	       sizeof(good), HVLINK_ENOSYS);
	expect("too-long", HVLINK_CHAN_CONTROL, HVLINK_CTL_PHYSINFO, big, sizeof(big),
	       HVLINK_EINVAL);
	expect("truncated", HVLINK_CHAN_CONTROL, HVLINK_CTL_PHYSINFO, &good, 4, HVLINK_EINVAL);
	expect("empty", HVLINK_CHAN_CONTROL, HVLINK_CTL_DOMAIN_INFO, NULL, 0, HVLINK_EINVAL);
	expect("hello-truncated", HVLINK_CHAN_CONTROL, HVLINK_CTL_HELLO, &good, sizeof(good),
	       HVLINK_EINVAL);
	expect("create-truncated", HVLINK_CHAN_CONTROL, HVLINK_CTL_DOMAIN_CREATE, big, 40,
	       HVLINK_EINVAL);
	expect("build-too-long", HVLINK_CHAN_CONTROL, HVLINK_CTL_DOMAIN_BUILD, big, sizeof(big),
	       HVLINK_EINVAL);
	expect("wrong-version", HVLINK_CHAN_CONTROL, HVLINK_CTL_PHYSINFO, &bad_version,
	       sizeof(bad_version), HVLINK_EPROTO);
	expect("bad-shutdown-reason", HVLINK_CHAN_CONTROL, HVLINK_CTL_DOMAIN_SHUTDOWN, &sd,
	       sizeof(sd), HVLINK_EINVAL);
	if (have_hv)
		expect("no-such-domain", HVLINK_CHAN_CONTROL, HVLINK_CTL_DOMAIN_INFO, &no_domain,
		       sizeof(no_domain), HVLINK_ESRCH);
	if (have_hv)
		expect("build-without-image", HVLINK_CHAN_CONTROL, HVLINK_CTL_DOMAIN_BUILD, big,
		       sizeof(struct hvlink_ctl_build), HVLINK_EINVAL);
	expect("bulk-end-unknown-transfer", HVLINK_CHAN_BULK, HVLINK_BULK_END, &end, sizeof(end),
	       HVLINK_ENOENT);
	expect("bulk-end-truncated", HVLINK_CHAN_BULK, HVLINK_BULK_END, &end, 4, HVLINK_EINVAL);
	expect("bulk-unknown-type", HVLINK_CHAN_BULK, 9, &end, sizeof(end), HVLINK_ENOSYS);
	expect("console-of-dom0", HVLINK_CHAN_CONSOLE, HVLINK_CON_READ, big,
	       sizeof(struct hvlink_con_read), HVLINK_ENOENT); /* dom0 has no console ring */
	expect("console-wrong-version", HVLINK_CHAN_CONSOLE, HVLINK_CON_WRITE, &bad_version,
	       sizeof(bad_version), HVLINK_EPROTO);
	expect("console-unknown-type", HVLINK_CHAN_CONSOLE, 9, big, sizeof(struct hvlink_con_read),
	       HVLINK_EINVAL);

	/* An image whose data arrives out of order: the failure is reported at END. */
	{
		struct hvlink_bulk_begin b = {
		    .xfer = 0x5151, .kind = HVLINK_BULK_KERNEL, .total = 100};
		struct {
			struct hvlink_bulk_data d;
			uint8_t bytes[50];
		} piece = {.d = {.xfer = 0x5151, .offset = 50}};
		struct hvlink_bulk_end e = {.xfer = 0x5151};
		hvctl_error err = {0};

		if (core_send(h, HVLINK_CHAN_BULK, HVLINK_BULK_BEGIN, HVLINK_MSG_NOREPLY, &b,
		              sizeof(b), now_ns() + 5000000000ll, &err) ||
		    core_send(h, HVLINK_CHAN_BULK, HVLINK_BULK_DATA, HVLINK_MSG_NOREPLY, &piece,
		              sizeof(piece), now_ns() + 5000000000ll, &err)) {
			printf("FAIL bulk-out-of-order: cannot send: %s\n", err.message);
			failures++;
		} else {
			expect("bulk-out-of-order", HVLINK_CHAN_BULK, HVLINK_BULK_END, &e,
			       sizeof(e), HVLINK_EINVAL);
		}
	}

	printf("link-client: %d cases, %d failed\n", cases, failures);
	hvctl_close(h);
	return failures ? 1 : 0;
}
