/*
 * dom0's split-driver back ends as the agent sees them: XenStore (xenstored.c, xs_tree.c), the
 * devices the host adds (devices.c), the block back end (blkback.c) and the network back end
 * with its switch (netback.c, switch.c). The agent calls only the backends_* and devices_*
 * functions and the two link-channel entry points; each back end keeps its own state.
 *
 * Order of a domU's life as the agent drives it: build -> backends_domain_built (XenStore ring
 * attached, /local/domain/<id> made) -> devices_add for each device -> unpause ... ->
 * backends_domain_destroy (every device removed, every grant and page of the domain unmapped,
 * its XenStore subtree and ring gone) -> destroy. hv frees no frame dom0 still maps because
 * of that order. Functions return 0 or a negative Xen errno (XEN_E*, public/errno.h).
 */
#ifndef GK_DOM0_BACKENDS_H
#define GK_DOM0_BACKENDS_H

#include <klib/compiler.h>

#include <public/errno.h>

#include "guest.h"
#include "link_ctl.h"
#include "link_io.h"

/* ---- backends.c: what the agent calls ---- */
void backends_init(void);                  /* once, before the agent's loop */
int backends_domain_built(uint16_t domid); /* after a successful build */
void backends_domain_destroy(uint16_t domid);
/* Each turn of the agent's loop: rings of every back end served. True if work was done. */
bool backends_poll(void);
/* HVLINK_CTL_BANDWIDTH_SET / GET: routed by kind to blkback or netback. */
int backends_bandwidth_set(const struct hvlink_ctl_bandwidth *bw);
int backends_bandwidth_get(struct hvlink_ctl_bandwidth *bw); /* fills the values of the key */
/* Arms the shared one-shot timer for deadline_ns (platform time) unless an earlier wake-up
 * is pending; back ends call this instead of platform->timer_set. */
void backends_wake_at(uint64_t deadline_ns);
/* The link's data channels: records from the host (the agent consumes them afterwards). */
void backends_link_block(struct hvlink_guest_chan *ch, const struct hvlink_msg *m);
void backends_link_net(struct hvlink_guest_chan *ch, const struct hvlink_msg *m);

/* ---- devices.c: HVLINK_CTL_DEVICE_ADD / REMOVE ---- */
int devices_add(const struct hvlink_ctl_device *d);
int devices_remove(uint16_t domid, uint16_t kind, uint16_t devid);
void devices_remove_domain(uint16_t domid); /* every device of the domain */

/* ---- xenstored.c: the store, with each domU's ring (start_info store_mfn / store_evtchn) ---- */
void xenstored_init(void);
int xenstored_attach(uint16_t domid);  /* maps the ring, binds the port, makes the domain's dir */
void xenstored_detach(uint16_t domid); /* removes /local/domain/<id> and the ring */
bool xenstored_poll(void);
/* dom0's own access to the store (no transaction; watches fire as for a guest's write). */
int xs_read(const char *path, char *buf, unsigned int size); /* length, or -ENOENT */
int xs_write(const char *path, const char *value);
int xs_printf(const char *path, const char *fmt, ...) __printf(2, 3);
int xs_rm(const char *path); /* the node and its subtree */
/* Calls cb whenever path or a node below it changes (as a guest's watch). */
typedef void (*xs_watch_fn)(const char *path, void *arg);
int xs_watch(const char *path, xs_watch_fn cb, void *arg);
void xs_unwatch(const char *path, xs_watch_fn cb, void *arg);

/* ---- blkback.c ---- */
void blkback_init(void);
int blkback_add(uint16_t domid, uint16_t devid, uint64_t sectors, bool readonly);
void blkback_remove(uint16_t domid, uint16_t devid);
bool blkback_poll(void);
void blkback_link_message(struct hvlink_guest_chan *ch, const struct hvlink_msg *m);
int blkback_iotune_set(const struct hvlink_ctl_bandwidth *bw);
int blkback_iotune_get(struct hvlink_ctl_bandwidth *bw);

/* ---- netback.c, switch.c ---- */
void netback_init(void);
int netback_add(uint16_t domid, uint16_t devid, const uint8_t mac[6]);
void netback_remove(uint16_t domid, uint16_t devid);
bool netback_poll(void);
void netback_link_message(struct hvlink_guest_chan *ch, const struct hvlink_msg *m);
int netback_bandwidth_set(const struct hvlink_ctl_bandwidth *bw);
int netback_bandwidth_get(struct hvlink_ctl_bandwidth *bw);

/* The agent's helpers for a back end that talks to the host (agent.c). */
/* Sends a record on ch (G2H); -EAGAIN when the ring is full (try again on a later turn). */
int agent_link_send(struct hvlink_guest_chan *ch, uint16_t type, uint16_t flags, uint32_t id,
                    const void *head, uint32_t head_len, const void *data, uint32_t data_len);
/* The channel of a type, or NULL when the host's layout has none. */
struct hvlink_guest_chan *agent_link_channel(uint16_t type);

#endif
