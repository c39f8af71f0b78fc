/*
 * bench: lmbench-style micro-benchmarks of the guest kernel (the rows of Tables 3-5 of the Xen
 * paper). Every row is the median of RUNS runs; a run times ITER operations with the TSC and
 * reports the time per operation. Output, one line per row, for scripts to parse:
 *     bench: <row>: <cycles per op> cycles <ns per op> ns
 * plus a first line with the TSC rate and the TSC ticks per instruction of a known loop (under
 * QEMU -icount shift=0 the TSC counts instructions, so cycles there are instructions).
 */
#include "ulib.h"

#define RUNS 9

static uint64_t tsc_per_us_x1000; /* TSC ticks per microsecond, times 1000 */

static void calibrate(void)
{
	uint64_t t0 = uptime_ns(), c0 = rdtsc();
	while (uptime_ns() - t0 < 20000000)
		;
	uint64_t t1 = uptime_ns(), c1 = rdtsc();
	tsc_per_us_x1000 = (c1 - c0) * 1000000 / (t1 - t0);
	if (!tsc_per_us_x1000)
		tsc_per_us_x1000 = 1;
}

static uint64_t known_loop_ticks(void)
{
	/* 1,000,000 iterations of two instructions (dec, jnz). */
	uint64_t c0 = rdtsc();
	__asm__ __volatile__("mov $1000000, %%ecx\n1: dec %%ecx\n jnz 1b" ::: "ecx", "cc");
	return rdtsc() - c0;
}

static void sort(uint64_t *v, int n)
{
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* Report the median of the per-operation cycle counts. */
static void report(const char *row, uint64_t *cycles)
{
	sort(cycles, RUNS);
	uint64_t c = cycles[RUNS / 2];
	uint64_t ns = c * 1000000 / tsc_per_us_x1000;
	printf("bench: %s: %lu cycles %lu ns\n", row, (unsigned long)c, (unsigned long)ns);
}

static void bench_null_syscall(void)
{
	uint64_t r[RUNS];
	const int iter = 2000;
	for (int k = 0; k < RUNS; k++) {
		uint64_t c0 = rdtsc();
		for (int i = 0; i < iter; i++)
			getppid();
		r[k] = (rdtsc() - c0) / iter;
	}
	report("null syscall", r);
}

static void bench_null_io(void)
{
	uint64_t r[RUNS];
	const int iter = 1000;
	int zero = open("/dev/zero"), null = open("/dev/null");
	char c = 0;
	for (int k = 0; k < RUNS; k++) {
		uint64_t c0 = rdtsc();
		for (int i = 0; i < iter; i++) {
			read(zero, &c, 1);
			write(null, &c, 1);
		}
		r[k] = (rdtsc() - c0) / (2 * iter);
	}
	close(zero);
	close(null);
	report("null I/O", r);
}

static void bench_fork(int do_exec)
{
	uint64_t r[RUNS];
	const int iter = 10;
	char *argv[] = {"true", NULL};
	for (int k = 0; k < RUNS; k++) {
		uint64_t c0 = rdtsc();
		for (int i = 0; i < iter; i++) {
			int pid = fork();
			if (pid == 0) {
				if (do_exec)
					exec("true", argv);
				exit(0);
			}
			waitpid(pid, NULL);
		}
		r[k] = (rdtsc() - c0) / iter;
	}
	report(do_exec ? "fork+exec" : "fork", r);
}

static volatile char sink;

static void touch(const char *ws, size_t size)
{
	char s = 0;
	for (size_t i = 0; i < size; i += 64)
		s += ws[i];
	sink = s;
}

/* nproc processes in a ring of pipes, each touching `ws_kib` KiB per hop; per-hop time. */
static void bench_ctx(int nproc, int ws_kib)
{
	uint64_t r[RUNS];
	const int rounds = 20;
	int fds[16][2], rfd[2];
	size_t size = (size_t)ws_kib * 1024;
	char row[32];

	for (int i = 0; i < nproc; i++)
		pipe(fds[i]);
	pipe(rfd);
	for (int i = 1; i < nproc; i++) {
		if (fork() == 0) {
			char *ws = size ? malloc(size) : NULL;
			if (ws)
				memset(ws, 1, size);
			for (int j = 0; j < nproc; j++) {
				if (j != i)
					close(fds[j][0]);
				if (j != (i + 1) % nproc)
					close(fds[j][1]);
			}
			for (;;) {
				long tok;
				if (read(fds[i][0], &tok, sizeof(tok)) != sizeof(tok))
					exit(0);
				if (ws)
					touch(ws, size);
				write(fds[(i + 1) % nproc][1], &tok, sizeof(tok));
			}
		}
	}
	char *ws = size ? malloc(size) : NULL;
	if (ws)
		memset(ws, 1, size);
	long tok = 0;
	for (int k = 0; k < RUNS; k++) {
		uint64_t c0 = rdtsc();
		for (int i = 0; i < rounds; i++) {
			write(fds[1 % nproc][1], &tok, sizeof(tok));
			read(fds[0][0], &tok, sizeof(tok));
			if (ws)
				touch(ws, size);
		}
		r[k] = (rdtsc() - c0) / ((uint64_t)rounds * (uint64_t)nproc);
	}
	for (int i = 0; i < nproc; i++) {
		close(fds[i][0]);
		close(fds[i][1]);
	}
	close(rfd[0]);
	close(rfd[1]);
	while (wait(NULL) > 0)
		;
	free(ws);
	snprintf(row, sizeof(row), "ctx %dp/%dK", nproc, ws_kib);
	report(row, r);
}

static void bench_page_fault(void)
{
	uint64_t r[RUNS];
	const size_t pages = 128;
	for (int k = 0; k < RUNS; k++) {
		char *p = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE);
		uint64_t c0 = rdtsc();
		for (size_t i = 0; i < pages; i++)
			p[i * 4096] = 1;
		r[k] = (rdtsc() - c0) / pages;
		munmap(p, pages * 4096);
	}
	report("page fault", r);
}

