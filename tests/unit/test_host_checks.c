// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/sys/host_checks.c's parsers: CapEff, lockdown, the kernel release. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <bpf/libbpf.h>
#include "host_checks.h"

static const char status_root[] =
	"Name:\tcat\nUmask:\t0022\nState:\tR (running)\nCapInh:\t0000000000000000\n"
	"CapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n";

static void test_cap_effective_root(void **state)
{
	uint64_t caps = 0;

	assert_int_equal(host_parse_cap_effective(status_root, &caps), 0);
	assert_true(caps == 0x000001ffffffffffULL);
}

/* capsh --drop=cap_sys_admin: bit 21 clear; CapPrm's line must not be taken for CapEff's */
static void test_cap_effective_dropped(void **state)
{
	const char *status = "Name:\tx\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffdfffff\n";
	struct host_facts h = { 0 };

	assert_int_equal(host_parse_cap_effective(status, &h.cap_effective), 0);
	assert_false(host_has_cap(&h, CAP_SYS_ADMIN));
	assert_true(host_has_cap(&h, CAP_SYS_PTRACE));
	assert_true(host_has_cap(&h, CAP_BPF));
	assert_true(host_has_cap(&h, CAP_PERFMON));
}

static void test_cap_effective_none_and_garbled(void **state)
{
	uint64_t caps = 7;

	assert_int_equal(host_parse_cap_effective("Name:\tx\nCapEff:\t0000000000000000\n", &caps), 0);
	assert_true(caps == 0);
	assert_int_equal(host_parse_cap_effective("Name:\tx\nCapPrm:\t1\n", &caps), -EINVAL);
	assert_int_equal(host_parse_cap_effective("Name:\tx\nCapEff:\t\n", &caps), -EINVAL);
	assert_int_equal(host_parse_cap_effective("Name:\tx\nCapEff:\t12zz\n", &caps), -EINVAL);
	/* the first line has no newline before it: CapEff is never the first line */
	assert_int_equal(host_parse_cap_effective("CapEff:\t1\n", &caps), -EINVAL);
}

static void test_lockdown_modes(void **state)
{
	char mode[32];

	assert_int_equal(host_parse_lockdown("[none] integrity confidentiality\n", mode,
					     sizeof(mode)), 0);
	assert_string_equal(mode, "none");
	assert_int_equal(host_parse_lockdown("none [integrity] confidentiality\n", mode,
					     sizeof(mode)), 0);
	assert_string_equal(mode, "integrity");
	assert_int_equal(host_parse_lockdown("none integrity [confidentiality]\n", mode,
					     sizeof(mode)), 0);
	assert_string_equal(mode, "confidentiality");
}

static void test_lockdown_garbled(void **state)
{
	char mode[8];

	assert_int_equal(host_parse_lockdown("none integrity\n", mode, sizeof(mode)), -EINVAL);
	assert_int_equal(host_parse_lockdown("[none", mode, sizeof(mode)), -EINVAL);
	assert_int_equal(host_parse_lockdown("[]", mode, sizeof(mode)), -EINVAL);
	/* longer than the buffer: refused, not cut */
	assert_int_equal(host_parse_lockdown("[confidentiality]", mode, sizeof(mode)), -EINVAL);
}

static void test_kernel_release(void **state)
{
	unsigned int major = 0, minor = 0;

	assert_int_equal(host_parse_kernel_release("6.1.0-18-amd64", &major, &minor), 0);
	assert_int_equal(major, 6);
	assert_int_equal(minor, 1);
	assert_int_equal(host_parse_kernel_release("5.17", &major, &minor), 0);
	assert_int_equal(major, 5);
	assert_int_equal(minor, 17);
	assert_int_equal(host_parse_kernel_release("4.18.0-513.el8.x86_64", &major, &minor), 0);
	assert_int_equal(minor, 18);
	assert_int_equal(host_parse_kernel_release("linux", &major, &minor), -EINVAL);
	assert_int_equal(host_parse_kernel_release("6", &major, &minor), -EINVAL);
	assert_int_equal(host_parse_kernel_release("6.x", &major, &minor), -EINVAL);
}

static void test_cap_names(void **state)
{
	assert_string_equal(host_cap_name(CAP_BPF), "CAP_BPF");
	assert_string_equal(host_cap_name(CAP_SYS_ADMIN), "CAP_SYS_ADMIN");
	assert_null(host_cap_name(0));
}

/* VMLINUX_BTF: set, it is what the programs are opened with; empty or unset, the kernel's */
static void test_btf_custom_path(void **state)
{
	struct host_btf b;

	unsetenv("VMLINUX_BTF");
	assert_null(host_btf_custom_path());
	setenv("VMLINUX_BTF", "", 1);
	assert_null(host_btf_custom_path());
	setenv("VMLINUX_BTF", "/nonexistent/vmlinux", 1);
	assert_string_equal(host_btf_custom_path(), "/nonexistent/vmlinux");
	assert_int_equal(host_btf_check(&b), -ENOENT);
	assert_true(b.from_env);
	/* a file that is there but is not BTF */
	setenv("VMLINUX_BTF", "/proc/self/status", 1);
	assert_int_equal(host_btf_check(&b), -EINVAL);
	assert_non_null(strstr(b.why, "not BTF"));
	unsetenv("VMLINUX_BTF");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_effective_root),
		cmocka_unit_test(test_cap_effective_dropped),
		cmocka_unit_test(test_cap_effective_none_and_garbled),
		cmocka_unit_test(test_lockdown_modes),
		cmocka_unit_test(test_lockdown_garbled),
		cmocka_unit_test(test_kernel_release),
		cmocka_unit_test(test_cap_names),
		cmocka_unit_test(test_btf_custom_path),
	};

	libbpf_set_print(NULL);	/* libbpf's complaint about the file that is not BTF */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
