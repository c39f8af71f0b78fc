/*
 * The machine starter (hvctl-machine.h): QEMU with hv, dom0 and the management link.
 *
 * Order at start: state directory; link server and relay (so the ivshmem socket exists before
 * QEMU looks for it); the accelerator (a probe boot for "auto"); QEMU, forked into its own
 * process group with stdout/stderr in qemu.log; QMP (retried until QEMU has made the socket,
 * giving up early if QEMU exits); optionally dom0's agent. Any failure undoes everything done
 * so far, QEMU included, and reports QEMU's exit status and the end of its log.
 *
 * Invariant: while an hvctl_machine exists, its QEMU is either running or reaped exactly once
 * (m->exited, under m->lock); the stop path ends with SIGKILL to QEMU's process group and a
 * blocking waitpid, so nothing outlives hvctl_machine_stop().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvctl-machine.h"
#include "internal.h"
#include "qmp.h"
#include "relay.h"

#define MAX_ARGS 96

struct hvctl_machine {
	char dir[3800];
	char qemu_log[4096], serial_log[4096], qmp_path[4096], ivs_path[4096], relay_path[4096],
	    pid_path[4096];
	char accel[8];
	pid_t pid;
	pthread_mutex_t lock; /* exited/status, and the QMP connection */
	int exited, status;
	struct qmp qmp;
	struct relay *relay;
	hvctl *h;
};

/* ---- small helpers ---- */

