/*
 * The store seen from a domU (`xstest` on the command line): reads, writes, directories,
 * removal, what the domain may not touch, watches (the initial event, the path-prefix rule,
 * unwatch), transactions, permissions, and malformed requests that must be answered with an
 * error while the store keeps serving. Prints one `xstest: <check>: ok|FAIL ...` line per check
 * and `xstest: N checks, M failed` (tests/system/test_xenstore.py reads them).
 */
#include <kernel.h>
#include <xenbus.h>
#include <klib/printf.h>
#include <klib/string.h>
#include <public/io/xs_wire.h>

#include "pv.h"

#define QUIET_NS (200ULL * 1000000ULL) /* no event within this: none is coming */

static unsigned int checks, failed;

static void check(const char *what, bool ok, long got)
{
	checks++;
	if (!ok)
		failed++;
	if (ok)
		printk("xstest: %s: ok\n", what);
	else
		printk("xstest: %s: FAIL (got %ld)\n", what, got);
}

static bool read_is(const char *path, const char *want)
{
	char buf[128];

	return xenbus_read(path, buf, sizeof(buf)) == (int)strlen(want) && strcmp(buf, want) == 0;
}

static bool event_is(const char *token, const char *want)
{
	char path[128];

	return xenbus_wait_watch(token, path, sizeof(path), 2000000000ULL) == 0 &&
	       strcmp(path, want) == 0;
}

static int raw(uint32_t type, uint32_t tx, const void *a, unsigned int alen, const void *b,
               unsigned int blen, char *out, unsigned int size)
{
	const void *parts[2] = {a, b};
	unsigned int lens[2] = {alen, blen};

	return xenbus_request(type, tx, parts, lens, b ? 2 : 1, out, size);
}

static void basics(uint64_t domid)
{
	char buf[256], want[64];
	int rc;

	snprintf(want, sizeof(want), "/local/domain/%llu", (unsigned long long)domid);
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)domid);
	rc = raw(XS_GET_DOMAIN_PATH, 0, buf, (unsigned int)strlen(buf) + 1, NULL, 0, buf,
	         sizeof(buf));
	check("get-domain-path", rc > 0 && strcmp(buf, want) == 0, rc);
	rc = xenbus_read("name", buf, sizeof(buf));
	check("read name", rc > 0, rc);
	check("write", xenbus_write("data/xstest", "hello") == 0, 0);
	check("read back", read_is("data/xstest", "hello"), 0);
	snprintf(buf, sizeof(buf), "%s/data/xstest", want);
	check("read absolute", read_is(buf, "hello"), 0);
	check("overwrite",
	      xenbus_write("data/xstest", "world") == 0 && read_is("data/xstest", "world"), 0);
	rc = raw(XS_MKDIR, 0, "data/dir", 9, NULL, 0, buf, sizeof(buf));
	check("mkdir", rc == 3 && strcmp(buf, "OK") == 0, rc);
	rc = xenbus_directory("data", buf, sizeof(buf));
	check("directory", rc == 11 && memcmp(buf, "xstest\0dir\0", 11) == 0, rc);
	check("rm", xenbus_rm("data/dir") == 0, 0);
	rc = xenbus_read("data/dir", buf, sizeof(buf));
	check("read removed: ENOENT", rc == -XEN_ENOENT, rc);
	check("rm missing: ok", xenbus_rm("data/dir") == 0, 0);
	rc = xenbus_read("/local/domain/0/name", buf, sizeof(buf));
	check("read dom0's node: EACCES", rc == -XEN_EACCES, rc);
	rc = xenbus_write("/local/domain/0/evil", "1");
	check("write outside: EACCES", rc == -XEN_EACCES, rc);
	rc = xenbus_write("/evil", "1");
	check("write at the root: EACCES", rc == -XEN_EACCES, rc);
	rc = xenbus_write("name", "evil");
	check("write dom0's name node: EACCES", rc == -XEN_EACCES, rc);
	rc = xenbus_read("control", buf, sizeof(buf));
	check("control exists", rc == 0, rc);
	check("cpu/0/availability", read_is("cpu/0/availability", "online"), 0);
	rc = xenbus_write("cpu/0/availability", "offline");
	check("write cpu availability: EACCES", rc == -XEN_EACCES, rc);
}

