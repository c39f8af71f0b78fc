/*
 * Hostile-peer tests of the management link's ring and layout checks (link/ring.c, layout.c).
 *
 * The shared memory is a heap block of exactly the layout's size, so that under the ASan build
 * of this test any access outside it is fatal. For each kind of garbage a peer can write
 * (producer index beyond consumer + size or misaligned, an index moved backwards, a consumer
 * index beyond the producer, a record length beyond max_msg or beyond what was published, a
 * header with a wrong magic, version or layout) the victim must return the specific fault,
 * latch it, report the offending value, and leave its own state as it was.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "guest.h"
#include "layout.h"
#include "ring.h"

#define RING     1024u
#define SHM_SIZE (2 * 4096 + 2 * RING) /* header page, index page, two data areas */
#define FAULT(f) (-(HVLINK_RING_FAULT_BASE + (int)(f)))

struct link {
	uint8_t *shm;
	struct hvlink_header hdr;
	struct hvlink_ring htx, hrx, gtx, grx; /* host and guest views of channel 0 */
	struct hvlink_ring_idx *h2g;           /* shared indices of the host→guest ring */
};

static void link_setup(struct link *l)
{
	struct hvlink_chan_spec spec = {.type = HVLINK_CHAN_CONTROL, .size = {RING, RING}};

	l->shm = calloc(1, SHM_SIZE);
	REQUIRE(l->shm);
	REQUIRE(hvlink_layout_init(l->shm, SHM_SIZE, &spec, 1, 1, 0, 1, &l->hdr) == 0);
	REQUIRE(hvlink_channel_attach(l->shm, &l->hdr, 0, true, &l->htx, &l->hrx) == 0);
	REQUIRE(hvlink_channel_attach(l->shm, &l->hdr, 0, false, &l->gtx, &l->grx) == 0);
	l->h2g = (struct hvlink_ring_idx *)(l->shm + l->hdr.channels[0].ring[0].idx_offset);
}

static void link_teardown(struct link *l)
{
	free(l->shm);
}

static void send(struct link *l, uint32_t len, uint32_t id)
{
	static const uint8_t payload[512];
	struct hvlink_msg m = {.len = len, .type = 1, .id = id};

	REQUIRE(hvlink_ring_write(&l->htx, &m, payload) == 0);
	hvlink_ring_publish(&l->htx);
}

/* After a fault: latched, every call says the same, nothing moved. */
static void check_latched(struct hvlink_ring *r, enum hvlink_fault f, uint32_t pvt_before)
{
	struct hvlink_msg m;
	uint8_t buf[16];

	CHECK_EQ(hvlink_ring_fault(r, NULL, NULL), f);
	CHECK_EQ(r->pvt, pvt_before);
	if (r->producer) {
		struct hvlink_msg w = {.len = 4};
		CHECK_EQ(hvlink_ring_write(r, &w, buf), FAULT(f));
		CHECK_EQ(hvlink_ring_publish(r), FAULT(f));
		CHECK_EQ(hvlink_ring_space(r), FAULT(f));
	} else {
		CHECK_EQ(hvlink_ring_peek(r, &m), FAULT(f));
		CHECK_EQ(hvlink_ring_copy_payload(r, 0, buf, 4), FAULT(f));
		CHECK_EQ(hvlink_ring_consume(r), FAULT(f));
		CHECK_EQ(hvlink_ring_prepare_wait(r), FAULT(f));
	}
	CHECK_EQ(r->pvt, pvt_before);
}