static int mkdir_p(const char *path)
{
	char tmp[4096], *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* The last bytes of a file as one printable line (for error messages). */
static void file_tail(const char *path, char *out, size_t size)
{
	char buf[512];
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t i, o = 0;
	off_t end;

	out[0] = '\0';
	if (fd < 0)
		return;
	end = lseek(fd, 0, SEEK_END);
	if (end > 0) {
		size_t want = sizeof(buf) - 1 < size - 1 ? sizeof(buf) - 1 : size - 1;
		off_t from = end > (off_t)want ? end - (off_t)want : 0;

		n = pread(fd, buf, want, from);
	}
	close(fd);
	/* trailing newlines say nothing */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	for (i = 0; n > 0 && i < (size_t)n && o + 1 < size; i++) {
		unsigned char c = (unsigned char)buf[i];

		out[o++] = c == '\n' ? '|' : (c < 0x20 || c > 0x7e) ? ' ' : (char)c;
	}
	out[o] = '\0';
}

/* 1 if the first 64 KiB of a file hold needle. */
static int file_contains(const char *path, const char *needle)
{
	const size_t size = 65536;
	char *buf = malloc(size);
	int fd = open(path, O_RDONLY | O_CLOEXEC), found = 0;
	ssize_t n;

	if (fd >= 0 && buf) {
		n = read(fd, buf, size - 1);
		if (n > 0) {
			buf[n] = '\0';
			found = strstr(buf, needle) != NULL;
		}
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	return found;
}

/* Reaps QEMU if it has exited. Returns 1 if it is still running. Lock held. */
static int poll_exit(hvctl_machine *m)
{
	int st;

	if (m->exited)
		return 0;
	if (waitpid(m->pid, &st, WNOHANG) == m->pid) {
		m->exited = 1;
		m->status = st;
		return 0;
	}
	return 1;
}

static int alive_cb(void *opaque)
{
	hvctl_machine *m = opaque;

	return poll_exit(m);
}

static void describe_status(int st, char *out, size_t size)
{
	if (WIFEXITED(st))
		snprintf(out, size, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, size, "was killed by signal %d", WTERMSIG(st));
	else
		snprintf(out, size, "ended (wait status %#x)", st);
}

/* Kills QEMU's process group and reaps it (blocking: after SIGKILL it is quick). Lock held. */
static void kill_and_reap(hvctl_machine *m)
{
	int st;

	if (m->pid <= 0 || m->exited)
		return;
	kill(-m->pid, SIGKILL);
	kill(m->pid, SIGKILL);
	while (waitpid(m->pid, &st, 0) < 0 && errno == EINTR)
		;
	m->exited = 1;
	m->status = st;
}

/* ---- starting ---- */

static const char *qemu_binary(const hvctl_machine_config *cfg)
{
	const char *env = getenv("HV_QEMU");

	if (cfg->qemu && *cfg->qemu)
		return cfg->qemu;
	if (env && *env)
		return env;
	return "qemu-system-x86_64";
}

static int is_iso(const char *path)
{
	size_t n = strlen(path);

	return n > 4 && strcmp(path + n - 4, ".iso") == 0;
}

/* Appends "path args" to a -initrd list, doubling commas (QEMU's separator). */
static void add_module(char *list, size_t size, const char *path, const char *args)
{
	size_t o = strlen(list);
	const char *s;
	int pass;

	if (o && o + 1 < size)
		list[o++] = ',';
	for (pass = 0; pass < 2; pass++) {
		s = pass == 0 ? path : args;
		if (!s || !*s)
			continue;
		if (pass == 1 && o + 1 < size)
			list[o++] = ' ';
		for (; *s && o + 2 < size; s++) {
			if (*s == ',')
				list[o++] = ',';
			list[o++] = *s;
		}
	}
	list[o] = '\0';
}

struct argv_buf {
	const char *argv[MAX_ARGS];
	int n;
	char mem[32], smp[16], serial[4200], ivs[4200], qmp[4200], initrd[16384];
};

static void arg(struct argv_buf *a, const char *s)
{
	if (a->n < MAX_ARGS - 1)
		a->argv[a->n++] = s;
	a->argv[a->n] = NULL;
}

static int build_argv(hvctl_machine *m, const hvctl_machine_config *cfg, const char *accel,
                      struct argv_buf *a, hvctl_error *err)
{
	unsigned i;

	a->n = 0;
	arg(a, qemu_binary(cfg));
	arg(a, "-machine");
	arg(a, "q35");
	arg(a, "-accel");
	arg(a, accel);
	arg(a, "-cpu");
	/* Under KVM here (PVM) "max" is the host's CPU, whose MSR 0x10a QEMU cannot set. */
	arg(a, strcmp(accel, "kvm") == 0 ? "max,-arch-capabilities" : "max");
	snprintf(a->mem, sizeof(a->mem), "%u", cfg->memory_mib ? cfg->memory_mib : 512);
	snprintf(a->smp, sizeof(a->smp), "%u", cfg->cpus ? cfg->cpus : 1);
	arg(a, "-m");
	arg(a, a->mem);
	arg(a, "-smp");
	arg(a, a->smp);
	arg(a, "-display");
	arg(a, "none");
	arg(a, "-monitor");
	arg(a, "none");
	arg(a, "-no-reboot");
	/* On a terminal Ctrl-C stays a signal (QEMU's default signal=on): it stops the
	 * machine rather than reaching hv. */
	if (cfg->serial_stdio)
		snprintf(a->serial, sizeof(a->serial), "stdio,id=ser0,logfile=%s", m->serial_log);
	else
		snprintf(a->serial, sizeof(a->serial), "file,id=ser0,path=%s", m->serial_log);
	arg(a, "-chardev");
	arg(a, a->serial);
	arg(a, "-serial");
	arg(a, "chardev:ser0");
	arg(a, "-device");
	arg(a, "isa-debug-exit,iobase=0xf4,iosize=0x04");
	snprintf(a->ivs, sizeof(a->ivs), "socket,path=%s,id=hvlink", m->ivs_path);
	arg(a, "-chardev");
	arg(a, a->ivs);
	arg(a, "-device");
	arg(a, "ivshmem-doorbell,chardev=hvlink,vectors=2");
	snprintf(a->qmp, sizeof(a->qmp), "unix:%s,server=on,wait=off", m->qmp_path);
	arg(a, "-qmp");
	arg(a, a->qmp);
	if (is_iso(cfg->hv)) {
		if (cfg->dom0 || cfg->nr_modules || (cfg->hv_cmdline && *cfg->hv_cmdline))
			return err_set(err, HVCTL_ERR_INVALID,
			               "%s is an ISO: its command line and modules are inside it "
			               "(build it with scripts/mkiso)",
			               cfg->hv);
		arg(a, "-cdrom");
		arg(a, cfg->hv);
	} else {
		arg(a, "-kernel");
		arg(a, cfg->hv);
		if (cfg->hv_cmdline && *cfg->hv_cmdline) {
			arg(a, "-append");
			arg(a, cfg->hv_cmdline);
		}
		a->initrd[0] = '\0';
		if (cfg->dom0)
			add_module(a->initrd, sizeof(a->initrd), cfg->dom0, cfg->dom0_cmdline);
		for (i = 0; i < cfg->nr_modules; i++)
			add_module(a->initrd, sizeof(a->initrd), cfg->modules[i].path,
			           cfg->modules[i].cmdline);
		if (a->initrd[0]) {
			arg(a, "-initrd");
			arg(a, a->initrd);
		}
	}
	for (i = 0; cfg->extra_args && cfg->extra_args[i]; i++)
		arg(a, cfg->extra_args[i]);
	if (a->n >= MAX_ARGS - 1)
		return err_set(err, HVCTL_ERR_INVALID, "too many QEMU arguments");
	return HVCTL_OK;
}

/*
 * Forks and execs argv with stdout/stderr appended to log (stdio kept when keep_stdio).
 * Returns the pid, or -1 with err filled (exec failures come back through a pipe).
 */
static pid_t spawn(const char *const *argv, const char *log, int keep_stdio, int die_with_parent,
                   hvctl_error *err)
{
	int pipefd[2], e = 0, logfd;
	pid_t parent = getpid(), pid;
	ssize_t n;

	logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (logfd < 0) {
		err_set(err, HVCTL_ERR_SYSTEM, "cannot create %s: %s", log, strerror(errno));
		return -1;
	}
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		close(logfd);
		err_set(err, HVCTL_ERR_SYSTEM, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		/* Its own process group, so that a kill of the group reaches only QEMU; on a
		 * terminal it stays in ours (a background group may not read the terminal, and
		 * Ctrl-C should reach QEMU too). */
		if (!keep_stdio)
			setpgid(0, 0);
		if (die_with_parent) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != parent)
				_exit(127);
		}
		if (!keep_stdio) {
			int null = open("/dev/null", O_RDONLY);

			if (null >= 0)
				dup2(null, 0);
			dup2(logfd, 1);
		}
		dup2(logfd, 2);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], (char *const *)argv);
		e = errno;
		if (write(pipefd[1], &e, sizeof(e)) < 0)
			_exit(126);
		_exit(127);
	}
	close(logfd);
	close(pipefd[1]);
	if (pid < 0) {
		close(pipefd[0]);
		err_set(err, HVCTL_ERR_SYSTEM, "fork: %s", strerror(errno));
		return -1;
	}
	while ((n = read(pipefd[0], &e, sizeof(e))) < 0 && errno == EINTR)
		;
	close(pipefd[0]);
	if (n == sizeof(e)) {
		waitpid(pid, NULL, 0);
		err_set(err, HVCTL_ERR_SYSTEM, "cannot run %s: %s", argv[0], strerror(e));
		return -1;
	}
	return pid;
}

