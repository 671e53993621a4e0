"""Targets whose lives change under a trace (lifecycle_target.py): one that
exits while inflight attaches, one whose PID another process takes, one that
exec()s into another CPython or into a program that is not Python, one that
forks asyncio workers; and `ps` on a PID that changes hands while it reads.

A PID is made to change hands through /proc/sys/kernel/ns_last_pid of the
PID namespace inflight sees the target in: the next process forked gets the
number after the one written there. inflight works in that namespace's PIDs
(the kernel's global ones), so a PID namespace of the test's own would only
renumber the processes inside it, never reuse a PID inflight was given."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from harness import (PYTHON, WORKLOADS, Tracer, Workload, interpreters, inflight,
                     site_markers, target_of, tasks_tracked, test)

SCRIPT = os.path.join(WORKLOADS, "lifecycle_target.py")


def programs_of(pid):
    """The ids of the BPF programs process pid holds an fd of (a program's or a link's)."""
    held = set()
    try:
        fds = os.listdir("/proc/%d/fdinfo" % pid)
    except OSError:
        return held
    for fd in fds:
        try:
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                m = re.search(r"^prog_id:\s+(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            held.add(int(m.group(1)))
    return held


def run_watched(command):
    """Runs inflight, noting every BPF program it holds while it runs: returns
    (completed process, program ids)."""
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    programs = set()
    while proc.poll() is None:
        programs |= programs_of(proc.pid)
        time.sleep(0.005)
    out, err = proc.communicate()
    return subprocess.CompletedProcess(command, proc.returncode, out, err), programs


def loaded_programs():
    """The ids of every BPF program loaded now."""
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True,
                         check=True).stdout
    return {p["id"] for p in json.loads(out or "[]")}


def assert_nothing_left(programs):
    """None of these programs (inflight's, now exited) is still loaded. The
    kernel frees a program shortly after its last holder goes (a uprobe's
    after an RCU grace period): looked at again until then, for at most 10 s."""
    deadline = time.time() + 10
    while (programs & loaded_programs()) and time.time() < deadline:
        time.sleep(0.1)
    left = programs & loaded_programs()
    assert not left, "BPF programs of inflight still loaded after it exited: %s" % sorted(left)


def no_sanitizer_reports(stderr):
    assert "Sanitizer" not in stderr and "runtime error" not in stderr, stderr


def pyenv_pythons():
    """Two CPythons with symbols, of two versions: (older, newer) paths."""
    found, _ = interpreters()
    pyenv = sorted((name, path) for name, path, stripped in found
                   if name.startswith("pyenv-") and not stripped)
    by_minor = {}
    for name, path in pyenv:
        by_minor[re.search(r"3\.(\d+)", name).group(1)] = path
    minors = sorted(by_minor, key=int)
    assert len(minors) >= 2, "two pyenv CPythons are needed, found %s" % pyenv
    return by_minor[minors[-2]], by_minor[minors[-1]]


def read_until(tracer, want, what):
    """Reads inflight's stderr (a live summary every 0.1 s keeps it coming)
    until a line for which want(line) holds; fails after 30 s."""
    line = tracer.read_until(want)
    if line:
        return line
    raise AssertionError("inflight never said %s: %s" % (what, "".join(tracer.stderr_head)))


def polls(tracer, pid, n):
    """Waits for n more polls of inflight's, as the live summary of pid marks them."""
    for _ in range(n):
        read_until(tracer, lambda line: re.search(r"\] pid %d:" % pid, line), "a live summary")


def spawn_with_pid(pid, command):
    """Starts command as process pid (free now), through ns_last_pid: another
    process forking in between takes the number, so this is tried again."""
    for _ in range(200):
        with open("/proc/sys/kernel/ns_last_pid", "w") as f:
            f.write(str(pid - 1))
        proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, bufsize=1)
        if proc.pid == pid:
            return proc
        proc.kill()
        proc.wait()
    raise AssertionError("could not start a process with PID %d" % pid)


def workload_at(proc):
    """A Workload around a process already started."""
    w = Workload.__new__(Workload)
    w.proc = proc
    w.hello = w.read()
    w.pid = w.hello["pid"]
    return w


