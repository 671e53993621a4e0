"""inflight sweep against a host running known workloads: findings_suite.py
scenarios under several interpreters (one of them Debian unstable's, in a root
of its own), one moved into a cgroup named as Docker names a container's (with
a second process, in PID and mount namespaces of its own), one started after
the sweep began, one a shell when the sweep began that then exec()s Python; a
Python without asyncio, a CPython 3.8 inflight cannot hook, and a process that
is no Python. The snapshot must list each Python with its service name,
version and the findings its workload expects; the 3.8 as skipped with why;
nothing of the rest."""
import glob
import gzip
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import uuid

from harness import (PYTHON, WORKLOADS, Workload, expect_eq, inflight, interpreters, run_inflight,
                     site_markers, skip, test)
from test_findings import SAMPLED_EXPECT, found
from test_namespaces import Container
from test_tasks import find_site

PYENV = os.path.expanduser("~/.pyenv/versions")


def pyenv_python(minor):
    """pyenv's python3.<minor>, or None."""
    paths = sorted(glob.glob(os.path.join(PYENV, "3.%d.*" % minor, "bin", "python3.%d" % minor)))
    return paths[-1] if paths else None


def sid_python(version):
    """Debian unstable's python<version>, run in its root, or None."""
    for name, path, _ in interpreters()[0]:
        if name == "debian-sid-" + version:
            return path
    return None


def python_version(python):
    return subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True).stdout.strip()


def cgroup2_root():
    """Where the unified cgroup hierarchy is mounted, or None."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[sep + 1] == "cgroup2":
                return fields[4]
    return None


class DockerLikeCgroup:
    """A cgroup v2 directory named as Docker's systemd driver names a
    container's (docker-<64 hex digits>.scope), to move a workload into."""

    def __init__(self):
        root = cgroup2_root()
        assert root, "no cgroup v2 hierarchy mounted"
        self.id = os.urandom(32).hex()
        self.path = os.path.join(root, "docker-%s.scope" % self.id)
        self.root = root
        os.mkdir(self.path)

    def enter(self, pid):
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(pid))

    def remove(self):
        with open(os.path.join(self.path, "cgroup.procs")) as f:
            left = f.read().split()
        for pid in left:
            with open(os.path.join(self.root, "cgroup.procs"), "w") as f:
                f.write(pid)
        os.rmdir(self.path)


def command_service(pid):
    """The name the sweep gives a process outside any container or unit: its
    executable (as /proc/PID/exe resolves) and its arguments."""
    exe = os.readlink("/proc/%d/exe" % pid)
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        argv = f.read().split(b"\0")[:-1]
    return " ".join([exe] + [a.decode() for a in argv[1:]])


