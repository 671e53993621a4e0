"""asyncio task tracking on every CPython present, against task_service.py's
own record: len(asyncio.all_tasks()), its count of tasks destroyed while
pending, and the source lines of its own create_task and gather calls."""
import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import (Tracer, Workload, expect_eq, interpreters, site_markers,
                     target_of, test)

def find_site(tasks, line, coroutine, script="task_service.py"):
    matches = [s for s in tasks["sites"]
               if s["file"].endswith(script) and s["line"] == line and
               s["coroutine"] == coroutine]
    assert len(matches) == 1, "no single site at line %d running %s in %s" % (
        line, coroutine, [(s["file"], s["line"], s["coroutine"]) for s in tasks["sites"]])
    return matches[0]


def within_1_percent(what, got, want):
    assert abs(got - want) <= want * 0.01, "%s: inflight says %r, ground truth %r" % (
        what, got, want)


def stripped_asyncio(python):
    """A directory holding a strip --strip-all copy of python's _asyncio, to put
    first on PYTHONPATH: the interpreter then loads it instead of its own."""
    prefix = os.path.dirname(os.path.dirname(python))
    found = glob.glob(os.path.join(prefix, "lib", "python3.*", "lib-dynload", "_asyncio.*.so"))
    assert len(found) == 1, found
    d = tempfile.mkdtemp(prefix="inflight-stripped-")
    subprocess.run(["strip", "--strip-all", "-o", os.path.join(d, os.path.basename(found[0])),
                    found[0]], check=True)
    return d


def on_every_interpreter(prefix, check):
    """Registers check(python, env) as a test per interpreter here: with its
    symbols and with a stripped copy of its _asyncio, or as the distribution
    ships it stripped."""
    def register(name, python, stripped):
        variants = [("_distribution_stripped", False)] if stripped else \
            [("", False), ("_stripped", True)]
        for suffix, strip_copy in variants:
            def run(strip_copy=strip_copy):
                copy = stripped_asyncio(python) if strip_copy else None
                try:
                    check(python, dict(os.environ, PYTHONPATH=copy) if copy else None)
                finally:
                    if copy:
                        shutil.rmtree(copy)
            run.__name__ = prefix + re.sub(r"\W", "_", name) + suffix
            test(run)
    for interp in interpreters()[0]:
        register(*interp)


def tracks_tasks_on(name, python, stripped, lean=False):
    lines = site_markers("task_service.py")
    env, copy = None, None
    if stripped == "copy":
        copy = stripped_asyncio(python)
        env = dict(os.environ, PYTHONPATH=copy)
    try:
        target = trace_task_service(python, env, lean)
        hook = [h for h in target["hooks"] if h["name"] == "asyncio_tasks"][0]
        assert hook["attached"], hook
        check_probe_instructions(hook, lean)   # while the stripped copy is still there
    finally:
        if copy:
            shutil.rmtree(copy)
    assert ("no symbols" in hook["detail"]) == bool(stripped), hook
    assert ("--lean" in hook["detail"]) == lean, hook
    # --lean's one probe on task ends, on the path a task destroyed pending takes
    assert ("finalizer's path" in hook["detail"]) == lean, hook
    # 3.13+ describes its own layout: the table must agree with it
    minor = int(re.search(r"CPython 3\.(\d+)", hook["detail"]).group(1))
    assert ("_Py_DebugOffsets" in hook["detail"]) == (minor >= 13), hook
    if copy:
        assert copy in hook["detail"], hook   # probed the stripped copy, not the original
    check_tasks(target["tasks"], target["truth"], lines)
    check_leak_is_attributed(target["findings"], lines)


def address_of(path, offset):
    """The address objdump shows for a file offset in path: the same in a shared
    object laid out from 0, not in an executable loaded at a fixed address
    (Debian unstable's python3.15, which holds _asyncio)."""
    out = subprocess.run(["readelf", "-lW", path], capture_output=True, text=True,
                         check=True).stdout
    for m in re.finditer(r"^\s+LOAD\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+)",
                         out, re.M):
        start, address, size = (int(x, 16) for x in m.groups())
        if start <= offset < start + size:
            return offset - start + address
    raise AssertionError("file offset %d is in no LOAD segment of %s" % (offset, path))