@test
def lifecycle_exit_during_attach():
    """Targets that exit within milliseconds of inflight starting, at several
    points of its attach: inflight ends cleanly each time (a report that says
    the process exited where it could not be read, or exit 2 and a clear
    message), and none of its BPF programs outlives it."""
    programs = set()
    for delay in (0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4):
        target = subprocess.Popen([PYTHON, "-c", "import asyncio, time; time.sleep(%s)" % delay])
        r, held = run_watched([inflight(), "trace", "-p", str(target.pid), "-f", "json"])
        programs |= held
        target.wait()
        no_sanitizer_reports(r.stderr)
        if r.returncode == 2:
            assert re.search(r"PID %d exited while inflight was attaching|no process with PID %d"
                             % (target.pid, target.pid), r.stderr), r.stderr
            assert not r.stdout, r.stdout
        else:
            assert r.returncode == 0, (delay, r.returncode, r.stderr)
            report = json.loads(r.stdout)
            assert report["end_reason"] == "targets_exited", report["end_reason"]
            target_report = target_of(report, target.pid)
            assert target_report["exited"], report["targets"]
            # a CPython caught exiting is not called something else (its tasks may be
            # unreadable earlier, while its interpreter finalizes: existing_tasks says so)
            hook = [h for h in target_report["hooks"] if h["name"] == "asyncio_tasks"][0]
            assert hook["attached"] or "exited" in hook["detail"] or \
                hook["detail"].startswith("waiting"), (delay, hook)
    assert programs, "inflight was never seen holding a BPF program"
    assert_nothing_left(programs)


@test
def lifecycle_pid_reuse():
    """Two targets; one exits and another process takes its PID, imports
    asyncio, creates tasks and opens connections. With -p, the PID named the
    process that exited: the newcomer is not traced (its connections and
    tasks are nowhere in the report), inflight says so, and the report keeps
    what the first process did."""
    survivor = Workload("conn_service.py", quiet=True)
    first = Workload("lifecycle_target.py", args=["plain"], quiet=True)
    newcomer = None
    try:
        held = first.do("connect %d 3" % survivor.ports["127.0.0.1"])["connected"]
        t = Tracer("-f", "json", "-i", "0.1", "-p", str(first.pid), "-p", str(survivor.pid))
        pid = first.pid
        first.proc.kill()
        first.proc.wait()
        read_until(t, lambda line: re.search(r"\] pid %d:.*\(exited\)" % pid, line),
                   "that PID %d exited" % pid)
        newcomer = workload_at(spawn_with_pid(pid, [PYTHON, os.path.join(WORKLOADS,
                                                                         "task_service.py")]))
        newcomer.do("connect 5")
        survivor.do("churn 2")
        polls(t, survivor.pid, 3)
        rc, out, err = t.finish()
    finally:
        for w in (survivor, first, newcomer):
            if w:
                w.stop()
    no_sanitizer_reports(err)
    assert rc == 0, err
    report = json.loads(out)
    gone = target_of(report, pid)
    assert gone["exited"] and gone["ended"]["signal"] == signal.SIGKILL, gone["ended"]
    conns = gone["connections"]
    assert conns["open_at_attach"] == held and conns["opened"] == 0, conns
    assert gone["tasks"]["created"] == 0 and not gone["tasks"]["sites"], gone["tasks"]
    hook = [h for h in gone["hooks"] if h["name"] == "asyncio_tasks"][0]
    assert not hook["attached"], hook
    assert target_of(report, survivor.pid)["connections"]["opened"] >= 4, report
    assert re.search(r"PID %d \(python3?[.\d]*\) exited and its PID now belongs to another "
                     r"process \(python3?[.\d]*\), which is not traced" % pid, err), err


