// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Strings from a target (process names, paths, Python names) are hostile:
 * JSON must be valid UTF-8, so every byte that does not start a well-formed
 * sequence (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF)
 * becomes U+FFFD. json-c escapes control bytes itself. Text reports go to a
 * terminal: there every control character (C0, DEL, C1) and every byte that
 * is not well-formed UTF-8 is shown escaped, so no escape sequence or line
 * break of the target's reaches the SRE's screen as one.
 */
#include <stdbool.h>
#include <stdio.h>
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

/* C1 controls, U+0080 to U+009F: a terminal acts on them as on C0's */
static bool is_c1_control(const unsigned char *s, size_t len)
{
	return len == 2 && s[0] == 0xc2 && s[1] <= 0x9f;
}

#define SHOWN_BUFFERS 8
#define SHOWN_SIZE 1024

const char *text_shown(const char *s)
{
	static __thread char buffers[SHOWN_BUFFERS][SHOWN_SIZE];
	static __thread unsigned int next;
	const unsigned char *in = (const unsigned char *)(s ? s : "");
	char *out = buffers[next++ % SHOWN_BUFFERS];
	size_t o = 0, len, i;

	while (*in && o + 8 < SHOWN_SIZE) {
		len = utf8_sequence_len(in);
		if (len == 1 && *in >= 0x20 && *in != 0x7f) {
			out[o++] = (char)*in;
		} else if (len > 1 && !is_c1_control(in, len)) {
			memcpy(out + o, in, len);
			o += len;
		} else {
			/* one escape per byte of a bad or control sequence */
			for (i = 0; i < (len ? len : 1); i++)
				o += (size_t)snprintf(out + o, SHOWN_SIZE - o, "\\x%02x", in[i]);
		}
		in += len ? len : 1;
	}
	if (*in)
		memcpy(out + o, "...", 4);
	else
		out[o] = '\0';
	return out;
}
