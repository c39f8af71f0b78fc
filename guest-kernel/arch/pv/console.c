/*
 * Console of the PV platform: the hypervisor console through console_io(CONSOLEIO_write).
 * Always available to the initial domain; a domU on a hypervisor that refuses it loses its
 * output but keeps running (the error is ignored, as Linux and XTF do).
 */
#include "pv.h"

void pv_console_write(const char *s, size_t len)
{
	while (len) {
		unsigned int chunk = len > 1024 ? 1024 : (unsigned int)len;
		long rc = HYPERVISOR_console_io(CONSOLEIO_write, chunk, s);
		if (rc < 0)
			return;
		s += chunk;
		len -= chunk;
	}
}
