/*
 * COM1 (the 16550 UART at I/O port 0x3f8), 115200 8N1, polled: hv's console device. Output
 * waits for the transmit holding register to empty before each byte, so nothing is lost and no
 * interrupt is needed. '\n' is sent as "\r\n".
 */
#include <hv/lib.h>
#include <hv/arch.h>
#include <hv/spinlock.h>
#include <asm/processor.h>

#define COM1      0x3f8
#define UART_THR  0 /* transmit holding register (DLAB=0) */
#define UART_DLL  0 /* divisor latch low (DLAB=1) */
#define UART_IER  1
#define UART_DLM  1 /* divisor latch high (DLAB=1) */
#define UART_FCR  2
#define UART_LCR  3
#define UART_MCR  4
#define UART_LSR  5
#define LSR_THRE  0x20
#define BAUD_BASE 115200

void arch_console_init(void)
{
	unsigned int divisor = BAUD_BASE / 115200;

	outb(COM1 + UART_IER, 0);    /* no interrupts */
	outb(COM1 + UART_LCR, 0x80); /* DLAB on */
	outb(COM1 + UART_DLL, divisor & 0xff);
	outb(COM1 + UART_DLM, divisor >> 8);
	outb(COM1 + UART_LCR, 0x03); /* 8N1, DLAB off */
	outb(COM1 + UART_FCR, 0x07); /* FIFOs on and cleared */
	outb(COM1 + UART_MCR, 0x03); /* DTR, RTS */
}

static void serial_putc(char c)
{
	/* Bounded wait: a missing UART must not hang hv. */
	for (unsigned int i = 0; i < 100000 && !(inb(COM1 + UART_LSR) & LSR_THRE); i++)
		cpu_relax();
	outb(COM1 + UART_THR, (uint8_t)c);
}

void arch_console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
	}
}
