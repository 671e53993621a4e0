"""Targets whose files are not where this host's names lead: a process in its
own mount and PID namespaces with a root of its own, whose /proc/PID/maps names
paths that hold a FIFO on the host; and a process whose interpreter and _asyncio
were deleted after it started. inflight must read the files the process maps
(through /proc/PID/map_files, else /proc/PID/root), never a file found by the
same name here, and say why when it cannot; never hang."""
import json
import os
import shutil
import subprocess
import tempfile

from harness import PYTHON, SID_REASON, WORKLOADS, Tracer, Workload, expect_eq, inflight, \
    sid_pythons, sid_root, site_markers, skip, target_of, test
from test_tasks import find_site

# The capabilities the man page asks for, without the ones /proc/PID/map_files needs.
WITHOUT_MAP_FILES = ["setpriv", "--bounding-set=-sys_admin,-checkpoint_restore"]
# Debian's interpreter: to copy, and an ELF file with a _PyRuntime not the one under test's
DEBIAN_PYTHON = "/usr/bin/python3.11"


def prefix_of(python):
    """The tree an interpreter lives in: pyenv's version directory, or /usr."""
    return os.path.dirname(os.path.dirname(os.path.realpath(python)))


def host_pid(proc):
    """The host's PID of the process unshare --fork started (unshare is proc)."""
    with open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)) as f:
        children = f.read().split()
    assert len(children) == 1, children
    return int(children[0])


def python_files(pid):
    """The paths, as the host reads them in /proc/PID/maps, of pid's interpreter files."""
    paths = set()
    with open("/proc/%d/maps" % pid) as f:
        for line in f:
            fields = line.rstrip("\n").split(None, 5)
            name = os.path.basename(fields[5]) if len(fields) == 6 else ""
            if "python3" in name or name.startswith("_asyncio"):
                paths.add(fields[5])
    return paths


def plant_fifos(paths):
    """A FIFO at each path that names nothing on the host; the ones made."""
    made = []
    for p in paths:
        if os.path.lexists(p):
            continue
        os.makedirs(os.path.dirname(p), exist_ok=True)
        os.mkfifo(p)
        made.append(p)
    return made


class Container:
    """task_service.py in new mount and PID namespaces, in a root of its own where
    the interpreter is mounted at inner (a path under /tmp that exists on the host
    only as a directory the test plants FIFOs in). pivot: the root is pivoted to, as
    container runtimes do (its maps paths are then relative to it); else chroot'ed
    in the private mount namespace (its maps paths are then the whole path from its
    namespace's root, as tests/sid_python.sh runs Debian unstable's interpreters).
    decoy: a file put at /decoy in the root."""

    def __init__(self, pivot, decoy=None):
        self.root = tempfile.mkdtemp(prefix="inflight-ns-root-")
        self.plant = tempfile.mkdtemp(prefix="inflight-ns-plant-")
        inner = os.path.join(self.plant, "python")
        for d in ("usr", "w", "proc", "old", inner.lstrip("/")):
            os.makedirs(os.path.join(self.root, d))
        for d in ("lib", "lib64", "bin"):
            os.symlink("usr/" + d, os.path.join(self.root, d))
        if decoy:
            shutil.copy2(decoy, os.path.join(self.root, "decoy"))
        python = os.path.join(inner, "bin", os.path.basename(PYTHON))
        enter = 'cd "$1" && pivot_root . old && mount -t proc proc /proc && umount -l /old && ' \
            'exec env LD_LIBRARY_PATH="$2/lib" "$3" /w/task_service.py' if pivot else \
            'mount -t proc proc "$1/proc" && ' \
            'exec chroot "$1" env LD_LIBRARY_PATH="$2/lib" "$3" /w/task_service.py'
        script = 'set -e; mount --bind "$1" "$1"; mount --bind /usr "$1/usr"; ' \
            'mount --bind "$4" "$1$2"; mount --bind "$5" "$1/w"; ' + enter
        command = ["unshare", "--pid", "--mount", "--kill-child", "--propagation", "private",
                   "sh", "-c", script, "container", self.root, inner, python,
                   prefix_of(PYTHON), os.path.abspath(WORKLOADS)]
        try:
            self.w = Workload(command=command)
        except BaseException:
            self.remove()
            raise
        self.w.pid = host_pid(self.w.proc)

    def remove(self):
        """rmtree only once the namespace is gone: its mounts die with it."""
        shutil.rmtree(self.root)
        shutil.rmtree(self.plant)

    def stop(self):
        self.w.stop()
        self.remove()


def ps(pid, *wrapper):
    """inflight ps -p pid, run through wrapper (setpriv, say)."""
    return subprocess.run([*wrapper, inflight(), "ps", "-p", str(pid), "-f", "json"],
                          capture_output=True, text=True, timeout=30)


def pending_tasks(ps_result):
    assert ps_result.returncode == 0, ps_result.stderr
    return sum(loop["pending"] for loop in json.loads(ps_result.stdout)["loops"])


