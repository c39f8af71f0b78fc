/*
 * Interoperability of libhvctl's ivshmem server with QEMU itself: hvctl_open_link serves the
 * link; a real qemu-system-x86_64 (TCG, stopped with -S, no guest code runs) connects its
 * ivshmem-doorbell device to it. The library must see the machine connect; QEMU must accept
 * the handshake (it stays up, and QMP's query-pci shows the ivshmem device, 1af4:1110, with
 * BAR 2 the size of our shared memory and the MSI-X BAR for the doorbell vectors); when QEMU
 * quits the library must see it go. Skipped (exit 77) when QEMU is not installed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "hvctl.h"

#define SHM_SIZE (1u << 20)

static pid_t qemu_pid;

static void kill_qemu(void)
{
	if (qemu_pid > 0)
		kill(-qemu_pid, SIGKILL);
}

static void on_alarm(int sig)
{
	(void)sig;
	kill_qemu();
	_exit(1);
}

static const char *find_qemu(void)
{
	static char path[4096];
	const char *env = getenv("QEMU"), *p;

	if (env && *env)
		return access(env, X_OK) == 0 ? env : NULL;
	for (p = getenv("PATH"); p && *p;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		snprintf(path, sizeof(path), "%.*s/qemu-system-x86_64", (int)n, p);
		if (access(path, X_OK) == 0)
			return path;
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/* Waits until a call's error message mentions what (the library's view of the machine). */
static int wait_state(hvctl *h, const char *what, int seconds)
{
	int i;

	for (i = 0; i < seconds * 20; i++) {
		if (hvctl_hello(h, NULL) != HVCTL_OK && strstr(hvctl_last_error()->message, what))
			return 1;
		usleep(50000);
	}
	fprintf(stderr, "waited for \"%s\", last: %s\n", what, hvctl_last_error()->message);
	return 0;
}

