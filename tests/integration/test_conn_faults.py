"""Connection tracking under faults: dup calls that close nothing, tables and ring
buffers too small for the load, inflight killed mid-trace, several inflights and
many targets at once. Checked against the workloads' own counts and ss(8)."""
import json
import signal
import subprocess
import time

import harness
from harness import SS_NAMES, Tracer, Workload, expect_eq, ss_states, target_of, test


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
