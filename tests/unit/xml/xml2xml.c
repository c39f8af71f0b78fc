/*
 * Domain XML round trips, after libvirt's tests/bhyvexml2xmltest.c: the test list is a list of
 * names; data/<name>.xml is parsed, formatted, and compared with data/<name>.out.xml (or with
 * the input itself when there is no .out.xml). parse(format(parse(x))) must equal parse(x),
 * a copy must format the same, and VIR_DOMAIN_XML_INACTIVE must drop id=. Every
 * data/<name>-invalid.xml must be rejected with the code and message listed below.
 * REGENERATE_OUTPUT=1 rewrites the expected outputs (review the diff before committing).
 */
#include "util/error.h"
#include "xml/domain_conf.h"

#include <libvirt/libvirt.h>
#include <stdio.h>
#include <string.h>

static const char *const valid_tests[] = {
    "minimal",    "full",      "os-xen",   "units", "cputune-cap",
    "interfaces", "lifecycle", "escaping", "disks",
};

static const struct {
	const char *name; /* data/<name>-invalid.xml */
	int code;
	const char *message; /* substring of the error message */
} invalid_tests[] = {
    {"malformed", VIR_ERR_XML_ERROR, "line 9: Opening and ending tag mismatch: os line 7 and oss"},
    {"empty", VIR_ERR_XML_ERROR, "the domain XML document is empty"},
    {"type-kvm", VIR_ERR_CONFIG_UNSUPPORTED, "domain type 'kvm' is not supported"},
    {"os-hvm", VIR_ERR_CONFIG_UNSUPPORTED, "os type 'hvm' is not supported"},
    {"arch-i686", VIR_ERR_CONFIG_UNSUPPORTED, "architecture 'i686' is not supported"},
    {"devices-foo", VIR_ERR_XML_ERROR, "XML error: element 'foo' is not allowed in <devices>"},
    {"top-foo", VIR_ERR_XML_ERROR, "element 'foo' is not allowed in <domain>"},
    {"graphics", VIR_ERR_CONFIG_UNSUPPORTED, "element 'graphics' is not allowed in <devices>"},
    {"disk-block", VIR_ERR_CONFIG_UNSUPPORTED,
     "invalid <disk type='block'> in <devices> (line 11)"},
    {"bad-unit", VIR_ERR_XML_ERROR, "invalid value 'XB' for attribute 'unit' of <memory>"},
    {"bad-attr", VIR_ERR_XML_ERROR, "attribute 'bogus' is not allowed in <readonly>"},
    {"bad-lifecycle", VIR_ERR_XML_ERROR, "invalid value 'explode' in <on_crash>"},
    {"missing-name", VIR_ERR_XML_ERROR, "element 'name' is missing in <domain>"},
    {"memory-order", VIR_ERR_XML_ERROR, "current memory (2097152 KiB) must not exceed"},
    {"guarantee-order", VIR_ERR_XML_ERROR, "memory guarantee (2097152 KiB) must not exceed"},
    {"vcpus-zero", VIR_ERR_XML_ERROR, "invalid value '0' in <vcpu>"},
    {"vcpus-too-many", VIR_ERR_CONFIG_UNSUPPORTED, "hv supports at most 64"},
    {"vcpus-current", VIR_ERR_XML_ERROR, "current vcpus (4) must not exceed the maximum (2)"},
    {"reservation-101", VIR_ERR_XML_ERROR, "a CPU reservation is at most 100% of a CPU"},
    {"cap-too-big", VIR_ERR_XML_ERROR, "a CPU cap of 300% is more than 2 vcpus can use"},
    {"cap-fraction", VIR_ERR_CONFIG_UNSUPPORTED, "whole percent"},
    {"reservation-over-cap", VIR_ERR_XML_ERROR, "exceeds the cap"},
    {"weight-zero", VIR_ERR_XML_ERROR, "must be between 1 and 65535"},
    {"name-slash", VIR_ERR_XML_ERROR, "must not contain '/'"},
    {"uuid-bad", VIR_ERR_XML_ERROR, "invalid value"},
    {"mac-multicast", VIR_ERR_XML_ERROR, "'01:16:3e:00:00:01' is not a valid unicast MAC"},
    {"mac-duplicate", VIR_ERR_XML_ERROR, "MAC address 00:16:3e:00:00:01 is used by two"},
    {"disk-duplicate", VIR_ERR_XML_ERROR, "target 'xvda' duplicated"},
    {"iotune-total-and-read", VIR_ERR_XML_ERROR, "total and read/write bytes_sec"},
    {"bandwidth-peak-only", VIR_ERR_XML_ERROR, "needs 'average'"},
    {"bridge-no-source", VIR_ERR_XML_ERROR,
     "interface 00:16:3e:00:00:01 of type 'bridge' needs a <source>"},
    {"ethernet-source", VIR_ERR_XML_ERROR,
     "invalid <source> in <interface type='ethernet'> (line 17): it is not allowed there"},
    {"ip-bridge", VIR_ERR_CONFIG_UNSUPPORTED, "type='ethernet' interfaces only"},
    {"ip-v6", VIR_ERR_CONFIG_UNSUPPORTED, "'fe80::1' is not an IPv4 address"},
    {"ip-prefix", VIR_ERR_XML_ERROR, "<ip> prefix 31 is not 1..30"},
    {"disk-no-source", VIR_ERR_XML_ERROR, "disk xvda has no <source file=...>"},
    {"disk-no-target", VIR_ERR_XML_ERROR, "disk 1 has no <target dev='xvdX'>"},
    {"disk-relative", VIR_ERR_XML_ERROR, "invalid value 'a.img' for attribute 'file' of <source>"},
    {"title-newline", VIR_ERR_XML_ERROR, "title"},
    {"memory-huge", VIR_ERR_XML_ERROR, "too large"},
    {"root-not-domain", VIR_ERR_XML_ERROR, "expected the root element <domain>, not <network>"},
};

