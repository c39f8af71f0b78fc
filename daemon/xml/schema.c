/*
 * RelaxNG validation with precise error messages (see schema.h).
 *
 * libxml2's RelaxNG errors are vague inside <interleave> (they name the top-level element
 * whose content failed, e.g. "Extra element devices in interleave"), so on failure we locate
 * the culprit ourselves: the deepest element whose removal makes the document valid. Then
 * small tables of the element and attribute names the schema uses tell whether that element
 * (or one of its attributes) is not allowed at all or only has a bad value. Compiled schemas
 * are kept for the life of the process; validation contexts are per call, under a lock.
 */
#include "xml/schema.h"

#include "util/error.h"

#include <libxml/relaxng.h>
#include <string.h>
#include <unistd.h>

static GMutex schema_lock;
static GHashTable *schemas; /* file name -> xmlRelaxNGPtr */

char *hv_schema_find(const char *name, GError **err)
{
	const char *dirs[] = {g_getenv("HV_SCHEMA_DIR"), HV_SRC_SCHEMA_DIR,
	                      HV_INSTALLED_SCHEMA_DIR};

	for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
		char *path;

		if (!dirs[i] || !dirs[i][0])
			continue;
		path = g_build_filename(dirs[i], name, NULL);
		if (access(path, R_OK) == 0)
			return path;
		g_free(path);
	}
	hv_error_set(err, VIR_ERR_INTERNAL_ERROR,
	             "cannot find the schema '%s' (looked in $HV_SCHEMA_DIR, %s and %s)", name,
	             HV_SRC_SCHEMA_DIR, HV_INSTALLED_SCHEMA_DIR);
	return NULL;
}

/* One of libxml2's complaints, kept with the node it is about (NULL when it says none). */
typedef struct {
	int code;
	xmlNodePtr node;
	char *str1;
	char *message;
} Problem;

static void problem_free(Problem *p)
{
	g_free(p->str1);
	g_free(p->message);
	g_free(p);
}

static void collect_error(void *data, xmlErrorPtr e)
{
	GPtrArray *problems = data;
	Problem *p;

	if (!problems || !e || !e->message)
		return;
	p = g_new0(Problem, 1);
	p->code = e->code;
	p->node = e->node;
	p->str1 = g_strdup(e->str1);
	p->message = g_strchomp(g_strdup(e->message));
	g_ptr_array_add(problems, p);
}

static GPtrArray *problems_new(void)
{
	return g_ptr_array_new_with_free_func((GDestroyNotify)problem_free);
}

static const char *first_message(GPtrArray *problems)
{
	return problems->len ? ((Problem *)problems->pdata[0])->message : "unknown error";
}

static xmlRelaxNGPtr compile(const char *name, GError **err)
{
	g_autofree char *path =
	    g_path_is_absolute(name) ? g_strdup(name) : hv_schema_find(name, err);
	g_autoptr(GPtrArray) problems = problems_new();
	xmlRelaxNGParserCtxtPtr pctxt;
	xmlRelaxNGPtr rng;

	if (!path)
		return NULL;
	if (access(path, R_OK) != 0) {
		hv_error_set(err, VIR_ERR_INTERNAL_ERROR, "cannot read the schema %s", path);
		return NULL;
	}
	pctxt = xmlRelaxNGNewParserCtxt(path);
	xmlRelaxNGSetParserStructuredErrors(pctxt, collect_error, problems);
	rng = xmlRelaxNGParse(pctxt);
	xmlRelaxNGFreeParserCtxt(pctxt);
	if (!rng)
		hv_error_set(err, VIR_ERR_INTERNAL_ERROR, "cannot compile the schema %s: %s", path,
		             first_message(problems));
	return rng;
}

/* Called with schema_lock held. */
static xmlRelaxNGPtr get_schema(const char *name, GError **err)
{
	xmlRelaxNGPtr rng;

	if (!schemas)
		schemas = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	rng = g_hash_table_lookup(schemas, name);
	if (!rng && (rng = compile(name, err)))
		g_hash_table_insert(schemas, g_strdup(name), rng);
	return rng;
}

