/*
 * The native platform: the guest kernel on the bare machine (QEMU's -kernel multiboot load),
 * in ring 0 with its own GDT, IDT, TSS and page tables.
 *
 * Devices: COM1 for the console (output waits for the transmitter; input arrives by IRQ 4
 * through the IOAPIC, routed by apic.c from the MADT, and runs the kernel's console_poll; with
 * no IOAPIC it is polled from the timer while a process waits for it), the TSC calibrated
 * against PIT channel 2 for time, the local APIC timer in one-shot mode (calibrated against
 * the TSC) for timer_set. The 8259 PIC and the PIT serve only the calibration: the PIC is
 * remapped to vectors 32-47 and fully masked, PIT channel 0 is left idle. Power off: QEMU's
 * isa-debug-exit if present, else ACPI S5 (apic.c).
 * Page tables are ordinary memory here: sealing is a no-op and entries are plain stores.
 *
 * Invariants: interrupts are off whenever the kernel runs a trap (interrupt gates, SFMASK
 * clears IF on SYSCALL), except inside idle(); user mode runs with IF set.
 */
#include <kernel.h>
#include <mm.h>
#include <platform.h>
#include <proc.h>
#include <x86.h>
#include <klib/string.h>
#include "native.h"

#define PHYS_BASE   NATIVE_PHYS_BASE
#define COM1        0x3f8
#define USER_CS     0x23
#define USER_SS     0x1b
#define VEC_SYSCALL 258

extern uint64_t native_kernel_l4[512];
extern char native_kernel_stack_top[], _image_end[];
extern const uint64_t native_vectors[NATIVE_NR_VECTORS];
extern char native_syscall_entry[];
__noreturn void native_return_with_frame(struct trap_frame *f);
__noreturn void native_start(uint32_t magic, uint32_t info);
void native_trap_dispatch(struct trap_frame *f);

static inline uint64_t phys_of(const void *va)
{
	return (uintptr_t)va - KERNEL_VIRT_BASE + PHYS_BASE;
}
static inline void write_cr3(uint64_t v)
{
	__asm__ __volatile__("mov %0, %%cr3" ::"r"(v) : "memory");
}
static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ __volatile__("mov %%cr2, %0" : "=r"(v));
	return v;
}

/* ---- console ---- */
static void serial_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts until the IOAPIC routes IRQ 4 */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01); /* 115200 */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFO */
	outb(COM1 + 4, 0x0b); /* DTR, RTS, OUT2 (gates the IRQ line on PCs) */
}

static void native_console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			while (!(inb(COM1 + 5) & 0x20))
				;
			outb(COM1, '\r');
		}
		while (!(inb(COM1 + 5) & 0x20))
			;
		outb(COM1, (uint8_t)s[i]);
	}
}

static size_t native_console_read(char *buf, size_t len)
{
	size_t n = 0;
	while (n < len && (inb(COM1 + 5) & 0x01))
		buf[n++] = (char)inb(COM1);
	return n;
}

/* ---- time ---- */
static uint64_t tsc0, tsc_mul; /* ns = (tsc - tsc0) * tsc_mul >> 32 */
static uint64_t tsc_khz, lapic_khz;
static volatile uint64_t timer_deadline; /* 0: none armed */

static void calibrate_tsc(void)
{
	/* PIT channel 2, mode 0, 10 ms; the gate is bit 0 of port 0x61, OUT is bit 5. */
	const uint16_t count = 11932;
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0);
	outb(0x42, count & 0xff);
	outb(0x42, count >> 8);
	uint64_t start = rdtsc();
	while (!(inb(0x61) & 0x20))
		;
	uint64_t delta = rdtsc() - start;
	tsc_khz = delta / 10;
	if (!tsc_khz)
		tsc_khz = 1;
	tsc_mul = (1000000ULL << 32) / tsc_khz;
	tsc0 = rdtsc();
}

static uint64_t native_time_ns(void)
{
	return (uint64_t)(((unsigned __int128)(rdtsc() - tsc0) * tsc_mul) >> 32);
}

static uint64_t native_wallclock_ns(void)
{
	return 0;
}

/* Arms the local APIC's one-shot count for `deadline_ns`; a count that cannot reach that far
 * fires early and the interrupt arms the rest. */
