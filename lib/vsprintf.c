/*
 * vsprintf.c — formatted output into a buffer.
 *
 * Supports the subset the kernel uses: flags '-', '0', '+', ' ', '#'; a width
 * and precision (numbers or '*'); length modifiers hh h l ll z t j; conversions
 * d i u x X o c s p %. "%p" prints 0x and 16 hex digits. Output is always
 * NUL-terminated when size > 0; the return value is the length that would have
 * been written, as in C99. Unknown conversions are printed literally.
 */
#include <grace/printk.h>
#include <grace/string.h>

struct out {
	char *buf;
	size_t size, pos;
};

static void put(struct out *o, char c)
{
	if (o->pos + 1 < o->size)
		o->buf[o->pos] = c;
	o->pos++;
}

static void put_padding(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

enum { F_LEFT = 1, F_ZERO = 2, F_PLUS = 4, F_SPACE = 8, F_ALT = 16 };

static void put_number(struct out *o, unsigned long long v, bool neg, unsigned base,
		       bool upper, int flags, int width, int prec)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;
	char sign = 0;
	const char *prefix = "";

	if (neg)
		sign = '-';
	else if (flags & F_PLUS)
		sign = '+';
	else if (flags & F_SPACE)
		sign = ' ';
	if ((flags & F_ALT) && v && base == 16)
		prefix = upper ? "0X" : "0x";
	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	if (prec == 0 && n == 1 && tmp[0] == '0')
		n = 0;

	int zeros = prec > n ? prec - n : 0;

	/* '#' with octal: raise the precision just enough that a 0 leads (C11 7.21.6.1). */
	if ((flags & F_ALT) && base == 8 && zeros == 0 && (n == 0 || tmp[n - 1] != '0'))
		zeros = 1;
	int len = n + zeros + (sign ? 1 : 0) + (int)strlen(prefix);

	if (prec < 0 && (flags & F_ZERO) && !(flags & F_LEFT) && width > len) {
		zeros += width - len;
		len = width;
	}
	if (!(flags & F_LEFT))
		put_padding(o, ' ', width - len);
	if (sign)
		put(o, sign);
	for (const char *p = prefix; *p; p++)
		put(o, *p);
	put_padding(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (flags & F_LEFT)
		put_padding(o, ' ', width - len);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		const char *start = fmt++;
		int flags = 0, width = 0, prec = -1, lng = 0;

		for (;; fmt++) {
			if (*fmt == '-') flags |= F_LEFT;
			else if (*fmt == '0') flags |= F_ZERO;
			else if (*fmt == '+') flags |= F_PLUS;
			else if (*fmt == ' ') flags |= F_SPACE;
			else if (*fmt == '#') flags |= F_ALT;
			else break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= F_LEFT;
				width = -width;
			}
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9')
				width = width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9')
					prec = prec * 10 + (*fmt++ - '0');
			}
		}
		/* lng: -2 hh, -1 h, 0 int, 1 long, 2 long long */
		if (*fmt == 'h') {
			lng = -1;
			if (*++fmt == 'h') { lng = -2; fmt++; }
		} else if (*fmt == 'l') {
			lng = 1;
			if (*++fmt == 'l') { lng = 2; fmt++; }
		} else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j') {
			lng = 1;
			fmt++;
		}

		unsigned long long u;
		long long s;

		switch (*fmt) {
		case 'd':
		case 'i':
			if (lng == 2) s = va_arg(ap, long long);
			else if (lng == 1) s = va_arg(ap, long);
			else s = va_arg(ap, int);
			if (lng == -1) s = (short)s;
			if (lng == -2) s = (signed char)s;
			u = s < 0 ? -(unsigned long long)s : (unsigned long long)s;
			put_number(&o, u, s < 0, 10, false, flags, width, prec);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			if (lng == 2) u = va_arg(ap, unsigned long long);
			else if (lng == 1) u = va_arg(ap, unsigned long);
			else u = va_arg(ap, unsigned int);
			if (lng == -1) u = (unsigned short)u;
			if (lng == -2) u = (unsigned char)u;
			put_number(&o, u, false, *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16,
				   *fmt == 'X', flags & ~(F_PLUS | F_SPACE), width, prec);
			break;
		case 'p':
			u = (unsigned long long)(unsigned long)va_arg(ap, void *);
			put(&o, '0');
			put(&o, 'x');
			put_number(&o, u, false, 16, false, F_ZERO, 16, -1);
			break;
		case 'c':
			if (!(flags & F_LEFT)) put_padding(&o, ' ', width - 1);
			put(&o, (char)va_arg(ap, int));
			if (flags & F_LEFT) put_padding(&o, ' ', width - 1);
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			int len = (int)strnlen(str, prec < 0 ? (size_t)-1 : (size_t)prec);
			if (!(flags & F_LEFT)) put_padding(&o, ' ', width - len);
			for (int i = 0; i < len; i++)
				put(&o, str[i]);
			if (flags & F_LEFT) put_padding(&o, ' ', width - len);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		default:
			/* Unknown conversion: print it as written. */
			for (const char *p = start; p <= fmt && *p; p++)
				put(&o, *p);
			if (!*fmt)
				fmt--;
			break;
		}
	}
	if (size)
		buf[o.pos < size ? o.pos : size - 1] = '\0';
	return (int)o.pos;
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
