/*
 * The real machine: backend.h over libhvctl (the control interface of hv, through dom0's agent
 * and the management link).
 *
 * The machine lives in a holder process of its own, `hv-machine start --detach` (libhvctl's
 * machine starter: QEMU with hv, dom0 = guest-kernel with `agent`, the link and its control
 * relay), and virthvd talks to it through the relay socket <machine_dir>/hvctl.sock. Why not
 * in virthvd itself: the link and the relay live in the process that started the machine, so a
 * virthvd killed with SIGKILL would take the machine and every running domain with it. With a
 * holder, a restarted virthvd finds the machine still running, opens the relay again and finds
 * its domains by UUID (hb_find). On a clean exit virthvd stops the machine it
 * manages (`hv-machine stop`), so nothing is left running; with machine=attach it only
 * detaches from a machine someone else started.
 *
 * Invariants: every libhvctl call here is bounded by the handle's timeout (they are short:
 * a domain build with a 1 MiB kernel takes ~150 ms under TCG) and is made under be->lock: the
 * driver's calls from its worker threads, the console timers and event delivery from the main
 * loop, which only trylock it and come back later when a call holds it (so the handle's
 * timeout, which the console reads change, and the tables here are never used by two threads
 * at once); events arrive on libhvctl's thread and are handed to the main loop before the
 * driver's event thread sees them. What hv or the agent does not implement (-ENOSYS) is reported as
 * VIR_ERR_OPERATION_UNSUPPORTED, never faked.
 */
#include "driver/backend.h"
#include "driver/backend_hvctl_dev.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "hvctl-machine.h"
#include "hvctl.h"
#include "util/error.h"

#define CALL_TIMEOUT_MS  15000u
#define PROBE_TIMEOUT_MS 3000u
#define STOP_TIMEOUT_S   30

typedef struct {
	hvBackend base;
	hvctl *h;
	char *machine_dir;
	char *tool;           /* hv-machine, to stop the machine we manage */
	gboolean owned;       /* stop the machine when virthvd exits */
	GHashTable *ifaces;   /* domid -> GPtrArray of interface MACs (bandwidth index) */
	GHashTable *disks;    /* domid -> GPtrArray of disk targets */
	GHashTable *consoles; /* domid -> ConsoleKeeper (the console section below) */
	gint alive;           /* cleared at free: late events are dropped */
	GAsyncQueue *events;  /* PendingEvent from libhvctl's thread, for the main loop */
} HvctlBackend;

static HvctlBackend *HB(hvBackend *be)
{
	return (HvctlBackend *)be;
}

/* One failed libhvctl call as a libvirt error, with hv's own words. */
static int fail(GError **err, int rc, const char *what)
{
	const hvctl_error *e = hvctl_last_error();
	const char *msg = e->code == rc && e->message[0] ? e->message : hvctl_strerror(rc);
	virErrorNumber code;

	switch (rc) {
	case HVCTL_ERR_INVALID:
		code = VIR_ERR_INVALID_ARG;
		break;
	case HVCTL_ERR_NO_DOMAIN:
		code = VIR_ERR_NO_DOMAIN;
		break;
	case HVCTL_ERR_PERMISSION:
		code = VIR_ERR_OPERATION_DENIED;
		break;
	case HVCTL_ERR_NO_RESOURCES:
	case HVCTL_ERR_EXISTS:
		code = VIR_ERR_OPERATION_INVALID;
		break;
	case HVCTL_ERR_UNSUPPORTED:
		code = VIR_ERR_OPERATION_UNSUPPORTED;
		break;
	case HVCTL_ERR_TIMEOUT:
		code = VIR_ERR_OPERATION_TIMEOUT;
		break;
	default:
		code = VIR_ERR_OPERATION_FAILED;
		break;
	}
	return hv_error_set(err, code, "%s: %s", what, msg);
}

/* ---- node ---- */

static int hb_node_info(hvBackend *be, virNodeInfo *info, GError **err)
{
	hvctl_physinfo pi;
	int rc = hvctl_physinfo_get(HB(be)->h, &pi);

	if (rc)
		return fail(err, rc, "cannot read the machine's physical information");
	memset(info, 0, sizeof(*info));
	g_strlcpy(info->model, "x86_64", sizeof(info->model));
	info->memory = pi.total_kib;
	info->cpus = pi.nr_cpus;
	info->mhz = pi.cpu_khz / 1000;
	info->nodes = 1;
	info->sockets = 1;
	info->cores = pi.nr_cpus;
	info->threads = 1;
	return 0;
}

static unsigned long long hb_free_memory_kib(hvBackend *be)
{
	hvctl_physinfo pi;

	return hvctl_physinfo_get(HB(be)->h, &pi) ? 0 : pi.free_kib;
}

/* ---- domains ---- */

static GPtrArray *strings(void)
{
	return g_ptr_array_new_with_free_func(g_free);
}

/* Remembers a domain's interfaces (hv names them by position: devid 0, 1, ...) and disks
 * (by Xen's number of their target). */
static void remember_devices(HvctlBackend *hb, int domid, const hvDomainDef *def)
{
	GPtrArray *macs = strings(), *targets = strings();

	for (guint i = 0; i < def->interfaces->len; i++) {
		hvInterfaceDef *iface = def->interfaces->pdata[i];
		g_ptr_array_add(macs, g_strdup(iface->mac ? iface->mac : ""));
	}
	for (guint i = 0; i < def->disks->len; i++) {
		hvDiskDef *disk = def->disks->pdata[i];
		g_ptr_array_add(targets, g_strdup(disk->target_dev ? disk->target_dev : ""));
	}
	g_hash_table_replace(hb->ifaces, GINT_TO_POINTER(domid), macs);
	g_hash_table_replace(hb->disks, GINT_TO_POINTER(domid), targets);
}

