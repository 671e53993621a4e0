"""Connection tracking under faults: dup calls that close nothing, tables and ring
buffers too small for the load, inflight killed mid-trace, several inflights and
many targets at once. Checked against the workloads' own counts and ss(8)."""
import json
import os
import signal
import subprocess
import tempfile
import time

import harness
from harness import (SS_NAMES, Tracer, Workload, expect_eq, site_markers, ss_states, target_of,
                     test)


@test
def bad_table_and_ring_sizes_exit_2_with_a_reason():
    cases = [
        (["--max-sockets", "0"], "invalid socket count"),
        (["--max-sockets", "5M"], "invalid socket count"),
        (["--max-sockets", "12x"], "invalid socket count"),
        (["--ring-size", "1000"], "invalid ring buffer size"),
        (["--ring-size", "12K"], "invalid ring buffer size"),
        (["--ring-size", "2G"], "invalid ring buffer size"),
        (["--ring-size", "-4096"], "invalid ring buffer size"),
    ]
    for args, words in cases:
        r = subprocess.run([harness.inflight(), "trace", "-p", "1", *args], capture_output=True,
                           text=True, timeout=30)
        assert r.returncode == 2, (args, r)
        assert r.stderr.startswith("inflight: ") and words in r.stderr, (args, r.stderr)
        assert r.stdout == "", (args, r.stdout)


@test
def failed_or_idle_dup_keeps_the_socket_open():
    w = Workload()
    try:
        t = Tracer("-p", str(w.pid), "-f", "json")
        w.do("mark")
        w.do("hold 1")
        truth = w.do("dupmiss")
        ss = ss_states(w.pid)
        rc, stdout, stderr = t.finish(signal.SIGINT)
        assert rc == 0, stderr
        report = json.loads(stdout)
        conns = target_of(report, w.pid)["connections"]
        expect_eq("open vs ss", conns["open"], sum(ss.values()))
        expect_eq("by_state vs ss", conns["by_state"], {SS_NAMES[k]: v for k, v in ss.items()})
        expect_eq("opened", conns["opened"], truth["connected"] + truth["accepted"])
        expect_eq("closed", conns["closed"], truth["closed"])
        expect_eq("closes seen only at the end", report["tracer"]["closes_unseen"], 0)
    finally:
        w.stop()


@test
def sockets_found_at_attach_past_the_table_are_counted():
    w = Workload()
    try:
        w.do("hold 6")     # 12 connections open at attach: 6 outbound, 6 inbound
        t = Tracer("-p", str(w.pid), "-f", "json", "--max-sockets", "4")
        w.do("mark")
        truth = w.do("churn 2")
        rc, stdout, stderr = t.finish(signal.SIGINT)
        assert rc == 0, stderr
        report = json.loads(stdout)
        conns = target_of(report, w.pid)["connections"]
        expect_eq("open at attach", conns["open_at_attach"], 12)
        expect_eq("found at attach with no room in the kernel's table",
                  report["tracer"]["found_table_full"], 12 - 4)
        expect_eq("closed", conns["closed"], truth["closed"])
        r = subprocess.run([harness.inflight(), "trace", "-p", str(w.pid), "-d", "1",
                            "--max-sockets", "4"], capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert "8 connections found at attach it had no room for" in r.stdout, r.stdout
    finally:
        w.stop()


def trace_with_a_tiny_ring(quit_at_end):
    """Three CLOSE_WAIT leaks, then connections opened slowly enough for a
    one-page ring buffer, and closed all at once, too fast for it. Gives the report, the workload's counts,
    and ss's CLOSE-WAIT count while it ran."""
    w = Workload()
    try:
        t = Tracer("-p", str(w.pid), "-f", "json", "--ring-size", "4096",
                   "--close-wait-age", "0.5")
        w.do("mark")
        w.do("leak 3")
        time.sleep(1)      # the three are leaks by now
        w.do("burst 100 1")
        truth = w.do("burst 100 1")
        time.sleep(1)      # what was dropped now looks like CLOSE_WAIT past the age
        close_wait = ss_states(w.pid).get("CLOSE-WAIT", 0)
        if quit_at_end:
            w.proc.stdin.write("quit\n")
            w.proc.stdin.flush()
            w.proc.wait()
        rc, stdout, stderr = t.finish(None if quit_at_end else signal.SIGINT)
        assert rc == 0, stderr
        return json.loads(stdout), truth, close_wait
    finally:
        w.stop()


def expect_only_the_real_leaks(report, close_wait):
    assert report["tracer"]["ringbuf_drops"] > 0, "the ring buffer was big enough: no test"
    expect_eq("CLOSE_WAIT by ss", close_wait, 3)
    leaks = [f for f in report["findings"] if f["kind"] == "connection-leak"]
    expect_eq("connection leaks", [(f["evidence"]["reason"], f["evidence"].get("close_wait"))
                                   for f in leaks], [("close_wait", close_wait)])
    for f in report["findings"]:
        assert "counts may be off" in (f.get("caveat") or ""), f


@test
def tiny_ring_live_target_no_dropped_close_is_a_leak():
    report, truth, close_wait = trace_with_a_tiny_ring(quit_at_end=False)
    expect_only_the_real_leaks(report, close_wait)
    conns = target_of(report, truth["pid"])["connections"]
    expect_eq("open", conns["open"], close_wait)


@test
def tiny_ring_exited_target_no_dropped_close_is_a_leak():
    report, truth, close_wait = trace_with_a_tiny_ring(quit_at_end=True)
    expect_eq("end_reason", report["end_reason"], "targets_exited")
    expect_only_the_real_leaks(report, close_wait)


def bpftool(*args):
    return json.loads(subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True,
                                     check=True).stdout or "[]")


