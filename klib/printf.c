/*
 * klib vsnprintf/snprintf (see klib/printf.h). One pass over the format; every character goes
 * through emit(), which counts it and stores it only while there is room, so the return value
 * is the length the output would have had without truncation, as in ISO C.
 */
#include <klib/printf.h>
#include <klib/string.h>

struct out {
	char *buf;
	size_t size; /* capacity including the terminating NUL */
	size_t len;  /* characters produced so far (may exceed size) */
};

static void emit(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void emit_repeat(struct out *o, char c, int n)
{
	while (n-- > 0)
		emit(o, c);
}

enum {
	F_LEFT = 1,  /* '-' */
	F_ZERO = 2,  /* '0' */
	F_PLUS = 4,  /* '+' */
	F_SPACE = 8, /* ' ' */
	F_ALT = 16,  /* '#' */
};

struct spec {
	int flags;
	int width;     /* -1: none */
	int precision; /* -1: none */
};

static void emit_string(struct out *o, const char *s, const struct spec *sp)
{
	size_t len;
	int pad;

	if (!s)
		s = "(null)";
	len = sp->precision >= 0 ? strnlen(s, (size_t)sp->precision) : strlen(s);
	pad = sp->width > (int)len ? sp->width - (int)len : 0;
	if (!(sp->flags & F_LEFT))
		emit_repeat(o, ' ', pad);
	for (size_t i = 0; i < len; i++)
		emit(o, s[i]);
	if (sp->flags & F_LEFT)
		emit_repeat(o, ' ', pad);
}

/*
 * Prints @value (magnitude) with an optional sign character and prefix ("0x", "0"), honouring
 * width, precision (minimum digits) and the - and 0 flags. The 0 flag is ignored when a
 * precision is given or when left-justifying, as ISO C says.
 */
static void emit_number(struct out *o, unsigned long long value, unsigned base, bool upper,
                        char sign, const char *prefix, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, zeros, pad, plen = (int)strlen(prefix);

	while (value) {
		tmp[n++] = digits[value % base];
		value /= base;
	}
	/* Precision 0 with value 0 prints no digits at all. */
	if (n == 0 && sp->precision != 0)
		tmp[n++] = '0';
	/* %#o: the leading 0 counts as a digit. */
	if (base == 8 && plen && n > 0 && tmp[n - 1] == '0')
		plen = 0, prefix = "";
	zeros = sp->precision > n ? sp->precision - n : 0;
	pad = sp->width - (n + zeros + plen + (sign ? 1 : 0));
	if (pad < 0)
		pad = 0;
	if ((sp->flags & F_ZERO) && !(sp->flags & F_LEFT) && sp->precision < 0) {
		zeros += pad;
		pad = 0;
	}
	if (!(sp->flags & F_LEFT))
		emit_repeat(o, ' ', pad);
	if (sign)
		emit(o, sign);
	while (*prefix)
		emit(o, *prefix++);
	emit_repeat(o, '0', zeros);
	while (n)
		emit(o, tmp[--n]);
	if (sp->flags & F_LEFT)
		emit_repeat(o, ' ', pad);
}

enum length { L_INT, L_CHAR, L_SHORT, L_LONG, L_LLONG, L_SIZE };

static unsigned long long fetch_unsigned(va_list *ap, enum length len)
{
	switch (len) {
	case L_CHAR:
		return (unsigned char)va_arg(*ap, unsigned int);
	case L_SHORT:
		return (unsigned short)va_arg(*ap, unsigned int);
	case L_LONG:
		return va_arg(*ap, unsigned long);
	case L_LLONG:
		return va_arg(*ap, unsigned long long);
	case L_SIZE:
		return va_arg(*ap, size_t);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static long long fetch_signed(va_list *ap, enum length len)
{
	switch (len) {
	case L_CHAR:
		return (signed char)va_arg(*ap, int);
	case L_SHORT:
		return (short)va_arg(*ap, int);
	case L_LONG:
		return va_arg(*ap, long);
	case L_LLONG:
		return va_arg(*ap, long long);
	case L_SIZE:
		return va_arg(*ap, long); /* ssize_t / ptrdiff_t */
	default:
		return va_arg(*ap, int);
	}
}

/* Parses a decimal field or '*'; returns the new position. */
static const char *parse_field(const char *f, int *value, va_list *ap)
{
	if (*f == '*') {
		*value = va_arg(*ap, int);
		return f + 1;
	}
	*value = 0;
	while (isdigit(*f))
		*value = *value * 10 + (*f++ - '0');
	return f;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct out o = {buf, size, 0};
	va_list ap;

	va_copy(ap, ap_in);
	for (const char *f = fmt; *f; f++) {
		struct spec sp = {0, -1, -1};
		enum length len = L_INT;

		if (*f != '%') {
			emit(&o, *f);
			continue;
		}
		f++;
		for (;; f++) {
			if (*f == '-')
				sp.flags |= F_LEFT;
			else if (*f == '0')
				sp.flags |= F_ZERO;
			else if (*f == '+')
				sp.flags |= F_PLUS;
			else if (*f == ' ')
				sp.flags |= F_SPACE;
			else if (*f == '#')
				sp.flags |= F_ALT;
			else
				break;
		}
		if (isdigit(*f) || *f == '*') {
			f = parse_field(f, &sp.width, &ap);
			if (sp.width < 0) { /* a negative '*' width means left-justify */
				sp.flags |= F_LEFT;
				sp.width = -sp.width;
			}
		}
		if (*f == '.') {
			f = parse_field(f + 1, &sp.precision, &ap);
			if (sp.precision < 0)
				sp.precision = -1;
		}
		if (*f == 'h') {
			len = f[1] == 'h' ? (f++, L_CHAR) : L_SHORT;
			f++;
		} else if (*f == 'l') {
			len = f[1] == 'l' ? (f++, L_LLONG) : L_LONG;
			f++;
		} else if (*f == 'z' || *f == 't' || *f == 'j') {
			len = *f == 'j' ? L_LLONG : L_SIZE;
			f++;
		}

		switch (*f) {
		case 'd':
		case 'i': {
			long long v = fetch_signed(&ap, len);
			unsigned long long mag =
			    v < 0 ? -(unsigned long long)v : (unsigned long long)v;
			char sign = v < 0                  ? '-'
			            : (sp.flags & F_PLUS)  ? '+'
			            : (sp.flags & F_SPACE) ? ' '
			                                   : 0;
			emit_number(&o, mag, 10, false, sign, "", &sp);
			break;
		}
		case 'u':
			emit_number(&o, fetch_unsigned(&ap, len), 10, false, 0, "", &sp);
			break;
		case 'o':
			emit_number(&o, fetch_unsigned(&ap, len), 8, false, 0,
			            (sp.flags & F_ALT) ? "0" : "", &sp);
			break;
		case 'x':
		case 'X': {
			unsigned long long v = fetch_unsigned(&ap, len);
			const char *prefix =
			    (sp.flags & F_ALT) && v ? (*f == 'x' ? "0x" : "0X") : "";
			emit_number(&o, v, 16, *f == 'X', 0, prefix, &sp);
			break;
		}
		case 'p': {
			unsigned long long v = (unsigned long)va_arg(ap, void *);
			emit_number(&o, v, 16, false, 0, "0x", &sp);
			break;
		}
		case 's':
			emit_string(&o, va_arg(ap, const char *), &sp);
			break;
		case 'c': {
			char c[2] = {(char)va_arg(ap, int), 0};
			struct spec cs = sp;
			cs.precision = -1;
			if (c[0] == 0) { /* a NUL character still counts as output */
				if (!(sp.flags & F_LEFT))
					emit_repeat(&o, ' ', sp.width - 1);
				emit(&o, 0);
				if (sp.flags & F_LEFT)
					emit_repeat(&o, ' ', sp.width - 1);
			} else {
				emit_string(&o, c, &cs);
			}
			break;
		}
		case '%':
			emit(&o, '%');
			break;
		case '\0': /* a lone '%' at the end */
			f--;
			break;
		default: /* unknown conversion: print it verbatim so the mistake is visible */
			emit(&o, '%');
			emit(&o, *f);
			break;
		}
	}
	va_end(ap);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
