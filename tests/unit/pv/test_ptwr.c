/*
 * Host unit test of the writable-page-table instruction emulator
 * (hv/arch/x86/pv/ptwr-emul.c): byte sequences of the instructions guest kernels use on PTEs,
 * each decoded against a register file and executed on an entry; and sequences that must be
 * refused. The entry under test lives at ENTRY; RDI points at it.
 */
#include "fake-frames.h"
#include "ptwr.h"

#define ENTRY 0xffff888000123450ull /* 8-aligned */
#define OLD   0x8000000012345067ull

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11 };

static struct ptwr_regs regs(void)
{
	struct ptwr_regs r = {.rip = 0xffffffff81000000ull, .rflags = 0x202};

	for (int i = 0; i < 16; i++)
		r.gpr[i] = 0x1111111111111111ull * (i + 1);
	r.gpr[RDI] = ENTRY;
	return r;
}

/* Decode and execute; returns false if refused. */
static bool run(const char *bytes, size_t len, struct ptwr_regs *r, uint64_t old,
                uint64_t *new_entry, bool *store)
{
	struct ptwr_insn in;

	if (!ptwr_decode((const uint8_t *)bytes, len, r, ENTRY, &in))
		return false;
	ptwr_execute(&in, r, old, new_entry, store);
	return true;
}

#define RUN(b, r, old, n, s) run(b, sizeof(b) - 1, r, old, n, s)

/* mov %rax,(%rdi): the whole entry; RIP advances by 3. */
static void mov_reg(void)
{
	struct ptwr_regs r = regs();
	uint64_t n;
	bool s;

	r.gpr[RAX] = 0x1234567;
	CHECK(RUN("\x48\x89\x07", &r, OLD, &n, &s));
	CHECK_EQ(n, 0x1234567);
	CHECK(s);
	CHECK_EQ(r.rip, 0xffffffff81000003ull);
}

/* Addressing: SIB with scale, disp8, disp32, RIP-relative, GS override, 32-bit address. */
static void addressing(void)
{
	struct ptwr_regs r = regs();
	uint64_t n;
	bool s;

	r.gpr[RBX] = ENTRY - 3 * 8;
	r.gpr[RCX] = 3;
	CHECK(RUN("\x48\x89\x04\xcb", &r, OLD, &n, &s)); /* mov %rax,(%rbx,%rcx,8) */
	r = regs();
	r.gpr[RSI] = ENTRY - 0x10;
	CHECK(RUN("\x48\x89\x46\x10", &r, OLD, &n, &s)); /* mov %rax,0x10(%rsi) */
	r = regs();
	r.gpr[RSI] = ENTRY - 0x1000;
	CHECK(RUN("\x48\x89\x86\x00\x10\x00\x00", &r, OLD, &n, &s)); /* mov %rax,0x1000(%rsi) */
	r = regs();
	r.rip = ENTRY - 0x100 - 7;
	CHECK(RUN("\x48\x89\x05\x00\x01\x00\x00", &r, OLD, &n, &s)); /* mov %rax,0x100(%rip) */
	r = regs();
	r.gs_base = ENTRY - 0x40;
	r.gpr[RDI] = 0x40;
	CHECK(RUN("\x65\x48\x89\x07", &r, OLD, &n, &s)); /* mov %rax,%gs:(%rdi) */
	r = regs();
	r.gpr[R9] = ENTRY;
	CHECK(RUN("\x4d\x89\x01", &r, OLD, &n, &s)); /* mov %r8,(%r9) */
	CHECK_EQ(n, r.gpr[R8]);
}

