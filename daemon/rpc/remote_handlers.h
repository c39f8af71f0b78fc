/*
 * The handlers of the REMOTE program's procedures (one per procedure number) and the helpers
 * they share to convert between the driver's C types and the wire structs.
 *
 * A handler decodes nothing and encodes nothing: dispatch.c hands it the decoded args struct
 * and a zeroed ret struct, and serializes ret (or the GError) afterwards. Memory put in ret is
 * malloc'ed (g_malloc is malloc-compatible) and released by xdr_free after sending.
 */
#ifndef HV_RPC_REMOTE_HANDLERS_H
#define HV_RPC_REMOTE_HANDLERS_H

#include "driver/driver.h"
#include "rpc/dispatch.h"
#include "rpc/hv_remote_protocol.h"

#define HV_RPC_HANDLER(fn)                                                                         \
	int fn(hvRpcClient *c, const hvRpcHeader *hdr, void *args_, void *ret_, GError **err)

#define HV_RPC_DRIVER(c) hv_rpc_server_driver(hv_rpc_client_server(c))

void hv_rpc_make_dom(remote_nonnull_domain *out, const hvDomainRef *ref);

/* Driver params -> wire. STRING params are dropped unless string_ok (reference 3.3). */
void hv_rpc_params_to_wire(virTypedParameterPtr params, int n, gboolean string_ok,
                           remote_typed_param **out, u_int *outlen);
/* Wire -> driver params (field names checked for length). -1 with *err on bad input. */
int hv_rpc_params_from_wire(const remote_typed_param *in, u_int n, virTypedParameterPtr *out,
                            GError **err);

/* remote_connect.c: connection, node, listing and lookup */
HV_RPC_HANDLER(hv_rpc_connect_open);
HV_RPC_HANDLER(hv_rpc_connect_close);
HV_RPC_HANDLER(hv_rpc_connect_noop);
HV_RPC_HANDLER(hv_rpc_connect_get_type);
HV_RPC_HANDLER(hv_rpc_connect_get_version);
HV_RPC_HANDLER(hv_rpc_connect_get_lib_version);
HV_RPC_HANDLER(hv_rpc_connect_get_hostname);
HV_RPC_HANDLER(hv_rpc_connect_get_uri);
HV_RPC_HANDLER(hv_rpc_connect_get_max_vcpus);
HV_RPC_HANDLER(hv_rpc_connect_get_capabilities);
HV_RPC_HANDLER(hv_rpc_connect_is_secure);
HV_RPC_HANDLER(hv_rpc_connect_supports_feature);
HV_RPC_HANDLER(hv_rpc_auth_list);
HV_RPC_HANDLER(hv_rpc_node_get_info);
HV_RPC_HANDLER(hv_rpc_node_get_free_memory);
HV_RPC_HANDLER(hv_rpc_node_get_cells_free_memory);
HV_RPC_HANDLER(hv_rpc_node_get_memory_stats);
HV_RPC_HANDLER(hv_rpc_node_get_security_model);
HV_RPC_HANDLER(hv_rpc_node_get_cpu_map);
HV_RPC_HANDLER(hv_rpc_connect_list_all_domains);
HV_RPC_HANDLER(hv_rpc_connect_list_domains);
HV_RPC_HANDLER(hv_rpc_connect_list_defined_domains);
HV_RPC_HANDLER(hv_rpc_connect_num_of_domains);
HV_RPC_HANDLER(hv_rpc_connect_num_of_defined_domains);
HV_RPC_HANDLER(hv_rpc_domain_lookup_by_id);
HV_RPC_HANDLER(hv_rpc_domain_lookup_by_name);
HV_RPC_HANDLER(hv_rpc_domain_lookup_by_uuid);