static void test_garbage_prod(void)
{
	struct link l;
	struct hvlink_msg m;
	uint32_t value, ref, pvt;
	uint8_t buf[64];

	/* Beyond consumer + size. */
	link_setup(&l);
	send(&l, 24, 1);
	send(&l, 24, 2);
	CHECK_EQ(hvlink_ring_peek(&l.grx, &m), 1);
	CHECK_EQ(m.id, 1);
	CHECK_EQ(hvlink_ring_copy_payload(&l.grx, 0, buf, 24), 0);
	hvlink_ring_consume(&l.grx);
	pvt = l.grx.pvt;
	l.h2g->prod = pvt + RING + 8;
	CHECK_EQ(hvlink_ring_peek(&l.grx, &m), FAULT(HVLINK_FAULT_PROD));
	CHECK_EQ(hvlink_ring_fault(&l.grx, &value, &ref), HVLINK_FAULT_PROD);
	CHECK_EQ(value, pvt + RING + 8);
	CHECK_EQ(ref, pvt);
	check_latched(&l.grx, HVLINK_FAULT_PROD, pvt);
	/* Our index in shared memory still says what we really consumed. */
	CHECK_EQ(l.h2g->cons, pvt);
	link_teardown(&l);

	/* Far away (half the index space). */
	link_setup(&l);
	l.h2g->prod = 0x80000000u;
	CHECK_EQ(hvlink_ring_peek(&l.grx, &m), FAULT(HVLINK_FAULT_PROD));
	check_latched(&l.grx, HVLINK_FAULT_PROD, 0);
	link_teardown(&l);

	/* Misaligned. */
	link_setup(&l);
	l.h2g->prod = 20;
	CHECK_EQ(hvlink_ring_peek(&l.grx, &m), FAULT(HVLINK_FAULT_PROD));
	link_teardown(&l);

	/* Aligned and in range, but shorter than a record header. */
	link_setup(&l);
	l.h2g->prod = 8;
	CHECK_EQ(hvlink_ring_peek(&l.grx, &m), FAULT(HVLINK_FAULT_PROD));
	link_teardown(&l);

	/* Exactly one full ring ahead is legal: it must be accepted (as a full ring of zeros
	 * would be records of length 0). */
	link_setup(&l);
	memset(l.shm + l.hdr.channels[0].ring[0].data_offset, 0, RING);
	l.h2g->prod = RING;
	CHECK_EQ(hvlink_ring_peek(&l.grx, &m), 1);
	CHECK_EQ(m.len, 0);
	link_teardown(&l);
}

static void test_backwards(void)
{
	struct link l;
	struct hvlink_msg m;
	uint32_t value, ref;

	/* Producer index moved back, but still ahead of our consumer index: only the
	 * monotonicity check catches it. */
	link_setup(&l);
	send(&l, 8, 1);
	send(&l, 8, 2);
	send(&l, 8, 3);
	CHECK_EQ(hvlink_ring_peek(&l.grx, &m), 1);
	hvlink_ring_consume(&l.grx);
	l.h2g->prod = 2 * 24;
	CHECK_EQ(hvlink_ring_peek(&l.grx, &m), FAULT(HVLINK_FAULT_BACKWARDS));
	CHECK_EQ(hvlink_ring_fault(&l.grx, &value, &ref), HVLINK_FAULT_BACKWARDS);
	CHECK_EQ(value, 48);
	CHECK_EQ(ref, 72);
	check_latched(&l.grx, HVLINK_FAULT_BACKWARDS, 24);
	link_teardown(&l);

	/* Consumer index moved back (seen by the producer). */
	link_setup(&l);
	send(&l, 8, 1);
	send(&l, 8, 2);
	CHECK_EQ(hvlink_ring_peek(&l.grx, &m), 1);
	hvlink_ring_consume(&l.grx);
	CHECK_EQ(hvlink_ring_space(&l.htx), RING - 24);
	l.h2g->cons = 0;
	CHECK_EQ(hvlink_ring_space(&l.htx), FAULT(HVLINK_FAULT_BACKWARDS));
	check_latched(&l.htx, HVLINK_FAULT_BACKWARDS, 48);
	link_teardown(&l);
}

static void test_garbage_cons(void)
{
	struct link l;
	uint32_t value, ref;

	/* Consumer claims to have consumed more than was published. */
	link_setup(&l);
	send(&l, 8, 1);
	l.h2g->cons = 48;
	CHECK_EQ(hvlink_ring_space(&l.htx), FAULT(HVLINK_FAULT_CONS));
	CHECK_EQ(hvlink_ring_fault(&l.htx, &value, &ref), HVLINK_FAULT_CONS);
	CHECK_EQ(value, 48);
	CHECK_EQ(ref, 24);
	check_latched(&l.htx, HVLINK_FAULT_CONS, 24);
	CHECK_EQ(l.h2g->prod, 24); /* nothing more was published */
	link_teardown(&l);

	/* Written but unpublished records are not consumable either. */
	link_setup(&l);
	{
		struct hvlink_msg w = {.len = 8};
		uint8_t b[8] = {0};
		CHECK_EQ(hvlink_ring_write(&l.htx, &w, b), 0);
	}
	l.h2g->cons = 24;
	CHECK_EQ(hvlink_ring_space(&l.htx), FAULT(HVLINK_FAULT_CONS));
	link_teardown(&l);
}

