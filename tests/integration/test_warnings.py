"""Python's warnings through CPython's warning funnel, against workloads with
a known answer (warnings_service.py), each scenario its own process, all
traced at once, on every interpreter present, with symbols and stripped:
each yields exactly its finding at the right line, the healthy control none,
and an unclosed connection goes to the coroutine and line that opened it."""
import json
import os
import re
import shutil
import time

from harness import Tracer, Workload, interpreters, site_markers, target_of, test
from test_snapshot import stripped_libpython

SCENARIOS = ["never_awaited", "unclosed", "deprecated", "healthy"]
WARNING_KINDS = {"never-awaited", "unclosed-resource", "deprecated-api"}


def warning_findings(report, pid):
    """(kind, line) of pid's findings from warnings."""
    return {(f["kind"], (f["site"] or {}).get("line")) for f in report["findings"]
            if f["pid"] == pid and f["kind"] in WARNING_KINDS}


def trace_scenarios(python, env):
    workloads = {s: Workload("warnings_service.py", python=python, env=env, args=[s], quiet=True)
                 for s in SCENARIOS}
    try:
        args = ["-f", "json"]
        for w in workloads.values():
            args += ["-p", str(w.pid)]
        t = Tracer(*args)
        for w in workloads.values():
            w.proc.stdin.write("go\n")
            w.proc.stdin.flush()
        answers = {s: w.read() for s, w in workloads.items()}
        time.sleep(0.5)
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
        report = json.loads(stdout)
    finally:
        for w in workloads.values():
            w.stop()
    return report, {s: w.pid for s, w in workloads.items()}, answers


def check_warnings(python, env=None):
    lines = site_markers("warnings_service.py")
    report, pids, answers = trace_scenarios(python, env)
    for pid in pids.values():
        hook = [h for h in target_of(report, pid)["hooks"] if h["name"] == "warnings"][0]
        assert hook["attached"], hook
        # four processes of one build: one probe for all of them, filtered by PID
        assert "shared by the traced processes" in hook["detail"], hook
    wrong = []
    for s, pid in pids.items():
        want = {(kind, lines[marker]) for kind, marker in answers[s]["expect"]}
        got = warning_findings(report, pid)
        if got != want:
            wrong.append("%s: expected %s, got %s" % (s, sorted(want), sorted(got)))
    assert not wrong, "; ".join(wrong)
    unclosed = [f for f in report["findings"]
                if f["pid"] == pids["unclosed"] and f["kind"] == "unclosed-resource"]
    for f in unclosed:
        assert f["coroutine"] == answers["unclosed"]["opener"], f
        assert f["evidence"]["opened_by"]["line"] == lines["opener"], f
    never = [f for f in report["findings"] if f["kind"] == "never-awaited"][0]
    assert never["evidence"]["coroutine"] == "notify", never


def register(name, python, stripped):
    variants = [("_distribution_stripped", False)] if stripped else \
        [("", False), ("_stripped_libpython", True)]
    for suffix, strip_copy in variants:
        def run(strip_copy=strip_copy):
            copy = stripped_libpython(python) if strip_copy else None
            try:
                check_warnings(python, dict(os.environ, LD_LIBRARY_PATH=copy) if copy else None)
            finally:
                if copy:
                    shutil.rmtree(copy)
        run.__name__ = "warnings_" + re.sub(r"\W", "_", name) + suffix
        test(run)


for interp in interpreters()[0]:
    register(*interp)
