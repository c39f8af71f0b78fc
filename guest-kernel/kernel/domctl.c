/*
 * The control calls of dom0 (see include/domctl.h): each fills a struct hv_domctl with the
 * interface version this kernel was built against and passes it to the platform's hypercall.
 * Results and OUT fields come back unchanged from hv.
 */
#include <domctl.h>
#include <klib/string.h>

static long call(uint32_t cmd, uint32_t domid, struct hv_domctl *op)
{
	op->interface_version = HV_DOMCTL_INTERFACE_VERSION;
	op->cmd = cmd;
	op->domain = domid;
	op->reserved = 0;
	return arch_domctl(op);
}

long domctl_forward(struct hv_domctl *op)
{
	return arch_domctl(op);
}

long dom_physinfo(struct hv_domctl_physinfo *out)
{
	struct hv_domctl op;
	long rc;

	memset(&op, 0, sizeof(op));
	rc = call(HV_DOMCTL_physinfo, 0, &op);
	if (rc == 0)
		*out = op.u.physinfo;
	return rc;
}

long dom_create(const char *name, uint64_t mem_kib, uint32_t vcpus, uint32_t *domid)
{
	struct hv_domctl op;
	long rc;

	memset(&op, 0, sizeof(op));
	strlcpy(op.u.create.name, name ? name : "", sizeof(op.u.create.name));
	op.u.create.max_vcpus = vcpus;
	op.u.create.max_mem_kib = mem_kib;
	op.u.create.current_mem_kib = mem_kib;
	rc = call(HV_DOMCTL_create, 0, &op);
	if (rc == 0)
		*domid = op.u.create.domid;
	return rc;
}

static long build(uint32_t cmd, uint32_t domid, uint32_t module, const void *image, uint64_t len,
                  const char *cmdline)
{
	struct hv_domctl op;

	memset(&op, 0, sizeof(op));
	op.u.build.module = module;
	op.u.build.image = (uint64_t)(uintptr_t)image;
	op.u.build.image_len = len;
	if (cmdline)
		strlcpy(op.u.build.cmdline, cmdline, sizeof(op.u.build.cmdline));
	return call(cmd, domid, &op);
}

long dom_build_module(uint32_t domid, uint32_t module, const char *cmdline)
{
	return build(HV_DOMCTL_build_module, domid, module, NULL, 0, cmdline);
}

long dom_build_buffer(uint32_t domid, const void *image, uint64_t len, const char *cmdline)
{
	return build(HV_DOMCTL_build_buffer, domid, 0, image, len, cmdline);
}

static long simple(uint32_t cmd, uint32_t domid)
{
	struct hv_domctl op;

	memset(&op, 0, sizeof(op));
	return call(cmd, domid, &op);
}

long dom_unpause(uint32_t domid)
{
	return simple(HV_DOMCTL_unpause, domid);
}

long dom_pause(uint32_t domid)
{
	return simple(HV_DOMCTL_pause, domid);
}

long dom_destroy(uint32_t domid)
{
	return simple(HV_DOMCTL_destroy, domid);
}

long dom_shutdown(uint32_t domid, uint32_t reason)
{
	struct hv_domctl op;

	memset(&op, 0, sizeof(op));
	op.u.shutdown.reason = reason;
	return call(HV_DOMCTL_shutdown, domid, &op);
}

long dom_info(uint32_t domid, struct hv_domctl_dominfo *out)
{
	struct hv_domctl op;
	long rc;

	memset(&op, 0, sizeof(op));
	rc = call(HV_DOMCTL_getinfo, domid, &op);
	if (rc == 0)
		*out = op.u.info;
	return rc;
}

long dom_list(uint32_t first, struct hv_domctl_dominfo *out, uint32_t max, uint32_t *count)
{
	struct hv_domctl op;
	long rc;

	memset(&op, 0, sizeof(op));
	op.u.list.first_domid = first;
	op.u.list.max_entries = max;
	op.u.list.buffer = (uint64_t)(uintptr_t)out;
	rc = call(HV_DOMCTL_list, 0, &op);
	*count = rc == 0 ? op.u.list.count : 0;
	return rc;
}

long dom_set_mem(uint32_t domid, uint32_t cmd, uint64_t kib)
{
	struct hv_domctl op;

	memset(&op, 0, sizeof(op));
	op.u.mem.kib = kib;
	return call(cmd, domid, &op);
}

long dom_sched_get(uint32_t domid, struct hv_domctl_sched *out)
{
	struct hv_domctl op;
	long rc;

	memset(&op, 0, sizeof(op));
	rc = call(HV_DOMCTL_sched_get, domid, &op);
	if (rc == 0)
		*out = op.u.sched;
	return rc;
}

long dom_sched_set(uint32_t domid, const struct hv_domctl_sched *in)
{
	struct hv_domctl op;

	memset(&op, 0, sizeof(op));
	op.u.sched = *in;
	return call(HV_DOMCTL_sched_set, domid, &op);
}

const char *dom_state_name(uint32_t state)
{
	static const char *const names[] = {"created",  "running", "paused",
	                                    "shutdown", "crashed", "dying"};

	return state < 6 ? names[state] : "unknown";
}
