// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/* Unit tests for user/sys/container_name.c: a Docker container's name from its config.v2.json. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "container_name.h"

static int name_of(const char *text, char *name, size_t size)
{
	return docker_config_name(text, strlen(text), name, size);
}

static void test_name_without_the_slash(void **state)
{
	char name[CONTAINER_NAME_MAX];

	assert_int_equal(name_of("{\"ID\":\"4f1e\",\"Name\":\"/billing-api\",\"State\":{}}", name,
				 sizeof(name)), 0);
	assert_string_equal(name, "billing-api");
	assert_int_equal(name_of("{\"Name\":\"web_1.v2\"}", name, sizeof(name)), 0);
	assert_string_equal(name, "web_1.v2");
}

static void test_not_a_name(void **state)
{
	char name[CONTAINER_NAME_MAX] = "kept";
	static const char *bad[] = {
		"", "{", "[]", "\"/web\"", "{\"Name\":7}", "{\"Name\":null}", "{\"Name\":\"\"}",
		"{\"Name\":\"/\"}", "{\"Name\":\"/-web\"}", "{\"Name\":\"/we b\"}",
		"{\"Name\":\"/web\\u0000x\"}", "{\"Name\":\"/a/b\"}", "{\"Name\":\"/\\u001b[31m\"}",
		"{\"Name\":\"/web\"} trailing", "{\"name\":\"/web\"}",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(name_of(bad[i], name, sizeof(name)), -EINVAL);
	assert_string_equal(name, "kept");
}

static void test_too_long_or_too_big(void **state)
{
	char name[8], *big;
	size_t n = DOCKER_CONFIG_MAX_BYTES + 1;

	assert_int_equal(name_of("{\"Name\":\"/abcdefgh\"}", name, sizeof(name)), -ENAMETOOLONG);
	assert_int_equal(name_of("{\"Name\":\"/abcdefg\"}", name, sizeof(name)), 0);
	big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	memcpy(big, "{\"Name\":\"/web\"}", 15);
	assert_int_equal(docker_config_name(big, n, name, sizeof(name)), -EINVAL);
	free(big);
}

static void test_container_id_checked(void **state)
{
	char name[CONTAINER_NAME_MAX];

	assert_int_equal(docker_container_name("../../etc", name, sizeof(name)), -EINVAL);
	assert_int_equal(docker_container_name("4F1E9C2B7A0D4E6F8A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F6071",
					       name, sizeof(name)), -EINVAL);
}

static int pod_of(const char *env, size_t len, char *name)
{
	return pod_name_from_environ(env, len, name, CONTAINER_NAME_MAX);
}

#define ENV(s) s, sizeof(s) - 1

static void test_pod_name_without_generated_suffixes(void **state)
{
	char name[CONTAINER_NAME_MAX];

	/* a Deployment's pod: its ReplicaSet's pod-template hash, then a random suffix */
	assert_int_equal(pod_of(ENV("PATH=/bin\0HOSTNAME=billing-api-7d9c8b6f5d-x2kqz\0"), name), 0);
	assert_string_equal(name, "billing-api");
	/* a DaemonSet's: the random suffix only */
	assert_int_equal(pod_of(ENV("HOSTNAME=node-agent-q8w2z"), name), 0);
	assert_string_equal(name, "node-agent");
	/* a StatefulSet's ordinal and a bare pod's name are stable: kept */
	assert_int_equal(pod_of(ENV("HOSTNAME=db-0\0"), name), 0);
	assert_string_equal(name, "db-0");
	assert_int_equal(pod_of(ENV("HOSTNAME=api-worker\0"), name), 0);
	assert_string_equal(name, "api-worker");
	/* words with vowels are not generated suffixes */
	assert_int_equal(pod_of(ENV("HOSTNAME=web-frontend-cache\0"), name), 0);
	assert_string_equal(name, "web-frontend-cache");
	/* what is left is still a name: no dash left at its end */
	assert_int_equal(pod_of(ENV("HOSTNAME=billing--7db6db6f5d-x2kqz"), name), 0);
	assert_string_equal(name, "billing--7db6db6f5d");
	/* the first HOSTNAME, as getenv() finds it */
	assert_int_equal(pod_of(ENV("HOSTNAME=a-x2kqz\0HOSTNAME=b"), name), 0);
	assert_string_equal(name, "a");
}

static void test_pod_name_refused(void **state)
{
	char name[CONTAINER_NAME_MAX] = "kept", small[4];

	assert_int_equal(pod_of(ENV("PATH=/bin\0HOME=/\0"), name), -ENOENT);
	assert_int_equal(pod_of(ENV("HOSTNAME=\0"), name), -ENOENT);
	assert_int_equal(pod_of(ENV("HOSTNAME=Web\0"), name), -EINVAL);
	assert_int_equal(pod_of(ENV("HOSTNAME=web\x1b[31m\0"), name), -EINVAL);
	assert_int_equal(pod_of(ENV("HOSTNAME=-web\0"), name), -EINVAL);
	assert_int_equal(pod_of(ENV("XHOSTNAME=web\0"), name), -ENOENT);
	assert_string_equal(name, "kept");
	assert_int_equal(pod_name_from_environ(ENV("HOSTNAME=abcd"), small, sizeof(small)),
			 -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_without_the_slash),
		cmocka_unit_test(test_not_a_name),
		cmocka_unit_test(test_too_long_or_too_big),
		cmocka_unit_test(test_container_id_checked),
		cmocka_unit_test(test_pod_name_without_generated_suffixes),
		cmocka_unit_test(test_pod_name_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
