/*
 * hvDomainDef -> libvirt-style domain XML: two-space indentation, single-quoted attributes,
 * libvirt's element order (virDomainDefFormatInternal), memory in KiB. The output always
 * parses back to an equal definition (tests/unit/xml checks it for every test document).
 */
#include "xml/domain_conf.h"

#include "xml/xml_util.h"

#include <libvirt/libvirt.h>
#include <string.h>

/* <tag>value</tag> when value is non-zero. */
static void format_ull(GString *buf, int indent, const char *tag, unsigned long long value)
{
	if (value)
		hv_xml_line(buf, indent, "<%s>%llu</%s>", tag, value, tag);
}

/* name='escaped value' */
static void format_attr(GString *buf, const char *name, const char *value)
{
	g_string_append_printf(buf, " %s='", name);
	hv_xml_escape(buf, value);
	g_string_append_c(buf, '\'');
}

static void format_metadata(GString *buf, const hvDomainDef *def)
{
	g_auto(GStrv) lines = NULL;

	if (!def->reservation && !def->metadata)
		return;
	hv_xml_line(buf, 2, "<metadata>");
	if (def->reservation)
		hv_xml_line(buf, 4, "<hv:sched xmlns:hv=\"%s\" reservation=\"%u\"/>", HV_XML_NS,
		            def->reservation);
	lines = g_strsplit(def->metadata ? def->metadata : "", "\n", -1);
	for (int i = 0; def->metadata && lines[i]; i++)
		hv_xml_line(buf, 4, "%s", lines[i]);
	hv_xml_line(buf, 2, "</metadata>");
}

static void format_resources(GString *buf, const hvDomainDef *def)
{
	hv_xml_line(buf, 2, "<memory unit='KiB'>%llu</memory>", def->memory_kib);
	hv_xml_line(buf, 2, "<currentMemory unit='KiB'>%llu</currentMemory>",
	            def->current_memory_kib);
	if (def->min_guarantee_kib) {
		hv_xml_line(buf, 2, "<memtune>");
		hv_xml_line(buf, 4, "<min_guarantee unit='KiB'>%llu</min_guarantee>",
		            def->min_guarantee_kib);
		hv_xml_line(buf, 2, "</memtune>");
	}
	if (def->vcpus != def->max_vcpus)
		hv_xml_line(buf, 2, "<vcpu placement='static' current='%u'>%u</vcpu>", def->vcpus,
		            def->max_vcpus);
	else
		hv_xml_line(buf, 2, "<vcpu placement='static'>%u</vcpu>", def->max_vcpus);
	if (def->weight == HV_DEFAULT_WEIGHT && !def->cap)
		return;
	hv_xml_line(buf, 2, "<cputune>");
	if (def->weight != HV_DEFAULT_WEIGHT)
		hv_xml_line(buf, 4, "<shares>%u</shares>", def->weight);
	if (def->cap) {
		hv_xml_line(buf, 4, "<global_period>100000</global_period>");
		hv_xml_line(buf, 4, "<global_quota>%llu</global_quota>",
		            (unsigned long long)def->cap * 1000);
	}
	hv_xml_line(buf, 2, "</cputune>");
}

static void format_os(GString *buf, const hvDomainDef *def)
{
	hv_xml_line(buf, 2, "<os>");
	g_string_append(buf, "    <type arch='x86_64'>");
	hv_xml_escape(buf, def->os_type);
	g_string_append(buf, "</type>\n");
	if (def->kernel)
		hv_xml_text_element(buf, 4, "kernel", def->kernel);
	if (def->initrd)
		hv_xml_text_element(buf, 4, "initrd", def->initrd);
	if (def->cmdline)
		hv_xml_text_element(buf, 4, "cmdline", def->cmdline);
	hv_xml_line(buf, 2, "</os>");
	hv_xml_line(buf, 2, "<on_poweroff>%s</on_poweroff>",
	            hv_lifecycle_action_to_string(def->on_poweroff));
	hv_xml_line(buf, 2, "<on_reboot>%s</on_reboot>",
	            hv_lifecycle_action_to_string(def->on_reboot));
	hv_xml_line(buf, 2, "<on_crash>%s</on_crash>",
	            hv_lifecycle_action_to_string(def->on_crash));
}

static void format_iotune(GString *buf, const hvDiskDef *d)
{
	if (!d->total_bytes_sec && !d->read_bytes_sec && !d->write_bytes_sec &&
	    !d->total_iops_sec && !d->read_iops_sec && !d->write_iops_sec)
		return;
	hv_xml_line(buf, 6, "<iotune>");
	format_ull(buf, 8, "total_bytes_sec", d->total_bytes_sec);
	format_ull(buf, 8, "read_bytes_sec", d->read_bytes_sec);
	format_ull(buf, 8, "write_bytes_sec", d->write_bytes_sec);
	format_ull(buf, 8, "total_iops_sec", d->total_iops_sec);
	format_ull(buf, 8, "read_iops_sec", d->read_iops_sec);
	format_ull(buf, 8, "write_iops_sec", d->write_iops_sec);
	hv_xml_line(buf, 6, "</iotune>");
}

