"""Processes of one interpreter build share its uprobes: placed once on the
file for every process and filtered by PID in the kernel, from the second
traced process of a build on; a build with one traced process keeps probes of
its own. Checked against the workloads' own counts and the kernel's list of
inflight's perf events."""
import json
import os
import re
import select
import signal
import time

import harness
from harness import Tracer, Workload, expect_eq, site_markers, target_of, test
from test_conn_faults import bpftool, objects_of, still_loaded, uprobe_events
from test_lifecycle import read_until

SHARED = "shared by the traced processes of this file"
ALONE = "placed for this process alone"


def uprobes_of(pid):
    """The task uprobes inflight (pid) holds, as (file offset, prog id), sorted
    (the warning funnel's probe, one per build too, is left out)."""
    task_progs = {p["id"] for p in bpftool("prog", "show")
                  if p.get("name", "").startswith("on_task_")}
    return sorted((p["offset"], p["prog_id"]) for p in bpftool("perf", "show")
                  if p["pid"] == pid and p["fd_type"] == "uprobe" and p["prog_id"] in task_progs)


def uprobes_until(pid, n):
    """inflight's uprobes once there are n of them (it drops a target's at its
    next poll after the exit, and a target's own ones in a thread once shared
    ones replace them), or as they are after 10 s."""
    for _ in range(100):
        probes = uprobes_of(pid)
        if len(probes) == n:
            break
        time.sleep(0.1)
    return probes


def tasks_hook(report, pid):
    return [h for h in target_of(report, pid)["hooks"] if h["name"] == "asyncio_tasks"][0]


def work_sites(report, pid, line):
    return [s["created"] for s in target_of(report, pid)["tasks"]["sites"]
            if s["file"].endswith("many_services.py") and s["line"] == line]


def events_bound(report):
    """The most task events the traced processes can have sent: a create and
    an end per task created, an end per task pending at attach, and one per
    connection opened."""
    return sum(2 * t["tasks"]["created"] + t["tasks"]["at_attach"] +
               t["connections"]["opened"] for t in report["targets"])


@test
def shared_probes_count_each_traced_process_and_nothing_of_an_untraced_one():
    """Four of five forked workers of one interpreter traced: one uprobe per
    probed function, not per process; per-process counts as each recorded
    them; the fifth, untraced, hits the shared probes but sends nothing; a
    traced one exiting leaves the others traced; nothing is left after."""
    line = site_markers("many_services.py")["work"]
    w = Workload("many_services.py", args=("5",))
    try:
        *traced, untraced = w.hello["children"]
        uprobes_before = uprobe_events()
        t = Tracer(*[arg for pid in traced for arg in ("-p", str(pid))], "-f", "json",
                   "-i", "0.1")
        progs, maps = objects_of(t.proc.pid)
        probes = uprobes_of(t.proc.pid)
        expect_eq("uprobes for 4 processes of one build (init, dealloc)", len(probes), 2)
        first = {c["pid"]: c for c in w.do("work")["children"]}
        for _ in range(20):
            w.do("work %d" % untraced)
        ending = traced[0]
        w.do("end %d" % ending)
        read_until(t, lambda line: re.search(r"\] pid %d: .*\(exited\)" % ending, line),
                   "that PID %d exited" % ending)
        second = {c["pid"]: c for c in w.do("work")["children"]}
        expect_eq("uprobes after one target exited", uprobes_of(t.proc.pid), probes)
        rc, stdout, stderr = t.finish(signal.SIGINT)
        assert rc == 0, stderr
        report = json.loads(stdout)
        expect_eq("programs, maps and links left", still_loaded(progs, maps),
                  (set(), set(), set()))
        expect_eq("uprobe_events", uprobe_events(), uprobes_before)
    finally:
        w.stop()
    expect_eq("targets", sorted(x["pid"] for x in report["targets"]), sorted(traced))
    expect_eq("the ended target exited", target_of(report, ending)["exited"], True)
    for pid in traced:
        hook = tasks_hook(report, pid)
        assert hook["attached"] and SHARED in hook["detail"], (pid, hook)
        want = second[pid] if pid in second else first[pid]
        # an exited process's report keeps no created_at sites (as without shared probes)
        if pid != ending:
            expect_eq("%d: tasks from the work line" % pid, work_sites(report, pid, line), [6])
        expect_eq("%d: connections opened" % pid, target_of(report, pid)["connections"]["opened"],
                  want["connected"] + want["accepted"])
    assert report["tracer"]["task_events"] <= events_bound(report), \
        ("events beyond what the traced processes can have sent: the untraced one's?",
         report["tracer"]["task_events"], events_bound(report))
    for key in ("task_ringbuf_drops", "untracked_tasks", "unmatched_events"):
        expect_eq(key, report["tracer"][key], 0)


