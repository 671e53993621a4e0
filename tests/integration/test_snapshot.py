"""inflight ps and pstree on every CPython present, with symbols and stripped,
against snapshot_service.py's own record taken at the same moment: per loop
len(asyncio.all_tasks()), each task's coroutine and suspension line, and the
task awaiting it as the workload set it up."""
import glob
import json
import os
import shutil
import subprocess
import signal
import tempfile
import time

from harness import (PYTHON, Workload, expect_eq, inflight, interpreters, run_inflight,
                     site_markers, tasks_tracked, test)

FANOUT = 300


def stripped_libpython(python):
    """A directory holding a strip --strip-all copy of python's libpython, to
    put on LD_LIBRARY_PATH: only .dynsym is left for inflight to read."""
    prefix = os.path.dirname(os.path.dirname(python))
    found = glob.glob(os.path.join(prefix, "lib", "libpython3.*.so.1.0"))
    assert len(found) == 1, found
    d = tempfile.mkdtemp(prefix="inflight-stripped-lib-")
    subprocess.run(["strip", "--strip-all", "-o", os.path.join(d, os.path.basename(found[0])),
                    found[0]], check=True)
    return d


def snapshot(pid, *args):
    r = run_inflight(*args, "-p", str(pid), "-f", "json", timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def check_ps(ps, truth, connect=True):
    pending = {l["loop"]: l["pending"] for l in ps["loops"]}
    expect_eq("pending tasks per loop", pending, truth["loops"])
    assert ps["complete"], (ps["skipped"], ps["changed"])
    by_id = {t["id"]: t for t in ps["tasks"]}
    for want in truth["tasks"]:
        if want["id"] == truth["main"]:
            continue      # it was running, taking this record; it has moved on since
        got = by_id.get(want["id"])
        assert got, "task %s (%s) not in the snapshot" % (want["id"], want["coroutine"])
        where = "task %s (%s)" % (want["id"], want["coroutine"])
        expect_eq(where + " coroutine", got["coroutine"], want["coroutine"])
        expect_eq(where + " state", got["state"], "pending")
        expect_eq(where + " suspended at", (got["file"], got["line"]), (want["file"], want["line"]))
        expect_eq(where + " awaited by", (got["awaited_by"] or {}).get("task"), want["parent"])
        expect_eq(where + " chain starts at its coroutine",
                  got["await_chain"][0]["line"] if got["await_chain"] else None, want["line"])
    waits = {"leaf": "sleep", "scatter": "gather", "outer_gather": "gather",
             "inner_gather": "gather", "group_owner": "TaskGroup", "chain": None,
             "query_shard": "stream read" if connect else "sleep"}
    for t in ps["tasks"]:
        if t["coroutine"] in waits and waits[t["coroutine"]]:
            expect_eq("what %s waits on" % t["coroutine"], t["waits_on"], waits[t["coroutine"]])
    # 3.14+ drops a task from its thread's task list once it is done: no
    # registry holds the two any more, and a snapshot need not list them
    finished, cancelled = truth["done"]
    want = {finished: "finished", cancelled: "cancelled"}
    if int(ps["python"].split(".")[1]) >= 14:
        want = {i: state for i, state in want.items() if i in by_id}
    expect_eq("the finished and the cancelled task",
              {i: by_id[i]["state"] for i in want if i in by_id}, want)


def find_node(nodes, coroutine):
    for n in nodes:
        if n["coroutine"] == coroutine:
            return n
        found = find_node(n["children"], coroutine)
        if found:
            return found
    return None


def check_pstree(tree, lines, minor, fanout):
    scatter = find_node(tree["roots"], "scatter")
    assert scatter and scatter["line"] == lines["scatter"], scatter
    expect_eq("children under scatter",
              [(c["count"], c["coroutine"], c["awaited_by"]) for c in scatter["children"]],
              [(fanout, "query_shard", "gather")])
    outer = find_node(tree["roots"], "outer_gather")
    expect_eq("leaves under outer_gather, directly and via inner_gather",
              sorted((c["count"], c["coroutine"]) for c in outer["children"]),
              [(1, "inner_gather"), (2, "leaf")])
    if minor >= 11:
        owner = find_node(tree["roots"], "group_owner")
        expect_eq("TaskGroup children", [(c["count"], c["awaited_by"]) for c in owner["children"]],
                  [(5, "taskgroup")])


def snapshots_match(python, env=None, expect_file=None, fanout=FANOUT, connect=True):
    lines = site_markers("snapshot_service.py")
    w = Workload("snapshot_service.py", python=python, env=env,
                 args=("--fanout", str(fanout), "--sleepers", "200") +
                 (() if connect else ("--no-connections",)))
    try:
        truth = w.hello
        ps = snapshot(w.pid, "ps", "--tasks")
        tree = snapshot(w.pid, "pstree")
        if expect_file:
            maps = open("/proc/%d/maps" % w.pid).read()
            assert expect_file in maps, "the workload did not load " + expect_file
    finally:
        w.stop()
    check_ps(ps, truth, connect)
    check_pstree(tree, lines, int(ps["python"].split(".")[1]), fanout)


def register(name, python, distribution_stripped):
    def as_is():
        snapshots_match(python)
    as_is.__name__ = "ps_and_pstree_match_ground_truth_" + name.replace(".", "_").replace("-", "_")
    test(as_is)
    if distribution_stripped:
        return

    def stripped():
        copy = stripped_libpython(python)
        try:
            # thousands of shards: without sockets, to stay under the fd limit
            snapshots_match(python, dict(os.environ, LD_LIBRARY_PATH=copy), expect_file=copy,
                            fanout=3000, connect=False)
        finally:
            shutil.rmtree(copy)
    stripped.__name__ = as_is.__name__ + "_stripped_libpython"
    test(stripped)


for _name, _python, _stripped in interpreters()[0]:
    register(_name, _python, _stripped)


@test
def ps_rejects_what_it_cannot_read():
    r = run_inflight("ps", "-p", "999999999")
    expect_eq("exit status for a bad PID", r.returncode, 2)
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        r = run_inflight("ps", "-p", str(sleeper.pid))
    finally:
        sleeper.kill()
        sleeper.wait()
    expect_eq("exit status for a process that is not CPython", r.returncode, 2)
    assert "not a CPython process" in r.stderr, r.stderr
    r = run_inflight("pstree")
    expect_eq("exit status without -p", r.returncode, 2)


def trace_after_the_fact(python):
    """Attach once the fan-out is stuck: every task and connection predates the trace."""
    lines = site_markers("snapshot_service.py")
    w = Workload("snapshot_service.py", python=python,
                 args=("--fanout", str(FANOUT), "--sleepers", "50"))
    try:
        r = run_inflight("trace", "-p", str(w.pid), "-d", "1.5", "-f", "json", timeout=60)
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
    finally:
        w.stop()
    tasks_tracked(report, w.pid)
    target = [t for t in report["targets"] if t["pid"] == w.pid][0]
    expect_eq("tasks pending at attach", target["tasks"]["at_attach"],
              sum(w.hello["loops"].values()))
    fanouts = [f for f in report["findings"] if f["kind"] == "unbounded-fanout"]
    expect_eq("fan-out findings", [(f["site"]["line"], f["coroutine"]) for f in fanouts],
              [(lines["scatter"], "query_shard")])
    ev = fanouts[0]["evidence"]
    expect_eq("its tasks pending at attach", ev["tasks_at_attach"], FANOUT)
    expect_eq("its connections, all open before the trace", ev["peak_connections_open"], FANOUT)


def register_trace(name, python):
    def fn():
        trace_after_the_fact(python)
    fn.__name__ = "trace_attached_mid_fanout_reports_it_" + name.replace(".", "_").replace("-", "_")
    test(fn)


for _name, _python, _stripped in interpreters()[0]:
    register_trace(_name, _python)


@test
def ps_on_a_busy_process_is_partial_never_wrong_or_crashing():
    """Tasks die between the listing and the reading: every snapshot must still
    end well (0, or 1 with a reason), be valid JSON, and flag what it skipped."""
    w = Workload("busy_service.py")
    try:
        codes, partial, seen = [], 0, 0
        for _ in range(25):
            r = run_inflight("ps", "-p", str(w.pid), "-f", "json", "--tasks", timeout=60)
            codes.append(r.returncode)
            if r.returncode == 0:
                ps = json.loads(r.stdout)
                partial += not ps["complete"]
                seen += ps["tasks_total"]
                assert ps["complete"] == (ps["skipped"] == ps["changed"] == ps["left_out"] ==
                                          ps["cache_full"] == 0), ps
                partial_tasks = sum(t["changed"] for t in ps["tasks"])
                expect_eq("tasks flagged changed", partial_tasks, ps["changed"])
                for t in ps["tasks"]:
                    assert t["state"] in ("pending", "finished", "cancelled"), t
            else:
                assert r.returncode == 1 and "inflight:" in r.stderr, (r.returncode, r.stderr)
            tree = run_inflight("pstree", "-p", str(w.pid), timeout=60)
            assert tree.returncode in (0, 1), (tree.returncode, tree.stderr)
    finally:
        w.stop()
    assert codes.count(0) >= 20, codes
    assert seen > 0, "no task seen in a process always running hundreds"


@test
def ps_pause_gives_an_exact_snapshot_and_lets_the_process_go():
    w = Workload("busy_service.py")
    try:
        for _ in range(5):
            ps = snapshot(w.pid, "ps", "--pause", "--tasks")
            assert ps["complete"], (ps["skipped"], ps["changed"])
            assert ps["paused_s"] > 0, ps["paused_s"]
            chains = [t for t in ps["tasks"] if t["coroutine"] == "chain" and t["state"] == "pending"]
            # at most the newest: paused between its create_task() and its parent's await
            orphans = [t["id"] for t in chains if not t["awaited_by"]]
            assert len(orphans) <= 1, "pending chain tasks nobody awaits: %s" % orphans
        with open("/proc/%d/status" % w.pid) as f:
            state = [l for l in f if l.startswith("State:")][0]
        assert "stop" not in state and "T" not in state.split()[1], state
        after = snapshot(w.pid, "ps")
        assert after["tasks_total"] > 0
    finally:
        w.stop()


HOSTILE_NAME = """
import asyncio, json, os, sys
async def main():
    asyncio.current_task().set_name("\\x1b[2J\\nPROCESS 1 fake")
    print(json.dumps({"ready": True, "pid": os.getpid()}), flush=True)
    await asyncio.sleep(60)
asyncio.run(main())
"""


@test
def ps_text_shows_a_hostile_task_name_escaped():
    """A task named with a terminal escape and a line break reaches the SRE's
    terminal as text, not as control codes."""
    w = Workload(command=[PYTHON, "-c", HOSTILE_NAME])
    try:
        out = {cmd: run_inflight(cmd, "-p", str(w.pid)) for cmd in ("ps", "pstree")}
    finally:
        w.stop()
    for cmd, r in out.items():
        expect_eq("%s exit status" % cmd, r.returncode, 0)
        assert "\x1b" not in r.stdout and "\nPROCESS 1 fake" not in r.stdout, (cmd, r.stdout)
    assert "\\x1b[2J\\x0aPROCESS 1 fake" in out["pstree"].stdout, out["pstree"].stdout


def files_open_in(pid, directory):
    """The files pid has open in directory, as /proc/PID/fd names them."""
    names = []
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                names.append(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
            except OSError:
                pass
    except OSError:
        return []
    return [n for n in names if n.startswith(directory + "/")]


@test
def ps_ended_by_a_signal_leaves_no_temporary_file():
    """SIGTERM while ps reads a big process: it ends as the signal says, and the
    report file it was writing (unnamed, or a temporary one beside -o where the
    file system cannot) is gone with it."""
    w = Workload("snapshot_service.py", args=("--fanout", "150000", "--sleepers", "0",
                                               "--no-connections"))
    out_dir = tempfile.mkdtemp(prefix="inflight-ps-signal-")
    try:
        ps = subprocess.Popen([inflight(), "ps", "-p", str(w.pid),
                               "-o", os.path.join(out_dir, "ps.txt")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline and not files_open_in(ps.pid, out_dir):
            time.sleep(0.002)
        assert files_open_in(ps.pid, out_dir), "ps never opened its report file"
        ps.send_signal(signal.SIGTERM)
        rc = ps.wait(timeout=30)
        left = os.listdir(out_dir)
    finally:
        w.stop()
        shutil.rmtree(out_dir)
    assert rc != 0, "ps finished before the signal: the process must be slower to read"
    expect_eq("how ps ended", rc, -signal.SIGTERM)
    expect_eq("files left", left, [])