static void test_length(void)
{
	struct link l;
	struct hvlink_msg m, *shared;
	uint32_t value, ref;

	/* A length beyond max_msg. */
	link_setup(&l);
	send(&l, 8, 1);
	shared = (struct hvlink_msg *)(l.shm + l.hdr.channels[0].ring[0].data_offset);
	shared->len = 0xffffff00u;
	CHECK_EQ(hvlink_ring_peek(&l.grx, &m), FAULT(HVLINK_FAULT_LENGTH));
	CHECK_EQ(hvlink_ring_fault(&l.grx, &value, &ref), HVLINK_FAULT_LENGTH);
	CHECK_EQ(value, 0xffffff00u);
	CHECK_EQ(ref, l.grx.max_msg);
	check_latched(&l.grx, HVLINK_FAULT_LENGTH, 0);
	link_teardown(&l);

	/* Within max_msg but longer than what was published. */
	link_setup(&l);
	send(&l, 8, 1);
	shared = (struct hvlink_msg *)(l.shm + l.hdr.channels[0].ring[0].data_offset);
	shared->len = 100;
	CHECK_EQ(hvlink_ring_peek(&l.grx, &m), FAULT(HVLINK_FAULT_LENGTH));
	CHECK_EQ(hvlink_ring_fault(&l.grx, &value, &ref), HVLINK_FAULT_LENGTH);
	CHECK_EQ(value, 100);
	CHECK_EQ(ref, 8);
	link_teardown(&l);

	/* The length is read once: changing it after peek does not change what we copy. */
	link_setup(&l);
	send(&l, 8, 1);
	shared = (struct hvlink_msg *)(l.shm + l.hdr.channels[0].ring[0].data_offset);
	CHECK_EQ(hvlink_ring_peek(&l.grx, &m), 1);
	shared->len = 400;
	{
		uint8_t b[8];
		CHECK_EQ(hvlink_ring_copy_payload(&l.grx, 0, b, 8), 0);
		CHECK_EQ(hvlink_ring_copy_payload(&l.grx, 0, b, 9), -HVLINK_EINVAL);
	}
	CHECK_EQ(hvlink_ring_consume(&l.grx), 0);
	CHECK_EQ(l.grx.pvt, 24);
	link_teardown(&l);
}

static void test_header(void)
{
	struct link l;
	struct hvlink_header h;

	link_setup(&l);
#define EXPECT(mutation, fault)                                                                    \
	do {                                                                                       \
		memcpy(&h, l.shm, sizeof(h));                                                      \
		mutation;                                                                          \
		CHECK_EQ(hvlink_header_check(&h, SHM_SIZE), fault);                                \
	} while (0)
	EXPECT((void)0, HVLINK_FAULT_NONE);
	EXPECT(h.magic[0] = 'X', HVLINK_FAULT_MAGIC);
	EXPECT(h.magic[7] = 1, HVLINK_FAULT_MAGIC);
	EXPECT(h.version_major = HVLINK_VERSION_MAJOR + 1, HVLINK_FAULT_VERSION);
	EXPECT(h.version_major = 0, HVLINK_FAULT_VERSION);
	EXPECT(h.version_minor = 99, HVLINK_FAULT_NONE); /* newer minor: compatible */
	EXPECT(h.header_size = 4096, HVLINK_FAULT_LAYOUT);
	EXPECT(h.shm_size = SHM_SIZE * 2, HVLINK_FAULT_LAYOUT); /* more than we map */
	EXPECT(h.nr_channels = 9, HVLINK_FAULT_LAYOUT);
	EXPECT(h.nr_vectors = 0, HVLINK_FAULT_LAYOUT);
	EXPECT(h.nr_vectors = 17, HVLINK_FAULT_LAYOUT);
	EXPECT(h.channels[0].vector = 1, HVLINK_FAULT_LAYOUT);
	EXPECT(h.channels[0].ring[0].data_size = 3000, HVLINK_FAULT_LAYOUT);
	EXPECT(h.channels[0].ring[0].data_size = 128, HVLINK_FAULT_LAYOUT);
	EXPECT(h.channels[0].ring[0].data_size = 2048, HVLINK_FAULT_LAYOUT); /* runs off the end */
	EXPECT(h.channels[0].ring[1].max_msg = RING, HVLINK_FAULT_LAYOUT);
	EXPECT(h.channels[0].ring[1].data_offset = SHM_SIZE - 512, HVLINK_FAULT_LAYOUT);
	EXPECT(h.channels[0].ring[1].data_offset = UINT64_MAX - 63, HVLINK_FAULT_LAYOUT);
	EXPECT(h.channels[0].ring[1].idx_offset = UINT64_MAX - 63, HVLINK_FAULT_LAYOUT);
	EXPECT(h.channels[0].ring[1].idx_offset = 64, HVLINK_FAULT_LAYOUT); /* in the header */
	EXPECT(h.channels[0].ring[1].idx_offset += 8, HVLINK_FAULT_LAYOUT); /* misaligned */
	EXPECT(h.channels[0].ring[1].data_offset = h.channels[0].ring[0].data_offset,
	       HVLINK_FAULT_LAYOUT); /* overlap */
	EXPECT(h.channels[0].ring[1].idx_offset = h.channels[0].ring[0].data_offset + 64,
	       HVLINK_FAULT_LAYOUT); /* indices inside a data area */
	/* An unused table entry is ignored whatever it holds. */
	EXPECT((h.nr_channels = 2, h.channels[1].ring[0].data_offset = 1), HVLINK_FAULT_NONE);
#undef EXPECT
	link_teardown(&l);
}

