// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Decoding a target's machine code: the instruction under a probe, and the
 * pending path of Task's finalizer. The byte
 * sequences are small functions assembled for these tests, in the shapes
 * the compilers gave CPython 3.9-3.13 (pyenv's builds, Debian's python3.11),
 * and in shapes that must be refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "x86_code.h"

#define BASE 0x7000u
#define STATE 0x58u

static int site_of(const uint8_t *code, size_t len, uint32_t state_offset, uint64_t *site)
{
	*site = 0;
	return task_finalize_pending_site(code, len, BASE, state_offset, site);
}

/* mov 0x58(%rdi),%ecx; test %ecx,%ecx; jne done; <pending path>: pyenv's 3.9-3.12 */
static void test_inline_pending_path_is_the_fall_through(void **state)
{
	static const uint8_t code[] = {
		0x41, 0x55,			/* push %r13 */
		0x53,				/* push %rbx */
		0x48, 0x89, 0xfb,		/* mov %rdi,%rbx */
		0x48, 0x83, 0xec, 0x28,		/* sub $0x28,%rsp */
		0x8b, 0x4f, 0x58,		/* mov 0x58(%rdi),%ecx */
		0x85, 0xc9,			/* test %ecx,%ecx */
		0x75, 0x06,			/* jne +6 */
		0x8b, 0x97, 0xa4, 0, 0, 0,	/* mov 0xa4(%rdi),%edx: the pending path */
		0xc3,
	};
	uint64_t site;

	assert_int_equal(site_of(code, sizeof(code), STATE, &site), 0);
	assert_int_equal(site, BASE + 0x11);
}

/* test %edx,%edx; je <.cold>: Debian's python3.11 (PGO moved the path away) */
static void test_pending_path_in_a_cold_section_is_the_jump_target(void **state)
{
	static const uint8_t code[] = {
		0x53,				/* push %rbx */
		0x8b, 0x57, 0x58,		/* mov 0x58(%rdi),%edx */
		0x85, 0xd2,			/* test %edx,%edx */
		0x0f, 0x84, 0xf4, 0x0f, 0, 0,	/* je +0x1000 from the start */
		0xc3,
	};
	uint64_t site;

	assert_int_equal(site_of(code, sizeof(code), STATE, &site), 0);
	assert_int_equal(site, BASE + 0x1000);
}

/* 3.13: state and log_destroy_pending in one word, masked and compared at once */
static void test_masked_state_word_compared_to_pending(void **state)
{
	static const uint8_t code[] = {
		0x48, 0xb8, 0xff, 0xff, 0xff, 0xff, 0x08, 0, 0, 0,	/* movabs $0x8ffffffff,%rax */
		0x41, 0x56,						/* push %r14 */
		0x48, 0xba, 0, 0, 0, 0, 0x08, 0, 0, 0,			/* movabs $0x800000000,%rdx */
		0x48, 0x23, 0x47, 0x60,					/* and 0x60(%rdi),%rax */
		0x48, 0x89, 0xfb,					/* mov %rdi,%rbx */
		0x48, 0x39, 0xd0,					/* cmp %rdx,%rax */
		0x74, 0x2e,						/* je +0x50 from the start */
		0xc3,
	};
	uint64_t site;

	assert_int_equal(site_of(code, sizeof(code), 0x60, &site), 0);
	assert_int_equal(site, BASE + 0x50);
	assert_int_equal(site_of(code, sizeof(code), STATE, &site), -ENOENT);
}

static void test_state_compared_in_memory_with_zero(void **state)
{
	static const uint8_t code[] = {
		0x83, 0x7f, 0x58, 0x00,	/* cmpl $0x0,0x58(%rdi) */
		0x74, 0x3a,		/* je +0x40 from the start */
		0xc3,
	};
	uint64_t site;

	assert_int_equal(site_of(code, sizeof(code), STATE, &site), 0);
	assert_int_equal(site, BASE + 0x40);
}