/* One QMP exchange: sends cmd (if any) and returns the first reply that is not an event. */
static json_object *qmp(int fd, const char *cmd)
{
	static char buf[1 << 20];
	static size_t have;

	if (cmd && write(fd, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		return NULL;
	for (;;) {
		char *nl = memchr(buf, '\n', have);
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		if (nl) {
			json_object *o;

			*nl = '\0';
			o = json_tokener_parse(buf);
			memmove(buf, nl + 1, have - (size_t)(nl + 1 - buf));
			have -= (size_t)(nl + 1 - buf);
			if (o && !json_object_object_get_ex(o, "event", NULL))
				return o;
			json_object_put(o);
			continue;
		}
		if (poll(&p, 1, 20000) != 1)
			return NULL;
		n = read(fd, buf + have, sizeof(buf) - 1 - have);
		if (n <= 0)
			return NULL;
		have += (size_t)n;
	}
}

static int qmp_connect(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int i, fd;

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	for (i = 0; i < 400; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		close(fd);
		usleep(50000);
	}
	return -1;
}

/* Looks for 1af4:1110 in query-pci's answer; returns its BAR 2 size, *msix = BAR 1 seen. */
static long long ivshmem_bar2(json_object *reply, int *msix)
{
	json_object *ret, *bus, *devices;
	size_t b, d, r;

	*msix = 0;
	if (!json_object_object_get_ex(reply, "return", &ret))
		return -1;
	for (b = 0; b < json_object_array_length(ret); b++) {
		bus = json_object_array_get_idx(ret, b);
		if (!json_object_object_get_ex(bus, "devices", &devices))
			continue;
		for (d = 0; d < json_object_array_length(devices); d++) {
			json_object *dev = json_object_array_get_idx(devices, d), *id, *v, *regions;
			long long size = -1;

			if (!json_object_object_get_ex(dev, "id", &id) ||
			    !json_object_object_get_ex(id, "vendor", &v) ||
			    json_object_get_int(v) != 0x1af4 ||
			    !json_object_object_get_ex(id, "device", &v) ||
			    json_object_get_int(v) != 0x1110)
				continue;
			if (!json_object_object_get_ex(dev, "regions", &regions))
				return -1;
			for (r = 0; r < json_object_array_length(regions); r++) {
				json_object *reg = json_object_array_get_idx(regions, r), *bar, *sz;

				if (!json_object_object_get_ex(reg, "bar", &bar) ||
				    !json_object_object_get_ex(reg, "size", &sz))
					continue;
				if (json_object_get_int(bar) == 1)
					*msix = 1;
				if (json_object_get_int(bar) == 2)
					size = json_object_get_int64(sz);
			}
			return size;
		}
	}
	return -1;
}

int main(void)
{
	char dir[] = "/tmp/hvctl-qemu-XXXXXX", sock[128], qmp_path[128], log[128], cmd[64];
	hvctl_link_config cfg = {.shm_size = SHM_SIZE, .vectors = 2};
	const char *qemu = find_qemu();
	json_object *o;
	long long bar2;
	int fd, msix, status, i;
	FILE *lf;
	hvctl *h;

	if (!qemu) {
		printf("SKIP: qemu-system-x86_64 not found\n");
		return 77;
	}
	signal(SIGALRM, on_alarm);
	alarm(90);
	atexit(kill_qemu); /* a failed REQUIRE must not leave QEMU running */
	REQUIRE(mkdtemp(dir));
	snprintf(sock, sizeof(sock), "%s/link.sock", dir);
	snprintf(qmp_path, sizeof(qmp_path), "%s/qmp.sock", dir);
	snprintf(log, sizeof(log), "%s/qemu.log", dir);
	cfg.socket_path = sock;
	REQUIRE(hvctl_open_link(&cfg, &h) == HVCTL_OK);

	qemu_pid = fork();
	REQUIRE(qemu_pid >= 0);
	if (qemu_pid == 0) {
		char chardev[200], qmparg[200];
		int lfd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		setpgid(0, 0);
		dup2(lfd, 1);
		dup2(lfd, 2);
		snprintf(chardev, sizeof(chardev), "socket,path=%s,id=hvlink", sock);
		snprintf(qmparg, sizeof(qmparg), "unix:%s,server=on,wait=off", qmp_path);
		execl(qemu, qemu, "-accel", "tcg", "-machine", "q35", "-nodefaults", "-nographic",
		      "-display", "none", "-monitor", "none", "-serial", "none", "-S", "-m", "64M",
		      "-chardev", chardev, "-device", "ivshmem-doorbell,chardev=hvlink,vectors=2",
		      "-qmp", qmparg, (char *)NULL);
		_exit(127);
	}
	setpgid(qemu_pid, qemu_pid);

	/* The library sees the machine connect (its agent cannot attach: no guest runs). */
	CHECK(wait_state(h, "a machine connected", 30));

	fd = qmp_connect(qmp_path);
	REQUIRE(fd >= 0);
	o = qmp(fd, NULL); /* greeting */
	REQUIRE(o && json_object_object_get_ex(o, "QMP", NULL));
	json_object_put(o);
	o = qmp(fd, "{\"execute\":\"qmp_capabilities\"}\n");
	REQUIRE(o && json_object_object_get_ex(o, "return", NULL));
	json_object_put(o);
	o = qmp(fd, "{\"execute\":\"query-pci\"}\n");
	REQUIRE(o);
	bar2 = ivshmem_bar2(o, &msix);
	json_object_put(o);
	printf("QEMU's ivshmem device: BAR 2 %lld bytes, MSI-X BAR %s\n", bar2,
	       msix ? "present" : "absent");
	CHECK_EQ(bar2, SHM_SIZE);
	CHECK(msix);
	o = qmp(fd, "{\"execute\":\"query-status\"}\n");
	CHECK(o && strstr(json_object_to_json_string(o), "\"prelaunch\"") != NULL);
	json_object_put(o);

	/* QEMU quits: the library sees the machine go. */
	snprintf(cmd, sizeof(cmd), "{\"execute\":\"quit\"}\n");
	o = qmp(fd, cmd);
	json_object_put(o);
	for (i = 0; i < 200 && waitpid(qemu_pid, &status, WNOHANG) == 0; i++)
		usleep(50000);
	CHECK(i < 200);
	if (i == 200)
		kill_qemu();
	qemu_pid = 0;
	close(fd);
	CHECK(wait_state(h, "the machine disconnected", 10));

	/* QEMU had nothing to complain about. */
	lf = fopen(log, "r");
	if (lf) {
		char line[512];

		while (fgets(line, sizeof(line), lf)) {
			fprintf(stderr, "qemu: %s", line);
			CHECK(!strstr(line, "ivshmem") && !strstr(line, "rror"));
		}
		fclose(lf);
	}
	hvctl_close(h);
	unlink(log);
	unlink(qmp_path);
	rmdir(dir);
	CHECK_DONE();
}
