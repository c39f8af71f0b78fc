/*
 * virthvd: the libvirt daemon for hv. Reads its configuration (command line over a GLib key
 * file over built-in defaults), sets up logging, the driver and the RPC sockets, then runs the
 * GLib main loop (calls run in worker threads: rpc/dispatch.h) until SIGTERM or SIGINT, and
 * shuts down cleanly (running calls finish, sockets removed, clients closed, definitions
 * already on disk).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>

#include "driver/driver.h"
#include "rpc/events.h"
#include "rpc/server.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

#define DEFAULT_SOCKET_DIR   "/run/libvirt"
#define DEFAULT_STATE_DIR    "/var/lib/hv/virthvd"
#define DEFAULT_MAX_CLIENTS  5000
#define DEFAULT_MAX_WORKERS  5 /* libvirtd starts 5 (min_workers) */
#define DEFAULT_PRIO_WORKERS 5
#define DEFAULT_MACHINE_DIR  "/run/hv/machine"
#ifndef HV_DATADIR /* $(datadir)/hv: hv.elf and guest.elf */
#define HV_DATADIR "/usr/local/share/hv"
#endif
#ifndef HV_BINDIR /* $(bindir): hv-machine */
#define HV_BINDIR "/usr/local/bin"
#endif
#define SOCKET_NAME    "virthvd-sock"
#define SOCKET_RO_NAME "virthvd-sock-ro"

typedef struct {
	char *config_file;
	char *socket_dir;
	char *socket_rw;
	char *socket_ro;
	char *state_dir;
	char *backend;
	char *log_level;
	int max_clients;
	int keepalive_interval; /* -1 = default */
	int keepalive_count;
	int max_workers; /* -1 = default */
	int prio_workers;
	int sim_cpus;
	gint64 sim_memory_kib;
	int sim_delay_ms;
	gboolean version;
	/* backend=hvctl: the machine */
	char *machine; /* start (default) or attach */
	char *machine_dir;
	char *hv_machine_tool;
	char *hv_image;
	char *hv_cmdline;
	char *dom0_kernel;
	char *dom0_cmdline;
	char *accel;
	int machine_cpus;
	int machine_memory_mib;
	int agent_timeout_s;
} Options;

static GLogLevelFlags max_level = G_LOG_LEVEL_MESSAGE;

static GLogWriterOutput log_writer(GLogLevelFlags level, const GLogField *fields, gsize n,
                                   gpointer data)
{
	if ((level & G_LOG_LEVEL_MASK) > max_level)
		return G_LOG_WRITER_HANDLED;
	return g_log_writer_standard_streams(level, fields, n, data);
}

static int set_log_level(const char *name)
{
	static const struct {
		const char *name;
		GLogLevelFlags level;
	} levels[] = {{"error", G_LOG_LEVEL_CRITICAL},
	              {"warning", G_LOG_LEVEL_WARNING},
	              {"message", G_LOG_LEVEL_MESSAGE},
	              {"info", G_LOG_LEVEL_INFO},
	              {"debug", G_LOG_LEVEL_DEBUG}};

	for (size_t i = 0; i < G_N_ELEMENTS(levels); i++)
		if (!g_ascii_strcasecmp(name, levels[i].name)) {
			max_level = levels[i].level;
			return 0;
		}
	return -1;
}

