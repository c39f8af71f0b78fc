/*
 * Handlers for the connection handshake, node information, listing and lookup
 * (libvirt-rpc.md sections 2, 3.1, 3.6), and the conversions shared by all handlers.
 */
#include "rpc/remote_handlers.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util/error.h"

/* libvirt's VIR_DRV_FEATURE_* numbers we answer 1 to (reference 2.3). */
#define FEATURE_TYPED_PARAM_STRING    9
#define FEATURE_PROGRAM_KEEPALIVE     10
#define FEATURE_REMOTE_EVENT_CALLBACK 14
#define FEATURE_REMOTE_CLOSE_CALLBACK 15

/* The libvirt protocol level virthvd implements, reported as the daemon's library version. */
#define HV_RPC_LIBVIRT_LEVEL 9000000ULL

void hv_rpc_make_dom(remote_nonnull_domain *out, const hvDomainRef *ref)
{
	out->name = g_strdup(ref->name);
	memcpy(out->uuid, ref->uuid, 16);
	out->id = ref->id;
}

void hv_rpc_params_to_wire(virTypedParameterPtr params, int n, gboolean string_ok,
                           remote_typed_param **out, u_int *outlen)
{
	remote_typed_param *w = g_new0(remote_typed_param, n > 0 ? n : 1);
	u_int k = 0;

	for (int i = 0; i < n; i++) {
		virTypedParameterPtr p = &params[i];
		if (p->type == VIR_TYPED_PARAM_STRING && !string_ok)
			continue;
		w[k].field = g_strdup(p->field);
		w[k].value.type = p->type;
		switch (p->type) {
		case VIR_TYPED_PARAM_INT:
			w[k].value.remote_typed_param_value_u.i = p->value.i;
			break;
		case VIR_TYPED_PARAM_UINT:
			w[k].value.remote_typed_param_value_u.ui = p->value.ui;
			break;
		case VIR_TYPED_PARAM_LLONG:
			w[k].value.remote_typed_param_value_u.l = p->value.l;
			break;
		case VIR_TYPED_PARAM_ULLONG:
			w[k].value.remote_typed_param_value_u.ul = p->value.ul;
			break;
		case VIR_TYPED_PARAM_DOUBLE:
			w[k].value.remote_typed_param_value_u.d = p->value.d;
			break;
		case VIR_TYPED_PARAM_BOOLEAN:
			w[k].value.remote_typed_param_value_u.b = p->value.b;
			break;
		case VIR_TYPED_PARAM_STRING:
			w[k].value.remote_typed_param_value_u.s = g_strdup(p->value.s);
			break;
		}
		k++;
	}
	*out = w;
	*outlen = k;
}

int hv_rpc_params_from_wire(const remote_typed_param *in, u_int n, virTypedParameterPtr *out,
                            GError **err)
{
	virTypedParameterPtr p = g_new0(virTypedParameter, n > 0 ? n : 1);

	for (u_int i = 0; i < n; i++) {
		const remote_typed_param *w = &in[i];
		if (strlen(w->field) >= VIR_TYPED_PARAM_FIELD_LENGTH) {
			hv_error_set(err, VIR_ERR_INVALID_ARG, "parameter name '%.80s...' too long",
			             w->field);
			hv_typed_params_free(p, i);
			return -1;
		}
		g_strlcpy(p[i].field, w->field, VIR_TYPED_PARAM_FIELD_LENGTH);
		p[i].type = w->value.type;
		switch (w->value.type) {
		case VIR_TYPED_PARAM_INT:
			p[i].value.i = w->value.remote_typed_param_value_u.i;
			break;
		case VIR_TYPED_PARAM_UINT:
			p[i].value.ui = w->value.remote_typed_param_value_u.ui;
			break;
		case VIR_TYPED_PARAM_LLONG:
			p[i].value.l = w->value.remote_typed_param_value_u.l;
			break;
		case VIR_TYPED_PARAM_ULLONG:
			p[i].value.ul = w->value.remote_typed_param_value_u.ul;
			break;
		case VIR_TYPED_PARAM_DOUBLE:
			p[i].value.d = w->value.remote_typed_param_value_u.d;
			break;
		case VIR_TYPED_PARAM_BOOLEAN:
			p[i].value.b = !!w->value.remote_typed_param_value_u.b;
			break;
		case VIR_TYPED_PARAM_STRING:
			p[i].value.s = g_strdup(w->value.remote_typed_param_value_u.s);
			break;
		}
	}
	*out = p;
	return 0;
}

