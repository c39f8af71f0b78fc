/*
 * hv-machine: starts, stops and inspects the machine (QEMU with hv, dom0 and the management
 * link) through libhvctl's machine starter (hvctl-machine.h): the one way the project starts
 * it, for people, for scripts and tests, and for hvctl's examples.
 *
 *   hv-machine start --dir DIR --hv hv.elf [--dom0 guest.elf] [options] [-- QEMU-ARGS]
 *   hv-machine stop --dir DIR
 *   hv-machine status --dir DIR
 *
 * "start" stays in the foreground (the link and its relay live in this process) until
 * Ctrl-C, SIGTERM, "hv-machine stop", or QEMU's own exit; with --detach it forks into the
 * background and returns once the machine is up. Either way the machine is stopped cleanly
 * (hvctl_machine_stop) and nothing is left running. DIR/hv-machine.pid names the process that
 * holds the machine, so that stop and status find it.
 *
 * Exit codes: 0 success (and a machine whose hv exited 0); 1 the machine failed to start or
 * ended badly; 2 usage error; 3 (status, stop) no machine at DIR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hvctl-machine.h"

#define EXIT_FAILED  1
#define EXIT_USAGE   2
#define EXIT_NOREACH 3
#define MAX_MODULES  16
#define MAX_EXTRA    64

static hvctl_machine_config cfg;
static hvctl_machine_module modules[MAX_MODULES];
static const char *extra[MAX_EXTRA + 1];
static unsigned nextra, wait_agent_s, stop_timeout_s = 15;
static int detach;

static const struct option start_opts[] = {
    {"dir", required_argument, NULL, 'd'},
    {"hv", required_argument, NULL, 'k'},
    {"cmdline", required_argument, NULL, 'c'},
    {"dom0", required_argument, NULL, '0'},
    {"dom0-cmdline", required_argument, NULL, 'C'},
    {"module", required_argument, NULL, 'M'},
    {"memory", required_argument, NULL, 'm'},
    {"cpus", required_argument, NULL, 'p'},
    {"accel", required_argument, NULL, 'a'},
    {"serial-log", required_argument, NULL, 's'},
    {"console", no_argument, NULL, 'T'},
    {"wait-agent", required_argument, NULL, 'w'},
    {"start-timeout", required_argument, NULL, 'S'},
    {"stop-timeout", required_argument, NULL, 'x'},
    {"qemu", required_argument, NULL, 'q'},
    {"detach", no_argument, NULL, 'D'},
    {"config", required_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {0},
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: hv-machine start --dir DIR --hv IMAGE [options] [-- QEMU-ARGS...]\n"
	    "       hv-machine stop --dir DIR [--stop-timeout SECONDS]\n"
	    "       hv-machine status --dir DIR\n"
	    "\n"
	    "start options:\n"
	    "  --dir DIR              state directory: sockets, logs, pid files (or $HV_MACHINE)\n"
	    "  --hv IMAGE             hv.elf (booted with QEMU -kernel) or a bootable .iso\n"
	    "  --cmdline TEXT         hv's command line (-kernel only)\n"
	    "  --dom0 ELF             dom0's kernel, boot module 0 (-kernel only)\n"
	    "  --dom0-cmdline TEXT    dom0's command line\n"
	    "  --module 'PATH ARGS'   one more boot module (repeatable)\n"
	    "  --memory MiB           machine memory (default 512)\n"
	    "  --cpus N               CPUs (default 1)\n"
	    "  --accel tcg|kvm|auto   accelerator (default tcg; auto: KVM after a probe boot)\n"
	    "  --serial-log PATH      hv's serial console log (default DIR/serial.log)\n"
	    "  --console              the serial console on this terminal too\n"
	    "  --wait-agent SECONDS   wait until dom0's agent answers (default: do not wait)\n"
	    "  --start-timeout SECS   QEMU up and answering QMP (default 30)\n"
	    "  --stop-timeout SECS    clean stop before QEMU is killed (default 15)\n"
	    "  --qemu PATH            QEMU binary (default $HV_QEMU or qemu-system-x86_64)\n"
	    "  --detach               return once started; the machine runs in the background\n"
	    "  --config FILE          options from FILE, one 'name = value' per line\n"
	    "\n"
	    "Exit status: 0 success, 1 failure, 2 usage error, 3 no machine at DIR.\n");
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int bad(const char *opt, const char *val)
{
	fprintf(stderr, "hv-machine: bad value for --%s: '%s'\n", opt, val);
	return EXIT_USAGE;
}

static int read_config(const char *path);

/* Applies one start option (from the command line or a config file). */
static int apply(int c, const char *arg)
{
	char *v = arg ? strdup(arg) : NULL; /* kept for the process's lifetime */
	unsigned n;

	switch (c) {
	case 'd':
		cfg.state_dir = v;
		break;
	case 'k':
		cfg.hv = v;
		break;
	case 'c':
		cfg.hv_cmdline = v;
		break;
	case '0':
		cfg.dom0 = v;
		break;
	case 'C':
		cfg.dom0_cmdline = v;
		break;
	case 'M': {
		char *sp = strchr(v, ' ');

		if (cfg.nr_modules >= MAX_MODULES)
			return bad("module", "too many modules");
		if (sp)
			*sp++ = '\0';
		modules[cfg.nr_modules].path = v;
		modules[cfg.nr_modules].cmdline = sp;
		cfg.nr_modules++;
		cfg.modules = modules;
		break;
	}
	case 'm':
		if (parse_uint(v, 1u << 20, &n) || n < 16)
			return bad("memory", v);
		cfg.memory_mib = n;
		break;
	case 'p':
		if (parse_uint(v, 255, &n) || n == 0)
			return bad("cpus", v);
		cfg.cpus = n;
		break;
	case 'a':
		if (strcmp(v, "tcg") && strcmp(v, "kvm") && strcmp(v, "auto"))
			return bad("accel", v);
		cfg.accel = v;
		break;
	case 's':
		cfg.serial_log = v;
		break;
	case 'T':
		cfg.serial_stdio = 1;
		break;
	case 'w':
		if (parse_uint(v, 3600, &wait_agent_s))
			return bad("wait-agent", v);
		break;
	case 'S':
		if (parse_uint(v, 3600, &n) || n == 0)
			return bad("start-timeout", v);
		cfg.start_timeout_ms = n * 1000;
		break;
	case 'x':
		if (parse_uint(v, 3600, &stop_timeout_s) || stop_timeout_s == 0)
			return bad("stop-timeout", v);
		break;
	case 'q':
		cfg.qemu = v;
		break;
	case 'D':
		detach = 1;
		break;
	case 'f':
		return read_config(v);
	default:
		return EXIT_USAGE;
	}
	return 0;
}

