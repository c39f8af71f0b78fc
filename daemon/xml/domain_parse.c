/*
 * Domain XML -> hvDomainDef. Order of checks, so that each error is the most useful one:
 * well-formedness (libxml2), then what hv knowingly does not do although libvirt could
 * (VIR_ERR_CONFIG_UNSUPPORTED), then the RelaxNG schema (VIR_ERR_XML_ERROR naming the
 * element), then the tree is read (numbers and units range-checked here) and defaults filled
 * in, then hv_domain_def_check(). The reader below may assume the schema's shape.
 */
#include "xml/domain_conf.h"

#include "util/error.h"
#include "xml/schema.h"
#include "xml/xml_util.h"

#include <libxml/parser.h>
#include <string.h>

#define DOMAIN_SCHEMA "domain-hv.rng"

static xmlDocPtr read_document(const char *xml, GError **err)
{
	static gsize initialized;
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;

	if (g_once_init_enter(&initialized)) {
		xmlInitParser(); /* once, before threads share libxml2 */
		g_once_init_leave(&initialized, 1);
	}
	if (!xml || !*xml) {
		hv_error_set(err, VIR_ERR_XML_ERROR, "the domain XML document is empty");
		return NULL;
	}
	ctxt = xmlNewParserCtxt();
	if (!ctxt) {
		hv_error_set(err, VIR_ERR_NO_MEMORY, "cannot create an XML parser");
		return NULL;
	}
	/* no network, no entity expansion, and errors kept in ctxt instead of printed */
	doc = xmlCtxtReadMemory(ctxt, xml, (int)strlen(xml), "domain.xml", NULL,
	                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc || !ctxt->wellFormed) {
		const xmlError *e = &ctxt->lastError;
		g_autofree char *msg = g_strchomp(g_strdup(e->message ? e->message : "unknown"));

		hv_error_set(err, VIR_ERR_XML_ERROR, "line %d: %s", e->line, msg);
		xmlFreeDoc(doc);
		doc = NULL;
	}
	xmlFreeParserCtxt(ctxt);
	return doc;
}

/* Valid libvirt XML that hv cannot honour, named before the schema says "invalid". */
static int check_supported(xmlNodePtr root, GError **err)
{
	g_autofree char *type = NULL, *os_type = NULL, *arch = NULL;
	xmlNodePtr os = hv_xml_child(root, "os"), os_type_node = hv_xml_child(os, "type");

	if (strcmp((const char *)root->name, "domain") != 0 || root->ns)
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "expected the root element <domain>, not <%s>", root->name);
	type = hv_xml_prop(root, "type");
	if (!type)
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "attribute 'type' is missing in <domain>");
	if (strcmp(type, "hv") != 0)
		return hv_error_set(
		    err, VIR_ERR_CONFIG_UNSUPPORTED,
		    "domain type '%s' is not supported by hv; use <domain type='hv'>", type);
	if (!os_type_node)
		return 0; /* the schema reports it */
	os_type = g_strstrip(hv_xml_child_text(os, "type"));
	if (strcmp(os_type, "linux") != 0 && strcmp(os_type, "xen") != 0)
		return hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
		                    "os type '%s' is not supported by hv: guests are "
		                    "paravirtualized, <type>linux</type> or <type>xen</type>",
		                    os_type);
	arch = hv_xml_prop(os_type_node, "arch");
	if (arch && strcmp(arch, "x86_64") != 0)
		return hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
		                    "architecture '%s' is not supported by hv: only x86_64", arch);
	return 0;
}

static int parse_uint(const char *s, const char *what, unsigned int *out, GError **err)
{
	unsigned long long v;

	if (hv_xml_parse_ull(s, what, &v, err) < 0)
		return -1;
	if (v > G_MAXUINT)
		return hv_error_set(err, VIR_ERR_XML_ERROR, "value '%s' of %s is too large", s,
		                    what);
	*out = (unsigned int)v;
	return 0;
}

/* An optional unsigned attribute (0 when absent). */
static int attr_ull(xmlNodePtr node, const char *name, unsigned long long *out, GError **err)
{
	g_autofree char *v = node ? hv_xml_prop(node, name) : NULL;
	g_autofree char *what = NULL;

	*out = 0;
	if (!v)
		return 0;
	what = g_strdup_printf("attribute '%s' of <%s>", name, node->name);
	return hv_xml_parse_ull(v, what, out, err);
}

/* An optional unsigned child element's text (0 when absent). */
static int child_ull(xmlNodePtr node, const char *name, unsigned long long *out, GError **err)
{
	g_autofree char *v = hv_xml_child_text(node, name);
	g_autofree char *what = g_strdup_printf("<%s>", name);

	*out = 0;
	return v ? hv_xml_parse_ull(g_strstrip(v), what, out, err) : 0;
}