/* Partial stores merge into the entry: 32-bit high half, 16-bit, AH, SIL. */
static void partial(void)
{
	struct ptwr_regs r = regs();
	uint64_t n;
	bool s;

	r.gpr[RAX] = 0xaabbccdd;
	CHECK(RUN("\x89\x47\x04", &r, OLD, &n, &s)); /* mov %eax,4(%rdi) */
	CHECK_EQ(n, 0xaabbccdd12345067ull);
	CHECK(RUN("\x66\x89\x07", &r, OLD, &n, &s)); /* mov %ax,(%rdi) */
	CHECK_EQ(n, 0x800000001234ccddull);
	CHECK(RUN("\x88\x67\x01", &r, OLD, &n, &s)); /* mov %ah,1(%rdi) */
	CHECK_EQ(n, 0x800000001234cc67ull);
	r.gpr[RSI] = 0x99;
	CHECK(RUN("\x40\x88\x77\x01", &r, OLD, &n, &s)); /* mov %sil,1(%rdi) */
	CHECK_EQ(n, 0x8000000012349967ull);
}

/* Immediate stores: movl $imm32 zero-extends into the low half; movq sign-extends. */
static void mov_imm(void)
{
	struct ptwr_regs r = regs();
	uint64_t n;
	bool s;

	CHECK(RUN("\xc7\x07\x78\x56\x34\x12", &r, OLD, &n, &s));
	CHECK_EQ(n, 0x8000000012345678ull);
	CHECK(RUN("\x48\xc7\x07\xff\xff\xff\xff", &r, OLD, &n, &s));
	CHECK_EQ(n, ~0ull);
	CHECK(RUN("\x48\xc7\x07\x00\x00\x00\x00", &r, OLD, &n, &s));
	CHECK_EQ(n, 0);
	CHECK_EQ(r.rip, 0xffffffff81000000ull + 6 + 7 + 7);
}

/* xchg %rax,(%rdi): the register gets the old entry (ptep_get_and_clear). */
static void xchg(void)
{
	struct ptwr_regs r = regs();
	uint64_t n;
	bool s;

	r.gpr[RAX] = 0;
	CHECK(RUN("\x48\x87\x07", &r, OLD, &n, &s));
	CHECK_EQ(n, 0);
	CHECK_EQ(r.gpr[RAX], OLD);
	r.gpr[RDX] = 0xffffffff00000000ull;
	CHECK(RUN("\x87\x17", &r, OLD, &n, &s)); /* xchg %edx,(%rdi): 32-bit, zero-extends */
	CHECK_EQ(r.gpr[RDX], 0x12345067);
}

/* lock cmpxchg: success stores and sets ZF; failure loads RAX, clears ZF, stores nothing. */
static void cmpxchg(void)
{
	struct ptwr_regs r = regs();
	uint64_t n;
	bool s;

	r.gpr[RAX] = OLD;
	r.gpr[RDX] = 0x5555000;
	CHECK(RUN("\xf0\x48\x0f\xb1\x17", &r, OLD, &n, &s));
	CHECK(s);
	CHECK_EQ(n, 0x5555000);
	CHECK(r.rflags & 0x40);
	r.gpr[RAX] = 1;
	CHECK(RUN("\xf0\x48\x0f\xb1\x17", &r, OLD, &n, &s));
	CHECK(!s);
	CHECK_EQ(n, OLD);
	CHECK_EQ(r.gpr[RAX], OLD);
	CHECK(!(r.rflags & 0x40));
}

/* lock cmpxchg8b: EDX:EAX against the entry, ECX:EBX stored. */
static void cmpxchg8b(void)
{
	struct ptwr_regs r = regs();
	uint64_t n;
	bool s;

	r.gpr[RAX] = 0x12345067;
	r.gpr[RDX] = 0x80000000;
	r.gpr[RBX] = 0x777;
	r.gpr[RCX] = 0x1;
	CHECK(RUN("\xf0\x0f\xc7\x0f", &r, OLD, &n, &s));
	CHECK(s);
	CHECK_EQ(n, 0x100000777ull);
	r.gpr[RAX] = 0;
	CHECK(RUN("\xf0\x0f\xc7\x0f", &r, OLD, &n, &s));
	CHECK(!s);
	CHECK_EQ(r.gpr[RAX], 0x12345067);
	CHECK_EQ(r.gpr[RDX], 0x80000000);
}

