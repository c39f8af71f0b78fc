/*
 * The user programs' small C library: system calls, strings (klib's, built again for user
 * mode), printf to file descriptors, malloc over sbrk.
 */
#ifndef GK_ULIB_H
#define GK_ULIB_H

#include <klib/compiler.h>
#include <klib/string.h>
#include <klib/printf.h>
#include <stdarg.h>
#include <uapi.h>

long syscall5(long nr, long a1, long a2, long a3, long a4, long a5);
#define syscall0(n)          syscall5(n, 0, 0, 0, 0, 0)
#define syscall1(n, a)       syscall5(n, (long)(a), 0, 0, 0, 0)
#define syscall2(n, a, b)    syscall5(n, (long)(a), (long)(b), 0, 0, 0)
#define syscall3(n, a, b, c) syscall5(n, (long)(a), (long)(b), (long)(c), 0, 0)

__noreturn void exit(int code);
int fork(void);
int exec(const char *path, char *const argv[]);
int wait(int *status);
int waitpid(int pid, int *status);
int getpid(void);
int getppid(void);
long read(int fd, void *buf, size_t n);
long write(int fd, const void *buf, size_t n);
int write_all(int fd, const void *buf, size_t n);
int close(int fd);
int pipe(int fds[2]);
int dup2(int oldfd, int newfd);
int open(const char *path);
void *mmap(void *hint, size_t len, int prot);
int munmap(void *addr, size_t len);
int mprotect(void *addr, size_t len, int prot);
void *sbrk(long inc);
int nanosleep_ns(uint64_t ns);
int sched_yield(void);
uint64_t uptime_ns(void);
int signal(int sig, void (*handler)(int));
int kill(int pid, int sig);
int procinfo(int index, struct procinfo *pi);
int meminfo(struct meminfo *mi);
int shutdown(int reboot);
int platform_name(char *buf, size_t len);

int printf(const char *fmt, ...) __printf(1, 2);
int dprintf(int fd, const char *fmt, ...) __printf(2, 3);
void *malloc(size_t n);
void free(void *p);
int atoi(const char *s);

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Programs of the multi-call binary. */
typedef int (*command_fn)(int argc, char **argv);
int cmd_sh(int, char **);
int cmd_bench(int, char **);
int cmd_selftest(int, char **);
int cmd_forktest(int, char **);
int cmd_pipering(int, char **);
int cmd_cowtest(int, char **);
int cmd_faulttest(int, char **);
int cmd_dom(int, char **);
int cmd_ping(int, char **);
int cmd_udpsend(int, char **);
int cmd_udpsink(int, char **);
int cmd_ifconfig(int, char **);
int cmd_netstat(int, char **);
int cmd_blk(int, char **);
command_fn find_command(const char *name);

#endif
