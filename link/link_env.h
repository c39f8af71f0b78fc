/*
 * The only environment the link code needs: fixed-width integers, bool, and memcpy/memset.
 * Hosted builds take them from libc; freestanding builds (guest-kernel's dom0 agent, defined
 * HVLINK_FREESTANDING) from klib, whose functions have the ISO C names and meaning. Nothing
 * else from either library may be used by the files in link/.
 */
#ifndef HVLINK_LINK_ENV_H
#define HVLINK_LINK_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef HVLINK_FREESTANDING
#include <klib/string.h>
#else
#include <string.h>
#endif

#define link_memcpy memcpy
#define link_memset memset

/* Shared-memory accesses: one untorn load/store each, ordered as named. */
#define link_load_acquire(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define link_load_relaxed(p)     __atomic_load_n((p), __ATOMIC_RELAXED)
#define link_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define link_store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
/* Full barrier: orders our store of an index before our load of the peer's event index. */
#define link_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

#endif
