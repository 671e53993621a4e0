// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/sys/proc_cgroup.c: a process's cgroup, and the container or unit it names. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "proc_cgroup.h"

#define ID "4f1e9c2b7a0d4e6f8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071"
#define POD_UID "8e1f3a2b-4c5d-6e7f-8091-a2b3c4d5e6f7"
#define POD_UID_ "8e1f3a2b_4c5d_6e7f_8091_a2b3c4d5e6f7"

static void identify(const char *path, struct cgroup_identity *id)
{
	memset(id, 0xa5, sizeof(*id));
	cgroup_identify(path, id);
}

static void test_unified_line(void **state)
{
	char path[256];

	assert_int_equal(cgroup_path_parse("0::/system.slice/api.service\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/system.slice/api.service");
	/* no newline at the end, and v1 lines before it */
	assert_int_equal(cgroup_path_parse("4:memory:/x\n0::/user.slice/user-0.slice/session-3.scope",
					   path, sizeof(path)), 0);
	assert_string_equal(path, "/user.slice/user-0.slice/session-3.scope");
}

/* a hybrid host: v2's root for everyone, the name in v1's systemd hierarchy */
static void test_hybrid_falls_back_to_systemd_tree(void **state)
{
	char path[256];

	assert_int_equal(cgroup_path_parse("9:name=systemd:/system.slice/docker-" ID ".scope\n"
					   "4:memory:/docker/" ID "\n0::/\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/system.slice/docker-" ID ".scope");
	assert_int_equal(cgroup_path_parse("4:memory:/a\n0::/\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/");
}

static void test_garbled_refused(void **state)
{
	char path[16];

	assert_int_equal(cgroup_path_parse("", path, sizeof(path)), -ENOENT);
	assert_int_equal(cgroup_path_parse("0:/x\n", path, sizeof(path)), -ENOENT);
	assert_int_equal(cgroup_path_parse("0::relative\n", path, sizeof(path)), -ENOENT);
	assert_int_equal(cgroup_path_parse("10::/not-v2\n", path, sizeof(path)), -ENOENT);
	/* longer than the buffer: refused, not cut */
	assert_int_equal(cgroup_path_parse("0::/a-path-longer-than-16\n", path, sizeof(path)),
			 -ENOENT);
}

static void test_docker_systemd_driver(void **state)
{
	struct cgroup_identity id;

	identify("/system.slice/docker-" ID ".scope", &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_DOCKER);
	assert_string_equal(id.id, ID);
	assert_string_equal(id.unit, "");
	assert_string_equal(cgroup_runtime_name(id.runtime), "docker");
}

static void test_docker_cgroupfs_driver(void **state)
{
	struct cgroup_identity id;

	identify("/docker/" ID, &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_DOCKER);
	assert_string_equal(id.id, ID);
}

static void test_podman(void **state)
{
	struct cgroup_identity id;

	identify("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID ".scope/container",
		 &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_PODMAN);
	assert_string_equal(id.id, ID);
	/* the user manager's unit is not the container's name */
	assert_string_equal(id.unit, "");
	/* conmon, podman's monitor, is not in the container */
	identify("/machine.slice/libpod-conmon-" ID ".scope", &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_NONE);
}

static void test_kubernetes_systemd_driver(void **state)
{
	struct cgroup_identity id;

	identify("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" POD_UID_
		 ".slice/cri-containerd-" ID ".scope", &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_KUBERNETES);
	assert_string_equal(id.id, ID);
	assert_string_equal(id.pod_uid, POD_UID);
	identify("/kubepods.slice/kubepods-pod" POD_UID_ ".slice/crio-" ID ".scope", &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_KUBERNETES);
	assert_string_equal(id.pod_uid, POD_UID);
}

static void test_kubernetes_cgroupfs_driver(void **state)
{
	struct cgroup_identity id;

	identify("/kubepods/besteffort/pod" POD_UID "/" ID, &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_KUBERNETES);
	assert_string_equal(id.id, ID);
	assert_string_equal(id.pod_uid, POD_UID);
	assert_string_equal(cgroup_runtime_name(id.runtime), "kubernetes");
}

static void test_containerd_alone(void **state)
{
	struct cgroup_identity id;

	identify("/system.slice/cri-containerd-" ID ".scope", &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_CONTAINERD);
	assert_string_equal(id.id, ID);
}

static void test_systemd_unit(void **state)
{
	struct cgroup_identity id;

	identify("/system.slice/billing-api.service", &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_SYSTEMD);
	assert_string_equal(id.unit, "billing-api.service");
	assert_string_equal(id.id, "");
	/* a unit's own sub-cgroup, and a user's service under the user manager */
	identify("/system.slice/worker@3.service/payload", &id);
	assert_string_equal(id.unit, "worker@3.service");
	identify("/user.slice/user-1000.slice/user@1000.service/app.slice/sync.service", &id);
	assert_string_equal(id.unit, "sync.service");
}

static void test_nothing_to_say(void **state)
{
	struct cgroup_identity id;

	identify("/", &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_NONE);
	assert_null(cgroup_runtime_name(id.runtime));
	identify("/user.slice/user-0.slice/session-4.scope", &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_NONE);
	assert_string_equal(id.unit, "");
	/* not quite an ID: too short, upper case, or a name that merely looks like one */
	identify("/system.slice/docker-4f1e9c2b7a0d.scope", &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_NONE);
	identify("/system.slice/docker-4F1E9C2B7A0D4E6F8A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F6071.scope",
		 &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_NONE);
	identify("", &id);
	assert_int_equal(id.runtime, CGROUP_RUNTIME_NONE);
}

static void test_reads_own_process(void **state)
{
	struct cgroup_identity id;

	assert_int_equal(proc_cgroup_read(getpid(), &id), 0);
	assert_int_equal(id.path[0], '/');
	assert_int_equal(proc_cgroup_read(0x3fffff, &id), -ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unified_line),
		cmocka_unit_test(test_hybrid_falls_back_to_systemd_tree),
		cmocka_unit_test(test_garbled_refused),
		cmocka_unit_test(test_docker_systemd_driver),
		cmocka_unit_test(test_docker_cgroupfs_driver),
		cmocka_unit_test(test_podman),
		cmocka_unit_test(test_kubernetes_systemd_driver),
		cmocka_unit_test(test_kubernetes_cgroupfs_driver),
		cmocka_unit_test(test_containerd_alone),
		cmocka_unit_test(test_systemd_unit),
		cmocka_unit_test(test_nothing_to_say),
		cmocka_unit_test(test_reads_own_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
