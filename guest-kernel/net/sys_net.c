/*
 * The network system calls (SYS_socket .. SYS_netinfo, uapi.h / uapi-net.h) and the kernel
 * services the protocol files use (net.h): time, wake-ups, pages, the command line.
 *
 * Blocking follows the kernel's rule (proc.h): a call that must wait blocks its process with
 * proc_block_restart() and runs again from the start when woken, so every call here is
 * repeatable until it succeeds. recvfrom waits on its socket's channel, which sock_deliver
 * wakes, and takes an absolute deadline (SYS_uptime nanoseconds, 0 = none) so that the
 * repeated call knows when to give up: the process's wake_at brings it back then. sendto waits
 * only when the device's ring is full, and then simply retries a millisecond later (drivers do
 * not report transmit completions to the stack).
 *
 * Sockets belong to the process that opened them; a process's sockets are closed when
 * another socket is opened after it has exited.
 */
#include <kernel.h>
#include <mm.h>
#include <proc.h>
#include <klib/string.h>
#include <net.h>

#define TX_RETRY_NS 1000000ULL

static int tx_retry_chan;
static uint8_t io_buf[NET_ICMP_MAX];

uint64_t net_now_ns(void)
{
	return platform->time_ns();
}

void net_wake(const void *chan)
{
	proc_wakeup(chan);
}

void *net_page_alloc(void)
{
	return alloc_page();
}

void net_page_free(void *page)
{
	free_page(page);
}

const char *net_cmdline(void)
{
	return platform->cmdline;
}

static bool pid_alive(int pid)
{
	for (int i = 0; i < NPROC; i++)
		if (procs[i].pid == pid &&
		    (procs[i].state == P_RUNNABLE || procs[i].state == P_BLOCKED))
			return true;
	return false;
}

static void close_orphans(void)
{
	for (int sd = 0; sd < NET_MAX_SOCKS; sd++) {
		int owner = sock_owner(sd);
		if (owner >= 0 && !pid_alive(owner))
			sock_close(sd);
	}
}

static bool mine(uint64_t sd)
{
	return sd < NET_MAX_SOCKS && sock_owner((int)sd) == current->pid;
}

static long sys_sendto(uint64_t sd, uint64_t ubuf, uint64_t len, uint64_t uto)
{
	struct net_sockaddr to;

	if (!mine(sd))
		return -E_BADF;
	if (len > sizeof(io_buf))
		return -E_MSGSIZE;
	if (copy_from_user(&current->vm, io_buf, ubuf, len) ||
	    copy_from_user(&current->vm, &to, uto, sizeof(to)))
		return -E_FAULT;
	int rc = sock_sendto((int)sd, io_buf, (unsigned int)len, &to);
	if (rc == -E_AGAIN) {
		netdev_poll(); /* reclaims transmitted slots */
		rc = sock_sendto((int)sd, io_buf, (unsigned int)len, &to);
	}
	if (rc == -E_AGAIN) {
		current->wake_at = platform->time_ns() + TX_RETRY_NS;
		proc_block_restart(&tx_retry_chan);
		return 0;
	}
	return rc ? rc : (long)len;
}

static long sys_recvfrom(uint64_t sd, uint64_t ubuf, uint64_t len, uint64_t ufrom,
                         uint64_t deadline)
{
	struct net_sockaddr from;

	if (!mine(sd))
		return -E_BADF;
	int n = sock_recv((int)sd, io_buf, (unsigned int)MIN(len, sizeof(io_buf)), &from);
	if (n == -E_AGAIN) {
		if (deadline && platform->time_ns() >= deadline) {
			current->wake_at = 0;
			return -E_AGAIN;
		}
		current->wake_at = deadline;
		proc_block_restart(sock_chan((int)sd));
		return 0;
	}
	current->wake_at = 0; /* woken by data before the deadline */
	if (n < 0)
		return n;
	if (copy_to_user(&current->vm, ubuf, io_buf, (size_t)n) ||
	    (ufrom && copy_to_user(&current->vm, ufrom, &from, sizeof(from))))
		return -E_FAULT;
	return n;
}

static long sys_netinfo(uint64_t what, uint64_t index, uint64_t ubuf, uint64_t len)
{
	union {
		struct net_if_info ifi;
		struct net_sock_info si;
		struct net_stats st;
	} u;
	size_t size;
	int rc = 0;

	if (index > 1024)
		return -E_NOENT;
	switch (what) {
	case NET_INFO_IF:
		rc = net_if_info((int)index, &u.ifi);
		size = sizeof(u.ifi);
		break;
	case NET_INFO_SOCK:
		rc = sock_info((int)index, &u.si);
		size = sizeof(u.si);
		break;
	case NET_INFO_STATS:
		u.st = net_stats;
		size = sizeof(u.st);
		break;
	default:
		return -E_INVAL;
	}
	if (rc)
		return rc;
	if (copy_to_user(&current->vm, ubuf, &u, MIN(len, size)))
		return -E_FAULT;
	return (long)size;
}

long sys_net(struct trap_frame *f)
{
	uint64_t a1 = f->rdi, a2 = f->rsi, a3 = f->rdx, a4 = f->r10, a5 = f->r8;

	switch (f->rax) {
	case SYS_socket:
		close_orphans();
		return sock_open((int)a1, current->pid);
	case SYS_bind:
		if (a2 > 0xffff)
			return -E_INVAL;
		return mine(a1) ? sock_bind((int)a1, (uint16_t)a2) : -E_BADF;
	case SYS_sendto:
		return sys_sendto(a1, a2, a3, a4);
	case SYS_recvfrom:
		return sys_recvfrom(a1, a2, a3, a4, a5);
	case SYS_sockclose:
		return mine(a1) ? sock_close((int)a1) : -E_BADF;
	case SYS_netinfo:
		return sys_netinfo(a1, a2, a3, a4);
	default:
		return -E_NOSYS;
	}
}