static int failures;

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		fprintf(stderr, "FAIL: " __VA_ARGS__);                                             \
		fputc('\n', stderr);                                                               \
		failures++;                                                                        \
	} while (0)

static char *data_path(const char *name, const char *suffix)
{
	return g_strdup_printf("%s/%s%s", HV_TEST_DATA_DIR, name, suffix);
}

static char *read_file(const char *path)
{
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	return text;
}

/* Compares actual with the expected file, or rewrites it under REGENERATE_OUTPUT=1. */
static void compare_output(const char *name, const char *input, const char *actual)
{
	g_autofree char *out_path = data_path(name, ".out.xml");
	g_autofree char *expected = read_file(out_path);

	if (g_getenv("REGENERATE_OUTPUT")) {
		if (strcmp(actual, input) == 0)
			remove(out_path);
		else
			g_file_set_contents(out_path, actual, -1, NULL);
		return;
	}
	if (!expected)
		expected = g_strdup(input);
	if (strcmp(expected, actual) != 0)
		FAIL("%s: output differs from %s.\n--- expected\n%s--- actual\n%s", name,
		     g_file_test(out_path, G_FILE_TEST_EXISTS) ? out_path : "the input", expected,
		     actual);
}

static void test_valid(const char *name)
{
	g_autofree char *in_path = data_path(name, ".xml");
	g_autofree char *input = read_file(in_path);
	g_autoptr(GError) err = NULL;
	g_autoptr(hvDomainDef) def = NULL, again = NULL, copy = NULL;
	g_autofree char *out = NULL, *out2 = NULL, *out_copy = NULL, *inactive = NULL;

	if (!input) {
		FAIL("%s: cannot read %s", name, in_path);
		return;
	}
	def = hv_domain_def_parse(input, HV_DOMAIN_DEF_PARSE_LIVE, &err);
	if (!def) {
		FAIL("%s: rejected: %s", name, err->message);
		return;
	}
	out = hv_domain_def_format(def, 0);
	compare_output(name, input, out);
	again = hv_domain_def_parse(out, HV_DOMAIN_DEF_PARSE_LIVE, &err);
	if (!again) {
		FAIL("%s: formatted output rejected: %s\n%s", name, err->message, out);
		return;
	}
	out2 = hv_domain_def_format(again, 0);
	if (strcmp(out, out2) != 0)
		FAIL("%s: parse(format(parse(x))) differs from parse(x):\n%s---\n%s", name, out,
		     out2);
	copy = hv_domain_def_copy(def);
	out_copy = hv_domain_def_format(copy, 0);
	if (strcmp(out, out_copy) != 0)
		FAIL("%s: a copy formats differently", name);
	inactive = hv_domain_def_format(def, VIR_DOMAIN_XML_INACTIVE);
	if (strstr(inactive, " id='"))
		FAIL("%s: inactive XML carries an id", name);
}

static const char *expected_error(const char *name, int *code)
{
	for (size_t i = 0; i < G_N_ELEMENTS(invalid_tests); i++) {
		if (strcmp(invalid_tests[i].name, name) == 0) {
			*code = invalid_tests[i].code;
			return invalid_tests[i].message;
		}
	}
	return NULL;
}

