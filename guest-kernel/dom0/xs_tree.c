/*
 * The XenStore tree (xs_tree.h): nodes, permissions, quotas and watches.
 *
 * Representation: each node holds its name (one path component), its value (bytes, not
 * NUL-terminated) and its permissions; children are a singly linked list in creation order
 * (directories are small; a lookup walks it). Watches are one list, checked against every
 * change: a change of node N fires a watch on W when N is W or below W (the path-prefix rule);
 * removing N also fires every watch below N, with the watch's own path, as Xen does.
 *
 * Invariants: the root exists and has no name; every node's perms.n is 1..XS_MAX_PERMS;
 * owned[] counts the nodes whose perms.p[0].domid is each domU that owns any.
 */
#include <klib/string.h>

#include <public/errno.h>

#include "xs_tree.h"

struct xs_node {
	struct xs_node *parent, *children, *next;
	char *name;
	char *value;
	unsigned int name_len, value_len;
	struct xs_perms perms;
};

struct xs_watch {
	struct xs_watch *next;
	void *owner;
	uint16_t dom;
	unsigned int strip;
	char *path, *token;
	size_t path_size, token_size;
};

/* Nodes owned per domU (the quota); a small table, the store has few domains. */
#define OWNER_SLOTS 128
static struct {
	uint16_t domid;
	unsigned int nodes;
} owned[OWNER_SLOTS];

static struct xs_node *root;
static struct xs_watch *watches;
static xs_fire_fn fire_fn;
static unsigned int node_count;

/* ---- helpers ---- */

static char *dup_bytes(const void *s, size_t len)
{
	char *p = xs_tree_alloc(len + 1);

	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

static unsigned int *owned_slot(uint16_t dom, bool make)
{
	int free_slot = -1;

	for (int i = 0; i < OWNER_SLOTS; i++) {
		if (owned[i].nodes && owned[i].domid == dom)
			return &owned[i].nodes;
		if (!owned[i].nodes && free_slot < 0)
			free_slot = i;
	}
	if (!make || free_slot < 0)
		return NULL;
	owned[free_slot].domid = dom;
	return &owned[free_slot].nodes;
}

static void own(uint16_t dom, int delta)
{
	unsigned int *n;

	if (dom == 0)
		return;
	n = owned_slot(dom, delta > 0);
	if (n)
		*n += (unsigned int)delta;
}

unsigned int xs_tree_nodes_of(uint16_t dom)
{
	unsigned int *n = owned_slot(dom, false);

	return n ? *n : 0;
}

unsigned int xs_tree_node_count(void)
{
	return node_count;
}

static unsigned int perm_of(const struct xs_node *n, uint16_t dom)
{
	if (dom == 0 || n->perms.p[0].domid == dom)
		return XS_PERM_BOTH;
	for (unsigned int i = 1; i < n->perms.n; i++)
		if (n->perms.p[i].domid == dom)
			return n->perms.p[i].perm;
	return n->perms.p[0].perm;
}

static bool can(const struct xs_node *n, uint16_t dom, unsigned int want)
{
	return (perm_of(n, dom) & want) == want;
}

bool xs_path_valid(const char *path)
{
	size_t len = strnlen(path, XS_PATH_MAX + 1);

	if (len == 0 || len > XS_PATH_MAX || path[0] != '/')
		return false;
	if (len == 1)
		return true;
	if (path[len - 1] == '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = path[i];

		if (c == '/' && path[i + 1] == '/')
			return false;
		if (!(isalpha(c) || isdigit(c) || c == '-' || c == '/' || c == '_' || c == '@'))
			return false;
	}
	return true;
}

static struct xs_node *child(const struct xs_node *n, const char *name, size_t len)
{
	for (struct xs_node *c = n->children; c; c = c->next)
		if (c->name_len == len && memcmp(c->name, name, len) == 0)
			return c;
	return NULL;
}

/*
 * Walks path (valid, absolute) as far as it exists. Returns the node of path, or NULL with
 * *nearest = the deepest existing ancestor and *rest = where the missing part starts.
 */
static struct xs_node *walk(const char *path, struct xs_node **nearest, const char **rest)
{
	struct xs_node *n = root;
	const char *p = path + 1;

	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct xs_node *c = child(n, p, len);

		if (!c) {
			if (nearest)
				*nearest = n;
			if (rest)
				*rest = p;
			return NULL;
		}
		n = c;
		p += len;
		if (*p == '/')
			p++;
	}
	return n;
}

