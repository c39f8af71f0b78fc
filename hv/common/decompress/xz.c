/*
 * .xz decoding for the domain builder: stream header, blocks (LZMA2, optionally after the x86
 * BCJ filter, which is what the kernel's scripts/xz_wrap.sh produces for x86), integrity
 * checks, stream footer. Written from the published formats (the .xz file format 1.1 and the
 * LZMA/LZMA2 coding as documented with xz-utils); no code was taken from elsewhere.
 *
 * Invariants: every read of the input is bounds-checked (a truncated or hostile stream ends
 * in an error, never a read past in_len); every write to the output is below out_cap; a match
 * may only reach back to the last dictionary reset. The decoder's tables live in one static
 * state (28 KiB would not fit hv's stacks), so calls must not overlap: hv builds one domain
 * at a time.
 */
#include "xz.h"

#define LZMA_STATES      12
#define POS_STATES_MAX   16
#define LEN_LOW_SYMBOLS  8
#define LEN_MID_SYMBOLS  8
#define LEN_HIGH_SYMBOLS 256
#define DIST_STATES      4
#define DIST_SLOTS       64
#define END_POS_MODEL    14 /* distance slots below this use the tree in dist_special */
#define FULL_DISTANCES   128
#define ALIGN_BITS       4
#define LITERAL_CODERS   16 /* lc + lp <= 4 in LZMA2 */
#define PROB_INIT        1024

struct len_coder {
	uint16_t choice, choice2;
	uint16_t low[POS_STATES_MAX][LEN_LOW_SYMBOLS];
	uint16_t mid[POS_STATES_MAX][LEN_MID_SYMBOLS];
	uint16_t high[LEN_HIGH_SYMBOLS];
};

struct lzma_probs {
	uint16_t is_match[LZMA_STATES][POS_STATES_MAX];
	uint16_t is_rep[LZMA_STATES], is_rep0[LZMA_STATES], is_rep1[LZMA_STATES],
	    is_rep2[LZMA_STATES];
	uint16_t is_rep0_long[LZMA_STATES][POS_STATES_MAX];
	uint16_t dist_slot[DIST_STATES][DIST_SLOTS];
	uint16_t dist_special[FULL_DISTANCES - END_POS_MODEL];
	uint16_t dist_align[1 << ALIGN_BITS];
	struct len_coder match_len, rep_len;
	uint16_t literal[LITERAL_CODERS][0x300];
};

struct range_decoder {
	const uint8_t *in;
	size_t pos, end; /* the chunk's compressed bytes are in[pos, end) */
	uint32_t range, code;
	int overrun; /* set when the coder needed bytes past end */
};

struct decoder {
	struct range_decoder rc;
	struct lzma_probs p;
	unsigned int lc, lp, pb, state;
	uint32_t rep[4];
	uint8_t *out;
	size_t pos, cap, dict_start; /* output written so far; matches stay >= dict_start */
};

static struct decoder dec;

/* --- range decoder ------------------------------------------------------------------------ */

static uint8_t rc_byte(struct range_decoder *rc)
{
	if (rc->pos >= rc->end) {
		rc->overrun = 1;
		return 0;
	}
	return rc->in[rc->pos++];
}

static int rc_init(struct range_decoder *rc)
{
	if (rc_byte(rc) != 0)
		return -1;
	rc->range = 0xffffffffu;
	rc->code = 0;
	for (int i = 0; i < 4; i++)
		rc->code = (rc->code << 8) | rc_byte(rc);
	return rc->overrun || rc->code == 0xffffffffu ? -1 : 0;
}

static void rc_normalize(struct range_decoder *rc)
{
	if (rc->range < (1u << 24)) {
		rc->range <<= 8;
		rc->code = (rc->code << 8) | rc_byte(rc);
	}
}

static unsigned int rc_bit(struct range_decoder *rc, uint16_t *prob)
{
	uint32_t bound;

	rc_normalize(rc);
	bound = (rc->range >> 11) * *prob;
	if (rc->code < bound) {
		rc->range = bound;
		*prob += (2048 - *prob) >> 5;
		return 0;
	}
	rc->range -= bound;
	rc->code -= bound;
	*prob -= *prob >> 5;
	return 1;
}

/* nbits bits, most significant first, through a binary tree of probabilities (index 1 up). */
static uint32_t rc_tree(struct range_decoder *rc, uint16_t *probs, unsigned int nbits)
{
	uint32_t sym = 1;

	for (unsigned int i = 0; i < nbits; i++)
		sym = (sym << 1) | rc_bit(rc, &probs[sym]);
	return sym - (1u << nbits);
}

