"""inflight under a flood of tasks: a million created in one trace, a hundred
thousand in flight at once. Its memory must follow what is in flight, not
what has passed; whatever it drops must be counted; where it dropped
nothing, its counts must be task_flood.py's own."""
import json
import os
import subprocess

from harness import (Tracer, Workload, expect_eq, inflight, site_markers, target_of, test,
                     tasks_tracked)

HELD = 100000
WARM = 100000           # churned before the first look at inflight's memory
CHURNED = 900000        # in all: with HELD, a million tasks
BATCH = 10000
# What 800000 more tasks passing through may add to inflight's peak memory: far
# less than they would cost if they stayed (a live task costs the model about
# 150 bytes, 120 MB for them all), room enough for allocator slack.
GROWTH_BOUND_KIB = 48 * 1024
# inflight's peak with HELD tasks in flight (about 55 MiB, 75 MiB under ASan)
HELD_BOUND_KIB = 256 * 1024
# ASan's quarantine keeps freed memory back, up to 256 MiB, by design: under
# it, memory would grow with the tasks that passed, as if they had stayed.
NO_QUARANTINE = dict(os.environ, ASAN_OPTIONS=":".join(
    filter(None, [os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=0"])))


def peak_rss_kib(pid):
    """VmHWM of pid: the most memory it has held at once, in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc/%d/status" % pid)


def site(tasks, line):
    found = [s for s in tasks["sites"] if s["file"].endswith("task_flood.py") and
             s["line"] == line]
    assert len(found) == 1, (line, [(s["file"], s["line"]) for s in tasks["sites"]])
    return found[0]


def expect_counted(what, got, want, lost):
    """got is want, or short of it by no more than what the tracer says it lost."""
    if lost:
        assert want - lost <= got <= want, "%s: inflight says %r, ground truth %r, %r lost" % (
            what, got, want, lost)
    else:
        expect_eq(what, got, want)


@test
def a_million_tasks_100k_in_flight_in_bounded_memory():
    lines = site_markers("task_flood.py")
    w = Workload("task_flood.py")
    try:
        t = Tracer("-p", str(w.pid), "-f", "json", env=NO_QUARANTINE)
        w.do("hold %d" % HELD)
        w.do("churn %d %d" % (WARM, BATCH))
        warm = peak_rss_kib(t.proc.pid)
        w.do("churn %d %d" % (CHURNED - WARM, BATCH))
        w.do("release")
        end = peak_rss_kib(t.proc.pid)
        truth = w.do("churn 0 1")["created"]
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
    finally:
        w.stop()
    report = json.loads(stdout)
    tasks_tracked(report, w.pid)
    tasks = target_of(report, w.pid)["tasks"]
    tracer = report["tracer"]
    for bound in ("site_table_full", "code_cache_full", "tasks_at_attach_left_out"):
        expect_eq("tracer." + bound, tracer[bound], 0)
    lost = tracer["task_ringbuf_drops"] + tracer["untracked_tasks"]
    print("    inflight's peak RSS %d MiB with %d tasks in flight, %d MiB after %d more; "
          "%d task records lost" % (warm // 1024, HELD, end // 1024, CHURNED - WARM, lost))
    assert warm <= HELD_BOUND_KIB, "inflight held %d KiB with %d tasks in flight (bound %d)" % (
        warm, HELD, HELD_BOUND_KIB)
    assert end - warm <= GROWTH_BOUND_KIB, \
        "inflight's peak memory grew by %d KiB while tasks passed through (bound %d KiB)" % (
            end - warm, GROWTH_BOUND_KIB)
    expect_eq("tasks the workload created", truth["hold"] + truth["churn"], HELD + CHURNED)
    held, churned = site(tasks, lines["hold"]), site(tasks, lines["churn"])
    expect_counted("held tasks created", held["created"], truth["hold"], lost)
    expect_counted("churned tasks created", churned["created"], truth["churn"], lost)
    expect_counted("held tasks at their peak", held["peak_in_flight"], HELD, lost)
    if not lost:
        expect_eq("held tasks left in flight", held["in_flight"], 0)
        expect_eq("churned tasks left in flight", churned["in_flight"], 0)
        expect_eq("held tasks finished", held["finished"], HELD)


MAX_SITES = 4096        # MODEL_MAX_SITES
THREADS = MAX_SITES + 104


@test
def a_loop_per_thread_fills_the_site_table_and_the_rest_is_counted():
    line = site_markers("thread_loops.py")["request"]
    w = Workload("thread_loops.py")
    try:
        t = Tracer("-p", str(w.pid), "-f", "json")
        served = w.do("requests %d" % THREADS)["served"]
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
    finally:
        w.stop()
    expect_eq("requests the workload served, each on a thread of its own", served, THREADS)
    report = json.loads(stdout)
    tasks_tracked(report, w.pid)
    tasks = target_of(report, w.pid)["tasks"]
    tracer = report["tracer"]
    sites = [s for s in tasks["sites"] if s["file"].endswith("thread_loops.py") and
             s["line"] == line]
    assert len(sites) <= MAX_SITES, "%d sites kept, past the table's %d" % (len(sites), MAX_SITES)
    assert len({s["thread"] for s in sites}) == len(sites), "two sites on one thread"
    lost = tracer["task_ringbuf_drops"] + tracer["untracked_tasks"] + tracer["stacks_not_read"]
    expect_counted("tasks created", tasks["created"], THREADS, lost)
    expect_counted("sites kept", len(sites), MAX_SITES, lost)
    expect_counted("tasks past the site table", tracer["site_table_full"], THREADS - MAX_SITES,
                   lost)


SNAPSHOT_MAX_TASKS = 131072
SNAPSHOT_BOUND_KIB = 384 * 1024     # about 135 MiB for 131072 tasks here


def ps(pid, *args):
    """inflight ps on pid: its output, and its peak RSS in KiB."""
    p = subprocess.Popen([inflight(), "ps", "-p", str(pid), *args], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=NO_QUARANTINE)
    out = p.stdout.read()       # its stderr is a line or two: no pipe fills meanwhile
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    assert p.returncode == 0, err
    return out, usage.ru_maxrss


@test
def ps_on_more_tasks_than_a_snapshot_reads_counts_the_rest():
    w = Workload("task_flood.py")
    try:
        pending = w.do("hold %d" % (SNAPSHOT_MAX_TASKS + 1000))["in_flight"] + 1   # and main()
        out, peak = ps(w.pid, "-f", "json")
        text, _ = ps(w.pid)
    finally:
        w.stop()
    snap = json.loads(out)
    print("    ps read %d tasks of %d, holding %d MiB at its peak" % (
        snap["tasks_total"], pending, peak // 1024))
    expect_eq("tasks read", snap["tasks_total"], SNAPSHOT_MAX_TASKS)
    expect_eq("tasks left out", snap["left_out"], pending - SNAPSHOT_MAX_TASKS)
    expect_eq("complete", snap["complete"], False)
    assert peak <= SNAPSHOT_BOUND_KIB, \
        "ps held %d KiB to read %d tasks (bound %d KiB)" % (peak, SNAPSHOT_MAX_TASKS,
                                                            SNAPSHOT_BOUND_KIB)
    assert "incomplete: %d more tasks" % (pending - SNAPSHOT_MAX_TASKS) in text, text[:600]
