/*
 * Process tests run from the shell: fork/exec/wait in bulk, a ring of processes joined by pipes,
 * copy-on-write, faulting processes, and `selftest`, which runs them all with smaller sizes plus
 * checks of mmap, mprotect with a signal handler, sbrk and malloc. Each prints one verdict line.
 */
#include "ulib.h"

static int fail(const char *test, const char *what, long v)
{
	printf("%s: FAIL: %s (%ld)\n", test, what, v);
	return 1;
}

int cmd_forktest(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	char *targv[] = {"true", NULL};
	for (int i = 0; i < n; i++) {
		int pid = fork();
		if (pid == 0) {
			exec("true", targv);
			exit(99);
		}
		if (pid < 0)
			return fail("forktest", "fork", pid);
		int st = -1;
		int w = waitpid(pid, &st);
		if (w != pid || st != 0)
			return fail("forktest", "child status", st);
	}
	printf("forktest: %d processes ok\n", n);
	return 0;
}

/* N processes in a ring: each reads the token from its left pipe, adds 1, writes it right. */
int cmd_pipering(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 16;
	int rounds = argc > 2 ? atoi(argv[2]) : 100;
	int fds[32][2];
	if (n < 2 || n > 32)
		return fail("pipering", "bad size", n);
	for (int i = 0; i < n; i++)
		if (pipe(fds[i]) < 0)
			return fail("pipering", "pipe", i);
	/* Process i reads fds[i] and writes fds[(i+1)%n]; process 0 is us. */
	for (int i = 1; i < n; i++) {
		if (fork() == 0) {
			for (int j = 0; j < n; j++) {
				if (j != i)
					close(fds[j][0]);
				if (j != (i + 1) % n)
					close(fds[j][1]);
			}
			for (;;) {
				long tok;
				if (read(fds[i][0], &tok, sizeof(tok)) != sizeof(tok))
					exit(0);
				tok++;
				write(fds[(i + 1) % n][1], &tok, sizeof(tok));
			}
		}
	}
	for (int j = 0; j < n; j++) {
		if (j != 0)
			close(fds[j][0]);
		if (j != 1)
			close(fds[j][1]);
	}
	long tok = 0;
	for (int r = 0; r < rounds; r++) {
		write(fds[1][1], &tok, sizeof(tok));
		if (read(fds[0][0], &tok, sizeof(tok)) != sizeof(tok))
			return fail("pipering", "read", r);
		tok++;
	}
	close(fds[1][1]);
	int st, reaped = 0;
	while (wait(&st) > 0)
		reaped++;
	close(fds[0][0]);
	if (tok != (long)n * rounds)
		return fail("pipering", "token", tok);
	if (reaped != n - 1)
		return fail("pipering", "children", reaped);
	printf("pipering: %d processes, %d rounds, token %ld ok\n", n, rounds, tok);
	return 0;
}

static char cow_data[3 * 4096] = {1};

int cmd_cowtest(int argc, char **argv)
{
	char *heap = malloc(8192);
	char *anon = mmap(NULL, 8192, PROT_READ | PROT_WRITE);
	if (!heap || !anon)
		return fail("cowtest", "allocation", 0);
	memset(cow_data, 'P', sizeof(cow_data));
	memset(heap, 'H', 8192);
	memset(anon, 'A', 8192);
	int fds[2], back[2]; /* child -> parent, parent -> child */
	pipe(fds);
	pipe(back);
	int pid = fork();
	if (pid == 0) {
		int bad = 0;
		/* The child sees the parent's data, then writes its own copy. */
		bad += cow_data[100] != 'P' || heap[5000] != 'H' || anon[10] != 'A';
		memset(cow_data, 'c', sizeof(cow_data));
		memset(heap, 'h', 8192);
		memset(anon, 'a', 8192);
		bad += cow_data[5000] != 'c' || heap[8000] != 'h' || anon[4097] != 'a';
		char verdict = bad ? 'n' : 'y';
		write(fds[1], &verdict, 1);
		/* Wait until the parent wrote too, then check again. */
		char go;
		read(back[0], &go, 1);
		bad += cow_data[0] != 'c' || heap[0] != 'h' || anon[0] != 'a';
		exit(bad);
	}
	char verdict;
	read(fds[0], &verdict, 1);
	int bad = cow_data[5000] != 'P' || heap[100] != 'H' || anon[8191] != 'A';
	memset(cow_data, 'Q', sizeof(cow_data));
	memset(heap, 'I', 8192);
	write(back[1], "g", 1);
	int st;
	waitpid(pid, &st);
	bad += cow_data[1] != 'Q' || heap[1] != 'I' || anon[1] != 'A';
	close(fds[0]);
	close(fds[1]);
	close(back[0]);
	close(back[1]);
	munmap(anon, 8192);
	free(heap);
	if (verdict != 'y' || st != 0 || bad)
		return fail("cowtest", "data seen across fork", (long)st * 100 + bad);
	printf("cowtest: ok\n");
	return 0;
}