/* The node of path for an access; -ENOENT, or -EACCES when the domain may not learn more. */
static int lookup(uint16_t dom, const char *path, unsigned int want, struct xs_node **out)
{
	struct xs_node *nearest = NULL, *n;

	if (!xs_path_valid(path))
		return -XEN_EINVAL;
	n = walk(path, &nearest, NULL);
	if (!n)
		return can(nearest, dom, XS_PERM_READ) ? -XEN_ENOENT : -XEN_EACCES;
	if (!can(n, dom, want))
		return -XEN_EACCES;
	*out = n;
	return 0;
}

/* ---- watches ---- */

static bool is_below_or_at(const char *path, const char *top)
{
	size_t tl = strlen(top);

	if (tl == 1)
		return true; /* "/" */
	return strncmp(path, top, tl) == 0 && (path[tl] == '\0' || path[tl] == '/');
}

/*
 * The domU prefix of a relative watch is the watch path's first `strip` bytes; a change
 * reported to it is shown relative only when it lies under that same prefix.
 */
static void fire_change(const char *path, const struct xs_perms *perms, bool subtree)
{
	struct xs_node probe = {.perms = *perms};

	for (struct xs_watch *w = watches, *next; w; w = next) {
		const char *report = NULL;

		next = w->next;
		if (w->path[0] == '@' || !can(&probe, w->dom, XS_PERM_READ))
			continue;
		if (is_below_or_at(path, w->path))
			report = path;
		else if (subtree && is_below_or_at(w->path, path))
			report = w->path;
		if (!report)
			continue;
		if (w->strip && strncmp(report, w->path, w->strip) == 0 &&
		    strlen(report) > w->strip)
			fire_fn(w->owner, report + w->strip, w->token);
		else
			fire_fn(w->owner, report, w->token);
	}
}

void xs_tree_fire_special(const char *name)
{
	for (struct xs_watch *w = watches; w; w = w->next)
		if (strcmp(w->path, name) == 0)
			fire_fn(w->owner, name, w->token);
}

int xs_tree_watch_add(void *owner, uint16_t dom, const char *path, const char *token,
                      unsigned int strip)
{
	unsigned int mine = 0;
	struct xs_watch *w;

	if (path[0] == '@') {
		if (strlen(path) < 2 || strlen(path) > XS_PATH_MAX || strchr(path, '/'))
			return -XEN_EINVAL;
	} else if (!xs_path_valid(path) || strip >= strlen(path)) {
		return -XEN_EINVAL;
	}
	for (w = watches; w; w = w->next) {
		if (w->owner != owner)
			continue;
		mine++;
		if (strcmp(w->path, path) == 0 && strcmp(w->token, token) == 0)
			return -XEN_EEXIST;
	}
	if (dom != 0 && mine >= XS_DOMU_WATCH_MAX)
		return -XEN_ENOSPC;
	w = xs_tree_alloc(sizeof(*w));
	if (!w)
		return -XEN_ENOMEM;
	w->path_size = strlen(path) + 1;
	w->token_size = strlen(token) + 1;
	w->path = dup_bytes(path, w->path_size - 1);
	w->token = dup_bytes(token, w->token_size - 1);
	if (!w->path || !w->token) {
		if (w->path)
			xs_tree_free(w->path, w->path_size);
		if (w->token)
			xs_tree_free(w->token, w->token_size);
		xs_tree_free(w, sizeof(*w));
		return -XEN_ENOMEM;
	}
	w->owner = owner;
	w->dom = dom;
	w->strip = strip;
	w->next = NULL;
	{
		struct xs_watch **tail = &watches; /* fired in the order they were set */

		while (*tail)
			tail = &(*tail)->next;
		*tail = w;
	}
	return 0;
}

static void watch_free(struct xs_watch *w)
{
	xs_tree_free(w->path, w->path_size);
	xs_tree_free(w->token, w->token_size);
	xs_tree_free(w, sizeof(*w));
}

int xs_tree_watch_del(void *owner, const char *path, const char *token)
{
	for (struct xs_watch **pp = &watches; *pp; pp = &(*pp)->next) {
		struct xs_watch *w = *pp;

		if (w->owner == owner && strcmp(w->path, path) == 0 &&
		    strcmp(w->token, token) == 0) {
			*pp = w->next;
			watch_free(w);
			return 0;
		}
	}
	return -XEN_ENOENT;
}

void xs_tree_watch_del_owner(void *owner)
{
	struct xs_watch **pp = &watches;

	while (*pp) {
		struct xs_watch *w = *pp;

		if (w->owner == owner) {
			*pp = w->next;
			watch_free(w);
		} else {
			pp = &w->next;
		}
	}
}

/* ---- nodes ---- */

static void node_free(struct xs_node *n)
{
	while (n->children) {
		struct xs_node *c = n->children;

		n->children = c->next;
		node_free(c);
	}
	own(n->perms.p[0].domid, -1);
	if (n->name)
		xs_tree_free(n->name, n->name_len + 1);
	if (n->value)
		xs_tree_free(n->value, n->value_len);
	xs_tree_free(n, sizeof(*n));
	node_count--;
}

