/*
 * dom0's XenStore tree (guest-kernel/dom0/xs_tree.c, compiled as-is on the host): values,
 * parents made on write, directories, Xen's permissions for domUs, removal, quotas, the
 * permission text form, and watches with the path-prefix rule. Every allocation is counted and
 * must be given back when the tree is emptied. Exit status 1 on any failure.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <public/errno.h>

#include "xs_tree.h"

static int failures, checks;
static long live_allocs;

/* As dom0's allocator (xenstored.c): nothing above a page. */
void *xs_tree_alloc(size_t size)
{
	if (size == 0 || size > XS_VALUE_MAX) {
		fprintf(stderr, "FAIL: allocation of %zu bytes\n", size);
		failures++;
		return NULL;
	}
	live_allocs++;
	return malloc(size);
}

void xs_tree_free(void *p, size_t size)
{
	(void)size;
	live_allocs--;
	free(p);
}

/* Watch events seen: "owner-tag path token" lines. */
static char events[8192];

static void on_fire(void *owner, const char *path, const char *token)
{
	size_t used = strlen(events);

	snprintf(events + used, sizeof(events) - used, "%s %s %s\n", (const char *)owner, path,
	         token);
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL line %d: %s\n", __LINE__, #cond);                    \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define EQ(got, want)                                                                              \
	do {                                                                                       \
		long g_ = (long)(got), w_ = (long)(want);                                          \
		checks++;                                                                          \
		if (g_ != w_) {                                                                    \
			fprintf(stderr, "FAIL line %d: %s = %ld, want %ld\n", __LINE__, #got, g_,  \
			        w_);                                                               \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* Reads path as dom into a NUL-terminated string; returns the errno or 0. */
static int rd(uint16_t dom, const char *path, char *out, size_t size)
{
	const char *v;
	unsigned int len;
	int rc = xs_tree_read(dom, path, &v, &len);

	if (rc == 0) {
		if (len >= size)
			len = (unsigned int)size - 1;
		memcpy(out, v, len);
		out[len] = '\0';
	}
	return rc;
}

static int wr(uint16_t dom, const char *path, const char *value)
{
	return xs_tree_write(dom, path, value, (unsigned int)strlen(value));
}

static struct xs_perms perms1(uint16_t owner, int dflt, uint16_t other, int other_perm)
{
	struct xs_perms p = {.n = other_perm < 0 ? 1 : 2};

	p.p[0].domid = owner;
	p.p[0].perm = (uint8_t)dflt;
	if (other_perm >= 0) {
		p.p[1].domid = other;
		p.p[1].perm = (uint8_t)other_perm;
	}
	return p;
}

static void test_paths(void)
{
	char longp[XS_PATH_MAX + 2];

	CHECK(xs_path_valid("/"));
	CHECK(xs_path_valid("/local/domain/1/device/vbd/51712"));
	CHECK(xs_path_valid("/a-b_c@d"));
	CHECK(!xs_path_valid(""));
	CHECK(!xs_path_valid("local"));
	CHECK(!xs_path_valid("/a/"));
	CHECK(!xs_path_valid("//a"));
	CHECK(!xs_path_valid("/a//b"));
	CHECK(!xs_path_valid("/a b"));
	CHECK(!xs_path_valid("/a.b"));
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	CHECK(!xs_path_valid(longp));
	longp[XS_PATH_MAX] = '\0';
	CHECK(xs_path_valid(longp));
	EQ(wr(0, "/bad//path", "x"), -XEN_EINVAL);
	EQ(xs_tree_rm(0, "/"), -XEN_EINVAL);
}

static void test_values_and_directories(void)
{
	char buf[256];
	const char *v;
	unsigned int len;
	static char big[XS_VALUE_MAX + 1];

	CHECK(xs_tree_exists("/local/domain"));
	EQ(wr(0, "/local/domain/1/name", "guest-one"), 0);
	EQ(rd(0, "/local/domain/1/name", buf, sizeof(buf)), 0);
	CHECK(strcmp(buf, "guest-one") == 0);
	EQ(rd(0, "/local/domain/1", buf, sizeof(buf)), 0); /* a made parent: empty */
	CHECK(buf[0] == '\0');
	EQ(wr(0, "/local/domain/1/domid", "1"), 0);
	EQ(wr(0, "/local/domain/1/name", "renamed"), 0); /* overwrite */
	EQ(rd(0, "/local/domain/1/name", buf, sizeof(buf)), 0);
	CHECK(strcmp(buf, "renamed") == 0);
	EQ(xs_tree_directory(0, "/local/domain/1", buf, sizeof(buf)), 11);
	CHECK(memcmp(buf, "name\0domid\0", 11) == 0); /* creation order */
	EQ(xs_tree_directory(0, "/local/domain/1", buf, 6), -XEN_E2BIG);
	EQ(xs_tree_directory(0, "/local/domain/1/name", buf, sizeof(buf)), 0);
	EQ(rd(0, "/local/domain/1/missing", buf, sizeof(buf)), -XEN_ENOENT);
	/* Binary values keep their NULs; the biggest value fits, one more byte does not. */
	EQ(xs_tree_write(0, "/bin", "a\0b", 3), 0);
	EQ(xs_tree_read(0, "/bin", &v, &len), 0);
	EQ(len, 3);
	CHECK(memcmp(v, "a\0b", 3) == 0);
	memset(big, 'x', sizeof(big));
	EQ(xs_tree_write(0, "/big", big, XS_VALUE_MAX), 0);
	EQ(xs_tree_write(0, "/big", big, XS_VALUE_MAX + 1), -XEN_E2BIG);
	EQ(xs_tree_read(0, "/big", &v, &len), 0);
	EQ(len, XS_VALUE_MAX);
	EQ(xs_tree_mkdir(0, "/d/e/f"), 0);
	CHECK(xs_tree_exists("/d/e"));
	EQ(xs_tree_mkdir(0, "/d/e/f"), 0); /* exists: fine */
	EQ(xs_tree_rm(0, "/d"), 0);
	CHECK(!xs_tree_exists("/d/e/f") && !xs_tree_exists("/d"));
	EQ(xs_tree_rm(0, "/d"), 0);             /* missing, parent there: fine */
	EQ(xs_tree_rm(0, "/d/e"), -XEN_ENOENT); /* parent missing too */
}

/* The layout dom0's xenstored makes for domain 1 (and 2): the dir owned by the domain, name
 * owned by dom0 and readable by the domain, the backend dir readable by the front's domain. */
static void make_domains(void)
{
	struct xs_perms p;

	for (uint16_t d = 1; d <= 2; d++) {
		char path[64];

		snprintf(path, sizeof(path), "/local/domain/%u", d);
		EQ(xs_tree_mkdir(0, path), 0);
		p = perms1(d, XS_PERM_NONE, 0, -1);
		EQ(xs_tree_set_perms(0, path, &p), 0);
		snprintf(path, sizeof(path), "/local/domain/%u/name", d);
		EQ(wr(0, path, "n"), 0);
		p = perms1(0, XS_PERM_NONE, d, XS_PERM_READ);
		EQ(xs_tree_set_perms(0, path, &p), 0);
	}
	EQ(xs_tree_mkdir(0, "/local/domain/0/backend/vbd/1/51712"), 0);
	p = perms1(0, XS_PERM_NONE, 1, XS_PERM_READ);
	EQ(xs_tree_set_perms(0, "/local/domain/0/backend/vbd/1/51712", &p), 0);
	EQ(wr(0, "/local/domain/0/backend/vbd/1/51712/state", "2"), 0); /* inherits */
}

static void test_permissions(void)
{
	char buf[64];
	struct xs_perms p;

	make_domains();
	/* Domain 1 in its own directory: everything. */
	EQ(wr(1, "/local/domain/1/data/x", "1"), 0);
	EQ(rd(1, "/local/domain/1/data/x", buf, sizeof(buf)), 0);
	EQ(xs_tree_get_perms(0, "/local/domain/1/data/x", &p), 0);
	EQ(p.p[0].domid, 1);
	/* name: dom0's, readable, not writable, not removable. */
	EQ(rd(1, "/local/domain/1/name", buf, sizeof(buf)), 0);
	EQ(wr(1, "/local/domain/1/name", "evil"), -XEN_EACCES);
	EQ(xs_tree_rm(1, "/local/domain/1/name"), -XEN_EACCES);
	EQ(rd(0, "/local/domain/1/name", buf, sizeof(buf)), 0);
	CHECK(strcmp(buf, "n") == 0);
	/* Elsewhere: nothing, and not even whether a node exists. */
	EQ(rd(1, "/local/domain/2/name", buf, sizeof(buf)), -XEN_EACCES);
	EQ(rd(1, "/local/domain/2/nothing", buf, sizeof(buf)), -XEN_EACCES);
	EQ(wr(1, "/local/domain/2/x", "1"), -XEN_EACCES);
	EQ(wr(1, "/local/x", "1"), -XEN_EACCES);
	EQ(wr(1, "/x", "1"), -XEN_EACCES);
	EQ(xs_tree_mkdir(1, "/local/domain/2/y"), -XEN_EACCES);
	EQ(xs_tree_rm(1, "/local/domain/2"), -XEN_EACCES);
	EQ(xs_tree_rm(1, "/local/domain/2/absent"), -XEN_EACCES);
	EQ(xs_tree_directory(1, "/local/domain", buf, sizeof(buf)), -XEN_EACCES);
	CHECK(!xs_tree_exists("/local/x"));
	/* The back end's nodes: readable by the front's domain only. */
	EQ(rd(1, "/local/domain/0/backend/vbd/1/51712/state", buf, sizeof(buf)), 0);
	EQ(rd(2, "/local/domain/0/backend/vbd/1/51712/state", buf, sizeof(buf)), -XEN_EACCES);
	EQ(wr(1, "/local/domain/0/backend/vbd/1/51712/state", "4"), -XEN_EACCES);
	/* A domU may change the perms of its nodes, not give them away. */
	p = perms1(1, XS_PERM_NONE, 2, XS_PERM_READ);
	EQ(xs_tree_set_perms(1, "/local/domain/1/data/x", &p), 0);
	EQ(rd(2, "/local/domain/1/data/x", buf, sizeof(buf)), 0);
	EQ(wr(2, "/local/domain/1/data/x", "2"), -XEN_EACCES);
	p = perms1(2, XS_PERM_BOTH, 0, -1);
	EQ(xs_tree_set_perms(1, "/local/domain/1/data/x", &p), -XEN_EPERM);
	EQ(xs_tree_set_perms(2, "/local/domain/1/name", &p), -XEN_EACCES);
	p.n = 0;
	EQ(xs_tree_set_perms(0, "/local/domain/1/data/x", &p), -XEN_EINVAL);
	/* A domU removes what it owns. */
	EQ(xs_tree_rm(1, "/local/domain/1/data"), 0);
	EQ(rd(1, "/local/domain/1/data/x", buf, sizeof(buf)), -XEN_ENOENT);
}

static void test_quota(void)
{
	char path[64];
	unsigned int base = xs_tree_nodes_of(1), made = 0;
	int rc = 0;

	CHECK(base > 0 && base < 10);
	for (unsigned int i = 0; i < XS_DOMU_NODES_MAX + 5; i++) {
		snprintf(path, sizeof(path), "/local/domain/1/q/%u", i);
		if ((rc = wr(1, path, "v")))
			break;
		made++;
	}
	EQ(rc, -XEN_ENOSPC);
	EQ(xs_tree_nodes_of(1), XS_DOMU_NODES_MAX);
	CHECK(made + base + 1 == XS_DOMU_NODES_MAX);    /* +1: the q directory */
	EQ(wr(0, "/local/domain/1/q/by-dom0", "v"), 0); /* dom0 has no quota (node owned by 1) */
	EQ(xs_tree_rm(1, "/local/domain/1/q"), 0);
	EQ(xs_tree_nodes_of(1), base);
	EQ(wr(1, "/local/domain/1/q/again", "v"), 0);
	EQ(xs_tree_rm(1, "/local/domain/1/q"), 0);
}

static void test_perm_text(void)
{
	struct xs_perms p;
	char buf[64];

	EQ(xs_perms_parse("n0\0r5\0b32752\0", 13, &p), 0);
	EQ(xs_perms_parse("n0\0r5\0b32752\0", 14, &p), -XEN_EINVAL); /* an empty entry */
	EQ(xs_perms_parse("n0\0r5\0b32752\0", 13, &p), 0);
	EQ(p.n, 3);
	EQ(p.p[0].domid, 0);
	EQ(p.p[0].perm, XS_PERM_NONE);
	EQ(p.p[1].domid, 5);
	EQ(p.p[1].perm, XS_PERM_READ);
	EQ(p.p[2].domid, 32752);
	EQ(p.p[2].perm, XS_PERM_BOTH);
	EQ(xs_perms_format(&p, buf, sizeof(buf)), 13);
	CHECK(memcmp(buf, "n0\0r5\0b32752\0", 13) == 0);
	EQ(xs_perms_format(&p, buf, 10), -XEN_E2BIG);
	EQ(xs_perms_parse("x0\0", 3, &p), -XEN_EINVAL);
	EQ(xs_perms_parse("r\0", 2, &p), -XEN_EINVAL);
	EQ(xs_perms_parse("r1a\0", 4, &p), -XEN_EINVAL);
	EQ(xs_perms_parse("r70000\0", 7, &p), -XEN_EINVAL);
	EQ(xs_perms_parse("r1", 2, &p), -XEN_EINVAL); /* no NUL */
	EQ(xs_perms_parse("", 0, &p), -XEN_EINVAL);
	EQ(xs_perms_parse("\0", 1, &p), -XEN_EINVAL);
	EQ(xs_perms_parse("r1\0r1\0r1\0r1\0r1\0r1\0r1\0r1\0r1\0", 27, &p), -XEN_E2BIG);
}

static void test_watches(void)
{
	char *d0 = "dom0", *u1 = "u1", *u2 = "u2";
	const char *prefix1 = "/local/domain/1/";

	events[0] = '\0';
	EQ(xs_tree_watch_add(d0, 0, "/local/domain/1/device", "t0", 0), 0);
	EQ(xs_tree_watch_add(d0, 0, "/local/domain/1/device", "t0", 0), -XEN_EEXIST);
	EQ(xs_tree_watch_add(d0, 0, "/local/domain/1/device", "t0b", 0), 0); /* other token */
	EQ(xs_tree_watch_add(u1, 1, "/local/domain/1/device/vbd/5/state", "st",
	                     (unsigned int)strlen(prefix1)),
	   0);
	EQ(xs_tree_watch_add(u2, 2, "/local/domain/1", "spy", 0), 0);
	EQ(xs_tree_watch_add(u1, 1, "bad", "x", 0), -XEN_EINVAL);
	EQ(xs_tree_watch_add(u1, 1, "/a/", "x", 0), -XEN_EINVAL);
	EQ(xs_tree_watch_add(u1, 1, "@releaseDomain", "rel", 0), 0);
	EQ(xs_tree_watch_add(u1, 1, "@", "x", 0), -XEN_EINVAL);

	/* A write below a watch fires it with the written path; not a sibling with the same
	 * prefix of characters; domain 2 (no read access) sees nothing. */
	EQ(wr(0, "/local/domain/1/device/vbd/5/state", "1"), 0);
	CHECK(strcmp(events, "dom0 /local/domain/1/device/vbd/5/state t0\n"
	                     "dom0 /local/domain/1/device/vbd/5/state t0b\n"
	                     "u1 device/vbd/5/state st\n") == 0);
	events[0] = '\0';
	EQ(wr(0, "/local/domain/1/devicex", "1"), 0);
	EQ(strlen(events), 0);
	EQ(wr(0, "/local/domain/1/device", "1"), 0); /* the watched node itself */
	CHECK(strcmp(events, "dom0 /local/domain/1/device t0\ndom0 /local/domain/1/device t0b\n") ==
	      0);
	events[0] = '\0';
	/* A node readable by domain 2 inside domain 1's directory reaches its watch. */
	{
		struct xs_perms p = perms1(1, XS_PERM_NONE, 2, XS_PERM_READ);

		EQ(wr(1, "/local/domain/1/shared", "s"), 0);
		EQ(strlen(events), 0);
		EQ(xs_tree_set_perms(1, "/local/domain/1/shared", &p), 0);
		CHECK(strcmp(events, "u2 /local/domain/1/shared spy\n") == 0);
		events[0] = '\0';
	}
	/* Removing an ancestor fires the watches below it with their own paths. */
	EQ(xs_tree_rm(0, "/local/domain/1/device"), 0);
	CHECK(strstr(events, "u1 device/vbd/5/state st\n") != NULL);
	CHECK(strstr(events, "dom0 /local/domain/1/device t0\n") != NULL);
	CHECK(strstr(events, "u2") == NULL);
	events[0] = '\0';
	/* Special events reach only their watchers. */
	xs_tree_fire_special("@releaseDomain");
	CHECK(strcmp(events, "u1 @releaseDomain rel\n") == 0);
	events[0] = '\0';
	xs_tree_fire_special("@introduceDomain");
	EQ(strlen(events), 0);
	/* Unwatch: the exact triple; then the owner's all. */
	EQ(xs_tree_watch_del(d0, "/local/domain/1/device", "nope"), -XEN_ENOENT);
	EQ(xs_tree_watch_del(d0, "/local/domain/1/device", "t0b"), 0);
	EQ(wr(0, "/local/domain/1/device/x", "1"), 0);
	CHECK(strcmp(events, "dom0 /local/domain/1/device/x t0\n") == 0);
	events[0] = '\0';
	xs_tree_watch_del_owner(d0);
	xs_tree_watch_del_owner(u2);
	EQ(wr(0, "/local/domain/1/device/x", "2"), 0);
	EQ(strlen(events), 0);
	/* A watch on "/" sees everything it may read. */
	EQ(xs_tree_watch_add(d0, 0, "/", "all", 0), 0);
	EQ(wr(1, "/local/domain/1/y", "1"), 0);
	CHECK(strcmp(events, "dom0 /local/domain/1/y all\n") == 0);
	events[0] = '\0';
	/* The watch quota of a domU. */
	{
		char path[64];
		int rc = 0;
		unsigned int n;

		for (n = 0; n < XS_DOMU_WATCH_MAX + 2; n++) {
			snprintf(path, sizeof(path), "/local/domain/2/w%u", n);
			if ((rc = xs_tree_watch_add(u2, 2, path, "q", 0)))
				break;
		}
		EQ(rc, -XEN_ENOSPC);
		EQ(n, XS_DOMU_WATCH_MAX);
	}
}

/*
 * Many random operations by dom0 and three domUs on a small set of paths: no domU write,
 * mkdir or rm ever succeeds outside its own directory, quotas hold, reads return what was
 * written last, and removing everything gives every node back.
 */
static void test_random(void)
{
	static const char *parts[] = {"a", "b", "c", "device", "0", "1"};
	unsigned long seed = 12345;
	unsigned int base_nodes;
	char path[128], value[32], buf[64];

	xs_tree_init(on_fire);
	for (uint16_t d = 1; d <= 3; d++) {
		struct xs_perms p = perms1(d, XS_PERM_NONE, 0, -1);

		snprintf(path, sizeof(path), "/local/domain/%u", d);
		EQ(xs_tree_mkdir(0, path), 0);
		EQ(xs_tree_set_perms(0, path, &p), 0);
	}
	base_nodes = xs_tree_node_count();
	for (int i = 0; i < 20000; i++) {
		uint16_t dom, target;
		unsigned int depth, op;
		int rc, n;

		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		dom = (uint16_t)((seed >> 33) % 4);
		target = (uint16_t)((seed >> 40) % 4);
		depth = 1 + (unsigned int)((seed >> 45) % 3);
		op = (unsigned int)((seed >> 50) % 5);
		n = snprintf(path, sizeof(path), "/local/domain/%u", target);
		for (unsigned int k = 0; k < depth; k++)
			n += snprintf(path + n, sizeof(path) - (size_t)n, "/%s",
			              parts[(seed >> (20 + 3 * k)) % 6]);
		snprintf(value, sizeof(value), "v%d", i);
		switch (op) {
		case 0:
		case 1:
			rc = wr(dom, path, value);
			if (rc == 0) {
				EQ(rd(0, path, buf, sizeof(buf)), 0);
				CHECK(strcmp(buf, value) == 0);
			}
			break;
		case 2:
			rc = xs_tree_mkdir(dom, path);
			break;
		case 3:
			rc = xs_tree_rm(dom, path);
			if (rc == 0)
				CHECK(!xs_tree_exists(path));
			break;
		default:
			rc = rd(dom, path, buf, sizeof(buf));
			if (dom != 0 && dom != target && target != 0)
				CHECK(rc == -XEN_EACCES);
			continue;
		}
		if (rc == 0 && dom != 0 && dom != target) {
			fprintf(stderr, "FAIL: dom %u changed %s (op %u)\n", dom, path, op);
			failures++;
		}
		for (uint16_t d = 1; d <= 3; d++)
			CHECK(xs_tree_nodes_of(d) <= XS_DOMU_NODES_MAX);
	}
	for (uint16_t d = 1; d <= 3; d++) {
		snprintf(path, sizeof(path), "/local/domain/%u", d);
		xs_tree_rm(0, path);
		EQ(xs_tree_nodes_of(d), 0);
		EQ(xs_tree_mkdir(0, path), 0);
	}
	EQ(xs_tree_rm(0, "/local/domain/0"), 0);
	EQ(xs_tree_node_count(), base_nodes);
}

int main(void)
{
	xs_tree_init(on_fire);
	test_paths();
	test_values_and_directories();
	test_permissions();
	test_quota();
	test_perm_text();
	test_watches();
	EQ(xs_tree_nodes_of(3), 0);
	test_random();
	/* Emptying the tree gives every allocation back (2 nodes stay: / and local, domain). */
	xs_tree_init(on_fire);
	EQ(xs_tree_node_count(), 3);
	EQ(live_allocs, 6); /* three nodes and their names */
	printf("xs_tree: %d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
