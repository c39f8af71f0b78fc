/*
 * Processes and the scheduler.
 *
 * One kernel stack serves every process (see proc.h): kernel_user_trap() saves the user
 * registers of `current` into its struct proc, handles the trap, picks who runs next (round
 * robin; a process runs until it blocks, yields or its 10 ms slice ends) and hands that
 * process's registers back to the platform, which returns to user mode with them. When nothing
 * is runnable the kernel idles inside the trap with interrupts/events enabled.
 *
 * Invariants: `current` is the process whose address space is loaded whenever user memory is
 * touched; a process is freed only by its parent's wait (or by init adopting orphans); an
 * exiting process switches to the kernel's own address space before its own is torn down.
 */
#include <kernel.h>
#include <mm.h>
#include <proc.h>
#include <klib/string.h>

#define SLICE_NS        10000000ULL
#define CONSOLE_POLL_NS 5000000ULL

struct proc procs[NPROC];
struct proc *current;
static int next_pid = 1;
static volatile int need_resched;
static int restart_syscall;
static int regs_replaced;
static uint64_t slice_end;
static bool timer_running;

struct proc *proc_alloc(void)
{
	for (int i = 0; i < NPROC; i++) {
		struct proc *p = &procs[i];
		if (p->state == P_FREE) {
			memset(p, 0, sizeof(*p));
			p->pid = next_pid++;
			p->state = P_BLOCKED; /* not runnable until set up */
			return p;
		}
	}
	return NULL;
}

void proc_free(struct proc *p)
{
	p->state = P_FREE;
}

/* Arm the timer for the end of the slice or the earliest sleeper, whichever comes first. */
static void arm_timer(void)
{
	uint64_t now = platform->time_ns();
	uint64_t next = now + SLICE_NS;

	if (console_has_readers() && now + CONSOLE_POLL_NS < next)
		next = now + CONSOLE_POLL_NS;
	for (int i = 0; i < NPROC; i++)
		if (procs[i].state == P_BLOCKED && procs[i].wake_at && procs[i].wake_at < next)
			next = procs[i].wake_at;
	platform->timer_set(next);
	timer_running = true;
}

/* Timer interrupt/event (interrupts masked): wake sleepers, end the slice, poll the console. */
void sched_tick(void)
{
	uint64_t now = platform->time_ns();

	for (int i = 0; i < NPROC; i++) {
		struct proc *p = &procs[i];
		if (p->state == P_BLOCKED && p->wake_at && p->wake_at <= now) {
			p->wake_at = 0;
			p->state = P_RUNNABLE;
		}
	}
	console_poll();
	if (now >= slice_end)
		need_resched = 1;
	arm_timer();
}

void kernel_timer_tick(void)
{
	kernel_ticks++;
	if (timer_running)
		sched_tick();
}

void proc_block_restart(const void *chan)
{
	current->state = P_BLOCKED;
	current->wait_on = chan;
	restart_syscall = 1;
}

void proc_wakeup(const void *chan)
{
	for (int i = 0; i < NPROC; i++) {
		struct proc *p = &procs[i];
		if (p->state == P_BLOCKED && p->wait_on == chan) {
			p->wait_on = NULL;
			p->state = P_RUNNABLE;
		}
	}
}

void proc_sleep(uint64_t ns)
{
	current->wake_at = platform->time_ns() + (ns ? ns : 1);
	current->state = P_BLOCKED;
	current->wait_on = &current->wake_at;
	arm_timer();
}

void sched_yield_current(void)
{
	need_resched = 1;
}

static bool any_alive(void)
{
	for (int i = 0; i < NPROC; i++)
		if (procs[i].state == P_RUNNABLE || procs[i].state == P_BLOCKED)
			return true;
	return false;
}

/* Pick the next runnable process (round robin after current) and load its address space. */
static void schedule(void)
{
	int start = current ? (int)(current - procs) : 0;

	need_resched = 0;
	for (;;) {
		for (int i = 1; i <= NPROC; i++) {
			struct proc *q = &procs[(start + i) % NPROC];
			if (q->state != P_RUNNABLE)
				continue;
			uint64_t now = platform->time_ns();
			if (q != current) {
				if (current &&
				    (current->state == P_RUNNABLE || current->state == P_BLOCKED))
					current->runtime_ns += now - current->ran_since;
				q->ran_since = now;
				platform->as_switch(&q->vm.as);
				current = q;
			}
			slice_end = now + SLICE_NS;
			return;
		}
		if (!any_alive()) {
			printk("%s: no processes left, powering off\n", KERNEL_NAME);
			platform->shutdown(PLATFORM_POWEROFF);
		}
		arm_timer();
		platform->idle();
	}
}

void proc_signal(struct proc *p, int sig)
{
	p->sig_pending |= 1u << sig;
	if (p->state == P_BLOCKED) {
		p->wake_at = 0;
		p->wait_on = NULL;
		p->state = P_RUNNABLE;
	}
}

