/*
 * The 2-level event channel ABI: port p is bit p%64 of word p/64 in shared_info's
 * evtchn_pending and evtchn_mask; a vCPU's evtchn_pending_sel has bit w set when word w may
 * hold work for it, and evtchn_upcall_pending says "scan the selector".
 *
 * The guest changes these words concurrently (it clears pending bits, sets and clears masks,
 * exchanges the selector with 0), so every update here is a single locked operation, and the
 * order is the ABI's: pending bit, then (unless masked) selector, then upcall_pending. A port
 * raised while masked stays pending without an upcall; unmasking it re-raises the upcall.
 */
#include <hv/event.h>

#include <public/xen.h>

static bool test_and_set(uint64_t *words, unsigned int bit)
{
	uint64_t m = 1ull << (bit % 64);

	return __atomic_fetch_or(&words[bit / 64], m, __ATOMIC_SEQ_CST) & m;
}

static bool test_and_clear(uint64_t *words, unsigned int bit)
{
	uint64_t m = 1ull << (bit % 64);

	return __atomic_fetch_and(&words[bit / 64], ~m, __ATOMIC_SEQ_CST) & m;
}

static bool test(const uint64_t *words, unsigned int bit)
{
	return (__atomic_load_n(&words[bit / 64], __ATOMIC_SEQ_CST) >> (bit % 64)) & 1;
}

/* Word w of the pending bitmap has (unmasked) work for v: raise v's upcall. */
static void mark_word_pending(struct vcpu *v, unsigned int word)
{
	struct vcpu_info *vi = v->vcpu_info;

	if (test_and_set(&vi->evtchn_pending_sel, word))
		return;
	__atomic_store_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
	vcpu_kick(v);
}

void evtchn_2l_set_pending(struct vcpu *v, unsigned int port)
{
	struct shared_info *s = v->domain->shared_info;

	if (test_and_set(s->evtchn_pending, port)) {
		if (v->polling)
			vcpu_kick(v);
		return;
	}
	if (!test(s->evtchn_mask, port))
		mark_word_pending(v, port / 64);
	else if (v->polling)
		vcpu_kick(v); /* pollers wake whatever the mask says */
}

void evtchn_2l_clear_pending(struct domain *d, unsigned int port)
{
	test_and_clear(d->shared_info->evtchn_pending, port);
}

void evtchn_2l_unmask(struct domain *d, unsigned int port)
{
	struct shared_info *s = d->shared_info;
	struct vcpu *v = d->vcpu[d->evtchn[port].notify_vcpu];

	if (test_and_clear(s->evtchn_mask, port) && test(s->evtchn_pending, port))
		mark_word_pending(v, port / 64);
}

bool evtchn_2l_is_pending(const struct domain *d, unsigned int port)
{
	return test(d->shared_info->evtchn_pending, port);
}

bool evtchn_2l_is_masked(const struct domain *d, unsigned int port)
{
	return test(d->shared_info->evtchn_mask, port);
}
