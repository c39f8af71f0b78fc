/*
 * System-call wrappers and the rest of the user C library. Errors come back as negative errno
 * values (no global errno).
 */
#include "ulib.h"

long syscall5(long nr, long a1, long a2, long a3, long a4, long a5)
{
	register long rax __asm__("rax") = nr;
	register long rdi __asm__("rdi") = a1;
	register long rsi __asm__("rsi") = a2;
	register long rdx __asm__("rdx") = a3;
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	__asm__ __volatile__("syscall"
	                     : "+r"(rax), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8)
	                     :
	                     : "rcx", "r11", "r9", "memory");
	return rax;
}

__noreturn void exit(int code)
{
	for (;;)
		syscall1(SYS_exit, code);
}

int fork(void)
{
	return (int)syscall0(SYS_fork);
}
int exec(const char *path, char *const argv[])
{
	return (int)syscall2(SYS_exec, path, argv);
}
int wait(int *status)
{
	return (int)syscall2(SYS_wait, -1, status);
}
int waitpid(int pid, int *status)
{
	return (int)syscall2(SYS_wait, pid, status);
}
int getpid(void)
{
	return (int)syscall0(SYS_getpid);
}
int getppid(void)
{
	return (int)syscall0(SYS_getppid);
}
long read(int fd, void *buf, size_t n)
{
	return syscall3(SYS_read, fd, buf, n);
}
long write(int fd, const void *buf, size_t n)
{
	return syscall3(SYS_write, fd, buf, n);
}
int close(int fd)
{
	return (int)syscall1(SYS_close, fd);
}
int pipe(int fds[2])
{
	return (int)syscall1(SYS_pipe, fds);
}
int dup2(int o, int n)
{
	return (int)syscall2(SYS_dup2, o, n);
}
int open(const char *path)
{
	return (int)syscall1(SYS_open, path);
}
int munmap(void *a, size_t l)
{
	return (int)syscall2(SYS_munmap, a, l);
}
int mprotect(void *a, size_t l, int p)
{
	return (int)syscall3(SYS_mprotect, a, l, p);
}
int nanosleep_ns(uint64_t ns)
{
	return (int)syscall1(SYS_nanosleep, ns);
}
int sched_yield(void)
{
	return (int)syscall0(SYS_sched_yield);
}
uint64_t uptime_ns(void)
{
	return (uint64_t)syscall0(SYS_uptime);
}
int kill(int pid, int sig)
{
	return (int)syscall2(SYS_kill, pid, sig);
}
int procinfo(int i, struct procinfo *pi)
{
	return (int)syscall2(SYS_procinfo, i, pi);
}
int meminfo(struct meminfo *mi)
{
	return (int)syscall1(SYS_meminfo, mi);
}
int shutdown(int reboot)
{
	return (int)syscall1(SYS_shutdown, reboot);
}
int platform_name(char *b, size_t l)
{
	return (int)syscall2(SYS_platform, b, l);
}

void *mmap(void *hint, size_t len, int prot)
{
	long r = syscall3(SYS_mmap, hint, len, prot);
	return r < 0 ? NULL : (void *)r;
}

void *sbrk(long inc)
{
	long r = syscall1(SYS_sbrk, inc);
	return r < 0 ? NULL : (void *)r;
}

extern char sig_restorer[];

int signal(int sig, void (*handler)(int))
{
	return (int)syscall3(SYS_sigaction, sig, handler, sig_restorer);
}

int write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n) {
		long w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int vdprintf(int fd, const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	write_all(fd, buf, strlen(buf));
	return n;
}

int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vdprintf(1, fmt, ap);
	va_end(ap);
	return n;
}

int dprintf(int fd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vdprintf(fd, fmt, ap);
	va_end(ap);
	return n;
}

int atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

/* malloc: first fit over a list of blocks carved from sbrk; free coalesces with the next. */
struct block {
	size_t size; /* bytes after the header */
	int used;
	struct block *next;
};
static struct block *heap;

void *malloc(size_t n)
{
	n = ALIGN_UP(n ? n : 1, 16);
	for (struct block *b = heap; b; b = b->next) {
		if (b->used || b->size < n)
			continue;
		if (b->size >= n + sizeof(struct block) + 16) {
			struct block *rest = (struct block *)((char *)(b + 1) + n);
			rest->size = b->size - n - sizeof(struct block);
			rest->used = 0;
			rest->next = b->next;
			b->next = rest;
			b->size = n;
		}
		b->used = 1;
		return b + 1;
	}
	struct block *b = sbrk((long)(sizeof(struct block) + n));
	if (!b)
		return NULL;
	b->size = n;
	b->used = 1;
	b->next = NULL;
	struct block **tail = &heap;
	while (*tail)
		tail = &(*tail)->next;
	*tail = b;
	return b + 1;
}

void free(void *p)
{
	if (!p)
		return;
	struct block *b = (struct block *)p - 1;
	b->used = 0;
	while (b->next && !b->next->used && (char *)(b + 1) + b->size == (char *)b->next) {
		b->size += sizeof(struct block) + b->next->size;
		b->next = b->next->next;
	}
}