/* The task pointer must still be in rdi at the site: the BPF program reads it there. */
static void test_refused_when_rdi_is_overwritten(void **state)
{
	static const uint8_t code[] = {
		0x8b, 0x4f, 0x58,	/* mov 0x58(%rdi),%ecx */
		0x48, 0x89, 0xf7,	/* mov %rsi,%rdi */
		0x85, 0xc9,		/* test %ecx,%ecx */
		0x75, 0x01,		/* jne */
		0xc3, 0xc3,
	};
	uint64_t site;

	assert_int_equal(site_of(code, sizeof(code), STATE, &site), -ENOENT);
}

/* A branch on "finished" (2) is not a branch on pending. */
static void test_refused_when_compared_with_another_state(void **state)
{
	static const uint8_t code[] = {
		0x8b, 0x4f, 0x58,	/* mov 0x58(%rdi),%ecx */
		0x83, 0xf9, 0x02,	/* cmp $0x2,%ecx */
		0x74, 0x38,		/* je */
		0xc3,
	};
	uint64_t site;

	assert_int_equal(site_of(code, sizeof(code), STATE, &site), -ENOENT);
}

static void test_refused_when_a_call_comes_first(void **state)
{
	static const uint8_t code[] = {
		0xe8, 0xfb, 0x00, 0x00, 0x00,	/* call */
		0x8b, 0x4f, 0x58,		/* mov 0x58(%rdi),%ecx */
		0x85, 0xc9,			/* test %ecx,%ecx */
		0x75, 0x00,			/* jne */
		0xc3,
	};
	uint64_t site;

	assert_int_equal(site_of(code, sizeof(code), STATE, &site), -ENOENT);
}

/* A mask without the 32 state bits says nothing of the state. */
static void test_refused_when_the_mask_drops_state_bits(void **state)
{
	static const uint8_t code[] = {
		0x48, 0xb8, 0, 0, 0, 0, 0x08, 0, 0, 0,	/* movabs $0x800000000,%rax */
		0x48, 0x23, 0x47, 0x60,			/* and 0x60(%rdi),%rax */
		0x48, 0xba, 0, 0, 0, 0, 0x08, 0, 0, 0,	/* movabs $0x800000000,%rdx */
		0x48, 0x39, 0xd0,			/* cmp %rdx,%rax */
		0x74, 0x33,				/* je */
		0xc3,
	};
	uint64_t site;

	assert_int_equal(site_of(code, sizeof(code), 0x60, &site), -ENOENT);
}

static void test_refused_when_the_comparand_is_not_pending(void **state)
{
	static const uint8_t code[] = {
		0x48, 0xb8, 0xff, 0xff, 0xff, 0xff, 0x08, 0, 0, 0,	/* movabs $0x8ffffffff,%rax */
		0x48, 0xba, 0x02, 0, 0, 0, 0x08, 0, 0, 0,		/* movabs $0x800000002,%rdx */
		0x48, 0x23, 0x47, 0x60,					/* and 0x60(%rdi),%rax */
		0x48, 0x39, 0xd0,					/* cmp %rdx,%rax */
		0x74, 0x33,						/* je */
		0xc3,
	};
	uint64_t site;

	assert_int_equal(site_of(code, sizeof(code), 0x60, &site), -ENOENT);
}

static void test_refused_when_another_register_is_tested(void **state)
{
	static const uint8_t code[] = {
		0x8b, 0x4f, 0x58,	/* mov 0x58(%rdi),%ecx */
		0x85, 0xd2,		/* test %edx,%edx */
		0x75, 0x00,		/* jne */
		0xc3,
	};
	uint64_t site;

	assert_int_equal(site_of(code, sizeof(code), STATE, &site), -ENOENT);
}

static void test_refused_when_the_loaded_state_is_overwritten(void **state)
{
	static const uint8_t code[] = {
		0x8b, 0x4f, 0x58,		/* mov 0x58(%rdi),%ecx */
		0xb9, 0x01, 0x00, 0x00, 0x00,	/* mov $0x1,%ecx */
		0x85, 0xc9,			/* test %ecx,%ecx */
		0x75, 0x00,			/* jne */
		0xc3,
	};
	uint64_t site;

	assert_int_equal(site_of(code, sizeof(code), STATE, &site), -ENOENT);
}

