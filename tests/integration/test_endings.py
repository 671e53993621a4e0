"""Processes that leak and then end (dying_service.py): exit, asyncio.run()'s
shutdown, SIGKILL, an unhandled exception, the OOM killer in a memory cgroup
the test makes, and a healthy one. All are traced at once until every one has
gone; each must yield exactly its findings at its marked line, and the report
must say how each ended, on every interpreter present."""
import json
import os
import signal
import tempfile

from harness import Tracer, Workload, site_markers, target_of, tasks_tracked, test
from test_findings import found
from test_tasks import on_every_interpreter

# scenario: (how it ends, as the JSON report's ended object says it, failure?)
ENDINGS = {
    "close_wait_exit": ({"exit_status": 0, "signal": None, "oom_killed": False}, False),
    "task_pileup": ({"exit_status": 0, "signal": None, "oom_killed": False}, False),
    "killed": ({"exit_status": None, "signal": signal.SIGKILL, "oom_killed": False}, False),
    "exception": ({"exit_status": 1, "signal": None, "oom_killed": False}, True),
    "oom": ({"exit_status": None, "signal": signal.SIGKILL, "oom_killed": True}, True),
    "healthy": ({"exit_status": 0, "signal": None, "oom_killed": False}, False),
}
OOM_LIMIT = 256 << 20


class MemoryCgroup:
    """A memory cgroup of its own, small enough for the OOM killer to act in:
    cgroup v1's memory controller where it is mounted, else cgroup v2's."""

    def __init__(self, name):
        v1 = "/sys/fs/cgroup/memory"
        if os.path.exists(os.path.join(v1, "memory.limit_in_bytes")):
            self.path = os.path.join(v1, name)
            limit_file = "memory.limit_in_bytes"
        else:
            root = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") \
                else "/sys/fs/cgroup"
            with open(os.path.join(root, "cgroup.controllers")) as f:
                assert "memory" in f.read().split(), "no memory controller in cgroup v2"
            self.path = os.path.join(root, name)
            limit_file = "memory.max"
        os.makedirs(self.path, exist_ok=True)
        self.write(limit_file, str(OOM_LIMIT))

    def write(self, name, value):
        with open(os.path.join(self.path, name), "w") as f:
            f.write(value)

    def add(self, pid):
        self.write("cgroup.procs", str(pid))

    def remove(self):
        try:
            os.rmdir(self.path)
        except OSError:
            pass


def ended_as_expected(target, scenario):
    want, failure = ENDINGS[scenario]
    ended = target["ended"]
    assert ended and ended["known"], "%s: %s" % (scenario, ended)
    got = {k: ended[k] for k in want}
    assert got == want, "%s ended: inflight says %s, the workload did %s" % (scenario, got, want)
    assert ended["failure"] == failure, (scenario, ended)


def run_endings(python, env=None):
    lines = site_markers("dying_service.py")
    cgroup = MemoryCgroup("inflight-test-oom-%d" % os.getpid())
    workloads = {}
    try:
        for s in ENDINGS:
            workloads[s] = Workload("dying_service.py", python=python, env=env, args=[s],
                                    quiet=True)
        cgroup.add(workloads["oom"].pid)
        # CLOSE_WAIT leaks stay warnings, so that a death can raise them
        config = tempfile.NamedTemporaryFile("w", suffix=".json")
        json.dump({"close_wait_critical": 1000}, config)
        config.flush()
        args = ["-f", "json", "--close-wait-age", "0.5", "--config", config.name]
        for w in workloads.values():
            args += ["-p", str(w.pid)]
        t = Tracer(*args)
        for w in workloads.values():
            w.proc.stdin.write("go\n")
            w.proc.stdin.flush()
        truth = {s: w.read() for s, w in workloads.items()}
        rc, stdout, stderr = t.finish(sig=None, timeout=60)
        assert rc == 0, stderr
        report = json.loads(stdout)
    finally:
        for w in workloads.values():
            w.stop()
        cgroup.remove()
    assert report["end_reason"] == "targets_exited", report["end_reason"]
    for w in workloads.values():
        tasks_tracked(report, w.pid)
    wrong = []
    for s, w in workloads.items():
        want = {(kind, reason, lines[marker]) for kind, reason, marker in truth[s]["expect"]}
        got = found(report, w.pid)
        if got != want:
            wrong.append("%s: expected %s, got %s" % (s, sorted(want, key=str),
                                                       sorted(got, key=str)))
        ended_as_expected(target_of(report, w.pid), s)
    assert not wrong, "; ".join(wrong)
    check_evidence(report, workloads, truth)


def check_evidence(report, workloads, truth):
    """The counts behind the findings, against the workloads' own."""
    # the leak's own finding; Python's warnings about it at exit are another
    by_pid = {f["pid"]: f for f in report["findings"] if f["kind"] != "unclosed-resource"}
    exited = by_pid[workloads["close_wait_exit"].pid]["evidence"]
    assert exited["close_wait"] == truth["close_wait_exit"]["close_wait"], exited
    assert exited["closed_at_exit"] == exited["close_wait"], exited
    pileup = by_pid[workloads["task_pileup"].pid]
    assert pileup["evidence"]["peak_in_flight"] == truth["task_pileup"]["piled"], pileup
    assert pileup["evidence"]["completed"] == 0, pileup
    assert pileup["evidence"]["ended_at_shutdown"] == truth["task_pileup"]["piled"], pileup
    for s in ("close_wait_exit", "killed", "exception", "oom"):
        f = by_pid[workloads[s].pid]
        raised = ENDINGS[s][1]
        assert f["raised_by_how_the_process_ended"] == raised, (s, f)
        assert f["severity"] == ("critical" if raised else "warning"), (s, f)


on_every_interpreter("endings_", run_endings)
