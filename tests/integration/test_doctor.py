"""inflight doctor: each thing it must tell apart, each checked on the check
and the verdict that say it (not the exit status alone): a healthy host; no
BTF (VMLINUX_BTF naming a missing file, and a file that is not BTF); a
missing capability (capsh --drop); not a Python process; a CPython inflight
does not support; a stripped build against one with symbols; a target in
another root; a PID that names no process; tracefs not mounted. And
VMLINUX_BTF honoured by inflight trace."""
import json
import os
import re
import shutil
import subprocess
import tempfile

import harness
from harness import Workload, expect_eq, test
from test_sweep import pyenv_python, sid_python

CAPABILITIES = ("trace", "tasks", "warnings", "ps")


def doctor(*args, env=None, drop=None):
    """inflight doctor ARGS, under capsh --drop=DROP when given."""
    command = [harness.inflight(), "doctor", *args]
    if drop:
        capsh = shutil.which("capsh")
        assert capsh, "capsh is missing: tools/install-deps.sh installs libcap2-bin"
        command = [capsh, "--drop=" + drop, "--", "-c", 'exec "$0" "$@"', *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **(env or {})))


def text_verdicts(out):
    """{(None or PID, capability): (ready, why)} from the verdict lines of the text."""
    verdicts, owner = {}, "none"
    for line in out.splitlines():
        m = re.fullmatch(r"Verdicts for (this host|PID (\d+))", line)
        if m:
            owner = int(m.group(2)) if m.group(2) else None
            continue
        m = re.fullmatch(r"(\w+): (ready|no \((.*)\))", line)
        if m and owner != "none":
            verdicts[(owner, m.group(1))] = (m.group(2) == "ready", m.group(3))
    return verdicts


def json_verdicts(report):
    return {(v["target_pid"], v["capability"]): (v["ready"], v["why"])
            for v in report["verdicts"]}


def check_of(checks, name):
    found = [c for c in checks if c["check"] == name]
    assert found, "no %r check in %r" % (name, [c["check"] for c in checks])
    return found[0]


def doctor_json(*args, env=None, drop=None, status=None):
    r = doctor("-f", "json", *args, env=env, drop=drop)
    if status is not None:
        assert r.returncode == status, "exit %d, not %d: %s" % (r.returncode, status, r.stderr)
    report = json.loads(r.stdout)
    assert report["schema"] == "inflight-doctor" and report["schema_version"] == 1, report
    return report


def target_of(report, pid):
    return [t for t in report["targets"] if t["pid"] == pid][0]


def expect_verdicts(verdicts, pid, ready):
    """Each capability of pid (None: the host) ready as given (a dict, or True for all)."""
    for cap in CAPABILITIES:
        want = ready if isinstance(ready, bool) else ready[cap]
        got = verdicts[(pid, cap)]
        assert got[0] == want, "%s of %s: %r, expected %s" % (cap, pid or "the host", got,
                                                             "ready" if want else "no")


@test
def doctor_on_a_healthy_host():
    text = doctor()
    assert text.returncode == 0, text.stdout + text.stderr
    verdicts = text_verdicts(text.stdout)
    assert sorted(verdicts) == sorted((None, c) for c in CAPABILITIES), verdicts
    expect_verdicts(verdicts, None, True)
    # the verdict lines close the text, exactly as the contract shapes them
    assert text.stdout.rstrip().splitlines()[-4:] == ["%s: ready" % c for c in CAPABILITIES]
    report = doctor_json(status=0)
    assert json_verdicts(report) == verdicts, (json_verdicts(report), verdicts)
    assert report["ready"] is True and report["targets"] == []
    checks = report["host"]["checks"]
    for name in ("kernel", "btf", "capabilities", "bpf:conns", "bpf:exits", "bpf:tasks",
                 "bpf:warnings"):
        assert check_of(checks, name)["status"] == "ok", check_of(checks, name)
    # the programs were really loaded and attached, uprobes included
    assert "uprobe" in check_of(checks, "bpf:tasks")["found"], check_of(checks, "bpf:tasks")
    assert "/sys/kernel/btf/vmlinux" in check_of(checks, "btf")["found"]
    for c in checks:
        assert re.search(r"^  \S+ +%s +" % re.escape(c["check"]), text.stdout, re.M), c
    # -o: the same document, written whole
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "doctor.json")
        r = doctor("-f", "json", "-o", path)
        assert r.returncode == 0 and r.stdout == "", r
        with open(path) as f:
            assert json_verdicts(json.load(f)) == verdicts


