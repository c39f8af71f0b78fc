/*
 * Packet routing and the procedure table (see dispatch.h).
 *
 * What closes a client (return FALSE): a packet that cannot belong to this protocol at all
 * (CALL_WITH_FDS, whose descriptors we never read; REPLY or non-keepalive MESSAGE from a
 * client; a non-CALL packet for an unknown program or version). Everything about a CALL that
 * is merely wrong (unknown program/version/procedure, bad status, undecodable payload, not
 * allowed) gets an error REPLY and the connection carries on, as libvirtd does (reference 1.9).
 */
#include "rpc/dispatch.h"

#include "rpc/hv_remote_protocol.h"
#include "rpc/remote_handlers.h"
#include "rpc/stream.h"
#include "util/error.h"

bool_t xdr_hv_rpc_void(XDR *xdr, hv_rpc_void *v)
{
	return TRUE;
}

#define RO   HV_RPC_PROC_READ
#define PRE  HV_RPC_PROC_BEFORE_OPEN
#define MAIN HV_RPC_PROC_MAIN
#define PRIO HV_RPC_PROC_PRIO
#define P(num, name, fn, argt, rett, fl)                                                           \
	[REMOTE_PROC_##                                                                            \
	    num] = {name,         fn, (xdrproc_t)xdr_##argt, sizeof(argt), (xdrproc_t)xdr_##rett,  \
	            sizeof(rett), fl}