static void forget_devices(HvctlBackend *hb, int domid)
{
	g_hash_table_remove(hb->ifaces, GINT_TO_POINTER(domid));
	g_hash_table_remove(hb->disks, GINT_TO_POINTER(domid));
}

/* The console section (below): keep a domain's console, stop keeping it, all of them. */
static void console_keep(HvctlBackend *hb, int domid, const char *name);
static void keeper_stop(HvctlBackend *hb, int domid);
static void consoles_free(HvctlBackend *hb);

static int hb_create(hvBackend *be, hvDomainDef *def, gboolean paused, int *domid, GError **err)
{
	HvctlBackend *hb = HB(be);
	hvctl_domain_create_args ca = {0};
	hvctl_build_args ba = {0};
	g_autofree char *kernel = NULL, *initrd = NULL;
	gsize kernel_len = 0, initrd_len = 0;
	g_autoptr(GError) e = NULL;
	uint32_t id;
	int rc;

	if (!def->kernel)
		return hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
		                    "domain '%s' has no <os><kernel>: hv boots PV kernels directly "
		                    "and needs one",
		                    def->name);
	/* virthvd reads the images and sends them over the link: hv never opens host files. */
	if (!g_file_get_contents(def->kernel, &kernel, &kernel_len, &e))
		return hv_error_set(err, VIR_ERR_OPERATION_FAILED,
		                    "cannot read the kernel of '%s': %s", def->name, e->message);
	if (def->initrd && !g_file_get_contents(def->initrd, &initrd, &initrd_len, &e))
		return hv_error_set(err, VIR_ERR_OPERATION_FAILED,
		                    "cannot read the initrd of '%s': %s", def->name, e->message);

	memcpy(ca.uuid, def->uuid, 16);
	ca.max_vcpus = def->vcpus ? def->vcpus : 1;
	ca.max_mem_kib = def->memory_kib;
	ca.current_mem_kib = def->current_memory_kib ? def->current_memory_kib : def->memory_kib;
	ca.guarantee_kib = def->min_guarantee_kib;
	ca.weight = def->weight;
	ca.cap = def->cap;
	ca.reservation = def->reservation;
	if ((rc = hvctl_domain_create(hb->h, &ca, &id))) {
		g_autofree char *what = g_strdup_printf("cannot create domain '%s'", def->name);
		if (rc == HVCTL_ERR_NO_RESOURCES && def->reservation)
			return hv_error_set(
			    err, VIR_ERR_OPERATION_INVALID,
			    "cannot create domain '%s': its reservation of %u%% per "
			    "vcpu does not fit beside those already admitted",
			    def->name, def->reservation);
		return fail(err, rc, what);
	}

	ba.kernel = kernel;
	ba.kernel_len = kernel_len;
	ba.ramdisk = initrd;
	ba.ramdisk_len = initrd_len;
	ba.cmdline = def->cmdline;
	if ((rc = hvctl_domain_build(hb->h, id, &ba)) == 0 &&
	    hv_hvctl_add_devices(hb->h, id, def, err) < 0) {
		hvctl_domain_destroy(hb->h, id); /* and the holder lets go of its backing */
		return -1;
	}
	if (rc || (!paused && (rc = hvctl_domain_unpause(hb->h, id)))) {
		g_autofree char *what = g_strdup_printf(
		    "cannot build and start domain '%s' (hv domain %u, destroyed)", def->name, id);
		fail(err, rc, what);
		hvctl_domain_destroy(hb->h, id);
		return -1;
	}
	remember_devices(hb, id, def);
	console_keep(hb, (int)id, def->name);
	*domid = id;
	return 0;
}

/* The libvirt domain name is not known to hv: errors name the domid. */
#define SIMPLE_OP(fn, call, what)                                                                  \
	static int fn(hvBackend *be, int domid, GError **err)                                      \
	{                                                                                          \
		int rc = call(HB(be)->h, domid);                                                   \
		if (rc) {                                                                          \
			g_autofree char *w = g_strdup_printf(what " (hv domain %d)", domid);       \
			return fail(err, rc, w);                                                   \
		}                                                                                  \
		return 0;                                                                          \
	}

SIMPLE_OP(hb_pause, hvctl_domain_pause, "cannot pause the domain")
SIMPLE_OP(hb_unpause, hvctl_domain_unpause, "cannot resume the domain")

static int hb_destroy(hvBackend *be, int domid, GError **err)
{
	int rc;

	keeper_stop(HB(be), domid);
	rc = hvctl_domain_destroy(HB(be)->h, domid);

	forget_devices(HB(be), domid);
	if (rc) {
		g_autofree char *w = g_strdup_printf("cannot destroy hv domain %d", domid);
		return fail(err, rc, w);
	}
	return 0;
}

static int hb_shutdown(hvBackend *be, int domid, GError **err)
{
	int rc = hvctl_domain_shutdown(HB(be)->h, domid, HVCTL_SHUTDOWN_POWEROFF);

	if (rc) {
		g_autofree char *w = g_strdup_printf("cannot shut down hv domain %d", domid);
		return fail(err, rc, w);
	}
	return 0;
}

