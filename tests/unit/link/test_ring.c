/*
 * Unit tests of the management link's ring (link/ring.c) and layout (link/layout.c) on the host:
 * two threads as the two sides of one channel, passing many records of random sizes through
 * small rings (so that they wrap and fill), with checksums; notification suppression counted;
 * and the layout set-up/check round trip. Hostile peers are in test_ring_hostile.c.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "layout.h"
#include "ring.h"

/* A doorbell between two threads with eventfd's semantics: ring sets, wait consumes. */
struct doorbell {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int pending;
	unsigned long rung;
};

static void bell_init(struct doorbell *b)
{
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->cond, NULL);
	b->pending = 0;
	b->rung = 0;
}

static void bell_ring(struct doorbell *b)
{
	pthread_mutex_lock(&b->lock);
	b->pending = 1;
	b->rung++;
	pthread_cond_signal(&b->cond);
	pthread_mutex_unlock(&b->lock);
}

static void bell_wait(struct doorbell *b)
{
	pthread_mutex_lock(&b->lock);
	while (!b->pending)
		pthread_cond_wait(&b->cond, &b->lock);
	b->pending = 0;
	pthread_mutex_unlock(&b->lock);
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* xorshift: a reproducible random stream per thread. */
static uint32_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint32_t)(*s >> 11);
}

#define NR_MSGS 200000

struct side {
	struct hvlink_ring ring;
	struct doorbell *my_bell, *peer_bell;
	uint64_t seed;
	unsigned long waits;
	int errors;
};

static void *producer_main(void *arg)
{
	struct side *s = arg;
	uint8_t buf[4096];
	uint32_t i;

	for (i = 0; i < NR_MSGS; i++) {
		uint32_t len = rnd(&s->seed) % (s->ring.max_msg + 1), k;
		struct hvlink_msg m = {.len = len, .type = 7, .flags = HVLINK_MSG_EVENT, .id = i};
		int rc;

		if (len < 4)
			len = m.len = 4 + (i % 4);
		for (k = 4; k < len; k++)
			buf[k] = (uint8_t)rnd(&s->seed);
		m.status = (int32_t)fnv1a(buf + 4, len - 4);
		memcpy(buf, &i, 4);
		while ((rc = hvlink_ring_write(&s->ring, &m, buf)) == -HVLINK_EAGAIN) {
			/* Make what we wrote visible before waiting for the consumer to free space.
			 */
			if (hvlink_ring_publish(&s->ring) == 1)
				bell_ring(s->peer_bell);
			if (hvlink_ring_want_space(&s->ring, len) == 0) {
				s->waits++;
				bell_wait(s->my_bell);
			}
		}
		if (rc) {
			fprintf(stderr, "producer: write %u failed: %d\n", i, rc);
			s->errors++;
			return NULL;
		}
		/* Publish in batches of random size, as a real producer drains a queue. */
		if (rnd(&s->seed) % 4 == 0 && hvlink_ring_publish(&s->ring) == 1)
			bell_ring(s->peer_bell);
	}
	if (hvlink_ring_publish(&s->ring) == 1)
		bell_ring(s->peer_bell);
	return NULL;
}

static void *consumer_main(void *arg)
{
	struct side *s = arg;
	uint8_t buf[4096];
	uint32_t expect = 0;

	while (expect < NR_MSGS) {
		struct hvlink_msg m;
		uint32_t seq;
		int rc = hvlink_ring_peek(&s->ring, &m);

		if (rc == 0) {
			rc = hvlink_ring_prepare_wait(&s->ring);
			if (rc == 0) {
				s->waits++;
				bell_wait(s->my_bell);
			}
			if (rc >= 0)
				continue;
		}
		if (rc < 0) {
			fprintf(stderr, "consumer: peek failed at %u: %d\n", expect, rc);
			s->errors++;
			return NULL;
		}
		if (m.len < 4 || hvlink_ring_copy_payload(&s->ring, 0, buf, m.len) != 0) {
			s->errors++;
			return NULL;
		}
		memcpy(&seq, buf, 4);
		if (seq != expect || m.id != expect || m.type != 7 ||
		    (uint32_t)m.status != fnv1a(buf + 4, m.len - 4)) {
			fprintf(stderr, "consumer: record %u corrupt (seq %u id %u)\n", expect, seq,
			        m.id);
			s->errors++;
			return NULL;
		}
		expect++;
		if (hvlink_ring_consume(&s->ring) == 1)
			bell_ring(s->peer_bell);
	}
	return NULL;
}

