/*
 * Semantic checks of an hvDomainDef: the invariants listed in domain_conf.h that a schema
 * cannot express. Run after parsing and by the driver after it changes a definition, so that
 * nothing inconsistent is ever stored or sent to the machine. First failure wins.
 */
#include "xml/domain_conf.h"

#include "util/error.h"

#include <stdio.h>
#include <string.h>

static int check_name(const char *name, GError **err)
{
	if (!name || !*name)
		return hv_error_set(err, VIR_ERR_XML_ERROR, "the domain name is empty");
	if (strlen(name) > HV_DOMAIN_NAME_MAX)
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "the domain name is longer than %d bytes", HV_DOMAIN_NAME_MAX);
	if (name[0] == '.' || strchr(name, '/'))
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "invalid domain name '%s': it must not contain '/' or start "
		                    "with '.'",
		                    name);
	for (const char *p = name; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return hv_error_set(err, VIR_ERR_XML_ERROR,
			                    "the domain name contains a control character");
	if (!g_utf8_validate(name, -1, NULL))
		return hv_error_set(err, VIR_ERR_XML_ERROR, "the domain name is not UTF-8");
	return 0;
}

static int check_memory(const hvDomainDef *def, GError **err)
{
	if (def->memory_kib == 0)
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "memory size must be greater than zero");
	if (def->current_memory_kib == 0)
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "current memory size must be greater than zero");
	if (def->current_memory_kib > def->memory_kib)
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "current memory (%llu KiB) must not exceed the maximum memory "
		                    "(%llu KiB)",
		                    def->current_memory_kib, def->memory_kib);
	if (def->min_guarantee_kib > def->current_memory_kib)
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "the memory guarantee (%llu KiB) must not exceed the current "
		                    "memory (%llu KiB)",
		                    def->min_guarantee_kib, def->current_memory_kib);
	return 0;
}

static int check_cpu(const hvDomainDef *def, GError **err)
{
	if (def->max_vcpus < 1 || def->vcpus < 1)
		return hv_error_set(err, VIR_ERR_XML_ERROR, "a domain needs at least one vcpu");
	if (def->max_vcpus > HV_MAX_VCPUS)
		return hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
		                    "%u vcpus requested, hv supports at most %d", def->max_vcpus,
		                    HV_MAX_VCPUS);
	if (def->vcpus > def->max_vcpus)
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "current vcpus (%u) must not exceed the maximum (%u)",
		                    def->vcpus, def->max_vcpus);
	if (def->weight < 1 || def->weight > HV_MAX_WEIGHT)
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "the CPU weight (<shares>) must be between 1 and %d, not %u",
		                    HV_MAX_WEIGHT, def->weight);
	if (def->cap > 100 * def->max_vcpus)
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "a CPU cap of %u%% is more than %u vcpus can use (%u%%)",
		                    def->cap, def->max_vcpus, 100 * def->max_vcpus);
	if (def->reservation > 100)
		return hv_error_set(
		    err, VIR_ERR_XML_ERROR,
		    "a CPU reservation is at most 100%% of a CPU per vcpu, not %u%%",
		    def->reservation);
	if (def->cap && def->reservation * def->vcpus > def->cap)
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "the CPU reservation (%u%% for each of %u vcpus) exceeds the "
		                    "cap (%u%%)",
		                    def->reservation, def->vcpus, def->cap);
	return 0;
}

static int check_text(const hvDomainDef *def, GError **err)
{
	if (def->title && strchr(def->title, '\n'))
		return hv_error_set(err, VIR_ERR_XML_ERROR, "the title must be a single line");
	if (!def->os_type ||
	    (strcmp(def->os_type, "linux") != 0 && strcmp(def->os_type, "xen") != 0))
		return hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
		                    "os type '%s' is not supported by hv",
		                    def->os_type ? def->os_type : "");
	if ((unsigned)def->on_poweroff > HV_LIFECYCLE_RENAME_RESTART ||
	    (unsigned)def->on_reboot > HV_LIFECYCLE_RENAME_RESTART ||
	    (unsigned)def->on_crash > HV_LIFECYCLE_RENAME_RESTART)
		return hv_error_set(err, VIR_ERR_XML_ERROR, "invalid lifecycle action");
	return 0;
}