/* problems (nullable) collects libxml2's complaints. */
static gboolean is_valid(xmlRelaxNGPtr rng, xmlDocPtr doc, GPtrArray *problems)
{
	xmlRelaxNGValidCtxtPtr vctxt = xmlRelaxNGNewValidCtxt(rng);
	int rc;

	xmlRelaxNGSetValidStructuredErrors(vctxt, collect_error, problems);
	rc = xmlRelaxNGValidateDoc(vctxt, doc);
	xmlRelaxNGFreeValidCtxt(vctxt);
	return rc == 0;
}

/* Element names the schemas allow below each parent ("*" = any namespaced element). */
static const char *const allowed_children[][2] = {
    {"domain", " name uuid title description metadata memory currentMemory memtune vcpu "
               "cputune os on_poweroff on_reboot on_crash devices "},
    {"metadata", "*"},
    {"memtune", " min_guarantee "},
    {"cputune", " shares global_period global_quota "},
    {"os", " type kernel initrd cmdline "},
    {"devices", " disk interface console "},
    {"console", " target "},
    {"disk", " driver source target readonly iotune "},
    {"iotune", " total_bytes_sec read_bytes_sec write_bytes_sec total_iops_sec "
               "read_iops_sec write_iops_sec "},
    {"interface", " mac source target model bandwidth "},
    {"bandwidth", " inbound outbound "},
    /* capabilities documents are validated against libvirt's schema, not here */
};

/* Attribute names the schemas use on each element (by element name). */
static const char *const allowed_attributes[][2] = {
    {"domain", " type id "},
    {"memory", " unit "},
    {"currentMemory", " unit "},
    {"min_guarantee", " unit "},
    {"vcpu", " placement current "},
    {"type", " arch "},
    {"console", " type "},
    {"target", " type port dev bus "},
    {"disk", " type device "},
    {"driver", " name type "},
    {"source", " file bridge network "},
    {"interface", " type "},
    {"mac", " address "},
    {"model", " type "},
    {"inbound", " average peak burst floor "},
    {"outbound", " average peak burst "},
    {"sched", " reservation "},
};

static gboolean in_table(const char *const table[][2], size_t n, const char *key, const char *name,
                         gboolean namespaced)
{
	g_autofree char *padded = g_strdup_printf(" %s ", name);

	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i][0], key) == 0)
			return strcmp(table[i][1], "*") == 0
			           ? namespaced
			           : !namespaced && strstr(table[i][1], padded);
	return FALSE;
}

static int depth_of(xmlNodePtr n)
{
	int d = 0;

	for (; n && n->type == XML_ELEMENT_NODE; n = n->parent)
		d++;
	return d;
}

/* Does the document become valid without element e? e is put back where it was. */
static gboolean valid_without(xmlRelaxNGPtr rng, xmlDocPtr doc, xmlNodePtr e)
{
	xmlNodePtr parent = e->parent, next = e->next;
	gboolean ok;

	xmlUnlinkNode(e);
	ok = is_valid(rng, doc, NULL);
	if (next)
		xmlAddPrevSibling(next, e);
	else
		xmlAddChild(parent, e);
	return ok;
}

static void find_culprit(xmlRelaxNGPtr rng, xmlDocPtr doc, xmlNodePtr node, xmlNodePtr *best)
{
	for (xmlNodePtr c = node->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		find_culprit(rng, doc, c, best);
		if ((!*best || depth_of(c) > depth_of(*best)) && valid_without(rng, doc, c))
			*best = c;
	}
}

/* A value the schemas accept for each attribute name (where one value fits every element
 * that has the attribute), to tell a bad value from a missing sibling. */
static const char *const attribute_samples[][2] = {
    {"file", "/a"},
    {"dev", "xvda"},
    {"bus", "xen"},
    {"bridge", "br0"},
    {"network", "default"},
    {"unit", "KiB"},
    {"arch", "x86_64"},
    {"placement", "static"},
    {"current", "1"},
    {"port", "0"},
    {"name", "file"},
    {"average", "1"},
    {"peak", "1"},
    {"floor", "1"},
    {"burst", "1"},
    {"reservation", "0"},
    {"id", "1"},
    {"device", "disk"},
    {"address", "00:16:3e:00:00:01"},
};