static void watches(uint64_t domid)
{
	char abs[64], abs_node[80];
	int rc;

	check("watch", xenbus_watch("data/w", "tok1") == 0, 0);
	check("initial event", event_is("tok1", "data/w"), 0);
	xenbus_write("data/w/x", "1");
	check("event below", event_is("tok1", "data/w/x"), 0);
	xenbus_write("data/wx", "1");
	rc = xenbus_wait_watch("tok1", NULL, 0, QUIET_NS);
	check("no event for a sibling", rc == -XEN_ETIMEDOUT, rc);
	xenbus_rm("data/w");
	check("event on removal", event_is("tok1", "data/w"), 0);
	rc = xenbus_watch("data/w", "tok1");
	check("same watch twice: EEXIST", rc == -XEN_EEXIST, rc);
	check("unwatch", xenbus_unwatch("data/w", "tok1") == 0, 0);
	xenbus_write("data/w/y", "1");
	rc = xenbus_wait_watch("tok1", NULL, 0, QUIET_NS);
	check("no event after unwatch", rc == -XEN_ETIMEDOUT, rc);
	rc = xenbus_unwatch("data/w", "tok1");
	check("unwatch again: ENOENT", rc == -XEN_ENOENT, rc);
	snprintf(abs, sizeof(abs), "/local/domain/%llu/data/abs", (unsigned long long)domid);
	snprintf(abs_node, sizeof(abs_node), "%s/z", abs);
	check("absolute watch", xenbus_watch(abs, "tok2") == 0 && event_is("tok2", abs), 0);
	xenbus_write("data/abs/z", "1");
	check("absolute event", event_is("tok2", abs_node), 0);
	xenbus_unwatch(abs, "tok2");
	rc = xenbus_watch("@releaseDomain", "tok3");
	check("special watch", rc == 0 && event_is("tok3", "@releaseDomain"), rc);
	xenbus_unwatch("@releaseDomain", "tok3");
	/* Linux's first watches: nodes that do not exist yet still answer OK and fire. */
	check("watch control/shutdown",
	      xenbus_watch("control/shutdown", "tok4") == 0 && event_is("tok4", "control/shutdown"),
	      0);
	xenbus_unwatch("control/shutdown", "tok4");
}

static void transactions(void)
{
	char buf[32];
	int rc;
	uint32_t id;

	rc = raw(XS_TRANSACTION_START, 0, "", 1, NULL, 0, buf, sizeof(buf));
	id = (uint32_t)strtoul(buf, NULL, 10);
	check("transaction start", rc > 1 && id != 0, rc);
	rc = raw(XS_WRITE, id, "data/t", 7, "in-tx", 5, buf, sizeof(buf));
	check("write in a transaction", rc == 3 && read_is("data/t", "in-tx"), rc);
	rc = raw(XS_TRANSACTION_END, id, "T", 2, NULL, 0, buf, sizeof(buf));
	check("transaction end", rc == 3, rc);
	rc = raw(XS_TRANSACTION_END, id, "T", 2, NULL, 0, buf, sizeof(buf));
	check("end it again: ENOENT", rc == -XEN_ENOENT, rc);
	rc = raw(XS_READ, id + 1000, "data/t", 7, NULL, 0, buf, sizeof(buf));
	check("unknown transaction: ENOENT", rc == -XEN_ENOENT, rc);
}

static void permissions(uint64_t domid)
{
	char buf[64], perms[32];
	unsigned int n;
	int rc;

	rc = raw(XS_GET_PERMS, 0, "data/xstest", 12, NULL, 0, buf, sizeof(buf));
	snprintf(perms, sizeof(perms), "n%llu", (unsigned long long)domid);
	check("get-perms", rc == (int)strlen(perms) + 1 && strcmp(buf, perms) == 0, rc);
	n = (unsigned int)snprintf(perms, sizeof(perms), "n%llu", (unsigned long long)domid) + 1;
	memcpy(perms + n, "r0", 3);
	rc = raw(XS_SET_PERMS, 0, "data/xstest", 12, perms, n + 3, buf, sizeof(buf));
	check("set-perms", rc == 3, rc);
	rc = raw(XS_SET_PERMS, 0, "data/xstest", 12, "b0", 3, buf, sizeof(buf));
	check("give the node away: EPERM", rc == -XEN_EPERM, rc);
}

static void malformed(void)
{
	static char big[5000];
	char buf[64];
	int rc;

	rc = raw(XS_READ, 0, "data/xstest", 11, NULL, 0, buf, sizeof(buf)); /* no NUL */
	check("path without NUL: EINVAL", rc == -XEN_EINVAL, rc);
	rc = raw(XS_READ, 0, "data//x", 8, NULL, 0, buf, sizeof(buf));
	check("bad path: EINVAL", rc == -XEN_EINVAL, rc);
	rc = raw(XS_READ, 0, "data/a.b", 9, NULL, 0, buf, sizeof(buf));
	check("bad character: EINVAL", rc == -XEN_EINVAL, rc);
	rc = raw(999, 0, "x", 2, NULL, 0, buf, sizeof(buf));
	check("unknown type: EINVAL", rc == -XEN_EINVAL, rc);
	rc = raw(XS_INTRODUCE, 0, "1", 2, NULL, 0, buf, sizeof(buf));
	check("introduce: EACCES", rc == -XEN_EACCES, rc);
	rc = raw(XS_WATCH, 0, "data", 5, NULL, 0, buf, sizeof(buf));
	check("watch without a token: EINVAL", rc == -XEN_EINVAL, rc);
	memset(big, 'a', sizeof(big));
	rc = raw(XS_WRITE, 0, big, sizeof(big), NULL, 0, buf, sizeof(buf));
	check("oversized request: E2BIG", rc == -XEN_E2BIG, rc);
	check("still serving", read_is("data/xstest", "world"), 0);
}

