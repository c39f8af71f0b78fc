/*
 * An in-process transport for libhvctl's tests: messages the library sends are queued to a
 * thread that hands them to a fake agent (fake_agent.h), whose answers are delivered to the
 * library from that same thread, as a real transport's receive thread would.
 */
#ifndef HV_TESTS_LOOPBACK_H
#define HV_TESTS_LOOPBACK_H

#include "fake_agent.h"
#include "transport.h"

/* A transport over agent a; max_payload bounds every channel (both directions). */
struct hvctl_transport *loopback_new(struct fake_agent *a, uint32_t max_payload);

/* Reports a link state change to the library (from the loopback's thread, in order, after
 * what was queued before) and returns once it has been delivered. */
void loopback_set_state(struct hvctl_transport *t, int up, int code, const char *message);

#endif