def first_mnemonic(path, offset):
    """objdump's word for the instruction at offset in path."""
    address = address_of(path, offset)
    out = subprocess.run(["objdump", "-d", "-M", "intel", "--start-address=%d" % address,
                          "--stop-address=%d" % (address + 16), path],
                         capture_output=True, text=True, check=True).stdout
    insns = [l.split("\t") for l in out.splitlines() if re.match(r"\s+[0-9a-f]+:\t", l)]
    return insns[0][2].split()[0]


def check_probe_instructions(hook, lean):
    """Each uprobe, and the instruction it traps on, as objdump reads it too."""
    probes = {p["what"]: p for p in hook["probes"]}
    ends = "Task finalizer, pending path" if lean else "Task dealloc"
    assert set(probes) == {"Task init", ends}, hook
    path = re.search(r" in (\S+) \(found by", hook["detail"]).group(1)
    for p in probes.values():
        expect_eq("instruction under the %s probe" % p["what"], p["instruction"].split()[0],
                  first_mnemonic(path, p["file_offset"]))


def trace_task_service(python, env, lean):
    w = Workload("task_service.py", python=python, env=env)
    try:
        # every stay in CLOSE_WAIT this long counts, closed or not: the brief ones of
        # connections closed in turn stay out
        t = Tracer("-p", str(w.pid), "-f", "json", "--close-wait-age", "0.3",
                   *(["--lean"] if lean else []))
        w.do("mark")
        fanout = w.do("fanout 400")["in_flight"]
        w.do("release")
        gather = w.do("gather 300")["in_flight"]
        w.do("release")
        w.do("connect 40")
        w.do("release")
        destroyed = w.do("destroy 25")["destroyed_pending"]
        # --lean: amid churn a freed task's memory is reused at once, so only the
        # finalizer's probe can tell these from tasks that finished
        churned = w.do("churn_destroy 300")["destroyed_pending"] - destroyed if lean else 0
        w.do("leak 12")
        time.sleep(0.5)
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
        report = json.loads(stdout)
        target = target_of(report, w.pid)
        target["findings"] = report["findings"]
    finally:
        w.stop()
    target["truth"] = {"fanout": fanout, "gather": gather, "destroyed": destroyed,
                       "churn_destroyed": churned}
    return target


def check_tasks(tasks, truth, lines):
    fanout, gather, destroyed = (truth[k] for k in ("fanout", "gather", "destroyed"))
    s = find_site(tasks, lines["fanout"], "waiter")
    expect_eq("fanout tasks created", s["created"], 400)
    within_1_percent("fanout peak in flight", s["peak_in_flight"], fanout)
    expect_eq("fanout left in flight", s["in_flight"], 0)
    s = find_site(tasks, lines["gather"], "waiter")
    within_1_percent("gather peak in flight", s["peak_in_flight"], gather - 1)  # minus gather_all
    expect_eq("gather's parent", (s["parent"] or {}).get("line"), lines["gather_parent"])
    s = find_site(tasks, lines["connect"], "hold_connection")
    expect_eq("connect peak in flight", s["peak_in_flight"], 40)
    expect_eq("connections opened by the connect site", s["connections"]["opened"], 40)
    expect_eq("peak connections of the connect site", s["connections"]["peak_open"], 40)
    s = find_site(tasks, lines["destroy"], "forgotten")
    expect_eq("destroyed while pending", s["destroyed_pending"], destroyed)
    churned = truth["churn_destroyed"]
    if churned:
        expect_eq("destroyed while pending amid churn, by the workload's count", churned, 300)
        s = find_site(tasks, lines["churn_destroy"], "forgotten")
        expect_eq("destroyed while pending amid churn", s["destroyed_pending"], churned)
    expect_eq("destroyed while pending, in all", tasks["destroyed_pending"], destroyed + churned)
    assert tasks["peak_in_flight"] >= fanout, (tasks["peak_in_flight"], fanout)


def check_leak_is_attributed(findings, lines):
    leaks = [f for f in findings if f["kind"] == "connection-leak" and
             f["evidence"]["reason"] == "close_wait"]
    assert len(leaks) == 1, findings
    expect_eq("CLOSE_WAIT sockets", leaks[0]["evidence"]["close_wait"], 12)
    expect_eq("leak site", (leaks[0]["site"] or {}).get("line"), lines["leak"])
    expect_eq("leak coroutine", leaks[0]["coroutine"], "leak_connection")
    expect_eq("sockets from that site", leaks[0]["evidence"]["close_wait_from_site"], 12)


