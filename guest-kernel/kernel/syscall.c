/*
 * System calls, open files, pipes and the console.
 *
 * A file is shared by the descriptors that refer to it (fork, dup2) and counted; a pipe lives
 * while either end is open. A read that finds no data and a write that finds no room block
 * with proc_block_restart(), so the call simply runs again when the other side wakes us.
 * Console input is polled from the timer while someone waits for it, echoed, and kept in a
 * line buffer; a read returns at most one line.
 */
#include <kernel.h>
#include <mm.h>
#include <proc.h>
#include <klib/string.h>

enum file_type { F_CONSOLE = 1, F_PIPE_R, F_PIPE_W, F_NULL, F_ZERO };

#define PIPE_SIZE 4096
#define NPIPES    64
#define NFILES    256

struct pipe {
	char *buf;           /* one page */
	uint32_t rpos, wpos; /* free-running; wpos - rpos bytes are in the pipe */
	int readers, writers;
};

struct file {
	enum file_type type;
	int refs;
	struct pipe *pipe;
};

static struct file files[NFILES];
static struct pipe pipes[NPIPES];
static struct file console_file = {F_CONSOLE, 1, NULL};

/* ---- console ---- */
static char con_buf[256];
static uint32_t con_r, con_w;
static int con_lines;
static int console_chan;

int console_has_readers(void)
{
	for (int i = 0; i < NPROC; i++)
		if (procs[i].state == P_BLOCKED && procs[i].wait_on == &console_chan)
			return 1;
	return 0;
}

void console_poll(void)
{
	char in[64];
	size_t n = platform->console_read ? platform->console_read(in, sizeof(in)) : 0;

	for (size_t i = 0; i < n; i++) {
		char c = in[i] == '\r' ? '\n' : in[i];
		if (c == 0x7f || c == 8) {
			if (con_w != con_r && con_buf[(con_w - 1) % sizeof(con_buf)] != '\n') {
				con_w--;
				platform->console_write("\b \b", 3);
			}
			continue;
		}
		if (con_w - con_r >= sizeof(con_buf) - 1)
			continue;
		con_buf[con_w++ % sizeof(con_buf)] = c;
		platform->console_write(&c, 1);
		if (c == '\n')
			con_lines++;
	}
	if (con_lines)
		proc_wakeup(&console_chan);
}

static long console_read(uint64_t ubuf, size_t len)
{
	char tmp[256];
	size_t n = 0;

	if (!con_lines) {
		proc_block_restart(&console_chan);
		return 0;
	}
	while (n < len && n < sizeof(tmp) && con_r != con_w) {
		char c = con_buf[con_r++ % sizeof(con_buf)];
		tmp[n++] = c;
		if (c == '\n') {
			con_lines--;
			break;
		}
	}
	if (copy_to_user(&current->vm, ubuf, tmp, n))
		return -E_FAULT;
	return (long)n;
}

static long console_write(uint64_t ubuf, size_t len)
{
	char tmp[256];
	size_t done = 0;

	while (done < len) {
		size_t n = MIN(len - done, sizeof(tmp));
		if (copy_from_user(&current->vm, tmp, ubuf + done, n))
			return done ? (long)done : -E_FAULT;
		platform->console_write(tmp, n);
		done += n;
	}
	return (long)done;
}

/* ---- files ---- */
static struct file *file_alloc(enum file_type type)
{
	for (int i = 0; i < NFILES; i++)
		if (files[i].refs == 0) {
			files[i] = (struct file){type, 1, NULL};
			return &files[i];
		}
	return NULL;
}

static void file_put(struct file *f)
{
	if (--f->refs > 0)
		return;
	if (f->type == F_PIPE_R || f->type == F_PIPE_W) {
		struct pipe *pp = f->pipe;
		if (f->type == F_PIPE_R)
			pp->readers--;
		else
			pp->writers--;
		proc_wakeup(pp);
		if (pp->readers == 0 && pp->writers == 0) {
			free_page(pp->buf);
			pp->buf = NULL;
		}
	}
	if (f == &console_file)
		f->refs = 1 << 20; /* never released */
}

static void file_get(struct file *f)
{
	f->refs++; /* a pipe counts open files, not descriptors: its counts stay */
}

void files_init_console(struct proc *p)
{
	for (int fd = 0; fd < 3; fd++) {
		p->files[fd] = &console_file;
		console_file.refs++;
	}
}