def objects_of(pid):
    """The BPF programs (their ids) pid has attached, and the maps they use."""
    progs = {p["prog_id"] for p in bpftool("perf", "show") if p["pid"] == pid}
    maps = {m for p in bpftool("prog", "show") if p["id"] in progs for m in p.get("map_ids", [])}
    return progs, maps


def uprobe_events():
    """/uprobe_events of a tracefs mounted in a mount namespace of our own (nothing
    is mounted on the host): probes made through tracefs outlive their maker."""
    r = subprocess.run(["unshare", "--mount", "sh", "-c",
                        "mount -t tracefs nodev /mnt && cat /mnt/uprobe_events"],
                       capture_output=True, text=True, check=True)
    return r.stdout


def still_loaded(progs, maps):
    """Those of progs and maps the kernel still holds, once it has had a moment
    (it frees them after the last reference goes, not at once)."""
    for _ in range(50):
        left = ({p["id"] for p in bpftool("prog", "show")} & progs,
                {m["id"] for m in bpftool("map", "show")} & maps,
                {k.get("prog_id") for k in bpftool("link", "show")} & progs)
        if not any(left):
            break
        time.sleep(0.1)
    return left


@test
def sigkill_mid_trace_leaves_nothing_behind():
    w = Workload()
    try:
        w.do("hold 2")
        uprobes_before = uprobe_events()
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "report.json")
            t = Tracer("-p", str(w.pid), "-f", "json", "-o", out)
            progs, maps = objects_of(t.proc.pid)
            kinds = {p["fd_type"] for p in bpftool("perf", "show") if p["pid"] == t.proc.pid}
            assert {"uprobe", "tracepoint", "raw_tracepoint"} <= kinds, kinds
            w.do("churn 3")
            t.proc.kill()
            t.proc.communicate(timeout=30)
            expect_eq("programs, maps and links left", still_loaded(progs, maps),
                      (set(), set(), set()))
            expect_eq("uprobe_events", uprobe_events(), uprobes_before)
            expect_eq("files left in the -o directory", os.listdir(d), [])
            assert not os.path.exists("/sys/fs/bpf") or not os.listdir("/sys/fs/bpf"), \
                os.listdir("/sys/fs/bpf")

            t = Tracer("-p", str(w.pid), "-f", "json", "-o", out)
            w.do("mark")
            truth = w.do("churn 3")
            rc, _, stderr = t.finish(signal.SIGINT)
            assert rc == 0, stderr
            expect_eq("files in the -o directory", os.listdir(d), ["report.json"])
            report = json.load(open(out))
        conns = target_of(report, w.pid)["connections"]
        expect_eq("open at attach", conns["open_at_attach"], 2 * 2)
        expect_eq("opened", conns["opened"], truth["connected"] + truth["accepted"])
        expect_eq("closed", conns["closed"], truth["closed"])
        expect_eq("ring buffer drops", report["tracer"]["ringbuf_drops"], 0)
    finally:
        w.stop()