def unfamiliar_finalizer(python):
    """A directory holding a copy of python's _asyncio whose Task finalizer tests
    the task's state with `or %ecx,%ecx` instead of `test %ecx,%ecx`: the same
    meaning, a shape --lean does not accept (it takes no chances with a site).
    None if the build's finalizer does not open as expected."""
    prefix = os.path.dirname(os.path.dirname(python))
    found = glob.glob(os.path.join(prefix, "lib", "python3.*", "lib-dynload", "_asyncio.*.so"))
    symbols = subprocess.run(["nm", found[0]], capture_output=True, text=True).stdout
    m = re.search(r"^([0-9a-f]+) t TaskObj_finalize$", symbols, re.M)
    data = bytearray(open(found[0], "rb").read())
    start = int(m.group(1), 16) if m else 0   # text offsets are addresses in these builds
    at = data.find(b"\x85\xc9", start, start + 24) if m else -1
    if at < 0:
        return None
    data[at] = 0x09
    d = tempfile.mkdtemp(prefix="inflight-unfamiliar-")
    with open(os.path.join(d, os.path.basename(found[0])), "wb") as f:
        f.write(data)
    return d


@test
def lean_falls_back_to_the_dealloc_probe_where_the_pending_path_is_unfamiliar():
    python = [p for name, p, stripped in FOUND if name.startswith("pyenv-3.11")]
    assert python, "needs pyenv's CPython 3.11"
    copy = unfamiliar_finalizer(python[0])
    assert copy, "pyenv's 3.11 finalizer does not open with test %ecx,%ecx"
    lines = site_markers("task_service.py")
    try:
        target = trace_task_service(python[0], dict(os.environ, PYTHONPATH=copy), True)
    finally:
        shutil.rmtree(copy)
    hook = [h for h in target["hooks"] if h["name"] == "asyncio_tasks"][0]
    assert copy in hook["detail"] and "no pending path" in hook["detail"], hook
    expect_eq("probes", sorted(p["what"] for p in hook["probes"]), ["Task dealloc", "Task init"])
    check_tasks(target["tasks"], target["truth"], lines)


@test
def sampled_falls_back_to_the_dealloc_probe_where_the_pending_path_is_unfamiliar():
    """--sampled where the finalizer's pending path cannot be probed: Task dealloc
    is probed instead (so a task destroyed pending is still told, if a read saw
    it), never Task init, and the hook says so."""
    python = [p for name, p, stripped in FOUND if name.startswith("pyenv-3.11")]
    assert python, "needs pyenv's CPython 3.11"
    copy = unfamiliar_finalizer(python[0])
    assert copy, "pyenv's 3.11 finalizer does not open with test %ecx,%ecx"
    w = Workload("findings_suite.py", python=python[0], args=["forever"], quiet=True,
                 env=dict(os.environ, PYTHONPATH=copy))
    try:
        t = Tracer("-p", str(w.pid), "-f", "json", "--sampled")
        w.proc.stdin.write("go\n")
        w.proc.stdin.flush()
        w.read()
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
        target = [x for x in json.loads(stdout)["targets"] if x["pid"] == w.pid][0]
    finally:
        w.stop()
        shutil.rmtree(copy)
    hook = [h for h in target["hooks"] if h["name"] == "asyncio_tasks"][0]
    assert "--sampled" in hook["detail"] and "no pending path" in hook["detail"], hook
    expect_eq("probes", [p["what"] for p in hook["probes"]], ["Task dealloc"])
    # the 20 stuck tasks the workload keeps, read from memory
    stuck = [x for x in target["tasks"]["sites"] if x["coroutine"] == "request"
             and x["in_flight"] == 20]
    assert len(stuck) == 1 and stuck[0]["kind"] == "seen_at", target["tasks"]["sites"]


