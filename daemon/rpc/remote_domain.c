/*
 * Handlers for domain lifecycle and information procedures (libvirt-rpc.md 3.1, 3.2, 3.5):
 * each unpacks its args, calls the driver with the domain's UUID, and fills its ret.
 */
#include "rpc/remote_handlers.h"

#include <string.h>

#include "util/error.h"

#define UUID(d) ((const unsigned char *)(d).uuid)

static int domain_reply(int rc, hvDomainRef *ref, remote_domain_ret *ret)
{
	if (rc < 0)
		return -1;
	hv_rpc_make_dom(&ret->dom, ref);
	hv_domain_ref_clear(ref);
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_define_xml)
{
	remote_domain_xml_args *args = args_;
	hvDomainRef ref = {0};

	return domain_reply(hv_driver_define_xml(HV_RPC_DRIVER(c), args->xml, 0, &ref, err), &ref,
	                    ret_);
}

HV_RPC_HANDLER(hv_rpc_domain_define_xml_flags)
{
	remote_domain_xml_flags_args *args = args_;
	hvDomainRef ref = {0};

	return domain_reply(
	    hv_driver_define_xml(HV_RPC_DRIVER(c), args->xml, args->flags, &ref, err), &ref, ret_);
}

HV_RPC_HANDLER(hv_rpc_domain_create_xml)
{
	remote_domain_xml_flags_args *args = args_;
	hvDomainRef ref = {0};

	return domain_reply(
	    hv_driver_create_xml(HV_RPC_DRIVER(c), args->xml, args->flags, &ref, err), &ref, ret_);
}

HV_RPC_HANDLER(hv_rpc_domain_create)
{
	remote_domain_args *args = args_;
	hvDomainRef ref = {0};
	int rc = hv_driver_create(HV_RPC_DRIVER(c), UUID(args->dom), 0, &ref, err);

	hv_domain_ref_clear(&ref);
	return rc;
}

HV_RPC_HANDLER(hv_rpc_domain_create_with_flags)
{
	remote_domain_flags_args *args = args_;
	hvDomainRef ref = {0};

	return domain_reply(
	    hv_driver_create(HV_RPC_DRIVER(c), UUID(args->dom), args->flags, &ref, err), &ref,
	    ret_);
}

HV_RPC_HANDLER(hv_rpc_domain_undefine)
{
	remote_domain_args *args = args_;

	return hv_driver_undefine(HV_RPC_DRIVER(c), UUID(args->dom), 0, err);
}

HV_RPC_HANDLER(hv_rpc_domain_undefine_flags)
{
	remote_domain_flags_args *args = args_;

	return hv_driver_undefine(HV_RPC_DRIVER(c), UUID(args->dom), args->flags, err);
}

HV_RPC_HANDLER(hv_rpc_domain_destroy)
{
	remote_domain_args *args = args_;

	return hv_driver_destroy(HV_RPC_DRIVER(c), UUID(args->dom), 0, err);
}

HV_RPC_HANDLER(hv_rpc_domain_destroy_flags)
{
	remote_domain_flags_args *args = args_;

	return hv_driver_destroy(HV_RPC_DRIVER(c), UUID(args->dom), args->flags, err);
}

HV_RPC_HANDLER(hv_rpc_domain_shutdown)
{
	remote_domain_args *args = args_;

	return hv_driver_shutdown(HV_RPC_DRIVER(c), UUID(args->dom), 0, err);
}

HV_RPC_HANDLER(hv_rpc_domain_shutdown_flags)
{
	remote_domain_flags_args *args = args_;

	return hv_driver_shutdown(HV_RPC_DRIVER(c), UUID(args->dom), args->flags, err);
}

HV_RPC_HANDLER(hv_rpc_domain_reboot)
{
	remote_domain_flags_args *args = args_;

	return hv_driver_reboot(HV_RPC_DRIVER(c), UUID(args->dom), args->flags, err);
}

HV_RPC_HANDLER(hv_rpc_domain_reset)
{
	remote_domain_flags_args *args = args_;

	return hv_driver_reset(HV_RPC_DRIVER(c), UUID(args->dom), args->flags, err);
}

HV_RPC_HANDLER(hv_rpc_domain_suspend)
{
	remote_domain_args *args = args_;

	return hv_driver_suspend(HV_RPC_DRIVER(c), UUID(args->dom), err);
}