def a_target_in_its_own_pid_and_mount_namespace_and_root_is_traced_and_read():
    """Its interpreter's paths name FIFOs here: trace and ps see its tasks and
    connections as root (map_files) and ps without CAP_SYS_ADMIN (its root)."""
    c = Container(pivot=True)
    try:
        w = c.w
        planted = plant_fifos(python_files(w.pid))
        assert planted, "the container's interpreter paths exist on the host: %s" % \
            python_files(w.pid)
        t = Tracer("-p", str(w.pid), "-f", "json")
        w.do("mark")
        w.do("fanout 50")
        in_flight = w.do("connect 5")["in_flight"]
        as_root = pending_tasks(ps(w.pid))
        without_map_files = pending_tasks(ps(w.pid, *WITHOUT_MAP_FILES))
        w.do("release")
        rc, out, err = t.finish()
        assert rc == 0, err
        target = target_of(json.loads(out), w.pid)
    finally:
        c.stop()
    hooks = {h["name"]: h for h in target["hooks"]}
    assert hooks["asyncio_tasks"]["attached"], hooks["asyncio_tasks"]
    lines = site_markers("task_service.py")
    expect_eq("fanout tasks created", find_site(target["tasks"], lines["fanout"], "waiter")["created"],
              50)
    s = find_site(target["tasks"], lines["connect"], "hold_connection")
    expect_eq("connections opened by the connect site", s["connections"]["opened"], 5)
    assert as_root >= in_flight, (as_root, in_flight)
    expect_eq("pending tasks, ps without CAP_SYS_ADMIN", without_map_files, as_root)


def a_file_mounted_over_the_mapped_name_in_the_target_s_namespace_is_refused():
    """In the container, another ELF file is bind-mounted over the name its
    interpreter was mapped by: the name now leads to that file, the mapping does
    not. As root, ps reads the mapped one (map_files); without CAP_SYS_ADMIN, by
    name through its root, it sees another device and inode, and refuses."""
    c = Container(pivot=True, decoy=DEBIAN_PYTHON)
    try:
        w = c.w
        w.do("fanout 20")
        runtime = [p for p in python_files(w.pid) if "libpython3" in p or
                   os.path.basename(p).startswith("python3")]
        subprocess.run(["nsenter", "--target", str(w.pid), "--mount", "sh", "-c",
                        'for f; do mount --bind /decoy "$f"; done', "cover", *runtime],
                       check=True)
        as_root = pending_tasks(ps(w.pid))
        refused = ps(w.pid, *WITHOUT_MAP_FILES)
    finally:
        c.stop()
    assert as_root >= 20, as_root
    assert refused.returncode == 2 and "it is another file" in refused.stderr, \
        "ps without CAP_SYS_ADMIN: exit status %d, %s" % (refused.returncode, refused.stderr)


def files_planted_under_a_chroot_s_names_are_never_opened():
    """A chroot in a private mount namespace: its maps paths name FIFOs here, and
    its own root does not hold them either. As root, map_files reads it; without
    CAP_SYS_ADMIN there is no way to its files: ps refuses, saying why, at once."""
    c = Container(pivot=False)
    try:
        w = c.w
        assert plant_fifos(python_files(w.pid)), python_files(w.pid)
        w.do("fanout 20")
        as_root = pending_tasks(ps(w.pid))
        refused = ps(w.pid, *WITHOUT_MAP_FILES)
    finally:
        c.stop()
    assert as_root >= 20, as_root
    expect_eq("ps exit status without CAP_SYS_ADMIN", refused.returncode, 2)
    assert "CAP_SYS_ADMIN" in refused.stderr and "/root: " in refused.stderr, refused.stderr


def deleted_copy(src, folder):
    dst = os.path.join(folder, os.path.basename(src))
    shutil.copy2(src, dst)
    return dst


def a_deleted_interpreter_and_asyncio_are_read_through_map_files():
    """Debian's python3.11 and its _asyncio module copied, run, and deleted: trace
    probes the deleted _asyncio and ps reads the deleted interpreter, as root.
    Without CAP_SYS_ADMIN, ps refuses and says why, whatever is planted under the
    name with ' (deleted)'."""
    folder = tempfile.mkdtemp(prefix="inflight-deleted-")
    python = deleted_copy(DEBIAN_PYTHON, folder)
    deleted_copy("/usr/lib/python3.11/lib-dynload/_asyncio.cpython-311-x86_64-linux-gnu.so",
                 folder)
    try:
        w = Workload("task_service.py", python=python, env=dict(os.environ, PYTHONPATH=folder))
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.mkfifo(python + " (deleted)")
        t = Tracer("-p", str(w.pid), "-f", "json")
        w.do("mark")
        w.do("fanout 30")
        as_root = pending_tasks(ps(w.pid))
        refused = ps(w.pid, *WITHOUT_MAP_FILES)
        w.do("release")
        rc, out, err = t.finish()
        assert rc == 0, err
        target = target_of(json.loads(out), w.pid)
    finally:
        w.stop()
        shutil.rmtree(folder)
    hooks = {h["name"]: h for h in target["hooks"]}
    assert hooks["asyncio_tasks"]["attached"], hooks["asyncio_tasks"]
    assert "(deleted)" in hooks["asyncio_tasks"]["detail"], hooks["asyncio_tasks"]
    lines = site_markers("task_service.py")
    expect_eq("fanout tasks created", find_site(target["tasks"], lines["fanout"], "waiter")["created"],
              30)
    assert as_root >= 30, as_root
    expect_eq("ps exit status without CAP_SYS_ADMIN", refused.returncode, 2)
    assert "deleted since" in refused.stderr and "CAP_SYS_ADMIN" in refused.stderr, \
        refused.stderr