/* One entry per procedure served; the index is the procedure number. */
static const hvRpcProc procs[] = {
    P(CONNECT_OPEN, "virConnectOpen", hv_rpc_connect_open, remote_connect_open_args, hv_rpc_void,
      RO | PRE | MAIN),
    P(CONNECT_CLOSE, "virConnectClose", hv_rpc_connect_close, hv_rpc_void, hv_rpc_void,
      RO | PRE | MAIN),
    P(AUTH_LIST, "virConnectAuthList", hv_rpc_auth_list, hv_rpc_void, remote_auth_list_ret,
      RO | PRE | MAIN),
    P(CONNECT_SUPPORTS_FEATURE, "virConnectSupportsFeature", hv_rpc_connect_supports_feature,
      remote_connect_supports_feature_args, remote_connect_supports_feature_ret, RO | PRE | MAIN),
    P(CONNECT_REGISTER_CLOSE_CALLBACK, "virConnectRegisterCloseCallback", hv_rpc_connect_noop,
      hv_rpc_void, hv_rpc_void, RO | MAIN),
    P(CONNECT_UNREGISTER_CLOSE_CALLBACK, "virConnectUnregisterCloseCallback", hv_rpc_connect_noop,
      hv_rpc_void, hv_rpc_void, RO | MAIN),
    P(CONNECT_GET_TYPE, "virConnectGetType", hv_rpc_connect_get_type, hv_rpc_void,
      remote_connect_get_type_ret, RO | MAIN),
    P(CONNECT_GET_VERSION, "virConnectGetVersion", hv_rpc_connect_get_version, hv_rpc_void,
      remote_connect_get_version_ret, RO | MAIN),
    P(CONNECT_GET_LIB_VERSION, "virConnectGetLibVersion", hv_rpc_connect_get_lib_version,
      hv_rpc_void, remote_connect_get_lib_version_ret, RO | MAIN),
    P(CONNECT_GET_HOSTNAME, "virConnectGetHostname", hv_rpc_connect_get_hostname, hv_rpc_void,
      remote_connect_get_hostname_ret, RO | MAIN),
    P(CONNECT_GET_URI, "virConnectGetURI", hv_rpc_connect_get_uri, hv_rpc_void,
      remote_connect_get_uri_ret, RO | MAIN),
    P(CONNECT_GET_MAX_VCPUS, "virConnectGetMaxVcpus", hv_rpc_connect_get_max_vcpus,
      remote_connect_get_max_vcpus_args, remote_connect_get_max_vcpus_ret, RO | PRIO),
    P(CONNECT_GET_CAPABILITIES, "virConnectGetCapabilities", hv_rpc_connect_get_capabilities,
      hv_rpc_void, remote_connect_get_capabilities_ret, RO),
    P(CONNECT_IS_SECURE, "virConnectIsSecure", hv_rpc_connect_is_secure, hv_rpc_void,
      remote_connect_is_secure_ret, RO | MAIN),
    P(NODE_GET_INFO, "virNodeGetInfo", hv_rpc_node_get_info, hv_rpc_void, remote_node_get_info_ret,
      RO),
    P(NODE_GET_FREE_MEMORY, "virNodeGetFreeMemory", hv_rpc_node_get_free_memory, hv_rpc_void,
      remote_node_get_free_memory_ret, RO),
    P(NODE_GET_CELLS_FREE_MEMORY, "virNodeGetCellsFreeMemory", hv_rpc_node_get_cells_free_memory,
      remote_node_get_cells_free_memory_args, remote_node_get_cells_free_memory_ret, RO),
    P(NODE_GET_MEMORY_STATS, "virNodeGetMemoryStats", hv_rpc_node_get_memory_stats,
      remote_node_get_memory_stats_args, remote_node_get_memory_stats_ret, RO),
    P(NODE_GET_SECURITY_MODEL, "virNodeGetSecurityModel", hv_rpc_node_get_security_model,
      hv_rpc_void, remote_node_get_security_model_ret, RO | PRIO),
    P(NODE_GET_CPU_MAP, "virNodeGetCPUMap", hv_rpc_node_get_cpu_map, remote_node_get_cpu_map_args,
      remote_node_get_cpu_map_ret, RO),

    P(CONNECT_LIST_ALL_DOMAINS, "virConnectListAllDomains", hv_rpc_connect_list_all_domains,
      remote_connect_list_all_domains_args, remote_connect_list_all_domains_ret, RO | PRIO),
    P(CONNECT_LIST_DOMAINS, "virConnectListDomains", hv_rpc_connect_list_domains,
      remote_connect_list_domains_args, remote_connect_list_domains_ret, RO | PRIO),
    P(CONNECT_LIST_DEFINED_DOMAINS, "virConnectListDefinedDomains",
      hv_rpc_connect_list_defined_domains, remote_connect_list_defined_domains_args,
      remote_connect_list_defined_domains_ret, RO | PRIO),
    P(CONNECT_NUM_OF_DOMAINS, "virConnectNumOfDomains", hv_rpc_connect_num_of_domains, hv_rpc_void,
      remote_connect_num_of_domains_ret, RO | PRIO),
    P(CONNECT_NUM_OF_DEFINED_DOMAINS, "virConnectNumOfDefinedDomains",
      hv_rpc_connect_num_of_defined_domains, hv_rpc_void, remote_connect_num_of_domains_ret,
      RO | PRIO),
    P(DOMAIN_LOOKUP_BY_ID, "virDomainLookupByID", hv_rpc_domain_lookup_by_id,
      remote_domain_lookup_by_id_args, remote_domain_ret, RO | PRIO),
    P(DOMAIN_LOOKUP_BY_NAME, "virDomainLookupByName", hv_rpc_domain_lookup_by_name,
      remote_domain_lookup_by_name_args, remote_domain_ret, RO | PRIO),
    P(DOMAIN_LOOKUP_BY_UUID, "virDomainLookupByUUID", hv_rpc_domain_lookup_by_uuid,
      remote_domain_lookup_by_uuid_args, remote_domain_ret, RO | PRIO),

    P(DOMAIN_DEFINE_XML, "virDomainDefineXML", hv_rpc_domain_define_xml, remote_domain_xml_args,
      remote_domain_ret, 0),
    P(DOMAIN_DEFINE_XML_FLAGS, "virDomainDefineXMLFlags", hv_rpc_domain_define_xml_flags,
      remote_domain_xml_flags_args, remote_domain_ret, 0),
    P(DOMAIN_CREATE_XML, "virDomainCreateXML", hv_rpc_domain_create_xml,
      remote_domain_xml_flags_args, remote_domain_ret, 0),
    P(DOMAIN_CREATE, "virDomainCreate", hv_rpc_domain_create, remote_domain_args, hv_rpc_void, 0),
    P(DOMAIN_CREATE_WITH_FLAGS, "virDomainCreateWithFlags", hv_rpc_domain_create_with_flags,
      remote_domain_flags_args, remote_domain_ret, 0),
    P(DOMAIN_UNDEFINE, "virDomainUndefine", hv_rpc_domain_undefine, remote_domain_args, hv_rpc_void,
      0),
    P(DOMAIN_UNDEFINE_FLAGS, "virDomainUndefineFlags", hv_rpc_domain_undefine_flags,
      remote_domain_flags_args, hv_rpc_void, 0),
    P(DOMAIN_DESTROY, "virDomainDestroy", hv_rpc_domain_destroy, remote_domain_args, hv_rpc_void,
      0),
    P(DOMAIN_DESTROY_FLAGS, "virDomainDestroyFlags", hv_rpc_domain_destroy_flags,
      remote_domain_flags_args, hv_rpc_void, 0),
    P(DOMAIN_SHUTDOWN, "virDomainShutdown", hv_rpc_domain_shutdown, remote_domain_args, hv_rpc_void,
      0),
    P(DOMAIN_SHUTDOWN_FLAGS, "virDomainShutdownFlags", hv_rpc_domain_shutdown_flags,
      remote_domain_flags_args, hv_rpc_void, 0),
    P(DOMAIN_REBOOT, "virDomainReboot", hv_rpc_domain_reboot, remote_domain_flags_args, hv_rpc_void,
      0),
    P(DOMAIN_RESET, "virDomainReset", hv_rpc_domain_reset, remote_domain_flags_args, hv_rpc_void,
      0),
    P(DOMAIN_SUSPEND, "virDomainSuspend", hv_rpc_domain_suspend, remote_domain_args, hv_rpc_void,
      0),
    P(DOMAIN_RESUME, "virDomainResume", hv_rpc_domain_resume, remote_domain_args, hv_rpc_void, 0),

    P(DOMAIN_GET_INFO, "virDomainGetInfo", hv_rpc_domain_get_info, remote_domain_args,
      remote_domain_get_info_ret, RO),
    P(DOMAIN_GET_STATE, "virDomainGetState", hv_rpc_domain_get_state, remote_domain_flags_args,
      remote_domain_get_state_ret, RO),
    P(DOMAIN_GET_XML_DESC, "virDomainGetXMLDesc", hv_rpc_domain_get_xml_desc,
      remote_domain_flags_args, remote_domain_string_ret, RO | PRIO),
    P(DOMAIN_GET_OS_TYPE, "virDomainGetOSType", hv_rpc_domain_get_os_type, remote_domain_args,
      remote_domain_string_ret, RO | PRIO),
    P(DOMAIN_IS_ACTIVE, "virDomainIsActive", hv_rpc_domain_is_active, remote_domain_args,
      remote_domain_int_ret, RO | PRIO),
    P(DOMAIN_IS_PERSISTENT, "virDomainIsPersistent", hv_rpc_domain_is_persistent,
      remote_domain_args, remote_domain_int_ret, RO | PRIO),
    P(DOMAIN_IS_UPDATED, "virDomainIsUpdated", hv_rpc_domain_is_updated, remote_domain_args,
      remote_domain_int_ret, RO | PRIO),
    P(DOMAIN_GET_AUTOSTART, "virDomainGetAutostart", hv_rpc_domain_get_autostart,
      remote_domain_args, remote_domain_int_ret, RO | PRIO),
    P(DOMAIN_SET_AUTOSTART, "virDomainSetAutostart", hv_rpc_domain_set_autostart,
      remote_domain_set_autostart_args, hv_rpc_void, 0),
    P(DOMAIN_GET_MAX_MEMORY, "virDomainGetMaxMemory", hv_rpc_domain_get_max_memory,
      remote_domain_args, remote_domain_ulong_ret, RO | PRIO),
    P(DOMAIN_SET_MEMORY, "virDomainSetMemory", hv_rpc_domain_set_memory,
      remote_domain_set_memory_args, hv_rpc_void, 0),
    P(DOMAIN_SET_MAX_MEMORY, "virDomainSetMaxMemory", hv_rpc_domain_set_max_memory,
      remote_domain_set_memory_args, hv_rpc_void, 0),
    P(DOMAIN_SET_MEMORY_FLAGS, "virDomainSetMemoryFlags", hv_rpc_domain_set_memory_flags,
      remote_domain_set_memory_flags_args, hv_rpc_void, 0),
    P(DOMAIN_SET_VCPUS, "virDomainSetVcpus", hv_rpc_domain_set_vcpus, remote_domain_set_vcpus_args,
      hv_rpc_void, 0),
    P(DOMAIN_SET_VCPUS_FLAGS, "virDomainSetVcpusFlags", hv_rpc_domain_set_vcpus_flags,
      remote_domain_set_vcpus_flags_args, hv_rpc_void, 0),
    P(DOMAIN_GET_VCPUS_FLAGS, "virDomainGetVcpusFlags", hv_rpc_domain_get_vcpus_flags,
      remote_domain_flags_args, remote_domain_int_ret, RO | PRIO),
    P(DOMAIN_GET_MAX_VCPUS, "virDomainGetMaxVcpus", hv_rpc_domain_get_max_vcpus, remote_domain_args,
      remote_domain_int_ret, RO),
    P(DOMAIN_GET_VCPUS, "virDomainGetVcpus", hv_rpc_domain_get_vcpus, remote_domain_get_vcpus_args,
      remote_domain_get_vcpus_ret, RO),
    P(DOMAIN_MEMORY_STATS, "virDomainMemoryStats", hv_rpc_domain_memory_stats,
      remote_domain_memory_stats_args, remote_domain_memory_stats_ret, RO),
    P(DOMAIN_BLOCK_STATS, "virDomainBlockStats", hv_rpc_domain_block_stats,
      remote_domain_block_stats_args, remote_domain_block_stats_ret, RO),
    P(DOMAIN_INTERFACE_STATS, "virDomainInterfaceStats", hv_rpc_domain_interface_stats,
      remote_domain_interface_stats_args, remote_domain_interface_stats_ret, RO),
    P(DOMAIN_HAS_MANAGED_SAVE_IMAGE, "virDomainHasManagedSaveImage", hv_rpc_domain_zero,
      remote_domain_flags_args, remote_domain_int_ret, RO | PRIO),
    P(DOMAIN_SNAPSHOT_NUM, "virDomainSnapshotNum", hv_rpc_domain_zero, remote_domain_flags_args,
      remote_domain_int_ret, RO | PRIO),
    P(DOMAIN_LIST_ALL_SNAPSHOTS, "virDomainListAllSnapshots", hv_rpc_domain_list_all_snapshots,
      remote_domain_list_all_snapshots_args, remote_domain_list_all_snapshots_ret, RO | PRIO),
    P(DOMAIN_GET_SECURITY_LABEL, "virDomainGetSecurityLabel", hv_rpc_domain_get_security_label,
      remote_domain_args, remote_domain_get_security_label_ret, RO | PRIO),
    P(DOMAIN_GET_METADATA, "virDomainGetMetadata", hv_rpc_domain_get_metadata,
      remote_domain_get_metadata_args, remote_domain_string_ret, RO | PRIO),
    P(DOMAIN_SET_METADATA, "virDomainSetMetadata", hv_rpc_domain_set_metadata,
      remote_domain_set_metadata_args, hv_rpc_void, 0),
    P(DOMAIN_GET_MESSAGES, "virDomainGetMessages", hv_rpc_domain_get_messages,
      remote_domain_flags_args, remote_domain_get_messages_ret, RO),

    P(DOMAIN_GET_SCHEDULER_TYPE, "virDomainGetSchedulerType", hv_rpc_domain_get_scheduler_type,
      remote_domain_args, remote_domain_get_scheduler_type_ret, RO | PRIO),
    P(DOMAIN_GET_SCHEDULER_PARAMETERS, "virDomainGetSchedulerParameters",
      hv_rpc_domain_get_scheduler_parameters, remote_domain_get_scheduler_parameters_args,
      remote_domain_get_scheduler_parameters_ret, RO),
    P(DOMAIN_GET_SCHEDULER_PARAMETERS_FLAGS, "virDomainGetSchedulerParametersFlags",
      hv_rpc_domain_get_scheduler_parameters_flags,
      remote_domain_get_scheduler_parameters_flags_args, remote_domain_get_scheduler_parameters_ret,
      RO),
    P(DOMAIN_SET_SCHEDULER_PARAMETERS, "virDomainSetSchedulerParameters",
      hv_rpc_domain_set_scheduler_parameters, remote_domain_set_scheduler_parameters_args,
      hv_rpc_void, 0),
    P(DOMAIN_SET_SCHEDULER_PARAMETERS_FLAGS, "virDomainSetSchedulerParametersFlags",
      hv_rpc_domain_set_scheduler_parameters_flags,
      remote_domain_set_scheduler_parameters_flags_args, hv_rpc_void, 0),
    P(DOMAIN_GET_MEMORY_PARAMETERS, "virDomainGetMemoryParameters",
      hv_rpc_domain_get_memory_parameters, remote_domain_get_params_args,
      remote_domain_get_params_ret, RO),
    P(DOMAIN_SET_MEMORY_PARAMETERS, "virDomainSetMemoryParameters",
      hv_rpc_domain_set_memory_parameters, remote_domain_set_params_args, hv_rpc_void, 0),
    P(DOMAIN_GET_INTERFACE_PARAMETERS, "virDomainGetInterfaceParameters",
      hv_rpc_domain_get_interface_parameters, remote_domain_get_interface_parameters_args,
      remote_domain_get_interface_parameters_ret, RO),
    P(DOMAIN_SET_INTERFACE_PARAMETERS, "virDomainSetInterfaceParameters",
      hv_rpc_domain_set_interface_parameters, remote_domain_set_interface_parameters_args,
      hv_rpc_void, 0),
    P(DOMAIN_GET_BLOCK_IO_TUNE, "virDomainGetBlockIoTune", hv_rpc_domain_get_block_io_tune,
      remote_domain_get_block_io_tune_args, remote_domain_get_block_io_tune_ret, RO),
    P(DOMAIN_SET_BLOCK_IO_TUNE, "virDomainSetBlockIoTune", hv_rpc_domain_set_block_io_tune,
      remote_domain_set_block_io_tune_args, hv_rpc_void, 0),
    P(DOMAIN_GET_CPU_STATS, "virDomainGetCPUStats", hv_rpc_domain_get_cpu_stats,
      remote_domain_get_cpu_stats_args, remote_domain_get_cpu_stats_ret, RO),
    P(CONNECT_GET_ALL_DOMAIN_STATS, "virConnectGetAllDomainStats",
      hv_rpc_connect_get_all_domain_stats, remote_connect_get_all_domain_stats_args,
      remote_connect_get_all_domain_stats_ret, RO),

    P(CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, "virConnectDomainEventRegisterAny",
      hv_rpc_event_register_any, remote_connect_domain_event_callback_register_any_args,
      remote_connect_domain_event_callback_register_any_ret, RO | MAIN),
    P(CONNECT_DOMAIN_EVENT_CALLBACK_DEREGISTER_ANY, "virConnectDomainEventDeregisterAny",
      hv_rpc_event_deregister_any, remote_connect_domain_event_callback_deregister_any_args,
      hv_rpc_void, RO | MAIN),
    P(DOMAIN_OPEN_CONSOLE, "virDomainOpenConsole", hv_rpc_domain_open_console,
      remote_domain_open_console_args, hv_rpc_void, 0 | MAIN),
};

