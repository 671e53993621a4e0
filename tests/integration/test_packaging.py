"""inflight as it ships: --version names what it was built from; the release
binary is static and runs, and traces, in a Debian 11 root whose glibc (2.31)
is older than the one it was built against; make deb's package satisfies
lintian, and installs, runs and purges cleanly in a scratch copy of that root."""
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
root=$1 changes=$2
shift 2
# with a changes directory: root as the lower layer of an overlay, what the command
# writes kept there, root itself left as it was
if [ -n "$changes" ]; then
	mkdir -p "$changes/upper" "$changes/work" "$changes/merged"
	mount -t overlay overlay \
		-o "lowerdir=$root,upperdir=$changes/upper,workdir=$changes/work" "$changes/merged"
	root=$changes/merged
fi
mount -t proc proc "$root/proc"
mount --bind /sys "$root/sys"
mount --bind /tmp "$root/tmp"
exec unshare --root="$root" --wd=/ "$@"
'''


def in_root(root, *argv, changes=""):
    """argv run in root; with changes, in an overlay of root whose writes go there."""
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", IN_ROOT, "in-root",
            root, changes, *argv]


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
    # no program interpreter (ld.so) to load it, no shared library to load
    r = subprocess.run(["readelf", "-ldW", RELEASE], capture_output=True, text=True,
                       check=True)
    assert "INTERP" not in r.stdout and "(NEEDED)" not in r.stdout, \
        "./inflight is not static: %s" % r.stdout
    copy = os.path.join(where, "inflight")
    shutil.copy(RELEASE, copy)
    return copy


def traced_in_root(root, inflight_in_root, workdir, changes=""):
    """task_service.py, run by the root's python3.9, traced for 3 seconds by
    inflight_in_root, both in the root: the JSON report's target, and the
    workload's own count of its tasks in flight."""
    script = os.path.join(workdir, "task_service.py")
    shutil.copy(os.path.join(HERE, "..", "workloads", "task_service.py"), script)
    w = Workload(command=in_root(root, "/usr/bin/python3.9", script, changes=changes))
    try:
        expect_eq("workload's CPython", w.version, [3, 9])
        tracer = subprocess.Popen(in_root(root, inflight_in_root, "trace", "-p", str(w.pid),
                                          "-d", "3", "-f", "json", changes=changes),
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
        doctor_in_root(root, binary, work)
        check_traced_tasks(*traced_in_root(root, binary, work))
    finally:
        shutil.rmtree(work)


def doctor_in_root(root, binary, workdir):
    """inflight doctor, in the root, on a task_service.py the root's python3.9 runs:
    every verdict ready, the target seen as Debian 11's stripped CPython 3.9 in the
    root inflight itself runs in."""
    script = os.path.join(workdir, "task_service.py")
    shutil.copy(os.path.join(HERE, "..", "workloads", "task_service.py"), script)
    w = Workload(command=in_root(root, "/usr/bin/python3.9", script))
    try:
        r = subprocess.run(in_root(root, binary, "doctor", "-p", str(w.pid), "-f", "json"),
                           capture_output=True, text=True, timeout=60)
    finally:
        w.stop()
    assert r.returncode == 0, "inflight doctor in Debian 11 (rc %d): %s%s" % (
        r.returncode, r.stdout, r.stderr)
    report = json.loads(r.stdout)
    not_ready = [v for v in report["verdicts"] if not v["ready"]]
    assert not not_ready, "verdicts not ready: %s" % not_ready
    target = report["targets"][0]
    expect_eq("the target's pid", target["pid"], w.pid)
    assert target["python_version"].startswith("3.9."), target["python_version"]
    assert target["build"].startswith("stripped"), target["build"]
    expect_eq("the target's root, seen from inside it", target["root"], "/")


def built_deb():
    """make deb, packing the ./inflight make check built: the package's path."""
    assert os.path.exists(RELEASE), "build ./inflight first (make inflight; make check does)"
    r = subprocess.run(["make", "-s", "--no-print-directory", "-C", REPO, "-o", "inflight",
                        "deb"], capture_output=True, text=True)
    assert r.returncode == 0, "make deb: %s%s" % (r.stdout, r.stderr)
    arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()
    deb = os.path.join(REPO, "build", "inflight_%s_%s.deb" % (makefile_version(), arch))
    assert os.path.exists(deb), "make deb did not write %s" % deb
    return deb


def lintian_complaints(deb):
    """lintian's errors and warnings about deb (its overrides applied)."""
    r = subprocess.run(["lintian", "--pedantic", "--display-info", deb], capture_output=True,
                       text=True, timeout=300)
    return [line for line in r.stdout.splitlines() if line[:2] in ("E:", "W:")]


def run_in(root, changes, *argv):
    """argv's stdout; it must succeed and say no error (apt's 'E:' lines)."""
    r = subprocess.run(in_root(root, *argv, changes=changes), capture_output=True, text=True,
                       timeout=120, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    assert r.returncode == 0 and not re.search(r"^E:", r.stderr, re.M), \
        "%s in the scratch root (rc %d): %s%s" % (" ".join(argv), r.returncode, r.stdout,
                                                  r.stderr)
    return r.stdout


# no terminal in the root (/dev/pts): dpkg's output is not run through one
APT = ["apt", "-o", "Dpkg::Use-Pty=0"]


def left_in(root, changes, paths):
    """Those of paths there are in the root (its overlay with changes, if given)."""
    script = 'for p; do [ ! -e "$p" ] || echo "$p"; done'
    return run_in(root, changes, "sh", "-c", script, "left", *paths).split()


@test
def test_deb_installs_runs_and_purges_in_debian_11():
    """make deb's package: lintian finds no error or warning; apt installs it
    into a scratch Debian 11 root (an overlay of the test root, which stays as
    it was), the installed inflight runs and traces there, its man page and
    completion are where man and bash look, its units are installed but not
    enabled; apt remove --purge leaves none of its files behind."""
    deb = built_deb()
    expect_eq("lintian's errors and warnings", lintian_complaints(deb), [])
    root = bullseye_root()
    work = tempfile.mkdtemp(prefix="inflight-deb-")
    try:
        os.chmod(work, 0o755)   # apt reads the package as its own _apt user
        changes = os.path.join(work, "changes")
        local = shutil.copy(deb, work)
        run_in(root, changes, *APT, "install", "-y", "--no-install-recommends", local)
        owned = run_in(root, changes, "dpkg", "-L", "inflight").split()
        for path in ("/usr/sbin/inflight", "/usr/share/man/man8/inflight.8.gz",
                     "/usr/share/bash-completion/completions/inflight",
                     "/lib/systemd/system/inflight-sweep.service",
                     "/lib/systemd/system/inflight-sweep.timer",
                     "/usr/share/doc/inflight/copyright"):
            assert path in owned, "%s not in the package: %s" % (path, owned)
        expect_eq("files of the package missing once installed",
                  sorted(set(owned) - set(left_in(root, changes, owned))), [])
        # shipped, not enabled: no maintainer script links the timer anywhere
        expect_eq("links to the units", run_in(root, changes, "find", "/etc/systemd", "-name",
                                                "inflight-*"), "")
        out = run_in(root, changes, "/usr/sbin/inflight", "--version")
        expect_eq("version", version_fields(out)[0], makefile_version())
        check_traced_tasks(*traced_in_root(root, "/usr/sbin/inflight", work, changes))

        run_in(root, changes, *APT, "remove", "--purge", "-y", "inflight")
        # what is left is what the root had before the package came
        expect_eq("the package's paths left after apt remove --purge",
                  left_in(root, changes, owned), left_in(root, "", owned))
        r = subprocess.run(in_root(root, "dpkg", "-s", "inflight", changes=changes),
                           capture_output=True, text=True)
        assert r.returncode != 0, "dpkg still knows inflight: %s" % r.stdout
    finally:
        shutil.rmtree(work)