int proc_kill(int pid, int sig)
{
	if (sig <= 0 || sig >= NSIG)
		return -E_INVAL;
	for (int i = 0; i < NPROC; i++)
		if (procs[i].pid == pid &&
		    (procs[i].state == P_RUNNABLE || procs[i].state == P_BLOCKED)) {
			proc_signal(&procs[i], sig);
			return 0;
		}
	return -E_SRCH;
}

void proc_exit(int status)
{
	struct proc *p = current;

	files_close_all(p);
	platform->as_switch(NULL);
	vm_destroy(&p->vm);
	p->exit_status = status;
	p->runtime_ns += platform->time_ns() - p->ran_since;
	/* Orphans go to init, which reaps them when they are (or become) zombies. */
	struct proc *init = &procs[0];
	for (int i = 0; i < NPROC; i++) {
		if (procs[i].parent == p && procs[i].state != P_FREE) {
			procs[i].parent = init;
			if (procs[i].state == P_ZOMBIE)
				proc_wakeup(init);
		}
	}
	p->state = P_ZOMBIE;
	if (p->parent)
		proc_wakeup(p->parent);
	if (p == init) {
		printk("%s: init exited with status %d, powering off\n", KERNEL_NAME, status);
		platform->shutdown(PLATFORM_POWEROFF);
	}
	/* current stays p (a zombie) so that the round robin continues after its slot. */
	regs_replaced = 1;
}

int proc_wait(int pid, uint64_t status_uva)
{
	bool have_child = false;

	for (int i = 0; i < NPROC; i++) {
		struct proc *c = &procs[i];
		if (c->parent != current || c->state == P_FREE || (pid > 0 && c->pid != pid))
			continue;
		have_child = true;
		if (c->state != P_ZOMBIE)
			continue;
		int st = c->exit_status, cpid = c->pid;
		if (status_uva && copy_to_user(&current->vm, status_uva, &st, sizeof(st)))
			return -E_FAULT;
		proc_free(c);
		return cpid;
	}
	if (!have_child)
		return -E_CHILD;
	proc_block_restart(current);
	return 0;
}

long proc_fork(void)
{
	struct proc *p = current, *c = proc_alloc();
	int rc;

	if (!c)
		return -E_AGAIN;
	if ((rc = vm_fork(&c->vm, &p->vm))) {
		proc_free(c);
		return rc;
	}
	files_fork(c, p);
	c->parent = p;
	memcpy(c->name, p->name, sizeof(c->name));
	memcpy(c->sig_handler, p->sig_handler, sizeof(c->sig_handler));
	c->sig_restorer = p->sig_restorer;
	c->regs = p->regs;
	c->regs.rax = 0;
	c->state = P_RUNNABLE;
	return c->pid;
}

long proc_exec(const char *path, char *const *argv, int argc)
{
	struct proc *p = current;
	struct vm nvm;
	uint64_t entry;
	int rc;

	if (!program_exists(path))
		return -E_NOENT;
	if ((rc = vm_create(&nvm)))
		return rc;
	if ((rc = elf_load(&nvm, path, &entry)) ||
	    (rc = vm_add_region(&nvm, USER_STACK_TOP - (1UL << 20), USER_STACK_TOP,
	                        PROT_READ | PROT_WRITE))) {
		vm_destroy(&nvm);
		return rc;
	}

	/* Arguments: strings, then the argv array, at the top of the stack page. */
	char *page;
	if ((rc = vm_map_new_page(&nvm, USER_STACK_TOP - PAGE_SIZE, (void **)&page))) {
		vm_destroy(&nvm);
		return rc;
	}
	platform->pt_commit();
	uint64_t base = USER_STACK_TOP - PAGE_SIZE;
	size_t off = PAGE_SIZE;
	uint64_t uargv[MAX_ARGS + 1];
	for (int i = argc - 1; i >= 0; i--) {
		size_t len = strlen(argv[i]) + 1;
		off -= len;
		memcpy(page + off, argv[i], len);
		uargv[i] = base + off;
	}
	uargv[argc] = 0;
	off = (off - sizeof(uint64_t) * (size_t)(argc + 1)) & ~15UL;
	memcpy(page + off, uargv, sizeof(uint64_t) * (size_t)(argc + 1));

	struct vm old = p->vm;
	p->vm = nvm;
	platform->as_switch(&p->vm.as);
	vm_destroy(&old);

	const char *slash = strrchr(path, '/');
	strlcpy(p->name, slash ? slash + 1 : path, sizeof(p->name));
	memset(&p->regs, 0, sizeof(p->regs));
	platform->user_frame_init(&p->regs, entry, base + off);
	p->regs.rdi = (uint64_t)argc;
	p->regs.rsi = base + off;
	memset(p->sig_handler, 0, sizeof(p->sig_handler));
	p->sig_pending = 0;
	regs_replaced = 1;
	return 0;
}

