/*
 * The PV console ring page of a domU (start_info.console.domU.mfn, notified through
 * start_info.console.domU.evtchn).
 *
 * Indices are free-running 32-bit counters; the slot of index i is i & (size - 1). The guest
 * produces into out[] (copy while out_prod - out_cons < sizeof(out), write barrier, store
 * out_prod, send on the console port) and consumes from in[]; the back end does the mirror image.
 */
#ifndef __HV_PUBLIC_IO_CONSOLE_H__
#define __HV_PUBLIC_IO_CONSOLE_H__

#include <stdint.h>

typedef uint32_t XENCONS_RING_IDX;

#define XENCONS_IN_SIZE             1024
#define XENCONS_OUT_SIZE            2048
#define MASK_XENCONS_IDX(idx, ring) ((idx) & (sizeof(ring) - 1))

#define XENCONSOLE_CONNECTED    0
#define XENCONSOLE_DISCONNECTED 1

struct xencons_interface {
	char in[XENCONS_IN_SIZE];   /* back end -> guest */
	char out[XENCONS_OUT_SIZE]; /* guest -> back end */
	XENCONS_RING_IDX in_cons, in_prod;
	XENCONS_RING_IDX out_cons, out_prod;
	uint8_t connection; /* XENCONSOLE_*, written by the back end */
};

#endif /* __HV_PUBLIC_IO_CONSOLE_H__ */