@test
def doctor_without_btf():
    """VMLINUX_BTF naming nothing, then a file that is not BTF: trace is not ready, saying why."""
    with tempfile.NamedTemporaryFile("w", suffix=".btf") as not_btf:
        not_btf.write("this is not BTF\n" * 64)
        not_btf.flush()
        for path, why in (("/nonexistent/vmlinux", "No such file"), (not_btf.name, "not BTF")):
            env = {"VMLINUX_BTF": path}
            text = doctor(env=env)
            assert text.returncode == 1, text.stdout + text.stderr
            ready, reason = text_verdicts(text.stdout)[(None, "trace")]
            assert not ready and path in reason and why in reason, reason
            report = doctor_json(env=env, status=1)
            btf = check_of(report["host"]["checks"], "btf")
            assert btf["status"] == "problem" and why in btf["found"], btf
            assert "VMLINUX_BTF" in btf["advice"], btf
            assert json_verdicts(report) == text_verdicts(text.stdout)
            for cap in ("tasks", "warnings"):
                assert not json_verdicts(report)[(None, cap)][0]


@test
def trace_honours_vmlinux_btf():
    """VMLINUX_BTF names the BTF trace opens its programs with: the kernel's own file
    traces; a missing one is bad input, with nothing attached. (Before: ignored, exit 0.)"""
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        r = subprocess.run([harness.inflight(), "trace", "-p", str(sleeper.pid), "-d", "0.3"],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, VMLINUX_BTF="/sys/kernel/btf/vmlinux"))
        assert r.returncode == 0 and "PROCESS %d" % sleeper.pid in r.stdout, r.stderr
        r = subprocess.run([harness.inflight(), "trace", "-p", str(sleeper.pid), "-d", "0.3"],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, VMLINUX_BTF="/nonexistent"))
        assert r.returncode == 2 and r.stdout == "", r
        assert "VMLINUX_BTF '/nonexistent'" in r.stderr, r.stderr
    finally:
        sleeper.kill()
        sleeper.wait()


@test
def doctor_missing_capability():
    """Without CAP_SYS_ADMIN this kernel refuses uprobes even with CAP_PERFMON: trace is
    ready, tasks and warnings are not. Without CAP_BPF too, nothing loads."""
    report = doctor_json(drop="cap_sys_admin", status=1)
    caps = check_of(report["host"]["checks"], "capabilities")
    assert caps["status"] == "problem" and "lacks CAP_SYS_ADMIN" in caps["found"], caps
    assert "CAP_BPF" in caps["found"].split(";")[0], caps
    tasks = check_of(report["host"]["checks"], "bpf:tasks")
    assert tasks["status"] == "problem" and "uprobe" in tasks["found"], tasks
    verdicts = json_verdicts(report)
    expect_verdicts(verdicts, None, {"trace": True, "tasks": False, "warnings": False,
                                     "ps": True})
    assert "CAP_SYS_ADMIN" in verdicts[(None, "tasks")][1], verdicts
    report = doctor_json(drop="cap_sys_admin,cap_bpf", status=1)
    verdicts = json_verdicts(report)
    expect_verdicts(verdicts, None, {"trace": False, "tasks": False, "warnings": False,
                                     "ps": True})
    assert "lacks CAP_BPF" in verdicts[(None, "trace")][1], verdicts
    assert check_of(report["host"]["checks"], "bpf:conns")["status"] == "problem"