static int hb_reboot(hvBackend *be, int domid, gboolean hard, GError **err)
{
	int rc;

	if (hard)
		return hv_error_set(err, VIR_ERR_OPERATION_UNSUPPORTED,
		                    "hv cannot reset a domain in place (hv domain %d); destroy and "
		                    "start it instead",
		                    domid);
	if ((rc = hvctl_domain_shutdown(HB(be)->h, domid, HVCTL_SHUTDOWN_REBOOT))) {
		g_autofree char *w = g_strdup_printf("cannot ask hv domain %d to reboot", domid);
		return fail(err, rc, w);
	}
	return 0;
}

/*
 * Online vcpus of a live domain. hv counts a vcpu's "online" flag, which its scheduler
 * (sched=resv) does not keep for domUs today (it reads 0 while the domain runs); vcpu 0 of a
 * running or paused PV domain is up by construction (the builder starts it), so a live
 * domain has at least one.
 */
static unsigned int online_vcpus(const hvctl_domain_info *di)
{
	gboolean live = di->state == HVCTL_DOMAIN_RUNNING || di->state == HVCTL_DOMAIN_PAUSED;

	return live && di->nr_vcpus == 0 ? 1 : di->nr_vcpus;
}

static int hb_info(hvBackend *be, int domid, hvBackendDomInfo *info, GError **err)
{
	hvctl_domain_info di;
	int rc = hvctl_domain_info_get(HB(be)->h, domid, &di);

	if (rc) {
		g_autofree char *w = g_strdup_printf("cannot read hv domain %d", domid);
		return fail(err, rc, w);
	}
	info->paused = di.state == HVCTL_DOMAIN_PAUSED || di.state == HVCTL_DOMAIN_CREATED;
	info->cpu_time_ns = di.cpu_time_ns;
	info->mem_kib = di.current_mem_kib;
	info->max_mem_kib = di.max_mem_kib;
	info->vcpus = online_vcpus(&di);
	return 0;
}

static int hb_vcpu_info(hvBackend *be, int domid, unsigned int vcpu, hvBackendVcpuInfo *info,
                        GError **err)
{
	hvctl_domain_info di;
	int rc = hvctl_domain_info_get(HB(be)->h, domid, &di);

	if (rc) {
		g_autofree char *w = g_strdup_printf("cannot read hv domain %d", domid);
		return fail(err, rc, w);
	}
	if (vcpu >= di.max_vcpus)
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "vcpu %u out of range", vcpu);
	/* hv reports CPU time per domain, not per vcpu, and not where a vcpu runs: the time is
	 * shared out evenly and the pCPU is unknown (-1), rather than invented. */
	info->state = vcpu >= online_vcpus(&di)          ? VIR_VCPU_OFFLINE
	              : di.state == HVCTL_DOMAIN_RUNNING ? VIR_VCPU_RUNNING
	                                                 : VIR_VCPU_BLOCKED;
	info->pcpu = -1;
	info->cpu_time_ns = online_vcpus(&di) ? di.cpu_time_ns / online_vcpus(&di) : 0;
	return 0;
}

static int hb_set_memory(hvBackend *be, int domid, unsigned long long kib, GError **err)
{
	int rc = hvctl_domain_set_current_mem(HB(be)->h, domid, kib);

	if (rc) {
		g_autofree char *w = g_strdup_printf(
		    "cannot set the memory of hv domain %d to %llu KiB", domid, kib);
		return fail(err, rc, w);
	}
	return 0;
}

static int hb_set_guarantee(hvBackend *be, int domid, unsigned long long kib, GError **err)
{
	int rc = hvctl_domain_set_mem_guarantee(HB(be)->h, domid, kib);

	if (rc) {
		g_autofree char *w = g_strdup_printf(
		    "cannot set the memory guarantee of hv domain %d to %llu KiB", domid, kib);
		return fail(err, rc, w);
	}
	return 0;
}

static int hb_set_vcpus(hvBackend *be, int domid, unsigned int n, GError **err)
{
	int rc = hvctl_domain_set_vcpus(HB(be)->h, domid, n);

	if (rc) {
		g_autofree char *w =
		    g_strdup_printf("cannot set %u online vcpus in hv domain %d", n, domid);
		return fail(err, rc, w);
	}
	return 0;
}

static int hb_set_sched(hvBackend *be, int domid, const hvSchedParams *p, GError **err)
{
	hvctl_sched_params sp = {p->weight, p->cap, p->reservation};
	int rc = hvctl_sched_set(HB(be)->h, domid, &sp);

	if (rc == HVCTL_ERR_NO_RESOURCES)
		return hv_error_set(
		    err, VIR_ERR_OPERATION_INVALID,
		    "a reservation of %u%% for each vcpu of hv domain %d does not fit: "
		    "hv admits reservations only while those on each physical CPU "
		    "fit in it (hv's console names the figures)",
		    p->reservation, domid);
	if (rc) {
		g_autofree char *w = g_strdup_printf(
		    "cannot set weight %u, cap %u%%, reservation %u%% on hv domain %d", p->weight,
		    p->cap, p->reservation, domid);
		return fail(err, rc, w);
	}
	return 0;
}

static int index_of(GHashTable *t, int domid, const char *key)
{
	GPtrArray *a = g_hash_table_lookup(t, GINT_TO_POINTER(domid));

	for (guint i = 0; a && i < a->len; i++)
		if (!g_strcmp0(a->pdata[i], key ? key : ""))
			return i;
	return -1;
}

static int set_bw(HvctlBackend *hb, int domid, const hvctl_bandwidth *bw, const char *what,
                  GError **err)
{
	int rc = hvctl_bandwidth_set(hb->h, domid, bw);

	if (rc) {
		/* hv enforces bandwidth where the data moves, in dom0's back ends (blkback,
		 * netback's switch); a dom0 without them answers -ENOSYS, and we say so. */
		g_autofree char *w =
		    g_strdup_printf("cannot set the %s limits of hv domain %d", what, domid);
		return fail(err, rc, w);
	}
	return 0;
}