def task_site(report, pid, line, coroutine):
    sites = [s for s in target_of(report, pid)["tasks"]["sites"]
             if s["file"].endswith("task_service.py") and s["line"] == line and
             s["coroutine"] == coroutine]
    assert len(sites) == 1, (line, coroutine, target_of(report, pid)["tasks"]["sites"])
    return sites[0]


@test
def two_inflights_on_one_target_each_report_it_all():
    """Both trace the fan-out and the connections; the first to end detaches
    while the other still traces the leak that follows."""
    lines = site_markers("task_service.py")
    w = Workload("task_service.py")
    try:
        first = Tracer("-p", str(w.pid), "-f", "json", "--close-wait-age", "0.3")
        second = Tracer("-p", str(w.pid), "-f", "json", "--close-wait-age", "0.3")
        w.do("mark")
        fanout = w.do("fanout 200")["in_flight"]
        w.do("release")
        w.do("connect 20")
        w.do("release")
        rc, stdout, stderr = second.finish(signal.SIGINT)
        assert rc == 0, stderr
        early = json.loads(stdout)
        w.do("leak 5")
        time.sleep(0.5)
        close_wait = ss_states(w.pid).get("CLOSE-WAIT", 0)
        rc, stdout, stderr = first.finish(signal.SIGINT)
        assert rc == 0, stderr
        late = json.loads(stdout)
    finally:
        w.stop()
    expect_eq("the workload's fan-out", fanout, 200)
    expect_eq("CLOSE_WAIT by ss", close_wait, 5)
    for name, report in (("first", late), ("second", early)):
        expect_eq(name + ": fan-out tasks", task_site(report, w.pid, lines["fanout"],
                                                      "waiter")["created"], 200)
        s = task_site(report, w.pid, lines["connect"], "hold_connection")
        expect_eq(name + ": connections of the connect site", s["connections"]["opened"], 20)
        expect_eq(name + ": ring buffer drops", report["tracer"]["ringbuf_drops"], 0)
        expect_eq(name + ": task ring buffer drops", report["tracer"]["task_ringbuf_drops"], 0)
    leaks = [f for f in late["findings"] if f["kind"] == "connection-leak"]
    expect_eq("first: leaks", [(f["evidence"]["reason"], f["evidence"]["close_wait"])
                               for f in leaks], [("close_wait", close_wait)])
    expect_eq("second: leaks", [f for f in early["findings"] if f["kind"] == "connection-leak"],
              [])


MANY = 200


@test
def two_hundred_targets_at_once():
    """One trace of 200 asyncio processes (forked by many_services.py), each
    checked against its own counts. They share one interpreter's uprobes, so
    the attach, which reads each target's sockets, takes most of the time."""
    line = site_markers("many_services.py")["work"]
    w = Workload("many_services.py", args=(str(MANY),))
    try:
        pids = w.hello["children"]
        t = Tracer(*[arg for pid in pids for arg in ("-p", str(pid))], "-f", "json")
        truth = {c["pid"]: c for c in w.do("work")["children"]}
        rc, stdout, stderr = t.finish(signal.SIGINT, timeout=300)
        assert rc == 0, stderr
        report = json.loads(stdout)
    finally:
        w.stop()
    expect_eq("targets", sorted(x["pid"] for x in report["targets"]), sorted(pids))
    for pid in pids:
        target, want = target_of(report, pid), truth[pid]
        conns = target["connections"]
        expect_eq("%d: opened" % pid, conns["opened"], want["connected"] + want["accepted"])
        expect_eq("%d: closed" % pid, conns["closed"], want["closed"])
        expect_eq("%d: open" % pid, conns["open"], 2)
        hooks = {h["name"]: h["attached"] for h in target["hooks"]}
        assert hooks.get("asyncio_tasks") and hooks.get("connections"), (pid, target["hooks"])
        sites = [s for s in target["tasks"]["sites"]
                 if s["file"].endswith("many_services.py") and s["line"] == line]
        expect_eq("%d: tasks from the work line" % pid, [s["created"] for s in sites], [3])
    for key in ("ringbuf_drops", "sock_table_full", "task_ringbuf_drops", "untracked_tasks",
                "unmatched_events"):
        expect_eq(key, report["tracer"][key], 0)