static struct xs_node *node_new(struct xs_node *parent, const char *name, size_t len, uint16_t dom)
{
	struct xs_node *n = xs_tree_alloc(sizeof(*n));

	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->name = dup_bytes(name, len);
	if (!n->name) {
		xs_tree_free(n, sizeof(*n));
		return NULL;
	}
	n->name_len = (unsigned int)len;
	if (parent) {
		n->perms = parent->perms;
		if (dom != 0)
			n->perms.p[0].domid = dom; /* domains own what they create */
	} else {
		n->perms.n = 1; /* root: dom0's, nothing for others */
	}
	own(n->perms.p[0].domid, +1);
	node_count++;
	if (parent) {
		struct xs_node **tail = &parent->children;

		while (*tail)
			tail = &(*tail)->next;
		*tail = n;
		n->parent = parent;
	}
	return n;
}

/* Creates the missing part of path under nearest (after the checks); the new leaf. */
static int create(uint16_t dom, const char *path, struct xs_node **out)
{
	struct xs_node *nearest = NULL, *n;
	const char *rest = NULL;
	unsigned int need = 0;

	n = walk(path, &nearest, &rest);
	if (n) {
		*out = n;
		return 0;
	}
	if (!can(nearest, dom, XS_PERM_WRITE))
		return -XEN_EACCES;
	for (const char *p = rest; p; p = strchr(p + 1, '/'))
		need++;
	if (dom != 0 && xs_tree_nodes_of(dom) + need > XS_DOMU_NODES_MAX)
		return -XEN_ENOSPC;
	n = nearest;
	while (*rest) {
		const char *end = strchr(rest, '/');
		size_t len = end ? (size_t)(end - rest) : strlen(rest);
		struct xs_node *c = node_new(n, rest, len, dom);

		if (!c)
			return -XEN_ENOMEM; /* what was made stays, empty: harmless */
		n = c;
		rest += len;
		if (*rest == '/')
			rest++;
	}
	*out = n;
	return 0;
}

int xs_tree_read(uint16_t dom, const char *path, const char **value, unsigned int *len)
{
	struct xs_node *n;
	int rc = lookup(dom, path, XS_PERM_READ, &n);

	if (rc)
		return rc;
	*value = n->value ? n->value : "";
	*len = n->value_len;
	return 0;
}

int xs_tree_write(uint16_t dom, const char *path, const void *value, unsigned int len)
{
	struct xs_node *n;
	char *copy;
	int rc;

	if (!xs_path_valid(path))
		return -XEN_EINVAL;
	if (len > XS_VALUE_MAX)
		return -XEN_E2BIG;
	if (xs_tree_exists(path)) {
		if ((rc = lookup(dom, path, XS_PERM_WRITE, &n)))
			return rc;
	} else if ((rc = create(dom, path, &n))) {
		return rc;
	}
	/* Values are bytes, kept without a NUL (a 4096-byte one takes one page, no more). */
	copy = NULL;
	if (len && !(copy = xs_tree_alloc(len)))
		return -XEN_ENOMEM;
	if (len)
		memcpy(copy, value, len);
	if (n->value)
		xs_tree_free(n->value, n->value_len);
	n->value = copy;
	n->value_len = len;
	fire_change(path, &n->perms, false);
	return 0;
}

int xs_tree_mkdir(uint16_t dom, const char *path)
{
	struct xs_node *n;
	int rc;

	if (!xs_path_valid(path))
		return -XEN_EINVAL;
	if (xs_tree_exists(path))
		return lookup(dom, path, XS_PERM_WRITE, &n) == -XEN_EACCES ? -XEN_EACCES : 0;
	if ((rc = create(dom, path, &n)))
		return rc;
	fire_change(path, &n->perms, false);
	return 0;
}

int xs_tree_rm(uint16_t dom, const char *path)
{
	struct xs_node *n, *nearest = NULL;
	struct xs_perms perms;
	const char *rest = NULL;
	int rc;

	if (!xs_path_valid(path))
		return -XEN_EINVAL;
	if (strcmp(path, "/") == 0)
		return -XEN_EINVAL;
	n = walk(path, &nearest, &rest);
	if (!n) {
		/* Missing: fine if the parent exists (and may be seen), as Xen's do_rm. */
		if (!can(nearest, dom, XS_PERM_READ))
			return -XEN_EACCES;
		return strchr(rest, '/') ? -XEN_ENOENT : 0;
	}
	if ((rc = lookup(dom, path, XS_PERM_WRITE, &n)))
		return rc;
	perms = n->perms;
	for (struct xs_node **pp = &n->parent->children; *pp; pp = &(*pp)->next)
		if (*pp == n) {
			*pp = n->next;
			break;
		}
	node_free(n);
	fire_change(path, &perms, true);
	return 0;
}