/* "name = value" lines (or "name" alone for flags); '#' starts a comment line. */
static int read_config(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[4096];
	int lineno = 0, rc = 0;

	if (!f) {
		fprintf(stderr, "hv-machine: cannot read config %s: %s\n", path, strerror(errno));
		return EXIT_USAGE;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		char *name = line, *val = NULL, *eq, *end;
		const struct option *o;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		while (*name == ' ' || *name == '\t')
			name++;
		if (!*name || *name == '#')
			continue;
		eq = strchr(name, '=');
		if (eq) {
			val = eq + 1;
			while (*val == ' ' || *val == '\t')
				val++;
			*eq = '\0';
		}
		for (end = name + strlen(name); end > name && (end[-1] == ' ' || end[-1] == '\t');)
			*--end = '\0';
		for (o = start_opts; o->name && strcmp(o->name, name); o++)
			;
		if (!o->name || o->val == 'f' || o->val == 'h' ||
		    (o->has_arg == required_argument) != (val != NULL)) {
			fprintf(stderr, "hv-machine: %s:%d: unknown or malformed setting '%s'\n",
			        path, lineno, name);
			rc = EXIT_USAGE;
			break;
		}
		rc = apply(o->val, val);
	}
	fclose(f);
	return rc;
}

static void path_in(char *out, size_t size, const char *dir, const char *name)
{
	snprintf(out, size, "%s/%s", dir, name);
}