/* Two threads, one channel, both directions at once (host→guest and guest→host streams). */
static void test_threads(uint32_t size)
{
	static uint8_t shm[1 << 20];
	struct hvlink_chan_spec spec = {.type = HVLINK_CHAN_CONTROL, .size = {size, size * 2}};
	struct hvlink_header hdr, guest_copy;
	struct hvlink_ring htx, hrx, gtx, grx;
	struct doorbell host_bell, guest_bell;
	struct side hp, hc, gp, gc;
	pthread_t t[4];
	int i;

	REQUIRE(hvlink_layout_init(shm, sizeof(shm), &spec, 1, 2, 0, 1, &hdr) == 0);
	memcpy(&guest_copy, shm, sizeof(guest_copy));
	CHECK_EQ(hvlink_header_check(&guest_copy, sizeof(shm)), HVLINK_FAULT_NONE);
	CHECK_EQ(hvlink_channel_find(&guest_copy, HVLINK_CHAN_CONTROL), 0);
	REQUIRE(hvlink_channel_attach(shm, &hdr, 0, true, &htx, &hrx) == 0);
	REQUIRE(hvlink_channel_attach(shm, &guest_copy, 0, false, &gtx, &grx) == 0);
	bell_init(&host_bell);
	bell_init(&guest_bell);

	/* Each side has one doorbell that both its producer and consumer wait on in real use;
	 * here each thread gets its own so that a wake-up is never stolen by the other thread. */
	struct doorbell hp_bell, gc_bell, gp_bell, hc_bell;
	bell_init(&hp_bell);
	bell_init(&gc_bell);
	bell_init(&gp_bell);
	bell_init(&hc_bell);
	hp = (struct side){.ring = htx, .my_bell = &hp_bell, .peer_bell = &gc_bell, .seed = 1};
	gc = (struct side){.ring = grx, .my_bell = &gc_bell, .peer_bell = &hp_bell, .seed = 2};
	gp = (struct side){.ring = gtx, .my_bell = &gp_bell, .peer_bell = &hc_bell, .seed = 3};
	hc = (struct side){.ring = hrx, .my_bell = &hc_bell, .peer_bell = &gp_bell, .seed = 4};
	pthread_create(&t[0], NULL, producer_main, &hp);
	pthread_create(&t[1], NULL, consumer_main, &gc);
	pthread_create(&t[2], NULL, producer_main, &gp);
	pthread_create(&t[3], NULL, consumer_main, &hc);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	CHECK_EQ(hp.errors + gc.errors + gp.errors + hc.errors, 0);
	CHECK_EQ(hvlink_ring_fault(&hp.ring, NULL, NULL), HVLINK_FAULT_NONE);
	CHECK_EQ(hvlink_ring_fault(&gc.ring, NULL, NULL), HVLINK_FAULT_NONE);
	/* Every record passed; notifications were asked for far less often than records moved. */
	CHECK(hp.ring.notifies > 0);
	CHECK(hp.ring.notifies < NR_MSGS / 2);
	CHECK(gc.ring.notifies + gc.ring.suppressed == NR_MSGS);
	CHECK(gc.ring.notifies < NR_MSGS / 2);
	printf("ring %u/%u: h2g notifies %llu suppressed %llu (consumer waits %lu), "
	       "consumer->producer notifies %llu suppressed %llu (producer waits %lu)\n",
	       size, size * 2, (unsigned long long)hp.ring.notifies,
	       (unsigned long long)hp.ring.suppressed, gc.waits,
	       (unsigned long long)gc.ring.notifies, (unsigned long long)gc.ring.suppressed,
	       hp.waits);
}