HV_RPC_HANDLER(hv_rpc_domain_resume)
{
	remote_domain_args *args = args_;

	return hv_driver_resume(HV_RPC_DRIVER(c), UUID(args->dom), err);
}

HV_RPC_HANDLER(hv_rpc_domain_get_info)
{
	remote_domain_args *args = args_;
	remote_domain_get_info_ret *ret = ret_;
	hvDomainInfo info;

	if (hv_driver_get_info(HV_RPC_DRIVER(c), UUID(args->dom), &info, err) < 0)
		return -1;
	ret->state = info.state;
	ret->maxMem = info.max_mem_kib;
	ret->memory = info.mem_kib;
	ret->nrVirtCpu = info.nr_vcpus;
	ret->cpuTime = info.cpu_time_ns;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_get_state)
{
	remote_domain_flags_args *args = args_;
	remote_domain_get_state_ret *ret = ret_;
	hvDomainInfo info;

	if (args->flags)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "unsupported flags (0x%x) in function virDomainGetState",
		                    args->flags);
	if (hv_driver_get_info(HV_RPC_DRIVER(c), UUID(args->dom), &info, err) < 0)
		return -1;
	ret->state = info.state;
	ret->reason = info.reason;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_get_xml_desc)
{
	remote_domain_flags_args *args = args_;
	remote_domain_string_ret *ret = ret_;

	ret->value = hv_driver_get_xml(HV_RPC_DRIVER(c), UUID(args->dom), args->flags, err);
	return ret->value ? 0 : -1;
}

HV_RPC_HANDLER(hv_rpc_domain_get_os_type)
{
	remote_domain_args *args = args_;
	remote_domain_string_ret *ret = ret_;

	ret->value = hv_driver_get_os_type(HV_RPC_DRIVER(c), UUID(args->dom), err);
	return ret->value ? 0 : -1;
}

static int bool_reply(hvRpcClient *c, remote_domain_args *args, remote_domain_int_ret *ret,
                      hvDomainQuery which, GError **err)
{
	int v = hv_driver_get_bool(HV_RPC_DRIVER(c), UUID(args->dom), which, err);

	if (v < 0)
		return -1;
	ret->value = v;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_is_active)
{
	return bool_reply(c, args_, ret_, HV_DOMAIN_IS_ACTIVE, err);
}

HV_RPC_HANDLER(hv_rpc_domain_is_persistent)
{
	return bool_reply(c, args_, ret_, HV_DOMAIN_IS_PERSISTENT, err);
}

HV_RPC_HANDLER(hv_rpc_domain_get_autostart)
{
	return bool_reply(c, args_, ret_, HV_DOMAIN_IS_AUTOSTART, err);
}

HV_RPC_HANDLER(hv_rpc_domain_is_updated)
{
	/* virthvd does not track config changes made while a domain runs: always 0. */
	return bool_reply(c, args_, ret_, HV_DOMAIN_IS_UPDATED, err);
}

HV_RPC_HANDLER(hv_rpc_domain_set_autostart)
{
	remote_domain_set_autostart_args *args = args_;

	return hv_driver_set_autostart(HV_RPC_DRIVER(c), UUID(args->dom), args->autostart != 0,
	                               err);
}

HV_RPC_HANDLER(hv_rpc_domain_get_max_memory)
{
	remote_domain_args *args = args_;
	remote_domain_ulong_ret *ret = ret_;

	ret->value = hv_driver_get_max_memory(HV_RPC_DRIVER(c), UUID(args->dom), err);
	return ret->value ? 0 : -1;
}

HV_RPC_HANDLER(hv_rpc_domain_set_memory)
{
	remote_domain_set_memory_args *args = args_;

	return hv_driver_set_memory(HV_RPC_DRIVER(c), UUID(args->dom), args->memory,
	                            VIR_DOMAIN_AFFECT_LIVE, err);
}

HV_RPC_HANDLER(hv_rpc_domain_set_max_memory)
{
	remote_domain_set_memory_args *args = args_;

	return hv_driver_set_memory(HV_RPC_DRIVER(c), UUID(args->dom), args->memory,
	                            VIR_DOMAIN_MEM_MAXIMUM, err);
}