static void format_disk(GString *buf, const hvDiskDef *d)
{
	hv_xml_line(buf, 4, "<disk type='file' device='disk'>");
	g_string_append(buf, "      <driver");
	if (d->driver_name)
		format_attr(buf, "name", d->driver_name);
	g_string_append(buf, " type='raw'/>\n      <source");
	format_attr(buf, "file", d->source_file);
	g_string_append(buf, "/>\n      <target");
	format_attr(buf, "dev", d->target_dev);
	format_attr(buf, "bus", d->target_bus ? d->target_bus : "xen");
	g_string_append(buf, "/>\n");
	format_iotune(buf, d);
	if (d->readonly)
		hv_xml_line(buf, 6, "<readonly/>");
	hv_xml_line(buf, 4, "</disk>");
}

/* <inbound .../> attributes in libvirt's order: average, peak, floor, burst. */
static void format_rate(GString *buf, const char *dir, unsigned long long average,
                        unsigned long long peak, unsigned long long floor, unsigned long long burst)
{
	if (!average && !peak && !floor && !burst)
		return;
	g_string_append_printf(buf, "        <%s", dir);
	if (average)
		g_string_append_printf(buf, " average='%llu'", average);
	if (peak)
		g_string_append_printf(buf, " peak='%llu'", peak);
	if (floor)
		g_string_append_printf(buf, " floor='%llu'", floor);
	if (burst)
		g_string_append_printf(buf, " burst='%llu'", burst);
	g_string_append(buf, "/>\n");
}

static void format_interface(GString *buf, const hvInterfaceDef *n)
{
	gboolean bw = n->in_average || n->in_peak || n->in_burst || n->in_floor || n->out_average ||
	              n->out_peak || n->out_burst;

	g_string_append(buf, "    <interface");
	format_attr(buf, "type", n->type);
	g_string_append(buf, ">\n      <mac");
	format_attr(buf, "address", n->mac);
	g_string_append(buf, "/>\n");
	if (n->source) {
		g_string_append(buf, "      <source");
		format_attr(buf, strcmp(n->type, "bridge") == 0 ? "bridge" : "network", n->source);
		g_string_append(buf, "/>\n");
	}
	if (bw) {
		hv_xml_line(buf, 6, "<bandwidth>");
		format_rate(buf, "inbound", n->in_average, n->in_peak, n->in_floor, n->in_burst);
		format_rate(buf, "outbound", n->out_average, n->out_peak, 0, n->out_burst);
		hv_xml_line(buf, 6, "</bandwidth>");
	}
	if (n->ip_address) {
		g_string_append(buf, "      <ip");
		format_attr(buf, "address", n->ip_address);
		g_string_append_printf(buf, " prefix='%u'/>\n", n->ip_prefix);
	}
	if (n->target_dev) {
		g_string_append(buf, "      <target");
		format_attr(buf, "dev", n->target_dev);
		g_string_append(buf, "/>\n");
	}
	if (n->model) {
		g_string_append(buf, "      <model");
		format_attr(buf, "type", n->model);
		g_string_append(buf, "/>\n");
	}
	hv_xml_line(buf, 4, "</interface>");
}

static void format_devices(GString *buf, const hvDomainDef *def)
{
	if (!def->disks->len && !def->interfaces->len && !def->has_console) {
		hv_xml_line(buf, 2, "<devices/>");
		return;
	}
	hv_xml_line(buf, 2, "<devices>");
	for (guint i = 0; i < def->disks->len; i++)
		format_disk(buf, def->disks->pdata[i]);
	for (guint i = 0; i < def->interfaces->len; i++)
		format_interface(buf, def->interfaces->pdata[i]);
	if (def->has_console) {
		hv_xml_line(buf, 4, "<console type='pty'>");
		hv_xml_line(buf, 6, "<target type='%s' port='0'/>",
		            def->console_target_type &&
		                    strcmp(def->console_target_type, "serial") == 0
		                ? "serial"
		                : "xen");
		hv_xml_line(buf, 4, "</console>");
	}
	hv_xml_line(buf, 2, "</devices>");
}

char *hv_domain_def_format(const hvDomainDef *def, unsigned int flags)
{
	GString *buf = g_string_new("<domain type='hv'");
	char uuid[HV_UUID_STRING_LEN];

	if (def->id >= 0 && !(flags & VIR_DOMAIN_XML_INACTIVE))
		g_string_append_printf(buf, " id='%d'", def->id);
	g_string_append(buf, ">\n");
	hv_xml_text_element(buf, 2, "name", def->name ? def->name : "");
	hv_uuid_format(def->uuid, uuid);
	hv_xml_line(buf, 2, "<uuid>%s</uuid>", uuid);
	if (def->title)
		hv_xml_text_element(buf, 2, "title", def->title);
	if (def->description)
		hv_xml_text_element(buf, 2, "description", def->description);
	format_metadata(buf, def);
	format_resources(buf, def);
	format_os(buf, def);
	format_devices(buf, def);
	g_string_append(buf, "</domain>\n");
	return g_string_free(buf, FALSE);
}
