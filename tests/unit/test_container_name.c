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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_without_the_slash),
		cmocka_unit_test(test_not_a_name),
		cmocka_unit_test(test_too_long_or_too_big),
		cmocka_unit_test(test_container_id_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