const hvRpcProc *hv_rpc_proc_lookup(int proc)
{
	if (proc < 0 || (size_t)proc >= G_N_ELEMENTS(procs) || !procs[proc].handler)
		return NULL;
	return &procs[proc];
}

static void send_error(hvRpcClient *c, const hvRpcHeader *call, const GError *error)
{
	hvRpcHeader hdr = *call;

	hdr.type = HV_RPC_REPLY;
	hdr.status = HV_RPC_ERROR;
	hv_rpc_client_send(c, hv_rpc_packet_error(&hdr, error));
}

static void call_failed(hvRpcClient *c, const hvRpcHeader *call, int code, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
static void call_failed(hvRpcClient *c, const hvRpcHeader *call, int code, const char *fmt, ...)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	hv_error_set(&error, code, "%s", msg);
	send_error(c, call, error);
}

/* A call on its way to a worker and back. */
typedef struct {
	hvRpcClient *client; /* referenced */
	hvRpcHeader hdr;
	const hvRpcProc *proc;
	void *args; /* decoded, freed by run_call */
	GBytes *reply;
} hvRpcCall;

static GBytes *run_call(hvRpcClient *c, const hvRpcHeader *hdr, const hvRpcProc *p, void *args);

static void dispatch_call(hvRpcClient *c, const hvRpcHeader *hdr, const uint8_t *payload,
                          size_t len)
{
	const hvRpcProc *p = hv_rpc_proc_lookup(hdr->proc);
	GThreadPool *pool;
	hvDriver *drv;
	GBytes *pkt;
	void *args;

	if (hdr->status != HV_RPC_OK) {
		call_failed(c, hdr, VIR_ERR_RPC, "Unexpected message status %d", hdr->status);
		return;
	}
	if (!p) {
		call_failed(c, hdr, VIR_ERR_NO_SUPPORT, "unknown procedure: %d", hdr->proc);
		return;
	}
	g_debug("call %s (proc %d, serial %u)%s", p->api, hdr->proc, hdr->serial,
	        hv_rpc_client_readonly(c) ? " read-only" : "");
	if (!hv_rpc_client_is_open(c) && !(p->flags & HV_RPC_PROC_BEFORE_OPEN)) {
		call_failed(c, hdr, VIR_ERR_INTERNAL_ERROR, "hypervisor connection not open");
		return;
	}
	if (hv_rpc_client_readonly(c) && !(p->flags & HV_RPC_PROC_READ)) {
		call_failed(c, hdr, VIR_ERR_OPERATION_DENIED, "read only access prevents %s",
		            p->api);
		return;
	}
	args = g_malloc0(p->args_size);
	if (!hv_rpc_payload_decode(payload, len, p->args_filter, args)) {
		call_failed(c, hdr, VIR_ERR_RPC, "Unable to decode the arguments of %s", p->api);
		g_free(args);
		return;
	}
	pool = hv_rpc_server_pool(hv_rpc_client_server(c), p->flags & HV_RPC_PROC_PRIO);
	if (pool && !(p->flags & HV_RPC_PROC_MAIN)) {
		hvRpcCall *call = g_new0(hvRpcCall, 1);
		call->client = c;
		call->hdr = *hdr;
		call->proc = p;
		call->args = args;
		hv_rpc_client_ref(c);
		g_thread_pool_push(pool, call, NULL);
		return;
	}
	/* On the main loop: the connection's own procedures, or every call without workers. */
	drv = hv_rpc_server_driver(hv_rpc_client_server(c));
	if (!(p->flags & HV_RPC_PROC_MAIN))
		hv_driver_lock(drv);
	pkt = run_call(c, hdr, p, args);
	if (!(p->flags & HV_RPC_PROC_MAIN))
		hv_driver_unlock(drv);
	if (!pkt)
		return; /* HV_RPC_REPLY_LATER: the handler replies itself */
	hv_rpc_client_send(c, pkt);
	hv_rpc_stream_after_reply(c, hdr->proc, hdr->serial);
}