/*
 * 400 requests of random types, transaction ids and payloads built from pieces (paths of
 * ours and of others, NULs, permission strings, random bytes): each must be answered (a reply
 * or an error, never silence), and the store must serve normally afterwards.
 */
static void fuzz(void)
{
	static const char *pieces[] = {
	    "data/f", "data/f/g", "/local/domain/0", "@x", "T",       "F", "r0", "n1", "b",
	    "0",      "/",        "data//",          "..", "\xff\x01"};
	uint64_t seed = platform->time_ns() | 1;
	unsigned int silent = 0, answered = 0;
	char payload[160], out[64];

	for (int i = 0; i < 400; i++) {
		unsigned int len = 0, parts;
		uint32_t type, tx;
		int rc;

		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		type = (uint32_t)(seed % 30);
		tx = (seed >> 8) % 4 == 0 ? (uint32_t)(seed >> 16) % 8 : 0;
		parts = (unsigned int)(seed >> 24) % 5;
		for (unsigned int k = 0; k < parts; k++) {
			const char *piece = pieces[(seed >> (28 + 4 * k)) % ARRAY_SIZE(pieces)];
			size_t n = strlen(piece);

			if (len + n + 1 > sizeof(payload))
				break;
			memcpy(payload + len, piece, n);
			len += (unsigned int)n;
			if ((seed >> (48 + k)) & 1)
				payload[len++] = '\0';
		}
		if (type == XS_TRANSACTION_END || type == XS_WATCH_EVENT)
			tx = 0; /* keep a real transaction of ours out of it */
		rc = raw(type, tx, payload, len, NULL, 0, out, sizeof(out));
		if (rc == -XEN_ETIMEDOUT || rc == -XEN_EIO)
			silent++;
		else
			answered++;
	}
	check("400 random requests answered", silent == 0 && answered == 400, silent);
	xenbus_rm("data/f");
	xenbus_write("data/after-fuzz", "1");
	check("serving after them", read_is("data/after-fuzz", "1"), 0);
	raw(XS_RESET_WATCHES, 0, "", 1, NULL, 0, out, sizeof(out));
}

/* Each device dom0 gave us: our nodes name a back end whose nodes we may read, in InitWait,
 * pointing back at us (the layout of io-design.md). */
static void devices(const char *cls, uint64_t domid)
{
	char names[256], front[48], back[96], path[128], buf[96], what[64];
	int n;

	snprintf(front, sizeof(front), "device/%s", cls);
	n = xenbus_directory(front, names, sizeof(names));

	for (int off = 0; n > 0 && off < n; off += (int)strlen(names + off) + 1) {
		bool ok;
		uint64_t state = 0, be_id = 1;

		snprintf(front, sizeof(front), "device/%s/%s", cls, names + off);
		snprintf(what, sizeof(what), "%s %s nodes", cls, names + off);
		snprintf(path, sizeof(path), "%s/backend", front);
		ok = xenbus_read(path, back, sizeof(back)) > 0;
		snprintf(path, sizeof(path), "%s/backend-id", front);
		ok = ok && xenbus_read_u64(path, &be_id) == 0 && be_id == 0;
		snprintf(path, sizeof(path), "%s/state", back);
		ok = ok && xenbus_read_u64(path, &state) == 0 && state == XenbusStateInitWait;
		snprintf(path, sizeof(path), "%s/frontend-id", back);
		ok = ok && xenbus_read_u64(path, &be_id) == 0 && be_id == domid;
		snprintf(path, sizeof(path), "%s/frontend", back);
		snprintf(buf, sizeof(buf), "/local/domain/%llu/%s", (unsigned long long)domid,
		         front);
		ok = ok && read_is(path, buf);
		snprintf(path, sizeof(path), "%s/state", back);
		ok = ok && xenbus_write(path, "4") == -XEN_EACCES; /* the back end's, not ours */
		check(what, ok, (long)state);
	}
}

void xenbus_selftest(void)
{
	uint64_t domid = 0;
	int rc = xenbus_read_u64("domid", &domid);

	check("read domid", rc == 0 && domid != 0, rc);
	basics(domid);
	watches(domid);
	transactions();
	permissions(domid);
	malformed();
	fuzz();
	devices("vbd", domid);
	devices("vif", domid);
	xenbus_rm("data");
	printk("xstest: %u checks, %u failed\n", checks, failed);
}