static int hb_set_bandwidth(hvBackend *be, int domid, const hvInterfaceDef *iface, GError **err)
{
	HvctlBackend *hb = HB(be);
	int index = index_of(hb->ifaces, domid, iface->mac);
	hvctl_bandwidth in = {
	    HVCTL_BW_NET_IN, 0, iface->in_average, iface->in_peak, iface->in_burst,
	    iface->in_floor, 0};
	hvctl_bandwidth out = {
	    HVCTL_BW_NET_OUT, 0, iface->out_average, iface->out_peak, iface->out_burst, 0, 0};
	gboolean any_in = in.average || in.peak || in.burst || in.floor;
	gboolean any_out = out.average || out.peak || out.burst;

	if (!any_in && !any_out)
		return 0; /* no limits asked for: nothing to enforce */
	if (index < 0)
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "hv domain %d has no interface %s",
		                    domid, iface->mac ? iface->mac : "(without MAC)");
	in.index = out.index = index;
	if (any_in && set_bw(hb, domid, &in, "inbound network", err) < 0)
		return -1;
	if (any_out && set_bw(hb, domid, &out, "outbound network", err) < 0)
		return -1;
	return 0;
}

static int hb_set_iotune(hvBackend *be, int domid, const hvDiskDef *disk, GError **err)
{
	HvctlBackend *hb = HB(be);
	int index = index_of(hb->disks, domid, disk->target_dev);
	/* KiB/s on the link: a limit below 1 KiB/s is 1 KiB/s, not "unlimited". */
	hvctl_bandwidth bw = {
	    HVCTL_BW_BLOCK,      0, (disk->total_bytes_sec + 1023) / 1024, 0, 0, 0,
	    disk->total_iops_sec};

	if (!disk->total_bytes_sec && !disk->read_bytes_sec && !disk->write_bytes_sec &&
	    !disk->total_iops_sec && !disk->read_iops_sec && !disk->write_iops_sec)
		return 0;
	if (disk->read_bytes_sec || disk->write_bytes_sec || disk->read_iops_sec ||
	    disk->write_iops_sec)
		return hv_error_set(
		    err, VIR_ERR_CONFIG_UNSUPPORTED,
		    "hv limits a disk's total bytes and operations per second only, "
		    "not reads and writes separately");
	if (index < 0)
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "hv domain %d has no disk %s", domid,
		                    disk->target_dev ? disk->target_dev : "(without target)");
	if ((index = hv_hvctl_disk_devid(disk, err)) < 0)
		return -1;
	bw.index = (unsigned)index; /* the disk's devid, as DEVICE_ADD named it */
	return set_bw(hb, domid, &bw, "disk I/O", err);
}

/*
 * A domain's console. dom0's console back end keeps each domU's output in a bounded log that
 * the host reads from its own cursor (hvctl_console_read). virthvd is that one reader: a
 * keeper per running domain polls it (every CONSOLE_POLL_MS while a session is open, less
 * often without one), appends what comes to the domain's log file
 * <machine_dir>/console/<name>.log (the domain XML has no <log> element; the file is cut to
 * its second half past CONSOLE_LOG_MAX), and passes it to the open session, if any. A new session
 * starts with the last CONSOLE_TAIL bytes (the shell's prompt, say), as a terminal that stayed
 * attached would show them. Input goes into the domU's input ring (hvctl_console_write), which may
 * take part of it at a time.
 */
#define CONSOLE_POLL_MS    50
#define CONSOLE_LOG_MAX    (1024 * 1024)
#define CONSOLE_TAIL       2048
#define CONSOLE_CALL_MS    1000 /* a console read may not hold the main loop for longer */
#define CONSOLE_BACKOFF    20   /* ticks skipped after a read timed out (a machine in trouble) */
#define CONSOLE_IDLE_EVERY 5    /* without a session, read at every 5th tick (250 ms) */

typedef struct {
	HvctlBackend *hb;
	int domid;
	char *log_path;            /* NULL: no file (a domain we did not create or find) */
	guint timer;               /* 0 once the console is gone */
	hvBackendConsole *session; /* the open session, if any */
	char tail[CONSOLE_TAIL];   /* the last bytes logged: a new session starts with them */
	unsigned skip;             /* ticks to let pass before reading again */
	unsigned ticks;
	size_t tail_len;
} ConsoleKeeper;

struct hvBackendConsole {
	ConsoleKeeper
	    *keeper; /* NULL once the keeper went (the session then only waits for close) */
	hvBackendConsoleFn out;
	void *opaque;
};

static void console_log(ConsoleKeeper *k, const char *buf, size_t len)
{
	FILE *f;
	long size;

	if (!k->log_path || !(f = fopen(k->log_path, "a")))
		return;
	fwrite(buf, 1, len, f);
	size = ftell(f);
	fclose(f);
	if (size > CONSOLE_LOG_MAX) { /* keep the newer half */
		g_autofree char *all = NULL;
		gsize n = 0;

		if (g_file_get_contents(k->log_path, &all, &n, NULL) && n > CONSOLE_LOG_MAX / 2)
			g_file_set_contents(k->log_path, all + n - CONSOLE_LOG_MAX / 2,
			                    CONSOLE_LOG_MAX / 2, NULL);
	}
}