static gboolean has_element_children(xmlNodePtr node)
{
	for (xmlNodePtr c = node->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return TRUE;
	return FALSE;
}

/* Drops indentation between elements, so that the formatter can indent them its own way. */
static void strip_blanks(xmlNodePtr node)
{
	gboolean structural = has_element_children(node);

	for (xmlNodePtr c = node->children; c;) {
		xmlNodePtr next = c->next;

		if (structural && c->type == XML_TEXT_NODE && xmlIsBlankNode(c)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else if (c->type == XML_ELEMENT_NODE) {
			strip_blanks(c);
		}
		c = next;
	}
}

/* One foreign <metadata> child as standalone text, its namespaces declared on itself. */
static char *dump_foreign(xmlNodePtr node)
{
	xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNodePtr copy = xmlDocCopyNode(node, doc, 1);
	xmlBufferPtr buf = xmlBufferCreate();
	char *text;

	xmlDocSetRootElement(doc, copy);
	xmlReconciliateNs(doc, copy);
	strip_blanks(copy);
	xmlNodeDump(buf, doc, copy, 0, 1);
	text = g_strdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	xmlFreeDoc(doc);
	return text;
}

static int parse_metadata(hvDomainDef *def, xmlNodePtr md, GError **err)
{
	g_autoptr(GString) other = g_string_new(NULL);

	for (xmlNodePtr c = md ? md->children : NULL; c; c = c->next) {
		g_autofree char *res = NULL;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (c->ns && strcmp((const char *)c->ns->href, HV_XML_NS) == 0) {
			res = hv_xml_prop(c, "reservation");
			if (res && parse_uint(res, "the reservation", &def->reservation, err) < 0)
				return -1;
			continue;
		}
		g_autofree char *dump = dump_foreign(c);
		g_string_append_printf(other, "%s%s", other->len ? "\n" : "", dump);
	}
	def->metadata = other->len ? g_strdup(other->str) : NULL;
	return 0;
}

static int parse_memory(hvDomainDef *def, xmlNodePtr root, GError **err)
{
	xmlNodePtr cur = hv_xml_child(root, "currentMemory");
	xmlNodePtr guarantee = hv_xml_child(hv_xml_child(root, "memtune"), "min_guarantee");

	if (hv_xml_scaled_kib(hv_xml_child(root, "memory"), &def->memory_kib, err) < 0)
		return -1;
	def->current_memory_kib = def->memory_kib;
	if (cur && hv_xml_scaled_kib(cur, &def->current_memory_kib, err) < 0)
		return -1;
	if (guarantee && hv_xml_scaled_kib(guarantee, &def->min_guarantee_kib, err) < 0)
		return -1;
	return 0;
}

static int parse_vcpu(hvDomainDef *def, xmlNodePtr root, GError **err)
{
	xmlNodePtr vcpu = hv_xml_child(root, "vcpu");
	g_autofree char *max = hv_xml_child_text(root, "vcpu");
	g_autofree char *current = hv_xml_prop(vcpu, "current");

	if (parse_uint(g_strstrip(max), "<vcpu>", &def->max_vcpus, err) < 0)
		return -1;
	def->vcpus = def->max_vcpus;
	if (current && parse_uint(current, "attribute 'current' of <vcpu>", &def->vcpus, err) < 0)
		return -1;
	return 0;
}

/* weight = <shares>; cap = global_quota * 100 / global_period (whole percent only). */
static int parse_cputune(hvDomainDef *def, xmlNodePtr root, GError **err)
{
	xmlNodePtr tune = hv_xml_child(root, "cputune");
	unsigned long long shares, period, quota = 0;
	g_autofree char *quota_text = hv_xml_child_text(tune, "global_quota");

	if (!tune)
		return 0;
	if (child_ull(tune, "shares", &shares, err) < 0 ||
	    child_ull(tune, "global_period", &period, err) < 0)
		return -1;
	if (hv_xml_child(tune, "shares")) {
		if (shares > G_MAXUINT)
			return hv_error_set(err, VIR_ERR_XML_ERROR, "<shares> is too large");
		def->weight = (unsigned int)shares;
	}
	if (!period)
		period = 100000;
	if (quota_text)
		g_strstrip(quota_text);
	if (quota_text && strcmp(quota_text, "-1") != 0 &&
	    hv_xml_parse_ull(quota_text, "<global_quota>", &quota, err) < 0)
		return -1;
	if (quota && (quota > G_MAXUINT64 / 100 || (quota * 100) % period != 0))
		return hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
		                    "hv caps CPU time in whole percent of a CPU: <global_quota> "
		                    "must be a multiple of <global_period>/100 (%llu)",
		                    period / 100);
	if (quota && quota * 100 / period > G_MAXUINT)
		return hv_error_set(err, VIR_ERR_XML_ERROR, "<global_quota> is too large");
	def->cap = (unsigned int)(quota * 100 / period);
	return 0;
}

static void parse_os(hvDomainDef *def, xmlNodePtr root)
{
	xmlNodePtr os = hv_xml_child(root, "os");

	def->os_type = g_strstrip(hv_xml_child_text(os, "type"));
	def->kernel = hv_xml_child_text(os, "kernel");
	def->initrd = hv_xml_child_text(os, "initrd");
	def->cmdline = hv_xml_child_text(os, "cmdline");
}

static void parse_lifecycle(hvLifecycleAction *action, xmlNodePtr root, const char *name)
{
	g_autofree char *text = hv_xml_child_text(root, name);
	int v = text ? hv_lifecycle_action_from_string(g_strstrip(text)) : -1;

	if (v >= 0)
		*action = v;
}

static int parse_disk(hvDomainDef *def, xmlNodePtr node, GError **err)
{
	hvDiskDef *disk = g_new0(hvDiskDef, 1);
	xmlNodePtr target = hv_xml_child(node, "target");
	xmlNodePtr iotune = hv_xml_child(node, "iotune");

	g_ptr_array_add(def->disks, disk);
	disk->source_file = hv_xml_prop(hv_xml_child(node, "source"), "file");
	disk->target_dev = hv_xml_prop(target, "dev");
	disk->target_bus = hv_xml_prop(target, "bus");
	if (!disk->target_bus)
		disk->target_bus = g_strdup("xen");
	disk->driver_name = hv_xml_prop(hv_xml_child(node, "driver"), "name");
	disk->readonly = hv_xml_child(node, "readonly") != NULL;
	if (!iotune)
		return 0;
	if (child_ull(iotune, "total_bytes_sec", &disk->total_bytes_sec, err) < 0 ||
	    child_ull(iotune, "read_bytes_sec", &disk->read_bytes_sec, err) < 0 ||
	    child_ull(iotune, "write_bytes_sec", &disk->write_bytes_sec, err) < 0 ||
	    child_ull(iotune, "total_iops_sec", &disk->total_iops_sec, err) < 0 ||
	    child_ull(iotune, "read_iops_sec", &disk->read_iops_sec, err) < 0 ||
	    child_ull(iotune, "write_iops_sec", &disk->write_iops_sec, err) < 0)
		return -1;
	return 0;
}

static char *generate_mac(void)
{
	guint32 r = g_random_int();

	return g_strdup_printf("00:16:3e:%02x:%02x:%02x", (r >> 16) & 0x7f, (r >> 8) & 0xff,
	                       r & 0xff);
}

static int parse_bandwidth(hvInterfaceDef *iface, xmlNodePtr bw, GError **err)
{
	xmlNodePtr in = hv_xml_child(bw, "inbound"), out = hv_xml_child(bw, "outbound");

	if (attr_ull(in, "average", &iface->in_average, err) < 0 ||
	    attr_ull(in, "peak", &iface->in_peak, err) < 0 ||
	    attr_ull(in, "burst", &iface->in_burst, err) < 0 ||
	    attr_ull(in, "floor", &iface->in_floor, err) < 0 ||
	    attr_ull(out, "average", &iface->out_average, err) < 0 ||
	    attr_ull(out, "peak", &iface->out_peak, err) < 0 ||
	    attr_ull(out, "burst", &iface->out_burst, err) < 0)
		return -1;
	return 0;
}

static int parse_interface(hvDomainDef *def, xmlNodePtr node, GError **err)
{
	hvInterfaceDef *iface = g_new0(hvInterfaceDef, 1);
	xmlNodePtr source = hv_xml_child(node, "source");

	g_ptr_array_add(def->interfaces, iface);
	iface->type = hv_xml_prop(node, "type");
	iface->mac = hv_xml_prop(hv_xml_child(node, "mac"), "address");
	if (iface->mac) {
		char *lower = g_ascii_strdown(iface->mac, -1);
		g_free(iface->mac);
		iface->mac = lower;
	} else {
		iface->mac = generate_mac();
	}
	if (source)
		iface->source =
		    hv_xml_prop(source, strcmp(iface->type, "bridge") == 0 ? "bridge" : "network");
	iface->target_dev = hv_xml_prop(hv_xml_child(node, "target"), "dev");
	iface->model = hv_xml_prop(hv_xml_child(node, "model"), "type");
	if (hv_xml_child(node, "ip")) {
		g_autofree char *prefix = hv_xml_prop(hv_xml_child(node, "ip"), "prefix");

		iface->ip_address = hv_xml_prop(hv_xml_child(node, "ip"), "address");
		iface->ip_prefix = prefix ? (unsigned int)g_ascii_strtoull(prefix, NULL, 10) : 24;
	}
	return parse_bandwidth(iface, hv_xml_child(node, "bandwidth"), err);
}

static int parse_devices(hvDomainDef *def, xmlNodePtr root, GError **err)
{
	xmlNodePtr devices = hv_xml_child(root, "devices");

	for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
		const char *name = (const char *)c->name;

		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp(name, "disk") == 0 && parse_disk(def, c, err) < 0)
			return -1;
		if (strcmp(name, "interface") == 0 && parse_interface(def, c, err) < 0)
			return -1;
		if (strcmp(name, "console") == 0) {
			def->has_console = TRUE;
			def->console_target_type = hv_xml_prop(hv_xml_child(c, "target"), "type");
			if (!def->console_target_type)
				def->console_target_type = g_strdup("xen");
		}
	}
	return 0;
}

