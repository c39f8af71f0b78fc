/*
 * The guest ABI headers (public/) inside hv. hv's own headers define three of the ABI's
 * constants themselves, with the same values but other spellings (HYPERVISOR_VIRT_START/END
 * in hv/layout.h, FIRST_RESERVED_GDT_BYTE in asm/desc.h); this wrapper includes hv's first and
 * keeps hv's spelling, so files that need both do not trip over the redefinition.
 */
#ifndef HV_PV_XEN_PUBLIC_H
#define HV_PV_XEN_PUBLIC_H

#include <hv/layout.h>
#include <asm/desc.h>

#pragma push_macro("HYPERVISOR_VIRT_START")
#pragma push_macro("HYPERVISOR_VIRT_END")
#pragma push_macro("FIRST_RESERVED_GDT_BYTE")
#undef HYPERVISOR_VIRT_START
#undef HYPERVISOR_VIRT_END
#undef FIRST_RESERVED_GDT_BYTE
#include <public/xen.h>
#include <public/callback.h>
#include <public/event_channel.h>
#include <public/features.h>
#include <public/grant_table.h>
#include <public/memory.h>
#include <public/nmi.h>
#include <public/physdev.h>
#include <public/sched.h>
#include <public/version.h>
#undef HYPERVISOR_VIRT_START
#undef HYPERVISOR_VIRT_END
#undef FIRST_RESERVED_GDT_BYTE
#pragma pop_macro("HYPERVISOR_VIRT_START")
#pragma pop_macro("HYPERVISOR_VIRT_END")
#pragma pop_macro("FIRST_RESERVED_GDT_BYTE")

#endif
