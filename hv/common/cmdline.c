/*
 * The command line parser (see hv/cmdline.h). The line is copied once into `line`; `words` is
 * a second copy cut in place into NUL-terminated keys and values that the table points into.
 * Both are written only by cmdline_init() on the boot CPU, before any other CPU runs.
 */
#include <hv/lib.h>
#include <hv/cmdline.h>

struct option {
	const char *key;
	const char *value; /* "" for a bare key */
};

static char line[CMDLINE_MAX];
static char words[CMDLINE_MAX];
static struct option options[CMDLINE_MAX_ARGS];
static unsigned int nr_options;

void cmdline_init(const char *cmdline)
{
	char *p = words;

	nr_options = 0;
	strlcpy(line, cmdline ? cmdline : "", sizeof(line));
	strlcpy(words, line, sizeof(words));

	for (;;) {
		char *key, *eq;

		while (isspace(*p))
			p++;
		if (!*p)
			break;
		key = p;
		while (*p && !isspace(*p))
			p++;
		if (*p)
			*p++ = '\0';
		if (nr_options == CMDLINE_MAX_ARGS)
			break;
		eq = strchr(key, '=');
		if (eq == key) /* "=value" has no key: ignore it */
			continue;
		if (eq)
			*eq = '\0';
		options[nr_options].key = key;
		options[nr_options].value = eq ? eq + 1 : "";
		nr_options++;
	}
}

const char *cmdline_raw(void)
{
	return line;
}

const char *cmdline_get(const char *key)
{
	/* Last one wins: search backwards. */
	for (unsigned int i = nr_options; i-- > 0;)
		if (strcmp(options[i].key, key) == 0)
			return options[i].value;
	return NULL;
}

bool cmdline_is(const char *key, const char *value)
{
	const char *v = cmdline_get(key);

	return v && strcmp(v, value) == 0;
}

bool parse_size(const char *s, unsigned long long *bytes)
{
	char *end;
	unsigned long long v, shift = 0;

	if (!s || !isdigit(*s))
		return false;
	v = strtoull(s, &end, 0);
	switch (*end) {
	case 'K':
	case 'k':
		shift = 10;
		end++;
		break;
	case 'M':
	case 'm':
		shift = 20;
		end++;
		break;
	case 'G':
	case 'g':
		shift = 30;
		end++;
		break;
	case 'T':
	case 't':
		shift = 40;
		end++;
		break;
	}
	if (*end != '\0')
		return false;
	if (shift && v > (~0ULL >> shift))
		return false;
	*bytes = v << shift;
	return true;
}