/* ---- handshake ---- */

HV_RPC_HANDLER(hv_rpc_connect_open)
{
	remote_connect_open_args *args = args_;
	const char *uri = args->name ? *args->name : "";

	if (hv_rpc_client_is_open(c))
		return hv_error_set(err, VIR_ERR_INTERNAL_ERROR, "connection already open");
	/* An empty name is a client probing for the default driver: here there is only one. */
	if (*uri && strcmp(uri, "hv:///system") != 0)
		return hv_error_set(err, VIR_ERR_NO_CONNECT, "'%s' (virthvd serves hv:///system)",
		                    uri);
	if (args->flags & ~(unsigned)VIR_CONNECT_RO)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "unsupported flags (0x%x) in function virConnectOpen",
		                    args->flags & ~(unsigned)VIR_CONNECT_RO);
	if (args->flags & VIR_CONNECT_RO)
		hv_rpc_client_set_readonly(c);
	hv_rpc_client_set_open(c);
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_close)
{
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_noop)
{
	return 0;
}

HV_RPC_HANDLER(hv_rpc_auth_list)
{
	remote_auth_list_ret *ret = ret_;

	ret->types.types_val = g_new0(int, 1);
	ret->types.types_len = 1; /* REMOTE_AUTH_NONE: socket permissions are the access control */
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_supports_feature)
{
	remote_connect_supports_feature_args *args = args_;
	remote_connect_supports_feature_ret *ret = ret_;

	switch (args->feature) {
	case FEATURE_PROGRAM_KEEPALIVE:
		/* As in libvirtd, the question also starts our pings to this client. */
		hv_rpc_client_set_keepalive(c);
		ret->supported = 1;
		break;
	case FEATURE_TYPED_PARAM_STRING:
	case FEATURE_REMOTE_EVENT_CALLBACK:
	case FEATURE_REMOTE_CLOSE_CALLBACK:
		ret->supported = 1;
		break;
	default:
		ret->supported = 0;
	}
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_get_type)
{
	remote_connect_get_type_ret *ret = ret_;

	ret->type = g_strdup(hv_driver_type());
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_get_version)
{
	remote_connect_get_version_ret *ret = ret_;

	ret->hv_ver = hv_driver_version();
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_get_lib_version)
{
	remote_connect_get_lib_version_ret *ret = ret_;

	ret->lib_ver = HV_RPC_LIBVIRT_LEVEL;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_get_hostname)
{
	remote_connect_get_hostname_ret *ret = ret_;
	char name[256] = "";

	if (gethostname(name, sizeof(name) - 1) < 0)
		return hv_error_set(err, VIR_ERR_SYSTEM_ERROR, "cannot get the host name: %s",
		                    g_strerror(errno));
	ret->hostname = g_strdup(name);
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_get_uri)
{
	remote_connect_get_uri_ret *ret = ret_;

	ret->uri = g_strdup("hv:///system");
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_get_max_vcpus)
{
	remote_connect_get_max_vcpus_ret *ret = ret_;

	ret->max_vcpus = hv_driver_max_vcpus(HV_RPC_DRIVER(c));
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_get_capabilities)
{
	remote_connect_get_capabilities_ret *ret = ret_;

	ret->capabilities = hv_driver_capabilities(HV_RPC_DRIVER(c), err);
	return ret->capabilities ? 0 : -1;
}

HV_RPC_HANDLER(hv_rpc_connect_is_secure)
{
	remote_connect_is_secure_ret *ret = ret_;

	ret->secure = 1; /* a local UNIX socket */
	return 0;
}

/* ---- node ---- */