static void test_invalid(const char *file)
{
	g_autofree char *name = g_strndup(file, strlen(file) - strlen("-invalid.xml"));
	g_autofree char *path = g_build_filename(HV_TEST_DATA_DIR, file, NULL);
	g_autofree char *input = read_file(path);
	g_autoptr(GError) err = NULL;
	g_autoptr(hvDomainDef) def = NULL;
	const char *message;
	int code = 0;

	message = expected_error(name, &code);
	if (!message) {
		FAIL("%s: no expected error listed in invalid_tests[]", file);
		return;
	}
	def = hv_domain_def_parse(input ? input : "", 0, &err);
	if (def) {
		FAIL("%s: accepted", file);
		return;
	}
	if (err->domain != HV_ERROR || err->code != code || !strstr(err->message, message))
		FAIL("%s: got code %d \"%s\", expected code %d with \"%s\"", file, err->code,
		     err->message, code, message);
	else if (g_getenv("VERBOSE"))
		printf("%s: %s\n", file, err->message);
}

/* Every data file is either a listed valid test, its .out.xml, or an -invalid.xml. */
static void test_directory(void)
{
	g_autoptr(GDir) dir = g_dir_open(HV_TEST_DATA_DIR, 0, NULL);
	const char *file;
	size_t invalid = 0;

	if (!dir) {
		FAIL("cannot open %s", HV_TEST_DATA_DIR);
		return;
	}
	while ((file = g_dir_read_name(dir))) {
		gboolean listed = FALSE;

		if (g_str_has_suffix(file, "-invalid.xml")) {
			test_invalid(file);
			invalid++;
			continue;
		}
		for (size_t i = 0; i < G_N_ELEMENTS(valid_tests); i++) {
			g_autofree char *in = g_strconcat(valid_tests[i], ".xml", NULL);
			g_autofree char *out = g_strconcat(valid_tests[i], ".out.xml", NULL);
			listed |= strcmp(file, in) == 0 || strcmp(file, out) == 0;
		}
		if (!listed)
			FAIL("%s is not in valid_tests[]", file);
	}
	if (invalid != G_N_ELEMENTS(invalid_tests))
		FAIL("%zu -invalid.xml files for %zu entries of invalid_tests[]", invalid,
		     G_N_ELEMENTS(invalid_tests));
}

/* Absent uuid and MAC are generated: random v4 UUID, Xen OUI, different each time. */
static void test_generated(void)
{
	const char *xml = "<domain type='hv'><name>g</name><memory>65536</memory>"
	                  "<vcpu>1</vcpu><os><type>linux</type></os><devices>"
	                  "<interface type='ethernet'/></devices></domain>";
	g_autoptr(GError) err = NULL;
	g_autoptr(hvDomainDef) a = hv_domain_def_parse(xml, 0, &err);
	g_autoptr(hvDomainDef) b = hv_domain_def_parse(xml, 0, &err);
	hvInterfaceDef *na, *nb;

	if (!a || !b) {
		FAIL("generated: rejected: %s", err->message);
		return;
	}
	na = a->interfaces->pdata[0];
	nb = b->interfaces->pdata[0];
	if ((a->uuid[6] >> 4) != 4 || (a->uuid[8] & 0xc0) != 0x80)
		FAIL("generated: uuid is not version 4");
	if (memcmp(a->uuid, b->uuid, 16) == 0)
		FAIL("generated: two parses gave the same uuid");
	if (!g_str_has_prefix(na->mac, "00:16:3e:") || strcmp(na->mac, nb->mac) == 0)
		FAIL("generated: MACs %s and %s", na->mac, nb->mac);
	if (a->id != -1 || a->weight != HV_DEFAULT_WEIGHT || a->on_reboot != HV_LIFECYCLE_RESTART)
		FAIL("generated: defaults not set");
}

/* The driver parses from several threads: the shared compiled schemas must cope. */
static gpointer parse_many(gpointer data)
{
	const char *xml = data;
	gintptr bad = 0;

	for (int i = 0; i < 40; i++) {
		g_autoptr(GError) err = NULL;
		g_autoptr(hvDomainDef) def = hv_domain_def_parse(xml, 0, &err);
		g_autofree char *broken = g_strconcat(xml, "<x/>", NULL);
		g_autoptr(hvDomainDef) none = NULL;

		bad += def == NULL;
		if (def)
			g_free(hv_domain_def_format(def, 0));
		none = hv_domain_def_parse(broken, 0, NULL);
		bad += none != NULL;
	}
	return (gpointer)bad;
}

static void test_threads(void)
{
	g_autofree char *path = data_path("full", ".xml");
	g_autofree char *xml = read_file(path);
	GThread *threads[4];

	for (int i = 0; i < 4; i++)
		threads[i] = g_thread_new("parse", parse_many, xml);
	for (int i = 0; i < 4; i++)
		if (g_thread_join(threads[i]))
			FAIL("threads: wrong parse result");
}

int main(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(valid_tests); i++)
		test_valid(valid_tests[i]);
	test_directory();
	test_generated();
	test_threads();
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
