/*
 * Handlers for typed-parameter procedures (scheduler, memory tuning, interface bandwidth,
 * per-CPU statistics) and bulk domain statistics, following the count-probe and STRING_OKAY
 * rules of libvirt-rpc.md 3.3 and 3.4.
 */
#include "rpc/remote_handlers.h"

#include <string.h>

#include "util/error.h"

#define UUID(d) ((const unsigned char *)(d).uuid)

/* Fills a reply with at most `max` params (the client refuses more than it asked for). */
static void params_reply(virTypedParameterPtr params, int n, int max, unsigned int flags,
                         remote_typed_param **out, u_int *outlen)
{
	hv_rpc_params_to_wire(params, MIN(n, max), (flags & VIR_TYPED_PARAM_STRING_OKAY) != 0, out,
	                      outlen);
	hv_typed_params_free(params, n);
}

HV_RPC_HANDLER(hv_rpc_domain_get_scheduler_type)
{
	remote_domain_args *args = args_;
	remote_domain_get_scheduler_type_ret *ret = ret_;

	ret->type = hv_driver_sched_type(HV_RPC_DRIVER(c), UUID(args->dom), &ret->nparams, err);
	return ret->type ? 0 : -1;
}

static int get_sched(hvRpcClient *c, remote_nonnull_domain *dom, int nparams, unsigned int flags,
                     remote_domain_get_scheduler_parameters_ret *ret, GError **err)
{
	virTypedParameterPtr params;
	int n;

	if (nparams < 0 || nparams > REMOTE_DOMAIN_SCHEDULER_PARAMETERS_MAX)
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "nparams too large");
	if (hv_driver_get_sched_params(HV_RPC_DRIVER(c), UUID(*dom), flags, &params, &n, err) < 0)
		return -1;
	params_reply(params, n, nparams, flags, &ret->params.params_val, &ret->params.params_len);
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_get_scheduler_parameters)
{
	remote_domain_get_scheduler_parameters_args *args = args_;

	return get_sched(c, &args->dom, args->nparams, 0, ret_, err);
}

HV_RPC_HANDLER(hv_rpc_domain_get_scheduler_parameters_flags)
{
	remote_domain_get_scheduler_parameters_flags_args *args = args_;

	return get_sched(c, &args->dom, args->nparams, args->flags, ret_, err);
}

static int set_params(hvRpcClient *c, remote_nonnull_domain *dom, const char *device,
                      remote_typed_param *wire, u_int nwire, unsigned int flags,
                      int (*set)(hvDriver *, const unsigned char *, virTypedParameterPtr, int,
                                 unsigned int, GError **),
                      GError **err)
{
	virTypedParameterPtr params;
	int rc;

	if (hv_rpc_params_from_wire(wire, nwire, &params, err) < 0)
		return -1;
	if (device)
		rc = hv_driver_set_interface_params(HV_RPC_DRIVER(c), UUID(*dom), device, params,
		                                    nwire, flags, err);
	else
		rc = set(HV_RPC_DRIVER(c), UUID(*dom), params, nwire, flags, err);
	hv_typed_params_free(params, nwire);
	return rc;
}

HV_RPC_HANDLER(hv_rpc_domain_set_scheduler_parameters)
{
	remote_domain_set_scheduler_parameters_args *args = args_;

	return set_params(c, &args->dom, NULL, args->params.params_val, args->params.params_len,
	                  VIR_DOMAIN_AFFECT_CURRENT, hv_driver_set_sched_params, err);
}

HV_RPC_HANDLER(hv_rpc_domain_set_scheduler_parameters_flags)
{
	remote_domain_set_scheduler_parameters_flags_args *args = args_;

	return set_params(c, &args->dom, NULL, args->params.params_val, args->params.params_len,
	                  args->flags, hv_driver_set_sched_params, err);
}

/* The two-call probe: nparams 0 asks for the count only (reference 3.3). ret is any *_ret of
 * the shape {params<16>; int nparams}: memory, interface and block I/O tuning share it. */
static void probe_reply(virTypedParameterPtr params, int n, int nparams, unsigned int flags,
                        remote_domain_get_params_ret *ret)
{
	if (nparams == 0) {
		ret->nparams = n;
		hv_typed_params_free(params, n);
		return;
	}
	params_reply(params, n, nparams, flags, &ret->params.params_val, &ret->params.params_len);
}

HV_RPC_HANDLER(hv_rpc_domain_get_memory_parameters)
{
	remote_domain_get_params_args *args = args_;
	virTypedParameterPtr params;
	int n;

	if (args->nparams < 0 || args->nparams > REMOTE_DOMAIN_MEMORY_PARAMETERS_MAX)
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "nparams too large");
	if (hv_driver_get_memory_params(HV_RPC_DRIVER(c), UUID(args->dom), args->flags, &params, &n,
	                                err) < 0)
		return -1;
	probe_reply(params, n, args->nparams, args->flags, ret_);
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_set_memory_parameters)
{
	remote_domain_set_params_args *args = args_;

	return set_params(c, &args->dom, NULL, args->params.params_val, args->params.params_len,
	                  args->flags, hv_driver_set_memory_params, err);
}

