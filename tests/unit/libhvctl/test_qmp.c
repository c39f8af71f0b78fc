/*
 * The QMP client (libhvctl/qmp.c) and the machine starter (libhvctl/machine.c) against a real
 * QEMU, plus the client against misbehaving fake QMP servers.
 *
 *  - a stopped QEMU (-S, no guest code runs): query-status says not running; an unknown
 *    command comes back as QEMU's CommandNotFound; cont makes it run and the RESUME event is
 *    recorded, not taken for a reply; quit ends QEMU;
 *  - fake servers: a line that is not JSON, a server that never answers (timeout within its
 *    bound), no greeting;
 *  - hvctl_machine_start with hv.elf (if built) and QEMU held with -S: the ivshmem device
 *    connects to the link's server, raw QMP works through hvctl_machine_qmp, stop leaves no
 *    child process; a QEMU that dies at once is reported with the end of its log.
 * Skipped (77) without QEMU. Everything under alarm(); QEMU killed on any exit.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hvctl-machine.h"
#include "internal.h"
#include "qmp.h"

static pid_t qemu_pid;
static char dir[256];

static void cleanup(void)
{
	if (qemu_pid > 0)
		kill(-qemu_pid, SIGKILL);
}

static void on_alarm(int sig)
{
	(void)sig;
	cleanup();
	_exit(1);
}

static int have_qemu(void)
{
	return system("command -v \"${HV_QEMU:-qemu-system-x86_64}\" >/dev/null 2>&1") == 0;
}

/* Children of this process (from /proc): the machine starter must leave none behind. */
static int count_children(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d))) {
		char path[300], buf[512];
		FILE *f;
		int ppid = 0;
		char *p;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == getpid())
			n++;
		fclose(f);
	}
	if (d)
		closedir(d);
	return n;
}

static void test_real_qemu(void)
{
	char sock[300];
	struct qmp q;
	hvctl_error err = {0};
	json_object *ret = NULL, *v;
	int rc, st, i;

	snprintf(sock, sizeof(sock), "%s/q.sock", dir);
	qemu_pid = fork();
	REQUIRE(qemu_pid >= 0);
	if (qemu_pid == 0) {
		char qmparg[400];
		const char *qemu = getenv("HV_QEMU") ? getenv("HV_QEMU") : "qemu-system-x86_64";

		setpgid(0, 0);
		snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", sock);
		execlp(qemu, qemu, "-S", "-machine", "q35", "-accel", "tcg", "-display", "none",
		       "-nodefaults", "-qmp", qmparg, (char *)NULL);
		_exit(127);
	}
	setpgid(qemu_pid, qemu_pid);

	rc = qmp_open(&q, sock, 20000, NULL, NULL, &err);
	CHECK_EQ(rc, HVCTL_OK);
	if (rc) {
		fprintf(stderr, "qmp_open: %s\n", err.message);
		return;
	}
	rc = qmp_command(&q, "query-status", NULL, 5000, &ret, &err);
	CHECK_EQ(rc, HVCTL_OK);
	CHECK(ret && json_object_object_get_ex(ret, "running", &v) && !json_object_get_boolean(v));
	json_object_put(ret);

	rc = qmp_command(&q, "no-such-command", NULL, 5000, &ret, &err);
	CHECK_EQ(rc, HVCTL_ERR_REMOTE);
	CHECK(strstr(err.message, "CommandNotFound") != NULL);
	CHECK(ret == NULL);

	/* cont: QEMU answers and sends RESUME; the next command must still get its own reply. */
	CHECK_EQ(qmp_command(&q, "cont", NULL, 5000, NULL, &err), HVCTL_OK);
	CHECK(qmp_wait_event(&q, "RESUME", 5000) || strcmp(q.last_event, "RESUME") == 0);
	rc = qmp_command(&q, "query-status", NULL, 5000, &ret, &err);
	CHECK_EQ(rc, HVCTL_OK);
	CHECK(ret && json_object_object_get_ex(ret, "running", &v) && json_object_get_boolean(v));
	json_object_put(ret);
	CHECK(q.events >= 1);

	/* quit: a reply, then the socket closes and QEMU exits. */
	rc = qmp_command(&q, "quit", NULL, 5000, NULL, &err);
	CHECK_EQ(rc, HVCTL_OK);
	if (rc)
		fprintf(stderr, "quit: %s\n", err.message);
	for (i = 0; i < 200 && waitpid(qemu_pid, &st, WNOHANG) != qemu_pid; i++)
		usleep(50000);
	CHECK(i < 200);
	if (i == 200)
		cleanup();
	qemu_pid = 0;
	rc = qmp_command(&q, "query-status", NULL, 2000, NULL, &err);
	CHECK(rc == HVCTL_ERR_LINK_DOWN);
	qmp_close(&q);
}

