"""A late `import asyncio` followed at once by a fan-out (late_fanout.py), on
every interpreter present: plain, beside a CPU hog, in a chroot, and in a
chroot whose mounts live in a private mount namespace, as in a container (the
paths in its /proc/PID/maps then mean nothing on the host). The tasks created
before the probes went in must be read from memory and counted at their line:
the unbounded-fanout finding there, with as many tasks as the workload made."""
import contextlib
import json
import os
import re
import subprocess
import tempfile

from harness import (WORKLOADS, Tracer, Workload, interpreters, is_sid, site_markers, skip,
                     target_of, test)

RUNS = {"plain": 4, "cpu_hog": 4, "chroot": 3, "container": 3}
SCRIPT = "late_fanout.py"


def fanout_at(report, pid, line):
    found = [f for f in report["findings"]
             if f["pid"] == pid and f["kind"] == "unbounded-fanout" and f["site"] and
             f["site"]["file"].endswith(SCRIPT) and f["site"]["line"] == line]
    return found[0] if len(found) == 1 else None


def trace_once(command, env=None):
    """One late import traced from before it; an error message, or None."""
    line = site_markers(SCRIPT)["late_fanout"]
    w = Workload(command=command, env=env, quiet=True)
    try:
        t = Tracer("-p", str(w.pid), "-f", "json")
        w.proc.stdin.write("go\n")
        w.proc.stdin.flush()
        truth = w.read()
        rc, stdout, stderr = t.finish()     # while the workload still holds its pattern
        assert rc == 0, stderr
        report = json.loads(stdout)
    finally:
        w.stop()
    f = fanout_at(report, w.pid, line)
    if not f:
        hooks = {h["name"]: h["detail"] for h in target_of(report, w.pid)["hooks"]}
        return "no unbounded-fanout at line %d: findings %s, hooks %s" % (
            line, [(x["kind"], x["site"]) for x in report["findings"]], hooks)
    ev = f["evidence"]
    if ev["peak_tasks_in_flight"] != truth["tasks"] or \
            ev["tasks_created"] + ev["tasks_at_attach"] != truth["tasks"]:
        return "tasks: inflight says %d in flight (%d created, %d at attach), ground truth %d" % (
            ev["peak_tasks_in_flight"], ev["tasks_created"], ev["tasks_at_attach"],
            truth["tasks"])
    return None


@contextlib.contextmanager
def cpu_hog(n=2):
    hogs = [subprocess.Popen(["python3", "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for h in hogs:
            h.kill()
            h.wait()


def prefix_of(python):
    """The tree an interpreter lives in: pyenv's version directory, or /usr."""
    return os.path.dirname(os.path.dirname(os.path.realpath(python)))


def root_skeleton():
    """An empty root: /usr, /opt/python and /w to mount on; /lib, /lib64, /bin into /usr."""
    root = tempfile.mkdtemp(prefix="inflight-root-")
    for d in ("usr", "opt/python", "w"):
        os.makedirs(os.path.join(root, d))
    for d in ("lib", "lib64", "bin"):
        os.symlink("usr/" + d, os.path.join(root, d))
    return root


def remove_skeleton(root):
    """rmdir, never rmtree: a mount point left mounted fails here instead of being emptied."""
    for d in ("lib", "lib64", "bin"):
        os.unlink(os.path.join(root, d))
    for d in ("usr", "opt/python", "opt", "w", ""):
        os.rmdir(os.path.join(root, d))


def root_mounts(root, python):
    """(source, mount point) for the root: the interpreter's tree at /opt/python."""
    mounts = [("/usr", os.path.join(root, "usr")), (WORKLOADS, os.path.join(root, "w"))]
    if prefix_of(python) != "/usr":
        mounts.append((prefix_of(python), os.path.join(root, "opt/python")))
    return mounts


def command_in_root(root, python):
    inside = python if prefix_of(python) == "/usr" else \
        "/opt/python/bin/" + os.path.basename(python)
    return ["chroot", root, inside, "/w/" + SCRIPT]


def root_env(python):
    # pyenv's builds find libpython by an absolute RUNPATH, outside the root
    return dict(os.environ, LD_LIBRARY_PATH="/opt/python/lib")


@contextlib.contextmanager
def chroot_command(python):
    """A chroot, bind-mounted on the host for its run, unmounted after (even on failure)."""
    root, mounted = root_skeleton(), []
    try:
        for source, point in root_mounts(root, python):
            subprocess.run(["mount", "--bind", source, point], check=True)
            mounted.append(point)
        yield command_in_root(root, python)
    finally:
        for point in reversed(mounted):
            subprocess.run(["umount", point], check=False)
        remove_skeleton(root)


@contextlib.contextmanager
def container_command(python):
    """A chroot whose mounts exist only in the private mount namespace it runs in."""
    root = root_skeleton()
    mounts = " && ".join("mount --bind '%s' '%s'" % m for m in root_mounts(root, python))
    try:
        yield ["unshare", "--mount", "--propagation", "private", "sh", "-c",
               "%s && exec %s" % (mounts, " ".join("'%s'" % a for a in
                                                    command_in_root(root, python)))]
    finally:
        remove_skeleton(root)


def runs_in(mode, python):
    if mode == "chroot":
        return chroot_command(python), root_env(python)
    if mode == "container":
        return container_command(python), root_env(python)
    return contextlib.nullcontext([python, os.path.join(WORKLOADS, SCRIPT)]), None


def late_fanout_on(python, modes):
    failures = []
    for mode in modes:
        runs = RUNS[mode]
        hog = cpu_hog() if mode == "cpu_hog" else contextlib.nullcontext()
        with hog:
            for i in range(runs):
                where, env = runs_in(mode, python)
                with where as command:
                    problem = trace_once(command, env)
                if problem:
                    failures.append("%s run %d: %s" % (mode, i + 1, problem))
    assert not failures, "; ".join(failures)


def register(name, python):
    """Every mode on each interpreter; the plain one alone on Debian unstable's:
    chroot and container build a root from the host's /usr, where they cannot
    run (sid_python.sh runs them in a root of their own, in a private mount
    namespace, in every test), and the CPU hog's runs would add time for little."""
    modes = ["plain"] if is_sid(name) else list(RUNS)
    test_name = "late_fanout_" + re.sub(r"\W", "_", name) + ("_plain" if is_sid(name) else "")
    if is_sid(name):
        skip(test_name, "cpu_hog, chroot and container left out: the latter two need the "
             "interpreter to run from the host's /usr, this one runs only in the Debian "
             "unstable root (already a chroot in a private mount namespace); the first "
             "would add %d runs" % RUNS["cpu_hog"])

    def run():
        late_fanout_on(python, modes)
    run.__name__ = test_name
    test(run)


for interp in interpreters()[0]:
    register(interp[0], interp[1])
