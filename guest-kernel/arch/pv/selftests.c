/*
 * The table of PV self-tests, in the order they run. The framework's own cases come first
 * (XTF's rule: prove exception fixups, user mode and unmapped NULL work before trusting any
 * result that depends on them).
 */
#include <selftest.h>
#include "pv.h"
#include "selftests.h"

const struct selftest_case pv_selftests[] = {
#define CASE(name, fn) {name, fn},
    PV_SELFTEST_LIST(CASE)
#undef CASE
};
const size_t pv_nr_selftests = ARRAY_SIZE(pv_selftests);