static void keep_tail(ConsoleKeeper *k, const char *buf, size_t len)
{
	if (len >= sizeof(k->tail)) {
		memcpy(k->tail, buf + len - sizeof(k->tail), sizeof(k->tail));
		k->tail_len = sizeof(k->tail);
		return;
	}
	if (k->tail_len + len > sizeof(k->tail)) {
		size_t drop = k->tail_len + len - sizeof(k->tail);

		memmove(k->tail, k->tail + drop, k->tail_len - drop);
		k->tail_len -= drop;
	}
	memcpy(k->tail + k->tail_len, buf, len);
	k->tail_len += len;
}

/* The console went away: the session (if any) is told EOF; its owner closes it later. */
static void keeper_gone(ConsoleKeeper *k)
{
	hvBackendConsole *s = k->session;

	if (k->timer)
		g_source_remove(k->timer);
	k->timer = 0;
	k->session = NULL;
	if (s) {
		s->keeper = NULL;
		s->out(NULL, 0, s->opaque);
	}
}

/* Reads what dom0 kept. FALSE once the console is gone. */
static gboolean keeper_drain(ConsoleKeeper *k)
{
	for (int round = 0; round < 16; round++) {
		char buf[4096];
		size_t got = 0;
		int rc;

		hvctl_set_timeout(k->hb->h, CONSOLE_CALL_MS);
		rc = hvctl_console_read(k->hb->h, (uint32_t)k->domid, buf, sizeof(buf), &got);
		hvctl_set_timeout(k->hb->h, CALL_TIMEOUT_MS);
		if (rc == HVCTL_ERR_TIMEOUT || rc == HVCTL_ERR_BUSY) {
			k->skip = CONSOLE_BACKOFF; /* again later: the other calls go first */
			return TRUE;
		}
		if (rc != HVCTL_OK)
			return FALSE;
		if (got == 0)
			break;
		console_log(k, buf, got);
		keep_tail(k, buf, got);
		if (k->session)
			k->session->out(buf, got, k->session->opaque);
	}
	return TRUE;
}

static gboolean keeper_tick_locked(ConsoleKeeper *k)
{
	if (k->skip) {
		k->skip--;
		return G_SOURCE_CONTINUE;
	}
	if (!k->session && ++k->ticks % CONSOLE_IDLE_EVERY)
		return G_SOURCE_CONTINUE; /* only the log file waits: read less often */
	if (keeper_drain(k))
		return G_SOURCE_CONTINUE;
	k->timer = 0; /* this source ends by returning REMOVE */
	keeper_gone(k);
	return G_SOURCE_REMOVE;
}

/* The timer's own data (freed with the source), so that a keeper freed by another thread is
 * never touched: the keeper is looked up under the lock. */
typedef struct {
	HvctlBackend *hb;
	int domid;
} KeeperTimer;

static gboolean keeper_tick(gpointer data)
{
	KeeperTimer *t = data;
	HvctlBackend *hb = t->hb;
	ConsoleKeeper *k;
	gboolean go_on = G_SOURCE_REMOVE;

	if (!g_rec_mutex_trylock(&hb->base.lock))
		return G_SOURCE_CONTINUE; /* a call is running: skip this tick */
	k = hb->consoles ? g_hash_table_lookup(hb->consoles, GINT_TO_POINTER(t->domid)) : NULL;
	if (k && k->timer == g_source_get_id(g_main_current_source()))
		go_on = keeper_tick_locked(k);
	g_rec_mutex_unlock(&hb->base.lock);
	return go_on;
}

static void keeper_free(gpointer data)
{
	ConsoleKeeper *k = data;

	keeper_gone(k);
	g_free(k->log_path);
	g_free(k);
}

/* Starts keeping domid's console (replacing an older keeper of the same id). */
static ConsoleKeeper *keeper_start(HvctlBackend *hb, int domid, const char *name)
{
	ConsoleKeeper *k = g_new0(ConsoleKeeper, 1);

	k->hb = hb;
	k->domid = domid;
	if (name) {
		g_autofree char *dir = g_build_filename(hb->machine_dir, "console", NULL);

		if (g_mkdir_with_parents(dir, 0700) == 0) {
			g_autofree char *file = g_strdup_printf("%s.log", name);
			k->log_path = g_build_filename(dir, file, NULL);
		}
	}
	KeeperTimer *t = g_new(KeeperTimer, 1);
	t->hb = hb;
	t->domid = domid;
	k->timer = g_timeout_add_full(G_PRIORITY_DEFAULT, CONSOLE_POLL_MS, keeper_tick, t, g_free);
	g_hash_table_replace(hb->consoles, GINT_TO_POINTER(domid), k);
	return k;
}

/* Before destroy: what the domain wrote last still reaches the log and the session. */
static void keeper_stop(HvctlBackend *hb, int domid)
{
	ConsoleKeeper *k = g_hash_table_lookup(hb->consoles, GINT_TO_POINTER(domid));

	if (k && k->timer)
		keeper_drain(k);
	g_hash_table_remove(hb->consoles, GINT_TO_POINTER(domid));
}

static void console_keep(HvctlBackend *hb, int domid, const char *name)
{
	keeper_start(hb, domid, name);
}

/* virthvd is going: sessions are left to the driver (no callbacks now), timers end. */
static void consoles_free(HvctlBackend *hb)
{
	GHashTableIter it;
	gpointer key, value;

	if (!hb->consoles)
		return;
	g_hash_table_iter_init(&it, hb->consoles);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		ConsoleKeeper *k = value;

		if (k->session)
			k->session->keeper = NULL;
		k->session = NULL;
	}
	g_hash_table_unref(hb->consoles);
	hb->consoles = NULL;
}