/* The same tree read least significant bit first. */
static uint32_t rc_tree_reverse(struct range_decoder *rc, uint16_t *probs, unsigned int nbits)
{
	uint32_t sym = 1, result = 0;

	for (unsigned int i = 0; i < nbits; i++) {
		unsigned int bit = rc_bit(rc, &probs[sym]);

		sym = (sym << 1) | bit;
		result |= (uint32_t)bit << i;
	}
	return result;
}

/* Bits with probability one half. */
static uint32_t rc_direct(struct range_decoder *rc, unsigned int nbits)
{
	uint32_t result = 0;

	while (nbits--) {
		rc_normalize(rc);
		rc->range >>= 1;
		if (rc->code >= rc->range) {
			rc->code -= rc->range;
			result = (result << 1) | 1;
		} else {
			result <<= 1;
		}
	}
	return result;
}

/* --- LZMA ----------------------------------------------------------------------------------- */

static void lzma_reset_state(struct decoder *d)
{
	uint16_t *p = (uint16_t *)&d->p;

	for (size_t i = 0; i < sizeof(d->p) / sizeof(uint16_t); i++)
		p[i] = PROB_INIT;
	d->state = 0;
	d->rep[0] = d->rep[1] = d->rep[2] = d->rep[3] = 0;
}

static uint32_t decode_len(struct decoder *d, struct len_coder *lc, unsigned int pos_state)
{
	struct range_decoder *rc = &d->rc;

	if (!rc_bit(rc, &lc->choice))
		return 2 + rc_tree(rc, lc->low[pos_state], 3);
	if (!rc_bit(rc, &lc->choice2))
		return 2 + LEN_LOW_SYMBOLS + rc_tree(rc, lc->mid[pos_state], 3);
	return 2 + LEN_LOW_SYMBOLS + LEN_MID_SYMBOLS + rc_tree(rc, lc->high, 8);
}

static uint32_t decode_distance(struct decoder *d, uint32_t len)
{
	struct range_decoder *rc = &d->rc;
	unsigned int len_state = len - 2 < DIST_STATES - 1 ? len - 2 : DIST_STATES - 1;
	uint32_t slot = rc_tree(rc, d->p.dist_slot[len_state], 6), dist;
	unsigned int direct;

	if (slot < 4)
		return slot;
	direct = (slot >> 1) - 1;
	dist = (2 | (slot & 1)) << direct;
	if (slot < END_POS_MODEL)
		/* the tree for this slot starts at dist_special[dist - slot - 1] (index 1 up) */
		return dist + rc_tree_reverse(rc, d->p.dist_special + dist - slot - 1, direct);
	dist += rc_direct(rc, direct - ALIGN_BITS) << ALIGN_BITS;
	return dist + rc_tree_reverse(rc, d->p.dist_align, ALIGN_BITS);
}

static uint8_t dict_byte(const struct decoder *d, uint32_t dist)
{
	return d->out[d->pos - dist - 1];
}