/* The machine's attach (guest.c): refuses a bad header in writing, accepts a good one. */
static void test_guest_attach(void)
{
	struct link l;
	struct hvlink_guest g;
	struct hvlink_header *shared;

	link_setup(&l);
	shared = (struct hvlink_header *)l.shm;
	CHECK(hvlink_guest_host_ready(l.shm));
	shared->version_major = HVLINK_VERSION_MAJOR + 1;
	CHECK_EQ(hvlink_guest_attach(&g, l.shm, SHM_SIZE, 3), HVLINK_FAULT_VERSION);
	CHECK_EQ(shared->guest_state, HVLINK_STATE_REFUSED);
	CHECK_EQ(shared->guest_fault, HVLINK_FAULT_VERSION);
	CHECK_EQ(g.nr_chans, 0);
	CHECK(hvlink_guest_chan(&g, HVLINK_CHAN_CONTROL) == NULL);
	shared->version_major = HVLINK_VERSION_MAJOR;
	shared->channels[0].ring[1].data_offset = SHM_SIZE; /* points past the end */
	CHECK_EQ(hvlink_guest_attach(&g, l.shm, SHM_SIZE, 3), HVLINK_FAULT_LAYOUT);
	CHECK_EQ(shared->guest_fault, HVLINK_FAULT_LAYOUT);
	shared->channels[0].ring[1].data_offset = l.hdr.channels[0].ring[1].data_offset;
	CHECK_EQ(hvlink_guest_attach(&g, l.shm, SHM_SIZE, 3), HVLINK_FAULT_NONE);
	CHECK_EQ(shared->guest_state, HVLINK_STATE_READY);
	CHECK_EQ(shared->guest_version_major, HVLINK_VERSION_MAJOR);
	CHECK_EQ(shared->guest_peer_id, 3);
	CHECK(hvlink_guest_chan(&g, HVLINK_CHAN_CONTROL) != NULL);
	CHECK(hvlink_guest_chan(&g, HVLINK_CHAN_NET) == NULL);
	/* The guest's copy is what it uses: rewriting the shared header later changes nothing. */
	shared->channels[0].ring[0].data_size = 1u << 30;
	CHECK_EQ(hvlink_guest_chan(&g, HVLINK_CHAN_CONTROL)->rx.size, RING);
	hvlink_guest_stop(&g, HVLINK_STATE_FAULT, HVLINK_FAULT_PROD);
	CHECK_EQ(shared->guest_state, HVLINK_STATE_FAULT);
	CHECK_EQ(shared->guest_fault, HVLINK_FAULT_PROD);
	/* No magic: the host is not ready (still initialising). */
	shared->magic[0] = 0;
	CHECK(!hvlink_guest_host_ready(l.shm));
	link_teardown(&l);
}

/* xorshift: reproducible garbage. */
static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