void files_fork(struct proc *child, struct proc *parent)
{
	for (int fd = 0; fd < NFILE; fd++)
		if ((child->files[fd] = parent->files[fd]))
			file_get(child->files[fd]);
}

void files_close_all(struct proc *p)
{
	for (int fd = 0; fd < NFILE; fd++)
		if (p->files[fd]) {
			file_put(p->files[fd]);
			p->files[fd] = NULL;
		}
}

static int fd_alloc(struct proc *p, struct file *f)
{
	for (int fd = 0; fd < NFILE; fd++)
		if (!p->files[fd]) {
			p->files[fd] = f;
			return fd;
		}
	return -E_MFILE;
}

static struct file *fd_get(uint64_t fd)
{
	return fd < NFILE ? current->files[fd] : NULL;
}

/* ---- pipes ---- */
static long sys_pipe(uint64_t ufds)
{
	struct pipe *pp = NULL;
	for (int i = 0; i < NPIPES && !pp; i++)
		if (!pipes[i].buf)
			pp = &pipes[i];
	if (!pp)
		return -E_MFILE;
	struct file *r = file_alloc(F_PIPE_R);
	struct file *w = r ? file_alloc(F_PIPE_W) : NULL;
	if (!w) {
		if (r)
			r->refs = 0;
		return -E_MFILE;
	}
	pp->buf = alloc_page();
	if (!pp->buf) {
		r->refs = w->refs = 0;
		return -E_NOMEM;
	}
	pp->rpos = pp->wpos = 0;
	pp->readers = pp->writers = 1;
	r->pipe = w->pipe = pp;
	int fds[2] = {fd_alloc(current, r), -1};
	fds[1] = fds[0] >= 0 ? fd_alloc(current, w) : -E_MFILE;
	if (fds[1] < 0 || copy_to_user(&current->vm, ufds, fds, sizeof(fds))) {
		if (fds[0] >= 0)
			current->files[fds[0]] = NULL;
		if (fds[1] >= 0)
			current->files[fds[1]] = NULL;
		file_put(r);
		file_put(w);
		return fds[1] < 0 ? fds[1] : -E_FAULT;
	}
	return 0;
}

static long pipe_read(struct pipe *pp, uint64_t ubuf, size_t len)
{
	uint32_t avail = pp->wpos - pp->rpos;

	if (avail == 0) {
		if (pp->writers == 0)
			return 0;
		proc_block_restart(pp);
		return 0;
	}
	size_t n = MIN(len, avail);
	size_t off = pp->rpos % PIPE_SIZE, first = MIN(n, PIPE_SIZE - off);
	if (copy_to_user(&current->vm, ubuf, pp->buf + off, first) ||
	    copy_to_user(&current->vm, ubuf + first, pp->buf, n - first))
		return -E_FAULT;
	pp->rpos += (uint32_t)n;
	proc_wakeup(pp);
	return (long)n;
}

static long pipe_write(struct pipe *pp, uint64_t ubuf, size_t len)
{
	if (pp->readers == 0) {
		proc_signal(current, SIGPIPE);
		return -E_PIPE;
	}
	uint32_t room = PIPE_SIZE - (pp->wpos - pp->rpos);
	if (room == 0) {
		proc_block_restart(pp);
		return 0;
	}
	size_t n = MIN(len, room);
	size_t off = pp->wpos % PIPE_SIZE, first = MIN(n, PIPE_SIZE - off);
	if (copy_from_user(&current->vm, pp->buf + off, ubuf, first) ||
	    copy_from_user(&current->vm, pp->buf, ubuf + first, n - first))
		return -E_FAULT;
	pp->wpos += (uint32_t)n;
	proc_wakeup(pp);
	return (long)n;
}

/* ---- the calls ---- */
static long sys_read(uint64_t fd, uint64_t ubuf, uint64_t len)
{
	struct file *f = fd_get(fd);
	char zero[256];

	if (!f)
		return -E_BADF;
	switch (f->type) {
	case F_CONSOLE:
		return console_read(ubuf, len);
	case F_PIPE_R:
		return pipe_read(f->pipe, ubuf, len);
	case F_NULL:
		return 0;
	case F_ZERO:
		memset(zero, 0, sizeof(zero));
		len = MIN(len, sizeof(zero));
		return copy_to_user(&current->vm, ubuf, zero, len) ? -E_FAULT : (long)len;
	default:
		return -E_BADF;
	}
}

