"""Connection tracking under faults: dup calls that close nothing, tables and ring
buffers too small for the load, inflight killed mid-trace, several inflights and
many targets at once. Checked against the workloads' own counts and ss(8)."""
import json
import signal

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
