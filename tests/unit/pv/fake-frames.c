/* Fake machine memory and hv hooks for the PV unit tests (see fake-frames.h). */
#include "fake-frames.h"

uint64_t fake_nr_frames = NR_FAKE_FRAMES_DEFAULT;
uint64_t (*fake_mem)[512];
struct pv_frame *fake_frames;
uint64_t *fake_m2p;
int fake_frees;
struct domain *fake_domains[4];
int test_failures;

void fake_reset(void)
{
	if (!fake_mem) {
		fake_mem = calloc(fake_nr_frames, 4096);
		fake_frames = calloc(fake_nr_frames, sizeof(*fake_frames));
		fake_m2p = calloc(fake_nr_frames, sizeof(*fake_m2p));
	}
	memset(fake_mem, 0, fake_nr_frames * 4096);
	memset(fake_m2p, 0xff, fake_nr_frames * sizeof(*fake_m2p));
	for (uint64_t i = 0; i < fake_nr_frames; i++)
		fake_frames[i] = (struct pv_frame){.owner = DOMID_INVALID};
	fake_frees = 0;
}

struct pv_frame *pv_frame(uint64_t mfn)
{
	return mfn < fake_nr_frames ? &fake_frames[mfn] : NULL;
}

uint64_t *pv_frame_map(uint64_t mfn)
{
	if (mfn >= fake_nr_frames)
		abort();
	return fake_mem[mfn];
}

void pv_frame_free(uint64_t mfn, bool hv_heap)
{
	fake_frees++;
}

void pv_init_hv_l4_slots(uint64_t *l4, uint64_t l4_mfn, const struct domain *d)
{
	for (int i = HV_L4_FIRST_SLOT; i <= HV_L4_LAST_SLOT; i++)
		l4[i] = HV_SLOT_MARK;
}

void pv_m2p_set(uint64_t mfn, uint64_t pfn)
{
	if (mfn < fake_nr_frames)
		fake_m2p[mfn] = pfn;
}

/* I/O memory below MFN 128 for privileged domains, nothing beyond (no such addresses). */
bool pv_iomem_ok(const struct domain *d, uint64_t mfn)
{
	return d->is_privileged && mfn < 128;
}

struct domain *pv_find_domain(uint16_t domid)
{
	for (int i = 0; i < 4; i++)
		if (fake_domains[i] && fake_domains[i]->domain_id == domid)
			return fake_domains[i];
	return NULL;
}

int run_cases(const struct test_case *cases, int n)
{
	for (int i = 0; i < n; i++) {
		int before = test_failures;

		fake_reset();
		cases[i].fn();
		printf("%s %s\n", test_failures == before ? "PASS" : "FAIL", cases[i].name);
	}
	printf("%d cases, %d failed checks\n", n, test_failures);
	return test_failures ? 1 : 0;
}