/* Locked bit operations: btr with a register offset (clear_bit), bts/btc with immediates. */
static void bitops(void)
{
	struct ptwr_regs r = regs();
	uint64_t n;
	bool s;

	r.gpr[RAX] = 5;                                      /* _PAGE_ACCESSED */
	CHECK(RUN("\xf0\x48\x0f\xb3\x07", &r, OLD, &n, &s)); /* lock btr %rax,(%rdi) */
	CHECK_EQ(n, OLD & ~0x20ull);
	CHECK(r.rflags & 1);
	CHECK(RUN("\xf0\x0f\xba\x2f\x03", &r, OLD, &n, &s)); /* lock btsl $3,(%rdi) */
	CHECK_EQ(n, OLD | 8);
	CHECK(!(r.rflags & 1));
	CHECK(RUN("\xf0\x48\x0f\xba\x3f\x3f", &r, OLD, &n, &s)); /* lock btcq $63,(%rdi) */
	CHECK_EQ(n, OLD & ~(1ull << 63));
	/* A register offset of 32+ on a 32-bit operand addresses the next dword. */
	r.gpr[RDI] = ENTRY;
	r.gpr[RAX] = 63;
	CHECK(RUN("\xf0\x0f\xb3\x07", &r, OLD, &n, &s)); /* lock btr %eax,(%rdi): bit 31 of +4 */
	CHECK_EQ(n, OLD & ~(1ull << 63));
}

/* Locked ALU ops with register and immediate sources, and their flags. */
static void alu(void)
{
	struct ptwr_regs r = regs();
	uint64_t n;
	bool s;

	CHECK(RUN("\xf0\x80\x27\xfe", &r, OLD, &n, &s)); /* lock andb $0xfe,(%rdi) */
	CHECK_EQ(n, OLD & ~1ull);
	r.gpr[RAX] = 0x2;
	CHECK(RUN("\xf0\x48\x09\x07", &r, OLD, &n, &s)); /* lock or %rax,(%rdi) */
	CHECK_EQ(n, OLD | 2);
	r.gpr[RAX] = OLD;
	CHECK(RUN("\xf0\x48\x31\x07", &r, OLD, &n, &s)); /* lock xor %rax,(%rdi) */
	CHECK_EQ(n, 0);
	CHECK(r.rflags & 0x40);
	CHECK(RUN("\xf0\x48\x83\x07\x01", &r, OLD, &n, &s)); /* lock addq $1,(%rdi) */
	CHECK_EQ(n, OLD + 1);
	CHECK(RUN("\xf0\x48\x83\x2f\x01", &r, 0, &n, &s)); /* lock subq $1 from 0: borrow */
	CHECK_EQ(n, ~0ull);
	CHECK(r.rflags & 1);
	CHECK(r.rflags & 0x80);
	CHECK(RUN("\x48\x81\x27\x00\xf0\xff\xff", &r, OLD, &n, &s)); /* andq $-4096 */
	CHECK_EQ(n, OLD & ~0xfffull);
}