/* ---- fake QMP servers ---- */

struct fake {
	int listen_fd;
	int mode; /* 0: garbage reply; 1: silent after greeting; 2: no greeting, closes */
};

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	int fd = accept(f->listen_fd, NULL, NULL);
	char buf[4096];
	const char *greeting = "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\r\n";

	if (fd < 0)
		return NULL;
	if (f->mode == 2) {
		close(fd);
		return NULL;
	}
	if (write(fd, greeting, strlen(greeting)) < 0)
		goto out;
	if (read(fd, buf, sizeof(buf)) <= 0) /* qmp_capabilities */
		goto out;
	if (f->mode == 0) {
		const char *ok = "{\"return\": {}}\r\n", *junk = "this is not json\r\n";

		if (write(fd, ok, strlen(ok)) < 0 || read(fd, buf, sizeof(buf)) <= 0 ||
		    write(fd, junk, strlen(junk)) < 0)
			goto out;
		sleep(1);
	} else {
		sleep(3); /* never answers capabilities */
	}
out:
	close(fd);
	return NULL;
}

static void test_fake(int mode)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	struct fake f = {.mode = mode};
	hvctl_error err = {0};
	pthread_t t;
	struct qmp q;
	int64_t t0;
	int rc;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s/fake%d.sock", dir, mode);
	f.listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
	REQUIRE(f.listen_fd >= 0 && bind(f.listen_fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	        listen(f.listen_fd, 1) == 0);
	REQUIRE(pthread_create(&t, NULL, fake_main, &f) == 0);
	t0 = now_ns();
	rc = qmp_open(&q, a.sun_path, 1000, NULL, NULL, &err);
	if (mode == 0) {
		CHECK_EQ(rc, HVCTL_OK);
		if (rc == HVCTL_OK) {
			rc = qmp_command(&q, "query-status", NULL, 1000, NULL, &err);
			CHECK_EQ(rc, HVCTL_ERR_PROTOCOL);
			CHECK(strstr(err.message, "not a JSON object") != NULL);
			qmp_close(&q);
		}
	} else if (mode == 1) {
		CHECK_EQ(rc, HVCTL_ERR_TIMEOUT);
		CHECK(now_ns() - t0 < 2500000000ll); /* its own bound, not the server's 3 s */
	} else {
		CHECK_EQ(rc, HVCTL_ERR_PROTOCOL);
		CHECK(strstr(err.message, "greeting") != NULL);
	}
	if (rc)
		fprintf(stderr, "fake %d: %s\n", mode, err.message);
	pthread_join(t, NULL);
	close(f.listen_fd);
	unlink(a.sun_path);
}

/* ---- the machine starter ---- */

