/*
 * Processes, their address spaces and files: the kernel's internal interface (the files of
 * kernel/).
 *
 * The kernel has one kernel stack. A process's user registers live in its struct proc while it
 * is not running; every entry from user mode starts on the empty kernel stack and ends by
 * returning to whichever process the scheduler picked, so no kernel state outlives a trap. A
 * system call that must wait (read of an empty pipe, wait, sleep) marks its process blocked,
 * rewinds its RIP to the `syscall` instruction and lets the call run again when woken.
 */
#ifndef GK_PROC_H
#define GK_PROC_H

#include <klib/compiler.h>
#include <platform.h>
#include <uapi.h>

#define NPROC     64
#define NFILE     40
#define NVMA      32
#define MAX_ARGS  16
#define ARGS_SIZE 1024

/* ---- vm.c ---- */
struct vma {
	uint64_t start, end; /* [start, end), page aligned */
	int prot;            /* PROT_* */
};

struct vm {
	struct addr_space as;
	struct vma vma[NVMA];
	int nvma;
	uint64_t brk_start, brk; /* heap: [brk_start, brk) in the VMA list */
	uint64_t pages;          /* user pages mapped */
};

void vm_init(uint64_t max_pfn);
int vm_create(struct vm *vm);
void vm_destroy(struct vm *vm);
int vm_fork(struct vm *child, struct vm *parent);
/* Add a mapping region; pages come on demand (zeroed) unless populated by vm_copy_in. */
int vm_add_region(struct vm *vm, uint64_t start, uint64_t end, int prot);
int vm_remove_region(struct vm *vm, uint64_t start, uint64_t end);
int vm_protect(struct vm *vm, uint64_t start, uint64_t end, int prot);
/* Resolve a fault at va (write or not): 0 if fixed, -E_FAULT if the access is not allowed. */
int vm_fault(struct vm *vm, uint64_t va, int write);
/* Map a fresh page at va of a vm that is not running; the kernel fills it via *page_out. */
int vm_map_new_page(struct vm *vm, uint64_t va, void **page_out);
/* Copy to/from user memory of the current process (faulting pages in); 0 or -E_FAULT. */
int copy_to_user(struct vm *vm, uint64_t dst, const void *src, size_t len);
int copy_from_user(struct vm *vm, void *dst, uint64_t src, size_t len);
/* Copy a NUL-terminated string (at most size-1 chars); length or -E_FAULT/-E_INVAL. */
long strncpy_from_user(struct vm *vm, char *dst, uint64_t src, size_t size);
uint64_t vm_pages_in_use(void);

/* ---- files (syscall.c) ---- */
struct file;

/* ---- proc.c ---- */
enum proc_state { P_FREE, P_RUNNABLE, P_BLOCKED, P_ZOMBIE };

struct proc {
	enum proc_state state;
	int pid;
	struct proc *parent;
	char name[23];
	struct trap_frame regs;
	int in_syscall; /* regs came from a syscall and may return the fast way */
	int restart;    /* blocked in a system call that the kernel runs again when woken */
	struct vm vm;
	struct file *files[NFILE];
	const void *wait_on; /* what a blocked process waits for */
	uint64_t wake_at;    /* for nanosleep: time_ns deadline, 0 if none */
	int exit_status;
	uint32_t sig_pending;
	uint64_t sig_handler[NSIG];
	uint64_t sig_restorer;
	uint64_t runtime_ns, ran_since;
};

extern struct proc *current;
extern struct proc procs[NPROC];

struct proc *proc_alloc(void);
void proc_free(struct proc *p);
/* Block the current process on `chan` and make its system call run again when woken. */
void proc_block_restart(const void *chan);
void proc_wakeup(const void *chan);
void proc_exit(int status);
void proc_signal(struct proc *p, int sig);
int proc_kill(int pid, int sig);
int proc_wait(int pid, uint64_t status_uva);
long proc_fork(void);
long proc_exec(const char *path, char *const *argv, int argc);
void sched_yield_current(void);
void proc_sleep(uint64_t ns);
void proc_start_init(const char *script);
void sched_tick(void);
long sys_sigreturn(void);

/* ---- syscall.c ---- */
long syscall_dispatch(struct trap_frame *f);
void files_fork(struct proc *child, struct proc *parent);
void files_close_all(struct proc *p);
void files_init_console(struct proc *p);
void console_poll(void);
int console_has_readers(void);

/* ---- elf.c ---- */
/* Load the program `name` into a fresh vm; entry point out. */
int elf_load(struct vm *vm, const char *name, uint64_t *entry);
int program_exists(const char *name);

#endif
