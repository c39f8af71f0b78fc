/*
 * dom0's console back end (console-back.c): each domU's console ring page served, its output
 * kept in a bounded log the host reads through the link's console channel, the host's input
 * written into the ring. Functions return 0 or a negative Xen errno.
 */
#ifndef GK_DOM0_CONSOLE_BACK_H
#define GK_DOM0_CONSOLE_BACK_H

#include <klib/compiler.h>

/* After a successful build: map domid's console page and bind its port. */
int console_back_attach(uint16_t domid);
/* Before destroy: unmap and close; the log goes too. Unknown domid: nothing. */
void console_back_detach(uint16_t domid);
/* Drains every attached domU's output into its log. */
void console_back_poll(void);
/* Up to max bytes of domid's log the host has not read yet (-ENOENT: no console). */
int console_back_read(uint16_t domid, void *buf, uint32_t max, uint32_t *got);
/* Copies what fits of buf into domid's input ring and notifies it. */
int console_back_write(uint16_t domid, const void *buf, uint32_t len, uint32_t *written);
/* Times a domU's console event woke us. */
extern volatile uint64_t console_back_events;

#endif