static int parse_identity(hvDomainDef *def, xmlNodePtr root, unsigned int flags, GError **err)
{
	g_autofree char *uuid = hv_xml_child_text(root, "uuid");
	g_autofree char *id = hv_xml_prop(root, "id");
	unsigned int domid = 0;

	def->name = hv_xml_child_text(root, "name");
	def->title = hv_xml_child_text(root, "title");
	def->description = hv_xml_child_text(root, "description");
	if (!uuid)
		hv_uuid_generate(def->uuid);
	else if (hv_uuid_parse(uuid, def->uuid) < 0)
		return hv_error_set(err, VIR_ERR_XML_ERROR, "malformed uuid '%s'", uuid);
	if (id && (flags & HV_DOMAIN_DEF_PARSE_LIVE)) {
		if (parse_uint(id, "attribute 'id' of <domain>", &domid, err) < 0)
			return -1;
		def->id = (int)MIN(domid, (unsigned int)G_MAXINT);
	}
	return 0;
}

/* The schema, with "invalid" turned into "unsupported" when libvirt would accept the XML. */
static int validate(xmlDocPtr doc, GError **err)
{
	g_autoptr(GError) local = NULL;
	const char *detail;

	if (hv_schema_validate(doc, DOMAIN_SCHEMA, &local) == 0)
		return 0;
	if (local->code != VIR_ERR_XML_ERROR || !hv_schema_libvirt_accepts(doc)) {
		g_propagate_error(err, g_steal_pointer(&local));
		return -1;
	}
	detail = local->message;
	if (g_str_has_prefix(detail, "XML error: "))
		detail += strlen("XML error: ");
	return hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
	                    "hv does not support this part of libvirt's domain XML: %s", detail);
}

