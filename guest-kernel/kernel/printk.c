/*
 * Kernel console output and panic. printk formats into a line buffer with klib and hands each
 * complete line (or the remainder at the end of a call) to the platform console in one write, so
 * that lines from the kernel are never split by other console users.
 */
#include <kernel.h>
#include <platform.h>
#include <klib/printf.h>
#include <klib/string.h>

int vprintk(const char *fmt, va_list ap)
{
	char buf[512];
	int len = vsnprintf(buf, sizeof(buf), fmt, ap);
	size_t n = strlen(buf);

	if (platform && platform->console_write)
		platform->console_write(buf, n);
	return len;
}

int printk(const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vprintk(fmt, ap);
	va_end(ap);
	return len;
}

__noreturn void panic(const char *fmt, ...)
{
	va_list ap;

	printk("panic: ");
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	printk("\n");
	platform->shutdown(PLATFORM_CRASH);
}