/* Deterministic: the producer notifies only when the consumer asked, once per request. */
static void test_suppression(void)
{
	static uint8_t shm[64 << 10];
	struct hvlink_chan_spec spec = {.type = HVLINK_CHAN_CONTROL, .size = {1024, 1024}};
	struct hvlink_header hdr;
	struct hvlink_ring htx, hrx, gtx, grx;
	struct hvlink_msg m = {.len = 8, .type = 1}, got;
	uint8_t payload[200] = "12345678";
	int i;

	REQUIRE(hvlink_layout_init(shm, sizeof(shm), &spec, 1, 1, 0, 1, &hdr) == 0);
	REQUIRE(hvlink_channel_attach(shm, &hdr, 0, true, &htx, &hrx) == 0);
	REQUIRE(hvlink_channel_attach(shm, &hdr, 0, false, &gtx, &grx) == 0);

	/* Fresh ring: the consumer asked for the first record (prod_event 1). */
	CHECK_EQ(hvlink_ring_publish(&htx), 0); /* nothing written: nothing to say */
	CHECK_EQ(hvlink_ring_write(&htx, &m, payload), 0);
	CHECK_EQ(hvlink_ring_publish(&htx), 1);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(hvlink_ring_write(&htx, &m, payload), 0);
		CHECK_EQ(hvlink_ring_publish(&htx), 0); /* consumer has not asked again */
	}
	for (i = 0; i < 4; i++) {
		CHECK_EQ(hvlink_ring_peek(&grx, &got), 1);
		CHECK_EQ(hvlink_ring_consume(&grx), 0); /* producer did not ask for space */
	}
	CHECK_EQ(hvlink_ring_peek(&grx, &got), 0);
	CHECK_EQ(hvlink_ring_prepare_wait(&grx), 0); /* empty: sleep */
	CHECK_EQ(hvlink_ring_write(&htx, &m, payload), 0);
	CHECK_EQ(hvlink_ring_publish(&htx), 1); /* asked again: notified once */
	CHECK_EQ(hvlink_ring_write(&htx, &m, payload), 0);
	CHECK_EQ(hvlink_ring_publish(&htx), 0);
	CHECK_EQ(hvlink_ring_prepare_wait(&grx), 1); /* data is there: do not sleep */
	CHECK_EQ(htx.notifies, 2);
	CHECK_EQ(htx.suppressed, 4);

	/* Fill the ring: the producer asks for space, and the consumer notifies once it freed
	 * enough for the record waiting, not before. */
	while (hvlink_ring_peek(&grx, &got) == 1)
		hvlink_ring_consume(&grx);
	m.len = 200;
	while (hvlink_ring_write(&htx, &m, payload) == 0)
		;
	CHECK_EQ(hvlink_ring_write(&htx, &m, payload), -HVLINK_EAGAIN);
	hvlink_ring_publish(&htx);
	CHECK_EQ(hvlink_ring_want_space(&htx, 200), 0);
	CHECK_EQ(hvlink_ring_peek(&grx, &got), 1);
	/* 1024-byte ring holds 4 records of 216 bytes (864): one consumed frees 376 >= 216. */
	CHECK_EQ(hvlink_ring_consume(&grx), 1);
	CHECK_EQ(hvlink_ring_peek(&grx, &got), 1);
	CHECK_EQ(hvlink_ring_consume(&grx), 0); /* already told */
	CHECK_EQ(hvlink_ring_want_space(&htx, 200), 1);

	/* Limits: a payload beyond max_msg is refused locally and changes nothing. */
	m.len = htx.max_msg + 1;
	CHECK_EQ(hvlink_ring_write(&htx, &m, payload), -HVLINK_EMSGSIZE);
	CHECK_EQ(hvlink_ring_fault(&htx, NULL, NULL), HVLINK_FAULT_NONE);
	/* Misuse: consume without a record, payload beyond the record. */
	while (hvlink_ring_peek(&grx, &got) == 1)
		hvlink_ring_consume(&grx);
	CHECK_EQ(hvlink_ring_consume(&grx), -HVLINK_EINVAL);
	m.len = 8;
	CHECK_EQ(hvlink_ring_write(&htx, &m, payload), 0);
	hvlink_ring_publish(&htx);
	CHECK_EQ(hvlink_ring_peek(&grx, &got), 1);
	CHECK_EQ(hvlink_ring_copy_payload(&grx, 4, payload + 100, 5), -HVLINK_EINVAL);
	CHECK_EQ(hvlink_ring_copy_payload(&grx, 4, payload + 100, 4), 0);
	CHECK(memcmp(payload + 100, "5678", 4) == 0);
}

/* payload_spans: the payload's place in the ring, split where a record wraps; the two spans
 * hold exactly the bytes copy_payload gives; ranges beyond the record are refused. */
