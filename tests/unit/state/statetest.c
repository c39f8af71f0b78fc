/*
 * The state layer: definitions, autostart and run state survive a round trip; stale
 * temporary files are removed; damaged files are reported and kept; permission problems give
 * VIR_ERR_SYSTEM_ERROR naming the path; and a writer killed with SIGKILL at random points
 * (100 times) never leaves anything but the old or the new definition.
 */
#include "state/state.h"
#include "util/error.h"

#include <glib/gstdio.h>
#include <libvirt/libvirt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "FAIL (line %d): ", __LINE__);                             \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

/* A definition whose description is fill repeated size times (to make writes slow). */
static hvDomainDef *make_def(const char *name, char fill, gsize size)
{
	g_autofree char *xml = NULL;
	g_autofree char *desc = g_strnfill(size, fill);
	g_autoptr(GError) err = NULL;
	hvDomainDef *def;

	xml = g_strdup_printf("<domain type='hv'><name>%s</name><description>%s</description>"
	                      "<memory>65536</memory><vcpu>1</vcpu><os><type>linux</type></os>"
	                      "<devices><interface type='bridge'><source bridge='br0'/>"
	                      "</interface></devices></domain>",
	                      name, desc);
	def = hv_domain_def_parse(xml, 0, &err);
	if (!def) {
		fprintf(stderr, "cannot build a test definition: %s\n", err->message);
		exit(2);
	}
	return def;
}

static char *temp_dir(void)
{
	return g_dir_make_tmp("hv-state-XXXXXX", NULL);
}

static void remove_tree(const char *path)
{
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", path);

	if (system(cmd) != 0)
		fprintf(stderr, "warning: cannot remove %s\n", path);
}

static gboolean same_def(const hvDomainDef *a, const hvDomainDef *b)
{
	g_autofree char *xa = hv_domain_def_format(a, VIR_DOMAIN_XML_INACTIVE);
	g_autofree char *xb = hv_domain_def_format(b, VIR_DOMAIN_XML_INACTIVE);

	return strcmp(xa, xb) == 0;
}

