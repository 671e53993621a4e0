"""Findings against workloads with a known answer (findings_suite.py), each
scenario its own process, all traced at once, on every interpreter present:
every workload must yield exactly the findings it should, at the right line."""
import json
import os
import re
import tempfile
import time

from harness import (Tracer, Workload, interpreters, site_markers, target_of, tasks_tracked,
                     test)
from test_tasks import on_every_interpreter

SCENARIOS = ["unbounded", "bounded", "taskgroup", "nested", "fire_and_forget", "forever",
             "close_wait", "pool", "threads"]


def found(report, pid):
    """The findings for pid as (kind, reason, line) triples."""
    out = set()
    for f in report["findings"]:
        if f["pid"] != pid:
            continue
        reason = f["evidence"].get("reason")
        out.add((f["kind"], reason, (f["site"] or {}).get("line")))
    return out


def trace_suite(python, env=None, mode=()):
    """Every scenario traced at once (mode: extra options, as ["--sampled"]):
    (report, {scenario: pid}, {scenario: the findings it expects})."""
    minor = int(re.search(r"python3\.(\d+)", python).group(1))
    scenarios = [s for s in SCENARIOS if s != "taskgroup" or minor >= 11]
    workloads = {s: Workload("findings_suite.py", python=python, env=env, args=[s], quiet=True)
                 for s in scenarios}
    # A stuck task must be stuck_lifetime_factor times older than its siblings'
    # lifetime as seen (creation to the poll that sees them done): ~0.1 s idle, up to
    # ~0.3 s with sanitized tracers on a loaded host. At the default 10, the stuck
    # tasks' ~3 s came within noise of that; at 4 they are clear of it (the factor
    # itself is unit-tested). --sampled bounds the lifetime of siblings no read
    # showed by the time between two reads of their process, up to ~1.6 s here
    # while the sanitized tracer reads all nine busy processes on a host at load
    # 10: its stuck tasks are given 3 seconds more and the factor 2 (and no other
    # scenario may show a stuck task even so).
    sampled = "--sampled" in mode
    config = tempfile.NamedTemporaryFile("w", suffix=".json")
    json.dump({"stuck_lifetime_factor": 2 if sampled else 4}, config)
    config.flush()
    try:
        args = ["-f", "json", "--close-wait-age", "0.5", "--stuck-age", "1", "--config", config.name,
                *mode]
        for w in workloads.values():
            args += ["-p", str(w.pid)]
        t = Tracer(*args)
        for w in workloads.values():
            w.proc.stdin.write("go\n")
            w.proc.stdin.flush()
        expected = {s: w.read()["expect"] for s, w in workloads.items()}
        time.sleep(5.0 if sampled else 2.0)
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
        report = json.loads(stdout)
    finally:
        for w in workloads.values():
            w.stop()
        config.close()
    for w in workloads.values():
        tasks_tracked(report, w.pid)
    return report, {s: w.pid for s, w in workloads.items()}, expected


def run_suite(python, env=None):
    lines = site_markers("findings_suite.py")
    report, pids, expected = trace_suite(python, env)
    wrong = []
    for s, pid in pids.items():
        want = {(kind, reason, lines[marker]) for kind, reason, marker in expected[s]}
        got = found(report, pid)
        if got != want:
            wrong.append("%s: expected %s, got %s" % (s, sorted(want, key=str),
                                                       sorted(got, key=str)))
    assert not wrong, "; ".join(wrong)
    nested = [f for f in report["findings"] if f["pid"] == pids["nested"]][0]
    assert (nested["evidence"]["inside"] or {}).get("line") == lines["nested_outer"], nested


on_every_interpreter("findings_suite_", run_suite)

# What --sampled finds, scenario by scenario, as sets of (kind, reason, marker)
# any one of which is right. A task it first sees in memory has the line where
# its awaiter (else its coroutine) is suspended, not where it was created: a
# TaskGroup's children the 'async with' line, a fire-and-forget task the line
# its coroutine waits at, 'forever's stuck tasks the line they wait at. A task
# that ends between two reads is not seen: a connection it opened goes to the
# line that opened it (close_wait's tasks end at once, read or not); 'forever's
# 180 short tasks are counted by their numbers (Task-N), which lie between the
# stuck ones', and judged their siblings (or, when a read caught them, seen
# finishing: a coroutine's lines are judged together). A task destroyed
# pending that no read showed is placed from the finalizer probe's look at its
# coroutine's frame; on 3.9 and 3.10 the cyclic GC may have closed the
# coroutine first (its frame gone), on 3.15 leaving it at its 'def' line: such
# tasks are counted in their process, in no line, so fire_and_forget's finding
# there needs a read to have seen its tasks (they live 0.2 s).
SAMPLED_EXPECT = {
    "taskgroup": [{("unbounded-fanout", None, "taskgroup_seen")}],
    "fire_and_forget": [{("task-leak", "destroyed_pending", "never_seen")}],
    "forever": [{("task-leak", "stuck", "forever_seen")}],
    "close_wait": [{("connection-leak", "close_wait", "leak_one_seen")},
                   {("connection-leak", "close_wait", "close_wait")}],
}


