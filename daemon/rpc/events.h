/*
 * Domain event callbacks (libvirt-rpc.md 3.7): per-client registrations made with
 * CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY, and the broadcast of driver events as
 * DOMAIN_EVENT_CALLBACK_* MESSAGE packets to every matching registration.
 */
#ifndef HV_RPC_EVENTS_H
#define HV_RPC_EVENTS_H

#include "driver/driver.h"
#include "rpc/server.h"

/* The driver's event sink (any thread: it queues for the main loop); opaque is the
 * hvRpcServer. */
void hv_rpc_events_emit(const hvDomainRef *dom, int event_id, int event, int detail,
                        unsigned long long value, void *opaque);
void hv_rpc_events_client_gone(hvRpcClient *c);

#endif