/* Refused: register destinations, other instructions, misaligned, other entry, truncated. */
static void refusals(void)
{
	struct ptwr_regs r = regs();
	uint64_t n;
	bool s;

	CHECK(!RUN("\x48\x89\xc7", &r, OLD, &n, &s));             /* mov %rax,%rdi */
	CHECK(!RUN("\x0f\x0b", &r, OLD, &n, &s));                 /* ud2 */
	CHECK(!RUN("\x48\x8b\x07", &r, OLD, &n, &s));             /* a load */
	CHECK(!RUN("\xf3\x48\xa5", &r, OLD, &n, &s));             /* rep movsq */
	CHECK(!RUN("\x48\x0f\xc7\x0f", &r, OLD, &n, &s));         /* cmpxchg16b */
	CHECK(!RUN("\x48\x83\x17\x01", &r, OLD, &n, &s));         /* adc: not emulated */
	CHECK(!RUN("\x48\x89\x47\x01", &r, OLD, &n, &s));         /* misaligned */
	CHECK(!RUN("\x48\x89\x47\x08", &r, OLD, &n, &s));         /* the next entry, not cr2's */
	CHECK(!RUN("\x48\xc7\x47\x01\x00", &r, OLD, &n, &s));     /* truncated */
	CHECK(!RUN("\xc7\x47\x04\x00\x00\x00", &r, OLD, &n, &s)); /* truncated imm */
	CHECK(!RUN("\x0f\xba\x27\x01", &r, OLD, &n, &s));         /* bt: no write */
	CHECK(!RUN("\xc7\x4f\x04\x00\x00\x00\x00", &r, OLD, &n, &s)); /* c7 /1 */
	char fifteen[16];
	memset(fifteen, 0x66, sizeof(fifteen));
	CHECK(!run(fifteen, sizeof(fifteen), &r, OLD, &n, &s)); /* longer than 15 bytes */
	CHECK_EQ(r.rip, 0xffffffff81000000ull);                 /* nothing executed */
}

/*
 * Hostile bytes: the decoder sees whatever a guest puts at RIP. Random byte strings (with
 * prefixes and the opcodes it knows made likely) must never crash it, and whatever it
 * accepts must be a well-formed write to the faulting entry.
 */
static void random_bytes(void)
{
	static const uint8_t likely[] = {0x66, 0x67, 0xf0, 0x48, 0x4c, 0x41, 0x65, 0x89,
	                                 0x88, 0x87, 0x0f, 0xb1, 0xc7, 0xba, 0xb3, 0x81,
	                                 0x83, 0x80, 0x07, 0x47, 0x04, 0x05, 0x24, 0x84};
	uint64_t state = 12345;
	unsigned long accepted = 0;

	for (int i = 0; i < 200000; i++) {
		struct ptwr_regs r = regs();
		struct ptwr_insn in;
		uint8_t b[16];
		size_t len;
		uint64_t n;
		bool s;

		for (int j = 0; j < 16; j++) {
			state = state * 6364136223846793005ull + 1442695040888963407ull;
			b[j] = (state >> 40) & 1 ? likely[(state >> 20) % sizeof(likely)]
			                         : (uint8_t)(state >> 48);
		}
		len = 1 + (state >> 33) % 16;
		r.gpr[(state >> 8) & 15] = ENTRY + ((state >> 12) & 7) - 4;
		if (!ptwr_decode(b, len, &r, ENTRY, &in))
			continue;
		accepted++;
		CHECK(in.len >= 2 && in.len <= 15 && in.len <= len);
		CHECK(in.size == 1 || in.size == 2 || in.size == 4 || in.size == 8);
		CHECK((in.ea & (in.size - 1)) == 0);
		CHECK((in.ea & ~7ull) == (ENTRY & ~7ull));
		ptwr_execute(&in, &r, OLD, &n, &s);
		CHECK(r.rip == 0xffffffff81000000ull + in.len);
		if (!s)
			CHECK_EQ(n, OLD);
		if (test_failures)
			return;
	}
	CHECK(accepted > 100); /* the generator does reach the accepted forms */
}

int main(void)
{
	static const struct test_case cases[] = {
	    {"mov_reg", mov_reg},
	    {"addressing", addressing},
	    {"partial", partial},
	    {"mov_imm", mov_imm},
	    {"xchg", xchg},
	    {"cmpxchg", cmpxchg},
	    {"cmpxchg8b", cmpxchg8b},
	    {"bitops", bitops},
	    {"alu", alu},
	    {"refusals", refusals},
	    {"random_bytes", random_bytes},
	};
	return run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}