static hvDomainDef *parse_tree(xmlNodePtr root, unsigned int flags, GError **err)
{
	g_autoptr(hvDomainDef) def = hv_domain_def_new();

	if (parse_identity(def, root, flags, err) < 0 ||
	    parse_metadata(def, hv_xml_child(root, "metadata"), err) < 0 ||
	    parse_memory(def, root, err) < 0 || parse_vcpu(def, root, err) < 0 ||
	    parse_cputune(def, root, err) < 0)
		return NULL;
	parse_os(def, root);
	parse_lifecycle(&def->on_poweroff, root, "on_poweroff");
	parse_lifecycle(&def->on_reboot, root, "on_reboot");
	parse_lifecycle(&def->on_crash, root, "on_crash");
	if (parse_devices(def, root, err) < 0)
		return NULL;
	return g_steal_pointer(&def);
}

hvDomainDef *hv_domain_def_parse(const char *xml, unsigned int flags, GError **err)
{
	xmlDocPtr doc = read_document(xml, err);
	hvDomainDef *def = NULL;
	xmlNodePtr root;

	if (!doc)
		return NULL;
	root = xmlDocGetRootElement(doc);
	if (!root)
		hv_error_set(err, VIR_ERR_XML_ERROR, "the domain XML document has no root element");
	else if (check_supported(root, err) == 0 && validate(doc, err) == 0)
		def = parse_tree(root, flags, err);
	xmlFreeDoc(doc);
	if (def && hv_domain_def_check(def, err) < 0) {
		hv_domain_def_free(def);
		def = NULL;
	}
	return def;
}