def another_build():
    """A CPython with symbols other than the workloads' (its own _asyncio file), or None."""
    mine = os.path.realpath(harness.PYTHON)
    for name, path, stripped in harness.interpreters()[0]:
        if name.startswith("pyenv-") and not stripped and os.path.realpath(path) != mine:
            return path
    return None


@test
def shared_probes_go_with_the_last_process_of_their_build():
    """Two workers of one build and one process of another: the pair shares
    one set of probes, the lone one keeps its own (and its hook says so); once
    both workers have exited, their build's probes are gone and the other
    process is still traced."""
    other = another_build()
    if not other:
        harness.skip("shared_probes_go_with_the_last_process_of_their_build",
                     "no second CPython build with symbols")
        return
    line = site_markers("task_service.py")["fanout"]
    pair = Workload("many_services.py", args=("2",))
    lone = Workload("task_service.py", python=other)
    try:
        pids = pair.hello["children"]
        t = Tracer("-p", str(pids[0]), "-p", str(pids[1]), "-p", str(lone.pid), "-f", "json")
        expect_eq("uprobes for two builds", len(uprobes_until(t.proc.pid, 4)), 4)
        pair.do("work")
        for pid in pids:
            pair.do("end %d" % pid)
        left = uprobes_until(t.proc.pid, 2)
        lone.do("mark")
        lone.do("fanout 30")
        lone.do("release")
        expect_eq("uprobes once the pair exited", len(left), 2)
        rc, stdout, stderr = t.finish(signal.SIGINT)
        assert rc == 0, stderr
        report = json.loads(stdout)
    finally:
        pair.stop()
        lone.stop()
    expect_eq("offsets left: the lone build's", sorted(o for o, _ in left),
              sorted(p["file_offset"] for p in tasks_hook(report, lone.pid)["probes"]))
    for pid in pids:
        assert SHARED in tasks_hook(report, pid)["detail"], tasks_hook(report, pid)
    assert ALONE in tasks_hook(report, lone.pid)["detail"], tasks_hook(report, lone.pid)
    sites = [s["created"] for s in target_of(report, lone.pid)["tasks"]["sites"]
             if s["file"].endswith("task_service.py") and s["line"] == line]
    expect_eq("the lone process's fan-out", sites, [30])


@test
def shared_probes_joined_by_a_process_importing_asyncio_mid_trace():
    """One process traced alone (probes of its own) churns tasks while another
    of the same build imports asyncio mid-trace and joins: one set for both,
    placed for every process. The first's hits move to the shared set as it
    churns, none lost and none sent twice (while its own set is detached,
    both trap it: without the per-target cookie it sent thousands of events
    too many), and the joiner's tasks are counted too."""
    churn_line = site_markers("task_flood.py")["churn"]
    late_lines = site_markers("late_asyncio.py")
    first = Workload("task_flood.py")
    late = Workload("late_asyncio.py")
    try:
        t = Tracer("-p", str(first.pid), "-p", str(late.pid), "-f", "json")
        alone = uprobes_of(t.proc.pid)
        late.proc.stdin.write("go\n")
        late.proc.stdin.flush()
        churned = churn_until_readable(first, late.proc.stdout)
        truth = late.read()["threads"]
        shared = uprobes_of(t.proc.pid)
        rc, stdout, stderr = t.finish(signal.SIGINT)
        assert rc == 0, stderr
        report = json.loads(stdout)
    finally:
        first.stop()
        late.stop()
    expect_eq("uprobes of the first alone", len(alone), 2)
    expect_eq("uprobes once the second joined", len(shared), 2)
    for pid in (first.pid, late.pid):
        assert SHARED in tasks_hook(report, pid)["detail"], tasks_hook(report, pid)
    sites = [s["created"] for s in target_of(report, first.pid)["tasks"]["sites"]
             if s["file"].endswith("task_flood.py") and s["line"] == churn_line]
    expect_eq("the churn's tasks", sites, [churned])
    for name in ("a", "b"):
        sites = [s["created"] for s in target_of(report, late.pid)["tasks"]["sites"]
                 if s["line"] == late_lines["thread_" + name]]
        expect_eq("the joiner's thread %s" % name, sites, [truth[name]])
    expect_eq("task ring buffer drops", report["tracer"]["task_ringbuf_drops"], 0)
    assert report["tracer"]["task_events"] <= events_bound(report), \
        ("events sent twice", report["tracer"]["task_events"], events_bound(report))


def churn_until_readable(w, f):
    """Short tasks in w, 200 at a time, until f has something to read (the
    joiner is done): how many. Paced so that the ring never fills, even while
    inflight is busy probing the joiner."""
    n = 0
    while not select.select([f], [], [], 0.01)[0]:
        n = w.do("churn 200 100")["created"]["churn"]
    return n