def exec_scenario(into, want_tracked, before_noticed=False):
    """A target on one CPython with tasks pending execs `into`; returns the
    report, inflight's stderr, the target's pid and its truths before and
    after (the latter None for a program that is not Python). With
    before_noticed, inflight is stopped (SIGSTOP) from before the exec until
    the new program has made its tasks: its probes run meanwhile, its polls
    cannot have seen the exec."""
    before_python, _ = pyenv_pythons()
    w = Workload("lifecycle_target.py", python=before_python, args=["exec"], quiet=True)
    try:
        t = Tracer("-f", "json", "-i", "0.1", "-p", str(w.pid))
        truth_before = w.do("tasks 7")
        polls(t, w.pid, 2)    # the first may have begun before the tasks were made
        if before_noticed:
            os.kill(t.proc.pid, signal.SIGSTOP)
        w.proc.stdin.write("exec %s\n" % " ".join(into))
        w.proc.stdin.flush()
        truth_after = None
        if want_tracked:
            assert w.read()["ready"]    # the new program's first line
        if before_noticed:
            truth_after = w.do("tasks 5")
            os.kill(t.proc.pid, signal.SIGCONT)
        read_until(t, lambda line: "PID %d exec()ed" % w.pid in line, "that the target exec()ed")
        if want_tracked and not before_noticed:
            truth_after = w.do("tasks 5")
        polls(t, w.pid, 3)
        rc, out, err = t.finish()
    finally:
        w.stop()
    no_sanitizer_reports(err)
    assert rc == 0, err
    return json.loads(out), err, w.pid, truth_before, truth_after


def sites_by_line(target):
    return {s["line"]: s for s in target["tasks"]["sites"]}


@test
def lifecycle_exec_into_python():
    """A traced CPython exec()s another CPython of another version: inflight
    notices, its 7 pending tasks end with the old program, and the new
    interpreter is read afresh (its version, its _PyRuntime, its code), so the
    5 tasks the new program creates are found at their line."""
    _, after_python = pyenv_pythons()
    report, err, pid, before, after = exec_scenario([after_python, SCRIPT, "after_exec"], True)
    lines = site_markers("lifecycle_target.py")
    target = target_of(report, pid)
    assert target["execs"] == 1 and target["exe"] == os.path.realpath(after_python), target
    tasks_tracked(report, pid)
    existing = [h for h in target["hooks"] if h["name"] == "existing_tasks"][0]
    assert existing["attached"] and "0 tasks pending at attach" in existing["detail"], existing
    hook = [h for h in target["hooks"] if h["name"] == "asyncio_tasks"][0]
    version = re.search(r"python(3\.\d+)$", after_python).group(1)
    assert hook["detail"].startswith("CPython %s" % version), hook
    sites = sites_by_line(target)
    old, new = sites.get(lines["before_exec"]), sites.get(lines["after_exec"])
    assert old and old["created"] == before["created"], sites
    assert old["in_flight"] == 0 and old["ended_at_shutdown"] == before["created"], old
    assert new and new["created"] == after["created"] and new["in_flight"] == after["created"], \
        sites
    assert "its asyncio tasks are now tracked in the new program" in err, err


@test
def lifecycle_exec_into_same_python():
    """A traced CPython exec()s itself and makes 5 tasks before inflight has
    noticed: the probes, still attached to the same _asyncio file, fire in the
    new program, and must read nothing with the old program's layout. The 5
    tasks are the new program's, found pending when it is read afresh, never
    counted as the old one's (created, then ended with it)."""
    python, _ = pyenv_pythons()
    report, err, pid, before, after = exec_scenario([python, SCRIPT, "after_exec"], True,
                                                    before_noticed=True)
    lines = site_markers("lifecycle_target.py")
    target = target_of(report, pid)
    assert target["execs"] == 1 and target["exe"] == os.path.realpath(python), target
    tasks_tracked(report, pid)
    # the old program's: "tasks 7" ran one task (spawn) that made 7
    assert target["tasks"]["created"] == before["created"] + 1, target["tasks"]
    assert target["tasks"]["at_attach"] == after["pending"], target["tasks"]
    sites = sites_by_line(target)
    old, new = sites.get(lines["before_exec"]), sites.get(lines["after_exec"])
    assert old and old["created"] == before["created"], sites
    assert old["ended_at_shutdown"] == before["created"], old
    assert not new or not new["created"], new
    assert "its asyncio tasks are now tracked in the new program" in err, err


