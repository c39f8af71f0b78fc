/*
 * Life cycle of hvDomainDef values: creation with defaults, deep copy, free, device lookups,
 * and the small value types (lifecycle actions, UUIDs). A copy shares nothing with its
 * original, so the driver may keep a persistent and a live definition side by side.
 */
#include "xml/domain_conf.h"

#include <string.h>

static const char *const lifecycle_names[] = {
    [HV_LIFECYCLE_DESTROY] = "destroy",
    [HV_LIFECYCLE_RESTART] = "restart",
    [HV_LIFECYCLE_PRESERVE] = "preserve",
    [HV_LIFECYCLE_RENAME_RESTART] = "rename-restart",
};

const char *hv_lifecycle_action_to_string(hvLifecycleAction action)
{
	if ((unsigned)action >= G_N_ELEMENTS(lifecycle_names))
		return "destroy";
	return lifecycle_names[action];
}

int hv_lifecycle_action_from_string(const char *s)
{
	for (size_t i = 0; s && i < G_N_ELEMENTS(lifecycle_names); i++)
		if (strcmp(s, lifecycle_names[i]) == 0)
			return (int)i;
	return -1;
}

void hv_uuid_format(const unsigned char uuid[16], char out[HV_UUID_STRING_LEN])
{
	g_snprintf(out, HV_UUID_STRING_LEN,
	           "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", uuid[0],
	           uuid[1], uuid[2], uuid[3], uuid[4], uuid[5], uuid[6], uuid[7], uuid[8], uuid[9],
	           uuid[10], uuid[11], uuid[12], uuid[13], uuid[14], uuid[15]);
}

/* libvirt's virUUIDParse rules: 32 hex digits, '-' allowed between byte pairs, surrounding
 * blanks ignored. */
int hv_uuid_parse(const char *s, unsigned char uuid[16])
{
	int n = 0;

	if (!s)
		return -1;
	while (g_ascii_isspace(*s))
		s++;
	while (n < 16) {
		if (*s == '-') {
			s++;
			continue;
		}
		if (!g_ascii_isxdigit(s[0]) || !g_ascii_isxdigit(s[1]))
			return -1;
		uuid[n++] = (g_ascii_xdigit_value(s[0]) << 4) | g_ascii_xdigit_value(s[1]);
		s += 2;
	}
	while (g_ascii_isspace(*s))
		s++;
	return *s ? -1 : 0;
}

void hv_uuid_generate(unsigned char uuid[16])
{
	g_autofree char *text = g_uuid_string_random();

	hv_uuid_parse(text, uuid);
}

hvDomainDef *hv_domain_def_new(void)
{
	hvDomainDef *def = g_new0(hvDomainDef, 1);

	def->id = -1;
	def->weight = HV_DEFAULT_WEIGHT;
	def->max_vcpus = def->vcpus = 1;
	def->on_poweroff = HV_LIFECYCLE_DESTROY;
	def->on_reboot = HV_LIFECYCLE_RESTART;
	def->on_crash = HV_LIFECYCLE_DESTROY;
	def->disks = g_ptr_array_new_with_free_func((GDestroyNotify)hv_disk_def_free);
	def->interfaces = g_ptr_array_new_with_free_func((GDestroyNotify)hv_interface_def_free);
	return def;
}

void hv_disk_def_free(hvDiskDef *disk)
{
	if (!disk)
		return;
	g_free(disk->source_file);
	g_free(disk->target_dev);
	g_free(disk->target_bus);
	g_free(disk->driver_name);
	g_free(disk);
}

void hv_interface_def_free(hvInterfaceDef *iface)
{
	if (!iface)
		return;
	g_free(iface->type);
	g_free(iface->mac);
	g_free(iface->source);
	g_free(iface->target_dev);
	g_free(iface->model);
	g_free(iface->ip_address);
	g_free(iface);
}

void hv_domain_def_free(hvDomainDef *def)
{
	if (!def)
		return;
	g_free(def->name);
	g_free(def->title);
	g_free(def->description);
	g_free(def->metadata);
	g_free(def->os_type);
	g_free(def->kernel);
	g_free(def->initrd);
	g_free(def->cmdline);
	g_free(def->console_target_type);
	g_ptr_array_unref(def->disks);
	g_ptr_array_unref(def->interfaces);
	g_free(def);
}

static hvDiskDef *disk_copy(const hvDiskDef *src)
{
	hvDiskDef *d = g_memdup2(src, sizeof(*src));

	d->source_file = g_strdup(src->source_file);
	d->target_dev = g_strdup(src->target_dev);
	d->target_bus = g_strdup(src->target_bus);
	d->driver_name = g_strdup(src->driver_name);
	return d;
}

static hvInterfaceDef *interface_copy(const hvInterfaceDef *src)
{
	hvInterfaceDef *i = g_memdup2(src, sizeof(*src));

	i->type = g_strdup(src->type);
	i->mac = g_strdup(src->mac);
	i->source = g_strdup(src->source);
	i->target_dev = g_strdup(src->target_dev);
	i->model = g_strdup(src->model);
	i->ip_address = g_strdup(src->ip_address);
	return i;
}

hvDomainDef *hv_domain_def_copy(const hvDomainDef *src)
{
	hvDomainDef *def = g_memdup2(src, sizeof(*src));

	def->name = g_strdup(src->name);
	def->title = g_strdup(src->title);
	def->description = g_strdup(src->description);
	def->metadata = g_strdup(src->metadata);
	def->os_type = g_strdup(src->os_type);
	def->kernel = g_strdup(src->kernel);
	def->initrd = g_strdup(src->initrd);
	def->cmdline = g_strdup(src->cmdline);
	def->console_target_type = g_strdup(src->console_target_type);
	def->disks = g_ptr_array_new_with_free_func((GDestroyNotify)hv_disk_def_free);
	def->interfaces = g_ptr_array_new_with_free_func((GDestroyNotify)hv_interface_def_free);
	for (guint i = 0; i < src->disks->len; i++)
		g_ptr_array_add(def->disks, disk_copy(src->disks->pdata[i]));
	for (guint i = 0; i < src->interfaces->len; i++)
		g_ptr_array_add(def->interfaces, interface_copy(src->interfaces->pdata[i]));
	return def;
}

hvDiskDef *hv_domain_def_find_disk(const hvDomainDef *def, const char *path_or_dev)
{
	for (guint i = 0; path_or_dev && i < def->disks->len; i++) {
		hvDiskDef *d = def->disks->pdata[i];

		if (g_strcmp0(d->target_dev, path_or_dev) == 0 ||
		    g_strcmp0(d->source_file, path_or_dev) == 0)
			return d;
	}
	return NULL;
}

hvInterfaceDef *hv_domain_def_find_interface(const hvDomainDef *def, const char *dev_or_mac)
{
	for (guint i = 0; dev_or_mac && i < def->interfaces->len; i++) {
		hvInterfaceDef *n = def->interfaces->pdata[i];

		if (g_strcmp0(n->target_dev, dev_or_mac) == 0 ||
		    (n->mac && g_ascii_strcasecmp(n->mac, dev_or_mac) == 0))
			return n;
	}
	return NULL;
}