static const char *sample_for(const char *attribute)
{
	for (size_t i = 0; i < G_N_ELEMENTS(attribute_samples); i++)
		if (strcmp(attribute_samples[i][0], attribute) == 0)
			return attribute_samples[i][1];
	return NULL;
}

/* Does the document become valid with attribute a of e set to a sample value? */
static gboolean valid_with_sample(xmlRelaxNGPtr rng, xmlDocPtr doc, xmlNodePtr e, xmlAttrPtr a)
{
	const char *sample = a->ns ? NULL : sample_for((const char *)a->name);
	xmlChar *saved;
	gboolean ok;

	if (!sample)
		return FALSE;
	saved = xmlGetNoNsProp(e, a->name);
	xmlSetProp(e, a->name, (const xmlChar *)sample);
	ok = is_valid(rng, doc, NULL);
	xmlSetProp(e, a->name, saved);
	xmlFree(saved);
	return ok;
}

/* The attribute of e that makes the document invalid (it goes away, or a sample value in its
 * place, and the document is valid), or NULL; e is restored. */
static xmlAttrPtr find_bad_attribute(xmlRelaxNGPtr rng, xmlDocPtr doc, xmlNodePtr e)
{
	g_autoptr(GPtrArray) attrs = g_ptr_array_new();

	for (xmlAttrPtr a = e->properties; a; a = a->next)
		g_ptr_array_add(attrs, a);
	for (guint i = 0; i < attrs->len; i++) {
		xmlNodePtr a = attrs->pdata[i];
		gboolean ok;

		xmlUnlinkNode(a);
		ok = is_valid(rng, doc, NULL);
		xmlAddChild(e, a); /* back among e's attributes (order does not matter) */
		if (ok || valid_with_sample(rng, doc, e, (xmlAttrPtr)a))
			return (xmlAttrPtr)a;
	}
	return NULL;
}

