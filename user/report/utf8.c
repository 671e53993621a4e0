// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Strings from a target (process names, paths, Python names) are hostile:
 * JSON must be valid UTF-8, so every byte that does not start a well-formed
 * sequence (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF)
 * becomes U+FFFD. json-c escapes control bytes itself.
 */
#include <stdlib.h>
#include <string.h>
#include "report.h"

/* Length of the well-formed sequence at s, or 0. */
static size_t utf8_sequence_len(const unsigned char *s)
{
	unsigned char c = s[0];
	size_t len, i;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

char *utf8_sanitize(const char *s)
{
	const unsigned char *in = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, len;
	char *out = malloc(n * 3 + 1);	/* each bad byte grows to 3 */

	if (!out)
		return NULL;
	while (in[i]) {
		len = utf8_sequence_len(in + i);
		if (len) {
			memcpy(out + o, in + i, len);
			o += len;
			i += len;
		} else {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	return out;
}