def register(name, python, stripped):
    """Each pyenv build three times: with its symbols, with a stripped copy of
    _asyncio, and --lean (no dealloc probe); Debian's python3.11 as it is
    (stripped by its packagers, its finalizer's pending path in a .cold
    section), with and without --lean."""
    variants = ([("_distribution_stripped", "as-is", False),
                 ("_distribution_stripped_lean", "as-is", True)] if stripped else
                [("", None, False), ("_stripped", "copy", False), ("_lean", None, True)])
    for suffix, how, lean in variants:
        def run(how=how, lean=lean):
            tracks_tasks_on(name, python, how, lean)
        run.__name__ = "tasks_match_ground_truth_" + re.sub(r"\W", "_", name) + suffix
        test(run)


FOUND, MISSING = interpreters()
for interp in FOUND:
    register(*interp)


@test
def a_task_older_than_the_trace_owns_what_it_opens_and_creates():
    """The veteran task is read from memory at attach; the connections and
    tasks it makes afterwards are found to be its by their coroutine."""
    lines = site_markers("task_service.py")
    w = Workload("task_service.py")
    try:
        w.do("veteran")
        t = Tracer("-p", str(w.pid), "-f", "json")
        w.do("veteran_go 8")
        w.do("release")
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
        tasks = target_of(json.loads(stdout), w.pid)["tasks"]
    finally:
        w.stop()
    s = find_site(tasks, lines["veteran"], "veteran")
    expect_eq("the veteran, pending at attach", s["at_attach"], 1)
    expect_eq("connections the veteran opened after attach", s["connections"]["opened"], 8)
    s = find_site(tasks, lines["veteran_child"], "waiter")
    expect_eq("tasks the veteran created", s["created"], 8)
    expect_eq("their parent's site", (s["parent"] or {}).get("line"), lines["veteran"])


@test
def tasks_destroyed_pending_amid_churn_are_all_counted():
    """By default the dealloc probe sees each one, however soon its memory is
    reused (it is, at once, by the churn's new tasks; --lean's probe on the
    finalizer's pending path is checked in tasks_match_ground_truth_*_lean)."""
    lines = site_markers("task_service.py")
    w = Workload("task_service.py")
    try:
        t = Tracer("-p", str(w.pid), "-f", "json")
        destroyed = w.do("churn_destroy 300")["destroyed_pending"]
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
        tasks = target_of(json.loads(stdout), w.pid)["tasks"]
    finally:
        w.stop()
    expect_eq("destroyed while pending, by the workload's count", destroyed, 300)
    s = find_site(tasks, lines["churn_destroy"], "forgotten")
    expect_eq("destroyed while pending, by inflight", s["destroyed_pending"], destroyed)
    s = find_site(tasks, lines["brief"], "brief")
    expect_eq("the churn's tasks", s["created"], 300 // 10 * 200)
    expect_eq("the churn's tasks left in flight", s["in_flight"], 0)


@test
def not_python_is_reported_and_traced():
    import subprocess
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        t = Tracer("-p", str(sleeper.pid), "-f", "json", "-d", "0.5")
        rc, stdout, stderr = t.finish(sig=None)
        assert rc == 0, stderr
        target = target_of(json.loads(stdout), sleeper.pid)
    finally:
        sleeper.kill()
        sleeper.wait()
    hook = [h for h in target["hooks"] if h["name"] == "asyncio_tasks"][0]
    assert not hook["attached"] and "not a CPython process" in hook["detail"], hook
    assert [h for h in target["hooks"] if h["name"] == "connections"][0]["attached"]


@test
def late_import_and_a_loop_per_thread():
    lines = site_markers("late_asyncio.py")
    w = Workload("late_asyncio.py")
    try:
        t = Tracer("-p", str(w.pid), "-f", "json")
        w.proc.stdin.write("go\n")
        w.proc.stdin.flush()
        truth = w.read()["threads"]
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
        target = target_of(json.loads(stdout), w.pid)
    finally:
        w.stop()
    hook = [h for h in target["hooks"] if h["name"] == "asyncio_tasks"][0]
    assert hook["attached"], hook
    for name in ("a", "b"):
        s = find_site(target["tasks"], lines["thread_" + name], "wait_for", "late_asyncio.py")
        expect_eq("thread %s peak in flight" % name, s["peak_in_flight"], truth[name])
        expect_eq("thread %s tasks done" % name, s["done"], truth[name])