static long sys_write(uint64_t fd, uint64_t ubuf, uint64_t len)
{
	struct file *f = fd_get(fd);

	if (!f)
		return -E_BADF;
	switch (f->type) {
	case F_CONSOLE:
		return console_write(ubuf, len);
	case F_PIPE_W:
		return pipe_write(f->pipe, ubuf, len);
	case F_NULL:
	case F_ZERO:
		return (long)len;
	default:
		return -E_BADF;
	}
}

static long sys_open(uint64_t upath)
{
	char path[32];
	enum file_type t;

	if (strncpy_from_user(&current->vm, path, upath, sizeof(path)) < 0)
		return -E_FAULT;
	if (strcmp(path, "/dev/null") == 0)
		t = F_NULL;
	else if (strcmp(path, "/dev/zero") == 0)
		t = F_ZERO;
	else if (strcmp(path, "/dev/console") == 0)
		t = F_CONSOLE;
	else
		return -E_NOENT;
	struct file *f = t == F_CONSOLE ? &console_file : file_alloc(t);
	if (!f)
		return -E_MFILE;
	if (f == &console_file)
		f->refs++;
	int fd = fd_alloc(current, f);
	if (fd < 0)
		file_put(f);
	return fd;
}

static long sys_close(uint64_t fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -E_BADF;
	current->files[fd] = NULL;
	file_put(f);
	return 0;
}

static long sys_dup2(uint64_t oldfd, uint64_t newfd)
{
	struct file *f = fd_get(oldfd);
	if (!f || newfd >= NFILE)
		return -E_BADF;
	if (oldfd == newfd)
		return (long)newfd;
	if (current->files[newfd])
		file_put(current->files[newfd]);
	file_get(f);
	current->files[newfd] = f;
	return (long)newfd;
}

static long sys_exec(uint64_t upath, uint64_t uargv)
{
	static char strings[ARGS_SIZE];
	char path[64];
	char *argv[MAX_ARGS + 1];
	size_t used = 0;
	int argc = 0;

	if (strncpy_from_user(&current->vm, path, upath, sizeof(path)) < 0)
		return -E_FAULT;
	for (;; argc++) {
		uint64_t up;
		if (copy_from_user(&current->vm, &up, uargv + 8 * (uint64_t)argc, 8))
			return -E_FAULT;
		if (!up)
			break;
		if (argc == MAX_ARGS)
			return -E_INVAL;
		long n =
		    strncpy_from_user(&current->vm, strings + used, up, sizeof(strings) - used);
		if (n < 0)
			return n;
		argv[argc] = strings + used;
		used += (size_t)n + 1;
	}
	argv[argc] = NULL;
	return proc_exec(path, argv, argc);
}

static long sys_mmap(uint64_t hint, uint64_t len, uint64_t prot)
{
	struct vm *vm = &current->vm;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (len == 0 || len > (1UL << 36))
		return -E_INVAL;
	/* First fit above USER_MMAP_BASE. */
	uint64_t at = hint && hint >= USER_MMAP_BASE ? hint : USER_MMAP_BASE;
	for (bool moved = true; moved;) {
		moved = false;
		for (int i = 0; i < vm->nvma; i++)
			if (at < vm->vma[i].end && at + len > vm->vma[i].start) {
				at = vm->vma[i].end;
				moved = true;
			}
	}
	if (at + len > USER_STACK_TOP - (1UL << 20))
		return -E_NOMEM;
	int rc = vm_add_region(vm, at, at + len, (int)prot);
	return rc ? rc : (long)at;
}

static long sys_sbrk(int64_t inc)
{
	struct vm *vm = &current->vm;
	uint64_t old = vm->brk;
	uint64_t new_brk = old + (uint64_t)inc;
	uint64_t old_top = ALIGN_UP(old, PAGE_SIZE), new_top = ALIGN_UP(new_brk, PAGE_SIZE);

	if (new_brk < vm->brk_start || new_brk > USER_MMAP_BASE)
		return -E_NOMEM;
	if (new_top > old_top) {
		int rc = vm_add_region(vm, old_top, new_top, PROT_READ | PROT_WRITE);
		if (rc)
			return rc;
	} else if (new_top < old_top) {
		vm_remove_region(vm, new_top, old_top);
	}
	vm->brk = new_brk;
	return (long)old;
}

