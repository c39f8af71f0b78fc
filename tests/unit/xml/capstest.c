/*
 * Capabilities XML: valid for libvirt's own capability.rng (when installed), and saying what
 * virt-manager needs: host arch x86_64, one cell with the host's memory and one <cpu> per
 * physical CPU, and guests 'xen' and 'linux' for arch x86_64 with domain type 'hv'.
 */
#include "util/error.h"
#include "xml/domain_conf.h"
#include "xml/schema.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failures;

static char *xpath_string(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr ctxt = xmlXPathNewContext(doc);
	xmlXPathObjectPtr obj = xmlXPathEvalExpression((const xmlChar *)expr, ctxt);
	char *s = g_strdup(obj && obj->stringval ? (const char *)obj->stringval : "");

	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctxt);
	return s;
}

static void expect(xmlDocPtr doc, const char *expr, const char *want)
{
	g_autofree char *xp = g_strdup_printf("string(%s)", expr);
	g_autofree char *got = xpath_string(doc, xp);

	if (strcmp(got, want) != 0) {
		fprintf(stderr, "FAIL: %s is '%s', expected '%s'\n", expr, got, want);
		failures++;
	}
}

/* libvirt's schema lists the domain types it knows: validate with 'xen' in place of 'hv'. */
static void check_libvirt_schema(xmlDocPtr doc, const char *xml)
{
	const char *libvirt_rng = HV_LIBVIRT_SCHEMA_DIR "/capability.rng";
	g_autoptr(GError) err = NULL;
	xmlDocPtr copy;
	xmlXPathContextPtr ctxt;
	xmlXPathObjectPtr obj;

	if (access(libvirt_rng, R_OK) != 0)
		return;
	copy = xmlCopyDoc(doc, 1);
	ctxt = xmlXPathNewContext(copy);
	obj = xmlXPathEvalExpression((const xmlChar *)"//guest/arch/domain", ctxt);
	for (int i = 0; obj && obj->nodesetval && i < obj->nodesetval->nodeNr; i++)
		xmlSetProp(obj->nodesetval->nodeTab[i], (const xmlChar *)"type",
		           (const xmlChar *)"xen");
	if (!obj || !obj->nodesetval || obj->nodesetval->nodeNr != 2) {
		fprintf(stderr, "FAIL: expected two <domain> elements\n");
		failures++;
	}
	if (hv_schema_validate(copy, libvirt_rng, &err) < 0) {
		fprintf(stderr, "FAIL: not valid for %s: %s\n%s", libvirt_rng, err->message, xml);
		failures++;
	}
	xmlXPathFreeObject(obj);
	xmlXPathFreeContext(ctxt);
	xmlFreeDoc(copy);
}

static void check(const hvHostInfo *host, const char *ncpus, const char *memory)
{
	g_autofree char *xml = hv_capabilities_format(host);
	xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "caps.xml", NULL, XML_PARSE_NONET);

	if (!doc) {
		fprintf(stderr, "FAIL: capabilities are not well-formed:\n%s", xml);
		failures++;
		return;
	}
	check_libvirt_schema(doc, xml);
	expect(doc, "/capabilities/host/uuid", "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
	expect(doc, "/capabilities/host/cpu/arch", "x86_64");
	expect(doc, "/capabilities/host/topology/cells/cell/cpus/@num", ncpus);
	expect(doc, "count(/capabilities/host/topology/cells/cell/cpus/cpu)", ncpus);
	expect(doc, "/capabilities/host/topology/cells/cell/memory", memory);
	expect(doc, "/capabilities/host/secmodel/model", "none");
	expect(doc, "count(/capabilities/guest)", "2");
	expect(doc, "/capabilities/guest[os_type='xen']/arch[@name='x86_64']/domain/@type", "hv");
	expect(doc, "/capabilities/guest[os_type='linux']/arch[@name='x86_64']/domain/@type", "hv");
	expect(doc, "/capabilities/guest[1]/arch/wordsize", "64");
	expect(doc, "/capabilities/guest[1]/arch/emulator", host->emulator ? host->emulator : "");
	xmlFreeDoc(doc);
}

int main(void)
{
	hvHostInfo host = {.cpus = 4, .mhz = 2000, .memory_kib = 8388608};
	hvHostInfo tiny = {.cpus = 0, .memory_kib = 0, .emulator = "/usr/sbin/virthvd & co"};

	hv_uuid_parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8", host.uuid);
	memcpy(tiny.uuid, host.uuid, 16);
	check(&host, "4", "8388608");
	check(&tiny, "1", "0");
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