class Sweep:
    """inflight sweep -v, read until it says what it wants; wrap: a command
    that runs it (unshare, say)."""

    def __init__(self, out_dir, *args, wrap=()):
        self.proc = subprocess.Popen([*wrap, inflight(), "sweep", "-v", "-o", out_dir, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.stderr = []

    def read_until(self, pattern):
        while True:
            line = self.proc.stderr.readline()
            if not line:
                raise AssertionError("inflight sweep ended (rc=%s) before printing %r: %s" %
                                     (self.proc.wait(), pattern, "".join(self.stderr)))
            self.stderr.append(line)
            if re.search(pattern, line):
                return line

    def finish(self):
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=600)
        return self.proc.returncode, out, "".join(self.stderr) + err


def read_snapshot(path):
    with gzip.open(path, "rt") as f:
        return json.load(f)


def sweep_stderr_pattern(pid):
    return r"PID %d \(.*\) traced as " % pid


# name: (interpreter, scenario)
def plan():
    """The Python workloads to run, by role, on the interpreters here."""
    roles = {
        "leaking": (pyenv_python(12), "close_wait"),
        "healthy": (pyenv_python(9), "pool"),
        "other_root": (sid_python("3.14"), "unbounded"),
        "container": (pyenv_python(13), "bounded"),
        "late": (pyenv_python(10), "unbounded"),
    }
    for role, (python, scenario) in list(roles.items()):
        if python is None:
            skip("sweep_of_a_host_running_known_workloads",
                 "no interpreter for the %s workload here" % role)
            roles[role] = (PYTHON, scenario)
    return roles


def expected_findings(lines, scenario, expect, minor, probes=False):
    """The findings --sampled (the sweep's default), or --probes, should give, as the
    choices test_findings.py allows, as sets of (kind, reason, line)."""
    choices = [{tuple(e) for e in expect}]
    if probes:
        return [{(kind, reason, lines[marker]) for kind, reason, marker in c} for c in choices]
    choices = SAMPLED_EXPECT.get(scenario, choices)
    if scenario == "fire_and_forget" and (minor <= 10 or minor >= 15):
        choices = choices + [set()]
    return [{(kind, reason, lines[marker]) for kind, reason, marker in c} for c in choices]


def start(python, scenario):
    return Workload("findings_suite.py", python=python, args=[scenario], quiet=True)


def go(workload):
    workload.proc.stdin.write("go\n")
    workload.proc.stdin.flush()


@test
def sweep_of_a_host_running_known_workloads():
    sweep_known_workloads([])


@test
def sweep_of_a_host_running_known_workloads_with_probes():
    """The same host swept --probes: the findings the default (--sampled) gives are
    those of the probing mode, workload by workload."""
    sweep_known_workloads(["--probes"])


def sweep_known_workloads(mode_options):
    lines = site_markers("findings_suite.py")
    roles = plan()
    out_dir = tempfile.mkdtemp(prefix="inflight-sweep-")
    config = tempfile.NamedTemporaryFile("w", suffix=".json")
    # as test_findings.py's trace_suite: stuck tasks clear of the noise of sanitized tracers
    json.dump({"stuck_lifetime_factor": 4}, config)
    config.flush()
    cgroup = DockerLikeCgroup()
    workloads, others, sweep, no_asyncio_service, boxed = {}, [], None, None, None
    try:
        for role, (python, scenario) in roles.items():
            if role != "late":
                workloads[role] = start(python, scenario)
        cgroup.enter(workloads["container"].pid)
        # a second process in that container, in PID and mount namespaces and a root of
        # its own, whose maps name paths that do not exist on the host
        boxed = Container(pivot=True)
        cgroup.enter(boxed.w.pid)
        no_asyncio = subprocess.Popen([PYTHON, "-c", "import sys; sys.stdin.read()"],
                                      stdin=subprocess.PIPE)
        not_python = subprocess.Popen(["sleep", "600"])
        wrapper = subprocess.Popen(["sh", "-c", 'read line; exec "$0" "$@"', PYTHON,
                                    os.path.join(WORKLOADS, "findings_suite.py"), "pool"],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                   stderr=subprocess.DEVNULL)
        others += [no_asyncio, not_python, wrapper]
        no_asyncio_service = command_service(no_asyncio.pid)
        python38 = pyenv_python(8)
        if python38:
            old = subprocess.Popen([python38, "-c", "import sys; sys.stdin.read()"],
                                   stdin=subprocess.PIPE)
            others.append(old)
        else:
            skip("sweep_of_a_host_running_known_workloads",
                 "no CPython 3.8 here for a process the sweep must skip")

        sweep = Sweep(out_dir, "-d", "60", "--close-wait-age", "0.5", "--stuck-age", "1",
                      "--config", config.name, *mode_options)
        sweep.read_until(r"^Sweeping: ")
        for w in workloads.values():
            go(w)
        # a shell when the sweep began, a Python once it execs one
        wrapper.stdin.write("exec\n")
        wrapper.stdin.flush()
        assert json.loads(wrapper.stdout.readline()).get("ready")
        sweep.read_until(sweep_stderr_pattern(wrapper.pid))
        python, scenario = roles["late"]
        workloads["late"] = late = start(python, scenario)
        sweep.read_until(sweep_stderr_pattern(late.pid))
        go(late)
        boxed.w.do("gather 40")
        expected = {role: w.read()["expect"] for role, w in workloads.items()}
        # the patterns held a while, as test_findings.py holds them
        subprocess.run(["sleep", "2"])
        rc, stdout, stderr = sweep.finish()
        assert rc == 0, stderr
        path = stdout.strip()
        assert os.path.dirname(path) == out_dir, path
        expect_eq("files written", os.listdir(out_dir), [os.path.basename(path)])
        assert re.fullmatch(r"inflight-.+-\d{8}T\d{6}Z\.json\.gz", os.path.basename(path)), path
        snap = read_snapshot(path)
    finally:
        for w in workloads.values():
            w.stop()
        for p in others:
            p.kill()
            p.wait()
        if boxed:
            boxed.stop()
        if sweep and sweep.proc.poll() is None:
            sweep.proc.kill()
            sweep.proc.wait()
        cgroup.remove()
        config.close()

    expect_eq("schema", (snap["schema"], snap["schema_version"]), ("inflight-snapshot", 1))
    expect_eq("mode", snap["mode"], "probes" if mode_options else "sampled")
    expect_eq("end reason", snap["end_reason"], "interrupted")
    expect_eq("hostname", snap["host"]["hostname"], os.uname().nodename)
    expect_eq("kernel", snap["host"]["kernel"], os.uname().release)
    services = {s["pid"]: s for s in snap["services"]}
    skipped = {s["pid"]: s for s in snap["skipped"]}
    wrong = []
    for role, w in workloads.items():
        python, scenario = roles[role]
        s = services.get(w.pid)
        if s is None:
            wrong.append("%s (PID %d, %s): not in the snapshot's services; skipped as %s" %
                         (role, w.pid, scenario, skipped.get(w.pid)))
            continue
        hook = [h for h in s["target"]["hooks"] if h["name"] == "asyncio_tasks"][0]
        assert hook["attached"], "%s: tasks not tracked: %s" % (role, hook["detail"])
        expect_eq("%s's Python" % role, s["python"], python_version(python))
        expect_eq("%s's pid in its target" % role, s["target"]["pid"], w.pid)
        minor = int(s["python"].split(".")[1])
        got = found({"findings": s["findings"]}, w.pid)
        wants = expected_findings(lines, scenario, expected[role], minor, bool(mode_options))
        if got not in wants:
            wrong.append("%s (%s): expected one of %s, got %s" % (role, scenario, wants,
                                                                   sorted(got, key=str)))
        if role == "container":
            expect_eq("container's service", (s["service"], s["service_source"]),
                      ("docker:" + cgroup.id[:12], "container-id"))
            expect_eq("container", s["container"],
                      {"cgroup": "/docker-%s.scope" % cgroup.id, "runtime": "docker",
                       "name": None, "id": cgroup.id})
        else:
            assert s["service_source"] == "command" and \
                s["service"].endswith("findings_suite.py " + scenario), s["service"]
    assert not wrong, "; ".join(wrong)
    # the late one joined after the sweep began, and its rates count from then
    late = services[workloads["late"].pid]["target"]
    first = max(services[w.pid]["target"]["joined_at_s"] for role, w in workloads.items()
                if role != "late")
    assert late["joined_at_s"] > first and late["traced_s"] < snap["duration_s"], (first, late)

    s = services.get(no_asyncio.pid)
    assert s is not None, "the Python without asyncio is not in the services"
    expect_eq("no-asyncio findings", s["findings"], [])
    expect_eq("no-asyncio service", (s["service"], s["service_source"]),
              (no_asyncio_service, "command"))
    hook = [h for h in s["target"]["hooks"] if h["name"] == "asyncio_tasks"][0]
    assert not hook["attached"] and "asyncio is not imported" in hook["detail"], hook
    s = services.get(boxed.w.pid)
    assert s is not None, "the namespaced process is not in the services (skipped as %s)" % \
        skipped.get(boxed.w.pid)
    expect_eq("namespaced process's service", (s["service"], s["container"]["id"]),
              ("docker:" + cgroup.id[:12], cgroup.id))
    expect_eq("namespaced process's Python", s["python"], python_version(PYTHON))
    gathered = find_site(s["target"]["tasks"], site_markers("task_service.py")["gather"],
                         "waiter")
    expect_eq("namespaced process's gathered tasks",
              gathered["at_attach"] + gathered["created"], 40)

    s = services.get(wrapper.pid)
    assert s is not None, "the shell that exec()ed a Python is not in the services"
    expect_eq("exec()ed Python's version", s["python"], python_version(PYTHON))
    assert not_python.pid not in services and not_python.pid not in skipped, \
        "a process that is no Python is in the snapshot"
    if python38:
        s = skipped.get(old.pid)
        assert s, "the CPython 3.8 is not listed as skipped"
        assert "CPython 3.8 is not supported" in s["reason"], s
        assert old.pid not in services
    assert os.getpid() not in skipped


class DockerConfig:
    """What a Docker host keeps of a container in /var/lib/docker (its
    config.v2.json, which holds its name), for a container ID; removes what it
    made."""

    ROOT = "/var/lib/docker/containers"

    def __init__(self, container_id, name):
        self.made = [d for d in ("/var/lib/docker", self.ROOT) if not os.path.exists(d)]
        os.makedirs(self.ROOT, exist_ok=True)
        self.dir = os.path.join(self.ROOT, container_id)
        os.mkdir(self.dir)
        self.made.append(self.dir)
        with open(os.path.join(self.dir, "config.v2.json"), "w") as f:
            json.dump({"ID": container_id, "Name": "/" + name, "State": {"Running": True},
                       "Config": {"Hostname": container_id[:12]}}, f)

    def remove(self):
        shutil.rmtree(self.made[-1])
        for d in reversed(self.made[:-1]):
            os.rmdir(d)


@test
def sweep_names_a_docker_container_by_its_name():
    """A process in a Docker container's cgroup is named by the name Docker
    keeps for the container, which outlives its ID (a re-created container
    keeps its name, not its ID)."""
    out_dir = tempfile.mkdtemp(prefix="inflight-sweep-")
    cgroup = DockerLikeCgroup()
    name = "billing-api-" + os.urandom(4).hex()
    config = DockerConfig(cgroup.id, name)
    w = None
    try:
        w = Workload("findings_suite.py", python=PYTHON, args=["pool"], quiet=True)
        cgroup.enter(w.pid)
        r = run_inflight("sweep", "-d", "1", "-o", out_dir, timeout=600)
    finally:
        if w:
            w.stop()
        cgroup.remove()
        config.remove()
    assert r.returncode == 0, r.stderr
    snap = read_snapshot(r.stdout.strip())
    s = [s for s in snap["services"] if s["pid"] == w.pid]
    assert s, "the workload is not in the snapshot"
    expect_eq("container's service", (s[0]["service"], s[0]["service_source"]),
              ("docker:" + name, "container"))
    expect_eq("container", s[0]["container"],
              {"cgroup": "/docker-%s.scope" % cgroup.id, "runtime": "docker", "name": name,
               "id": cgroup.id})


@test
def sweep_names_a_kubernetes_pod_by_its_stable_name():
    """A process in a pod's cgroup (kubepods...pod<uid>.slice) is named by its
    pod's name, the HOSTNAME in its environment, without the suffixes a
    Deployment adds (pod-template hash, random): a redeployed pod keeps it."""
    out_dir = tempfile.mkdtemp(prefix="inflight-sweep-")
    root = cgroup2_root()
    assert root, "no cgroup v2 hierarchy mounted"
    uid = str(uuid.uuid4())
    container_id = os.urandom(32).hex()
    base = "billing-" + "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6))
    dirs = [os.path.join(root, "kubepods.slice"),
            os.path.join(root, "kubepods.slice", "kubepods-pod%s.slice" % uid.replace("-", "_"))]
    dirs.append(os.path.join(dirs[-1], "cri-containerd-%s.scope" % container_id))
    made, w = [], None
    try:
        for d in dirs:
            if not os.path.isdir(d):
                os.mkdir(d)
                made.append(d)
        env = dict(os.environ, HOSTNAME=base + "-7d9c8b6f5d-x2kqz")
        w = Workload("findings_suite.py", python=PYTHON, args=["pool"], env=env, quiet=True)
        with open(os.path.join(dirs[-1], "cgroup.procs"), "w") as f:
            f.write(str(w.pid))
        r = run_inflight("sweep", "-d", "1", "-o", out_dir, timeout=600)
    finally:
        if w:
            w.stop()
        for d in reversed(made):
            os.rmdir(d)
    assert r.returncode == 0, r.stderr
    snap = read_snapshot(r.stdout.strip())
    s = [s for s in snap["services"] if s["pid"] == w.pid]
    assert s, "the workload is not in the snapshot"
    expect_eq("pod's service", (s[0]["service"], s[0]["service_source"]),
              ("kubernetes:" + base, "container"))
    expect_eq("pod's container", (s[0]["container"]["runtime"], s[0]["container"]["name"],
                                  s[0]["container"]["id"]), ("kubernetes", base, container_id))


@test
def sweep_reports_the_read_period_it_achieved():
    """--sampled reads each process on a deadline of its own: the snapshot says how often
    it read each one, and the reads it counts agree with the times it gives and the time
    each was traced; a process is never read more often than --sample-period."""
    out_dir = tempfile.mkdtemp(prefix="inflight-sweep-")
    workloads = [Workload("findings_suite.py", python=PYTHON, args=["pool"], quiet=True)
                 for _ in range(3)]
    try:
        r = run_inflight("sweep", "-d", "2", "--sample-period", "0.2", "-o", out_dir,
                         timeout=600)
    finally:
        for w in workloads:
            w.stop()
    assert r.returncode == 0, r.stderr
    snap = read_snapshot(r.stdout.strip())
    period = snap["tracer"]["sample_period_s"]
    expect_eq("sample period", period, 0.2)
    read, longest = [], 0
    for s in snap["services"]:
        t, reads = s["target"], s["target"]["task_reads"]
        if not [h for h in t["hooks"] if h["name"] == "asyncio_tasks" and h["attached"]]:
            continue
        if s["pid"] in [w.pid for w in workloads]:
            assert reads["count"] >= 2, (s["pid"], reads)
        if reads["count"] < 2:
            continue
        span = reads["last_at_s"] - reads["first_at_s"]
        assert t["joined_at_s"] - 0.01 <= reads["first_at_s"] <= reads["last_at_s"] <= \
            snap["duration_s"] + 0.01, (t["joined_at_s"], reads, snap["duration_s"])
        assert abs(reads["period_s"] - span / (reads["count"] - 1)) <= 0.001, reads
        assert reads["period_s"] <= reads["longest_gap_s"] + 0.001, reads
        # each read is due a period after the last was due: never closer on the whole
        assert (reads["count"] - 1) * period <= t["traced_s"] + period, (reads, t["traced_s"])
        read.append(reads["period_s"])
        longest = max(longest, reads["longest_gap_s"])
    achieved = snap["tracer"]["sample_period_achieved_s"]
    read.sort()
    n = len(read)
    expect_eq("processes read twice or more", achieved["processes"], n)
    median = read[n // 2] if n % 2 else (read[n // 2 - 1] + read[n // 2]) / 2
    assert abs(achieved["p50"] - median) <= 0.001, (achieved, read)
    assert abs(achieved["max"] - longest) <= 0.001, (achieved, longest)


@test
def sweep_for_a_duration_with_probes():
    out_dir = tempfile.mkdtemp(prefix="inflight-sweep-")
    w = Workload("findings_suite.py", python=PYTHON, args=["pool"], quiet=True)
    try:
        r = run_inflight("sweep", "-d", "1", "--probes", "-o", out_dir, timeout=600)
    finally:
        w.stop()
    assert r.returncode == 0, r.stderr
    assert "Sweeping: " in r.stderr, r.stderr
    snap = read_snapshot(r.stdout.strip())
    expect_eq("mode", (snap["mode"], snap["tracer"]["mode"]), ("probes", "probes"))
    expect_eq("read period", snap["tracer"]["sample_period_achieved_s"], None)
    expect_eq("end reason", snap["end_reason"], "duration")
    # from the start of the attach, so also the time attaching to every Python here took
    assert snap["duration_s"] >= 1, snap["duration_s"]
    s = [s for s in snap["services"] if s["pid"] == w.pid]
    assert s, "the workload is not in the snapshot"
    probes = [p["what"] for h in s[0]["target"]["hooks"] for p in h["probes"]]
    assert "Task init" in probes, probes
    # inflight trend reads it as a sweep wrote it: every service (the processes of one
    # service as one), nothing skipped
    t = run_inflight("trend", "-f", "json", r.stdout.strip())
    assert t.returncode == 0, t.stderr
    trend = json.loads(t.stdout)
    expect_eq("files trend skipped", trend["skipped"], [])
    expect_eq("services trend read", trend["hosts"][0]["snapshots"][0]["services"],
              len({s["service"] for s in snap["services"]}))


@test
def sweep_bad_input_writes_nothing():
    out_dir = tempfile.mkdtemp(prefix="inflight-sweep-")
    a_file = os.path.join(out_dir, "a-file")
    with open(a_file, "w") as f:
        f.write("keep me\n")
    cases = [
        (["-o", os.path.join(out_dir, "missing")], "No such file or directory"),
        (["-o", a_file], "not a directory"),
        (["-o", out_dir, "-d", "0"], "invalid duration '0'"),
        (["-o", out_dir, "-d", "soon"], "invalid duration 'soon'"),
        (["-o", out_dir, "--probes", "--sampled"], "give one of them"),
        (["-o", out_dir, "--format", "json"], "invalid option '--format'"),
        (["-o", out_dir, "--probes", "--sample-period", "1"], "--sample-period"),
        (["-o", out_dir, "stray"], "unexpected argument 'stray'"),
    ]
    for args, message in cases:
        r = run_inflight("sweep", *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert message in r.stderr, (args, r.stderr)
        assert r.stdout == "", (args, r.stdout)
        expect_eq("files after sweep %s" % " ".join(args), sorted(os.listdir(out_dir)), ["a-file"])
    with open(a_file) as f:
        expect_eq("the file -o named", f.read(), "keep me\n")


@test
def sweep_writes_metrics_for_prometheus():
    """--metrics FILE: the figures of every service, beside the snapshot, in one
    file a later sweep replaces, named by service and not by PID, readable by
    another user (node_exporter's); promtool accepts it."""
    out_dir = tempfile.mkdtemp(prefix="inflight-sweep-")
    textfiles = tempfile.mkdtemp(prefix="inflight-textfile-")
    path = os.path.join(textfiles, "inflight.prom")
    w = Workload("findings_suite.py", python=PYTHON, args=["pool"], quiet=True)
    try:
        service = command_service(w.pid)
        snapshots = []
        for _ in range(2):
            r = run_inflight("sweep", "-d", "1", "-o", out_dir, "--metrics", path, timeout=600)
            assert r.returncode == 0, r.stderr
            snapshots.append(r.stdout.strip())
    finally:
        w.stop()
    expect_eq("snapshots", sorted(os.listdir(out_dir)),
              sorted(os.path.basename(p) for p in set(snapshots)))
    assert re.fullmatch(r"inflight-.+-\d{8}T\d{6}Z\.json\.gz", os.path.basename(snapshots[-1]))
    expect_eq("files beside the metrics", os.listdir(textfiles), ["inflight.prom"])
    assert os.stat(path).st_mode & 0o004, oct(os.stat(path).st_mode)
    with open(path) as f:
        text = f.read()
    info = [line for line in text.splitlines() if line.startswith("inflight_process_info{")]
    escaped = service.replace("\\", "\\\\").replace('"', '\\"')
    assert any('service="%s"' % escaped in line for line in info), (service, info)
    assert not re.search(r'[{,]pid="', text), "a sweep's series carry a pid label"
    # the snapshot and the metrics are of one run: the same services
    snap = read_snapshot(snapshots[-1])
    for s in snap["services"]:
        escaped = s["service"].replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        assert 'service="%s"' % escaped in text, s["service"]
    if shutil.which("promtool"):
        r = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stdout + r.stderr


@test
def sweep_keep_and_metrics_bad_input():
    """--keep below 1 or not a number, --metrics to stdout or a missing
    directory: refused, exit 2, nothing written and nothing removed."""
    out_dir = tempfile.mkdtemp(prefix="inflight-sweep-")
    old = "inflight-%s-20200101T000000Z.json.gz" % os.uname().nodename.replace("/", "_")
    open(os.path.join(out_dir, old), "w").close()
    cases = [
        (["--keep", "0"], "invalid number of snapshots to keep '0'"),
        (["--keep", "-1"], "invalid number of snapshots to keep '-1'"),
        (["--keep", "2K"], "invalid number of snapshots to keep '2K'"),
        (["--keep", ""], "invalid number of snapshots to keep ''"),
        (["--metrics", "-"], "invalid metrics file '-'"),
        (["--metrics", ""], "invalid metrics file ''"),
        (["--metrics", os.path.join(out_dir, "missing", "inflight.prom")],
         "failed to open the metrics file"),
        (["--metrics", out_dir], "failed to open the metrics file"),
        (["-f", "prometheus"], "invalid option '-f'"),
    ]
    for args, message in cases:
        r = run_inflight("sweep", "-o", out_dir, "--keep", "1", *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert message in r.stderr, (args, r.stderr)
        assert r.stdout == "", (args, r.stdout)
        expect_eq("files after sweep %s" % " ".join(args), os.listdir(out_dir), [old])
