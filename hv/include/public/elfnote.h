/*
 * ELF notes of a paravirtualized kernel image.
 *
 * A PV kernel tells the domain builder how to load it through PT_NOTE entries whose note name
 * is "Xen". Numeric notes are 4 or 8 bytes (the builder reads descsz); string notes are
 * NUL-terminated. The builder refuses an image whose XEN_VERSION does not start with "xen-3.0",
 * and one whose LOADER is not "generic" unless GUEST_OS starts with "linux".
 */
#ifndef __HV_PUBLIC_ELFNOTE_H__
#define __HV_PUBLIC_ELFNOTE_H__

#define XEN_ELFNOTE_INFO               0  /* str: NAME=VALUE, unused */
#define XEN_ELFNOTE_ENTRY              1  /* num: virtual entry point (else e_entry) */
#define XEN_ELFNOTE_HYPERCALL_PAGE     2  /* num: VA of a page the builder fills with stubs */
#define XEN_ELFNOTE_VIRT_BASE          3  /* num: VA at which pseudo-physical 0 is mapped */
#define XEN_ELFNOTE_PADDR_OFFSET       4  /* num: bias subtracted from p_paddr */
#define XEN_ELFNOTE_XEN_VERSION        5  /* str: must start with "xen-3.0" */
#define XEN_ELFNOTE_GUEST_OS           6  /* str: "linux", "XTF", "hvguest", ... */
#define XEN_ELFNOTE_GUEST_VERSION      7  /* str: informational */
#define XEN_ELFNOTE_LOADER             8  /* str: "generic" */
#define XEN_ELFNOTE_PAE_MODE           9  /* str: x86-32 only */
#define XEN_ELFNOTE_FEATURES           10 /* str: '|'-separated XENFEAT names, '!' = required */
#define XEN_ELFNOTE_BSD_SYMTAB         11 /* str: "yes" loads the symbol table after the image */
#define XEN_ELFNOTE_HV_START_LOW       12 /* num: x86-32 only */
#define XEN_ELFNOTE_L1_MFN_VALID       13 /* mask/value pairs recognising L1 entries with MFNs */
#define XEN_ELFNOTE_SUSPEND_CANCEL     14 /* num: cooperative suspend cancel supported */
#define XEN_ELFNOTE_INIT_P2M           15 /* num: VA of a separately mapped initial P2M list */
#define XEN_ELFNOTE_MOD_START_PFN      16 /* num: 1 = initrd may be left unmapped */
#define XEN_ELFNOTE_SUPPORTED_FEATURES 17 /* num: bitmap of extra XENFEAT bits supported */
#define XEN_ELFNOTE_PHYS32_ENTRY       18 /* num: PVH 32-bit entry, ignored for PV */
#define XEN_ELFNOTE_PHYS32_RELOC       19 /* PVH relocation constraints, ignored for PV */
#define XEN_ELFNOTE_MAX                XEN_ELFNOTE_PHYS32_RELOC

/* The note name every one of the notes above carries. */
#define XEN_ELFNOTE_NAME "Xen"

#endif /* __HV_PUBLIC_ELFNOTE_H__ */
