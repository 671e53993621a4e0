"""inflight as it ships: --version names what it was built from; the release
binary is static and runs, and traces, in a Debian 11 root whose glibc (2.31)
is older than the one it was built against."""
import json
import os
import re
import shutil
import subprocess
import tempfile

from harness import Workload, expect_eq, inflight, site_markers, target_of, test

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
RELEASE = os.path.join(REPO, "inflight")
VERSION_LINE = re.compile(r"inflight (\d+\.\d+\.\d+) \(git ([0-9a-f]{12}(?:-dirty)?|unknown), "
                          r"libbpf (\d+\.\d+)\)")


def git_rev():
    """What --version should name: this checkout's commit, -dirty with changes to tracked files."""
    rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short=12", "HEAD"],
                         capture_output=True, text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", REPO, "diff", "--quiet", "HEAD"]).returncode != 0
    return rev + ("-dirty" if dirty else "")


def makefile_version():
    with open(os.path.join(REPO, "Makefile")) as f:
        return re.search(r"^VERSION := (\S+)$", f.read(), re.M).group(1)


def libbpf_built_with():
    """The libbpf-dev the build machine links in: Debian's version, '1:1.1.2-0+deb12u1' -> '1.1'."""
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "libbpf-dev"],
                       capture_output=True, text=True, check=True)
    return re.match(r"(?:\d+:)?(\d+\.\d+)", r.stdout).group(1)


def version_fields(output):
    first = output.splitlines()[0]
    m = VERSION_LINE.fullmatch(first)
    assert m, "first line of --version: %r" % first
    return m.groups()


@test
def test_version_names_the_build():
    for binary in (inflight(), RELEASE):
        r = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stderr
        version, rev, libbpf = version_fields(r.stdout)
        expect_eq("version", version, makefile_version())
        expect_eq("git revision", rev, git_rev())
        expect_eq("libbpf", libbpf, libbpf_built_with())


# Debian 11: glibc 2.31, python3.9 as Debian builds it (stripped, _asyncio a shared module)
BULLSEYE_GLIBC = "2.31"
DEBIAN_ROOT = os.path.join(REPO, "tools", "debian-root.sh")

# argv in the root (chroot), in a mount namespace of its own: the host's /proc and
# /sys bound there (/sys alone, none of the mounts under it: no tracefs), and its
# /tmp, where the tests put what the root runs. The PID namespace is the host's,
# and each step execs the next, so the command has the PID its caller started.
IN_ROOT = '''
set -eu
root=$1
shift
mount -t proc proc "$root/proc"
mount --bind /sys "$root/sys"
mount --bind /tmp "$root/tmp"
exec unshare --root="$root" --wd=/ "$@"
'''


def in_root(root, *argv):
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", IN_ROOT, "in-root",
            root, *argv]


def bullseye_root():
    """The Debian 11 root tools/debian-root.sh builds, once (about a minute), then keeps."""
    subprocess.run(["bash", DEBIAN_ROOT, "bullseye"], check=True)
    return subprocess.run(["bash", DEBIAN_ROOT, "bullseye", "--print"], capture_output=True,
                          text=True, check=True).stdout.strip()


def glibc_of(root):
    """The glibc a root's own programs run on: ldd --version's first line ends in it."""
    out = subprocess.run(in_root(root, "ldd", "--version"), capture_output=True, text=True,
                         check=True).stdout
    return out.splitlines()[0].split()[-1]


def newest_glibc_needed(binary):
    """The newest GLIBC_x.y symbol version a dynamically linked binary needs."""
    out = subprocess.run(["objdump", "-T", binary], capture_output=True, text=True,
                         check=True).stdout
    versions = {tuple(int(x) for x in v.split("."))
                for v in re.findall(r"\bGLIBC_(\d+\.\d+)\b", out)}
    return ".".join(str(x) for x in max(versions))