static int faulting_child(int how)
{
	int pid = fork();
	if (pid == 0) {
		volatile uintptr_t unmapped = 0x10;
		if (how == 0)
			*(volatile int *)unmapped = 1;
		else if (how == 1)
			*(volatile char *)cmd_faulttest = 0; /* read-only text */
		else
			*(volatile long *)(unmapped + 0xffffffff7ffffff0UL) = 0; /* the kernel */
		exit(0);
	}
	int st = 0;
	waitpid(pid, &st);
	return st;
}

int cmd_faulttest(int argc, char **argv)
{
	for (int how = 0; how < 3; how++) {
		int st = faulting_child(how);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV)
			return fail("faulttest", "child not killed by SIGSEGV", st);
	}
	printf("faulttest: 3 faulting processes killed, kernel alive\n");
	return 0;
}

static volatile char *prot_page;
static volatile int prot_faults;

static void on_segv(int sig)
{
	prot_faults++;
	mprotect((void *)prot_page, 4096, PROT_READ | PROT_WRITE);
}

static int test_mmap(void)
{
	size_t len = 64 * 4096;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE);
	if (!p)
		return fail("selftest", "mmap", 0);
	for (size_t i = 0; i < len; i += 4096)
		if (p[i] != 0)
			return fail("selftest", "mmap page not zero", (long)i);
	for (size_t i = 0; i < len; i += 4096)
		p[i] = (char)i;
	if (munmap(p, len))
		return fail("selftest", "munmap", 0);
	return 0;
}

static int test_mprotect_signal(void)
{
	prot_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE);
	prot_page[0] = 1;
	mprotect((void *)prot_page, 4096, PROT_READ);
	signal(SIGSEGV, on_segv);
	prot_page[1] = 2; /* faults once; the handler makes it writable; the write is redone */
	signal(SIGSEGV, NULL);
	if (prot_faults != 1 || prot_page[1] != 2)
		return fail("selftest", "protection fault handler", prot_faults);
	munmap((void *)prot_page, 4096);
	return 0;
}

static int test_malloc(void)
{
	void *ptrs[64];
	for (int i = 0; i < 64; i++) {
		ptrs[i] = malloc((size_t)(i * 37 + 1));
		if (!ptrs[i])
			return fail("selftest", "malloc", i);
		memset(ptrs[i], i, (size_t)(i * 37 + 1));
	}
	for (int i = 0; i < 64; i++)
		if (((unsigned char *)ptrs[i])[i * 37] != i)
			return fail("selftest", "malloc overlap", i);
	for (int i = 0; i < 64; i++)
		free(ptrs[i]);
	return 0;
}

int cmd_selftest(int argc, char **argv)
{
	struct meminfo before, after;
	int failed = 0, passed = 0;
	char *a1[] = {"forktest", "50", NULL};
	char *a2[] = {"pipering", "4", "20", NULL};

	meminfo(&before);
	struct {
		const char *name;
		int rc;
	} r[8];
	int n = 0;
	r[n].name = "forktest";
	r[n++].rc = cmd_forktest(2, a1);
	r[n].name = "pipering";
	r[n++].rc = cmd_pipering(3, a2);
	r[n].name = "cowtest";
	r[n++].rc = cmd_cowtest(1, argv);
	r[n].name = "faulttest";
	r[n++].rc = cmd_faulttest(1, argv);
	r[n].name = "mmap";
	r[n++].rc = test_mmap();
	r[n].name = "mprotect+signal";
	r[n++].rc = test_mprotect_signal();
	r[n].name = "malloc";
	r[n++].rc = test_malloc();
	for (int i = 0; i < n; i++) {
		printf("selftest: user %s: %s\n", r[i].name, r[i].rc ? "FAIL" : "PASS");
		if (r[i].rc)
			failed++;
		else
			passed++;
	}
	meminfo(&after);
	printf("selftest: user summary: %d passed, %d failed (free pages %lu -> %lu)\n", passed,
	       failed, before.free_pages, after.free_pages);
	return failed ? 1 : 0;
}