/* Another offset than the state's, cut-off code, no code at all. */
static void test_refused_without_the_state_read_or_the_branch(void **state)
{
	static const uint8_t code[] = {
		0x8b, 0x4f, 0x58,	/* mov 0x58(%rdi),%ecx */
		0x85, 0xc9,		/* test %ecx,%ecx */
		0x75, 0x06,		/* jne */
	};
	uint64_t site;

	assert_int_equal(site_of(code, sizeof(code), 0x50, &site), -ENOENT);
	assert_int_equal(site_of(code, sizeof(code) - 2, STATE, &site), -ENOENT);
	assert_int_equal(site_of(code, 0, STATE, &site), -ENOENT);
	assert_int_equal(site_of(code, sizeof(code), STATE, &site), 0);
	assert_int_equal(site, BASE + sizeof(code));
}

static void test_instruction_text_names_what_a_probe_traps_on(void **state)
{
	static const uint8_t push_r15[] = { 0x41, 0x57, 0x41, 0x56 };
	static const uint8_t cmp_state[] = { 0x83, 0xbf, 0xa4, 0, 0, 0, 0x00 };
	char text[48];

	assert_int_equal(x86_instruction_text(push_r15, sizeof(push_r15), BASE, text, sizeof(text)), 0);
	assert_string_equal(text, "push r15");
	assert_int_equal(x86_instruction_text(cmp_state, sizeof(cmp_state), BASE, text, sizeof(text)),
			 0);
	assert_string_equal(text, "cmp dword ptr [rdi + 0xa4], 0");
}

/* Debian's 3.14 Task init: endbr64; push r15 */
static void test_an_entry_probe_goes_past_endbr64_to_a_push(void **state)
{
	static const uint8_t cet_push[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x41, 0x57, 0x41, 0x56 };
	static const uint8_t push_r15[] = { 0x41, 0x57, 0x41, 0x56 };
	uint64_t site;

	assert_int_equal(x86_entry_probe_site(cet_push, sizeof(cet_push), BASE, &site), 0);
	assert_int_equal(site, BASE + 4);
	assert_int_equal(x86_entry_probe_site(push_r15, sizeof(push_r15), BASE, &site), 0);
	assert_int_equal(site, BASE);
}

/* Debian's 3.14 TaskObj_dealloc: endbr64; sub rsp, 0x18; mov [rsp+8], rbx; mov rbx, rdi; call */
static void test_an_entry_probe_goes_on_to_a_call_that_keeps_the_arguments(void **state)
{
	static const uint8_t dealloc[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83, 0xec, 0x18,
					   0x48, 0x89, 0x5c, 0x24, 0x08, 0x48, 0x89, 0xfb,
					   0xe8, 0x00, 0x01, 0x00, 0x00 };
	uint64_t site;

	assert_int_equal(x86_entry_probe_site(dealloc, sizeof(dealloc), BASE, &site), 0);
	assert_int_equal(site, BASE + 16);
}

/* Never past what changes rdi or rsi, nor past a branch: then the entry, past endbr64 */
static void test_an_entry_probe_stops_where_the_arguments_change(void **state)
{
	static const uint8_t moves_rdi[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x89, 0xdf,	/* mov rdi, rbx */
					     0x41, 0x57 };
	static const uint8_t moves_esi[] = { 0x31, 0xf6, 0x41, 0x57 };	/* xor esi, esi */
	static const uint8_t branches[] = { 0x48, 0x85, 0xff, 0x74, 0x02, 0x41, 0x57 };	/* test; je */
	static const uint8_t no_push[] = { 0xf3, 0x0f, 0x1e, 0xfa, 0x48, 0x83, 0xec, 0x18 };
	static const uint8_t garbage[] = { 0x06 };
	uint64_t site;

	assert_int_equal(x86_entry_probe_site(moves_rdi, sizeof(moves_rdi), BASE, &site), 0);
	assert_int_equal(site, BASE + 4);
	assert_int_equal(x86_entry_probe_site(moves_esi, sizeof(moves_esi), BASE, &site), 0);
	assert_int_equal(site, BASE);
	assert_int_equal(x86_entry_probe_site(branches, sizeof(branches), BASE, &site), 0);
	assert_int_equal(site, BASE);
	assert_int_equal(x86_entry_probe_site(no_push, sizeof(no_push), BASE, &site), 0);
	assert_int_equal(site, BASE + 4);
	assert_int_equal(x86_entry_probe_site(garbage, sizeof(garbage), BASE, &site), -ENOENT);
}