def run_sampled_suite(python, env=None):
    lines = site_markers("findings_suite.py")
    minor = int(re.search(r"python3\.(\d+)", python).group(1))
    report, pids, expected = trace_suite(python, env, ["--sampled"])
    assert report["tracer"]["mode"] == "sampled", report["tracer"]
    wrong = []
    for s, pid in pids.items():
        choices = SAMPLED_EXPECT.get(s, [{tuple(e) for e in expected[s]}])
        if s == "fire_and_forget" and (minor <= 10 or minor >= 15):
            choices = choices + [set()]
        wants = [{(kind, reason, lines[marker]) for kind, reason, marker in c} for c in choices]
        got = found(report, pid)
        if got not in wants:
            wrong.append("%s: expected one of %s, got %s" % (s, wants, sorted(got, key=str)))
            if s == "forever":  # what its stuck tasks were judged against
                wrong.append(str([(x["line"], x["in_flight"], x["lifetimes"],
                                   x.get("short_unseen"), x.get("short_unseen_within_s"))
                                  for x in target_of(report, pid)["tasks"]["sites"]
                                  if x["coroutine"] == "request"]))
    assert not wrong, "; ".join(wrong)
    for t in report["targets"]:
        hook = [h for h in t["hooks"] if h["name"] == "asyncio_tasks"][0]
        assert [p["what"] for p in hook["probes"]] == ["Task finalizer, pending path"], hook
        assert all(s["kind"] == "seen_at" for s in t["tasks"]["sites"]), t["tasks"]["sites"]
    nested = [f for f in report["findings"] if f["pid"] == pids["nested"]][0]
    assert (nested["evidence"]["inside"] or {}).get("line") == lines["nested_outer"], nested
    assert "traced --sampled" in nested["caveat"], nested
    # judged against the request tasks that finished, seen or counted by their numbers: said so
    stuck = [f for f in report["findings"] if f["pid"] == pids["forever"]][0]
    assert "judged against the finished request tasks" in stuck["caveat"], stuck
    if stuck["evidence"]["short_unseen"]:
        assert "weaker inference" in stuck["caveat"], stuck
        within = stuck["evidence"]["short_unseen_within_s"]
        assert 0 < within < stuck["evidence"]["oldest_age_s"], stuck
    # each of the 300 call_backend tasks opens one connection: all at the gather's line
    site = [x for x in target_of(report, pids["unbounded"])["tasks"]["sites"]
            if x["line"] == lines["unbounded"] and x["coroutine"] == "call_backend"]
    assert [x["connections"]["opened"] for x in site] == [300], site


on_every_interpreter("findings_suite_sampled_", run_sampled_suite)


@test
def thresholds_from_a_config_file_and_options_over_it():
    import tempfile
    lines = site_markers("findings_suite.py")
    with tempfile.NamedTemporaryFile("w", suffix=".json") as config:
        json.dump({"fanout_tasks": 1000, "stuck_age_s": 5}, config)
        config.flush()
        for extra, want in (([], set()),
                            (["--fanout-tasks", "100"],
                             {("unbounded-fanout", None, lines["unbounded"])})):
            w = Workload("findings_suite.py", args=["unbounded"], quiet=True)
            try:
                t = Tracer("-p", str(w.pid), "-f", "json", "--config", config.name, *extra)
                w.proc.stdin.write("go\n")
                w.proc.stdin.flush()
                w.read()
                rc, stdout, stderr = t.finish()
                assert rc == 0, stderr
                report = json.loads(stdout)
            finally:
                w.stop()
            assert found(report, w.pid) == want, (extra, report["findings"])
            assert report["thresholds"]["stuck_age_s"] == 5, report["thresholds"]


def aiohttp_main_task_owns_its_sessions(python):
    """A main() started before the trace opens 300 aiohttp sessions and never
    closes them: nothing awaits its task, so it is a line of its own (where it
    was suspended at attach), and the sessions' connections are its leak."""
    lines = site_markers("aiohttp_sessions.py")
    env = dict(os.environ, PYTHONPATH="/usr/lib/python3/dist-packages")
    w = Workload("aiohttp_sessions.py", python=python, env=env, quiet=True)
    try:
        t = Tracer("-p", str(w.pid), "-f", "json")
        w.proc.stdin.write("go\n")
        w.proc.stdin.flush()
        truth = w.read()
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
        report = json.loads(stdout)
    finally:
        w.stop()
    want = {(kind, reason, lines[marker]) for kind, reason, marker in truth["expect"]}
    got = found(report, w.pid)
    assert got == want, (sorted(got, key=str), sorted(want, key=str))
    site = [s for s in target_of(report, w.pid)["tasks"]["sites"] if s["line"] == lines["main"]]
    assert len(site) == 1, site
    site = site[0]
    assert (site["kind"], site["task_name"], site["coroutine"]) == \
        ("suspended_at", "Task-1", "main"), site
    assert site["connections"]["opened"] == truth["opened"], site
    assert site["at_attach"] == 1, site


def register_aiohttp(name, python):
    def run():
        aiohttp_main_task_owns_its_sessions(python)
    run.__name__ = "aiohttp_main_task_owns_its_sessions_" + re.sub(r"\W", "_", name)
    test(run)


# Debian's python3-aiohttp is built for its python3.11; pyenv's 3.11 loads it too
for interp in interpreters()[0]:
    if re.search(r"3\.11", interp[0]) and os.path.isdir("/usr/lib/python3/dist-packages/aiohttp"):
        register_aiohttp(interp[0], interp[1])
