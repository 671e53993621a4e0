"""Builds inflight must refuse by name, on real processes: Debian unstable's
python3.14 with its _Py_DebugOffsets saying what a free-threaded build or an
unknown version says (a byte patched in a copy of the binary: the interpreter
never reads its own), and the same binary named as a version inflight does not
know. Connections are traced all the same."""
import json
import os
import shutil
import struct
import subprocess

from harness import (SID_REASON, WORKLOADS, Tracer, Workload, expect_eq, run_inflight,
                     sid_root, skip, target_of, test)


def section_offset(path, name):
    """The file offset of an ELF section, by readelf."""
    out = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        fields = line.replace("[ ", "[").split()
        if len(fields) > 5 and fields[1] == name:
            return int(fields[4], 16)
    raise AssertionError("no section %s in %s" % (name, path))


def patched_python(root, name, patch):
    """A copy of the root's python3.14 at /opt/inflight-test/NAME inside it, with
    patch(offset of .PyRuntime) -> [(file offset, bytes)] applied."""
    folder = os.path.join(root, "opt", "inflight-test")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    shutil.copy2(os.path.join(root, "usr", "bin", "python3.14"), path)
    runtime = section_offset(path, ".PyRuntime")
    with open(path, "r+b") as f:
        f.seek(runtime)
        assert f.read(8) == b"xdebugpy"
        for offset, data in patch(runtime):
            f.seek(offset)
            f.write(data)
    shutil.copy2(os.path.join(WORKLOADS, "conn_service.py"), folder)
    return "/opt/inflight-test/" + name


def refused_by_name(name, patch, why):
    """ps refuses the process with why; trace follows its connections and says why on
    the asyncio_tasks and warnings hooks."""
    root = sid_root()
    python = patched_python(root, name, patch)
    w = Workload(command=["chroot", root, python, "/opt/inflight-test/conn_service.py"])
    try:
        r = run_inflight("ps", "-p", str(w.pid))
        expect_eq("ps exit status", r.returncode, 2)
        assert why in r.stderr, r.stderr
        t = Tracer("-p", str(w.pid), "-f", "json")
        w.do("mark")
        w.do("hold 3")
        truth = w.do("report")
        rc, out, err = t.finish()
        assert rc == 0, err
        target = target_of(json.loads(out), w.pid)
    finally:
        w.stop()
    hooks = {h["name"]: h for h in target["hooks"]}
    assert not hooks["asyncio_tasks"]["attached"], hooks
    assert why in hooks["asyncio_tasks"]["detail"], hooks
    # nor is its warning funnel hooked, for the same reason, and the rest goes on
    assert not hooks["warnings"]["attached"], hooks
    assert why in hooks["warnings"]["detail"], hooks
    assert hooks["connections"]["attached"], hooks
    expect_eq("connections opened", target["connections"]["opened"],
              truth["connected"] + truth["accepted"])


def free_threaded_build_is_refused_by_name_and_its_connections_traced():
    refused_by_name("python3.14", lambda rt: [(rt + 16, struct.pack("<Q", 1))],
                    "a free-threaded build (CPython 3.14t): inflight does not read its tasks "
                    "yet; connections are traced")


def a_build_whose_offsets_say_another_version_is_refused():
    refused_by_name("python3.14", lambda rt: [(rt + 8, struct.pack("<Q", 0x031000a1))],
                    "its _Py_DebugOffsets says version 0x31000a1, not 3.14")


def an_unknown_version_is_refused_with_the_supported_ones():
    refused_by_name("python3.16", lambda rt: [],
                    "CPython 3.16 is not supported (CPython 3.9 to 3.15 are)")


HAVE_ROOT = sid_root() is not None
for _check in (free_threaded_build_is_refused_by_name_and_its_connections_traced,
               a_build_whose_offsets_say_another_version_is_refused,
               an_unknown_version_is_refused_with_the_supported_ones):
    if HAVE_ROOT:
        test(_check)
    else:
        skip(_check.__name__, SID_REASON)