/* Alive and not a zombie (a holder that exited stays a zombie until its parent reaps it). */
static int alive(pid_t pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int zombie = 0;

	if (pid <= 0 || kill(pid, 0) != 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ' && p[2] == 'Z')
		zombie = 1;
	fclose(f);
	return !zombie;
}

static pid_t read_pid(const char *dir, const char *name)
{
	char path[4200];
	FILE *f;
	int pid = 0;

	path_in(path, sizeof(path), dir, name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%d", &pid) != 1)
		pid = 0;
	fclose(f);
	return alive(pid) ? pid : 0;
}

static const char *default_dir(const char *dir)
{
	if (dir && *dir)
		return dir;
	dir = getenv("HV_MACHINE");
	return dir && *dir ? dir : NULL;
}

/* Runs the machine until a signal or QEMU's exit; returns the exit code. */
static int run(int ready_fd)
{
	hvctl_machine *m = NULL;
	sigset_t set;
	char path[4200];
	int status = 0, qemu_ended = 0, rc;
	FILE *f;

	/* Blocked here, before any thread exists, so that only sigtimedwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	cfg.die_with_parent = 1;
	cfg.extra_args = nextra ? extra : NULL;
	if (wait_agent_s) {
		cfg.wait_agent = 1;
		cfg.agent_timeout_ms = wait_agent_s * 1000;
	}
	if (hvctl_machine_start(&cfg, &m) != HVCTL_OK) {
		const char *msg = hvctl_last_error()->message;

		fprintf(stderr, "hv-machine: %s\n", msg);
		if (ready_fd >= 0 && write(ready_fd, msg, strlen(msg)) < 0)
			perror("hv-machine");
		return EXIT_FAILED;
	}
	path_in(path, sizeof(path), cfg.state_dir, "hv-machine.pid");
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
	if (!cfg.serial_stdio || ready_fd >= 0)
		printf("hv-machine: started in %s (QEMU pid %d, %s)\n", cfg.state_dir,
		       (int)hvctl_machine_pid(m), hvctl_machine_accel(m));
	fflush(stdout);
	if (ready_fd >= 0) {
		if (write(ready_fd, "", 1) < 0)
			perror("hv-machine");
		close(ready_fd);
	}

	for (;;) {
		struct timespec tick = {0, 200 * 1000 * 1000};
		int sig = sigtimedwait(&set, NULL, &tick);

		if (sig > 0)
			break;
		if (!hvctl_machine_running(m, &status)) {
			qemu_ended = 1;
			break;
		}
	}
	rc = hvctl_machine_stop(m, stop_timeout_s * 1000, &status);
	unlink(path);
	if (rc != HVCTL_OK)
		fprintf(stderr, "hv-machine: %s\n", hvctl_last_error()->message);
	if (WIFEXITED(status)) {
		int s = WEXITSTATUS(status);

		/* isa-debug-exit: QEMU's status is (v << 1) | 1 for hv's exit code v. */
		if (qemu_ended && (s & 1))
			fprintf(stderr, "hv-machine: hv exited with code %d\n", s >> 1);
		else if (qemu_ended)
			fprintf(stderr, "hv-machine: QEMU exited with status %d\n", s);
		return (s == 0 || s == 1) && rc == HVCTL_OK ? 0 : EXIT_FAILED;
	}
	fprintf(stderr, "hv-machine: QEMU ended by signal %d\n",
	        WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return qemu_ended ? EXIT_FAILED : (rc == HVCTL_OK ? 0 : EXIT_FAILED);
}

static int cmd_start(int argc, char **argv)
{
	int c, rc, i;

	while ((c = getopt_long(argc, argv, "+h", start_opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == '?')
			return EXIT_USAGE;
		if ((rc = apply(c, optarg)))
			return rc;
	}
	for (i = optind; i < argc; i++) { /* after "--": QEMU's */
		if (nextra >= MAX_EXTRA) {
			fprintf(stderr, "hv-machine: too many QEMU arguments\n");
			return EXIT_USAGE;
		}
		extra[nextra++] = argv[i];
	}
	cfg.state_dir = default_dir(cfg.state_dir);
	if (!cfg.state_dir || !cfg.hv) {
		fprintf(stderr, "hv-machine start: --dir DIR and --hv IMAGE are required\n"
		                "Try 'hv-machine --help'.\n");
		return EXIT_USAGE;
	}
	if (!detach)
		return run(-1);

	/* --detach: the child holds the machine; the parent waits for its word. */
	{
		int p[2];
		char buf[512];
		ssize_t n;
		pid_t pid;

		if (pipe(p) != 0) {
			perror("hv-machine: pipe");
			return EXIT_FAILED;
		}
		cfg.serial_stdio = 0;
		pid = fork();
		if (pid < 0) {
			perror("hv-machine: fork");
			return EXIT_FAILED;
		}
		if (pid == 0) {
			char log[4200];
			FILE *out;

			close(p[0]);
			setsid();
			mkdir(cfg.state_dir, 0755);
			path_in(log, sizeof(log), cfg.state_dir, "hv-machine.log");
			out = freopen(log, "a", stdout);
			if (!out || !freopen(log, "a", stderr) || !freopen("/dev/null", "r", stdin))
				_exit(EXIT_FAILED);
			_exit(run(p[1]));
		}
		close(p[1]);
		n = read(p[0], buf, sizeof(buf) - 1);
		close(p[0]);
		if (n == 1 && buf[0] == '\0') {
			printf("hv-machine: started in %s (holder pid %d)\n", cfg.state_dir,
			       (int)pid);
			return 0;
		}
		buf[n > 0 ? n : 0] = '\0';
		waitpid(pid, NULL, 0);
		fprintf(stderr, "hv-machine: %s\n", n > 0 ? buf : "the machine did not start");
		return EXIT_FAILED;
	}
}

static int dir_only(int argc, char **argv, const char **dir)
{
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
	                                     {"stop-timeout", required_argument, NULL, 'x'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	int c;

	*dir = NULL;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'd')
			*dir = optarg;
		else if (c == 'x') {
			if (parse_uint(optarg, 3600, &stop_timeout_s) || stop_timeout_s == 0)
				return bad("stop-timeout", optarg);
		} else if (c == 'h') {
			usage(stdout);
			exit(0);
		} else
			return EXIT_USAGE;
	}
	if (optind != argc) {
		fprintf(stderr, "hv-machine: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	*dir = default_dir(*dir);
	if (!*dir) {
		fprintf(stderr, "hv-machine: --dir DIR is required\n");
		return EXIT_USAGE;
	}
	return 0;
}

static int cmd_stop(int argc, char **argv)
{
	const char *dir;
	pid_t holder, qemu;
	int rc = dir_only(argc, argv, &dir), i;

	if (rc)
		return rc;
	holder = read_pid(dir, "hv-machine.pid");
	qemu = read_pid(dir, "pid");
	if (!holder) {
		if (qemu) { /* a holder that died without its QEMU: should not happen */
			kill(qemu, SIGKILL);
			fprintf(stderr, "hv-machine: no holder process; killed QEMU %d\n",
			        (int)qemu);
			return 0;
		}
		fprintf(stderr, "hv-machine: no machine runs in %s\n", dir);
		return EXIT_NOREACH;
	}
	kill(holder, SIGTERM);
	for (i = 0; i < (int)(stop_timeout_s + 5) * 20 && alive(holder); i++)
		usleep(50000);
	if (alive(holder)) {
		kill(holder, SIGKILL); /* QEMU dies with it (die_with_parent) */
		fprintf(stderr, "hv-machine: the holder (pid %d) did not stop: killed\n",
		        (int)holder);
		return EXIT_FAILED;
	}
	printf("hv-machine: stopped %s\n", dir);
	return 0;
}

static int cmd_status(int argc, char **argv)
{
	const char *dir;
	pid_t holder, qemu;
	hvctl *h = NULL;
	hvctl_version v;
	int rc = dir_only(argc, argv, &dir);

	if (rc)
		return rc;
	holder = read_pid(dir, "hv-machine.pid");
	qemu = read_pid(dir, "pid");
	if (!holder || !qemu) {
		printf("state: stopped\n");
		return EXIT_NOREACH;
	}
	printf("state: running\nholder_pid: %d\nqemu_pid: %d\n", (int)holder, (int)qemu);
	if (hvctl_open_machine(dir, &h) == HVCTL_OK && hvctl_wait_ready(h, 2000) == HVCTL_OK &&
	    hvctl_hello(h, &v) == HVCTL_OK)
		printf("agent: answering\nhv_version: %s\n", v.hv_version);
	else
		printf("agent: not answering (%s)\n", hvctl_last_error()->message);
	hvctl_close(h);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (strcmp(argv[1], "start") == 0)
		return cmd_start(argc - 1, argv + 1);
	if (strcmp(argv[1], "stop") == 0)
		return cmd_stop(argc - 1, argv + 1);
	if (strcmp(argv[1], "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	fprintf(stderr, "hv-machine: no command '%s' (start, stop, status)\n", argv[1]);
	return EXIT_USAGE;
}