@test
def doctor_on_a_process_that_is_not_python():
    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        text = doctor("-p", str(sleeper.pid))
        assert text.returncode == 1, text.stdout + text.stderr
        verdicts = text_verdicts(text.stdout)
        expect_verdicts(verdicts, None, True)
        expect_verdicts(verdicts, sleeper.pid, {"trace": True, "tasks": False,
                                                "warnings": False, "ps": False})
        assert verdicts[(sleeper.pid, "tasks")][1] == "not a CPython process", verdicts
        report = doctor_json("-p", str(sleeper.pid), status=1)
        t = target_of(report, sleeper.pid)
        assert t["python"] is False and t["comm"] == "sleep", t
        assert "not a Python process: sleep runs" in check_of(t["checks"], "python")["found"]
        assert json_verdicts(report) == verdicts
    finally:
        sleeper.kill()
        sleeper.wait()


def started_python(python, code):
    """python -c CODE, once it has printed its first line."""
    p = subprocess.Popen([python, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True)
    assert p.stdout.readline().strip() == "ready"
    return p


@test
def doctor_on_an_unsupported_python():
    python38 = pyenv_python(8)
    if not python38:
        harness.skip("doctor_on_an_unsupported_python", "no pyenv CPython 3.8 here")
        return
    old = started_python(python38, "import asyncio, sys; print('ready', flush=True); "
                         "sys.stdin.read()")
    try:
        text = doctor("-p", str(old.pid))
        assert text.returncode == 1, text.stdout + text.stderr
        verdicts = text_verdicts(text.stdout)
        expect_verdicts(verdicts, old.pid, {"trace": True, "tasks": False, "warnings": False,
                                            "ps": False})
        why = verdicts[(old.pid, "tasks")][1]
        assert "CPython 3.8 is not supported" in why and "3.9 to 3.15" in why, why
        report = doctor_json("-p", str(old.pid), status=1)
        t = target_of(report, old.pid)
        assert t["python"] is True and t["python_version"] is None, t
        assert check_of(t["checks"], "python")["status"] == "problem"
        assert "libpython3.8" in t["runtime_file"], t
    finally:
        old.kill()
        old.wait()


def doctor_on_workload(python, **kw):
    w = Workload("task_service.py", python=python, **kw)
    try:
        text = doctor("-p", str(w.pid))
        report = doctor_json("-p", str(w.pid))
    finally:
        w.stop()
    assert text.returncode == 0, text.stdout + text.stderr
    verdicts = text_verdicts(text.stdout)
    expect_verdicts(verdicts, w.pid, True)
    assert json_verdicts(report) == verdicts
    t = target_of(report, w.pid)
    assert t["python"] and t["memory_readable"], t
    assert t["python_version"].startswith("%d.%d." % tuple(w.version)), (t, w.version)
    return t


@test
def doctor_tells_a_stripped_build_from_one_with_symbols():
    debian = "/usr/bin/python3.11"
    if not os.access(debian, os.X_OK):
        harness.skip("doctor_tells_a_stripped_build_from_one_with_symbols",
                     "no Debian python3.11 here")
        return
    t = doctor_on_workload(debian)
    assert t["build"].startswith("stripped"), t
    assert t["asyncio_hook"].startswith("the Task type's slots (no symbols)"), t
    assert t["asyncio_file"].endswith(".so") and "_asyncio" in t["asyncio_file"], t
    assert check_of(t["checks"], "root")["status"] == "ok" and t["root"] == "/", t
    python = pyenv_python(12)
    assert python, "no pyenv CPython 3.12 here"
    t = doctor_on_workload(python)
    assert t["build"].startswith("with symbols") and "libpython shared" in t["build"], t
    assert t["asyncio_hook"].startswith("ELF symbols"), t


@test
def doctor_on_a_python_in_another_root():
    python = sid_python("3.13")
    if not python:
        harness.skip("doctor_on_a_python_in_another_root", harness.SID_REASON)
        return
    t = doctor_on_workload(python)
    root = check_of(t["checks"], "root")
    assert t["root"] == harness.sid_root(), (t["root"], harness.sid_root())
    assert root["status"] == "note" and "not inflight's" in root["found"], root
    assert t["asyncio_file"].startswith(harness.sid_root()), t


@test
def doctor_of_a_pid_that_names_no_process():
    gone = subprocess.Popen(["true"])
    gone.wait()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "doctor.txt")
        r = doctor("-p", str(gone.pid), "-o", path)
        assert r.returncode == 2 and r.stdout == "", r
        assert "no process with PID %d" % gone.pid in r.stderr, r.stderr
        assert os.listdir(d) == [], os.listdir(d)
    for args in (["-p", "zero"], ["--format", "xml"], ["extra"]):
        r = doctor(*args)
        assert r.returncode == 2 and "Try 'inflight doctor --help'" in r.stderr, (args, r)


