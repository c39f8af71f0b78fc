/*
 * Writable page tables ("ptwr"): the instruction emulator that lets a guest kernel write its
 * own L1 page tables with ordinary instructions (VMASST_TYPE_writable_pagetables). A write
 * that faults on a read-only mapping of an L1 table is decoded here; hv then validates the
 * resulting entry exactly like mmu_update and stores it (ptwr.c).
 */
#ifndef HV_PV_PTWR_H
#define HV_PV_PTWR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The guest state the emulated instruction reads and writes. */
struct ptwr_regs {
	uint64_t gpr[16]; /* rax rcx rdx rbx rsp rbp rsi rdi r8 .. r15 */
	uint64_t rip, rflags;
	uint64_t fs_base, gs_base;
};

enum ptwr_op {
	PTWR_MOV,
	PTWR_XCHG,
	PTWR_CMPXCHG,
	PTWR_CMPXCHG8B,
	PTWR_ADD,
	PTWR_OR,
	PTWR_AND,
	PTWR_SUB,
	PTWR_XOR,
	PTWR_BTS,
	PTWR_BTR,
	PTWR_BTC,
};

struct ptwr_insn {
	enum ptwr_op op;
	unsigned int len;  /* instruction bytes */
	unsigned int size; /* operand bytes: 1, 2, 4, 8 */
	int reg;           /* register operand (0-15), -1 if immediate */
	bool high_byte;    /* reg names AH/CH/DH/BH */
	uint64_t imm;      /* immediate, sign-extended to 64 bits */
	uint64_t ea;       /* effective linear address of the memory operand */
};

/*
 * Decode the instruction at bytes[0..avail) as a memory write to the page-table entry at
 * cr2; fills *in, or returns false if it is not one hv emulates.
 */
bool ptwr_decode(const uint8_t *bytes, size_t avail, const struct ptwr_regs *r, uint64_t cr2,
                 struct ptwr_insn *in);

/*
 * Execute it against `old`, the aligned 64-bit entry containing the operand: *new_entry is the
 * entry to store and *store whether anything is written (a failed compare-exchange writes
 * nothing). Registers, flags and RIP in *r are updated; the caller commits them only if the
 * new entry validates.
 */
void ptwr_execute(const struct ptwr_insn *in, struct ptwr_regs *r, uint64_t old,
                  uint64_t *new_entry, bool *store);

#endif
