/*
 * Decoding and executing the instructions a guest kernel uses to write a page-table entry
 * in place: MOV stores (88/89, C6/C7), XCHG (86/87), CMPXCHG (0F B0/B1), CMPXCHG8B (0F C7 /1),
 * read-modify-write ALU ops with a register or immediate (ADD OR AND SUB XOR: 00-31, 80/81/83),
 * and bit operations BTS/BTR/BTC (0F AB/B3/BB, 0F BA /5-/7), with LOCK, operand-size, REX,
 * address-size and segment prefixes. Anything else is refused and the guest gets its #PF.
 *
 * The operand must be naturally aligned, at most 8 bytes, and inside the 8-byte entry that
 * faulted (cr2); sub-entry writes are merged into the full entry. This file is pure: no guest
 * memory access, so the host unit test can feed it byte sequences.
 */
#include "ptwr.h"

#define RF_CF    0x001
#define RF_PF    0x004
#define RF_AF    0x010
#define RF_ZF    0x040
#define RF_SF    0x080
#define RF_OF    0x800
#define RF_ARITH (RF_CF | RF_PF | RF_AF | RF_ZF | RF_SF | RF_OF)

struct decoder {
	const uint8_t *b;
	size_t avail, pos;
	bool ok;
};

static uint8_t next(struct decoder *d)
{
	if (d->pos >= d->avail || d->pos >= 15) {
		d->ok = false;
		return 0;
	}
	return d->b[d->pos++];
}

/* A little-endian immediate of `bytes` bytes, sign-extended to 64 bits. */
static uint64_t next_imm(struct decoder *d, unsigned int bytes)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < bytes; i++)
		v |= (uint64_t)next(d) << (8 * i);
	if (bytes < 8 && ((v >> (8 * bytes - 1)) & 1))
		v |= ~0ull << (8 * bytes);
	return v;
}

