/*
 * Deliberately fatal actions (command line fatal=<name>). Each must make the hypervisor crash
 * this domain and carry on; if the kernel is still running afterwards, kernel_main reports it.
 * The hypervisor-side tests run every case in this table.
 */
#include <kernel.h>
#include "pv.h"

/* An exception with no handler in the virtual IDT: clear the trap table, then ud2. */
static void fatal_no_handler(void)
{
	HYPERVISOR_set_trap_table(NULL);
	__asm__ __volatile__("ud2");
}

const struct fatal_case pv_fatal_cases[] = {
    {"no_handler", "ud2 with an empty trap table", fatal_no_handler},
};
const size_t pv_nr_fatal_cases = ARRAY_SIZE(pv_fatal_cases);