@test
def doctor_on_a_python_without_asyncio():
    """A CPython that has not imported asyncio: nothing to hook yet, which tasks says;
    its memory reads (ps shows no tasks)."""
    python = pyenv_python(12)
    assert python, "no pyenv CPython 3.12 here"
    p = started_python(python, "import sys; print('ready', flush=True); sys.stdin.read()")
    try:
        report = doctor_json("-p", str(p.pid), status=1)
    finally:
        p.kill()
        p.wait()
    verdicts = json_verdicts(report)
    expect_verdicts(verdicts, p.pid, {"trace": True, "tasks": False, "warnings": True,
                                      "ps": True})
    assert "asyncio is not imported yet" in verdicts[(p.pid, "tasks")][1], verdicts
    t = target_of(report, p.pid)
    assert t["python_version"].startswith("3.12.") and t["asyncio_file"] is None, t
    assert check_of(t["checks"], "asyncio")["status"] == "note", t


@test
def doctor_without_tracefs_mounted():
    """tracefs unmounted (in a mount namespace of the test's own): no problem, since
    inflight mounts it privately as it traces; without CAP_SYS_ADMIN it cannot, and
    trace is not ready."""
    def run(drop):
        inner = [harness.inflight(), "doctor", "-f", "json"]
        if drop:
            inner = ["capsh", "--drop=" + drop, "--", "-c", 'exec "$0" "$@"', *inner]
        r = subprocess.run(["unshare", "-m", "sh", "-c",
                            'umount /sys/kernel/tracing && exec "$0" "$@"', *inner],
                           capture_output=True, text=True, timeout=60)
        return r.returncode, json.loads(r.stdout)
    status, report = run(None)
    tracefs = check_of(report["host"]["checks"], "tracefs")
    assert tracefs["status"] == "note" and "not mounted" in tracefs["found"], tracefs
    assert check_of(report["host"]["checks"], "bpf:conns")["status"] == "ok"
    assert status == 0 and json_verdicts(report)[(None, "trace")] == (True, None), report
    status, report = run("cap_sys_admin")
    tracefs = check_of(report["host"]["checks"], "tracefs")
    assert tracefs["status"] == "problem" and "mount -t tracefs" in tracefs["advice"], tracefs
    ready, why = json_verdicts(report)[(None, "trace")]
    assert status == 1 and not ready and "tracefs" in why, (status, why)


@test
def doctor_inside_a_pid_namespace():
    """inflight in a PID namespace of its own: its BPF programs see the host's PIDs, so
    a trace there would count nothing; the doctor says trace is not ready, and trace
    refuses with the reason (exit 2)."""
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", harness.inflight(),
                        "doctor", "-f", "json"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    report = json.loads(r.stdout)
    container = check_of(report["host"]["checks"], "container")
    assert container["status"] == "problem", container
    assert "PID namespace of its own" in container["found"], container
    expect_verdicts(json_verdicts(report), None, {"trace": False, "tasks": False,
                                                  "warnings": False, "ps": True})
    assert "--pid=host" in json_verdicts(report)[(None, "trace")][1]
    # the tracer refuses there, rather than report a trace that counted nothing
    r = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", harness.inflight(),
                        "trace", "-p", "1", "-d", "1"], capture_output=True, text=True,
                       timeout=60)
    expect_eq("trace's exit status in a PID namespace of its own", r.returncode, 2)
    assert "PID namespace of its own" in r.stderr and "--pid=host" in r.stderr, r.stderr