static void test_round_trip(void)
{
	g_autofree char *dir = temp_dir();
	g_autoptr(GError) err = NULL;
	g_autoptr(hvState) st = hv_state_open(dir, &err);
	g_autoptr(hvDomainDef) a = make_def("alpha", 'a', 10);
	g_autoptr(hvDomainDef) b = make_def("beta", 'b', 10);
	g_autoptr(GPtrArray) defs = NULL, problems = NULL, runs = NULL;
	hvRunState rs = {.domid = 7, .state = VIR_DOMAIN_RUNNING, .reason = 1, .started_at = 42};
	g_autofree char *path = NULL;

	CHECK(st, "open: %s", err ? err->message : "");
	if (!st)
		return;
	CHECK(hv_state_save_def(st, a, &err) == 0 && hv_state_save_def(st, b, &err) == 0, "save");
	CHECK(hv_state_load_all(st, &defs, &problems, &err) == 0, "load_all");
	CHECK(defs->len == 2 && problems->len == 0, "loaded %u defs, %u problems", defs->len,
	      problems->len);
	for (guint i = 0; i < defs->len; i++) {
		hvDomainDef *d = defs->pdata[i];
		CHECK(same_def(d, strcmp(d->name, "alpha") == 0 ? a : b), "%s differs", d->name);
	}
	CHECK(!hv_state_get_autostart(st, "alpha"), "autostart before set");
	CHECK(hv_state_set_autostart(st, "alpha", TRUE, &err) == 0, "set autostart");
	CHECK(hv_state_set_autostart(st, "alpha", TRUE, &err) == 0, "set autostart twice");
	CHECK(hv_state_get_autostart(st, "alpha") && !hv_state_get_autostart(st, "beta"),
	      "autostart flags");
	CHECK(hv_state_set_autostart(st, "../x", TRUE, &err) < 0 &&
	          err->code == VIR_ERR_INVALID_ARG,
	      "bad name accepted");
	g_clear_error(&err);

	rs.live = hv_domain_def_copy(a);
	rs.live->current_memory_kib = 32768;
	CHECK(hv_state_save_run(st, &rs, &err) == 0, "save_run: %s", err ? err->message : "");
	CHECK(hv_state_load_runs(st, &runs, NULL, &err) == 0 && runs->len == 1, "load_runs");
	if (runs && runs->len == 1) {
		hvRunState *r = runs->pdata[0];
		CHECK(r->domid == 7 && r->state == VIR_DOMAIN_RUNNING && r->reason == 1 &&
		          r->started_at == 42 && r->live->id == 7 &&
		          r->live->current_memory_kib == 32768,
		      "run state fields");
	}
	hv_domain_def_free(rs.live);
	CHECK(hv_state_delete_run(st, "alpha", &err) == 0, "delete_run");
	CHECK(hv_state_delete_run(st, "alpha", &err) == 0, "delete_run twice");
	CHECK(hv_state_delete_def(st, "alpha", &err) == 0, "delete_def");
	CHECK(!hv_state_get_autostart(st, "alpha"), "autostart survives delete");
	path = g_build_filename(dir, "alpha.xml", NULL);
	CHECK(!g_file_test(path, G_FILE_TEST_EXISTS), "alpha.xml survives delete");
	remove_tree(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	g_file_set_contents(path, text, -1, NULL);
}

static gboolean exists(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	return g_file_test(path, G_FILE_TEST_EXISTS);
}

static void test_damaged_files(void)
{
	g_autofree char *dir = temp_dir();
	g_autofree char *run = g_build_filename(dir, "run", NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(hvState) st = hv_state_open(dir, &err);
	g_autoptr(hvDomainDef) good = make_def("good", 'g', 10);
	g_autoptr(hvDomainDef) other = make_def("other", 'o', 10);
	g_autoptr(GPtrArray) defs = NULL, problems = NULL, runs = NULL, run_problems = NULL;
	g_autofree char *other_xml = hv_domain_def_format(other, 0);

	hv_state_save_def(st, good, &err);
	write_file(dir, "garbage.xml", "<domain type='hv'><name>garbage</na");
	write_file(dir, "kvm.xml", "<domain type='kvm'><name>kvm</name></domain>");
	write_file(dir, "renamed.xml", other_xml);
	write_file(dir, ".good.xml.tmpAbC123", "<domain");
	write_file(run, "bad.json", "{\"domid\": ");
	write_file(run, "partial.json", "{\"domid\": 1}");
	write_file(run, ".x.json.tmp000000", "{");
	CHECK(hv_state_load_all(st, &defs, &problems, &err) == 0, "load_all");
	CHECK(defs->len == 1 && problems->len == 3, "%u defs, %u problems", defs->len,
	      problems->len);
	for (guint i = 0; i < problems->len; i++)
		CHECK(strstr(problems->pdata[i], "kept on disk"), "problem: %s",
		      (char *)problems->pdata[i]);
	CHECK(exists(dir, "garbage.xml") && exists(dir, "kvm.xml") && exists(dir, "renamed.xml"),
	      "a damaged file was deleted");
	CHECK(!exists(dir, ".good.xml.tmpAbC123"), "stale temporary file kept");
	CHECK(hv_state_load_runs(st, &runs, &run_problems, &err) == 0, "load_runs");
	CHECK(runs->len == 0 && run_problems->len == 2, "%u runs, %u problems", runs->len,
	      run_problems->len);
	CHECK(exists(run, "bad.json") && exists(run, "partial.json") &&
	          !exists(run, ".x.json.tmp000000"),
	      "run files");
	remove_tree(dir);
}

/* Runs as an unprivileged user (dropping root in a child if need be), since root ignores
 * permission bits. */
static int permission_checks(const char *dir)
{
	g_autofree char *locked = g_build_filename(dir, "locked", NULL);
	g_autofree char *sub = g_build_filename(locked, "state", NULL);
	g_autofree char *ok_dir = g_build_filename(dir, "ok", NULL);
	g_autoptr(GError) err = NULL;
	g_autoptr(hvDomainDef) v1 = make_def("p", '1', 100);
	g_autoptr(hvDomainDef) v2 = make_def("p", '2', 100);
	g_autoptr(GPtrArray) defs = NULL, problems = NULL;
	hvState *st;

	g_mkdir(locked, 0500);
	st = hv_state_open(sub, &err);
	CHECK(!st && err->code == VIR_ERR_SYSTEM_ERROR && strstr(err->message, locked),
	      "open in a read-only directory: %s", err ? err->message : "succeeded");
	g_clear_error(&err);

	st = hv_state_open(ok_dir, &err);
	CHECK(st != NULL, "open");
	if (!st)
		return 1;
	CHECK(hv_state_save_def(st, v1, &err) == 0, "save");
	g_chmod(ok_dir, 0500);
	CHECK(hv_state_save_def(st, v2, &err) < 0 && err->code == VIR_ERR_SYSTEM_ERROR &&
	          strstr(err->message, ok_dir),
	      "save into a read-only directory: %s", err ? err->message : "succeeded");
	g_clear_error(&err);
	g_chmod(ok_dir, 0700);
	{
		g_autofree char *file = g_build_filename(ok_dir, "p.xml", NULL);
		g_chmod(file, 0);
		CHECK(hv_state_load_all(st, &defs, &problems, &err) == 0 && defs->len == 0 &&
		          problems->len == 1 && strstr(problems->pdata[0], "cannot read"),
		      "unreadable file");
		g_chmod(file, 0600);
		g_clear_pointer(&defs, g_ptr_array_unref);
		g_clear_pointer(&problems, g_ptr_array_unref);
	}
	CHECK(hv_state_load_all(st, &defs, &problems, &err) == 0 && defs->len == 1 &&
	          same_def(defs->pdata[0], v1),
	      "the failed save changed the stored definition");
	hv_state_close(st);
	return failures ? 1 : 0;
}

static void test_permissions(void)
{
	g_autofree char *dir = temp_dir();
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		permission_checks(dir);
		remove_tree(dir);
		return;
	}
	if (chown(dir, 65534, 65534) < 0) {
		CHECK(FALSE, "chown %s", dir);
		return;
	}
	pid = fork();
	if (pid == 0) {
		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(3);
		_exit(permission_checks(dir));
	}
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "permission checks (as nobody)");
	remove_tree(dir);
}