HV_RPC_HANDLER(hv_rpc_node_get_info)
{
	remote_node_get_info_ret *ret = ret_;
	virNodeInfo info;

	if (hv_driver_node_info(HV_RPC_DRIVER(c), &info, err) < 0)
		return -1;
	memcpy(ret->model, info.model, sizeof(ret->model));
	ret->memory = info.memory;
	ret->cpus = info.cpus;
	ret->mhz = info.mhz;
	ret->nodes = info.nodes;
	ret->sockets = info.sockets;
	ret->cores = info.cores;
	ret->threads = info.threads;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_node_get_free_memory)
{
	remote_node_get_free_memory_ret *ret = ret_;

	ret->freeMem = hv_driver_node_free_memory_kib(HV_RPC_DRIVER(c)) * 1024;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_node_get_cells_free_memory)
{
	remote_node_get_cells_free_memory_args *args = args_;
	remote_node_get_cells_free_memory_ret *ret = ret_;

	/* One NUMA cell (the capabilities topology says so). */
	if (args->startCell != 0 || args->maxcells < 1 || args->maxcells > REMOTE_NODE_MAX_CELLS)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "start cell %d out of range (0-0) or bad cell count %d",
		                    args->startCell, args->maxcells);
	ret->cells.cells_val = g_new(u_quad_t, 1);
	ret->cells.cells_val[0] = hv_driver_node_free_memory_kib(HV_RPC_DRIVER(c)) * 1024;
	ret->cells.cells_len = 1;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_node_get_memory_stats)
{
	remote_node_get_memory_stats_args *args = args_;
	remote_node_get_memory_stats_ret *ret = ret_;
	virNodeMemoryStats stats[4];
	int n = 4;

	if (args->flags)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "unsupported flags (0x%x) in function virNodeGetMemoryStats",
		                    args->flags);
	if (args->cellNum != VIR_NODE_MEMORY_STATS_ALL_CELLS && args->cellNum != 0)
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "Invalid cell number %d",
		                    args->cellNum);
	if (args->nparams < 0 || args->nparams > REMOTE_NODE_MEMORY_STATS_MAX)
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "nparams too large");
	if (hv_driver_node_memory_stats(HV_RPC_DRIVER(c), stats, &n, err) < 0)
		return -1;
	if (args->nparams == 0) { /* the count probe (reference 3.3) */
		ret->nparams = n;
		return 0;
	}
	n = MIN(n, args->nparams);
	ret->params.params_val = g_new0(remote_node_stat, n);
	for (int i = 0; i < n; i++) {
		ret->params.params_val[i].field = g_strdup(stats[i].field);
		ret->params.params_val[i].value = stats[i].value;
	}
	ret->params.params_len = n;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_node_get_security_model)
{
	remote_node_get_security_model_ret *ret = ret_;

	/* No security driver: model "none", DOI "0", as the capabilities XML says and as
	 * libvirtd reports with security_driver "none". Counts include the NUL (reference 1.7). */
	ret->model.model_val = g_strdup("none");
	ret->model.model_len = sizeof("none");
	ret->doi.doi_val = g_strdup("0");
	ret->doi.doi_len = sizeof("0");
	return 0;
}

HV_RPC_HANDLER(hv_rpc_node_get_cpu_map)
{
	remote_node_get_cpu_map_args *args = args_;
	remote_node_get_cpu_map_ret *ret = ret_;
	virNodeInfo info;

	if (args->flags)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "unsupported flags (0x%x) in function virNodeGetCPUMap",
		                    args->flags);
	if (hv_driver_node_info(HV_RPC_DRIVER(c), &info, err) < 0)
		return -1;
	if (args->need_map) {
		int len = VIR_CPU_MAPLEN(info.cpus);
		ret->cpumap.cpumap_val = g_new0(char, len);
		ret->cpumap.cpumap_len = len;
		for (unsigned int i = 0; i < info.cpus; i++)
			VIR_USE_CPU((unsigned char *)ret->cpumap.cpumap_val, i);
	}
	if (args->need_online)
		ret->online = info.cpus;
	ret->ret = info.cpus;
	return 0;
}

/* ---- listing and lookup ---- */