/* Fills the options the command line left unset from the key file [virthvd] group. */
static int read_config(Options *o, GError **err)
{
	g_autoptr(GKeyFile) kf = g_key_file_new();
	const char *g = "virthvd";

	if (!o->config_file)
		return 0;
	if (!g_key_file_load_from_file(kf, o->config_file, G_KEY_FILE_NONE, err))
		return -1;
#define STR(field, key)                                                                            \
	if (!o->field)                                                                             \
		o->field = g_key_file_get_string(kf, g, key, NULL);
	STR(socket_dir, "socket_dir");
	STR(socket_rw, "socket");
	STR(socket_ro, "socket_ro");
	STR(state_dir, "state_dir");
	STR(backend, "backend");
	STR(log_level, "log_level");
	STR(machine, "machine");
	STR(machine_dir, "machine_dir");
	STR(hv_machine_tool, "hv_machine");
	STR(hv_image, "hv_image");
	STR(hv_cmdline, "hv_cmdline");
	STR(dom0_kernel, "dom0_kernel");
	STR(dom0_cmdline, "dom0_cmdline");
	STR(accel, "accel");
#undef STR
#define INT(field, key, get)                                                                       \
	if (!o->field && g_key_file_has_key(kf, g, key, NULL)) {                                   \
		o->field = get(kf, g, key, err);                                                   \
		if (*err)                                                                          \
			return -1;                                                                 \
	}
	INT(max_clients, "max_clients", g_key_file_get_integer);
	INT(sim_cpus, "sim_cpus", g_key_file_get_integer);
	INT(sim_memory_kib, "sim_memory_kib", g_key_file_get_int64);
	INT(sim_delay_ms, "sim_delay_ms", g_key_file_get_integer);
	INT(machine_cpus, "machine_cpus", g_key_file_get_integer);
	INT(machine_memory_mib, "machine_memory_mib", g_key_file_get_integer);
	INT(agent_timeout_s, "agent_timeout", g_key_file_get_integer);
#undef INT
	/* 0 is meaningful here (keepalive off, calls on the main loop), so "unset" is -1 */
	const struct {
		const char *key;
		int *field;
	} minus_one[] = {{"keepalive_interval", &o->keepalive_interval},
	                 {"keepalive_count", &o->keepalive_count},
	                 {"max_workers", &o->max_workers},
	                 {"prio_workers", &o->prio_workers}};
	for (size_t i = 0; i < G_N_ELEMENTS(minus_one); i++) {
		const char *key = minus_one[i].key;
		int *field = minus_one[i].field;
		if (*field == -1 && g_key_file_has_key(kf, g, key, NULL)) {
			*field = g_key_file_get_integer(kf, g, key, err);
			if (*err)
				return -1;
		}
	}
	return 0;
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	/* Every client is a descriptor: allow as many as the hard limit lets us. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			g_warning("cannot raise the open file limit: %s", g_strerror(errno));
	}
}

/* backend=hvctl: where the machine is and how to start it (defaults: the installed images). */
static int set_machine_config(Options *o, hvBackendHvctlConfig *m)
{
	if (o->machine && strcmp(o->machine, "start") && strcmp(o->machine, "attach")) {
		fprintf(stderr, "virthvd: machine=%s: expected start or attach\n", o->machine);
		return -1;
	}
	if (o->accel && strcmp(o->accel, "tcg") && strcmp(o->accel, "kvm") &&
	    strcmp(o->accel, "auto")) {
		fprintf(stderr, "virthvd: accel=%s: expected tcg, kvm or auto\n", o->accel);
		return -1;
	}
	if (!o->machine_dir)
		o->machine_dir = g_strdup(DEFAULT_MACHINE_DIR);
	if (!o->hv_machine_tool)
		o->hv_machine_tool = g_strdup(HV_BINDIR "/hv-machine");
	if (!o->hv_image)
		o->hv_image = g_strdup(HV_DATADIR "/hv.elf");
	if (!o->dom0_kernel)
		o->dom0_kernel = g_strdup(HV_DATADIR "/guest.elf");
	if (!o->dom0_cmdline)
		o->dom0_cmdline = g_strdup("agent");
	m->attach = !g_strcmp0(o->machine, "attach");
	m->machine_dir = o->machine_dir;
	m->hv_machine_tool = o->hv_machine_tool;
	m->hv_image = o->hv_image;
	m->hv_cmdline = o->hv_cmdline;
	m->dom0_kernel = o->dom0_kernel;
	m->dom0_cmdline = o->dom0_cmdline;
	m->accel = o->accel ? o->accel : "tcg";
	m->cpus = o->machine_cpus ? o->machine_cpus : 2;
	m->memory_mib = o->machine_memory_mib ? o->machine_memory_mib : 512;
	m->agent_timeout_s = o->agent_timeout_s ? o->agent_timeout_s : 120;
	return 0;
}

/*
 * One virthvd per state directory: a second one would attach to the same machine and, failing
 * to bind the sockets, stop it under the first. The lock is held until the process ends (also
 * by SIGKILL, so a restart after a crash is never refused).
 */
static int lock_state_dir(const char *dir)
{
	g_autofree char *path = g_build_filename(dir, "virthvd.lock", NULL);
	int fd;

	if (g_mkdir_with_parents(dir, 0700) < 0 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		g_critical("cannot create %s: %s", path, g_strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		g_critical("another virthvd is running with the state directory %s (%s is locked)",
		           dir, path);
		close(fd);
		return -1;
	}
	return fd; /* kept open: the lock lives as long as the process */
}

static gboolean on_signal(gpointer loop)
{
	g_message("signal received: shutting down");
	g_main_loop_quit(loop);
	return G_SOURCE_CONTINUE;
}

int main(int argc, char **argv)
{
	Options o = {
	    .keepalive_interval = -1, .keepalive_count = -1, .max_workers = -1, .prio_workers = -1};
	g_autoptr(GError) err = NULL;
	g_autoptr(GOptionContext) ctx = NULL;
	GOptionEntry entries[] = {
	    {"config", 'f', 0, G_OPTION_ARG_FILENAME, &o.config_file,
	     "Read settings from this key file ([virthvd] group)", "FILE"},
	    {"socket-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.socket_dir,
	     "Directory of " SOCKET_NAME " and " SOCKET_RO_NAME " (default " DEFAULT_SOCKET_DIR ")",
	     "DIR"},
	    {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.state_dir,
	     "Directory of the domain definitions (default " DEFAULT_STATE_DIR ")", "DIR"},
	    {"backend", 0, 0, G_OPTION_ARG_STRING, &o.backend,
	     "Machine backend: hvctl (the real hv) or sim (a simulation for tests)", "NAME"},
	    {"max-clients", 0, 0, G_OPTION_ARG_INT, &o.max_clients,
	     "Maximum number of connected clients (default 5000)", "N"},
	    {"max-workers", 0, 0, G_OPTION_ARG_INT, &o.max_workers,
	     "Worker threads for calls (default " G_STRINGIFY(
	         DEFAULT_MAX_WORKERS) "; 0 = every call on the main loop)",
	     "N"},
	    {"log-level", 0, 0, G_OPTION_ARG_STRING, &o.log_level,
	     "error, warning, message (default), info or debug", "LEVEL"},
	    {"version", 'V', 0, G_OPTION_ARG_NONE, &o.version, "Print the version and exit", NULL},
	    {NULL}};
	hvDriverConfig cfg = {0};
	hvDriver *drv = NULL;
	hvRpcServer *srv = NULL;
	GMainLoop *loop = NULL;
	int status = EXIT_FAILURE;

	ctx = g_option_context_new("- libvirt daemon for the hv hypervisor");
	g_option_context_set_description(
	    ctx, "Clients connect with the URI hv:///system (libvirt.conf remote_mode=\"direct\" "
	         "or ?mode=direct),\nor hv+unix:///system?socket=DIR/" SOCKET_NAME
	         ". See virthvd(8).\n");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "virthvd: %s\n", err->message);
		return 2;
	}
	if (o.version) {
		printf("virthvd %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (read_config(&o, &err) < 0) {
		fprintf(stderr, "virthvd: %s: %s\n", o.config_file, err->message);
		return 2;
	}
	if (o.log_level && set_log_level(o.log_level) < 0) {
		fprintf(stderr, "virthvd: unknown log level '%s'\n", o.log_level);
		return 2;
	}
	g_log_set_writer_func(log_writer, NULL, NULL);
	if (o.max_clients < 0 || o.sim_cpus < 0 || o.sim_memory_kib < 0 || o.machine_cpus < 0 ||
	    o.machine_memory_mib < 0 || o.agent_timeout_s < 0 || o.keepalive_interval < -1 ||
	    o.keepalive_count < -1 || o.max_workers < -1 || o.prio_workers < -1 ||
	    o.sim_delay_ms < 0) {
		fprintf(stderr, "virthvd: negative numbers make no sense here\n");
		return 2;
	}
	if (!o.socket_dir)
		o.socket_dir = g_strdup(DEFAULT_SOCKET_DIR);
	if (!o.socket_rw)
		o.socket_rw = g_build_filename(o.socket_dir, SOCKET_NAME, NULL);
	if (!o.socket_ro)
		o.socket_ro = g_build_filename(o.socket_dir, SOCKET_RO_NAME, NULL);

	if (set_machine_config(&o, &cfg.hvctl) < 0)
		return 2;
	cfg.backend = o.backend ? o.backend : "hvctl";
	cfg.state_dir = o.state_dir ? o.state_dir : DEFAULT_STATE_DIR;
	cfg.sim_cpus = o.sim_cpus ? o.sim_cpus : 4;
	cfg.sim_memory_kib = o.sim_memory_kib ? o.sim_memory_kib : 16 * 1024 * 1024;
	cfg.sim_delay_ms = o.sim_delay_ms;

	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
	loop = g_main_loop_new(NULL, FALSE);
	g_unix_signal_add(SIGTERM, on_signal, loop);
	g_unix_signal_add(SIGINT, on_signal, loop);

	if (lock_state_dir(cfg.state_dir) < 0)
		goto out;
	if (!(drv = hv_driver_new(&cfg, &err)))
		goto out;
	srv = hv_rpc_server_new(drv, o.max_clients ? o.max_clients : DEFAULT_MAX_CLIENTS);
	hv_rpc_server_set_keepalive(srv, o.keepalive_interval >= 0 ? o.keepalive_interval : 5,
	                            o.keepalive_count >= 0 ? o.keepalive_count : 5);
	hv_driver_set_event_sink(drv, hv_rpc_events_emit, srv);
	if (hv_rpc_server_set_workers(srv, o.max_workers >= 0 ? o.max_workers : DEFAULT_MAX_WORKERS,
	                              o.prio_workers >= 0 ? o.prio_workers : DEFAULT_PRIO_WORKERS,
	                              &err) < 0)
		goto out;
	if (g_mkdir_with_parents(o.socket_dir, 0755) < 0) {
		g_critical("cannot create %s: %s", o.socket_dir, g_strerror(errno));
		goto out;
	}
	if (hv_rpc_server_add_socket(srv, o.socket_rw, 0600, FALSE, &err) < 0 ||
	    hv_rpc_server_add_socket(srv, o.socket_ro, 0666, TRUE, &err) < 0)
		goto out;
	g_message("virthvd %s ready (backend %s)", PACKAGE_VERSION, cfg.backend);
	g_main_loop_run(loop);
	status = EXIT_SUCCESS;
out:
	if (err)
		g_critical("%s", err->message);
	hv_rpc_server_free(srv);
	hv_driver_free(drv);
	if (loop)
		g_main_loop_unref(loop);
	g_free(o.config_file);
	g_free(o.socket_dir);
	g_free(o.socket_rw);
	g_free(o.socket_ro);
	g_free(o.state_dir);
	g_free(o.backend);
	g_free(o.log_level);
	g_free(o.machine);
	g_free(o.machine_dir);
	g_free(o.hv_machine_tool);
	g_free(o.hv_image);
	g_free(o.hv_cmdline);
	g_free(o.dom0_kernel);
	g_free(o.dom0_cmdline);
	g_free(o.accel);
	return status;
}
