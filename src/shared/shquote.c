/* SPDX-License-Identifier: MIT */
#include "shared/shquote.h"

#include <stdbool.h>
#include <string.h>

#define PLAIN                                                                                      \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"                                     \
	"0123456789_@%+=:,./-"

static bool is_plain(const char *s)
{
	return *s && strspn(s, PLAIN) == strlen(s);
}

static char printable(char ch)
{
	return (unsigned char)ch < 0x20 || ch == 0x7f ? '?' : ch;
}

const char *lj_shell_quote(const char *s, char *buf, size_t size)
{
	static const char too_long[] = "'<too-long>'";
	size_t n = 0;

	if (is_plain(s))
		return s;
	if (size < sizeof(too_long))
		return too_long;
	buf[n++] = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			if (n + 4 + 2 > size)
				return too_long;
			memcpy(buf + n, "'\\''", 4);
			n += 4;
			continue;
		}
		if (n + 1 + 2 > size)
			return too_long;
		buf[n++] = printable(*s);
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return buf;
}

void lj_shell_word(FILE *f, const char *s)
{
	if (is_plain(s)) {
		fputs(s, f);
		return;
	}
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(printable(*s), f);
	}
	fputc('\'', f);
}

const char *lj_shell_comment(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	if (!size)
		return "";
	for (; *s && n + 1 < size; s++)
		buf[n++] = printable(*s);
	buf[n] = '\0';
	return buf;
}