/* remote_domain.c: domain lifecycle and information */
HV_RPC_HANDLER(hv_rpc_domain_define_xml);
HV_RPC_HANDLER(hv_rpc_domain_define_xml_flags);
HV_RPC_HANDLER(hv_rpc_domain_create_xml);
HV_RPC_HANDLER(hv_rpc_domain_create);
HV_RPC_HANDLER(hv_rpc_domain_create_with_flags);
HV_RPC_HANDLER(hv_rpc_domain_undefine);
HV_RPC_HANDLER(hv_rpc_domain_undefine_flags);
HV_RPC_HANDLER(hv_rpc_domain_destroy);
HV_RPC_HANDLER(hv_rpc_domain_destroy_flags);
HV_RPC_HANDLER(hv_rpc_domain_shutdown);
HV_RPC_HANDLER(hv_rpc_domain_shutdown_flags);
HV_RPC_HANDLER(hv_rpc_domain_reboot);
HV_RPC_HANDLER(hv_rpc_domain_reset);
HV_RPC_HANDLER(hv_rpc_domain_suspend);
HV_RPC_HANDLER(hv_rpc_domain_resume);
HV_RPC_HANDLER(hv_rpc_domain_get_info);
HV_RPC_HANDLER(hv_rpc_domain_get_state);
HV_RPC_HANDLER(hv_rpc_domain_get_xml_desc);
HV_RPC_HANDLER(hv_rpc_domain_get_os_type);
HV_RPC_HANDLER(hv_rpc_domain_is_active);
HV_RPC_HANDLER(hv_rpc_domain_is_persistent);
HV_RPC_HANDLER(hv_rpc_domain_is_updated);
HV_RPC_HANDLER(hv_rpc_domain_get_autostart);
HV_RPC_HANDLER(hv_rpc_domain_set_autostart);
HV_RPC_HANDLER(hv_rpc_domain_get_max_memory);
HV_RPC_HANDLER(hv_rpc_domain_set_memory);
HV_RPC_HANDLER(hv_rpc_domain_set_max_memory);
HV_RPC_HANDLER(hv_rpc_domain_set_memory_flags);
HV_RPC_HANDLER(hv_rpc_domain_set_vcpus);
HV_RPC_HANDLER(hv_rpc_domain_set_vcpus_flags);
HV_RPC_HANDLER(hv_rpc_domain_get_vcpus_flags);
HV_RPC_HANDLER(hv_rpc_domain_get_max_vcpus);
HV_RPC_HANDLER(hv_rpc_domain_get_vcpus);
HV_RPC_HANDLER(hv_rpc_domain_memory_stats);
HV_RPC_HANDLER(hv_rpc_domain_zero);
HV_RPC_HANDLER(hv_rpc_domain_get_security_label);
HV_RPC_HANDLER(hv_rpc_domain_get_messages);
HV_RPC_HANDLER(hv_rpc_domain_get_metadata);
HV_RPC_HANDLER(hv_rpc_domain_set_metadata);
HV_RPC_HANDLER(hv_rpc_domain_list_all_snapshots);

/* remote_params.c: typed parameters and statistics */
HV_RPC_HANDLER(hv_rpc_domain_get_scheduler_type);
HV_RPC_HANDLER(hv_rpc_domain_get_scheduler_parameters);
HV_RPC_HANDLER(hv_rpc_domain_get_scheduler_parameters_flags);
HV_RPC_HANDLER(hv_rpc_domain_set_scheduler_parameters);
HV_RPC_HANDLER(hv_rpc_domain_set_scheduler_parameters_flags);
HV_RPC_HANDLER(hv_rpc_domain_get_memory_parameters);
HV_RPC_HANDLER(hv_rpc_domain_set_memory_parameters);
HV_RPC_HANDLER(hv_rpc_domain_get_interface_parameters);
HV_RPC_HANDLER(hv_rpc_domain_block_stats);
HV_RPC_HANDLER(hv_rpc_domain_interface_stats);
HV_RPC_HANDLER(hv_rpc_domain_set_interface_parameters);
HV_RPC_HANDLER(hv_rpc_domain_get_block_io_tune);
HV_RPC_HANDLER(hv_rpc_domain_set_block_io_tune);
HV_RPC_HANDLER(hv_rpc_domain_get_cpu_stats);
HV_RPC_HANDLER(hv_rpc_connect_get_all_domain_stats);

/* events.c and stream.c */
HV_RPC_HANDLER(hv_rpc_event_register_any);
HV_RPC_HANDLER(hv_rpc_event_deregister_any);
HV_RPC_HANDLER(hv_rpc_domain_open_console);

#endif