static gboolean only_text(xmlNodePtr e)
{
	for (xmlNodePtr c = e->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return FALSE;
	return TRUE;
}

static gboolean is_inside(xmlNodePtr node, xmlNodePtr ancestor)
{
	for (; node; node = node->parent)
		if (node == ancestor)
			return TRUE;
	return FALSE;
}

/* "invalid value 'v' for attribute 'a' of <e>" or "attribute 'a' is not allowed in <e>" */
static int report_attribute(xmlNodePtr e, const char *aname, GError **err)
{
	const char *name = (const char *)e->name;
	xmlChar *value;
	int ret;

	if (!in_table(allowed_attributes, G_N_ELEMENTS(allowed_attributes), name, aname, FALSE))
		return hv_error_set(err, VIR_ERR_XML_ERROR, "attribute '%s' is not allowed in <%s>",
		                    aname, name);
	value = xmlGetProp(e, (const xmlChar *)aname);
	ret = hv_error_set(err, VIR_ERR_XML_ERROR, "invalid value '%s' for attribute '%s' of <%s>",
	                   value ? (const char *)value : "", aname, name);
	xmlFree(value);
	return ret;
}

static int report_value(xmlNodePtr e, GError **err)
{
	xmlChar *value = xmlNodeGetContent(e);
	int ret = hv_error_set(err, VIR_ERR_XML_ERROR, "invalid value '%s' in <%s>",
	                       value ? (const char *)value : "", e->name);

	xmlFree(value);
	return ret;
}

/* libxml2's own complaint about something inside e, when it gave one with a node. */
static const char *detail_inside(GPtrArray *problems, xmlNodePtr e)
{
	for (guint i = 0; i < problems->len; i++) {
		Problem *p = problems->pdata[i];
		if (p->node && is_inside(p->node, e))
			return p->message;
	}
	return NULL;
}

/* ' type='x'' when node has a type attribute, else "" */
static char *type_suffix(xmlNodePtr node)
{
	xmlChar *type = xmlGetNoNsProp(node, (const xmlChar *)"type");
	char *s = g_strdup_printf("%s%s%s", type ? " type='" : "", type ? (char *)type : "",
	                          type ? "'" : "");

	xmlFree(type);
	return s;
}

static int report_invalid_element(xmlNodePtr e, const char *detail, GError **err)
{
	g_autofree char *type = type_suffix(e);
	g_autofree char *parent_type = type_suffix(e->parent);

	return hv_error_set(err, VIR_ERR_XML_ERROR,
	                    "invalid <%s%s> in <%s%s> (line %ld): it is not allowed there, or it "
	                    "lacks a required attribute or element%s%s",
	                    e->name, type, e->parent->name, parent_type, xmlGetLineNo(e),
	                    detail ? "; " : "", detail ? detail : "");
}

static int explain_culprit(xmlRelaxNGPtr rng, xmlDocPtr doc, xmlNodePtr e, GPtrArray *problems,
                           GError **err)
{
	const char *name = (const char *)e->name;
	const char *parent = (const char *)e->parent->name;
	xmlAttrPtr bad;

	if (!in_table(allowed_children, G_N_ELEMENTS(allowed_children), parent, name,
	              e->ns != NULL))
		return hv_error_set(err, VIR_ERR_XML_ERROR, "element '%s' is not allowed in <%s>",
		                    name, parent);
	if ((bad = find_bad_attribute(rng, doc, e)))
		return report_attribute(e, (const char *)bad->name, err);
	if (only_text(e) && e->children)
		return report_value(e, err);
	return report_invalid_element(e, detail_inside(problems, e), err);
}

/* No single element is in the way: use libxml2's complaints that name a node. */
static int explain_problems(GPtrArray *problems, GError **err)
{
	for (guint i = 0; i < problems->len; i++) {
		Problem *p = problems->pdata[i];

		if (!p->node || p->node->type != XML_ELEMENT_NODE)
			continue;
		if (p->code == XML_RELAXNG_ERR_NOELEM && p->str1)
			return hv_error_set(err, VIR_ERR_XML_ERROR,
			                    "element '%s' is missing in <%s>", p->str1,
			                    p->node->name);
		if (p->code == XML_RELAXNG_ERR_INVALIDATTR && p->str1)
			return report_attribute(p->node, p->str1, err);
		if (p->code == XML_RELAXNG_ERR_DATATYPE || p->code == XML_RELAXNG_ERR_VALUE)
			return report_value(p->node, err);
	}
	return hv_error_set(err, VIR_ERR_XML_ERROR, "the document does not match the schema: %s",
	                    first_message(problems));
}

static int explain(xmlRelaxNGPtr rng, xmlDocPtr doc, GError **err)
{
	g_autoptr(GPtrArray) problems = problems_new();
	xmlNodePtr root = xmlDocGetRootElement(doc);
	xmlNodePtr culprit = NULL;

	is_valid(rng, doc, problems);
	if (root)
		find_culprit(rng, doc, root, &culprit);
	if (culprit)
		return explain_culprit(rng, doc, culprit, problems, err);
	return explain_problems(problems, err);
}

int hv_schema_validate(xmlDocPtr doc, const char *name, GError **err)
{
	xmlRelaxNGPtr rng;
	int ret = 0;

	g_mutex_lock(&schema_lock);
	rng = get_schema(name, err);
	if (!rng)
		ret = -1;
	else if (!is_valid(rng, doc, NULL))
		ret = explain(rng, doc, err);
	g_mutex_unlock(&schema_lock);
	return ret;
}

gboolean hv_schema_libvirt_accepts(xmlDocPtr doc)
{
	g_autofree char *path = g_build_filename(HV_LIBVIRT_SCHEMA_DIR, "domain.rng", NULL);
	xmlDocPtr copy;
	xmlNodePtr root;
	xmlRelaxNGPtr rng;
	gboolean ok = FALSE;

	if (access(path, R_OK) != 0)
		return FALSE;
	copy = xmlCopyDoc(doc, 1);
	root = xmlDocGetRootElement(copy);
	if (root)
		xmlSetProp(root, (const xmlChar *)"type", (const xmlChar *)"xen");
	g_mutex_lock(&schema_lock);
	rng = get_schema(path, NULL);
	if (rng && root)
		ok = is_valid(rng, copy, NULL);
	g_mutex_unlock(&schema_lock);
	xmlFreeDoc(copy);
	return ok;
}