/*
 * Random corruption of indices, lengths and data: the consumer either gets records whose
 * lengths are within bounds (copied into buffers of exactly that size) or a fault; never a
 * crash, never an access outside the shared block (ASan build).
 */
static void test_fuzz(void)
{
	uint64_t seed = 42;
	unsigned iter, faults = 0, records = 0;

	for (iter = 0; iter < 20000; iter++) {
		struct link l;
		struct hvlink_msg m;
		unsigned k, n = rnd(&seed) % 6;
		uint32_t *target;
		int rc;

		link_setup(&l);
		for (k = 0; k < n; k++)
			send(&l, rnd(&seed) % 200, k + 1);
		switch (rnd(&seed) % 4) {
		case 0:
			target = &l.h2g->prod;
			break;
		case 1:
			target = &l.h2g->prod_event;
			break;
		case 2: /* a record header or data word */
			target = (uint32_t *)(l.shm + l.hdr.channels[0].ring[0].data_offset +
			                      4 * (rnd(&seed) % (RING / 4)));
			break;
		default:
			target = &l.h2g->cons;
			break;
		}
		switch (rnd(&seed) % 3) {
		case 0:
			*target = rnd(&seed);
			break;
		case 1:
			*target += (rnd(&seed) % 64) - 32;
			break;
		default:
			*target ^= 1u << (rnd(&seed) % 32);
			break;
		}
		for (k = 0; k < 20; k++) {
			rc = hvlink_ring_peek(&l.grx, &m);
			if (rc <= 0)
				break;
			REQUIRE(m.len <= l.grx.max_msg);
			{
				uint8_t *buf = malloc(m.len ? m.len : 1);
				REQUIRE(hvlink_ring_copy_payload(&l.grx, 0, buf, m.len) == 0);
				free(buf);
			}
			records++;
			if (hvlink_ring_consume(&l.grx) < 0)
				break;
		}
		if (hvlink_ring_fault(&l.grx, NULL, NULL) != HVLINK_FAULT_NONE)
			faults++;
		/* The producer side meets corrupted cons the same way. */
		{
			struct hvlink_msg w = {.len = rnd(&seed) % 300};
			static const uint8_t b[300];
			rc = hvlink_ring_write(&l.htx, &w, b);
			CHECK(rc == 0 || rc == -HVLINK_EAGAIN || hvlink_is_fault(rc));
		}
		link_teardown(&l);
	}
	printf("fuzz: %u records read, %u faults reported\n", records, faults);
	CHECK(faults > 1000);
	CHECK(records > 1000);
}

/* A peer thread that scribbles on the producer index while the consumer works. */
struct scribbler {
	struct hvlink_ring_idx *idx;
	volatile int stop;
};

static void *scribble(void *arg)
{
	struct scribbler *s = arg;
	uint64_t seed = 7;

	while (!s->stop)
		__atomic_store_n(&s->idx->prod, rnd(&seed), __ATOMIC_RELEASE);
	return NULL;
}

static void test_threaded_scribbler(void)
{
	struct link l;
	struct scribbler s;
	pthread_t t;
	struct hvlink_msg m;
	unsigned i;
	int rc = 0;

	link_setup(&l);
	s.idx = l.h2g;
	s.stop = 0;
	pthread_create(&t, NULL, scribble, &s);
	for (i = 0; i < 10000000 && !hvlink_is_fault(rc); i++) {
		rc = hvlink_ring_peek(&l.grx, &m);
		if (rc == 1) {
			uint8_t *buf = malloc(m.len ? m.len : 1);
			REQUIRE(hvlink_ring_copy_payload(&l.grx, 0, buf, m.len) == 0);
			free(buf);
			rc = hvlink_ring_consume(&l.grx);
		}
	}
	s.stop = 1;
	pthread_join(t, NULL);
	CHECK(hvlink_is_fault(rc));
	printf("scribbler: consumer reported \"%s\" after %u calls\n",
	       hvlink_fault_str(hvlink_ring_fault(&l.grx, NULL, NULL)), i);
	link_teardown(&l);
}

int main(void)
{
	alarm(120);
	test_garbage_prod();
	test_backwards();
	test_garbage_cons();
	test_length();
	test_header();
	test_guest_attach();
	test_fuzz();
	test_threaded_scribbler();
	CHECK_DONE();
}