HV_RPC_HANDLER(hv_rpc_domain_set_memory_flags)
{
	remote_domain_set_memory_flags_args *args = args_;

	return hv_driver_set_memory(HV_RPC_DRIVER(c), UUID(args->dom), args->memory, args->flags,
	                            err);
}

HV_RPC_HANDLER(hv_rpc_domain_set_vcpus)
{
	remote_domain_set_vcpus_args *args = args_;

	return hv_driver_set_vcpus(HV_RPC_DRIVER(c), UUID(args->dom), args->nvcpus,
	                           VIR_DOMAIN_AFFECT_LIVE, err);
}

HV_RPC_HANDLER(hv_rpc_domain_set_vcpus_flags)
{
	remote_domain_set_vcpus_flags_args *args = args_;

	return hv_driver_set_vcpus(HV_RPC_DRIVER(c), UUID(args->dom), args->nvcpus, args->flags,
	                           err);
}

HV_RPC_HANDLER(hv_rpc_domain_get_vcpus_flags)
{
	remote_domain_flags_args *args = args_;
	remote_domain_int_ret *ret = ret_;
	int n = hv_driver_get_vcpus_count(HV_RPC_DRIVER(c), UUID(args->dom), args->flags, err);

	if (n < 0)
		return -1;
	ret->value = n;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_get_max_vcpus)
{
	remote_domain_args *args = args_;
	remote_domain_int_ret *ret = ret_;
	int n = hv_driver_get_vcpus_count(HV_RPC_DRIVER(c), UUID(args->dom),
	                                  VIR_DOMAIN_VCPU_MAXIMUM | VIR_DOMAIN_VCPU_LIVE, err);

	if (n < 0) {
		/* Inactive domain: its configured maximum. */
		g_clear_error(err);
		n = hv_driver_get_vcpus_count(HV_RPC_DRIVER(c), UUID(args->dom),
		                              VIR_DOMAIN_VCPU_MAXIMUM | VIR_DOMAIN_VCPU_CONFIG,
		                              err);
		if (n < 0)
			return -1;
	}
	ret->value = n;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_get_vcpus)
{
	remote_domain_get_vcpus_args *args = args_;
	remote_domain_get_vcpus_ret *ret = ret_;
	virVcpuInfoPtr info = NULL;
	int ninfo, npcpus;

	if (args->maxinfo < 1 || args->maxinfo > REMOTE_VCPUINFO_MAX)
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "maxinfo > REMOTE_VCPUINFO_MAX");
	if (args->maplen < 0 || (long long)args->maxinfo * args->maplen > REMOTE_CPUMAPS_MAX)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "maxinfo * maplen > REMOTE_CPUMAPS_MAX");
	if (hv_driver_get_vcpus(HV_RPC_DRIVER(c), UUID(args->dom), args->maxinfo, &info, &ninfo,
	                        &npcpus, err) < 0)
		return -1;
	ret->info.info_val = g_new0(remote_vcpu_info, ninfo + 1);
	ret->info.info_len = ninfo;
	for (int i = 0; i < ninfo; i++) {
		ret->info.info_val[i].number = info[i].number;
		ret->info.info_val[i].state = info[i].state;
		ret->info.info_val[i].cpu_time = info[i].cpuTime;
		ret->info.info_val[i].cpu = info[i].cpu;
	}
	/* libvirtd sends maxinfo * maplen map bytes; every vcpu may run on every pCPU. */
	ret->cpumaps.cpumaps_len = args->maxinfo * args->maplen;
	ret->cpumaps.cpumaps_val = g_new0(char, ret->cpumaps.cpumaps_len + 1);
	for (int v = 0; v < ninfo; v++)
		for (int p = 0; p < npcpus && p < args->maplen * 8; p++)
			VIR_USE_CPU((unsigned char *)ret->cpumaps.cpumaps_val + v * args->maplen,
			            p);
	g_free(info);
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_memory_stats)
{
	remote_domain_memory_stats_args *args = args_;
	remote_domain_memory_stats_ret *ret = ret_;
	virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
	int n;

	if (args->flags)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "unsupported flags (0x%x) in function virDomainMemoryStats",
		                    args->flags);
	if (args->maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX");
	n = hv_driver_memory_stats(HV_RPC_DRIVER(c), UUID(args->dom), stats,
	                           MIN(args->maxStats, VIR_DOMAIN_MEMORY_STAT_NR), err);
	if (n < 0)
		return -1;
	ret->stats.stats_val = g_new0(remote_domain_memory_stat, n + 1);
	ret->stats.stats_len = n;
	for (int i = 0; i < n; i++) {
		ret->stats.stats_val[i].tag = stats[i].tag;
		ret->stats.stats_val[i].val = stats[i].val;
	}
	return 0;
}