static void test_machine(const char *hv)
{
	const char *held[] = {"-S", NULL};
	hvctl_machine_config cfg = {.hv = hv,
	                            .memory_mib = 128,
	                            .extra_args = held,
	                            .die_with_parent = 1,
	                            .start_timeout_ms = 20000};
	hvctl_machine *m = NULL;
	char sdir[300], *reply = NULL;
	int rc, i, st = -1;
	pid_t pid;

	snprintf(sdir, sizeof(sdir), "%s/machine", dir);
	cfg.state_dir = sdir;
	rc = hvctl_machine_start(&cfg, &m);
	CHECK_EQ(rc, HVCTL_OK);
	if (rc) {
		fprintf(stderr, "machine start: %s\n", hvctl_last_error()->message);
		return;
	}
	pid = hvctl_machine_pid(m);
	qemu_pid = pid;
	CHECK(strcmp(hvctl_machine_accel(m), "tcg") == 0);
	for (i = 0; i < 100 && !hvctl_machine_link_connected(m); i++)
		usleep(50000);
	CHECK(hvctl_machine_link_connected(m)); /* QEMU's ivshmem device found the server */
	CHECK_EQ(hvctl_machine_qmp(m, "query-status", NULL, &reply), HVCTL_OK);
	CHECK(reply && strstr(reply, "\"running\":false"));
	free(reply);
	CHECK_EQ(hvctl_machine_qmp(m, "query-status", "[1]", &reply), HVCTL_ERR_INVALID);
	CHECK(hvctl_machine_running(m, NULL));
	/* No agent: the handle says so, quickly. */
	CHECK_EQ(hvctl_machine_wait_ready(m, 300), HVCTL_ERR_TIMEOUT);
	/* A second machine in the same directory is refused. */
	{
		hvctl_machine *m2 = NULL;

		CHECK_EQ(hvctl_machine_start(&cfg, &m2), HVCTL_ERR_EXISTS);
		CHECK(m2 == NULL);
	}
	rc = hvctl_machine_stop(m, 10000, &st);
	CHECK_EQ(rc, HVCTL_OK); /* QMP quit: QEMU exits by itself */
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CHECK(kill(pid, 0) != 0);
	qemu_pid = 0;
	CHECK_EQ(count_children(), 0);
	CHECK(access("/proc/self", F_OK) == 0);

	/* QEMU that dies at once: start fails with its status and its words. */
	{
		const char *bad[] = {"-no-such-option", NULL};
		int64_t t0 = now_ns();

		cfg.extra_args = bad;
		rc = hvctl_machine_start(&cfg, &m);
		CHECK(rc != HVCTL_OK);
		CHECK(m == NULL);
		CHECK(strstr(hvctl_last_error()->message, "exited with status 1") != NULL);
		CHECK(strstr(hvctl_last_error()->message, "no-such-option") != NULL);
		CHECK(now_ns() - t0 < 10000000000ll);
		fprintf(stderr, "(expected) %s\n", hvctl_last_error()->message);
		CHECK_EQ(count_children(), 0);
	}
	/* Bad configurations are refused before anything starts. */
	cfg.extra_args = NULL;
	cfg.accel = "warp";
	CHECK_EQ(hvctl_machine_start(&cfg, &m), HVCTL_ERR_INVALID);
	cfg.accel = NULL;
	cfg.hv = "/nonexistent/hv.elf";
	CHECK_EQ(hvctl_machine_start(&cfg, &m), HVCTL_ERR_INVALID);
	CHECK(strstr(hvctl_last_error()->message, "/nonexistent/hv.elf") != NULL);
	CHECK_EQ(count_children(), 0);
}

int main(void)
{
	const char *builddir = getenv("HV_BUILDDIR");
	char hv[4096];

	if (!have_qemu()) {
		printf("SKIP: no QEMU\n");
		return 77;
	}
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	alarm(120);
	atexit(cleanup);
	snprintf(dir, sizeof(dir), "/tmp/test-qmp.XXXXXX");
	REQUIRE(mkdtemp(dir));

	test_real_qemu();
	test_fake(0);
	test_fake(1);
	test_fake(2);
	snprintf(hv, sizeof(hv), "%s/hv/hv.elf", builddir ? builddir : ".");
	if (access(hv, R_OK) == 0)
		test_machine(hv);
	else
		printf("no %s: machine starter not tested here\n", hv);

	{
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		CHECK(system(cmd) == 0);
	}
	CHECK_DONE();
}
