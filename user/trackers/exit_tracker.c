// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "exit_tracker.h"
#include "host_checks.h"
#include "log.h"
#include "proc_exit.h"
#include "proc_exit.skel.h"

struct exit_tracker {
	struct proc_exit_bpf *skel;
};

/* A map of another tracer, shared so that an exit clears it in the kernel; -1: none to share. */
static int share_map(struct bpf_map *map, int fd)
{
	return fd < 0 ? 0 : bpf_map__reuse_fd(map, fd);
}

int exit_tracker_start(struct exit_tracker **out, int conn_targets_fd, int py_procs_fd,
		       int py_layouts_fd)
{
	struct exit_tracker *et = calloc(1, sizeof(*et));
	LIBBPF_OPTS(bpf_object_open_opts, open_opts, .btf_custom_path = host_btf_custom_path());
	int err;

	if (!et)
		return -ENOMEM;
	et->skel = proc_exit_bpf__open_opts(&open_opts);
	if (!et->skel) {
		err = -errno;
		goto fail;
	}
	err = share_map(et->skel->maps.conn_targets, conn_targets_fd);
	if (!err)
		err = share_map(et->skel->maps.py_procs, py_procs_fd);
	if (!err)
		err = share_map(et->skel->maps.py_layouts, py_layouts_fd);
	if (!err)
		err = proc_exit_bpf__load(et->skel);
	if (err)
		goto fail;
	err = proc_exit_bpf__attach(et->skel);
	if (err)
		goto fail;
	*out = et;
	return 0;
fail:
	log_error("failed to attach the process exit and exec tracepoints: %s; reports will not "
		  "say how processes ended, and an exec() will not be noticed", strerror(-err));
	exit_tracker_destroy(et);
	return err;
}

int exit_tracker_add_target(struct exit_tracker *et, pid_t pid)
{
	__u32 key = pid;
	__u8 one = 1;

	if (!et)
		return 0;
	if (bpf_map__update_elem(et->skel->maps.targets, &key, sizeof(key), &one, sizeof(one),
				 BPF_ANY))
		return -errno;
	return 0;
}

/* The wait status, as wait(2)'s macros read it. */
static void decode_exit_code(int code, bool oom_killed, struct proc_end *end)
{
	memset(end, 0, sizeof(*end));
	end->known = true;
	end->oom_killed = oom_killed;
	if ((code & 0x7f) == 0) {
		end->exit_status = (code >> 8) & 0xff;
	} else {
		end->exit_status = -1;
		end->signal = code & 0x7f;
		end->core_dumped = (code & 0x80) != 0;
	}
}

int exit_tracker_lookup(const struct exit_tracker *et, pid_t pid, struct proc_end *end,
			uint64_t *ts_ns)
{
	struct proc_exit_info info;
	__u32 key = pid;

	if (!et || bpf_map__lookup_elem(et->skel->maps.exits, &key, sizeof(key), &info,
					sizeof(info), 0))
		return -ENOENT;
	decode_exit_code(info.exit_code, info.oom_killed, end);
	*ts_ns = info.ts_ns;
	return 0;
}

unsigned int exit_tracker_exec_count(const struct exit_tracker *et, pid_t pid, uint64_t *ts_ns)
{
	struct proc_exec_info info;
	__u32 key = pid;

	if (!et || bpf_map__lookup_elem(et->skel->maps.execs, &key, sizeof(key), &info,
					sizeof(info), 0))
		return 0;
	*ts_ns = info.ts_ns;
	return info.count;
}

unsigned int exit_tracker_fork_count(const struct exit_tracker *et, pid_t pid)
{
	__u32 key = pid, n;

	if (!et || bpf_map__lookup_elem(et->skel->maps.forks, &key, sizeof(key), &n, sizeof(n), 0))
		return 0;
	return n;
}

void exit_tracker_destroy(struct exit_tracker *et)
{
	if (!et)
		return;
	proc_exit_bpf__destroy(et->skel);
	free(et);
}
