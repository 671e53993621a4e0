/* SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0) */
/*
 * The cmocka fixture the model's tests share: a model started at START_NS
 * holding one process, PID (both defined by the test before including this).
 */
#ifndef INFLIGHT_TEST_MODEL_FIXTURE_H
#define INFLIGHT_TEST_MODEL_FIXTURE_H
#include <stdlib.h>
#include "model.h"

static int setup_model(void **state)
{
	struct model *m = calloc(1, sizeof(*m));

	if (!m)
		return -1;
	if (model_init(m, START_NS, 100000) ||
	    !model_add_process(m, PID, "python3", "/usr/bin/python3")) {
		model_free(m);
		free(m);
		return -1;
	}
	*state = m;
	return 0;
}

static int teardown_model(void **state)
{
	struct model *m = *state;

	model_free(m);
	free(m);
	return 0;
}

#endif
