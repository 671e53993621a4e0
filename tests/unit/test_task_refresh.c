// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
/*
 * Unit tests for the task refresh (user/trackers/task_refresh.c): tasks the
 * model holds as pending, laid out in this process's memory with the 3.11
 * layout's offsets and read back as a target's are: the model's made-up PID
 * reads this process, through the memory-source seam.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include "clock.h"
#include "cpython_layout.h"
#include "memory_source.h"
#include "task_refresh.h"

#define START_NS (1000 * NSEC_PER_SEC)
#define AT(s) (START_NS + (uint64_t)((s) * (double)NSEC_PER_SEC))
#define PID 4242
#include "model_fixture.h"

#define N_TASKS 4
#define CORO 0x7f00deadbee0ull

static const struct task_origin FETCH = {
	"/srv/app.py", 7, "main", "fetch", PID, 0, NULL, false, 0, 0 };

struct fixture {
	struct model *m;
	const struct cpython_layout *l;
	uint8_t tasks[N_TASKS][512];
	uint64_t nowhere;
};

static uint64_t task_addr(struct fixture *fx, int i)
{
	return (uint64_t)(uintptr_t)fx->tasks[i];
}

static void set_task(struct fixture *fx, int i, int32_t state, uint64_t coro)
{
	memcpy(fx->tasks[i] + fx->l->task_state, &state, sizeof(state));
	memcpy(fx->tasks[i] + fx->l->task_coro, &coro, sizeof(coro));
}

static ssize_t read_self(void *ctx, const struct iovec *local, unsigned long n_local,
			 const struct iovec *remote, unsigned long n_remote)
{
	(void)ctx;
	return process_vm_readv(getpid(), local, n_local, remote, n_remote, 0);
}

static const struct memory_source self = { .readv = read_self };

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct task_origin o = FETCH;
	void *m;
	int i;

	if (!fx || page == MAP_FAILED || setup_model(&m) || memory_source_install(PID, &self))
		return -1;
	fx->m = m;
	fx->l = cpython_layout_table(11);
	fx->nowhere = (uint64_t)(uintptr_t)page;
	for (i = 0; i < N_TASKS; i++) {
		o.coro_addr = CORO + (uint64_t)i * 16;
		set_task(fx, i, 0, o.coro_addr);
		model_task_created(fx->m, PID, task_addr(fx, i), &o, 0, AT(1));
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	void *m = fx->m;

	munmap((void *)(uintptr_t)fx->nowhere, 4096);
	memory_source_install(PID, NULL);
	teardown_model(&m);
	free(fx);
	return 0;
}

struct pending_list {
	struct pending_task t[N_TASKS + 1];
	size_t n;
};

static void collect(const struct pending_task *t, void *ctx)
{
	struct pending_list *l = ctx;

	l->t[l->n++] = *t;
}

static struct pending_list pending(struct fixture *fx)
{
	struct pending_list l = {};

	model_foreach_pending_task(fx->m, collect, &l);
	return l;
}

static void no_drain(void *ctx)
{
	(*(int *)ctx)++;
}

/* finished and cancelled ones are marked done; pending ones stay */
static void test_by_state(void **state)
{
	struct fixture *fx = *state;
	struct pending_list l;

	set_task(fx, 1, 2, CORO + 16);
	set_task(fx, 3, 1, CORO + 48);
	l = pending(fx);
	task_refresh_by_state(fx->m, PID, fx->l, l.t, l.n, AT(2));
	model_settle_cancels(fx->m, UINT64_MAX);
	assert_int_equal(model_process(fx->m, PID)->tasks_finished, 1);
	assert_int_equal(model_process(fx->m, PID)->tasks_cancelled, 1);
	assert_int_equal(pending(fx).n, 2);
}

/* --lean: a cleared task (coroutine NULL, state done) ended; another coroutine, or memory
 * that cannot be read, means the task is gone; the drain runs once, between reads and verdicts */
static void test_by_memory(void **state)
{
	struct fixture *fx = *state;
	struct pending_list l;
	int drains = 0;

	set_task(fx, 0, 2, 0);			/* dealloc has run: finished */
	set_task(fx, 1, 0, 0x1234);		/* another object lives there now */
	l = pending(fx);
	for (size_t i = 0; i < l.n; i++)
		if (l.t[i].addr == task_addr(fx, 2))
			l.t[i].addr = fx->nowhere;	/* memory given back to the system */
	task_refresh_by_memory(fx->m, PID, fx->l, l.t, l.n, AT(2), no_drain, &drains);
	assert_int_equal(drains, 1);
	l = pending(fx);
	assert_int_equal(l.n, 2);	/* task 3, and task 2's record: its read address was swapped */
	/* an end whose state memory no longer holds counts as finished: no shutdown cancelled it */
	assert_int_equal(model_process(fx->m, PID)->tasks_finished, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_by_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_by_memory, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