static uint64_t mask_of(unsigned int size)
{
	return size == 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/*
 * ModRM (+SIB, displacement) as a memory operand; false for a register operand. A
 * RIP-relative operand sets *rip_rel: its address is completed once the length is known.
 */
static bool decode_modrm(struct decoder *d, const struct ptwr_regs *r, unsigned int rex, int *reg,
                         uint64_t *ea, bool *rip_rel)
{
	uint8_t modrm = next(d), mod = modrm >> 6, rm = modrm & 7;
	uint64_t addr = 0;

	*reg = ((modrm >> 3) & 7) | ((rex & 4) ? 8 : 0);
	*rip_rel = false;
	if (mod == 3)
		return false;
	if (rm == 4) {
		uint8_t sib = next(d);
		unsigned int index = ((sib >> 3) & 7) | ((rex & 2) ? 8 : 0);

		if (index != 4)
			addr += r->gpr[index] << (sib >> 6);
		if ((sib & 7) == 5 && mod == 0)
			addr += next_imm(d, 4);
		else
			addr += r->gpr[(sib & 7) | ((rex & 1) ? 8 : 0)];
	} else if (rm == 5 && mod == 0) {
		addr = next_imm(d, 4);
		*rip_rel = true;
	} else {
		addr += r->gpr[rm | ((rex & 1) ? 8 : 0)];
	}
	if (mod == 1)
		addr += next_imm(d, 1);
	else if (mod == 2)
		addr += next_imm(d, 4);
	*ea = addr;
	return true;
}

static const enum ptwr_op alu_ops[8] = {PTWR_ADD, PTWR_OR,  0xff,     0xff,
                                        PTWR_AND, PTWR_SUB, PTWR_XOR, 0xff};

bool ptwr_decode(const uint8_t *bytes, size_t avail, const struct ptwr_regs *r, uint64_t cr2,
                 struct ptwr_insn *in)
{
	struct decoder d = {.b = bytes, .avail = avail, .ok = true};
	unsigned int rex = 0, opsize = 4, imm_bytes = 0;
	bool addr32 = false, rip_rel = false, byte_op = false, bit_reg = false;
	uint64_t seg_base = 0;
	unsigned int op;
	int modreg;

	*in = (struct ptwr_insn){.reg = -1};
	for (;;) { /* legacy prefixes, then at most one REX right before the opcode */
		op = next(&d);
		if (op == 0xf0 || op == 0x2e || op == 0x3e || op == 0x26 || op == 0x36)
			continue;
		if (op == 0x66) {
			opsize = 2;
			continue;
		}
		if (op == 0x67) {
			addr32 = true;
			continue;
		}
		if (op == 0x64 || op == 0x65) {
			seg_base = op == 0x64 ? r->fs_base : r->gs_base;
			continue;
		}
		break;
	}
	if ((op & 0xf0) == 0x40) {
		rex = op;
		op = next(&d);
	}
	if (rex & 8)
		opsize = 8;
	if (!d.ok)
		return false;

	switch (op) {
	case 0x88:
	case 0x89: /* mov r, r/m */
		in->op = PTWR_MOV;
		byte_op = op == 0x88;
		break;
	case 0x86:
	case 0x87: /* xchg r, r/m */
		in->op = PTWR_XCHG;
		byte_op = op == 0x86;
		break;
	case 0x00:
	case 0x01:
	case 0x08:
	case 0x09:
	case 0x20:
	case 0x21:
	case 0x28:
	case 0x29:
	case 0x30:
	case 0x31: /* alu r/m, r */
		in->op = alu_ops[op >> 3];
		byte_op = !(op & 1);
		break;
	case 0xc6:
	case 0xc7: /* mov $imm, r/m (reg field must be 0) */
		in->op = PTWR_MOV;
		byte_op = op == 0xc6;
		imm_bytes = byte_op ? 1 : (opsize == 2 ? 2 : 4);
		break;
	case 0x80:
	case 0x81:
	case 0x83: /* alu $imm, r/m */
		byte_op = op == 0x80;
		imm_bytes = (op == 0x81) ? (opsize == 2 ? 2 : 4) : 1;
		break;
	case 0x0f:
		op = next(&d);
		switch (op) {
		case 0xb0:
		case 0xb1:
			in->op = PTWR_CMPXCHG;
			byte_op = op == 0xb0;
			break;
		case 0xc7:
			in->op = PTWR_CMPXCHG8B;
			if (rex & 8)
				return false; /* cmpxchg16b: wider than an entry */
			opsize = 8;
			break;
		case 0xab:
			in->op = PTWR_BTS;
			bit_reg = true;
			break;
		case 0xb3:
			in->op = PTWR_BTR;
			bit_reg = true;
			break;
		case 0xbb:
			in->op = PTWR_BTC;
			bit_reg = true;
			break;
		case 0xba:
			imm_bytes = 1;
			break;
		default:
			return false;
		}
		op = 0x100 | op;
		break;
	default:
		return false;
	}
	if (!d.ok || !decode_modrm(&d, r, rex, &modreg, &in->ea, &rip_rel))
		return false;
	in->size = byte_op ? 1 : opsize;

	/* Opcode extensions in the ModRM reg field. */
	switch (op) {
	case 0xc6:
	case 0xc7:
		if (modreg & 7)
			return false;
		break;
	case 0x80:
	case 0x81:
	case 0x83:
		if (alu_ops[modreg & 7] == 0xff)
			return false; /* adc, sbb, cmp: not emitted for PTEs */
		in->op = alu_ops[modreg & 7];
		break;
	case 0x1c7:
		if ((modreg & 7) != 1)
			return false;
		break;
	case 0x1ba:
		if ((modreg & 7) < 5)
			return false; /* bt does not write */
		in->op = (enum ptwr_op)(PTWR_BTS + (modreg & 7) - 5);
		break;
	default:
		if (in->op != PTWR_CMPXCHG8B) {
			in->reg = modreg;
			in->high_byte = byte_op && !rex && modreg >= 4 && modreg < 8;
		}
		break;
	}
	if (imm_bytes) {
		in->imm = next_imm(&d, imm_bytes);
		if (op == 0x1ba)
			in->imm &= 0xff;
	}
	if (!d.ok)
		return false;
	in->len = d.pos;
	if (rip_rel)
		in->ea += r->rip + in->len;

	/* A register bit offset addresses a bit string: move ea to the operand holding the bit. */
	if (bit_reg) {
		int64_t bit = (int64_t)r->gpr[in->reg];
		unsigned int bits = in->size * 8;

		if (in->size == 2)
			bit = (int16_t)bit;
		else if (in->size == 4)
			bit = (int32_t)bit;
		in->ea += (uint64_t)((bit >> (in->size == 8   ? 6
		                              : in->size == 4 ? 5
		                                              : 4)) *
		                     (int64_t)in->size);
		in->imm = (uint64_t)bit & (bits - 1);
		in->reg = -1;
	}
	if (addr32)
		in->ea &= 0xffffffffull;
	in->ea += seg_base;
	if (in->ea & (in->size - 1))
		return false; /* misaligned */
	if ((in->ea & ~7ull) != (cr2 & ~7ull))
		return false; /* not the entry that faulted */
	return true;
}

static uint64_t reg_read(const struct ptwr_regs *r, const struct ptwr_insn *in)
{
	if (in->high_byte)
		return (r->gpr[in->reg - 4] >> 8) & 0xff;
	return r->gpr[in->reg] & mask_of(in->size);
}

/* Write a register the way hardware does: 32-bit writes zero-extend, 8/16-bit merge. */
static void reg_write(struct ptwr_regs *r, int reg, bool high_byte, unsigned int size, uint64_t v)
{
	if (high_byte) {
		r->gpr[reg - 4] = (r->gpr[reg - 4] & ~0xff00ull) | ((v & 0xff) << 8);
		return;
	}
	if (size >= 4)
		r->gpr[reg] = v & mask_of(size);
	else
		r->gpr[reg] = (r->gpr[reg] & ~mask_of(size)) | (v & mask_of(size));
}

static uint64_t parity_flag(uint64_t v)
{
	return __builtin_parity((unsigned int)(v & 0xff)) ? 0 : RF_PF;
}

/* Arithmetic flags of dst op src = res for ADD, SUB/CMP and the logical ops. */
static uint64_t alu_flags(enum ptwr_op op, uint64_t dst, uint64_t src, uint64_t res,
                          unsigned int size)
{
	uint64_t m = mask_of(size), sign = 1ull << (size * 8 - 1), f = 0;

	res &= m;
	dst &= m;
	src &= m;
	if (res == 0)
		f |= RF_ZF;
	if (res & sign)
		f |= RF_SF;
	f |= parity_flag(res);
	if (op == PTWR_ADD) {
		if (res < dst)
			f |= RF_CF;
		if (~(dst ^ src) & (dst ^ res) & sign)
			f |= RF_OF;
		f |= (dst ^ src ^ res) & RF_AF;
	} else if (op == PTWR_SUB) {
		if (src > dst)
			f |= RF_CF;
		if ((dst ^ src) & (dst ^ res) & sign)
			f |= RF_OF;
		f |= (dst ^ src ^ res) & RF_AF;
	}
	return f;
}

void ptwr_execute(const struct ptwr_insn *in, struct ptwr_regs *r, uint64_t old,
                  uint64_t *new_entry, bool *store)
{
	unsigned int shift = (in->ea & 7) * 8;
	uint64_t m = mask_of(in->size), cur = (old >> shift) & m, src, res = cur;
	uint64_t flags = r->rflags;

	src = in->reg >= 0 ? reg_read(r, in) : in->imm & m;
	*store = true;
	switch (in->op) {
	case PTWR_MOV:
		res = src;
		break;
	case PTWR_XCHG:
		res = src;
		reg_write(r, in->reg, in->high_byte, in->size, cur);
		break;
	case PTWR_CMPXCHG: {
		uint64_t acc = r->gpr[0] & m;

		flags = (flags & ~RF_ARITH) | alu_flags(PTWR_SUB, acc, cur, acc - cur, in->size);
		if (acc == cur) {
			res = src;
		} else {
			reg_write(r, 0, false, in->size, cur);
			*store = false;
		}
		break;
	}
	case PTWR_CMPXCHG8B: {
		uint64_t expect = (r->gpr[0] & 0xffffffffull) | (r->gpr[2] << 32);

		if (expect == cur) {
			res = (r->gpr[3] & 0xffffffffull) | (r->gpr[1] << 32);
			flags |= RF_ZF;
		} else {
			r->gpr[0] = cur & 0xffffffffull;
			r->gpr[2] = cur >> 32;
			flags &= ~RF_ZF;
			*store = false;
		}
		break;
	}
	case PTWR_ADD:
		res = cur + src;
		goto arith;
	case PTWR_SUB:
		res = cur - src;
		goto arith;
	case PTWR_OR:
		res = cur | src;
		goto arith;
	case PTWR_AND:
		res = cur & src;
		goto arith;
	case PTWR_XOR:
		res = cur ^ src;
	arith:
		flags = (flags & ~RF_ARITH) | alu_flags(in->op, cur, src, res, in->size);
		break;
	case PTWR_BTS:
	case PTWR_BTR:
	case PTWR_BTC: {
		uint64_t bit = 1ull << (in->imm & (in->size * 8 - 1));

		flags = (flags & ~RF_CF) | ((cur & bit) ? RF_CF : 0);
		res = in->op == PTWR_BTS ? cur | bit : in->op == PTWR_BTR ? cur & ~bit : cur ^ bit;
		break;
	}
	}
	r->rflags = flags;
	r->rip += in->len;
	*new_entry = (old & ~(m << shift)) | ((res & m) << shift);
	if (!*store)
		*new_entry = old;
}