/* Decode until `size` more bytes are out. A match that would run past them is an error. */
static int lzma_decode_chunk(struct decoder *d, size_t size, const char **why)
{
	struct range_decoder *rc = &d->rc;
	size_t end = d->pos + size;
	unsigned int pb_mask = (1u << d->pb) - 1, lp_mask = (1u << d->lp) - 1;

	while (d->pos < end) {
		unsigned int pos_state = d->pos & pb_mask, s = d->state;
		uint32_t len;

		if (!rc_bit(rc, &d->p.is_match[s][pos_state])) {
			uint8_t prev = d->pos > d->dict_start ? d->out[d->pos - 1] : 0;
			uint16_t *probs =
			    d->p.literal[((d->pos & lp_mask) << d->lc) + (prev >> (8 - d->lc))];
			uint32_t sym = 1;

			if (s >= 7) { /* after a match: the byte at rep0 guides the first bits */
				uint32_t match = d->pos - d->dict_start > d->rep[0]
				                     ? dict_byte(d, d->rep[0])
				                     : 0;

				while (sym < 0x100) {
					unsigned int mbit = (match >> 7) & 1, bit;

					match <<= 1;
					bit = rc_bit(rc, &probs[0x100 + (mbit << 8) + sym]);
					sym = (sym << 1) | bit;
					if (bit != mbit)
						break;
				}
			}
			while (sym < 0x100)
				sym = (sym << 1) | rc_bit(rc, &probs[sym]);
			d->out[d->pos++] = (uint8_t)sym;
			d->state = s < 4 ? 0 : s < 10 ? s - 3 : s - 6;
			continue;
		}
		if (!rc_bit(rc, &d->p.is_rep[s])) { /* a new match */
			d->rep[3] = d->rep[2];
			d->rep[2] = d->rep[1];
			d->rep[1] = d->rep[0];
			len = decode_len(d, &d->p.match_len, pos_state);
			d->state = s < 7 ? 7 : 10;
			d->rep[0] = decode_distance(d, len);
			if (d->rep[0] == 0xffffffffu) {
				*why = "xz: LZMA end marker inside LZMA2";
				return -1;
			}
		} else {
			if (!rc_bit(rc, &d->p.is_rep0[s])) {
				if (!rc_bit(
				        rc,
				        &d->p.is_rep0_long[s][pos_state])) { /* one byte at rep0 */
					if (d->pos - d->dict_start <= d->rep[0]) {
						*why = "xz: a match reaches before the dictionary";
						return -1;
					}
					d->out[d->pos] = dict_byte(d, d->rep[0]);
					d->pos++;
					d->state = s < 7 ? 9 : 11;
					continue;
				}
			} else {
				uint32_t dist;

				if (!rc_bit(rc, &d->p.is_rep1[s])) {
					dist = d->rep[1];
				} else {
					if (!rc_bit(rc, &d->p.is_rep2[s])) {
						dist = d->rep[2];
					} else {
						dist = d->rep[3];
						d->rep[3] = d->rep[2];
					}
					d->rep[2] = d->rep[1];
				}
				d->rep[1] = d->rep[0];
				d->rep[0] = dist;
			}
			len = decode_len(d, &d->p.rep_len, pos_state);
			d->state = s < 7 ? 8 : 11;
		}
		if (d->pos - d->dict_start <= d->rep[0]) {
			*why = "xz: a match reaches before the dictionary";
			return -1;
		}
		if (len > end - d->pos) {
			*why = "xz: a match runs past its LZMA2 chunk";
			return -1;
		}
		for (uint32_t i = 0; i < len; i++, d->pos++)
			d->out[d->pos] = d->out[d->pos - d->rep[0] - 1];
	}
	if (rc->overrun) {
		*why = "xz: an LZMA2 chunk is shorter than its contents";
		return -1;
	}
	return 0;
}

/* LZMA2: a sequence of chunks, each uncompressed or LZMA with its own range coder. */
static int lzma2_decode(struct decoder *d, const uint8_t *in, size_t len, size_t *used,
                        const char **why)
{
	size_t pos = 0;
	int need_dict_reset = 1, need_props = 1;

	for (;;) {
		unsigned int control;
		size_t usize, csize;

		if (pos >= len)
			goto truncated;
		control = in[pos++];
		if (control == 0x00) {
			*used = pos;
			return 0;
		}
		if (control == 0x01 || control == 0x02) { /* uncompressed chunk */
			if (pos + 2 > len)
				goto truncated;
			usize = ((size_t)in[pos] << 8 | in[pos + 1]) + 1;
			pos += 2;
			if (control == 0x01) {
				d->dict_start = d->pos;
				need_dict_reset = 0;
			} else if (need_dict_reset) {
				goto bad;
			}
			if (usize > len - pos)
				goto truncated;
			if (usize > d->cap - d->pos)
				goto too_big;
			for (size_t i = 0; i < usize; i++)
				d->out[d->pos++] = in[pos + i];
			pos += usize;
			continue;
		}
		if (control < 0x80)
			goto bad;
		if (pos + 4 > len)
			goto truncated;
		usize = ((size_t)(control & 0x1f) << 16 | (size_t)in[pos] << 8 | in[pos + 1]) + 1;
		csize = ((size_t)in[pos + 2] << 8 | in[pos + 3]) + 1;
		pos += 4;
		switch ((control >> 5) & 3) {
		case 3: /* dictionary reset, new properties, state reset */
			d->dict_start = d->pos;
			need_dict_reset = 0;
			/* fall through */
		case 2: { /* new properties, state reset */
			unsigned int props;

			if (pos >= len)
				goto truncated;
			props = in[pos++];
			if (props >= 9 * 5 * 5)
				goto bad;
			d->lc = props % 9;
			props /= 9;
			d->lp = props % 5;
			d->pb = props / 5;
			if (d->lc + d->lp > 4)
				goto bad;
			need_props = 0;
		}
			/* fall through */
		case 1: /* state reset */
			if (need_props)
				goto bad;
			lzma_reset_state(d);
			break;
		case 0:
			if (need_props)
				goto bad;
			break;
		}
		if (need_dict_reset)
			goto bad;
		if (csize > len - pos)
			goto truncated;
		if (usize > d->cap - d->pos)
			goto too_big;
		d->rc = (struct range_decoder){.in = in, .pos = pos, .end = pos + csize};
		if (rc_init(&d->rc))
			goto bad;
		if (lzma_decode_chunk(d, usize, why))
			return -1;
		pos += csize;
	}
truncated:
	*why = "xz: the LZMA2 data is truncated";
	return -1;
bad:
	*why = "xz: the LZMA2 data is corrupt";
	return -1;
too_big:
	*why = "xz: the output is larger than its buffer";
	return -1;
}