static void lapic_arm(uint64_t deadline_ns)
{
	uint64_t now = native_time_ns();
	uint64_t delta = deadline_ns > now ? deadline_ns - now : 0;

	if (delta > 1000000000000ULL)
		delta = 1000000000000ULL;
	native_lapic_oneshot(delta * lapic_khz / 1000000);
}

static void native_timer_set(uint64_t deadline_ns)
{
	timer_deadline = deadline_ns ? deadline_ns : 1;
	lapic_arm(timer_deadline);
}

static void pic_pit_quiet(void)
{
	/* PIC: IRQ 0-7 at vectors 32-39, 8-15 at 40-47 (so a spurious IRQ 7/15 is recognised),
	 * all masked; PIT channel 0 in mode 0 without a count, so it never ticks. */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 32);
	outb(0xa1, 40);
	outb(0x21, 4);
	outb(0xa1, 2);
	outb(0x21, 1);
	outb(0xa1, 1);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
	outb(0x43, 0x30);
}

/* ---- interrupts ---- */
static unsigned long native_irq_save(void)
{
	unsigned long flags;
	__asm__ __volatile__("pushfq; pop %0; cli" : "=r"(flags)::"memory");
	return flags & 0x200;
}

static void native_irq_restore(unsigned long flags)
{
	if (flags)
		__asm__ __volatile__("sti" ::: "memory");
}

static void native_idle(void)
{
	__asm__ __volatile__("sti; hlt; cli" ::: "memory");
}

