/*
 * The system-call interface between the guest kernel and its user programs (shared by both).
 * A call is `syscall` with RAX = number and arguments in RDI, RSI, RDX, R10, R8; the result comes
 * back in RAX, negative errno on failure. RCX and R11 are clobbered, as on Linux.
 */
#ifndef GK_UAPI_H
#define GK_UAPI_H

#define SYS_exit        0
#define SYS_fork        1
#define SYS_exec        2 /* (path, argv) */
#define SYS_wait        3 /* (pid or -1, &status) -> pid */
#define SYS_getpid      4
#define SYS_read        5
#define SYS_write       6
#define SYS_close       7
#define SYS_pipe        8 /* (int fds[2]) */
#define SYS_dup2        9
#define SYS_mmap        10 /* (addr hint or 0, len, prot) anonymous, private */
#define SYS_munmap      11
#define SYS_mprotect    12
#define SYS_sbrk        13 /* (increment) -> old break */
#define SYS_nanosleep   14 /* (ns) */
#define SYS_sched_yield 15
#define SYS_uptime      16 /* -> ns since boot */
#define SYS_sigaction   17 /* (sig, handler, restorer) */
#define SYS_sigreturn   18
#define SYS_kill        19 /* (pid, sig) */
#define SYS_procinfo    20 /* (index, struct procinfo *) -> 0, or -ESRCH past the end */
#define SYS_meminfo     21 /* (struct meminfo *) */
#define SYS_shutdown    22 /* (0 poweroff, 1 reboot) */
#define SYS_open        23 /* ("/dev/null" | "/dev/zero" | "/dev/console") */
#define SYS_getppid     24
#define SYS_platform    25 /* (char *buf, len): the platform's name */
#define SYS_domctl      26 /* (struct hv_domctl *, size): dom0 on hv only (kernel/sys_domctl.c) */
#define SYS_socket      27 /* (NET_SOCK_*) -> sd, not an fd (net/sys_net.c, uapi-net.h) */
#define SYS_bind        28 /* (sd, port) */
#define SYS_sendto      29 /* (sd, buf, len, const struct net_sockaddr *) */
#define SYS_recvfrom    30 /* (sd, buf, len, struct net_sockaddr *, deadline_ns) -> len */
#define SYS_sockclose   31 /* (sd) */
#define SYS_netinfo     32 /* (NET_INFO_*, index, buf, len) */
#define SYS_blk         33 /* (BLK_OP_*, dev, sector, count, buf) (kernel/sys_blk.c, uapi-blk.h) */
#define NR_SYSCALLS     34

#define E_PERM  1
#define E_NOENT 2
#define E_SRCH  3
#define E_INTR  4
#define E_BADF  9
#define E_CHILD 10
#define E_AGAIN 11
#define E_NOMEM 12
#define E_FAULT 14
#define E_INVAL 22
#define E_MFILE 24
#define E_PIPE  32
#define E_NOSYS 38

#define PROT_READ  1
#define PROT_WRITE 2
#define PROT_EXEC  4

#define SIGKILL 9
#define SIGSEGV 11
#define SIGPIPE 13
#define SIGTERM 15
#define SIGUSR1 10
#define NSIG    32

/* Exit status as wait reports it: code << 8, or the killing signal in the low 7 bits. */
#define WIFSIGNALED(s) (((s)&0x7f) != 0)
#define WTERMSIG(s)    ((s)&0x7f)
#define WEXITSTATUS(s) (((s) >> 8) & 0xff)

#ifndef __ASSEMBLY__
struct procinfo {
	int pid, ppid;
	char state; /* R running/runnable, S sleeping, Z zombie */
	char name[23];
	unsigned long pages;   /* user pages mapped */
	unsigned long runtime; /* ns on the CPU */
};

struct meminfo {
	unsigned long total_pages, free_pages, page_size;
};
#endif

/* Program, heap, mmap area and stack share the first GiB, so that a small process needs one
 * L2 table (fewer tables for the hypervisor to validate at fork, exec and exit on PV). */
#define USER_BASE      0x400000UL
#define USER_MMAP_BASE 0x10000000UL
#define USER_STACK_TOP 0x40000000UL
#define USER_TOP       0x8000000000UL /* L4 slot 0 */

#endif
