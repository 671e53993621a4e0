// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The text of a warning's str objects (user/cpython/warn_funnel.c), as the
 * probe copied them from the target: any bytes, cut anywhere. The first byte
 * of the input chooses the version whose layout reads them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "warn_funnel.h"

static struct warn_funnel funnel;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned int minors[] = { 9, 10, 11, 12, 13, 14, 15 };
	char why[128], out[WARN_OBJ_BYTES * 4 + 1];
	bool cut;

	if (size < 1)
		return 0;
	if (cpython_layout_build(minors[data[0] % 7], NULL, 0, &funnel.layout, why, sizeof(why)))
		return 0;
	data++, size--;
	if (size > WARN_OBJ_BYTES)
		size = WARN_OBJ_BYTES;
	if (!warn_funnel_text(&funnel, data, size, out, sizeof(out), &cut) &&
	    strnlen(out, sizeof(out)) == sizeof(out))
		abort();
	return 0;
}