def release_copy(where):
    """The release ./inflight (make check builds it), copied to where."""
    assert os.path.exists(RELEASE), "build ./inflight first (make inflight; make check does)"
    r = subprocess.run(["file", "-b", RELEASE], capture_output=True, text=True, check=True)
    assert "statically linked" in r.stdout, "./inflight is not static: %s" % r.stdout
    copy = os.path.join(where, "inflight")
    shutil.copy(RELEASE, copy)
    return copy


def traced_in_root(root, inflight_in_root, workdir):
    """task_service.py, run by the root's python3.9, traced for 3 seconds by
    inflight_in_root, both in the root: the JSON report's target, and the
    workload's own count of its tasks in flight."""
    script = os.path.join(workdir, "task_service.py")
    shutil.copy(os.path.join(HERE, "..", "workloads", "task_service.py"), script)
    w = Workload(command=in_root(root, "/usr/bin/python3.9", script))
    try:
        expect_eq("workload's CPython", w.version, [3, 9])
        tracer = subprocess.Popen(in_root(root, inflight_in_root, "trace", "-p", str(w.pid),
                                          "-d", "3", "-f", "json"),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        head = []
        for line in tracer.stderr:
            head.append(line)
            if line.startswith("Tracing"):
                break
        w.do("mark")
        truth = {"fanout": w.do("fanout 50")["in_flight"], "connect": 5}
        w.do("connect 5")
        out, err = tracer.communicate(timeout=60)
        assert tracer.returncode == 0, "inflight trace in the root (rc %d): %s%s" % (
            tracer.returncode, "".join(head), err)
        return target_of(json.loads(out), w.pid), truth
    finally:
        w.stop()


def check_traced_tasks(target, truth):
    """What inflight saw of the workload, against the workload's own record."""
    hook = [h for h in target["hooks"] if h["name"] == "asyncio_tasks"][0]
    assert hook["attached"], "asyncio tasks not tracked: %s" % hook["detail"]
    assert "CPython 3.9" in hook["detail"] and "no symbols" in hook["detail"], hook["detail"]
    lines = site_markers("task_service.py")
    sites = {(s["line"], s["coroutine"]): s for s in target["tasks"]["sites"]}
    fanout = sites.get((lines["fanout"], "waiter"))
    assert fanout, "no fan-out site at line %d: %s" % (lines["fanout"], list(sites))
    expect_eq("fanout tasks created", fanout["created"], 50)
    expect_eq("fanout peak in flight", fanout["peak_in_flight"], truth["fanout"])
    connect = sites.get((lines["connect"], "hold_connection"))
    assert connect, "no connect site at line %d: %s" % (lines["connect"], list(sites))
    expect_eq("connections opened by the connect site", connect["connections"]["opened"],
              truth["connect"])


@test
def test_static_binary_runs_and_traces_in_debian_11():
    root = bullseye_root()
    expect_eq("the root's glibc", glibc_of(root), BULLSEYE_GLIBC)
    # a dynamically linked build from this machine asks for a newer glibc than that
    needed = newest_glibc_needed(inflight())
    assert tuple(map(int, needed.split("."))) > (2, 31), "the dynamic build needs GLIBC_%s" % needed
    work = tempfile.mkdtemp(prefix="inflight-bullseye-")
    try:
        binary = release_copy(work)
        r = subprocess.run(in_root(root, binary, "--version"), capture_output=True, text=True,
                           timeout=30)
        assert r.returncode == 0, "inflight --version in Debian 11: %s" % r.stderr
        version_fields(r.stdout)
        expect_eq("how it is linked", r.stdout.splitlines()[1].split(",")[0],
                  "statically linked")
        doctor_in_root(root, binary)
        check_traced_tasks(*traced_in_root(root, binary, work))
    finally:
        shutil.rmtree(work)


def doctor_in_root(root, binary):
    """Where `inflight doctor` is to run in the root, once the command exists."""
