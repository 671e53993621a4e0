"""What the integration tests share: the inflight under test, workloads driven
over stdin/stdout, a tracer started the way a user would, and ss(8)."""
import json
import os
import re
import signal
import subprocess
import sys
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


def interpreters():
    """Every CPython 3.9-3.13 here, as (name, path, stripped): pyenv's builds and
    Debian's python3.11; and the minor versions found nowhere."""
    found = []
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    versions = os.path.join(root, "versions")
    for v in sorted(os.listdir(versions)) if os.path.isdir(versions) else []:
        m = re.fullmatch(r"3\.(9|1[0-3])\.\d+", v)
        path = os.path.join(versions, v, "bin", "python3.%s" % m.group(1)) if m else None
        if path and os.access(path, os.X_OK):
            found.append(("pyenv-" + v, path, False))
    if os.access("/usr/bin/python3.11", os.X_OK):
        found.append(("debian-3.11", "/usr/bin/python3.11", True))
    minors = {re.search(r"3\.(\d+)", f[0]).group(1) for f in found}
    missing = ["3.%d" % m for m in range(9, 14) if str(m) not in minors]
    return found, missing


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

    def __init__(self, *args):
        self.proc = subprocess.Popen([inflight(), "trace", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.stderr_head = []
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.stderr_head.append(line)
            if line.startswith("Tracing"):
                return
        out, err = self.proc.communicate(timeout=10)
        raise AssertionError("inflight never printed 'Tracing' (rc=%s): %s%s" %
                             (self.proc.returncode, "".join(self.stderr_head), err))

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


def leak_findings(report, reason):
    return [f for f in report["findings"]
            if f["kind"] == "connection-leak" and f["evidence"]["reason"] == reason]


def expect_eq(what, got, want):
    assert got == want, "%s: inflight says %r, ground truth %r" % (what, got, want)