long sys_sigreturn(void)
{
	struct proc *p = current;
	struct trap_frame saved;

	if (copy_from_user(&p->vm, &saved, p->regs.rsp, sizeof(saved))) {
		proc_exit(SIGSEGV);
		return 0;
	}
	uint64_t rip = saved.rip, rsp = saved.rsp;
	p->regs = saved;
	platform->user_frame_init(&p->regs, rip, rsp);
	regs_replaced = 1;
	return 0;
}

/* Run the handler of sig on the user stack, or apply the default action (exit). */
static void deliver_signal(struct proc *p, int sig)
{
	p->sig_pending &= ~(1u << sig);
	if (sig != SIGKILL && p->sig_handler[sig] && p->sig_restorer) {
		uint64_t usp = ((p->regs.rsp - 128 - sizeof(struct trap_frame)) & ~15UL) - 8;
		uint64_t ret = p->sig_restorer;
		if (copy_to_user(&p->vm, usp + 8, &p->regs, sizeof(p->regs)) == 0 &&
		    copy_to_user(&p->vm, usp, &ret, sizeof(ret)) == 0) {
			p->regs.rsp = usp;
			p->regs.rip = p->sig_handler[sig];
			p->regs.rdi = (uint64_t)sig;
			p->in_syscall = 0;
			return;
		}
	}
	proc_exit(sig);
}

static void user_exception(struct proc *p, struct trap_frame *f, uint64_t cr2)
{
	if (f->vector == 14 && vm_fault(&p->vm, cr2, (f->error_code & 2) != 0) == 0)
		return;
	if (!p->sig_handler[SIGSEGV])
		printk(
		    "pid %d (%s): killed: exception %llu error %#llx at rip %#llx, address %#llx\n",
		    p->pid, p->name, (unsigned long long)f->vector,
		    (unsigned long long)f->error_code, (unsigned long long)f->rip,
		    (unsigned long long)cr2);
	p->sig_pending |= 1u << SIGSEGV;
}

/*
 * Every entry from user mode. f is the platform's frame on the kernel stack; on return it holds
 * the registers of the process to resume. Returns 1 when that is the same process coming back
 * from the system call it made (the platform may use its fast return), else 0.
 */
/*
 * Run the system call in p->regs (p is current). If it must wait, its RIP is rewound to the
 * `syscall` instruction and p->restart set: when p is picked again the kernel runs the call
 * again itself (see kernel_user_trap), saving a trip through user mode; a signal delivered
 * meanwhile runs its handler first and the instruction itself repeats the call afterwards.
 */
static long run_syscall(struct proc *p)
{
	restart_syscall = 0;
	regs_replaced = 0;
	long r = syscall_dispatch(&p->regs);
	if (restart_syscall) {
		p->regs.rip -= 2;
		p->restart = 1;
		p->in_syscall = 0;
	} else if (!regs_replaced) {
		p->regs.rax = (uint64_t)r;
		p->in_syscall = 1;
	}
	return r;
}

int kernel_user_trap(struct trap_frame *f, int kind, uint64_t cr2)
{
	struct proc *p = current;

	if (!p)
		panic("trap from user mode with no current process");
	if (kind == TRAP_SYSCALL) {
		p->regs = *f;
		long r = run_syscall(p);
		/* The common case: the same process continues. */
		if (current == p && p->state == P_RUNNABLE && !need_resched && !p->sig_pending) {
			if (!regs_replaced && !restart_syscall) {
				f->rax = (uint64_t)r;
				return 1;
			}
			*f = p->regs;
			return 0;
		}
	} else {
		p->regs = *f;
		p->in_syscall = 0;
		if (kind == TRAP_EXCEPTION)
			user_exception(p, f, cr2);
	}

	for (;;) {
		if (!current || current->state != P_RUNNABLE || need_resched)
			schedule();
		struct proc *q = current;
		if (q->sig_pending) {
			q->restart =
			    0; /* the rewound `syscall` repeats the call after the handler */
			deliver_signal(q, __builtin_ctz(q->sig_pending));
			continue;
		}
		if (q->restart) {
			q->restart = 0;
			q->regs.rip += 2;
			run_syscall(q);
			continue;
		}
		break;
	}
	*f = current->regs;
	return current->in_syscall;
}

void proc_start_init(const char *script)
{
	struct proc *p = proc_alloc();
	char *argv[4] = {"sh", NULL, NULL, NULL};
	int argc = 1;

	if (!p || vm_create(&p->vm))
		panic("cannot create init");
	files_init_console(p);
	current = p;
	p->state = P_RUNNABLE;
	platform->as_switch(&p->vm.as);
	if (script && *script) {
		argv[1] = "-c";
		argv[2] = (char *)script;
		argc = 3;
	}
	long rc = proc_exec("sh", argv, argc);
	if (rc)
		panic("cannot start init: %ld", rc);
	p->ran_since = platform->time_ns();
	arm_timer();
	platform->user_enter(&p->regs);
}