/* Managed save and snapshots do not exist on hv: the answer is always "none", for a domain
 * that exists. */
HV_RPC_HANDLER(hv_rpc_domain_zero)
{
	remote_domain_flags_args *args = args_;
	remote_domain_int_ret *ret = ret_;

	if (hv_driver_get_bool(HV_RPC_DRIVER(c), UUID(args->dom), HV_DOMAIN_IS_ACTIVE, err) < 0)
		return -1;
	ret->value = 0;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_list_all_snapshots)
{
	remote_domain_list_all_snapshots_args *args = args_;
	remote_domain_list_all_snapshots_ret *ret = ret_;

	if (hv_driver_get_bool(HV_RPC_DRIVER(c), UUID(args->dom), HV_DOMAIN_IS_ACTIVE, err) < 0)
		return -1;
	ret->ret = 0;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_get_security_label)
{
	remote_domain_args *args = args_;
	remote_domain_get_security_label_ret *ret = ret_;

	if (hv_driver_get_bool(HV_RPC_DRIVER(c), UUID(args->dom), HV_DOMAIN_IS_ACTIVE, err) < 0)
		return -1;
	ret->label.label_val = g_new0(char, 1);
	ret->label.label_len = 1;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_get_messages)
{
	remote_domain_flags_args *args = args_;

	if (hv_driver_get_bool(HV_RPC_DRIVER(c), UUID(args->dom), HV_DOMAIN_IS_ACTIVE, err) < 0)
		return -1;
	return 0; /* no messages */
}

HV_RPC_HANDLER(hv_rpc_domain_get_metadata)
{
	remote_domain_get_metadata_args *args = args_;
	remote_domain_string_ret *ret = ret_;

	ret->value = hv_driver_get_metadata(HV_RPC_DRIVER(c), UUID(args->dom), args->type,
	                                    args->uri ? *args->uri : NULL, args->flags, err);
	return ret->value ? 0 : -1;
}

HV_RPC_HANDLER(hv_rpc_domain_set_metadata)
{
	remote_domain_set_metadata_args *args = args_;

	return hv_driver_set_metadata(
	    HV_RPC_DRIVER(c), UUID(args->dom), args->type, args->metadata ? *args->metadata : NULL,
	    args->key ? *args->key : NULL, args->uri ? *args->uri : NULL, args->flags, err);
}

HV_RPC_HANDLER(hv_rpc_domain_block_stats)
{
	remote_domain_block_stats_args *args = args_;
	remote_domain_block_stats_ret *ret = ret_;
	hvBackendDiskStats st;

	if (hv_driver_block_stats(HV_RPC_DRIVER(c), UUID(args->dom), args->path, &st, err) < 0)
		return -1;
	ret->rd_req = (int64_t)st.rd_req;
	ret->rd_bytes = (int64_t)st.rd_bytes;
	ret->wr_req = (int64_t)st.wr_req;
	ret->wr_bytes = (int64_t)st.wr_bytes;
	ret->errs = (int64_t)st.errs;
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_interface_stats)
{
	remote_domain_interface_stats_args *args = args_;
	remote_domain_interface_stats_ret *ret = ret_;
	hvBackendNicStats st;

	if (hv_driver_interface_stats(HV_RPC_DRIVER(c), UUID(args->dom), args->path, &st, err) < 0)
		return -1;
	ret->rx_bytes = (int64_t)st.rx_bytes;
	ret->rx_packets = (int64_t)st.rx_packets;
	ret->rx_errs = 0; /* a frame is either moved or dropped (counted below) */
	ret->rx_drop = (int64_t)st.rx_drop;
	ret->tx_bytes = (int64_t)st.tx_bytes;
	ret->tx_packets = (int64_t)st.tx_packets;
	ret->tx_errs = 0;
	ret->tx_drop = (int64_t)st.tx_drop;
	return 0;
}