static int check_disk(const hvDomainDef *def, guint index, GError **err)
{
	const hvDiskDef *d = def->disks->pdata[index];

	if (!d->target_dev)
		return hv_error_set(err, VIR_ERR_XML_ERROR, "disk %u has no <target dev='xvdX'>",
		                    index + 1);
	if (!g_str_has_prefix(d->target_dev, "xvd"))
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "disk target '%s' is not of the form xvd<letters>",
		                    d->target_dev);
	if (!d->source_file)
		return hv_error_set(err, VIR_ERR_XML_ERROR, "disk %s has no <source file=...>",
		                    d->target_dev);
	if (d->source_file[0] != '/')
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "disk %s: source '%s' must be an absolute path", d->target_dev,
		                    d->source_file);
	for (guint j = 0; j < index; j++)
		if (strcmp(((hvDiskDef *)def->disks->pdata[j])->target_dev, d->target_dev) == 0)
			return hv_error_set(
			    err, VIR_ERR_XML_ERROR,
			    "target '%s' duplicated for disk sources '%s' and '%s'", d->target_dev,
			    ((hvDiskDef *)def->disks->pdata[j])->source_file, d->source_file);
	if (d->total_bytes_sec && (d->read_bytes_sec || d->write_bytes_sec))
		return hv_error_set(
		    err, VIR_ERR_XML_ERROR,
		    "total and read/write bytes_sec cannot be set at the same time");
	if (d->total_iops_sec && (d->read_iops_sec || d->write_iops_sec))
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "total and read/write iops_sec cannot be set at the same time");
	return 0;
}

/* "xx:xx:xx:xx:xx:xx", unicast, not all zero. */
static gboolean mac_valid(const char *mac)
{
	unsigned char b[6];
	int n = 0;

	if (!mac || strlen(mac) != 17)
		return FALSE;
	for (int i = 0; i < 6; i++) {
		const char *p = mac + 3 * i;
		if (!g_ascii_isxdigit(p[0]) || !g_ascii_isxdigit(p[1]) || (i < 5 && p[2] != ':'))
			return FALSE;
		b[i] = (g_ascii_xdigit_value(p[0]) << 4) | g_ascii_xdigit_value(p[1]);
		n += b[i] != 0;
	}
	return n > 0 && !(b[0] & 1);
}

static int check_rate(const char *mac, const char *dir, unsigned long long average,
                      unsigned long long peak, unsigned long long burst, GError **err)
{
	if (!average && (peak || burst))
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "interface %s: <%s> needs 'average' when 'peak' or 'burst' is "
		                    "set",
		                    mac, dir);
	if (peak && peak < average)
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "interface %s: <%s> peak (%llu) is below average (%llu)", mac,
		                    dir, peak, average);
	return 0;
}

static int check_interface(const hvDomainDef *def, guint index, GError **err)
{
	const hvInterfaceDef *n = def->interfaces->pdata[index];
	gboolean needs_source;

	if (!n->type || (strcmp(n->type, "bridge") != 0 && strcmp(n->type, "network") != 0 &&
	                 strcmp(n->type, "ethernet") != 0))
		return hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
		                    "interface type '%s' is not supported by hv",
		                    n->type ? n->type : "");
	if (!mac_valid(n->mac))
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "'%s' is not a valid unicast MAC address",
		                    n->mac ? n->mac : "");
	for (guint j = 0; j < index; j++)
		if (g_ascii_strcasecmp(((hvInterfaceDef *)def->interfaces->pdata[j])->mac,
		                       n->mac) == 0)
			return hv_error_set(err, VIR_ERR_XML_ERROR,
			                    "MAC address %s is used by two interfaces", n->mac);
	needs_source = strcmp(n->type, "ethernet") != 0;
	if (needs_source != (n->source != NULL))
		return hv_error_set(err, VIR_ERR_XML_ERROR,
		                    "interface %s of type '%s' %s a <source>", n->mac, n->type,
		                    needs_source ? "needs" : "cannot have");
	if (n->ip_address) {
		unsigned int a, b, c, d;
		char end;

		if (strcmp(n->type, "ethernet") != 0)
			return hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
			                    "interface %s: hv sets an <ip> on the host's side of "
			                    "type='ethernet' interfaces only",
			                    n->mac);
		if (sscanf(n->ip_address, "%u.%u.%u.%u%c", &a, &b, &c, &d, &end) != 4 || a > 255 ||
		    b > 255 || c > 255 || d > 255)
			return hv_error_set(
			    err, VIR_ERR_CONFIG_UNSUPPORTED,
			    "interface %s: '%s' is not an IPv4 address (hv supports "
			    "IPv4 only)",
			    n->mac, n->ip_address);
		if (n->ip_prefix < 1 || n->ip_prefix > 30)
			return hv_error_set(err, VIR_ERR_XML_ERROR,
			                    "interface %s: <ip> prefix %u is not 1..30", n->mac,
			                    n->ip_prefix);
	}
	if (check_rate(n->mac, "inbound", n->in_average, n->in_peak, n->in_burst, err) < 0 ||
	    check_rate(n->mac, "outbound", n->out_average, n->out_peak, n->out_burst, err) < 0)
		return -1;
	return 0;
}

int hv_domain_def_check(const hvDomainDef *def, GError **err)
{
	if (check_name(def->name, err) < 0 || check_memory(def, err) < 0 ||
	    check_cpu(def, err) < 0 || check_text(def, err) < 0)
		return -1;
	for (guint i = 0; i < def->disks->len; i++)
		if (check_disk(def, i, err) < 0)
			return -1;
	for (guint i = 0; i < def->interfaces->len; i++)
		if (check_interface(def, i, err) < 0)
			return -1;
	return 0;
}
