/*
 * SIMULATED machine for testing virthvd without hv (backend=sim). Nothing here runs a guest.
 *
 * What it simulates, and why each part is there:
 *  - domains with ids, paused/running state and memory/vcpu sizes, so that the driver's state
 *    machine and every libvirt call can be exercised end to end;
 *  - CPU time: each online vcpu of a running domain is busy half the time, or less if the
 *    domain's cap says so, so that `virsh dominfo`, `vcpuinfo` and stats show time advancing;
 *  - admission exactly as hv does it: the reservations of all running domains (reservation %
 *    x vcpus) must fit in 100% x physical CPUs, and their memory in the machine's memory, so
 *    that the refusal paths are tested;
 *  - shutdown and reboot complete a little later (like a guest that takes its time) and are
 *    reported through the backend event callback;
 *  - a console that says it is a simulation in its banner, echoes what is typed, and answers
 *    each completed line with "echo: <line>". Three lines act on the simulated guest, for
 *    tests: "sim-poweroff" (the guest shuts itself down), "sim-crash" (it crashes) and
 *    "sim-reboot" (it asks to reboot);
 *  - for tests only, a slow machine: each domain build takes sim_delay_ms longer, holding the
 *    backend's lock as a real build holds the machine.
 *
 * The driver calls in with be->lock held (backend.h); the guests' delayed reactions run on
 * the main loop and take be->lock with a trylock, trying again one timer interval later when
 * a (slow) call holds it, so that the main loop never waits for one.
 */
#include "driver/backend.h"

#include <string.h>

#include "util/error.h"

#define SIM_BUSY_FRACTION  0.5
#define SIM_SHUTDOWN_DELAY 200 /* ms a simulated guest takes to power off */
#define SIM_REBOOT_DELAY   100
#define SIM_LINE_MAX       4096

typedef struct SimBackend SimBackend;

typedef struct {
	SimBackend *sim;
	int domid;
	char *name;
	gboolean paused;
	unsigned long long mem_kib, max_mem_kib, guarantee_kib;
	unsigned int vcpus, max_vcpus;
	hvSchedParams sched;
	gint64 last_us; /* monotonic time the vcpu times were last brought up to date */
	unsigned long long vcpu_ns[HV_MAX_VCPUS];
	hvBackendConsole *console;
	guint timer;
} SimDom;

struct hvBackendConsole {
	SimDom *dom; /* NULL once the domain is gone */
	hvBackendConsoleFn out;
	void *opaque;
	GString *line;
};

struct SimBackend {
	hvBackend base;
	unsigned int cpus;
	unsigned long long memory_kib;
	int next_domid;
	GHashTable *doms; /* domid -> SimDom */
	unsigned int create_delay_ms;
};

static SimBackend *sim_of(hvBackend *be)
{
	return (SimBackend *)be;
}

static SimDom *find(hvBackend *be, int domid, GError **err)
{
	SimDom *d = g_hash_table_lookup(sim_of(be)->doms, GINT_TO_POINTER(domid));

	if (!d)
		hv_error_set(err, VIR_ERR_OPERATION_FAILED, "no domain with id %d on the machine",
		             domid);
	return d;
}

/* Brings the vcpu times up to now. */
static void account(SimDom *d)
{
	gint64 now = g_get_monotonic_time();
	double rate = SIM_BUSY_FRACTION;

	if (d->sched.cap && d->vcpus)
		rate = MIN(rate, d->sched.cap / 100.0 / d->vcpus);
	if (!d->paused)
		for (unsigned int v = 0; v < d->vcpus; v++)
			d->vcpu_ns[v] += (unsigned long long)((now - d->last_us) * 1000.0 * rate);
	d->last_us = now;
}

static unsigned long long reserved_except(SimBackend *sim, SimDom *skip)
{
	GHashTableIter it;
	SimDom *d;
	unsigned long long sum = 0;

	g_hash_table_iter_init(&it, sim->doms);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&d))
		if (d != skip)
			sum += (unsigned long long)d->sched.reservation * d->vcpus;
	return sum;
}