static __noreturn void native_shutdown(int reason)
{
	printk("native: %s\n", reason == PLATFORM_POWEROFF ? "power off"
	                       : reason == PLATFORM_REBOOT ? "reboot"
	                                                   : "crash");
	if (reason == PLATFORM_REBOOT)
		outb(0x64, 0xfe); /* keyboard controller reset (QEMU -no-reboot exits) */
	outl(0xf4, reason == PLATFORM_CRASH ? 1 : 0); /* isa-debug-exit */
	if (reason == PLATFORM_POWEROFF)
		native_acpi_poweroff(); /* no isa-debug-exit device: we are still here */
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

/* ---- descriptor tables ---- */
struct tss {
	uint32_t reserved0;
	uint64_t rsp0, rsp1, rsp2, reserved1, ist[7], reserved2;
	uint16_t reserved3, iomap;
} __attribute__((packed));

static uint64_t gdt[7] __aligned(16);
static struct tss tss __aligned(16);
static uint64_t idt[NATIVE_NR_VECTORS * 2] __aligned(16);

static void load_tables(void)
{
	gdt[1] = 0x00af9a000000ffffULL; /* 0x08 kernel code */
	gdt[2] = 0x00cf92000000ffffULL; /* 0x10 kernel data */
	gdt[3] = 0x00cff2000000ffffULL; /* 0x18 user data (0x1b) */
	gdt[4] = 0x00affa000000ffffULL; /* 0x20 user code (0x23) */
	uint64_t base = (uint64_t)&tss, limit = sizeof(tss) - 1;
	gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
	         ((base >> 24) & 0xff) << 56;
	gdt[6] = base >> 32;
	tss.rsp0 = (uint64_t)native_kernel_stack_top;
	tss.iomap = sizeof(tss);
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gp = {sizeof(gdt) - 1, (uint64_t)gdt},
	                          ip = {sizeof(idt) - 1, (uint64_t)idt};
	__asm__ __volatile__("lgdt %0" ::"m"(gp));
	__asm__ __volatile__("ltr %w0" ::"r"(0x28));
	for (int v = 0; v < NATIVE_NR_VECTORS; v++) {
		uint64_t a = native_vectors[v];
		unsigned int dpl = (v == 3 || v == 4) ? 3 : 0;
		idt[2 * v] = (a & 0xffff) | (0x08ULL << 16) | ((0x8eULL | (dpl << 5)) << 40) |
		             ((a >> 16) & 0xffff) << 48;
		idt[2 * v + 1] = a >> 32;
	}
	__asm__ __volatile__("lidt %0" ::"m"(ip));

	wrmsr(0xc0000081, (0x13ULL << 48) | (0x08ULL << 32)); /* STAR */
	wrmsr(0xc0000082, (uint64_t)native_syscall_entry);    /* LSTAR */
	wrmsr(0xc0000084, 0x700);                             /* SFMASK: IF, DF, TF */
	wrmsr(0xc0000080, rdmsr(0xc0000080) | 1);             /* EFER.SCE */
}

/* ---- page tables ---- */
static uint64_t native_pte_make(uint64_t pfn, uint64_t flags)
{
	return ((pfn << PAGE_SHIFT) + PHYS_BASE) | flags;
}

static uint64_t native_pte_pfn(uint64_t pte)
{
	return ((pte & 0x000ffffffffff000ULL) - PHYS_BASE) >> PAGE_SHIFT;
}

static void native_pt_nop(void *table)
{
}

static void native_pt_write(uint64_t *entry, uint64_t value)
{
	WRITE_ONCE(*entry, value);
}

static void native_pt_commit(void)
{
}

static void native_pte_set_current(uint64_t va, uint64_t *entry, uint64_t value)
{
	WRITE_ONCE(*entry, value);
	__asm__ __volatile__("invlpg (%0)" ::"r"(va) : "memory");
}

static int native_as_create(struct addr_space *as)
{
	uint64_t *l4 = alloc_page();
	if (!l4)
		return -1;
	l4[511] = native_kernel_l4[511];
	l4[0] = native_pte_make(virt_to_pfn(as->l3), PTE_P | PTE_W | PTE_U | PTE_A | PTE_D);
	as->l4 = l4;
	as->l4_user = NULL;
	return 0;
}

static void native_as_destroy(struct addr_space *as)
{
	free_page(as->l4);
	as->l4 = NULL;
}

static void native_as_switch(struct addr_space *as)
{
	write_cr3(phys_of(as ? as->l4 : native_kernel_l4));
}

static void native_tlb_flush(void)
{
	uint64_t cr3;
	__asm__ __volatile__("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
}

static void native_tlb_flush_page(uint64_t va)
{
	__asm__ __volatile__("invlpg (%0)" ::"r"(va) : "memory");
}

static void native_user_frame_init(struct trap_frame *f, uint64_t rip, uint64_t rsp)
{
	f->rip = rip;
	f->rsp = rsp;
	f->cs = USER_CS;
	f->ss = USER_SS;
	f->rflags = 0x202;
	f->iret_flags = 0;
}

static __noreturn void native_user_enter(const struct trap_frame *f)
{
	uintptr_t top = (uintptr_t)native_kernel_stack_top - sizeof(struct trap_frame);
	*(struct trap_frame *)top = *f;
	native_return_with_frame((struct trap_frame *)top);
}

/* ---- traps ---- */

/*
 * `ptfloor` on the command line: reload CR3 on every entry from and every return to user mode,
 * the two page-table switches per transition that a 64-bit PV kernel cannot avoid (its kernel
 * and user space both run in ring 3 and only the page tables separate them). The benchmarks
 * run natively with it to measure the floor those switches impose on the machine (under QEMU
 * TCG every CR3 write empties the software TLB).
 */
static bool ptfloor;

static void reload_cr3(void)
{
	uint64_t cr3;
	__asm__ __volatile__("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
}

static void user_trap(struct trap_frame *f, int kind, uint64_t cr2)
{
	if (ptfloor)
		reload_cr3();
	kernel_user_trap(f, kind, cr2);
	if (ptfloor)
		reload_cr3();
}

void native_trap_dispatch(struct trap_frame *f)
{
	bool user = (f->cs & 3) == 3;

	if (f->vector == VEC_SYSCALL) {
		user_trap(f, TRAP_SYSCALL, 0);
		return;
	}
	if (f->vector >= VEC_PIC_BASE && f->vector < VEC_PIC_BASE + 16)
		return; /* the 8259 is masked: only its spurious IRQ 7/15 come, which take no EOI */
	if (f->vector == VEC_APIC_SPURIOUS)
		return;
	if (f->vector == VEC_APIC_TIMER || f->vector == VEC_COM1) {
		native_lapic_eoi();
		if (f->vector == VEC_COM1) {
			/* Input is taken (and echoed) only while a process reads the console, as
			 * with polling: what is typed before the prompt stays in the UART's FIFO,
			 * and the scheduler's console poll takes it once a reader waits. */
			if (console_has_readers())
				console_poll();
		} else {
			uint64_t dl = timer_deadline;
			if (dl && native_time_ns() >= dl) {
				timer_deadline = 0;
				kernel_timer_tick();
			} else if (dl) {
				lapic_arm(dl);
			}
		}
		if (user)
			user_trap(f, TRAP_IRQ, 0);
		return;
	}
	uint64_t cr2 = f->vector == 14 ? read_cr2() : 0;
	if (user) {
		user_trap(f, TRAP_EXCEPTION, cr2);
		return;
	}
	printk(
	    "exception %llu error %#llx at rip %#llx cs %#llx rflags %#llx rsp %#llx cr2 %#llx\n",
	    (unsigned long long)f->vector, (unsigned long long)f->error_code,
	    (unsigned long long)f->rip, (unsigned long long)f->cs, (unsigned long long)f->rflags,
	    (unsigned long long)f->rsp, (unsigned long long)cr2);
	panic("unhandled exception in kernel mode");
}

/* ---- start ---- */
static char native_cmdline[512];

static struct platform_ops native_platform = {
    .name = "native",
    .console_write = native_console_write,
    .time_ns = native_time_ns,
    .wallclock_ns = native_wallclock_ns,
    .timer_set = native_timer_set,
    .irq_save = native_irq_save,
    .irq_restore = native_irq_restore,
    .idle = native_idle,
    .shutdown = native_shutdown,
    .cmdline = native_cmdline,
    .console_read = native_console_read,
    .pte_make = native_pte_make,
    .pte_pfn = native_pte_pfn,
    .pt_seal = native_pt_nop,
    .pt_unseal = native_pt_nop,
    .pt_write = native_pt_write,
    .pt_commit = native_pt_commit,
    .pte_set_current = native_pte_set_current,
    .as_create = native_as_create,
    .as_destroy = native_as_destroy,
    .as_switch = native_as_switch,
    .tlb_flush = native_tlb_flush,
    .tlb_flush_page = native_tlb_flush_page,
    .user_frame_init = native_user_frame_init,
    .user_enter = native_user_enter,
};

struct multiboot_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
};

__noreturn void native_start(uint32_t magic, uint32_t info_pa)
{
	serial_init();
	platform = &native_platform;
	if (magic != 0x2badb002)
		panic("native: not entered by a multiboot loader (magic %#x)", magic);

	/* The information block and command line are in the identity map (dropped below). */
	const struct multiboot_info *mbi = (const void *)(uintptr_t)info_pa;
	uint64_t mem_end = 1ULL << 20;
	if (mbi->flags & 1)
		mem_end += (uint64_t)mbi->mem_upper << 10;
	if (mbi->flags & 4)
		strlcpy(native_cmdline, (const char *)(uintptr_t)mbi->cmdline,
		        sizeof(native_cmdline));
	/* The loader appends its data after the image: keep the first 64 KiB after it unused. */
	uint64_t first_pfn = virt_to_pfn(_image_end) + 16;
	uint64_t end_pfn = (mem_end - PHYS_BASE) >> PAGE_SHIFT;
	if (end_pfn > 511UL * 512UL)
		end_pfn = 511UL * 512UL;

	ptfloor = cmdline_get(native_cmdline, "ptfloor", NULL, 0) == 0;
	native_acpi_scan();      /* the tables are read through the identity map */
	native_kernel_l4[0] = 0; /* user space belongs to processes from now on */
	native_tlb_flush();
	load_tables();
	calibrate_tsc();
	pic_pit_quiet();
	native_apic_map(native_kernel_l4);
	lapic_khz = native_lapic_init(tsc_khz);
	page_alloc_add_range(first_pfn, end_pfn);
	printk("native: multiboot, %llu MiB, tsc %llu kHz, image end pfn %llu%s\n",
	       (unsigned long long)(mem_end >> 20), (unsigned long long)tsc_khz,
	       (unsigned long long)first_pfn,
	       ptfloor ? ", ptfloor (CR3 reload per transition)" : "");
	printk("native: timer: local APIC one-shot, %llu kHz (calibrated against the TSC)\n",
	       (unsigned long long)lapic_khz);
	if (native_ioapic_route_com1())
		outb(COM1 + 1, 0x01); /* interrupt on received data */
	else
		printk("native: no IOAPIC in the MADT: COM1 input is polled\n");
	__asm__ __volatile__("sti");
	kernel_main();
}