/* The child saves two versions of one big definition in turn until it is killed. */
static void saver(const char *dir, const hvDomainDef *v1, const hvDomainDef *v2)
{
	hvState *st = hv_state_open(dir, NULL);

	for (unsigned long i = 0; st; i++)
		if (hv_state_save_def(st, i % 2 ? v1 : v2, NULL) < 0)
			_exit(3);
	_exit(4);
}

static gboolean has_temp_file(const char *dir)
{
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	const char *e;

	while (d && (e = g_dir_read_name(d)))
		if (e[0] == '.' && strstr(e, ".tmp"))
			return TRUE;
	return FALSE;
}

static void test_kill_during_save(void)
{
	g_autofree char *dir = temp_dir();
	g_autoptr(GError) err = NULL;
	g_autoptr(hvState) st = hv_state_open(dir, &err);
	g_autoptr(hvDomainDef) v1 = make_def("big", 'x', 512 * 1024);
	g_autoptr(hvDomainDef) v2 = make_def("big", 'y', 384 * 1024);
	int interrupted = 0;

	hv_state_save_def(st, v1, &err);
	for (int round = 0; round < 100; round++) {
		g_autoptr(GPtrArray) defs = NULL, problems = NULL;
		int status;
		pid_t pid = fork();

		if (pid == 0)
			saver(dir, v1, v2);
		g_usleep(g_random_int_range(1000, 30000));
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status), "round %d: the saver stopped by itself (%d)", round,
		      status);
		interrupted += has_temp_file(dir);
		CHECK(hv_state_load_all(st, &defs, &problems, &err) == 0, "round %d: load_all",
		      round);
		CHECK(defs->len == 1 && problems->len == 0, "round %d: %u defs, %u problems%s%s",
		      round, defs->len, problems->len, problems->len ? ": " : "",
		      problems->len ? (char *)problems->pdata[0] : "");
		if (defs->len == 1)
			CHECK(same_def(defs->pdata[0], v1) || same_def(defs->pdata[0], v2),
			      "round %d: a definition that is neither version", round);
		CHECK(!has_temp_file(dir), "round %d: temporary file left after load", round);
	}
	printf("kill -9 during save: 100 rounds, %d interrupted mid-write\n", interrupted);
	remove_tree(dir);
}

int main(void)
{
	test_round_trip();
	test_damaged_files();
	test_permissions();
	test_kill_during_save();
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	return failures ? 1 : 0;
}
