/*
 * RelaxNG validation of the XML virthvd accepts, with errors a person can act on.
 * Schemas named by a relative name are looked up, in order, in $HV_SCHEMA_DIR, the source tree's
 * xml-schemas/ (so tests run without installing), and $(datadir)/hv/schemas; each is compiled once
 * per process.
 */
#ifndef HV_DAEMON_SCHEMA_H
#define HV_DAEMON_SCHEMA_H

#include <glib.h>
#include <libxml/tree.h>

/* Full path of schema file name (e.g. "domain-hv.rng"), or NULL (with VIR_ERR_INTERNAL_ERROR)
 * when none of the directories has it. */
char *hv_schema_find(const char *name, GError **err);

/*
 * Validates doc against the schema file name. On failure, VIR_ERR_XML_ERROR naming the
 * offending element, e.g. "XML error: element 'foo' is not allowed in <devices>". doc is not
 * changed (it is modified and restored while the culprit is searched for).
 */
int hv_schema_validate(xmlDocPtr doc, const char *name, GError **err);

/*
 * Would libvirt itself accept doc as a domain (with type='xen' in place of type='hv')?
 * Uses libvirt's domain.rng from HV_LIBVIRT_SCHEMA_DIR; FALSE when that is not installed.
 * Lets the parser say "unsupported" rather than "invalid" for real libvirt features.
 */
gboolean hv_schema_libvirt_accepts(xmlDocPtr doc);

#endif
