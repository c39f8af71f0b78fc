/*
 * Small helpers shared by the domain XML parser and formatters: reading libxml2 trees with
 * numbers and units checked, and writing escaped, indented libvirt-style XML into a GString.
 */
#ifndef HV_DAEMON_XML_UTIL_H
#define HV_DAEMON_XML_UTIL_H

#include <glib.h>
#include <libxml/tree.h>

/* The first child element of node called name (no namespace), or NULL. */
xmlNodePtr hv_xml_child(xmlNodePtr node, const char *name);

/* g_strdup'ed text content of the child element name, or NULL when there is no such child. */
char *hv_xml_child_text(xmlNodePtr node, const char *name);

/* g_strdup'ed attribute value, or NULL. */
char *hv_xml_prop(xmlNodePtr node, const char *name);

/* Decimal unsigned number, the whole string; -1 (and VIR_ERR_XML_ERROR naming what) when not. */
int hv_xml_parse_ull(const char *s, const char *what, unsigned long long *out, GError **err);

/* A <memory unit='...'>N</memory>-style element converted to KiB (rounded up, as libvirt
 * does); the unit defaults to KiB. -1 with VIR_ERR_XML_ERROR on overflow or bad unit. */
int hv_xml_scaled_kib(xmlNodePtr node, unsigned long long *kib, GError **err);

/* Appends s with &, <, >, ' and " escaped, as libvirt's virBufferEscapeString does. */
void hv_xml_escape(GString *buf, const char *s);

/* Appends indent spaces and a printf-formatted line; %s arguments are not escaped, so callers
 * pass escaped text or use hv_xml_line_esc. */
void hv_xml_line(GString *buf, int indent, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

/* <name>escaped text</name> on its own line. */
void hv_xml_text_element(GString *buf, int indent, const char *name, const char *text);

#endif
