/*
 * Helpers for reading libxml2 trees and writing libvirt-style XML (see xml_util.h).
 * Numbers are checked strictly (whole string, no sign, no overflow) because the schema's
 * patterns only bound their shape, not their size.
 */
#include "xml/xml_util.h"

#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

xmlNodePtr hv_xml_child(xmlNodePtr node, const char *name)
{
	for (xmlNodePtr c = node ? node->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && c->ns == NULL &&
		    strcmp((const char *)c->name, name) == 0)
			return c;
	return NULL;
}

char *hv_xml_child_text(xmlNodePtr node, const char *name)
{
	xmlNodePtr c = hv_xml_child(node, name);
	xmlChar *content;
	char *s;

	if (!c)
		return NULL;
	content = xmlNodeGetContent(c);
	s = g_strdup(content ? (const char *)content : "");
	xmlFree(content);
	return s;
}

char *hv_xml_prop(xmlNodePtr node, const char *name)
{
	xmlChar *v = xmlGetNoNsProp(node, (const xmlChar *)name);
	char *s;

	if (!v)
		return NULL;
	s = g_strdup((const char *)v);
	xmlFree(v);
	return s;
}

int hv_xml_parse_ull(const char *s, const char *what, unsigned long long *out, GError **err)
{
	char *end = NULL;
	unsigned long long v;

	if (!s || !g_ascii_isdigit(s[0]))
		return hv_error_set(err, VIR_ERR_XML_ERROR, "invalid value '%s' for %s", s ? s : "",
		                    what);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return hv_error_set(err, VIR_ERR_XML_ERROR, "invalid value '%s' for %s", s, what);
	*out = v;
	return 0;
}

/* Bytes per unit for libvirt's unit names: b/bytes, k/KiB (1024), KB (1000), ... */
static int unit_scale(const char *unit, unsigned long long *bytes)
{
	static const char prefixes[] = "kmgtpe";
	const char *p;
	unsigned long long base;
	size_t len = strlen(unit);

	if (g_ascii_strcasecmp(unit, "b") == 0 || g_ascii_strcasecmp(unit, "byte") == 0 ||
	    g_ascii_strcasecmp(unit, "bytes") == 0) {
		*bytes = 1;
		return 0;
	}
	p = strchr(prefixes, g_ascii_tolower(unit[0]));
	if (!unit[0] || !p || len > 3)
		return -1;
	if (len == 1 ||
	    (len == 3 && g_ascii_tolower(unit[1]) == 'i' && g_ascii_tolower(unit[2]) == 'b'))
		base = 1024;
	else if (len == 2 && g_ascii_tolower(unit[1]) == 'b')
		base = 1000;
	else
		return -1;
	*bytes = 1;
	for (const char *q = prefixes; q <= p; q++)
		*bytes *= base;
	return 0;
}

int hv_xml_scaled_kib(xmlNodePtr node, unsigned long long *kib, GError **err)
{
	g_autofree char *unit = hv_xml_prop(node, "unit");
	xmlChar *content = xmlNodeGetContent(node);
	g_autofree char *text = g_strdup(content ? (const char *)content : "");
	const char *name = (const char *)node->name;
	unsigned long long value, scale = 1024;
	unsigned __int128 bytes;

	xmlFree(content);
	if (unit && unit_scale(unit, &scale) < 0)
		return hv_error_set(err, VIR_ERR_XML_ERROR, "unknown unit '%s' in <%s>", unit,
		                    name);
	if (hv_xml_parse_ull(g_strstrip(text), name, &value, err) < 0)
		return -1;
	bytes = (unsigned __int128)value * scale;
	if ((bytes + 1023) / 1024 > G_MAXUINT64)
		goto overflow;
	*kib = (unsigned long long)((bytes + 1023) / 1024);
	return 0;
overflow:
	return hv_error_set(err, VIR_ERR_XML_ERROR, "value of <%s> is too large", name);
}

void hv_xml_escape(GString *buf, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&':
			g_string_append(buf, "&amp;");
			break;
		case '<':
			g_string_append(buf, "&lt;");
			break;
		case '>':
			g_string_append(buf, "&gt;");
			break;
		case '\'':
			g_string_append(buf, "&apos;");
			break;
		case '"':
			g_string_append(buf, "&quot;");
			break;
		default:
			g_string_append_c(buf, *s);
		}
	}
}

void hv_xml_line(GString *buf, int indent, const char *fmt, ...)
{
	va_list ap;

	g_string_append_printf(buf, "%*s", indent, "");
	va_start(ap, fmt);
	g_string_append_vprintf(buf, fmt, ap);
	va_end(ap);
	g_string_append_c(buf, '\n');
}

void hv_xml_text_element(GString *buf, int indent, const char *name, const char *text)
{
	g_string_append_printf(buf, "%*s<%s>", indent, "", name);
	hv_xml_escape(buf, text);
	g_string_append_printf(buf, "</%s>\n", name);
}