static hvBackendConsole *hb_console_open(hvBackend *be, int domid, hvBackendConsoleFn out,
                                         void *opaque, GError **err)
{
	HvctlBackend *hb = HB(be);
	ConsoleKeeper *k = g_hash_table_lookup(hb->consoles, GINT_TO_POINTER(domid));
	hvBackendConsole *con;
	size_t got = 0;
	char probe;
	int rc;

	/* A read of nothing asks the agent whether the domain has a console at all. */
	rc = hvctl_console_read(hb->h, (uint32_t)domid, &probe, 0, &got);
	if (rc != HVCTL_OK) {
		fail(err, rc, "cannot open the domain's console");
		return NULL;
	}
	if (!k || !k->timer)
		k = keeper_start(hb, domid, NULL);
	if (k->session) { /* the driver allows one session: the old one ends */
		hvBackendConsole *old = k->session;

		k->session = NULL;
		old->keeper = NULL;
		old->out(NULL, 0, old->opaque);
	}
	con = g_new0(hvBackendConsole, 1);
	con->keeper = k;
	con->out = out;
	con->opaque = opaque;
	/* What the domain wrote lately (its prompt, say) first, then what comes. */
	keeper_drain(k);
	k->session = con;
	if (k->tail_len)
		out(k->tail, k->tail_len, opaque);
	return con;
}

static void hb_console_write(hvBackendConsole *con, const void *data, size_t len)
{
	size_t done = 0;

	if (!con->keeper)
		return;
	/* The input ring holds 1 KiB: what does not fit now goes in as the guest reads. */
	for (int tries = 0; done < len && tries < 100; tries++) {
		size_t w = 0;

		if (hvctl_console_write(con->keeper->hb->h, (uint32_t)con->keeper->domid,
		                        (const char *)data + done, len - done, &w) != HVCTL_OK)
			return; /* the domain is going: the next read says so */
		done += w;
		if (done < len)
			g_usleep(10000);
	}
}

static void hb_console_close(hvBackendConsole *con)
{
	if (con->keeper && con->keeper->session == con)
		con->keeper->session = NULL;
	g_free(con);
}

/* ---- events: libhvctl's thread -> the main loop ---- */

typedef struct {
	HvctlBackend *hb;
	hvctl_event ev;
} PendingEvent;

static gboolean deliver_event_locked(PendingEvent *p);

/* Main loop: hands the queued events over, in the order they came, under the lock; when a
 * call holds it, again a millisecond later (the main loop never waits for a call). */
static gboolean deliver_events(gpointer data)
{
	HvctlBackend *hb = data;
	PendingEvent *p;

	if (!g_atomic_int_get(&hb->alive))
		return G_SOURCE_REMOVE;
	if (!g_rec_mutex_trylock(&hb->base.lock))
		return G_SOURCE_CONTINUE;
	while ((p = g_async_queue_try_pop(hb->events))) {
		deliver_event_locked(p);
		g_free(p);
	}
	g_rec_mutex_unlock(&hb->base.lock);
	return G_SOURCE_REMOVE;
}

static gboolean deliver_event_locked(PendingEvent *p)
{
	HvctlBackend *hb = p->hb;
	const hvctl_event *ev = &p->ev;

	if (!hb->base.event_fn)
		return G_SOURCE_REMOVE;
	if (ev->kind == HVCTL_EVENT_LINK_DOWN) {
		g_autoptr(GList) ids = g_hash_table_get_keys(hb->ifaces);
		g_warning("the machine's link went down: %s", ev->message);
		/* The relay lives in the machine's holder, and QEMU dies with it: the machine is
		 * gone, and every domain on it. */
		for (GList *l = ids; l; l = l->next)
			hb->base.event_fn(GPOINTER_TO_INT(l->data), HV_BACKEND_LOST,
			                  hb->base.event_opaque);
		return G_SOURCE_REMOVE;
	}
	if (ev->kind != HVCTL_EVENT_DOMAIN_STATE)
		return G_SOURCE_REMOVE;
	if (ev->state == HVCTL_DOMAIN_SHUTDOWN) {
		switch (ev->shutdown_reason) {
		case HVCTL_SHUTDOWN_REBOOT:
			hb->base.event_fn(ev->domid, HV_BACKEND_REBOOT, hb->base.event_opaque);
			break;
		case HVCTL_SHUTDOWN_CRASH:
			hb->base.event_fn(ev->domid, HV_BACKEND_CRASH, hb->base.event_opaque);
			break;
		default: /* poweroff; suspend has no save image behind it: the guest is down */
			hb->base.event_fn(ev->domid, HV_BACKEND_POWEROFF, hb->base.event_opaque);
			break;
		}
	} else if (ev->state == HVCTL_DOMAIN_CRASHED) {
		hb->base.event_fn(ev->domid, HV_BACKEND_CRASH, hb->base.event_opaque);
	} else if (ev->state == HVCTL_DOMAIN_GONE) {
		/* Gone without our destroy (ours unregisters the domid first): it is off. */
		hb->base.event_fn(ev->domid, HV_BACKEND_POWEROFF, hb->base.event_opaque);
	}
	return G_SOURCE_REMOVE;
}

static void on_event(const hvctl_event *ev, void *opaque)
{
	PendingEvent *p = g_new(PendingEvent, 1);

	p->hb = opaque;
	p->ev = *ev;
	g_async_queue_push(p->hb->events, p);
	g_timeout_add(1, deliver_events, p->hb);
}

/* ---- I/O counters (kept by the machine's holder, hvctl_backing_list) ---- */

