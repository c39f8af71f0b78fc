/*
 * The capabilities XML of the hv driver (virConnectGetCapabilities). Shaped after what
 * virsh and virt-manager were shown to accept (libvirt-rpc.md section 6): virtinst looks a
 * guest up by os_type + arch and then <domain type=...>, and rewrites os type 'linux' to
 * 'xen' first, so both os types are advertised for the one PV guest kind hv runs. One NUMA
 * cell, one socket, one thread per core. No migration features; secmodel 'none' (the driver's
 * NODE_GET_SECURITY_MODEL must say the same). Valid for libvirt's capability.rng
 * (tests/unit/xml/capstest checks it).
 */
#include "xml/domain_conf.h"

#include "xml/xml_util.h"

static void format_topology(GString *buf, const hvHostInfo *host)
{
	unsigned int cpus = host->cpus ? host->cpus : 1;

	hv_xml_line(buf, 4, "<topology>");
	hv_xml_line(buf, 6, "<cells num='1'>");
	hv_xml_line(buf, 8, "<cell id='0'>");
	hv_xml_line(buf, 10, "<memory unit='KiB'>%llu</memory>", host->memory_kib);
	hv_xml_line(buf, 10, "<cpus num='%u'>", cpus);
	for (unsigned int i = 0; i < cpus; i++)
		hv_xml_line(buf, 12,
		            "<cpu id='%u' socket_id='0' die_id='0' core_id='%u' siblings='%u'/>", i,
		            i, i);
	hv_xml_line(buf, 10, "</cpus>");
	hv_xml_line(buf, 8, "</cell>");
	hv_xml_line(buf, 6, "</cells>");
	hv_xml_line(buf, 4, "</topology>");
}

static void format_guest(GString *buf, const hvHostInfo *host, const char *os_type)
{
	hv_xml_line(buf, 2, "<guest>");
	hv_xml_line(buf, 4, "<os_type>%s</os_type>", os_type);
	hv_xml_line(buf, 4, "<arch name='x86_64'>");
	hv_xml_line(buf, 6, "<wordsize>64</wordsize>");
	if (host->emulator)
		hv_xml_text_element(buf, 6, "emulator", host->emulator);
	hv_xml_line(buf, 6, "<domain type='hv'/>");
	hv_xml_line(buf, 4, "</arch>");
	hv_xml_line(buf, 2, "</guest>");
}

char *hv_capabilities_format(const hvHostInfo *host)
{
	GString *buf = g_string_new("<capabilities>\n\n");
	char uuid[HV_UUID_STRING_LEN];

	hv_uuid_format(host->uuid, uuid);
	hv_xml_line(buf, 2, "<host>");
	hv_xml_line(buf, 4, "<uuid>%s</uuid>", uuid);
	hv_xml_line(buf, 4, "<cpu>");
	hv_xml_line(buf, 6, "<arch>x86_64</arch>");
	hv_xml_line(buf, 4, "</cpu>");
	format_topology(buf, host);
	hv_xml_line(buf, 4, "<secmodel>");
	hv_xml_line(buf, 6, "<model>none</model>");
	hv_xml_line(buf, 6, "<doi>0</doi>");
	hv_xml_line(buf, 4, "</secmodel>");
	hv_xml_line(buf, 2, "</host>\n");
	format_guest(buf, host, "xen");
	g_string_append_c(buf, '\n');
	format_guest(buf, host, "linux");
	g_string_append(buf, "\n</capabilities>\n");
	return g_string_free(buf, FALSE);
}