static unsigned long long memory_except(SimBackend *sim, SimDom *skip)
{
	GHashTableIter it;
	SimDom *d;
	unsigned long long sum = 0;

	g_hash_table_iter_init(&it, sim->doms);
	while (g_hash_table_iter_next(&it, NULL, (gpointer *)&d))
		if (d != skip)
			sum += d->mem_kib;
	return sum;
}

/* hv's reservation admission rule: the sum over running domains of reservation x vcpus must
 * fit in 100% x physical CPUs. */
static int admit_reservation(SimBackend *sim, SimDom *skip, const char *name,
                             unsigned int reservation, unsigned int vcpus, GError **err)
{
	unsigned long long others = reserved_except(sim, skip);
	unsigned long long want = (unsigned long long)reservation * vcpus;
	unsigned long long total = 100ULL * sim->cpus;

	if (others + want > total)
		return hv_error_set(err, VIR_ERR_OPERATION_INVALID,
		                    "reservation of %u%% for each of the %u vcpus of domain '%s' "
		                    "(%llu%%) does not fit: %llu%% of the machine's %llu%% "
		                    "(%u physical CPUs) is already reserved",
		                    reservation, vcpus, name, want, others, total, sim->cpus);
	return 0;
}

static int admit_memory(SimBackend *sim, SimDom *skip, const char *name, unsigned long long kib,
                        GError **err)
{
	unsigned long long others = memory_except(sim, skip);

	if (others + kib > sim->memory_kib)
		return hv_error_set(err, VIR_ERR_OPERATION_FAILED,
		                    "not enough memory for domain '%s': it needs %llu KiB, %llu "
		                    "KiB of %llu KiB are free",
		                    name, kib, sim->memory_kib - others, sim->memory_kib);
	return 0;
}

static void console_say(hvBackendConsole *con, const char *text)
{
	if (con && con->dom)
		con->out(text, strlen(text), con->opaque);
}

static void console_detach(SimDom *d)
{
	hvBackendConsole *con = d->console;

	if (!con)
		return;
	d->console = NULL;
	con->dom = NULL;
	con->out(NULL, 0, con->opaque); /* EOF */
}

static void dom_free(SimDom *d)
{
	console_detach(d);
	if (d->timer)
		g_source_remove(d->timer);
	g_free(d->name);
	g_free(d);
}

static int sim_node_info(hvBackend *be, virNodeInfo *info, GError **err)
{
	SimBackend *sim = sim_of(be);

	memset(info, 0, sizeof(*info));
	g_strlcpy(info->model, "x86_64", sizeof(info->model));
	info->memory = sim->memory_kib;
	info->cpus = sim->cpus;
	info->mhz = 2000;
	info->nodes = 1;
	info->sockets = 1;
	info->cores = sim->cpus;
	info->threads = 1;
	return 0;
}

static unsigned long long sim_free_memory_kib(hvBackend *be)
{
	SimBackend *sim = sim_of(be);

	return sim->memory_kib - memory_except(sim, NULL);
}

static int sim_create(hvBackend *be, hvDomainDef *def, gboolean paused, int *domid, GError **err)
{
	SimBackend *sim = sim_of(be);
	SimDom *d;

	if (sim->create_delay_ms)
		g_usleep(sim->create_delay_ms * 1000ull);
	if (admit_memory(sim, NULL, def->name, def->current_memory_kib, err) < 0 ||
	    admit_reservation(sim, NULL, def->name, def->reservation, def->vcpus, err) < 0)
		return -1;
	d = g_new0(SimDom, 1);
	d->sim = sim;
	d->domid = sim->next_domid++;
	d->name = g_strdup(def->name);
	d->paused = paused;
	d->mem_kib = def->current_memory_kib;
	d->max_mem_kib = def->memory_kib;
	d->guarantee_kib = def->min_guarantee_kib;
	d->vcpus = def->vcpus;
	d->max_vcpus = def->max_vcpus;
	d->sched = (hvSchedParams){def->weight, def->cap, def->reservation};
	d->last_us = g_get_monotonic_time();
	g_hash_table_insert(sim->doms, GINT_TO_POINTER(d->domid), d);
	*domid = d->domid;
	return 0;
}