static int find_backing(HvctlBackend *hb, int domid, hvctl_device_kind kind, unsigned devid,
                        hvctl_backing *out, GError **err)
{
	g_autofree hvctl_backing *list = g_new0(hvctl_backing, 256);
	unsigned n = 0;
	int rc = hvctl_backing_list(hb->h, list, 256, &n);

	if (rc)
		return fail(err, rc, "cannot read the I/O counters");
	for (unsigned i = 0; i < n; i++)
		if (list[i].domid == (uint32_t)domid && list[i].kind == kind &&
		    list[i].devid == devid) {
			*out = list[i];
			return 0;
		}
	return hv_error_set(err, VIR_ERR_OPERATION_FAILED,
	                    "the machine has no backing for %s %u of hv domain %d",
	                    kind == HVCTL_DEVICE_DISK ? "disk" : "interface", devid, domid);
}

static int hb_disk_stats(hvBackend *be, int domid, const hvDiskDef *disk, hvBackendDiskStats *st,
                         GError **err)
{
	hvctl_backing b;
	int devid = hv_hvctl_disk_devid(disk, err);

	if (devid < 0 || find_backing(HB(be), domid, HVCTL_DEVICE_DISK, (unsigned)devid, &b, err))
		return -1;
	*st = (hvBackendDiskStats){.rd_req = b.ops[0],
	                           .rd_bytes = b.bytes[0],
	                           .wr_req = b.ops[1],
	                           .wr_bytes = b.bytes[1],
	                           .errs = b.errors};
	return 0;
}

static int hb_nic_stats(hvBackend *be, int domid, unsigned int index, hvBackendNicStats *st,
                        GError **err)
{
	hvctl_backing b;

	if (find_backing(HB(be), domid, HVCTL_DEVICE_NIC, index, &b, err))
		return -1;
	/* The domain receives what the host sends into the TAP, and sends what comes out. */
	*st = (hvBackendNicStats){.rx_packets = b.ops[1],
	                          .rx_bytes = b.bytes[1],
	                          .rx_drop = b.ops[3],
	                          .tx_packets = b.ops[0],
	                          .tx_bytes = b.bytes[0],
	                          .tx_drop = b.ops[2]};
	return 0;
}

/* ---- re-attachment ---- */

static int hb_find(hvBackend *be, const hvDomainDef *def, int *domid, gboolean *paused)
{
	const unsigned char *uuid = def->uuid;
	HvctlBackend *hb = HB(be);
	hvctl_domain_info infos[64];
	unsigned count = 0;
	uint32_t first = 1;

	for (;;) {
		if (hvctl_domain_list(hb->h, first, infos, G_N_ELEMENTS(infos), &count) || !count)
			return 0;
		for (unsigned i = 0; i < count; i++) {
			hvctl_domain_info *di = &infos[i];
			if (di->domid == 0 || memcmp(di->uuid, uuid, 16))
				continue;
			switch (di->state) {
			case HVCTL_DOMAIN_RUNNING:
			case HVCTL_DOMAIN_PAUSED:
				*domid = di->domid;
				*paused = di->state == HVCTL_DOMAIN_PAUSED;
				remember_devices(hb, di->domid, def);
				console_keep(hb, (int)di->domid, def->name);
				return 1;
			default:
				/* Built halfway (virthvd died during start) or already down while
				 * nobody watched: it will not run again, so it goes. */
				g_message(
				    "hv domain %u (%s) is not running (state %d): destroying it",
				    di->domid, def->name, di->state);
				hvctl_domain_destroy(hb->h, di->domid);
				continue;
			}
		}
		first = infos[count - 1].domid + 1;
		if (count < G_N_ELEMENTS(infos))
			return 0;
	}
}

/* ---- the machine ---- */

static void hb_free(hvBackend *be)
{
	HvctlBackend *hb = HB(be);

	g_atomic_int_set(&hb->alive, 0);
	consoles_free(hb);
	if (hb->h) {
		hvctl_unsubscribe(hb->h);
		hvctl_close(hb->h);
	}
	if (hb->owned) {
		char *argv[] = {hb->tool,
		                "stop",
		                "--dir",
		                hb->machine_dir,
		                "--stop-timeout",
		                G_STRINGIFY(STOP_TIMEOUT_S),
		                NULL};
		g_autofree char *out = NULL;
		g_autoptr(GError) e = NULL;
		int status = 0;

		g_message("stopping the machine in %s", hb->machine_dir);
		if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
		                  NULL, &status, &e))
			g_warning("cannot run %s: %s", hb->tool, e->message);
		else if (!g_spawn_check_wait_status(status, NULL))
			g_warning("the machine in %s did not stop cleanly: %s", hb->machine_dir,
			          out ? out : "");
	}
	if (hb->ifaces) {
		g_hash_table_unref(hb->ifaces);
		g_hash_table_unref(hb->disks);
	}
	if (hb->events)
		g_async_queue_unref(hb->events);
	g_free(hb->machine_dir);
	g_free(hb->tool);
	g_free(hb);
}

static const hvBackendOps hvctl_ops = {
    .name = "hvctl",
    .node_info = hb_node_info,
    .free_memory_kib = hb_free_memory_kib,
    .create = hb_create,
    .destroy = hb_destroy,
    .pause = hb_pause,
    .unpause = hb_unpause,
    .shutdown = hb_shutdown,
    .reboot = hb_reboot,
    .info = hb_info,
    .vcpu_info = hb_vcpu_info,
    .set_memory = hb_set_memory,
    .set_guarantee = hb_set_guarantee,
    .set_vcpus = hb_set_vcpus,
    .set_sched = hb_set_sched,
    .set_bandwidth = hb_set_bandwidth,
    .set_iotune = hb_set_iotune,
    .disk_stats = hb_disk_stats,
    .nic_stats = hb_nic_stats,
    .console_open = hb_console_open,
    .console_write = hb_console_write,
    .console_close = hb_console_close,
    .find = hb_find,
    .free = hb_free,
};