static void test_payload_spans(void)
{
	static uint8_t shm[64 << 10];
	struct hvlink_chan_spec spec = {.type = HVLINK_CHAN_CONTROL, .size = {1024, 1024}};
	struct hvlink_header hdr;
	struct hvlink_ring htx, hrx, gtx, grx;
	struct hvlink_msg m = {.len = 300, .type = 1}, got;
	uint8_t payload[300], joined[300], copied[300];
	const uint8_t *p1, *p2;
	uint32_t n1, n2, i;
	int wrapped = 0, round;

	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	REQUIRE(hvlink_layout_init(shm, sizeof(shm), &spec, 1, 1, 0, 1, &hdr) == 0);
	REQUIRE(hvlink_channel_attach(shm, &hdr, 0, true, &htx, &hrx) == 0);
	REQUIRE(hvlink_channel_attach(shm, &hdr, 0, false, &gtx, &grx) == 0);
	CHECK_EQ(hvlink_ring_payload_spans(&grx, 0, 1, &p1, &n1, &p2, &n2), -HVLINK_EINVAL);
	/* 320-byte records in a 1024-byte ring: every fourth one or so wraps. */
	for (round = 0; round < 8; round++) {
		CHECK_EQ(hvlink_ring_write(&htx, &m, payload), 0);
		hvlink_ring_publish(&htx);
		REQUIRE(hvlink_ring_peek(&grx, &got) == 1);
		CHECK_EQ(hvlink_ring_payload_spans(&grx, 16, 284, &p1, &n1, &p2, &n2), 0);
		CHECK_EQ(n1 + n2, 284);
		CHECK(p1 >= grx.data && p1 + n1 <= grx.data + grx.size);
		CHECK(n2 == 0 || (p1 + n1 == grx.data + grx.size && p2 == grx.data));
		wrapped |= n2 != 0;
		memcpy(joined, p1, n1);
		memcpy(joined + n1, p2, n2);
		CHECK_EQ(hvlink_ring_copy_payload(&grx, 16, copied, 284), 0);
		CHECK(memcmp(joined, copied, 284) == 0);
		CHECK(memcmp(joined, payload + 16, 284) == 0);
		CHECK_EQ(hvlink_ring_payload_spans(&grx, 16, 285, &p1, &n1, &p2, &n2),
		         -HVLINK_EINVAL);
		CHECK_EQ(hvlink_ring_payload_spans(&grx, 301, 0, &p1, &n1, &p2, &n2),
		         -HVLINK_EINVAL);
		hvlink_ring_consume(&grx);
	}
	CHECK(wrapped);
}

/* The layout the host writes passes the checker; the spec limits are enforced. */
static void test_layout(void)
{
	static uint8_t shm[1 << 20];
	struct hvlink_chan_spec specs[3] = {
	    {.type = HVLINK_CHAN_CONTROL, .vector = 0, .size = {65536, 65536}},
	    {.type = HVLINK_CHAN_CONSOLE, .vector = 0, .size = {4096, 16384}},
	    {.type = HVLINK_CHAN_BULK, .vector = 1, .size = {262144, 4096}, .max_msg = {65536, 0}},
	};
	struct hvlink_header hdr, copy;
	struct hvlink_chan_spec bad;

	REQUIRE(hvlink_layout_init(shm, sizeof(shm), specs, 3, 2, 0, 7, &hdr) == 0);
	memcpy(&copy, shm, sizeof(copy));
	CHECK(memcmp(&copy, &hdr, sizeof(hdr)) == 0);
	CHECK_EQ(hvlink_header_check(&copy, sizeof(shm)), HVLINK_FAULT_NONE);
	CHECK_EQ(copy.generation, 7);
	CHECK_EQ(copy.host_state, HVLINK_STATE_READY);
	CHECK_EQ(hvlink_channel_find(&copy, HVLINK_CHAN_BULK), 2);
	CHECK_EQ(hvlink_channel_find(&copy, HVLINK_CHAN_NET), -1);
	CHECK_EQ(copy.channels[2].ring[0].max_msg, 65536);
	CHECK_EQ(copy.channels[2].ring[1].max_msg, 4096 / 2 - 16);
	/* Does not fit, or invalid sizes or vectors: refused. */
	CHECK_EQ(hvlink_layout_init(shm, 128 << 10, specs, 3, 2, 0, 1, NULL), -HVLINK_EINVAL);
	bad = specs[0];
	bad.size[1] = 3000;
	CHECK_EQ(hvlink_layout_init(shm, sizeof(shm), &bad, 1, 2, 0, 1, NULL), -HVLINK_EINVAL);
	bad = specs[0];
	bad.vector = 2;
	CHECK_EQ(hvlink_layout_init(shm, sizeof(shm), &bad, 1, 2, 0, 1, NULL), -HVLINK_EINVAL);
	bad = specs[0];
	bad.max_msg[0] = 65536;
	CHECK_EQ(hvlink_layout_init(shm, sizeof(shm), &bad, 1, 2, 0, 1, NULL), -HVLINK_EINVAL);
}

int main(void)
{
	alarm(120); /* a lost wake-up shows as a hang: make it a failure instead */
	test_layout();
	test_suppression();
	test_payload_spans();
	test_threads(256);
	test_threads(4096);
	CHECK_DONE();
}