static int sim_destroy(hvBackend *be, int domid, GError **err)
{
	if (!find(be, domid, err))
		return -1;
	g_hash_table_remove(sim_of(be)->doms, GINT_TO_POINTER(domid));
	return 0;
}

static int sim_pause(hvBackend *be, int domid, GError **err)
{
	SimDom *d = find(be, domid, err);

	if (!d)
		return -1;
	account(d);
	d->paused = TRUE;
	return 0;
}

static int sim_unpause(hvBackend *be, int domid, GError **err)
{
	SimDom *d = find(be, domid, err);

	if (!d)
		return -1;
	account(d);
	d->paused = FALSE;
	return 0;
}

typedef struct {
	SimBackend *sim;
	int domid;
	hvBackendEvent ev;
} SimLater;

static gboolean sim_later_fire(gpointer data)
{
	SimLater *l = data; /* the source's own: valid for as long as it runs */
	SimDom *d;

	if (!g_rec_mutex_trylock(&l->sim->base.lock))
		return G_SOURCE_CONTINUE; /* a call is running: again in a moment */
	d = g_hash_table_lookup(l->sim->doms, GINT_TO_POINTER(l->domid));
	/* Only if the domain still waits for this very reaction (not one that replaced it). */
	if (d && d->timer == g_source_get_id(g_main_current_source())) {
		d->timer = 0;
		if (l->sim->base.event_fn)
			l->sim->base.event_fn(l->domid, l->ev, l->sim->base.event_opaque);
	}
	g_rec_mutex_unlock(&l->sim->base.lock);
	return G_SOURCE_REMOVE;
}

/* The simulated guest reacts after delay_ms (at least 1: the retry interval when busy). */
static void sim_later(SimDom *d, hvBackendEvent ev, guint delay_ms)
{
	SimLater *l = g_new0(SimLater, 1);

	l->sim = d->sim;
	l->domid = d->domid;
	l->ev = ev;
	if (d->timer)
		g_source_remove(d->timer);
	d->timer =
	    g_timeout_add_full(G_PRIORITY_DEFAULT, MAX(delay_ms, 1), sim_later_fire, l, g_free);
}

static int sim_shutdown(hvBackend *be, int domid, GError **err)
{
	SimDom *d = find(be, domid, err);

	if (!d)
		return -1;
	console_say(d->console, "\r\n[hv simulation] shutdown requested; powering off\r\n");
	sim_later(d, HV_BACKEND_POWEROFF, SIM_SHUTDOWN_DELAY);
	return 0;
}

static int sim_reboot(hvBackend *be, int domid, gboolean hard, GError **err)
{
	SimDom *d = find(be, domid, err);

	if (!d)
		return -1;
	if (!hard) {
		console_say(d->console, "\r\n[hv simulation] reboot requested\r\n");
		sim_later(d, HV_BACKEND_REBOOT, SIM_REBOOT_DELAY);
		return 0;
	}
	/* Restart in place: same domid, the guest starts again from scratch. */
	memset(d->vcpu_ns, 0, sizeof(d->vcpu_ns));
	d->last_us = g_get_monotonic_time();
	d->paused = FALSE;
	console_say(d->console, "\r\n[hv simulation] the simulated guest restarted\r\n");
	return 0;
}

static int sim_info(hvBackend *be, int domid, hvBackendDomInfo *info, GError **err)
{
	SimDom *d = find(be, domid, err);

	if (!d)
		return -1;
	account(d);
	info->paused = d->paused;
	info->cpu_time_ns = 0;
	for (unsigned int v = 0; v < d->vcpus; v++)
		info->cpu_time_ns += d->vcpu_ns[v];
	info->mem_kib = d->mem_kib;
	info->max_mem_kib = d->max_mem_kib;
	info->vcpus = d->vcpus;
	return 0;
}