/* Opens the relay of a machine at dir and waits for its agent; 0 or an hvctl status. */
static int open_machine(const char *dir, unsigned timeout_ms, hvctl **out)
{
	hvctl *h = NULL;
	int rc = hvctl_open_machine(dir, &h);

	if (rc == 0 && (rc = hvctl_wait_ready(h, timeout_ms)) != 0) {
		hvctl_close(h);
		h = NULL;
	}
	*out = h;
	return rc;
}

static int start_machine(HvctlBackend *hb, const hvBackendHvctlConfig *cfg, GError **err)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *out = NULL, *errs = NULL;
	g_autoptr(GError) e = NULL;
	int status = 0;

	if (!g_file_test(cfg->hv_image, G_FILE_TEST_EXISTS))
		return hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
		                    "the hv image %s does not exist (set hv_image= in virthvd's "
		                    "configuration)",
		                    cfg->hv_image);
	if (!g_str_has_suffix(cfg->hv_image, ".iso") &&
	    !g_file_test(cfg->dom0_kernel, G_FILE_TEST_EXISTS))
		return hv_error_set(err, VIR_ERR_CONFIG_UNSUPPORTED,
		                    "dom0's kernel %s does not exist (set dom0_kernel=)",
		                    cfg->dom0_kernel);
	if (g_mkdir_with_parents(cfg->machine_dir, 0700) < 0)
		return hv_error_set(err, VIR_ERR_OPERATION_FAILED, "cannot create %s: %s",
		                    cfg->machine_dir, g_strerror(errno));
#define ARG(s) g_ptr_array_add(argv, g_strdup(s))
	ARG(cfg->hv_machine_tool);
	ARG("start");
	ARG("--dir");
	ARG(cfg->machine_dir);
	ARG("--hv");
	ARG(cfg->hv_image);
	if (!g_str_has_suffix(cfg->hv_image, ".iso")) {
		ARG("--dom0");
		ARG(cfg->dom0_kernel);
		ARG("--dom0-cmdline");
		ARG(cfg->dom0_cmdline);
		if (cfg->hv_cmdline) {
			ARG("--cmdline");
			ARG(cfg->hv_cmdline);
		}
	}
	ARG("--accel");
	ARG(cfg->accel);
	ARG("--cpus");
	g_ptr_array_add(argv, g_strdup_printf("%u", cfg->cpus));
	ARG("--memory");
	g_ptr_array_add(argv, g_strdup_printf("%u", cfg->memory_mib));
	ARG("--wait-agent");
	g_ptr_array_add(argv, g_strdup_printf("%u", cfg->agent_timeout_s));
	ARG("--detach");
	g_ptr_array_add(argv, NULL);
#undef ARG
	g_message("starting the machine in %s (%s, accel %s)", cfg->machine_dir, cfg->hv_image,
	          cfg->accel);
	if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out,
	                  &errs, &status, &e))
		return hv_error_set(err, VIR_ERR_OPERATION_FAILED, "cannot run %s: %s",
		                    cfg->hv_machine_tool, e->message);
	if (!g_spawn_check_wait_status(status, NULL))
		return hv_error_set(err, VIR_ERR_OPERATION_FAILED,
		                    "the machine did not start: %s%s", errs ? errs : "",
		                    out ? out : "");
	hb->owned = TRUE;
	return 0;
}

hvBackend *hv_backend_hvctl_new(const hvBackendHvctlConfig *cfg, GError **err)
{
	HvctlBackend *hb = g_new0(HvctlBackend, 1);
	int rc;

	hb->base.ops = &hvctl_ops;
	hb->machine_dir = g_strdup(cfg->machine_dir);
	hb->tool = g_strdup(cfg->hv_machine_tool);
	hb->ifaces = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_ptr_array_unref);
	hb->disks = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)g_ptr_array_unref);
	hb->consoles = g_hash_table_new_full(NULL, NULL, NULL, keeper_free);
	hb->events = g_async_queue_new_full(g_free);
	g_atomic_int_set(&hb->alive, 1);

	/* A machine already running there (left by an earlier virthvd, or started by someone
	 * else for machine=attach) is used as it is. */
	rc = open_machine(cfg->machine_dir, PROBE_TIMEOUT_MS, &hb->h);
	if (rc == 0) {
		g_message("attached to the running machine in %s", cfg->machine_dir);
		hb->owned = !cfg->attach;
	} else if (cfg->attach) {
		g_autofree char *what =
		    g_strdup_printf("cannot attach to the machine in %s", cfg->machine_dir);
		fail(err, rc, what);
		goto error;
	} else {
		if (start_machine(hb, cfg, err) < 0)
			goto error;
		if ((rc = open_machine(cfg->machine_dir, cfg->agent_timeout_s * 1000u, &hb->h))) {
			fail(err, rc, "the machine started but its agent does not answer");
			goto error;
		}
	}
	hvctl_set_timeout(hb->h, CALL_TIMEOUT_MS);
	if ((rc = hvctl_subscribe(hb->h, on_event, hb))) {
		fail(err, rc, "cannot subscribe to the machine's domain events");
		goto error;
	}
	return &hb->base;

error:
	hb_free(&hb->base);
	return NULL;
}
