// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/sys/proc_identity.c: command lines, and the service name a process gets. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "proc_identity.h"

#define ID "4f1e9c2b7a0d4e6f8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071"

static void split(const char *text, size_t len, struct proc_identity *id)
{
	memset(id, 0, sizeof(*id));
	assert_int_equal(proc_cmdline_split(text, len, &id->argv, &id->argc), 0);
}

static void test_cmdline_as_the_kernel_gives_it(void **state)
{
	static const char text[] = "python3\0app.py\0--port\0008080";
	struct proc_identity id;

	/* each argument ends in a NUL, the last one too */
	split(text, sizeof(text), &id);
	assert_int_equal(id.argc, 4);
	assert_string_equal(id.argv[0], "python3");
	assert_string_equal(id.argv[3], "8080");
	assert_null(id.argv[4]);
	proc_identity_free(&id);
}

static void test_cmdline_edge_cases(void **state)
{
	struct proc_identity id;

	/* an empty argument is kept */
	split("a\0\0b", 5, &id);
	assert_int_equal(id.argc, 3);
	assert_string_equal(id.argv[1], "");
	assert_string_equal(id.argv[2], "b");
	proc_identity_free(&id);
	/* a process that rewrote its command line without a final NUL */
	split("worker: idle", 12, &id);
	assert_int_equal(id.argc, 1);
	assert_string_equal(id.argv[0], "worker: idle");
	proc_identity_free(&id);
	/* a zombie's, or a kernel thread's: nothing */
	split("", 0, &id);
	assert_int_equal(id.argc, 0);
	proc_identity_free(&id);
}

static void with_cgroup(struct proc_identity *id, const char *path)
{
	static char *argv[] = { "python3", "/srv/app/main.py", "--port", "8080" };

	memset(id, 0, sizeof(*id));
	snprintf(id->exe, sizeof(id->exe), "/usr/bin/python3.11");
	id->argv = argv;
	id->argc = 4;
	snprintf(id->cgroup.path, sizeof(id->cgroup.path), "%s", path);
	cgroup_identify(path, &id->cgroup);
}

static void test_service_of_a_container(void **state)
{
	struct proc_identity id;
	char name[SERVICE_NAME_MAX];

	with_cgroup(&id, "/system.slice/docker-" ID ".scope");
	assert_string_equal(proc_identity_service(&id, name, sizeof(name)), "container-id");
	assert_string_equal(name, "docker:4f1e9c2b7a0d");
	/* the name the runtime keeps, where it keeps one: it outlives the ID */
	snprintf(id.container_name, sizeof(id.container_name), "billing-api");
	assert_string_equal(proc_identity_service(&id, name, sizeof(name)), "container");
	assert_string_equal(name, "docker:billing-api");
	with_cgroup(&id, "/machine.slice/libpod-" ID ".scope/container");
	proc_identity_service(&id, name, sizeof(name));
	assert_string_equal(name, "podman:4f1e9c2b7a0d");
	with_cgroup(&id, "/system.slice/cri-containerd-" ID ".scope");
	proc_identity_service(&id, name, sizeof(name));
	assert_string_equal(name, "containerd:4f1e9c2b7a0d");
}

static void test_service_of_a_pod(void **state)
{
	struct proc_identity id;
	char name[SERVICE_NAME_MAX];

	with_cgroup(&id, "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
			 "8e1f3a2b_4c5d_6e7f_8091_a2b3c4d5e6f7.slice/cri-containerd-" ID ".scope");
	assert_string_equal(proc_identity_service(&id, name, sizeof(name)), "container-id");
	assert_string_equal(name, "kubernetes:pod-8e1f3a2b-4c5d-6e7f-8091-a2b3c4d5e6f7");
}

static void test_service_of_a_unit_or_a_cgroup_of_its_own(void **state)
{
	struct proc_identity id;
	char name[SERVICE_NAME_MAX];

	with_cgroup(&id, "/system.slice/billing-api.service");
	assert_string_equal(proc_identity_service(&id, name, sizeof(name)), "cgroup");
	assert_string_equal(name, "billing-api.service");
	with_cgroup(&id, "/workers/ingest");
	assert_string_equal(proc_identity_service(&id, name, sizeof(name)), "cgroup");
	assert_string_equal(name, "ingest");
}

static void test_service_of_a_command(void **state)
{
	struct proc_identity id;
	char name[SERVICE_NAME_MAX], small[24];

	/* a login's scope, the root, or no cgroup at all: the command names it */
	with_cgroup(&id, "/user.slice/user-0.slice/session-4.scope");
	assert_string_equal(proc_identity_service(&id, name, sizeof(name)), "command");
	assert_string_equal(name, "/usr/bin/python3.11 /srv/app/main.py --port 8080");
	with_cgroup(&id, "/");
	assert_string_equal(proc_identity_service(&id, name, sizeof(name)), "command");
	with_cgroup(&id, "");
	assert_string_equal(proc_identity_service(&id, name, sizeof(name)), "command");
	/* cut to the buffer, never past it */
	proc_identity_service(&id, small, sizeof(small));
	assert_string_equal(small, "/usr/bin/python3.11 /sr");
	/* no executable to read (a process of another user, say): its argv[0] */
	id.exe[0] = '\0';
	proc_identity_service(&id, name, sizeof(name));
	assert_string_equal(name, "python3 /srv/app/main.py --port 8080");
}

static bool is_kthreadd(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return !strcmp(comm, "kthreadd\n");
}

static void test_reads_own_process(void **state)
{
	struct proc_identity id;
	unsigned long long start;
	char exe[4096];
	pid_t *pids;
	size_t n, i;
	bool self = false;

	assert_int_equal(proc_identity_read(getpid(), &id), 0);
	assert_true(id.argc >= 1);
	assert_non_null(strstr(id.argv[0], "test_proc_identity"));
	assert_non_null(strstr(id.exe, "test_proc_identity"));
	assert_int_equal(proc_identity_peek(getpid(), &start, exe, sizeof(exe)), 0);
	assert_int_equal(start, id.start_time);
	assert_string_equal(exe, id.exe);
	proc_identity_free(&id);
	assert_int_equal(proc_identity_read(0x3fffff, &id), -ESRCH);
	assert_int_equal(proc_list_pids(&pids, &n), 0);
	for (i = 0; i < n; i++) {
		self |= pids[i] == getpid();
		assert_true(i == 0 || pids[i - 1] < pids[i]);
	}
	free(pids);
	assert_true(self);
	assert_false(proc_is_kernel_thread(getpid()));
	if (is_kthreadd(2))	/* not in a PID namespace of its own */
		assert_true(proc_is_kernel_thread(2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline_as_the_kernel_gives_it),
		cmocka_unit_test(test_cmdline_edge_cases),
		cmocka_unit_test(test_service_of_a_container),
		cmocka_unit_test(test_service_of_a_pod),
		cmocka_unit_test(test_service_of_a_unit_or_a_cgroup_of_its_own),
		cmocka_unit_test(test_service_of_a_command),
		cmocka_unit_test(test_reads_own_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