static int sim_vcpu_info(hvBackend *be, int domid, unsigned int vcpu, hvBackendVcpuInfo *info,
                         GError **err)
{
	SimDom *d = find(be, domid, err);

	if (!d)
		return -1;
	if (vcpu >= d->max_vcpus)
		return hv_error_set(err, VIR_ERR_INVALID_ARG, "vcpu %u out of range", vcpu);
	account(d);
	info->state = vcpu >= d->vcpus ? VIR_VCPU_OFFLINE
	              : d->paused      ? VIR_VCPU_BLOCKED
	                               : VIR_VCPU_RUNNING;
	info->pcpu = vcpu % d->sim->cpus; /* the simulation places vcpu n on pCPU n mod cpus */
	info->cpu_time_ns = d->vcpu_ns[vcpu];
	return 0;
}

static int sim_set_memory(hvBackend *be, int domid, unsigned long long kib, GError **err)
{
	SimDom *d = find(be, domid, err);

	if (!d)
		return -1;
	if (kib > d->max_mem_kib)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "cannot set memory higher than max memory");
	if (kib < d->guarantee_kib)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "memory %llu KiB is below the guaranteed minimum of %llu KiB",
		                    kib, d->guarantee_kib);
	if (admit_memory(d->sim, d, d->name, kib, err) < 0)
		return -1;
	d->mem_kib = kib;
	return 0;
}

static int sim_set_guarantee(hvBackend *be, int domid, unsigned long long kib, GError **err)
{
	SimDom *d = find(be, domid, err);

	if (!d)
		return -1;
	if (kib > d->mem_kib)
		return hv_error_set(
		    err, VIR_ERR_INVALID_ARG,
		    "min_guarantee %llu KiB is above the current memory of %llu KiB", kib,
		    d->mem_kib);
	d->guarantee_kib = kib;
	return 0;
}

static int sim_set_vcpus(hvBackend *be, int domid, unsigned int n, GError **err)
{
	SimDom *d = find(be, domid, err);

	if (!d)
		return -1;
	if (n < 1 || n > d->max_vcpus)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "requested vcpus %u is not between 1 and the maximum %u", n,
		                    d->max_vcpus);
	if (admit_reservation(d->sim, d, d->name, d->sched.reservation, n, err) < 0)
		return -1;
	account(d);
	d->vcpus = n;
	return 0;
}

static int sim_set_sched(hvBackend *be, int domid, const hvSchedParams *p, GError **err)
{
	SimDom *d = find(be, domid, err);

	if (!d)
		return -1;
	if (admit_reservation(d->sim, d, d->name, p->reservation, d->vcpus, err) < 0)
		return -1;
	account(d);
	d->sched = *p;
	return 0;
}

static int sim_set_bandwidth(hvBackend *be, int domid, const hvInterfaceDef *iface, GError **err)
{
	/* The simulated machine moves no packets; it only accepts the limits. */
	return find(be, domid, err) ? 0 : -1;
}

static int sim_set_iotune(hvBackend *be, int domid, const hvDiskDef *disk, GError **err)
{
	/* The simulated machine does no I/O; it only accepts the limits. */
	return find(be, domid, err) ? 0 : -1;
}

static int sim_disk_stats(hvBackend *be, int domid, const hvDiskDef *disk, hvBackendDiskStats *st,
                          GError **err)
{
	/* The simulated machine does no I/O: nothing was read or written. */
	memset(st, 0, sizeof(*st));
	return find(be, domid, err) ? 0 : -1;
}

static int sim_nic_stats(hvBackend *be, int domid, unsigned int index, hvBackendNicStats *st,
                         GError **err)
{
	memset(st, 0, sizeof(*st)); /* nor moves packets */
	return find(be, domid, err) ? 0 : -1;
}

static hvBackendConsole *sim_console_open(hvBackend *be, int domid, hvBackendConsoleFn out,
                                          void *opaque, GError **err)
{
	SimDom *d = find(be, domid, err);
	hvBackendConsole *con;
	g_autofree char *banner = NULL;

	if (!d)
		return NULL;
	console_detach(d);
	con = g_new0(hvBackendConsole, 1);
	con->dom = d;
	con->out = out;
	con->opaque = opaque;
	con->line = g_string_new(NULL);
	d->console = con;
	banner = g_strdup_printf(
	    "[hv simulation] console of domain '%s' (id %d) on virthvd's SIMULATED machine "
	    "(backend=sim): no guest runs here.\r\n"
	    "[hv simulation] Each line you type is echoed back.\r\n",
	    d->name, d->domid);
	console_say(con, banner);
	return con;
}

