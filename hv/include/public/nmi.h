/*
 * Virtual NMI registration (hypercall #28, nmi_op(cmd, arg)); equivalent to registering
 * CALLBACKTYPE_nmi. The handler is entered with events masked; further NMIs are held off until
 * the guest's next HYPERVISOR_iret.
 */
#ifndef __HV_PUBLIC_NMI_H__
#define __HV_PUBLIC_NMI_H__

#include "xen.h"

#define _XEN_NMIREASON_io_error 0
#define XEN_NMIREASON_io_error  (1UL << _XEN_NMIREASON_io_error)
#define _XEN_NMIREASON_pci_serr 1
#define XEN_NMIREASON_pci_serr  (1UL << _XEN_NMIREASON_pci_serr)
#define _XEN_NMIREASON_unknown  2
#define XEN_NMIREASON_unknown   (1UL << _XEN_NMIREASON_unknown)

#define XENNMI_register_callback   0 /* struct xennmi_callback */
#define XENNMI_unregister_callback 1 /* NULL */

struct xennmi_callback {
	uint64_t handler_address;
	uint64_t pad;
};

#endif /* __HV_PUBLIC_NMI_H__ */
