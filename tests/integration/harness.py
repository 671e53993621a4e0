"""What the integration tests share: the inflight under test, workloads driven
over stdin/stdout, a tracer started the way a user would, and ss(8)."""
import atexit
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOADS = os.path.join(HERE, "..", "workloads")
PYTHON = os.environ.get("INFLIGHT_TEST_PYTHON", sys.executable)
INFLIGHT = None   # set by run.py
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def site_markers(script):
    """{'fanout': 47, ...}: the lines of a workload that carry a '# site:NAME' marker."""
    lines = {}
    with open(os.path.join(WORKLOADS, script)) as f:
        for number, text in enumerate(f, 1):
            m = re.search(r"# site:(\w+)", text)
            if m:
                lines[m.group(1)] = number
    return lines


SID_VERSIONS = ("3.13", "3.14", "3.15")
# built with symbols from Debian's source packages by tools/cpython-symbol-builds.sh
SYMBOL_VERSIONS = ("3.14", "3.15")
SYMBOLS_REASON = "not built here ('make symbol-builds' builds it where Debian's source " \
    "packages can be fetched)"
SID_REASON = "the Debian unstable root is not built ('make test-root' builds it)"
_sid_dir = []


def sid_root():
    """The Debian unstable root tools/unstable-root.sh built, or None if it is incomplete."""
    script = os.path.join(HERE, "..", "..", "tools", "unstable-root.sh")
    r = subprocess.run(["bash", script, "--print"], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def sid_pythons():
    """A directory of python3.13, python3.14 and python3.15: symlinks to
    tests/sid_python.sh, which runs each in the Debian unstable root. Made once
    per run, removed at exit."""
    if not _sid_dir:
        d = tempfile.mkdtemp(prefix="inflight-sid-python-")
        wrapper = os.path.abspath(os.path.join(HERE, "..", "sid_python.sh"))
        for v in SID_VERSIONS:
            os.symlink(wrapper, os.path.join(d, "python" + v))
        for v in SYMBOL_VERSIONS:
            os.symlink(wrapper, os.path.join(d, "python%s-symbols" % v))
        atexit.register(shutil.rmtree, d, True)
        _sid_dir.append(d)
    return _sid_dir[0]


def is_sid(name):
    """Whether an interpreter of interpreters() runs in the Debian unstable root."""
    return name.startswith("debian-sid-")


def interpreters():
    """Every CPython 3.9-3.15 here, as (name, path, stripped): pyenv's builds,
    Debian's python3.11, and Debian unstable's 3.13-3.15 (run in its root by
    tests/sid_python.sh); and what is missing, as (what, why)."""
    found = []
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    versions = os.path.join(root, "versions")
    for v in sorted(os.listdir(versions)) if os.path.isdir(versions) else []:
        m = re.fullmatch(r"3\.(9|1[0-5])\.\d+", v)
        path = os.path.join(versions, v, "bin", "python3.%s" % m.group(1)) if m else None
        if path and os.access(path, os.X_OK):
            found.append(("pyenv-" + v, path, False))
    if os.access("/usr/bin/python3.11", os.X_OK):
        found.append(("debian-3.11", "/usr/bin/python3.11", True))
    have_sid = sid_root() is not None
    if have_sid:
        found += [("debian-sid-" + v, os.path.join(sid_pythons(), "python" + v), True)
                  for v in SID_VERSIONS]
    missing = [] if have_sid else \
        [("Debian unstable's CPython " + v, SID_REASON) for v in SID_VERSIONS]
    for v in SYMBOL_VERSIONS:
        built = have_sid and os.access(os.path.join(sid_root(), "opt", "cpython-" + v, "bin",
                                                    "python" + v), os.X_OK)
        if built:
            found.append(("debian-sid-%s-symbols" % v,
                          os.path.join(sid_pythons(), "python%s-symbols" % v), False))
        else:
            missing.append(("CPython %s with symbols" % v, SYMBOLS_REASON))
    minors = {re.search(r"3\.(\d+)", f[0]).group(1) for f in found}
    for m in range(9, 16):
        if str(m) not in minors and (have_sid or "3.%d" % m not in SID_VERSIONS):
            missing.append(("CPython 3.%d" % m, "no such interpreter on this machine"))
    return found, missing


SKIPPED = []    # (test, why): variants a test leaves out, printed by run.py


def skip(name, why):
    SKIPPED.append((name, why))


class Workload:
    """A workload from tests/workloads, driven one command at a time."""

    def __init__(self, script="conn_service.py", python=None, env=None, args=(), quiet=False,
                 command=None):
        """command, when given, is the whole command line (a chroot's, say)."""
        command = command or [python or PYTHON, os.path.join(WORKLOADS, script), *args]
        self.proc = subprocess.Popen(command,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     bufsize=1, env=env,
                                     stderr=subprocess.DEVNULL if quiet else None)
        hello = self.read()
        assert hello.get("ready"), hello
        self.hello = hello
        self.pid = hello["pid"]
        self.ports = hello.get("ports")
        self.version = hello.get("version")

    def read(self):
        line = self.proc.stdout.readline()
        assert line, "workload exited early (rc=%s)" % self.proc.poll()
        return json.loads(line)

    def do(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        answer = self.read()
        assert answer.get("ok"), answer
        return answer

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


class Tracer:
    """inflight trace, started and waited for like a user would."""

    def __init__(self, *args, env=None):
        self.proc = subprocess.Popen([inflight(), "trace", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.stderr_head = []
        if self.read_until(lambda line: line.startswith("Tracing")):
            return
        out, err = self.proc.communicate(timeout=10)
        raise AssertionError("inflight never printed 'Tracing' (rc=%s): %s%s" %
                             (self.proc.returncode, "".join(self.stderr_head), err))

    def read_until(self, want, seconds=30):
        """Reads stderr, kept in stderr_head, until a line for which want(line)
        holds: that line, or None at its end or after seconds."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.stderr_head.append(line)
            if want(line):
                return line
        return None

    def finish(self, sig=signal.SIGINT, timeout=30):
        if sig is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out, "".join(self.stderr_head) + err


def ss_states(pid):
    """TCP states of the sockets pid holds, by ss(8), listeners left out."""
    out = subprocess.run(["ss", "-tanpH"], capture_output=True, text=True, check=True).stdout
    states = {}
    for line in out.splitlines():
        if "pid=%d," % pid not in line:
            continue
        state = line.split()[0]
        if state != "LISTEN":
            states[state] = states.get(state, 0) + 1
    return states


SS_NAMES = {"ESTAB": "ESTABLISHED", "CLOSE-WAIT": "CLOSE_WAIT", "SYN-SENT": "SYN_SENT",
            "FIN-WAIT-1": "FIN_WAIT1", "FIN-WAIT-2": "FIN_WAIT2", "LAST-ACK": "LAST_ACK",
            "TIME-WAIT": "TIME_WAIT", "CLOSING": "CLOSING", "SYN-RECV": "SYN_RECV"}


def inflight():
    return INFLIGHT


def run_inflight(*args, timeout=30):
    return subprocess.run([inflight(), *args], capture_output=True, text=True, timeout=timeout)


def target_of(report, pid):
    for t in report["targets"]:
        if t["pid"] == pid:
            return t
    raise AssertionError("pid %d not in report targets" % pid)


def tasks_tracked(report, pid):
    """Fails, saying why, unless inflight tracked pid's asyncio tasks: without
    them the findings a test expects cannot be told apart by line."""
    hook = [h for h in target_of(report, pid)["hooks"] if h["name"] == "asyncio_tasks"][0]
    assert hook["attached"], "pid %d: asyncio tasks not tracked: %s" % (pid, hook["detail"])


def leak_findings(report, reason):
    return [f for f in report["findings"]
            if f["kind"] == "connection-leak" and f["evidence"]["reason"] == reason]


def expect_eq(what, got, want):
    assert got == want, "%s: inflight says %r, ground truth %r" % (what, got, want)