/* A call's reply (or error) packet, NULL if the handler replies later; frees args. */
static GBytes *run_call(hvRpcClient *c, const hvRpcHeader *hdr, const hvRpcProc *p, void *args)
{
	g_autoptr(GError) error = NULL;
	void *ret = g_malloc0(p->ret_size);
	GBytes *pkt = NULL;
	hvRpcHeader rhdr = *hdr;
	int rc;

	rhdr.type = HV_RPC_REPLY;
	rc = p->handler(c, hdr, args, ret, &error);
	if (rc == HV_RPC_REPLY_LATER && (p->flags & HV_RPC_PROC_MAIN)) {
		pkt = NULL;
		goto out;
	} else if (rc < 0) {
		if (!error)
			hv_error_set(&error, VIR_ERR_INTERNAL_ERROR, "%s failed", p->api);
	} else {
		rhdr.status = HV_RPC_OK;
		pkt = hv_rpc_packet_encode(&rhdr, p->ret_filter, ret, &error);
	}
	if (!pkt) {
		rhdr.status = HV_RPC_ERROR;
		pkt = hv_rpc_packet_error(&rhdr, error);
	}
out:
	xdr_free(p->args_filter, args);
	xdr_free(p->ret_filter, ret);
	g_free(args);
	g_free(ret);
	return pkt;
}