/* --- the x86 BCJ filter (decoding direction) ------------------------------------------------- */

/*
 * The encoder turned the relative targets of E8 (call) and E9 (jmp) rel32 into absolute ones
 * where the operand's top byte was 00 or FF; undo it. prev_mask remembers which of the last
 * three bytes were E8/E9 opcodes that were left alone, since such overlaps were skipped too.
 */
static int top_byte_ok(uint8_t b)
{
	return b == 0x00 || b == 0xff;
}

static void bcj_x86_decode(uint8_t *buf, size_t size)
{
	static const uint8_t allowed[8] = {1, 1, 1, 0, 1, 0, 0, 0};
	static const uint8_t byte_of_mask[8] = {0, 1, 2, 2, 3, 3, 3, 3};
	size_t i, prev = (size_t)-1;
	uint32_t mask = 0;

	if (size < 5)
		return;
	for (i = 0; i < size - 4; i++) {
		size_t gap;

		if ((buf[i] & 0xfe) != 0xe8)
			continue;
		gap = i - prev;
		if (gap > 3) {
			mask = 0;
		} else {
			mask = (mask << (gap - 1)) & 7;
			if (mask != 0 &&
			    (!allowed[mask] || top_byte_ok(buf[i + 4 - byte_of_mask[mask]]))) {
				prev = i;
				mask = (mask << 1) | 1;
				continue;
			}
		}
		prev = i;
		if (top_byte_ok(buf[i + 4])) {
			uint32_t src = (uint32_t)buf[i + 1] | (uint32_t)buf[i + 2] << 8 |
			               (uint32_t)buf[i + 3] << 16 | (uint32_t)buf[i + 4] << 24;
			uint32_t dest;

			for (;;) {
				unsigned int shift;

				dest = src - (uint32_t)(i + 5);
				if (mask == 0)
					break;
				shift = byte_of_mask[mask] * 8;
				if (!top_byte_ok((uint8_t)(dest >> (24 - shift))))
					break;
				src = dest ^ ((1u << (32 - shift)) - 1);
			}
			dest &= 0x01ffffff;
			dest |= 0u - (dest & 0x01000000); /* sign-extend bit 24 */
			buf[i + 1] = (uint8_t)dest;
			buf[i + 2] = (uint8_t)(dest >> 8);
			buf[i + 3] = (uint8_t)(dest >> 16);
			buf[i + 4] = (uint8_t)(dest >> 24);
			i += 4;
		} else {
			mask = (mask << 1) | 1;
		}
	}
}

/* --- checks ------------------------------------------------------------------------------------
 */

static uint32_t crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

/* CRC32 a byte at a time through a table: 40 times faster than the loop above on 60 MiB. */
static uint32_t crc32_fast(const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	uint32_t c = 0xffffffffu;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t t = i;

			for (int k = 0; k < 8; k++)
				t = (t >> 1) ^ (0xedb88320u & (0u - (t & 1)));
			table[i] = t;
		}
	while (n--)
		c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