IN_CONTAINER = (a_target_in_its_own_pid_and_mount_namespace_and_root_is_traced_and_read,
                a_file_mounted_over_the_mapped_name_in_the_target_s_namespace_is_refused,
                files_planted_under_a_chroot_s_names_are_never_opened)
NEED_DEBIAN = (a_file_mounted_over_the_mapped_name_in_the_target_s_namespace_is_refused,
               a_deleted_interpreter_and_asyncio_are_read_through_map_files)
for _check in IN_CONTAINER + NEED_DEBIAN[1:]:
    if _check in IN_CONTAINER and prefix_of(PYTHON) == "/usr":
        skip(_check.__name__, "the interpreter under test lives in /usr, which the host has too")
    elif _check in NEED_DEBIAN and not os.path.exists(DEBIAN_PYTHON):
        skip(_check.__name__, "no %s (Debian's interpreter) to copy" % DEBIAN_PYTHON)
    else:
        test(_check)


def in_own_network_namespace():
    """conn_service.py in a network namespace of its own, its loopback up."""
    return Workload(command=["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"',
                             "netns", PYTHON, os.path.join(WORKLOADS, "conn_service.py")])


def targets_in_several_network_namespaces_each_get_their_own_sockets():
    """Two targets in the host's network namespace (sharing its table's read) and
    one in each of two namespaces of their own, traced at once: each finds, at
    attach, the connections it holds, which only its own namespace's table lists."""
    holding = {}
    workloads = []
    try:
        for k, make in enumerate((Workload, Workload, in_own_network_namespace,
                                  in_own_network_namespace), start=1):
            w = make()
            workloads.append(w)
            w.do("hold %d" % k)
            holding[w.pid] = 2 * k      # each connection: its client and its accepted end
        namespaces = {os.stat("/proc/%d/ns/net" % pid).st_ino for pid in holding}
        expect_eq("network namespaces", len(namespaces), 3)
        t = Tracer(*[arg for pid in holding for arg in ("-p", str(pid))], "-f", "json")
        for w in workloads:
            w.do("mark")
        truth = {w.pid: w.do("churn 2") for w in workloads}
        rc, out, err = t.finish()
        assert rc == 0, err
        report = json.loads(out)
    finally:
        for w in workloads:
            w.stop()
    for pid, held in holding.items():
        conns = target_of(report, pid)["connections"]
        expect_eq("%d: open at attach" % pid, conns["open_at_attach"], held)
        expect_eq("%d: open" % pid, conns["open"], held)
        expect_eq("%d: opened" % pid, conns["opened"],
                  truth[pid]["connected"] + truth[pid]["accepted"])
        expect_eq("%d: closed" % pid, conns["closed"], truth[pid]["closed"])


test(targets_in_several_network_namespaces_each_get_their_own_sockets)


@test
def trace_from_a_chroot_without_tracefs():
    """inflight copied into a service's root (a chroot whose / is no mount point,
    /proc and /sys bound in without their submounts, so no tracefs) mounts
    tracefs in a mount namespace of its own and traces the service there."""
    root = sid_root()
    if not root:
        skip("trace_from_a_chroot_without_tracefs", SID_REASON)
        return
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    binary = os.path.abspath(inflight())
    w = Workload(script="task_service.py", python=os.path.join(sid_pythons(), "python3.13"))
    setup = ("mount --bind /proc {r}/proc && mount --bind /sys {r}/sys && "
             "mkdir -p {r}{repo} && mount --bind {repo} {r}{repo} && "
             "test ! -e {r}/sys/kernel/tracing/events && "
             "exec chroot {r} {bin} trace -p {pid} -d 4 -f json").format(
                 r=root, repo=repo, bin=binary, pid=w.pid)
    try:
        t = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", setup],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = t.stderr.readline()
        assert first.startswith("Tracing"), first + t.stderr.read()
        w.do("fanout 40")
        out, err = t.communicate(timeout=30)
        assert t.returncode == 0, err
        site = find_site(target_of(json.loads(out), w.pid)["tasks"],
                         site_markers("task_service.py")["fanout"], "waiter")
        expect_eq("tasks created at the fan-out's line", site["created"], 40)
    finally:
        w.stop()
