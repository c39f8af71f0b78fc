/*
 * The XenStore tree of dom0's xenstored (xs_tree.c): nodes with values, children and Xen's
 * permissions, per-domain node quotas, and watches with the path-prefix rule. It knows nothing
 * of rings or event channels (xenstored.c does), so it compiles for the host as well and is
 * unit-tested there (tests/unit/xenstore/).
 *
 * Paths given to the tree are absolute and canonical ("/", "/local/domain/3/device"): the
 * caller makes relative paths absolute. Every access is made on behalf of a domain: domain 0
 * may do everything, another domain what the node's permissions allow, as Xen's xenstored:
 *   perms[0] names the owner (who may read and write) and the default for every other domain;
 *   perms[1..] give individual domains their own access.
 * A new node inherits its parent's permissions; a node a domU creates is owned by that domU.
 * Creating a node needs write access to its nearest existing ancestor.
 *
 * Functions return 0 (or a length) or a negative Xen errno (XEN_E*).
 */
#ifndef GK_DOM0_XS_TREE_H
#define GK_DOM0_XS_TREE_H

#include <klib/compiler.h>

#define XS_PERM_NONE  0
#define XS_PERM_READ  1
#define XS_PERM_WRITE 2
#define XS_PERM_BOTH  3
#define XS_MAX_PERMS  8

#define XS_VALUE_MAX      4096 /* a value never exceeds a message's payload */
#define XS_PATH_MAX       3072 /* XENSTORE_ABS_PATH_MAX */
#define XS_DOMU_NODES_MAX 1000 /* nodes a domU may own */
#define XS_DOMU_WATCH_MAX 128  /* watches of one owner that is a domU */

struct xs_perm {
	uint16_t domid;
	uint8_t perm; /* XS_PERM_* */
};

struct xs_perms {
	unsigned int n; /* 1..XS_MAX_PERMS */
	struct xs_perm p[XS_MAX_PERMS];
};

/* Memory for the tree, from the environment (dom0: xenstored.c; host tests: malloc). */
void *xs_tree_alloc(size_t size); /* NULL when out of memory; size <= XS_VALUE_MAX */
void xs_tree_free(void *p, size_t size);

/* Called for each watch that fires, with the path to report (relative to the watch's strip
 * prefix when it has one) and the watch's token. The callee copies what it keeps. */
typedef void (*xs_fire_fn)(void *owner, const char *path, const char *token);

/* Empties the tree (and every watch), then makes "/" and "/local/domain" (owner 0, none). */
void xs_tree_init(xs_fire_fn fire);

/* True if path is a valid absolute node path: "/" or "/a/b", characters [A-Za-z0-9-/_@],
 * no empty component, no trailing '/', at most XS_PATH_MAX bytes. */
bool xs_path_valid(const char *path);

/* *value points into the tree (valid until the next change); not NUL-terminated. */
int xs_tree_read(uint16_t dom, const char *path, const char **value, unsigned int *len);
/* Creates missing parents (empty values). Fires watches on path. */
int xs_tree_write(uint16_t dom, const char *path, const void *value, unsigned int len);
/* Creates path (and parents) with an empty value if missing; nothing if it exists. */
int xs_tree_mkdir(uint16_t dom, const char *path);
/* Removes the node and its subtree. A missing node whose parent exists is no error, as Xen.
 * "/" cannot be removed (-EINVAL). Fires watches on path and on watched nodes below it. */
int xs_tree_rm(uint16_t dom, const char *path);
/* Children's names, each NUL-terminated, into buf; returns the bytes used (-E2BIG: too many) */
int xs_tree_directory(uint16_t dom, const char *path, char *buf, unsigned int size);
int xs_tree_get_perms(uint16_t dom, const char *path, struct xs_perms *out);
/* Needs write access; a domU may not give the node away (perms[0] must stay itself). */
int xs_tree_set_perms(uint16_t dom, const char *path, const struct xs_perms *perms);
bool xs_tree_exists(const char *path);

/* Xen's text form: "r0\0w3\0" (n none, r read, w write, b both, then the domid). */
int xs_perms_parse(const char *buf, unsigned int len, struct xs_perms *out);
int xs_perms_format(const struct xs_perms *perms, char *buf, unsigned int size);

/*
 * Watches. path is absolute, or "@name" (a special event: accepted, fired only by
 * xs_tree_fire_special). strip: bytes of a prefix to remove from reported paths (a domU's
 * relative watch: "/local/domain/<id>/"), 0 for none. dom is the watcher (whose read permission
 * an event needs). A watch fires once at once (Xen's initial event) with its own path as given
 * (the caller does that: xs_tree_watch_add does not fire). -EEXIST for the same owner, path and
 * token twice; -ENOSPC past XS_DOMU_WATCH_MAX for a domU.
 */
int xs_tree_watch_add(void *owner, uint16_t dom, const char *path, const char *token,
                      unsigned int strip);
int xs_tree_watch_del(void *owner, const char *path, const char *token);
void xs_tree_watch_del_owner(void *owner);
void xs_tree_fire_special(const char *name); /* "@releaseDomain", ... */

/* Nodes owned by dom (its quota use). */
unsigned int xs_tree_nodes_of(uint16_t dom);
/* Every node of the tree (for leak checks). */
unsigned int xs_tree_node_count(void);

/* dom0's helper beside backends.h's xs_* (xenstored.c): path owned by owner, nobody else may
 * read it but reader (0: nobody); watches fire. */
int xs_set_perms(const char *path, uint16_t owner, uint16_t reader);

#endif