static volatile char *prot_page;

static void on_prot_fault(int sig)
{
	mprotect((void *)prot_page, 4096, PROT_READ | PROT_WRITE);
}

static void bench_prot_fault(void)
{
	uint64_t r[RUNS];
	const int iter = 50;
	prot_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE);
	prot_page[0] = 0;
	signal(SIGSEGV, on_prot_fault);
	for (int k = 0; k < RUNS; k++) {
		uint64_t total = 0;
		for (int i = 0; i < iter; i++) {
			mprotect((void *)prot_page, 4096, PROT_READ);
			uint64_t c0 = rdtsc();
			prot_page[0] = 1; /* fault, signal, handler (mprotect), sigreturn */
			total += rdtsc() - c0;
		}
		r[k] = total / iter;
	}
	signal(SIGSEGV, NULL);
	munmap((void *)prot_page, 4096);
	report("protection fault", r);
}

static void bench_mmap(void)
{
	uint64_t r[RUNS];
	const size_t len = 4 << 20;
	for (int k = 0; k < RUNS; k++) {
		uint64_t c0 = rdtsc();
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE);
		for (size_t i = 0; i < len; i += 16384)
			p[i] = 1;
		munmap(p, len);
		r[k] = rdtsc() - c0;
	}
	report("mmap 4M", r);
}

static void bench_pipe(void)
{
	uint64_t r[RUNS], bw[RUNS];
	int a[2], b[2];
	pipe(a);
	pipe(b);
	int pid = fork();
	if (pid == 0) {
		char c;
		close(a[1]);
		close(b[0]);
		while (read(a[0], &c, 1) == 1)
			write(b[1], &c, 1);
		exit(0);
	}
	const int iter = 200;
	char c = 'x';
	for (int k = 0; k < RUNS; k++) {
		uint64_t c0 = rdtsc();
		for (int i = 0; i < iter; i++) {
			write(a[1], &c, 1);
			read(b[0], &c, 1);
		}
		r[k] = (rdtsc() - c0) / iter;
	}
	close(a[1]);
	waitpid(pid, NULL);
	close(a[0]);
	close(b[0]);
	close(b[1]);
	report("pipe latency", r);

	/* Bandwidth: 1 MiB through a pipe in 4 KiB writes; cycles per 4 KiB. */
	static char buf[4096];
	pipe(a);
	pid = fork();
	if (pid == 0) {
		close(a[1]);
		while (read(a[0], buf, sizeof(buf)) > 0)
			;
		exit(0);
	}
	close(a[0]);
	for (int k = 0; k < RUNS; k++) {
		uint64_t c0 = rdtsc();
		for (int i = 0; i < 256; i++)
			write_all(a[1], buf, sizeof(buf));
		bw[k] = (rdtsc() - c0) / 256;
	}
	close(a[1]);
	waitpid(pid, NULL);
	report("pipe 4KiB chunk", bw);
}

/* With arguments, only the rows named (syscall io fork exec ctx pf prot mmap pipe) run. */
static int want(int argc, char **argv, const char *key)
{
	if (argc < 2)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], key) == 0)
			return 1;
	return 0;
}

int cmd_bench(int argc, char **argv)
{
	char plat[32];
	platform_name(plat, sizeof(plat));
	calibrate();
	uint64_t loop = known_loop_ticks();
	printf("bench: platform %s, tsc %lu.%03lu MHz, known loop of 2000000 instructions took %lu "
	       "ticks\n",
	       plat, (unsigned long)(tsc_per_us_x1000 / 1000),
	       (unsigned long)(tsc_per_us_x1000 % 1000), (unsigned long)loop);
	if (want(argc, argv, "syscall"))
		bench_null_syscall();
	if (want(argc, argv, "io"))
		bench_null_io();
	if (want(argc, argv, "fork"))
		bench_fork(0);
	if (want(argc, argv, "exec"))
		bench_fork(1);
	static const int ctx[][2] = {{2, 0},  {2, 16},  {2, 64}, {8, 16},
	                             {8, 64}, {16, 16}, {16, 64}};
	for (size_t i = 0; i < ARRAY_SIZE(ctx) && want(argc, argv, "ctx"); i++)
		bench_ctx(ctx[i][0], ctx[i][1]);
	if (want(argc, argv, "pf"))
		bench_page_fault();
	if (want(argc, argv, "prot"))
		bench_prot_fault();
	if (want(argc, argv, "mmap"))
		bench_mmap();
	if (want(argc, argv, "pipe"))
		bench_pipe();
	printf("bench: done\n");
	return 0;
}
