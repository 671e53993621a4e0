// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * The x86-64 decoder (user/sys/x86_code.c) on any bytes: a function's first
 * bytes come from the target's files. The first two bytes of the input
 * choose fut_state's offset in the Task object, the rest is the code; the
 * search for warn_explicit's call site in a stripped build runs on it too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "x86_code.h"

#define CODE_ADDR 0x401000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t site;
	uint16_t state_offset;
	char text[48];

	if (size < sizeof(state_offset))
		return 0;
	memcpy(&state_offset, data, sizeof(state_offset));
	data += sizeof(state_offset), size -= sizeof(state_offset);

	/* the entry site is an instruction boundary within the bytes given */
	if (!x86_entry_probe_site(data, size, CODE_ADDR, &site) &&
	    (site < CODE_ADDR || site > CODE_ADDR + size))
		abort();
	if (!x86_instruction_text(data, size, CODE_ADDR, text, sizeof(text)) &&
	    strnlen(text, sizeof(text)) == sizeof(text))
		abort();
	task_finalize_pending_site(data, size, CODE_ADDR, state_offset, &site);
	/* the callee found in a stripped build's caller of warn_explicit */
	x86_stack_argument_call(data, size, CODE_ADDR, &site);
	return 0;
}