/* Main loop: a worker's reply goes out, unless its client went away meanwhile. */
static gboolean call_done(gpointer data)
{
	hvRpcCall *call = data;

	if (!hv_rpc_client_is_dead(call->client))
		hv_rpc_client_send(call->client, call->reply);
	else
		g_bytes_unref(call->reply);
	hv_rpc_client_unref(call->client);
	g_free(call);
	return G_SOURCE_REMOVE;
}

/* A worker thread: runs the handler under the driver lock. The handler reads nothing of the
 * client but its server (HV_RPC_DRIVER); the client's struct is held by call's reference. */
void hv_rpc_dispatch_worker(gpointer data, gpointer opaque)
{
	hvRpcCall *call = data;
	hvDriver *drv = hv_rpc_server_driver(opaque);

	hv_driver_lock(drv);
	call->reply = run_call(call->client, &call->hdr, call->proc, call->args);
	hv_driver_unlock(drv);
	call->args = NULL;
	g_idle_add_full(G_PRIORITY_DEFAULT, call_done, call, NULL);
}

/* The server is going: a call that never ran (called on the main loop). */
void hv_rpc_dispatch_drop(gpointer data)
{
	hvRpcCall *call = data;

	if (call->args) {
		xdr_free(call->proc->args_filter, call->args);
		g_free(call->args);
	}
	hv_rpc_client_unref(call->client);
	g_free(call);
}