/*
 * DESIGN.md decision 11: KVM only where a short probe boot of hv reaches its idle line and
 * exits cleanly (QEMU status 1 = hv's exit 0 through isa-debug-exit).
 */
static int probe_kvm(hvctl_machine *m, const hvctl_machine_config *cfg)
{
	char log[4096], serial[4200], line[600];
	const char *argv[32];
	int n = 0, st = 0, i;
	hvctl_error err;
	pid_t pid;
	FILE *f;
	int ok = 0;

	if (access("/dev/kvm", R_OK | W_OK) != 0 || is_iso(cfg->hv))
		return 0;
	snprintf(log, sizeof(log), "%s/kvm-probe.log", m->dir);
	snprintf(serial, sizeof(serial), "file:%s/kvm-probe.serial", m->dir);
	argv[n++] = qemu_binary(cfg);
	const char *fixed[] = {
	    "-machine",   "q35",          "-accel",
	    "kvm",        "-cpu",         "max,-arch-capabilities",
	    "-m",         "256",          "-smp",
	    "2",          "-display",     "none",
	    "-no-reboot", "-device",      "isa-debug-exit,iobase=0xf4,iosize=0x04",
	    "-append",    "on_idle=exit", "-serial",
	    serial,       "-kernel",      cfg->hv};
	for (i = 0; i < (int)(sizeof(fixed) / sizeof(fixed[0])); i++)
		argv[n++] = fixed[i];
	argv[n] = NULL;
	pid = spawn(argv, log, 0, 1, &err);
	if (pid < 0)
		return 0;
	for (i = 0; i < 200; i++) { /* 20 s */
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		/* On a KVM internal error QEMU stops without exiting: do not wait it out. */
		if (file_contains(log, "KVM internal error")) {
			i = 200;
			break;
		}
		usleep(100000);
	}
	if (i == 200) {
		kill(-pid, SIGKILL);
		waitpid(pid, &st, 0);
		return 0;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
		return 0;
	f = fopen(serial + 5, "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "hv: idle at ", 12) == 0)
			ok = 1;
	if (f)
		fclose(f);
	return ok;
}

static void machine_free(hvctl_machine *m)
{
	if (m->h)
		hvctl_close(m->h);
	m->h = NULL;
	relay_stop(m->relay);
	m->relay = NULL;
	qmp_close(&m->qmp);
	unlink(m->qmp_path);
	unlink(m->pid_path);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* Fills err with why QEMU ended during start, with the end of its logs. Lock held. */
static int early_exit(hvctl_machine *m, hvctl_error *err)
{
	char how[64], tail[160], stail[96];

	describe_status(m->status, how, sizeof(how));
	file_tail(m->qemu_log, tail, sizeof(tail));
	file_tail(m->serial_log, stail, sizeof(stail));
	return err_set(err, HVCTL_ERR_LINK_DOWN, "QEMU %s while starting; %s: %s%s%s", how,
	               m->qemu_log, tail[0] ? tail : "(empty)", stail[0] ? "; serial: " : "",
	               stail);
}

int hvctl_machine_start(const hvctl_machine_config *cfg, hvctl_machine **out)
{
	hvctl_link_config link = {.vectors = 2};
	struct hvctl_transport *lt = NULL;
	hvctl_error err = {0};
	struct argv_buf *a = NULL;
	hvctl_machine *m;
	json_object *st = NULL;
	int rc;
	FILE *f;

	*out = NULL;
	if (!cfg || !cfg->hv || !cfg->state_dir)
		return err_publish(&(hvctl_error){.code = HVCTL_ERR_INVALID,
		                                  .message = "the hv image and the state directory "
		                                             "are required"},
		                   "starting the machine");
	if (access(cfg->hv, R_OK) != 0) {
		err_set(&err, HVCTL_ERR_INVALID, "cannot read %s: %s", cfg->hv, strerror(errno));
		return err_publish(&err, "starting the machine");
	}
	if (cfg->dom0 && access(cfg->dom0, R_OK) != 0) {
		err_set(&err, HVCTL_ERR_INVALID, "cannot read dom0 image %s: %s", cfg->dom0,
		        strerror(errno));
		return err_publish(&err, "starting the machine");
	}
	if (strlen(cfg->state_dir) + 20 > sizeof(((struct sockaddr_un *)0)->sun_path)) {
		err_set(&err, HVCTL_ERR_INVALID,
		        "state directory path too long for UNIX sockets (at most 88 bytes): %s",
		        cfg->state_dir);
		return err_publish(&err, "starting the machine");
	}
	m = calloc(1, sizeof(*m));
	a = calloc(1, sizeof(*a));
	if (!m || !a) {
		free(m);
		free(a);
		return err_publish(
		    &(hvctl_error){.code = HVCTL_ERR_SYSTEM, .message = "out of memory"},
		    "starting the machine");
	}
	pthread_mutex_init(&m->lock, NULL);
	m->qmp.fd = -1;
	snprintf(m->dir, sizeof(m->dir), "%s", cfg->state_dir);
	snprintf(m->qemu_log, sizeof(m->qemu_log), "%s/qemu.log", m->dir);
	if (cfg->serial_log)
		snprintf(m->serial_log, sizeof(m->serial_log), "%s", cfg->serial_log);
	else
		snprintf(m->serial_log, sizeof(m->serial_log), "%s/serial.log", m->dir);
	snprintf(m->qmp_path, sizeof(m->qmp_path), "%s/qmp.sock", m->dir);
	snprintf(m->ivs_path, sizeof(m->ivs_path), "%s/ivshmem.sock", m->dir);
	snprintf(m->relay_path, sizeof(m->relay_path), "%s/hvctl.sock", m->dir);
	snprintf(m->pid_path, sizeof(m->pid_path), "%s/pid", m->dir);

	rc = mkdir_p(m->dir);
	if (rc) {
		err_set(&err, HVCTL_ERR_SYSTEM, "cannot create %s: %s", m->dir, strerror(-rc));
		goto fail;
	}
	/* A pid file of a machine that still runs means the directory is in use. */
	f = fopen(m->pid_path, "r");
	if (f) {
		int other = 0;

		if (fscanf(f, "%d", &other) == 1 && other > 0 && kill(other, 0) == 0) {
			fclose(f);
			err_set(&err, HVCTL_ERR_EXISTS, "a machine (QEMU pid %d) already uses %s",
			        other, m->dir);
			goto fail;
		}
		fclose(f);
	}

	link.socket_path = m->ivs_path;
	rc = link_transport_new(&link, &lt, &err);
	if (rc)
		goto fail;
	rc = relay_start(lt, m->relay_path, &m->relay, &err);
	if (rc)
		goto fail;
	rc = hvctl_open_machine(m->dir, &m->h);
	if (rc) {
		err = *hvctl_last_error();
		goto fail;
	}

	if (!cfg->accel || !*cfg->accel || strcmp(cfg->accel, "tcg") == 0)
		strcpy(m->accel, "tcg");
	else if (strcmp(cfg->accel, "kvm") == 0)
		strcpy(m->accel, "kvm");
	else if (strcmp(cfg->accel, "auto") == 0)
		strcpy(m->accel, probe_kvm(m, cfg) ? "kvm" : "tcg");
	else {
		rc = err_set(&err, HVCTL_ERR_INVALID, "unknown accelerator '%s' (tcg, kvm or auto)",
		             cfg->accel);
		goto fail;
	}

	rc = build_argv(m, cfg, m->accel, a, &err);
	if (rc)
		goto fail;
	unlink(m->qmp_path);
	unlink(m->serial_log); /* an old machine's console must not pass for this one's */
	m->pid = spawn(a->argv, m->qemu_log, cfg->serial_stdio, cfg->die_with_parent, &err);
	if (m->pid < 0) {
		m->pid = 0;
		rc = err.code;
		goto fail;
	}
	f = fopen(m->pid_path, "w");
	if (f) {
		fprintf(f, "%d\n", (int)m->pid);
		fclose(f);
	}

	pthread_mutex_lock(&m->lock);
	rc = qmp_open(&m->qmp, m->qmp_path, cfg->start_timeout_ms ? cfg->start_timeout_ms : 30000,
	              alive_cb, m, &err);
	if (!rc)
		rc = qmp_command(&m->qmp, "query-status", NULL, 10000, &st, &err);
	if (rc && !poll_exit(m))
		rc = early_exit(m, &err);
	pthread_mutex_unlock(&m->lock);
	json_object_put(st);
	if (rc)
		goto fail;

	if (cfg->wait_agent) {
		rc = hvctl_machine_wait_ready(m, cfg->agent_timeout_ms ? cfg->agent_timeout_ms
		                                                       : 60000);
		if (rc) {
			err = *hvctl_last_error();
			pthread_mutex_lock(&m->lock);
			if (!poll_exit(m))
				rc = early_exit(m, &err);
			pthread_mutex_unlock(&m->lock);
			goto fail;
		}
	}
	free(a);
	*out = m;
	return HVCTL_OK;

fail:
	free(a);
	pthread_mutex_lock(&m->lock);
	kill_and_reap(m);
	pthread_mutex_unlock(&m->lock);
	machine_free(m);
	return err_publish(&err, "starting the machine");
}

/* ---- running ---- */

hvctl *hvctl_machine_handle(hvctl_machine *m)
{
	return m->h;
}

int hvctl_machine_wait_ready(hvctl_machine *m, unsigned timeout_ms)
{
	return hvctl_wait_ready(m->h, timeout_ms);
}

pid_t hvctl_machine_pid(hvctl_machine *m)
{
	return m->pid;
}

const char *hvctl_machine_accel(hvctl_machine *m)
{
	return m->accel;
}

int hvctl_machine_link_connected(hvctl_machine *m)
{
	return m->relay && link_transport_machine(relay_link(m->relay), NULL);
}

int hvctl_machine_running(hvctl_machine *m, int *status)
{
	int running;

	pthread_mutex_lock(&m->lock);
	running = poll_exit(m);
	if (!running && status)
		*status = m->status;
	pthread_mutex_unlock(&m->lock);
	return running;
}

int hvctl_machine_qmp(hvctl_machine *m, const char *command, const char *args_json, char **reply)
{
	json_object *args = NULL, *ret = NULL;
	hvctl_error err = {0};
	int rc;

	if (reply)
		*reply = NULL;
	if (!command)
		return err_publish(
		    &(hvctl_error){.code = HVCTL_ERR_INVALID, .message = "no command given"},
		    "QMP");
	if (args_json) {
		args = json_tokener_parse(args_json);
		if (!args || !json_object_is_type(args, json_type_object)) {
			json_object_put(args);
			err_set(&err, HVCTL_ERR_INVALID, "arguments are not a JSON object: %s",
			        args_json);
			return err_publish(&err, "QMP");
		}
	}
	pthread_mutex_lock(&m->lock);
	rc = qmp_command(&m->qmp, command, args, 10000, &ret, &err);
	pthread_mutex_unlock(&m->lock);
	json_object_put(args);
	if (rc)
		return err_publish(&err, "QMP");
	if (reply) {
		*reply = strdup(ret ? json_object_to_json_string_ext(ret, JSON_C_TO_STRING_PLAIN)
		                    : "null");
		if (!*reply)
			rc = err_publish(
			    &(hvctl_error){.code = HVCTL_ERR_SYSTEM, .message = "out of memory"},
			    "QMP");
	}
	json_object_put(ret);
	return rc;
}

/* ---- stopping ---- */

/* Waits until QEMU exits or deadline passes. Returns 1 if it exited. */
static int wait_exit_until(hvctl_machine *m, int64_t deadline)
{
	for (;;) {
		int running;

		pthread_mutex_lock(&m->lock);
		running = poll_exit(m);
		pthread_mutex_unlock(&m->lock);
		if (!running)
			return 1;
		if (now_ns() >= deadline)
			return 0;
		usleep(20000);
	}
}

int hvctl_machine_stop(hvctl_machine *m, unsigned timeout_ms, int *status)
{
	int64_t start = now_ns(), deadline;
	hvctl_error err = {0};
	int rc = HVCTL_OK, exited;

	if (!m)
		return HVCTL_OK;
	if (!timeout_ms)
		timeout_ms = 15000;
	deadline = start + (int64_t)timeout_ms * 1000000;
	/* dom0 first, so that it can shut its domains down; half the time for that. hv may
	 * stay up after dom0 (it does unless told on_dom0_exit=exit): once dom0 is down, or
	 * the link is, QEMU is told to quit. */
	if (hvctl_machine_running(m, NULL)) {
		hvctl_domain_info d0;

		hvctl_set_timeout(m->h, 2000);
		if (hvctl_hello(m->h, NULL) == HVCTL_OK &&
		    hvctl_domain_shutdown(m->h, 0, HVCTL_SHUTDOWN_POWEROFF) == HVCTL_OK) {
			int64_t half = start + (int64_t)timeout_ms * 500000;

			while (now_ns() < half && hvctl_machine_running(m, NULL) &&
			       hvctl_domain_info_get(m->h, 0, &d0) == HVCTL_OK &&
			       d0.state != HVCTL_DOMAIN_SHUTDOWN &&
			       d0.state != HVCTL_DOMAIN_CRASHED && d0.state != HVCTL_DOMAIN_GONE)
				usleep(50000);
		}
	}
	if (hvctl_machine_running(m, NULL)) {
		pthread_mutex_lock(&m->lock);
		if (qmp_command(&m->qmp, "quit", NULL, 5000, NULL, &err) != HVCTL_OK)
			kill(m->pid, SIGTERM);
		pthread_mutex_unlock(&m->lock);
	}
	exited = wait_exit_until(m, deadline);
	pthread_mutex_lock(&m->lock);
	if (!exited) {
		kill_and_reap(m);
		rc = err_set(&err, HVCTL_ERR_TIMEOUT,
		             "QEMU (pid %d) did not stop within %u ms: killed", (int)m->pid,
		             timeout_ms);
	}
	if (status)
		*status = m->status;
	/* No kill of QEMU's group here: once reaped, its id may belong to someone else. */
	pthread_mutex_unlock(&m->lock);
	machine_free(m);
	if (rc)
		return err_publish(&err, "stopping the machine");
	return HVCTL_OK;
}