/* A completed input line: the reply goes into out; the sim-* lines act on the guest. */
static void console_line(hvBackendConsole *con, GString *out)
{
	SimDom *d = con->dom;

	g_string_append_printf(out, "\r\necho: %s\r\n", con->line->str);
	if (!strcmp(con->line->str, "sim-poweroff"))
		sim_later(d, HV_BACKEND_POWEROFF, 0);
	else if (!strcmp(con->line->str, "sim-crash"))
		sim_later(d, HV_BACKEND_CRASH, 0);
	else if (!strcmp(con->line->str, "sim-reboot"))
		sim_later(d, HV_BACKEND_REBOOT, 0);
	g_string_truncate(con->line, 0);
}

static void sim_console_write(hvBackendConsole *con, const void *data, size_t len)
{
	const char *p = data;
	g_autoptr(GString) out = g_string_new(NULL);

	/* All the output one input chunk causes leaves in one piece, not a packet per byte. */
	for (size_t i = 0; i < len && con->dom; i++) {
		if (p[i] == '\r' || p[i] == '\n') {
			console_line(con, out);
		} else if (con->line->len < SIM_LINE_MAX) {
			g_string_append_c(con->line, p[i]);
			g_string_append_c(out, p[i]); /* the echo a terminal would give */
		}
	}
	if (out->len && con->dom)
		con->out(out->str, out->len, con->opaque);
}

static void sim_console_close(hvBackendConsole *con)
{
	if (con->dom)
		con->dom->console = NULL;
	g_string_free(con->line, TRUE);
	g_free(con);
}

static void sim_free(hvBackend *be)
{
	SimBackend *sim = sim_of(be);

	g_hash_table_unref(sim->doms);
	g_free(sim);
}

static const hvBackendOps sim_ops = {
    .name = "sim",
    .node_info = sim_node_info,
    .free_memory_kib = sim_free_memory_kib,
    .create = sim_create,
    .destroy = sim_destroy,
    .pause = sim_pause,
    .unpause = sim_unpause,
    .shutdown = sim_shutdown,
    .reboot = sim_reboot,
    .info = sim_info,
    .vcpu_info = sim_vcpu_info,
    .set_memory = sim_set_memory,
    .set_guarantee = sim_set_guarantee,
    .set_vcpus = sim_set_vcpus,
    .set_sched = sim_set_sched,
    .set_bandwidth = sim_set_bandwidth,
    .set_iotune = sim_set_iotune,
    .disk_stats = sim_disk_stats,
    .nic_stats = sim_nic_stats,
    .console_open = sim_console_open,
    .console_write = sim_console_write,
    .console_close = sim_console_close,
    .free = sim_free,
};

hvBackend *hv_backend_sim_new(unsigned int cpus, unsigned long long memory_kib, GError **err)
{
	SimBackend *sim;

	if (cpus < 1 || cpus > 4096 || memory_kib < 1024)
		return hv_error_set(err, VIR_ERR_INVALID_ARG,
		                    "simulated machine needs 1-4096 CPUs and at least 1 MiB"),
		       NULL;
	sim = g_new0(SimBackend, 1);
	sim->base.ops = &sim_ops;
	sim->cpus = cpus;
	sim->memory_kib = memory_kib;
	sim->next_domid = 1;
	sim->doms = g_hash_table_new_full(NULL, NULL, NULL, (GDestroyNotify)dom_free);
	g_message("backend: SIMULATED machine with %u CPUs and %llu KiB (no guest really runs)",
	          cpus, memory_kib);
	return &sim->base;
}

void hv_backend_sim_set_delay(hvBackend *be, unsigned int create_delay_ms)
{
	sim_of(be)->create_delay_ms = create_delay_ms;
	g_message("backend: SIMULATED domain builds take %u ms longer (sim_delay_ms, for tests)",
	          create_delay_ms);
}