static void test_instruction_text_of_bad_or_short_code(void **state)
{
	static const uint8_t push_es[] = { 0x06 };	/* not an instruction in 64-bit mode */
	static const uint8_t cmp_state[] = { 0x83, 0xbf, 0xa4, 0, 0, 0, 0x00 };
	char text[8];

	assert_int_equal(x86_instruction_text(push_es, sizeof(push_es), BASE, text, sizeof(text)),
			 -ENOENT);
	assert_int_equal(x86_instruction_text(cmp_state, 3, BASE, text, sizeof(text)), -ENOENT);
	/* a small buffer gets a cut, terminated text */
	assert_int_equal(x86_instruction_text(cmp_state, sizeof(cmp_state), BASE, text, sizeof(text)),
			 0);
	assert_int_equal(strlen(text), sizeof(text) - 1);
}

/* A target's file is hostile input: arbitrary bytes must decode, or be refused, without harm. */
static void test_random_code_is_decoded_or_refused_safely(void **state)
{
	uint8_t code[128];
	uint64_t seed = 0x9e3779b97f4a7c15ull, site;
	char text[48];
	int round, found = 0;
	size_t i;

	for (round = 0; round < 20000; round++) {
		for (i = 0; i < sizeof(code); i++) {
			seed ^= seed << 13;
			seed ^= seed >> 7;
			seed ^= seed << 17;
			code[i] = (uint8_t)seed;
		}
		/* often open with a state read, so that the later stages run too */
		if (round % 2) {
			code[0] = 0x8b;
			code[1] = 0x4f;
			code[2] = STATE;
		}
		if (!task_finalize_pending_site(code, sizeof(code), BASE, STATE, &site))
			found++;
		x86_instruction_text(code, (size_t)round % sizeof(code), BASE, text, sizeof(text));
	}
	/* random bytes rarely make the one shape accepted: a test, then a jump, right after */
	assert_true(found < 20000 / 50);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_instruction_text_names_what_a_probe_traps_on),
		cmocka_unit_test(test_instruction_text_of_bad_or_short_code),
		cmocka_unit_test(test_an_entry_probe_goes_past_endbr64_to_a_push),
		cmocka_unit_test(test_an_entry_probe_goes_on_to_a_call_that_keeps_the_arguments),
		cmocka_unit_test(test_an_entry_probe_stops_where_the_arguments_change),
		cmocka_unit_test(test_inline_pending_path_is_the_fall_through),
		cmocka_unit_test(test_pending_path_in_a_cold_section_is_the_jump_target),
		cmocka_unit_test(test_masked_state_word_compared_to_pending),
		cmocka_unit_test(test_state_compared_in_memory_with_zero),
		cmocka_unit_test(test_refused_when_rdi_is_overwritten),
		cmocka_unit_test(test_refused_when_compared_with_another_state),
		cmocka_unit_test(test_refused_when_a_call_comes_first),
		cmocka_unit_test(test_refused_when_the_mask_drops_state_bits),
		cmocka_unit_test(test_refused_when_the_comparand_is_not_pending),
		cmocka_unit_test(test_refused_when_another_register_is_tested),
		cmocka_unit_test(test_refused_when_the_loaded_state_is_overwritten),
		cmocka_unit_test(test_refused_without_the_state_read_or_the_branch),
		cmocka_unit_test(test_random_code_is_decoded_or_refused_safely),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