@test
def lifecycle_exec_into_not_python():
    """A traced CPython exec()s /bin/sleep: inflight says task tracking stopped
    and why, the old tasks ended with the old program, and the process is
    still followed (connections) until the trace ends."""
    report, err, pid, before, _ = exec_scenario(["/bin/sleep", "1000"], False)
    lines = site_markers("lifecycle_target.py")
    target = target_of(report, pid)
    assert target["execs"] == 1 and target["exe"] == os.path.realpath("/bin/sleep"), target
    assert not target["exited"], target
    hook = [h for h in target["hooks"] if h["name"] == "asyncio_tasks"][0]
    assert not hook["attached"] and "not a CPython process" in hook["detail"], hook
    existing = [h for h in target["hooks"] if h["name"] == "existing_tasks"][0]
    assert not existing["attached"] and "exec()ed" in existing["detail"], existing
    old = sites_by_line(target).get(lines["before_exec"])
    assert old and old["in_flight"] == 0 and old["ended_at_shutdown"] == before["created"], old
    assert re.search(r"PID %d exec\(\)ed \S*sleep: its asyncio tasks are no longer tracked: "
                     r"not a CPython process" % pid, err), err


@test
def lifecycle_ps_pid_reused_while_reading():
    """`inflight ps` is held (a gdb breakpoint) just as it starts to read a
    target it has opened; the target is killed, and another asyncio process
    takes its PID before ps goes on. ps must fail, saying why, rather than
    print the newcomer's tasks as the target's."""
    python, _ = pyenv_pythons()
    first = Workload("lifecycle_target.py", python=python, args=["exec"], quiet=True)
    newcomer = None
    tmp = tempfile.mkdtemp(prefix="inflight-ps-reuse-")
    held, go, output = (os.path.join(tmp, n) for n in ("held", "go", "out.json"))
    try:
        first.do("tasks 3")
        pid = first.pid
        gdb = subprocess.Popen(
            ["gdb", "-nx", "-batch", "-ex", "set breakpoint pending on",
             "-ex", "break task_snapshot_take", "-ex", "run",
             "-ex", "shell touch %s; while [ ! -e %s ]; do sleep 0.05; done" % (held, go),
             "-ex", "continue",
             "--args", inflight(), "ps", "-p", str(pid), "-t", "-f", "json", "-o", output],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))  # LSan cannot run under ptrace
        deadline = time.time() + 60
        while not os.path.exists(held):
            assert gdb.poll() is None and time.time() < deadline, gdb.communicate()
            time.sleep(0.05)
        first.proc.kill()
        first.proc.wait()
        newcomer = workload_at(spawn_with_pid(pid, [python, SCRIPT, "exec"]))
        newcomer.do("tasks 4")
        open(go, "w").close()
        out, err = gdb.communicate(timeout=60)
    finally:
        for w in (first, newcomer):
            if w:
                w.stop()
        written = open(output).read() if os.path.exists(output) else None
        shutil.rmtree(tmp)
    assert "Breakpoint 1, task_snapshot_take" in out, out + err
    no_sanitizer_reports(err)
    assert written is None, written[:2000]
    assert "exited with code 02" in out, out + err
    assert "PID %d exited while its tasks were read" % pid in err, err


@test
def lifecycle_forked_workers():
    """A traced asyncio process forks two workers that run asyncio.run() with
    tasks that connect back to it. Tracing is per process (-p): the workers
    are not traced, so none of their tasks appears, and the parent's report
    holds exactly what the parent did (its own tasks, the connections it
    opened and accepted), and says it forked two processes."""
    python, _ = pyenv_pythons()
    lines = site_markers("lifecycle_target.py")
    w = Workload("lifecycle_target.py", python=python, args=["forker"], quiet=True)
    try:
        t = Tracer("-f", "json", "-i", "0.1", "-p", str(w.pid))
        truth = w.do("fork 2 3")
        polls(t, w.pid, 3)
        rc, out, err = t.finish()
    finally:
        w.stop()
    no_sanitizer_reports(err)
    assert rc == 0, err
    report = json.loads(out)
    assert [x["pid"] for x in report["targets"]] == [w.pid], report["targets"]
    parent = target_of(report, w.pid)
    assert parent["processes_forked"] == len(truth["workers"]) == 2, parent
    tasks_tracked(report, w.pid)
    sites = sites_by_line(parent)
    assert lines["worker"] not in sites, sites[lines["worker"]]
    assert sites.get(lines["parent"], {}).get("created") == 3, sites
    conns = parent["connections"]
    assert conns["opened"] == truth["connected"] + truth["accepted"], (conns, truth)
    assert conns["open"] == conns["opened"], conns