HV_RPC_HANDLER(hv_rpc_domain_get_interface_parameters)
{
	remote_domain_get_interface_parameters_args *args = args_;
	virTypedParameterPtr params;
	int n;

	if (args->nparams < 0 || args->nparams > REMOTE_DOMAIN_INTERFACE_PARAMETERS_MAX)
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "nparams too large");
	if (hv_driver_get_interface_params(HV_RPC_DRIVER(c), UUID(args->dom), args->device,
	                                   args->flags, &params, &n, err) < 0)
		return -1;
	probe_reply(params, n, args->nparams, args->flags, ret_);
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_set_interface_parameters)
{
	remote_domain_set_interface_parameters_args *args = args_;

	return set_params(c, &args->dom, args->device, args->params.params_val,
	                  args->params.params_len, args->flags, NULL, err);
}

HV_RPC_HANDLER(hv_rpc_domain_get_block_io_tune)
{
	remote_domain_get_block_io_tune_args *args = args_;
	virTypedParameterPtr params;
	int n;

	if (args->nparams < 0 || args->nparams > REMOTE_DOMAIN_BLOCK_IO_TUNE_PARAMETERS_MAX)
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "nparams too large");
	if (hv_driver_get_block_io_tune(HV_RPC_DRIVER(c), UUID(args->dom),
	                                args->disk ? *args->disk : NULL, args->flags, &params, &n,
	                                err) < 0)
		return -1;
	probe_reply(params, n, args->nparams, args->flags, ret_);
	return 0;
}

HV_RPC_HANDLER(hv_rpc_domain_set_block_io_tune)
{
	remote_domain_set_block_io_tune_args *args = args_;
	virTypedParameterPtr params;
	int rc;

	if (hv_rpc_params_from_wire(args->params.params_val, args->params.params_len, &params,
	                            err) < 0)
		return -1;
	rc = hv_driver_set_block_io_tune(HV_RPC_DRIVER(c), UUID(args->dom), args->disk, params,
	                                 args->params.params_len, args->flags, err);
	hv_typed_params_free(params, args->params.params_len);
	return rc;
}

HV_RPC_HANDLER(hv_rpc_domain_get_cpu_stats)
{
	remote_domain_get_cpu_stats_args *args = args_;
	remote_domain_get_cpu_stats_ret *ret = ret_;
	virTypedParameterPtr params;
	int per_cpu, ncpus;

	/* STRING_OKAY is only a promise about the reply: the stats have no strings. */
	if (args->flags & ~VIR_TYPED_PARAM_STRING_OKAY)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "unsupported flags (0x%x) in function virDomainGetCPUStats",
		                    args->flags & ~VIR_TYPED_PARAM_STRING_OKAY);
	if (args->nparams > REMOTE_DOMAIN_GET_CPU_STATS_MAX || args->ncpus > 128 ||
	    (unsigned long long)args->nparams * args->ncpus > REMOTE_DOMAIN_GET_CPU_STATS_MAX)
		return hv_error_set(err, VIR_ERR_RPC, "nparams * ncpus exceeds the maximum");
	if (hv_driver_get_cpu_stats(HV_RPC_DRIVER(c), UUID(args->dom), args->start_cpu, args->ncpus,
	                            &params, &per_cpu, &ncpus, err) < 0)
		return -1;
	if (args->nparams == 0) {
		/* Probe: per-cpu parameter count, or the number of CPUs when ncpus is 0. */
		ret->nparams = args->ncpus == 0 ? ncpus : per_cpu;
		hv_typed_params_free(params, args->ncpus == 0 ? 0 : per_cpu * ncpus);
		return 0;
	}
	/* Wire layout: `take` params for each returned cpu, back to back. */
	int take = MIN(per_cpu, (int)args->nparams);
	ret->params.params_val = g_new0(remote_typed_param, take * ncpus + 1);
	for (int cpu = 0; cpu < ncpus; cpu++) {
		remote_typed_param *w;
		u_int wn;
		hv_rpc_params_to_wire(params + cpu * per_cpu, take, FALSE, &w, &wn);
		memcpy(ret->params.params_val + cpu * take, w, wn * sizeof(*w));
		g_free(w);
	}
	ret->params.params_len = take * ncpus;
	ret->nparams = take;
	hv_typed_params_free(params, per_cpu * ncpus);
	return 0;
}

HV_RPC_HANDLER(hv_rpc_connect_get_all_domain_stats)
{
	remote_connect_get_all_domain_stats_args *args = args_;
	remote_connect_get_all_domain_stats_ret *ret = ret_;
	typedef unsigned char uuid_t16[16];
	g_autofree uuid_t16 *uuids = NULL;
	g_autoptr(GPtrArray) recs = NULL;

	if (args->doms.doms_len) {
		uuids = g_new(uuid_t16, args->doms.doms_len);
		for (u_int i = 0; i < args->doms.doms_len; i++)
			memcpy(uuids[i], args->doms.doms_val[i].uuid, 16);
	}
	recs = hv_driver_get_all_stats(HV_RPC_DRIVER(c), (const unsigned char(*)[16])uuids,
	                               args->doms.doms_len, args->stats, args->flags, err);
	if (!recs)
		return -1;
	ret->retStats.retStats_val = g_new0(remote_domain_stats_record, recs->len + 1);
	ret->retStats.retStats_len = recs->len;
	for (guint i = 0; i < recs->len; i++) {
		hvDomainStatsRecord *r = recs->pdata[i];
		remote_domain_stats_record *w = &ret->retStats.retStats_val[i];
		hv_rpc_make_dom(&w->dom, &r->dom);
		/* Records carry strings regardless of STRING_OKAY (reference 3.4). */
		hv_rpc_params_to_wire(r->params,
		                      MIN(r->nparams, REMOTE_CONNECT_GET_ALL_DOMAIN_STATS_MAX),
		                      TRUE, &w->params.params_val, &w->params.params_len);
	}
	return 0;
}