static long sys_procinfo(uint64_t index, uint64_t uinfo)
{
	int seen = 0;
	for (int i = 0; i < NPROC; i++) {
		struct proc *p = &procs[i];
		if (p->state == P_FREE)
			continue;
		if ((uint64_t)seen++ != index)
			continue;
		struct procinfo pi = {.pid = p->pid, .ppid = p->parent ? p->parent->pid : 0};
		pi.state = p->state == P_ZOMBIE ? 'Z' : p->state == P_BLOCKED ? 'S' : 'R';
		memcpy(pi.name, p->name, sizeof(pi.name));
		pi.pages = p->vm.pages;
		pi.runtime = p->runtime_ns;
		return copy_to_user(&current->vm, uinfo, &pi, sizeof(pi)) ? -E_FAULT : 0;
	}
	return -E_SRCH;
}

extern uint64_t kernel_total_pages;
long sys_domctl(uint64_t uop, uint64_t size); /* sys_domctl.c */
long sys_net(struct trap_frame *f);
long sys_blk(uint64_t op, uint64_t dev, uint64_t sector, uint64_t count, uint64_t ubuf);

long syscall_dispatch(struct trap_frame *f)
{
	uint64_t a1 = f->rdi, a2 = f->rsi, a3 = f->rdx;
	struct proc *p = current;

	switch (f->rax) {
	case SYS_exit:
		proc_exit((int)((a1 & 0xff) << 8));
		return 0;
	case SYS_fork:
		return proc_fork();
	case SYS_exec:
		return sys_exec(a1, a2);
	case SYS_wait:
		return proc_wait((int)a1, a2);
	case SYS_getpid:
		return p->pid;
	case SYS_getppid:
		return p->parent ? p->parent->pid : 0;
	case SYS_read:
		return sys_read(a1, a2, a3);
	case SYS_write:
		return sys_write(a1, a2, a3);
	case SYS_open:
		return sys_open(a1);
	case SYS_close:
		return sys_close(a1);
	case SYS_pipe:
		return sys_pipe(a1);
	case SYS_dup2:
		return sys_dup2(a1, a2);
	case SYS_mmap:
		return sys_mmap(a1, a2, a3);
	case SYS_munmap:
		return vm_remove_region(&p->vm, a1, a1 + ALIGN_UP(a2, PAGE_SIZE));
	case SYS_mprotect:
		return vm_protect(&p->vm, a1, a1 + ALIGN_UP(a2, PAGE_SIZE), (int)a3);
	case SYS_sbrk:
		return sys_sbrk((int64_t)a1);
	case SYS_nanosleep:
		proc_sleep(a1);
		return 0;
	case SYS_sched_yield:
		sched_yield_current();
		return 0;
	case SYS_uptime:
		return (long)platform->time_ns();
	case SYS_sigaction:
		if (a1 == 0 || a1 >= NSIG || a1 == SIGKILL)
			return -E_INVAL;
		p->sig_handler[a1] = a2;
		p->sig_restorer = a3;
		return 0;
	case SYS_sigreturn:
		return sys_sigreturn();
	case SYS_kill:
		return proc_kill((int)a1, (int)a2);
	case SYS_procinfo:
		return sys_procinfo(a1, a2);
	case SYS_meminfo: {
		struct meminfo mi = {kernel_total_pages, pages_free(), PAGE_SIZE};
		return copy_to_user(&p->vm, a1, &mi, sizeof(mi)) ? -E_FAULT : 0;
	}
	case SYS_shutdown:
		printk("%s: %s requested by pid %d\n", KERNEL_NAME, a1 ? "reboot" : "power off",
		       p->pid);
		platform->shutdown(a1 ? PLATFORM_REBOOT : PLATFORM_POWEROFF);
	case SYS_platform: {
		size_t n = MIN(strlen(platform->name) + 1, a2);
		return copy_to_user(&p->vm, a1, platform->name, n) ? -E_FAULT : (long)n;
	}
	case SYS_domctl:
		return sys_domctl(a1, a2);
	case SYS_socket:
	case SYS_bind:
	case SYS_sendto:
	case SYS_recvfrom:
	case SYS_sockclose:
	case SYS_netinfo:
		return sys_net(f);
	case SYS_blk:
		return sys_blk(a1, a2, a3, f->r10, f->r8);
	default:
		return -E_NOSYS;
	}
}