HV_RPC_HANDLER(hv_rpc_connect_list_all_domains)
{
	remote_connect_list_all_domains_args *args = args_;
	remote_connect_list_all_domains_ret *ret = ret_;
	g_autoptr(GPtrArray) doms = hv_driver_list_all(HV_RPC_DRIVER(c), args->flags, err);

	if (!doms)
		return -1;
	if (doms->len > REMOTE_DOMAIN_LIST_MAX)
		return hv_error_set(err, VIR_ERR_RPC, "too many domains '%u' for limit '%d'",
		                    doms->len, REMOTE_DOMAIN_LIST_MAX);
	if (args->need_results) {
		ret->domains.domains_val = g_new0(remote_nonnull_domain, doms->len + 1);
		ret->domains.domains_len = doms->len;
		for (guint i = 0; i < doms->len; i++)
			hv_rpc_make_dom(&ret->domains.domains_val[i], doms->pdata[i]);
	}
	ret->ret = doms->len;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_list_domains)
{
	remote_connect_list_domains_args *args = args_;
	remote_connect_list_domains_ret *ret = ret_;
	g_autoptr(GPtrArray) doms =
	    hv_driver_list_all(HV_RPC_DRIVER(c), VIR_CONNECT_LIST_DOMAINS_ACTIVE, err);

	if (!doms)
		return -1;
	if (args->maxids < 0 || args->maxids > REMOTE_DOMAIN_ID_LIST_MAX)
		return hv_error_set(err, VIR_ERR_RPC, "maxids > REMOTE_DOMAIN_ID_LIST_MAX");
	guint n = MIN(doms->len, (guint)args->maxids);
	ret->ids.ids_val = g_new0(int, n + 1);
	for (guint i = 0; i < n; i++)
		ret->ids.ids_val[i] = ((hvDomainRef *)doms->pdata[i])->id;
	ret->ids.ids_len = n;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_list_defined_domains)
{
	remote_connect_list_defined_domains_args *args = args_;
	remote_connect_list_defined_domains_ret *ret = ret_;
	g_autoptr(GPtrArray) doms =
	    hv_driver_list_all(HV_RPC_DRIVER(c), VIR_CONNECT_LIST_DOMAINS_INACTIVE, err);

	if (!doms)
		return -1;
	if (args->maxnames < 0 || args->maxnames > REMOTE_DOMAIN_NAME_LIST_MAX)
		return hv_error_set(err, VIR_ERR_RPC, "maxnames > REMOTE_DOMAIN_NAME_LIST_MAX");
	guint n = MIN(doms->len, (guint)args->maxnames);
	ret->names.names_val = g_new0(char *, n + 1);
	for (guint i = 0; i < n; i++)
		ret->names.names_val[i] = g_strdup(((hvDomainRef *)doms->pdata[i])->name);
	ret->names.names_len = n;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_num_of_domains)
{
	remote_connect_num_of_domains_ret *ret = ret_;

	ret->num = hv_driver_count(HV_RPC_DRIVER(c), TRUE);
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_num_of_defined_domains)
{
	remote_connect_num_of_domains_ret *ret = ret_;

	ret->num = hv_driver_count(HV_RPC_DRIVER(c), FALSE);
	return 0;
}

static int lookup_reply(int rc, hvDomainRef *ref, remote_domain_ret *ret)
{
	if (rc < 0)
		return -1;
	hv_rpc_make_dom(&ret->dom, ref);
	hv_domain_ref_clear(ref);
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_lookup_by_id)
{
	remote_domain_lookup_by_id_args *args = args_;
	hvDomainRef ref = {0};

	return lookup_reply(hv_driver_lookup_by_id(HV_RPC_DRIVER(c), args->id, &ref, err), &ref,
	                    ret_);
}

HV_RPC_HANDLER(hv_rpc_domain_lookup_by_name)
{
	remote_domain_lookup_by_name_args *args = args_;
	hvDomainRef ref = {0};

	return lookup_reply(hv_driver_lookup_by_name(HV_RPC_DRIVER(c), args->name, &ref, err), &ref,
	                    ret_);
}

HV_RPC_HANDLER(hv_rpc_domain_lookup_by_uuid)
{
	remote_domain_lookup_by_uuid_args *args = args_;
	hvDomainRef ref = {0};

	return lookup_reply(
	    hv_driver_lookup_by_uuid(HV_RPC_DRIVER(c), (unsigned char *)args->uuid, &ref, err),
	    &ref, ret_);
}
