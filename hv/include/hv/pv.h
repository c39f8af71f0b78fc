/*
 * The paravirtual core's entry point for hv's boot sequence (hv/arch/x86/pv).
 */
#ifndef HV_PV_H
#define HV_PV_H

/*
 * Boot CPU, after every CPU idles: sets up the M2P, guest time and the guest trap handlers,
 * then builds dom0 from the first boot module and runs it on this CPU (never returns then).
 * Returns when there is no boot module.
 */
void pv_start(void);

#endif