gboolean hv_rpc_dispatch_packet(hvRpcClient *c, const hvRpcHeader *hdr, const uint8_t *payload,
                                size_t len)
{
	if (hdr->prog == HV_RPC_PROGRAM_KEEPALIVE && hdr->vers == HV_RPC_PROGRAM_VERSION) {
		if (hdr->type != HV_RPC_MESSAGE)
			return FALSE;
		if (hdr->proc == HV_RPC_KEEPALIVE_PING) {
			hvRpcHeader pong = {HV_RPC_PROGRAM_KEEPALIVE,
			                    HV_RPC_PROGRAM_VERSION,
			                    HV_RPC_KEEPALIVE_PONG,
			                    HV_RPC_MESSAGE,
			                    0,
			                    HV_RPC_OK};
			hv_rpc_client_send(c, hv_rpc_packet_raw(&pong, NULL, 0));
		}
		return TRUE; /* a PONG (or anything else) just proves the peer is alive */
	}
	if (hdr->prog != HV_RPC_PROGRAM_REMOTE || hdr->vers != HV_RPC_PROGRAM_VERSION) {
		if (hdr->type != HV_RPC_CALL)
			return FALSE;
		call_failed(c, hdr, VIR_ERR_RPC, "Cannot find program %d version %d",
		            (int)hdr->prog, (int)hdr->vers);
		return TRUE;
	}
	switch (hdr->type) {
	case HV_RPC_CALL:
		dispatch_call(c, hdr, payload, len);
		return TRUE;
	case HV_RPC_STREAM:
		hv_rpc_stream_packet(c, hdr, payload, len);
		return TRUE;
	default:
		return FALSE;
	}
}
