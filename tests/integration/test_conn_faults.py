"""Connection tracking under faults: dup calls that close nothing, tables and ring
buffers too small for the load, inflight killed mid-trace, several inflights and
many targets at once. Checked against the workloads' own counts and ss(8)."""
import json
import signal
import subprocess

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
