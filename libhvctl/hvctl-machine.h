/*
 * libhvctl's machine starter: one way, shared by the tests, the hv-machine command, hvctl and
 * virthvd, to start the machine (QEMU with hv, dom0 and the management link), reach it, and
 * stop it without leaving anything behind.
 *
 * hvctl_machine_start() makes the state directory's sockets, serves the management link
 * (ivshmem server), starts QEMU with hv and connects to QEMU's QMP socket. From then on:
 *
 *   <state_dir>/ivshmem.sock  the link's ivshmem server (QEMU connects here)
 *   <state_dir>/qmp.sock      QEMU's QMP (used by this library only: one client at a time)
 *   <state_dir>/hvctl.sock    the control relay: other processes (hvctl --machine DIR) open
 *                             handles here with hvctl_open_machine(); every handle shares the
 *                             one link, requests are matched to their callers, domain events go
 *                             to every handle
 *   <state_dir>/qemu.log      QEMU's own stderr
 *   <state_dir>/serial.log    hv's serial console (unless serial_log says otherwise)
 *   <state_dir>/pid           QEMU's pid, for hv-machine status/stop
 *
 * The relay and the link live in the process that called hvctl_machine_start(): when it ends,
 * so does the machine (QEMU is its child, killed with it when die_with_parent is set).
 *
 * Stopping (hvctl_machine_stop): if dom0's agent answers, dom0 is asked to shut down through
 * the link; otherwise QMP "quit". QEMU is then reaped, with SIGKILL after the timeout.
 *
 * Accelerator: "tcg" (default), "kvm", or "auto" = KVM only if a short probe boot of hv under
 * KVM reaches hv's idle line and exits cleanly (DESIGN.md decision 11), else TCG.
 */
#ifndef HVCTL_MACHINE_H
#define HVCTL_MACHINE_H

#include <sys/types.h>

#include "hvctl.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct hvctl_machine_module {
	const char *path;
	const char *cmdline; /* NULL: none */
} hvctl_machine_module;

typedef struct hvctl_machine_config {
	const char *hv;         /* hv.elf (multiboot, QEMU -kernel) or a bootable .iso (-cdrom) */
	const char *hv_cmdline; /* -kernel only (an ISO carries its own) */
	const char *dom0;       /* boot module 0 (guest.elf), -kernel only; NULL: none */
	const char *dom0_cmdline;
	const hvctl_machine_module *modules; /* more boot modules after dom0 */
	unsigned nr_modules;
	unsigned memory_mib;           /* 0: 512 */
	unsigned cpus;                 /* 0: 1 */
	const char *accel;             /* NULL or "tcg", "kvm", "auto" */
	const char *state_dir;         /* required; created if missing */
	const char *serial_log;        /* NULL: <state_dir>/serial.log */
	int serial_stdio;              /* 1: the serial console on this process's terminal too */
	const char *qemu;              /* NULL: $HV_QEMU or qemu-system-x86_64 from PATH */
	const char *const *extra_args; /* more QEMU arguments, NULL-terminated; NULL: none */
	unsigned start_timeout_ms;     /* QEMU up and QMP answering; 0: 30000 */
	int wait_agent;                /* 1: start waits until dom0's agent answers HELLO */
	unsigned agent_timeout_ms;     /* 0: 60000 */
	int die_with_parent; /* 1: QEMU gets SIGKILL when the starting thread's process dies */
} hvctl_machine_config;

typedef struct hvctl_machine hvctl_machine;

/*
 * Starts the machine. On failure nothing is left running and the last error (hvctl.h) says
 * why; a QEMU that exited early is reported with its exit status and the tail of its log.
 */
int hvctl_machine_start(const hvctl_machine_config *cfg, hvctl_machine **out);

/* The machine's control handle (owned by the machine; valid until hvctl_machine_stop). */
hvctl *hvctl_machine_handle(hvctl_machine *m);

/* Waits until dom0's agent answers (hvctl_wait_ready on the machine's handle). */
int hvctl_machine_wait_ready(hvctl_machine *m, unsigned timeout_ms);

/*
 * Runs a QMP command (args: a JSON object as text, or NULL) and returns QEMU's "return" value
 * as JSON text in *reply (malloc'ed; the caller frees it).
 */
int hvctl_machine_qmp(hvctl_machine *m, const char *command, const char *args_json, char **reply);

pid_t hvctl_machine_pid(hvctl_machine *m);
const char *hvctl_machine_accel(hvctl_machine *m); /* "tcg" or "kvm", as decided */
/* 1 once QEMU's ivshmem device has connected to the link's server. */
int hvctl_machine_link_connected(hvctl_machine *m);
/* 1 while QEMU runs; once it has exited, 0 with its wait status in *status (if not NULL). */
int hvctl_machine_running(hvctl_machine *m, int *status);

/*
 * Stops the machine (dom0 shutdown through the link if its agent answers, else QMP quit),
 * waits up to timeout_ms (0: 15000) for QEMU to exit, then kills it; closes the handle and
 * the relay, removes the sockets, frees m. Returns HVCTL_OK if QEMU exited by itself, else the
 * error (it is dead in either case). *status (if not NULL) gets QEMU's wait status.
 */
int hvctl_machine_stop(hvctl_machine *m, unsigned timeout_ms, int *status);

/*
 * Opens a control handle on a machine started by another process (its state directory), via
 * that machine's relay socket <state_dir>/hvctl.sock.
 */
int hvctl_open_machine(const char *state_dir, hvctl **out);

#ifdef __cplusplus
}
#endif

#endif
