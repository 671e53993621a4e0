"""Connection tracking and the CLI, against conn_service.py's own counts and ss(8)."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import harness
from harness import (SS_NAMES, Tracer, Workload, expect_eq, leak_findings, run_inflight,
                     ss_states, target_of, test)


# --- bad input ---------------------------------------------------------------

@test
def help_and_version():
    r = run_inflight("--help")
    assert r.returncode == 0 and "Usage: inflight" in r.stdout, r
    r = run_inflight("trace", "--help")
    assert r.returncode == 0 and "--duration" in r.stdout and "Examples" in r.stdout, r
    r = run_inflight("--version")
    assert r.returncode == 0 and re.match(r"inflight \d+\.\d+\.\d+", r.stdout), r


@test
def bad_options_exit_2_with_a_reason():
    cases = [
        (["frobnicate"], "unknown command"),
        (["trace"], "-p PID"),
        (["trace", "-p", "abc"], "invalid PID"),
        (["trace", "-p", "0"], "invalid PID"),
        (["trace", "-p", "1", "-d", "-3"], "invalid duration"),
        (["trace", "-p", "1", "-d", "nan"], "invalid duration"),
        (["trace", "-p", "1", "-i", "0"], "invalid interval"),
        (["trace", "-p", "1", "-f", "xml"], "invalid format"),
        (["trace", "-p", "1", "--bogus"], "invalid option"),
        (["trace", "-p", "1", "--lean=yes"], "option '--lean' takes no value"),
        (["trace", "-p", "1", "extra"], "unexpected argument"),
        (["trace", "-p", "1", "-d"], "needs a value"),
        (["trace", "-p", "1", "--fanout-tasks", "0"], "invalid fan-out task count"),
        (["trace", "-p", "1", "--config", "/nonexistent.json"], "bad config file"),
        (["trace", "-p", "1", "--lean", "--sampled"], "give one of them"),
        (["trace", "-p", "1", "--sample-period", "1"], "add --sampled"),
        (["trace", "-p", "1", "--sampled", "--sample-period", "0.01"], "invalid sample period"),
    ]
    for args, words in cases:
        r = run_inflight(*args)
        assert r.returncode == 2, (args, r)
        assert words in r.stderr and r.stderr.startswith("inflight: "), (args, r.stderr)
        assert r.stdout == "", (args, r.stdout)


@test
def missing_pid_exits_2_and_writes_no_file():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "report.json")
        pid = subprocess.Popen(["true"])
        pid.wait()
        r = run_inflight("trace", "-p", str(pid.pid), "-o", out)
        assert r.returncode == 2, r
        assert "no process with PID %d" % pid.pid in r.stderr, r.stderr
        assert os.listdir(d) == [], os.listdir(d)


@test
def thread_id_is_refused():
    w = Workload()   # run_in_executor gives it a second thread
    try:
        w.do("report")   # by now its stdin reader runs in an executor thread
        tids = [int(t) for t in os.listdir("/proc/%d/task" % w.pid) if int(t) != w.pid]
        assert tids, "workload has no second thread"
        r = run_inflight("trace", "-p", str(tids[0]), "-d", "1")
        assert r.returncode == 2 and "thread, not a process" in r.stderr, r
    finally:
        w.stop()


@test
def unwritable_output_exits_2_before_attaching():
    w = Workload()
    try:
        r = run_inflight("trace", "-p", str(w.pid), "-o", "/nonexistent-dir/report.json")
        assert r.returncode == 2, r
        assert "cannot write the report" in r.stderr and "-o" in r.stderr, r.stderr
        assert "Tracing" not in r.stderr, r.stderr
    finally:
        w.stop()


@test
def unprivileged_user_is_told_what_is_missing():
    w = Workload()
    try:
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            "--inh-caps=-all", harness.inflight(), "trace", "-p", str(w.pid)],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 2, r
        assert "not enough privileges" in r.stderr and "root" in r.stderr, r.stderr
    finally:
        w.stop()


# --- connection tracking -----------------------------------------------------

@test
def connections_match_workload_and_ss():
    w = Workload()
    try:
        w.do("hold 3")        # open before attach: 3 outbound + 3 inbound ESTABLISHED
        w.do("leak 2")        # open before attach: 2 in CLOSE_WAIT
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "report.json")
            t = Tracer("-p", str(w.pid), "-f", "json", "-o", out, "--close-wait-age", "1")
            w.do("mark")
            w.do("hold 4")
            w.do("leak 5")
            w.do("churn 10")
            truth = w.do("dupclose")
            time.sleep(1.5)   # CLOSE_WAIT sockets now older than --close-wait-age
            ss = ss_states(w.pid)
            rc, stdout, stderr = t.finish(signal.SIGINT)
            assert rc == 0, stderr
            assert stdout == "", "report went to stdout despite -o"
            report = json.load(open(out))
        conns = target_of(report, w.pid)["connections"]
        expect_eq("end_reason", report["end_reason"], "interrupted")
        expect_eq("open at attach", conns["open_at_attach"], 3 * 2 + 2)
        expect_eq("opened", conns["opened"], truth["connected"] + truth["accepted"])
        expect_eq("closed", conns["closed"], truth["closed"])
        expect_eq("open vs ss", conns["open"], sum(ss.values()))
        expect_eq("by_state vs ss", conns["by_state"],
                  {SS_NAMES[k]: v for k, v in ss.items()})
        expect_eq("lifetimes", conns["lifetimes"]["count"], truth["closed"])
        assert conns["peak_open"] >= conns["open"], conns
        assert conns["connect_calls"] >= truth["connected"], conns
        assert conns["accept_calls"] >= truth["accepted"], conns
        leaks = leak_findings(report, "close_wait")
        assert len(leaks) == 1, report["findings"]
        expect_eq("CLOSE_WAIT in finding vs ss", leaks[0]["evidence"]["close_wait"],
                  ss.get("CLOSE-WAIT"))
        expect_eq("CLOSE_WAIT count", ss.get("CLOSE-WAIT"), 2 + 5)
        expect_eq("leak endpoint", [e["endpoint"] for e in leaks[0]["evidence"]["endpoints"]],
                  ["127.0.0.1:%d" % w.ports["hang_up"]])
        assert leaks[0]["evidence"]["age_is_lower_bound"], "2 leaked before attach"
        for key in ("kind", "severity", "pid", "summary", "evidence", "remediation"):
            assert key in leaks[0], key
        expect_eq("ring buffer drops", report["tracer"]["ringbuf_drops"], 0)
        expect_eq("unmatched events", report["tracer"]["unmatched_events"], 0)
    finally:
        w.stop()


@test
def ipv6_endpoints():
    w = Workload()
    try:
        t = Tracer("-p", str(w.pid), "-f", "json")
        w.do("hold 2 v6")
        ss = ss_states(w.pid)
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
        conns = target_of(json.loads(stdout), w.pid)["connections"]
        expect_eq("open vs ss", conns["open"], sum(ss.values()))
        endpoints = {(e["direction"], e["endpoint"]): e["open"] for e in conns["endpoints"]}
        expect_eq("IPv6 endpoints", endpoints,
                  {("outbound", "[::1]:%d" % w.ports["::1"]): 2,
                   ("inbound", "[::1]:%d" % w.ports["::1"]): 2})
    finally:
        w.stop()


@test
def target_exit_ends_the_trace_with_a_report():
    w = Workload()
    try:
        t = Tracer("-p", str(w.pid), "-f", "json")
        w.do("mark")
        truth = w.do("hold 3")
        w.proc.stdin.write("quit\n")
        w.proc.stdin.flush()
        w.proc.wait(timeout=10)
        rc, stdout, stderr = t.finish(sig=None)
        assert rc == 0, stderr
        report = json.loads(stdout)
        expect_eq("end_reason", report["end_reason"], "targets_exited")
        target = target_of(report, w.pid)
        assert target["exited"], target
        expect_eq("opened", target["connections"]["opened"], truth["connected"] + truth["accepted"])
        expect_eq("open after exit", target["connections"]["open"], 0)
        expect_eq("peak", target["connections"]["peak_open"], 6)
    finally:
        w.stop()


@test
def a_second_ctrl_c_during_the_detach_keeps_the_report():
    """Detaching waits ~90 ms a probe in the kernel, one after another: with six
    targets, over a second and a half. An impatient user's second Ctrl-C half a
    second after the first lands in it, and must not cost the report."""
    ws = [Workload() for _ in range(6)]
    out_dir = tempfile.mkdtemp()
    path = os.path.join(out_dir, "report.json")
    try:
        args = [a for w in ws for a in ("-p", str(w.pid))]
        t = Tracer(*args, "-f", "json", "-o", path)
        truth = ws[0].do("hold 2")
        t.proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        rc, _, stderr = t.finish()
        expect_eq("exit on the second Ctrl-C, still detaching", rc, -signal.SIGINT)
        assert os.path.exists(path), "no report: %s" % stderr
        with open(path) as f:
            report = json.load(f)
        expect_eq("end_reason", report["end_reason"], "interrupted")
        expect_eq("targets", sorted(x["pid"] for x in report["targets"]),
                  sorted(w.pid for w in ws))
        expect_eq("opened", target_of(report, ws[0].pid)["connections"]["opened"],
                  truth["connected"] + truth["accepted"])
    finally:
        for w in ws:
            w.stop()
        shutil.rmtree(out_dir, ignore_errors=True)


@test
def untraced_process_is_not_counted():
    traced, other = Workload(), Workload()
    try:
        t = Tracer("-p", str(traced.pid), "-f", "json", "-d", "30")
        other.do("hold 5")
        other.do("churn 5")
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
        report = json.loads(stdout)
        expect_eq("targets", [x["pid"] for x in report["targets"]], [traced.pid])
        conns = target_of(report, traced.pid)["connections"]
        expect_eq("opened by the traced process", conns["opened"], 0)
        expect_eq("events", report["tracer"]["events"], 0)
    finally:
        traced.stop()
        other.stop()


@test
def several_targets_in_one_trace():
    a, b = Workload(), Workload()
    try:
        t = Tracer("-p", str(a.pid), "-p", str(b.pid), "-f", "json")
        a.do("mark")
        b.do("mark")
        ta = a.do("hold 2")
        tb = b.do("churn 3")
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
        assert "Tracing PIDs" in stderr, stderr
        report = json.loads(stdout)
        ca, cb = (target_of(report, x.pid)["connections"] for x in (a, b))
        expect_eq("a opened", ca["opened"], ta["connected"] + ta["accepted"])
        expect_eq("b opened", cb["opened"], tb["connected"] + tb["accepted"])
        expect_eq("b closed", cb["closed"], tb["closed"])
    finally:
        a.stop()
        b.stop()


@test
def growth_without_plateau_is_a_leak():
    w = Workload()
    try:
        t = Tracer("-p", str(w.pid), "-f", "json", "-d", "8")
        w.do("grow 60 10")    # still climbing when the trace ends
        rc, stdout, stderr = t.finish(sig=None)
        assert rc == 0, stderr
        report = json.loads(stdout)
        expect_eq("end_reason", report["end_reason"], "duration")
        growth = leak_findings(report, "growth")
        assert len(growth) == 1, report["findings"]
        ev = growth[0]["evidence"]
        assert ev["open_last"] - ev["open_first"] >= 80, ev   # ~48 connections by 8 s, both ends
        assert not leak_findings(report, "close_wait"), report["findings"]
    finally:
        w.stop()


@test
def plateau_is_not_a_leak():
    w = Workload()
    try:
        t = Tracer("-p", str(w.pid), "-f", "json", "-d", "9")
        w.do("grow 60 3")     # climbs for 3 s, then flat for 6
        rc, stdout, stderr = t.finish(sig=None)
        assert rc == 0, stderr
        report = json.loads(stdout)
        expect_eq("findings", report["findings"], [])
        expect_eq("open", target_of(report, w.pid)["connections"]["open"], 120)
    finally:
        w.stop()


@test
def text_report_and_live_summary():
    w = Workload()
    try:
        w.do("leak 3")
        t = Tracer("-p", str(w.pid), "-d", "2.5", "-i", "0.5", "--close-wait-age", "0")
        rc, stdout, stderr = t.finish(sig=None)
        assert rc == 0, stderr
        summaries = [l for l in stderr.splitlines() if re.match(r"\[\s*[\d.]+s\] pid %d:" % w.pid, l)]
        assert len(summaries) >= 3, stderr
        assert "3 CLOSE_WAIT" in summaries[-1], summaries[-1]
        assert stdout.index("FINDINGS") < stdout.index("PROCESS %d" % w.pid), stdout
        assert "[warning] connection-leak  pid %d" % w.pid in stdout, stdout
        assert "127.0.0.1:%d" % w.ports["hang_up"] in stdout, stdout
        assert "ended: duration" in stdout, stdout
    finally:
        w.stop()




@test
def a_closed_terminal_ends_the_trace_with_its_report():
    """SIGHUP (the SSH session to the host dropped) detaches and writes the
    report, as Ctrl-C does."""
    w = Workload("conn_service.py")
    try:
        t = Tracer("-p", str(w.pid), "-f", "json")
        w.do("mark")
        w.do("hold 2")
        truth = w.do("report")
        rc, out, err = t.finish(sig=signal.SIGHUP)
    finally:
        w.stop()
    expect_eq("exit status after SIGHUP", rc, 0)
    expect_eq("connections opened", target_of(json.loads(out), w.pid)["connections"]["opened"],
              truth["connected"] + truth["accepted"])