int xs_tree_directory(uint16_t dom, const char *path, char *buf, unsigned int size)
{
	struct xs_node *n;
	unsigned int used = 0;
	int rc = lookup(dom, path, XS_PERM_READ, &n);

	if (rc)
		return rc;
	for (struct xs_node *c = n->children; c; c = c->next) {
		if (used + c->name_len + 1 > size)
			return -XEN_E2BIG;
		memcpy(buf + used, c->name, c->name_len + 1);
		used += c->name_len + 1;
	}
	return (int)used;
}

bool xs_tree_exists(const char *path)
{
	return xs_path_valid(path) && walk(path, NULL, NULL) != NULL;
}

int xs_tree_get_perms(uint16_t dom, const char *path, struct xs_perms *out)
{
	struct xs_node *n;
	int rc = lookup(dom, path, XS_PERM_READ, &n);

	if (rc == 0)
		*out = n->perms;
	return rc;
}

int xs_tree_set_perms(uint16_t dom, const char *path, const struct xs_perms *perms)
{
	struct xs_node *n;
	int rc;

	if (perms->n < 1 || perms->n > XS_MAX_PERMS)
		return -XEN_EINVAL;
	for (unsigned int i = 0; i < perms->n; i++)
		if (perms->p[i].perm > XS_PERM_BOTH)
			return -XEN_EINVAL;
	if ((rc = lookup(dom, path, XS_PERM_WRITE, &n)))
		return rc;
	if (dom != 0 && perms->p[0].domid != dom)
		return -XEN_EPERM; /* a domU keeps what it owns */
	if (n->perms.p[0].domid != perms->p[0].domid) {
		if (perms->p[0].domid != 0 &&
		    xs_tree_nodes_of(perms->p[0].domid) >= XS_DOMU_NODES_MAX)
			return -XEN_ENOSPC;
		own(n->perms.p[0].domid, -1);
		own(perms->p[0].domid, +1);
	}
	n->perms = *perms;
	fire_change(path, &n->perms, false);
	return 0;
}

/* ---- permissions as text ---- */

static const char perm_letters[] = "nrwb"; /* indexed by XS_PERM_* */

int xs_perms_parse(const char *buf, unsigned int len, struct xs_perms *out)
{
	unsigned int i = 0;

	out->n = 0;
	while (i < len) {
		const char *s = buf + i, *letter;
		size_t slen = strnlen(s, len - i);
		unsigned long id = 0;

		if (slen == len - i)
			return -XEN_EINVAL; /* not NUL-terminated */
		if (slen < 2 || !(letter = strchr(perm_letters, s[0])) || s[0] == '\0')
			return -XEN_EINVAL;
		for (size_t k = 1; k < slen; k++) {
			if (!isdigit(s[k]) || id > 0xffff)
				return -XEN_EINVAL;
			id = id * 10 + (unsigned long)(s[k] - '0');
		}
		if (id > 0xffff || out->n == XS_MAX_PERMS)
			return out->n == XS_MAX_PERMS ? -XEN_E2BIG : -XEN_EINVAL;
		out->p[out->n].domid = (uint16_t)id;
		out->p[out->n].perm = (uint8_t)(letter - perm_letters);
		out->n++;
		i += (unsigned int)slen + 1;
	}
	return out->n ? 0 : -XEN_EINVAL;
}

int xs_perms_format(const struct xs_perms *perms, char *buf, unsigned int size)
{
	unsigned int used = 0;

	for (unsigned int i = 0; i < perms->n; i++) {
		char tmp[8];
		unsigned int k = sizeof(tmp), id = perms->p[i].domid;

		tmp[--k] = '\0';
		do {
			tmp[--k] = (char)('0' + id % 10);
			id /= 10;
		} while (id);
		tmp[--k] = perm_letters[perms->p[i].perm & 3];
		if (used + (sizeof(tmp) - k) > size)
			return -XEN_E2BIG;
		memcpy(buf + used, tmp + k, sizeof(tmp) - k);
		used += (unsigned int)(sizeof(tmp) - k);
	}
	return (int)used;
}

/* ---- the whole tree ---- */

void xs_tree_init(xs_fire_fn fire_cb)
{
	struct xs_node *n;

	while (watches) {
		struct xs_watch *w = watches;

		watches = w->next;
		watch_free(w);
	}
	if (root)
		node_free(root);
	memset(owned, 0, sizeof(owned));
	fire_fn = fire_cb;
	root = node_new(NULL, "", 0, 0);
	if (root)
		create(0, "/local/domain", &n);
}