static uint64_t crc64(const uint8_t *p, size_t n)
{
	static uint64_t table[256];
	uint64_t c = ~0ull;

	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint64_t t = i;

			for (int k = 0; k < 8; k++)
				t = (t >> 1) ^ (0xc96c5795d7870f42ull & (0ull - (t & 1)));
			table[i] = t;
		}
	while (n--)
		c = table[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A variable-length integer of the .xz format (7 bits a byte, at most 9 bytes). */
static int read_vli(const uint8_t *p, size_t len, size_t *pos, uint64_t *v)
{
	*v = 0;
	for (unsigned int i = 0; i < 9; i++) {
		uint8_t b;

		if (*pos >= len)
			return -1;
		b = p[(*pos)++];
		*v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			return (b == 0 && i > 0) ? -1 : 0;
	}
	return -1;
}

/* --- the container -----------------------------------------------------------------------------
 */

#define FILTER_X86   0x04
#define FILTER_LZMA2 0x21

int xz_decompress(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap, size_t *out_len,
                  const char **why)
{
	static const uint8_t magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0};
	struct decoder *d = &dec;
	unsigned int check, check_size;
	size_t pos = 12;

	*out_len = 0;
	if (in_len < 12 + 12) {
		*why = "xz: too short";
		return -1;
	}
	for (int i = 0; i < 6; i++)
		if (in[i] != magic[i]) {
			*why = "xz: no stream header";
			return -1;
		}
	if (in[6] != 0 || (in[7] & 0xf0) || crc32(in + 6, 2) != le32(in + 8)) {
		*why = "xz: bad stream header";
		return -1;
	}
	check = in[7] & 0x0f;
	if (check != 0 && check != 1 && check != 4) {
		*why = "xz: unsupported integrity check (only none, CRC32 and CRC64)";
		return -1;
	}
	check_size = check == 0 ? 0 : check == 1 ? 4 : 8;
	d->out = out;
	d->cap = out_cap;
	d->pos = 0;

	/* Blocks until the index (a block header size byte of zero). */
	for (;;) {
		size_t hdr_size, hdr_pos, block_start = d->pos, used, data_start;
		unsigned int flags, nfilters, x86 = 0;
		uint64_t v, id, props_size;

		if (pos >= in_len)
			goto truncated;
		if (in[pos] == 0)
			break;
		hdr_size = ((size_t)in[pos] + 1) * 4;
		if (hdr_size > in_len - pos)
			goto truncated;
		if (crc32(in + pos, hdr_size - 4) != le32(in + pos + hdr_size - 4)) {
			*why = "xz: bad block header CRC";
			return -1;
		}
		hdr_pos = pos + 2;
		flags = in[pos + 1];
		if (flags & 0x3c)
			goto bad_header;
		nfilters = (flags & 3) + 1;
		if ((flags & 0x40) && read_vli(in, pos + hdr_size - 4, &hdr_pos, &v))
			goto bad_header;
		if ((flags & 0x80) && read_vli(in, pos + hdr_size - 4, &hdr_pos, &v))
			goto bad_header;
		for (unsigned int f = 0; f < nfilters; f++) {
			if (read_vli(in, pos + hdr_size - 4, &hdr_pos, &id) ||
			    read_vli(in, pos + hdr_size - 4, &hdr_pos, &props_size) ||
			    props_size > pos + hdr_size - 4 - hdr_pos)
				goto bad_header;
			if (f + 1 < nfilters) {
				/* x86 BCJ with the default start offset is the only one we know */
				if (id != FILTER_X86 ||
				    (props_size != 0 &&
				     (props_size != 4 || le32(in + hdr_pos) != 0))) {
					*why = "xz: unsupported filter (only x86 BCJ before LZMA2)";
					return -1;
				}
				x86 = 1;
			} else if (id != FILTER_LZMA2 || props_size != 1 || in[hdr_pos] > 40) {
				*why = "xz: the last filter is not LZMA2";
				return -1;
			}
			hdr_pos += props_size;
		}
		pos += hdr_size;
		data_start = pos;
		if (lzma2_decode(d, in + pos, in_len - pos, &used, why))
			return -1;
		pos += used;
		while ((pos - data_start) & 3) { /* block padding: zeros to a multiple of 4 */
			if (pos >= in_len || in[pos] != 0)
				goto truncated;
			pos++;
		}
		if (check_size > in_len - pos)
			goto truncated;
		if (x86)
			bcj_x86_decode(out + block_start, d->pos - block_start);
		if (check == 1 &&
		    crc32_fast(out + block_start, d->pos - block_start) != le32(in + pos)) {
			*why = "xz: CRC32 of the data does not match";
			return -1;
		}
		if (check == 4 && crc64(out + block_start, d->pos - block_start) !=
		                      ((uint64_t)le32(in + pos + 4) << 32 | le32(in + pos))) {
			*why = "xz: CRC64 of the data does not match";
			return -1;
		}
		pos += check_size;
	}
	/* The index and the stream footer follow; nothing in them is needed to use the data. */
	*out_len = d->pos;
	return 0;
truncated:
	*why = "xz: the stream is truncated";
	return -1;
bad_header:
	*why = "xz: bad block header";
	return -1;
}
