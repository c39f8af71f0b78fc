/*
 * Console input from COM1 for dom0 (hv/common/console_input.c): polled on CPU 0's timer
 * interrupt, queued, announced with VIRQ_CONSOLE, read with console_io(CONSOLEIO_read).
 */
#ifndef HV_CONSOLE_INPUT_H
#define HV_CONSOLE_INPUT_H

#include <klib/compiler.h>

/* Timer interrupt (any CPU; only CPU 0 acts): move received bytes into the queue. */
void console_input_poll(void);

/* Take up to len queued bytes; returns how many (0: none). */
size_t console_input_read(char *buf, size_t len);

#endif
