#!/usr/bin/env python3
"""make bench: what tracing costs the traced service, and what the tracer
itself costs, on this machine. Traced and untraced runs are interleaved and
medians compared; nothing here is a pass/fail test.

Usage: run.py --inflight PATH [--quick] [--json FILE] [--python PATH]
              [--versions 3.11,3.14,3.15] [--versions-only] [--real-service-only]
              [--sweep-only]
"""
import argparse
import ctypes
import gzip
import json
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# the cost of an emulated uprobe hit that issue 6 set as the floor, measured on this kind
# of machine when the bench was written
REFERENCE_UPROBE_HIT_US = 6.7


class Traced:
    """inflight attached to pids, started like a user would start it."""

    def __init__(self, inflight, pids, options=(), cpus=None):
        self.out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
        args = [*pinned(cpus), inflight, "trace", "-f", "json", "-o", self.out, *options]
        for pid in pids:
            args += ["-p", str(pid)]
        start = time.perf_counter()
        self.proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        for line in self.proc.stderr:
            if line.startswith("Tracing"):
                break
        else:
            raise RuntimeError("inflight did not attach: rc=%s" % self.proc.wait())
        self.attach_s = time.perf_counter() - start

    def program_stats(self):
        return loaded_programs(self.proc.pid, "on_")

    def stop(self):
        start = time.perf_counter()
        self.proc.send_signal(signal.SIGINT)
        _, status, usage = os.wait4(self.proc.pid, 0)
        stop_s = time.perf_counter() - start
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        with open(self.out) as f:
            report = json.load(f)
        os.unlink(self.out)
        return {"report": report, "cpu_s": usage.ru_utime + usage.ru_stime,
                "peak_rss_mib": usage.ru_maxrss / 1024, "attach_s": self.attach_s,
                "stop_s": stop_s}


def pinned(cpus):
    """The command prefix that runs a program on these CPUs only (taskset execs it: the
    pid is the program's); none when cpus is None."""
    return ["taskset", "-c", cpus] if cpus is not None else []


def loaded_programs(pid, name_prefix=None):
    """Per BPF program of process pid: runs, nanoseconds inside it (BPF run-time statistics:
    enable_bpf_stats), and whether each run is a trap (a uprobe's program is of kprobe
    type). Its programs are those bpftool says it holds, else those it attached to perf
    events (uprobes and tracepoints) and, if given, those named name_prefix... (inflight's
    tp_btf ones) that no other process attached, whose name none of the others has, and that
    are no uprobe's (those are always attached to perf events): a second inflight, as when
    the tests run beside the bench, has programs of the same names, and those of a tracer
    that has just exited linger a moment, detached."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
    perf = subprocess.run(["bpftool", "-j", "perf", "show"], capture_output=True, text=True)
    attacher = {p["prog_id"]: p.get("pid") for p in json.loads(perf.stdout or "[]")}
    progs = [dict(p, owners=[o["pid"] for o in p.get("pids") or []])
             for p in json.loads(out.stdout or "[]")]
    mine = [p for p in progs if pid in p["owners"] or (
        not p["owners"] and attacher.get(p["id"]) == pid)]
    names = {p.get("name", "") for p in mine}
    mine += [p for p in progs if name_prefix and not p["owners"] and p["id"] not in attacher
             and p.get("type") != "kprobe" and p.get("name", "").startswith(name_prefix)
             and p.get("name", "") not in names]
    stats = {}
    for p in mine:
        name = p.get("name", "")
        # bpftrace's names are cut short, so two can be the same
        stats[name if name not in stats else "%s#%d" % (name, p["id"])] = {
            "runs": p.get("run_cnt", 0), "ns": p.get("run_time_ns", 0),
            "trap": p.get("type") == "kprobe"}
    return stats


def start_workload(python, script, args, env=None):
    # stderr dropped: PYTHONASYNCIODEBUG=1 logs every slow callback there
    proc = subprocess.Popen([python, os.path.join(HERE, script), *map(str, args)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    assert json.loads(proc.stdout.readline()).get("ready")
    return proc


def run_once(python, script, args, inflight=None, env=None, options=()):
    """One run; with inflight, traced. Returns what the workload measured (seconds, user_s,
    sys_s) and the tracer's figures."""
    w = start_workload(python, script, args, env)
    tracer = Traced(inflight, [w.pid], options) if inflight else None
    w.stdin.write("\n")
    w.stdin.flush()
    result = json.loads(w.stdout.readline())
    w.stdin.close()
    w.wait()
    if not tracer:
        return result, None
    programs = tracer.program_stats()
    figures = tracer.stop()
    figures["programs"] = programs
    return result, figures


def sys_share(result):
    """System CPU time per second of user time: where a probe's trap and program are paid."""
    return result["sys_s"] / max(result["user_s"], 1e-3)


def cpu_cost(traced, base):
    """Tracing's cost from CPU times, which this host's drift (whole runs faster or slower
    by tens of percent) moves far less than wall time: the traced runs' CPU against what
    the same user time cost untraced, user time taken as untouched by the probes (their
    traps and programs are system time). Returns the ratio, and the extra system seconds
    per run at the traced runs' median user time."""
    base_share = statistics.median(sys_share(r) for r in base)
    user = statistics.median(r["user_s"] for r in traced)
    share = statistics.median(sys_share(r) for r in traced)
    return (1 + share) / (1 + base_share), (share - base_share) * user


def interleaved(python, script, args, inflight, reps, env_variant=None, lean=False,
                bpftrace=None):
    """Medians of untraced, traced (and optionally traced --lean, untraced with
    env_variant, and under bpftrace, a (script, probe sites) pair) runs, interleaved so
    that drift in the machine hits each alike; "runs" has every run, in order."""
    runs = {"base": [], "traced": [], "lean": [], "variant": [], "bpftrace": []}
    tracers = {"traced": [], "lean": []}
    kinds = ["base", "traced"] + (["lean"] if lean else []) + (
        ["variant"] if env_variant else []) + (["bpftrace"] if bpftrace else [])
    for i in range(reps):
        for kind in kinds if i % 2 == 0 else kinds[::-1]:
            if kind == "variant":
                result, _ = run_once(python, script, args, env=dict(os.environ, **env_variant))
            elif kind == "bpftrace":
                result = run_bpftrace_once(python, script, args, *bpftrace)
                if result is None:
                    raise RuntimeError("bpftrace could not attach its probes")
            else:
                result, figures = run_once(python, script, args,
                                           inflight if kind != "base" else None,
                                           options=["--lean"] if kind == "lean" else [])
                if figures:
                    tracers[kind].append(figures)
            runs[kind].append(result)
    seconds = {k: statistics.median(r["seconds"] for r in v) if v else None
               for k, v in runs.items()}
    untraced = seconds["base"]
    out = {"untraced_s": untraced, "tracer": tracers["traced"], "lean_tracer": tracers["lean"],
           "untraced_cpu_s": statistics.median(r["user_s"] + r["sys_s"] for r in runs["base"]),
           "variant_ratio": seconds["variant"] / untraced if runs["variant"] else None,
           "runs": runs}
    for kind, prefix in (("traced", ""), ("lean", "lean_"), ("bpftrace", "bpftrace_")):
        if runs[kind]:
            out[prefix + "ratio"] = seconds[kind] / untraced
            out[prefix + "cpu_ratio"], out[prefix + "extra_sys_s"] = cpu_cost(runs[kind],
                                                                               runs["base"])
    out["traced_s"], out["lean_s"], out["bpftrace_s"] = (seconds["traced"], seconds["lean"],
                                                         seconds["bpftrace"])
    return out


def probes_of(report):
    """The task hook's uprobes, and the instruction each traps on."""
    hooks = report["targets"][0]["hooks"]
    return [{"what": p["what"], "instruction": p["instruction"]}
            for h in hooks if h["name"] == "asyncio_tasks" for p in h["probes"]]


def bench_churn(python, inflight, quick):
    n, reps = (20000, 3) if quick else (200000, 5)
    r = interleaved(python, "churn.py", [n, 1000], inflight, reps, {"PYTHONASYNCIODEBUG": "1"},
                    lean=True)
    report = r["tracer"][-1]["report"]
    tasks = report["targets"][0]["tasks"]
    hits = report["tracer"]["task_events"] / max(tasks["created"], 1)
    extra_us = (r["traced_s"] - r["untraced_s"]) / n * 1e6
    floor_us = hits * REFERENCE_UPROBE_HIT_US
    lean_report = r["lean_tracer"][-1]["report"]
    lean_hits = lean_report["tracer"]["task_events"] / max(
        lean_report["targets"][0]["tasks"]["created"], 1)
    return {
        "lean": {"ratio": r["lean_ratio"], "hits_per_task": lean_hits,
                 "extra_us_per_task": (r["lean_s"] - r["untraced_s"]) / n * 1e6,
                 "cpu_ratio": r["lean_cpu_ratio"],
                 "extra_cpu_us_per_task": r["lean_extra_sys_s"] / n * 1e6,
                 "tasks_seen_done": lean_report["targets"][0]["tasks"]["done"],
                 "ringbuf_drops": lean_report["tracer"]["task_ringbuf_drops"],
                 "loader_cpu_s": statistics.median(t["cpu_s"] for t in r["lean_tracer"]),
                 "loader_peak_rss_mib": max(t["peak_rss_mib"] for t in r["lean_tracer"]),
                 "programs": program_costs(r["lean_tracer"]), "probes": probes_of(lean_report)},
        "tasks": n, "untraced_us_per_task": r["untraced_s"] / n * 1e6,
        "untraced_cpu_s": r["untraced_cpu_s"],
        "traced_us_per_task": r["traced_s"] / n * 1e6, "ratio": r["ratio"],
        "cpu_ratio": r["cpu_ratio"], "extra_cpu_us_per_task": r["extra_sys_s"] / n * 1e6,
        "asyncio_debug_ratio": r["variant_ratio"], "hits_per_task": hits,
        "extra_us_per_task": extra_us, "extra_us_per_hit": extra_us / hits if hits else None,
        "floor_us_per_task": floor_us, "over_floor": extra_us / floor_us - 1 if floor_us else None,
        "ringbuf_drops": report["tracer"]["task_ringbuf_drops"],
        "events_per_s": report["tracer"]["task_events"] / report["duration_s"],
        "loader_cpu_s": statistics.median(t["cpu_s"] for t in r["tracer"]),
        "loader_peak_rss_mib": max(t["peak_rss_mib"] for t in r["tracer"]),
        "programs": program_costs(r["tracer"]), "probes": probes_of(report),
    }


def bench_warnings(python, inflight, quick):
    """A hot loop of filtered warnings: each one traps in the warn_explicit probe and
    sends an event, shown or not. The cost per warning, and whether all were counted."""
    n, reps = (20000, 3) if quick else (200000, 5)
    r = interleaved(python, "warn_loop.py", [n], inflight, reps)
    report = r["tracer"][-1]["report"]
    seen = report["targets"][0]["warnings"]["total"]
    return {
        "warnings": n, "untraced_us_per_warning": r["untraced_s"] / n * 1e6,
        "traced_us_per_warning": r["traced_s"] / n * 1e6, "ratio": r["ratio"],
        "extra_us_per_warning": (r["traced_s"] - r["untraced_s"]) / n * 1e6,
        "cpu_ratio": r["cpu_ratio"], "extra_cpu_us_per_warning": r["extra_sys_s"] / n * 1e6,
        "warnings_seen": seen,
        "ringbuf_drops": report["tracer"]["warning_ringbuf_drops"],
        "programs": program_costs(r["tracer"]),
    }


def bench_churn_threads(python, inflight, quick, threads=16):
    """The same churn in a process with a pool of idle threads, as services have: the
    creation probe must find the event loop's thread among them."""
    n, reps = (20000, 3) if quick else (200000, 5)
    r = interleaved(python, "churn.py", [n, 1000, threads], inflight, reps)
    return {"tasks": n, "threads": threads, "ratio": r["ratio"],
            "extra_us_per_task": (r["traced_s"] - r["untraced_s"]) / n * 1e6,
            "programs": program_costs(r["tracer"])}


def program_costs(tracer_runs):
    """Median over runs of each BPF program's runs and mean ns per run (its own time in
    the kernel, not the uprobe trap around it)."""
    names = sorted({n for t in tracer_runs for n in t["programs"]})
    costs = {}
    for name in names:
        runs = [t["programs"][name] for t in tracer_runs if name in t["programs"]]
        costs[name] = {"runs": statistics.median(r["runs"] for r in runs), "trap": runs[0]["trap"],
                       "ns_per_run": statistics.median(r["ns"] / r["runs"] for r in runs
                                                       if r["runs"]) if any(
                                                           r["runs"] for r in runs) else None}
    return costs


# %(init)s and %(dealloc)s: the file and offset of inflight's own probes (task_probe_sites)
BPFTRACE_COUNT = """
uprobe:%(init)s /pid == %(pid)d/ { @created = count(); }
uprobe:%(dealloc)s /pid == %(pid)d/ { @destroyed = count(); }
"""

# For the loopback service, every hook inflight has there, counted: the floor of tracing
# the same events (state changes are counted for every socket, as inflight must look at
# each to know whether it is one of its own).
BPFTRACE_SERVICE_COUNT = BPFTRACE_COUNT + """
tracepoint:sock:inet_sock_set_state { @states = count(); }
tracepoint:syscalls:sys_enter_socket /pid == %(pid)d/ { @sockets = count(); }
tracepoint:syscalls:sys_enter_connect /pid == %(pid)d/ { @connects = count(); }
tracepoint:syscalls:sys_exit_accept /pid == %(pid)d/ { @accepts = count(); }
tracepoint:syscalls:sys_exit_accept4 /pid == %(pid)d/ { @accepts = count(); }
tracepoint:syscalls:sys_enter_close /pid == %(pid)d/ { @closes = count(); }
tracepoint:syscalls:sys_enter_dup2 /pid == %(pid)d/ { @dups = count(); }
tracepoint:syscalls:sys_enter_dup3 /pid == %(pid)d/ { @dups = count(); }
"""

# The same probes reading what inflight's read, as a bpftrace user would write it: the
# coroutine and its name, the thread's PyThreadState (cached per thread, checked by
# thread id), the frames up to the end of the innermost coroutine run, and the state at
# dealloc; aggregated in maps rather than sent per event. CPython 3.11 offsets, from
# user/cpython/cpython_layout.c. The walk leaves the innermost frame's code and position in
# $code and $pos, and the run's outermost coroutine in $outer.
WALK_311 = """
  $fs = curtask->thread.fsbase;
  $ts = @tstate[tid];
  if ($ts == 0 || *(uint64 *)($ts + 152) != $fs) {
    $ts = *(uint64 *)(*(uint64 *)(%(runtime)d + 40) + 16);
    $i = 0;
    while ($i < 32 && $ts != 0 && *(uint64 *)($ts + 152) != $fs) {
      $ts = *(uint64 *)($ts + 8);
      $i++;
    }
    @tstate[tid] = $ts;
  }
  $f = *(uint64 *)(*(uint64 *)($ts + 56) + 8);
  $outer = 0; $code = 0; $pos = 0; $i = 0;
  while ($i < 16 && $f != 0) {
    $owner = *(uint8 *)($f + 69);
    if ($code == 0) { $code = *(uint64 *)($f + 32); $pos = *(uint64 *)($f + 56); }
    if ($owner == 1) { $outer = $f - 80; } else { if ($outer != 0) { break; } }
    $f = *(uint64 *)($f + 48);
    $i++;
  }
"""
BPFTRACE_EQUIVALENT = {11: """
uprobe:%(init)s /pid == %(pid)d/ {
  $coro = *(uint64 *)(arg1 + 16) >= 1 ? *(uint64 *)(arg1 + 24) : 0;
  $name = $coro ? *(uint64 *)($coro + 40) : 0;
""" + WALK_311 + """
  @created[$name, $code, $pos] = count();
  @parents[$outer] = count();
}
uprobe:%(dealloc)s /pid == %(pid)d/ { @destroyed[*(int32 *)(arg0 + 88)] = count(); }
"""}

# The loopback service's connections, as inflight follows them (bpf/conn_tracker.bpf.c),
# written for bpftrace: a socket is the process's from its connect (with the task, from
# the same walk) or accept, followed by its struct sock through state changes, let go
# at the close of its last fd or when orphaned; counts in maps.
FD_GONE = """
tracepoint:syscalls:%(probe)s /pid == %%(pid)d%(only)s/ {
  $file = *(curtask->files->fdt->fd + args->%(fd)s);
  if ($file != 0 && $file->f_ref.refcnt.counter == 0 &&
      ($file->f_inode->i_mode & 0xf000) == 0xc000) {
    $sk = (uint64)((struct socket *)$file->private_data)->sk;
    if (@socks[$sk] != 0) {
      @released[((struct sock *)$sk)->__sk_common.skc_state] = count();
      delete(@socks[$sk]);
    }
  }
}
"""
ACCEPTED = """
tracepoint:syscalls:%(probe)s /pid == %%(pid)d && args->ret >= 0/ {
  @accepts = count();
  $file = *(curtask->files->fdt->fd + args->ret);
  if (($file->f_inode->i_mode & 0xf000) == 0xc000) {
    $sk = ((struct socket *)$file->private_data)->sk;
    if (($sk->__sk_common.skc_family == 2 || $sk->__sk_common.skc_family == 10) &&
        $sk->sk_protocol == 6 && $sk->sk_type == 1) {
      @socks[(uint64)$sk] = $file->f_inode->i_ino;
      @accepted[$sk->__sk_common.skc_family, $sk->__sk_common.skc_state,
                $sk->__sk_common.skc_num] = count();
    }
  }
}
"""
CONNECTIONS_EQUIVALENT = """
tracepoint:sock:inet_sock_set_state /args->protocol == 6/ {
  $sk = (struct sock *)args->skaddr;
  if (args->oldstate == 7 && args->newstate == 2) {
    if (pid == %(pid)d) {
""" + WALK_311 + """
      @socks[(uint64)$sk] = $sk->sk_socket->file->f_inode->i_ino;
      @connected[$outer, args->family, args->dport] = count();
    }
  } else {
    $ino = @socks[(uint64)$sk];
    if ($ino != 0) {
      @states[args->oldstate, args->newstate] = count();
      if ($sk->sk_socket == 0) { delete(@socks[(uint64)$sk]); }
    }
  }
}
tracepoint:syscalls:sys_enter_socket /pid == %(pid)d &&
    (args->family == 2 || args->family == 10) && (args->type & 15) == 1/ { @sockets = count(); }
tracepoint:syscalls:sys_enter_connect /pid == %(pid)d/ { @connects = count(); }
""" + "".join(ACCEPTED % {"probe": p} for p in ("sys_exit_accept", "sys_exit_accept4")) + "".join(
    FD_GONE % {"probe": p, "fd": fd, "only": only} for p, fd, only in (
        ("sys_enter_close", "fd", ""), ("sys_enter_dup2", "newfd", " && args->oldfd != args->newfd"),
        ("sys_enter_dup3", "newfd", "")))
BPFTRACE_SERVICE_EQUIVALENT = {minor: script + CONNECTIONS_EQUIVALENT
                               for minor, script in BPFTRACE_EQUIVALENT.items()}
NO_EQUIVALENT = "the equivalent script knows CPython 3.11's layout only"


def task_probe_sites(python, inflight):
    """Where inflight puts its two task probes in this python's processes, for bpftrace to
    probe the same instructions, with symbols or without (Debian's builds are stripped, and
    3.15's _asyncio is inside the executable): each probe's offset, from inflight's report,
    and its file, from the kernel's list of inflight's uprobes (bpftool perf show names a
    /proc/PID/map_files link, read back while the workload lives: for a python run in
    another root, the host's path of the file inside it). Returns "init" and "dealloc",
    each as bpftrace's PATH:0xOFFSET, and "offsets"; or a string saying why not."""
    w = start_workload(python, "churn.py", [1, 1])
    try:
        tracer = Traced(inflight, [w.pid])
        perf = subprocess.run(["bpftool", "-j", "perf", "show"], capture_output=True, text=True)
        files = {p["offset"]: os.readlink(p["filename"]) for p in json.loads(perf.stdout or "[]")
                 if p.get("pid") == tracer.proc.pid and p.get("fd_type") == "uprobe"}
    finally:
        w.stdin.close()
        w.wait()
    hook = [h for h in tracer.stop()["report"]["targets"][0]["hooks"]
            if h["name"] == "asyncio_tasks"][0]
    offsets = {p["what"]: p["file_offset"] for p in hook["probes"]}
    if not hook["attached"] or set(offsets) != {"Task init", "Task dealloc"}:
        return "inflight's task probes are not in place: " + hook["detail"]
    if not set(offsets.values()) <= set(files):
        return "bpftool does not list inflight's task probes"
    sites = {key: "%s:0x%x" % (files[offsets[what]], offsets[what])
             for key, what in (("init", "Task init"), ("dealloc", "Task dealloc"))}
    return dict(sites, offsets=sorted(offsets.values()))


def python_minor(python):
    out = subprocess.run([python, "-c", "import sys; print(sys.version_info[1])"],
                         capture_output=True, text=True, check=True)
    return int(out.stdout)


def runtime_address(pid):
    """&_PyRuntime in pid: the symbol's value in libpython, else in the executable (a
    dynamic symbol, which stripped builds keep), plus the file's load address unless it
    is an executable linked at a fixed address. The maps name files by their path here,
    the host's path for a process in another root."""
    with open("/proc/%d/maps" % pid) as f:
        maps = [line.split() for line in f]
    exe = os.readlink("/proc/%d/exe" % pid)
    for m in sorted(maps, key=lambda m: "libpython" not in m[-1]):
        if len(m) == 6 and m[2] == "00000000" and ("libpython" in m[5] or m[5] == exe):
            syms = subprocess.run(["nm", "-D", "--defined-only", m[5]], capture_output=True,
                                  text=True).stdout
            for line in syms.splitlines():
                parts = line.split()
                if parts and parts[-1] == "_PyRuntime":
                    with open(m[5], "rb") as elf:
                        fixed = int.from_bytes(elf.read(18)[16:], "little") == 2   # ET_EXEC
                    return int(parts[0], 16) + (0 if fixed else int(m[0].split("-")[0], 16))
    return None


def run_bpftrace_once(python, workload, args, script, sites):
    """A workload traced by bpftrace running script (see start_bpftrace); None if it could
    not attach."""
    w = start_workload(python, workload, args)
    fields = dict(sites, pid=w.pid)
    if "%(runtime)" in script:
        fields["runtime"] = runtime_address(w.pid) or 0
    try:
        bt = start_bpftrace(script, fields, sites)
    except RuntimeError:
        w.kill()
        w.wait()
        raise
    if bt is None:
        w.kill()
        w.wait()
        return None
    w.stdin.write("\n")
    w.stdin.flush()
    result = json.loads(w.stdout.readline())
    w.stdin.close()
    w.wait()
    result["programs"] = loaded_programs(bt.pid)
    stop_bpftrace(bt)
    return result


def start_bpftrace(script, fields, sites, cpus=None):
    """bpftrace running script % fields, its task probes at sites (see task_probe_sites),
    in a mount namespace with tracefs (bpftrace 0.17 needs it for uprobes), once the kernel
    lists every probe in place; None if it could not attach. --unsafe: bpftrace 0.17
    probes an address in a file without symbols only with it, since it cannot check that
    the address starts an instruction (inflight decoded these)."""
    bt = subprocess.Popen([*pinned(cpus), "unshare", "-m", "sh", "-c",
                           "{ mountpoint -q /sys/kernel/tracing || "
                           "mount -t tracefs tracefs /sys/kernel/tracing; } && "
                           "exec bpftrace --unsafe -e \"$0\"",
                           script % fields], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True)
    attached = False
    for line in bt.stdout:
        if line.startswith("Attaching"):
            attached = True
            break
    if not attached:
        bt.wait()
        return None
    # "Attaching" comes before the probes are in place: wait until the kernel lists them all
    probes = wait_for_probes(bt.pid, len(re.findall(r"^(?:uprobe|tracepoint):", script, re.M)))
    offsets = sorted(p["offset"] for p in probes if p.get("fd_type") == "uprobe")
    if offsets != sites["offsets"]:
        stop_bpftrace(bt)
        raise RuntimeError("bpftrace probes offsets %s, inflight %s" % (offsets, sites["offsets"]))
    return bt


def wait_for_probes(pid, n, timeout=30):
    """Until process pid has n BPF programs attached to perf events (uprobes, tracepoints):
    bpftool's list of them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["bpftool", "-j", "perf", "show"], capture_output=True, text=True)
        probes = [p for p in json.loads(out.stdout or "[]") if p.get("pid") == pid]
        if len(probes) >= n:
            return probes
        time.sleep(0.05)
    raise RuntimeError("bpftrace did not attach its %d probes in %d s" % (n, timeout))


def stop_bpftrace(bt):
    """SIGINT until bpftrace exits: one sent while it still attaches can go unheeded."""
    for _ in range(30):
        bt.send_signal(signal.SIGINT)
        try:
            bt.communicate(timeout=1)
            return
        except subprocess.TimeoutExpired:
            pass
    bt.kill()
    bt.communicate()


def cost_against(runs, base, units):
    """runs against the untraced base runs: wall and CPU ratios, and extra µs per unit of work."""
    untraced = statistics.median(r["seconds"] for r in base)
    traced = statistics.median(r["seconds"] for r in runs)
    cpu_ratio, extra_sys_s = cpu_cost(runs, base)
    return {"ratio": traced / untraced, "extra_us_per_task": (traced - untraced) / units * 1e6,
            "cpu_ratio": cpu_ratio, "extra_cpu_us_per_task": extra_sys_s / units * 1e6}


def bpftrace_runs(python, workload, args, scripts, reps, sites):
    """Untraced runs of a workload interleaved with runs under each bpftrace script:
    (untraced, [runs per script], a run None where that script could not attach), or a
    string saying why not, when bpftrace is missing, inflight's probe sites are not known,
    or the first script does not attach."""
    if not shutil.which("bpftrace"):
        return "bpftrace is not installed (apt-get install bpftrace)"
    if isinstance(sites, str):
        return sites
    base, traced = [], [[] for _ in scripts]
    for _ in range(reps):
        base.append(run_once(python, workload, args)[0])
        for k, script in enumerate(scripts):
            result = run_bpftrace_once(python, workload, args, script, sites)
            if result is None and k == 0:
                return "bpftrace could not attach its probes"
            traced[k].append(result)
    return base, traced


def bench_bpftrace(python, quick, sites):
    """Task churn under bpftrace: counting inflight's two probes (what the hits alone
    cost: the floor), and reading what inflight reads (the equivalent script)."""
    equivalent = BPFTRACE_EQUIVALENT.get(python_minor(python))
    n, reps = (20000, 3) if quick else (200000, 5)
    runs = bpftrace_runs(python, "churn.py", [n, 1000],
                         [BPFTRACE_COUNT] + ([equivalent] if equivalent else []), reps, sites)
    if isinstance(runs, str):
        return {"skipped": runs}
    base, (counted, *read) = runs
    result = dict(cost_against(counted, base, n), tasks=n)
    if read and None not in read[0]:
        result["equivalent"] = dict(cost_against(read[0], base, n),
                                    programs=program_costs(read[0]))
    else:
        result["equivalent"] = {"skipped": NO_EQUIVALENT}
    return result


def bench_service(python, inflight, quick, per_conn, sites):
    clients, requests, reps = (50, 4000, 3) if quick else (200, 40000, 5)
    r = interleaved(python, "service.py", [clients, requests, per_conn], inflight, reps,
                    {"PYTHONASYNCIODEBUG": "1"}, lean=True)
    bpftrace = bench_bpftrace_service(python, [clients, requests, per_conn], reps, sites)
    report = r["tracer"][-1]["report"]
    conns = report["targets"][0]["connections"]
    return {
        "clients": clients, "requests": requests, "requests_per_connection": per_conn,
        "untraced_s": r["untraced_s"], "traced_s": r["traced_s"], "ratio": r["ratio"],
        "lean_ratio": r["lean_ratio"], "cpu_ratio": r["cpu_ratio"],
        "lean_cpu_ratio": r["lean_cpu_ratio"], "asyncio_debug_ratio": r["variant_ratio"],
        "connections_opened": conns["opened"], **bpftrace,
        "untraced_cpu_s": r["untraced_cpu_s"], "programs": program_costs(r["tracer"]),
        "lean_programs": program_costs(r["lean_tracer"]),
        "ringbuf_drops": report["tracer"]["ringbuf_drops"] + report["tracer"]["task_ringbuf_drops"],
        "loader_cpu_s": statistics.median(t["cpu_s"] for t in r["tracer"]),
    }


def bench_bpftrace_service(python, args, reps, sites):
    """The loopback service under bpftrace, beside its own untraced runs: counting the
    same events (bpftrace_count), and reading what inflight reads (bpftrace_equivalent)."""
    equivalent = BPFTRACE_SERVICE_EQUIVALENT.get(python_minor(python))
    runs = bpftrace_runs(python, "service.py", args,
                         [BPFTRACE_SERVICE_COUNT] + ([equivalent] if equivalent else []), reps,
                         sites)
    if isinstance(runs, str):
        return {"bpftrace_count": {"skipped": runs}, "bpftrace_equivalent": {"skipped": runs}}
    base, (counted, *read) = runs
    untraced_cpu_s = statistics.median(r["user_s"] + r["sys_s"] for r in base)

    def cost(traced):
        c = cost_against(traced, base, args[1])
        return {"ratio": c["ratio"], "cpu_ratio": c["cpu_ratio"],
                "untraced_cpu_s": untraced_cpu_s, "programs": program_costs(traced)}
    out = {"bpftrace_count": cost(counted)}
    if read and None not in read[0]:
        out["bpftrace_equivalent"] = cost(read[0])
    else:
        out["bpftrace_equivalent"] = {"skipped": NO_EQUIVALENT}
    return out


# The real service: an aiohttp API (api_service.py) pinned to one CPU; its backends
# (api_backends.py), the load generator and the tracer pinned to the other, so that what the
# service's CPU spends is the service's own work and what the probes add to it.
SERVICE_CPU, LOAD_CPU = "0", "1"
# The ways the real service runs beside its untraced run in every round. A trace mode is one
# entry: "inflight" holds its options, "bpftrace" a script counting at inflight's probe sites.
REAL_SERVICE_MODES = [
    {"name": "traced", "what": "inflight trace", "inflight": []},
    {"name": "lean", "what": "inflight trace --lean", "inflight": ["--lean"]},
    {"name": "sampled", "what": "inflight trace --sampled", "inflight": ["--sampled"]},
    {"name": "bpftrace", "what": "bpftrace counting the same probes",
     "bpftrace": BPFTRACE_SERVICE_COUNT},
]
# CPU per uprobe trap when the bench's bpftrace churn row has not measured it here: that
# row's figure on this kind of machine when the real service was added
REFERENCE_TRAP_CPU_US = 1.0


def aiohttp_python(default):
    """The first of the bench's python and Debian's that imports aiohttp, or None."""
    for python in (default, "/usr/bin/python3"):
        if os.access(python, os.X_OK) and subprocess.run(
                [python, "-c", "import aiohttp"], capture_output=True).returncode == 0:
            return python
    return None


def offer_load(port, requests, clients, rps):
    """h2load offering requests to the service's /api at clients x rps requests a second,
    open loop, over HTTP/1.1 keep-alive connections: what it completed and how fast."""
    out = subprocess.run([*pinned(LOAD_CPU), "h2load", "--h1", "-n", str(requests),
                          "-c", str(clients), "--rps", str(rps),
                          "http://127.0.0.1:%d/api" % port], capture_output=True, text=True)
    done = re.search(r"^requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded", out.stdout,
                     re.M)
    took = re.search(r"^finished in ([\d.]+)(m?)s", out.stdout, re.M)
    if out.returncode != 0 or not done or not took or done.group(2) == "0":
        raise RuntimeError("h2load failed (rc %d): %s" % (out.returncode,
                                                         (out.stderr or out.stdout)[-300:]))
    return {"requests": int(done.group(2)), "failed": int(done.group(1)) - int(done.group(2)),
            "seconds": float(took.group(1)) / (1000 if took.group(2) else 1)}


def programs_delta(before, after):
    """What each BPF program ran between two loaded_programs() readings."""
    return {name: {"runs": p["runs"] - before.get(name, {}).get("runs", 0),
                   "ns": p["ns"] - before.get(name, {}).get("ns", 0), "trap": p["trap"]}
            for name, p in after.items()}


class ModeTracer:
    """One REAL_SERVICE_MODES entry attached to pid on LOAD_CPU: its BPF programs'
    counters, and on stop, inflight's report (None for bpftrace)."""

    def __init__(self, mode, pid, inflight, sites):
        self.inflight = None
        if "inflight" in mode:
            self.inflight = Traced(inflight, [pid], mode["inflight"], cpus=LOAD_CPU)
        else:
            self.bpftrace = start_bpftrace(mode["bpftrace"], dict(sites, pid=pid), sites,
                                           cpus=LOAD_CPU)
            if self.bpftrace is None:
                raise RuntimeError("bpftrace could not attach its probes")

    def programs(self):
        if self.inflight:
            return self.inflight.program_stats()
        return loaded_programs(self.bpftrace.pid)

    def stop(self):
        if self.inflight:
            return self.inflight.stop()["report"]
        stop_bpftrace(self.bpftrace)
        return None


def run_real_service_once(python, ports, mode, size, inflight, sites):
    """One run of the API service under mode (None: untraced): a warm-up load first,
    untraced, then the tracer, then the measured load. The service's CPU over the
    measured load (utime + stime from /proc/PID/stat), the requests h2load completed, and
    the tracer's uprobe traps, time inside its BPF programs and tasks seen created."""
    svc = subprocess.Popen([*pinned(SERVICE_CPU), python, os.path.join(HERE, "api_service.py"),
                            *map(str, ports)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    tracer = None
    try:
        port = json.loads(svc.stdout.readline())["port"]
        offer_load(port, size["warm_up"], size["clients"], size["rps"])
        tracer = ModeTracer(mode, svc.pid, inflight, sites) if mode else None
        programs = tracer.programs() if tracer else {}
        cpu = target_cpu_s(svc.pid)
        load = offer_load(port, size["requests"], size["clients"], size["rps"])
        cpu = target_cpu_s(svc.pid) - cpu
        programs = programs_delta(programs, tracer.programs()) if tracer else {}
        report = tracer.stop() if tracer else None
        tracer = None
    finally:
        if tracer:
            tracer.stop()
        svc.stdin.close()
        counters = json.loads(svc.stdout.readline() or "{}")
        svc.wait()
    n = max(load["requests"], 1)
    return dict(load, cpu_s=cpu, cpu_us_per_request=cpu / n * 1e6, service_counters=counters,
                programs=programs, traps_per_request=trap_hits(programs) / n,
                in_uprobes_us_per_request=sum(p["ns"] for p in programs.values()
                                              if p["trap"]) / n / 1e3,
                in_tracepoints_us_per_request=sum(p["ns"] for p in programs.values()
                                                  if not p["trap"]) / n / 1e3,
                tasks_per_request=report["targets"][0]["tasks"]["created"] / n
                if report else None)


def median_spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.median(values), [min(values), max(values)]


def bench_real_service(inflight, quick, trap_us, trap_source, default_python):
    """The aiohttp API service at a fixed offered load, untraced and under each of
    REAL_SERVICE_MODES in interleaved rounds: the service's CPU per request, each mode's
    per-round ratio to the untraced run of its round (median and range), and its cost added
    up from its parts (uprobe traps per request x trap_us + time inside its BPF programs
    per request; a tracepoint's dispatch around its program is left out)."""
    python = aiohttp_python(default_python)
    if not shutil.which("h2load"):
        return {"skipped": "h2load is not installed (apt-get install nghttp2-client)"}
    if not python:
        return {"skipped": "no python here imports aiohttp (apt-get install python3-aiohttp)"}
    if not {int(SERVICE_CPU), int(LOAD_CPU)} <= os.sched_getaffinity(0):
        return {"skipped": "the service and its load need CPUs %s and %s, one each" % (
            SERVICE_CPU, LOAD_CPU)}
    size = ({"clients": 4, "rps": 50, "requests": 400, "warm_up": 100, "rounds": 1} if quick
            else {"clients": 16, "rps": 25, "requests": 6000, "warm_up": 400, "rounds": 5})
    sites = task_probe_sites(python, inflight)
    modes = []
    for mode in REAL_SERVICE_MODES:
        if "bpftrace" in mode and not shutil.which("bpftrace"):
            modes.append(dict(mode, skipped="bpftrace is not installed (apt-get install bpftrace)"))
        elif "bpftrace" in mode and isinstance(sites, str):
            modes.append(dict(mode, skipped=sites))
        else:
            modes.append(dict(mode))
    live = [m for m in modes if "skipped" not in m]
    # the backends need no aiohttp, and make no task per request: bpftrace's uprobes, which
    # fire in every process that runs the service's python, hardly fire in them
    backends = subprocess.Popen([*pinned(LOAD_CPU), default_python,
                                 os.path.join(HERE, "api_backends.py")],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    runs = {m["name"]: [] for m in [{"name": "untraced"}] + live}
    try:
        ports = json.loads(backends.stdout.readline())["ports"]
        order = [None] + live
        for i in range(size["rounds"]):
            for mode in order if i % 2 == 0 else order[::-1]:
                runs[mode["name"] if mode else "untraced"].append(
                    run_real_service_once(python, ports, mode, size, inflight, sites))
    finally:
        backends.stdin.close()
        backends.wait()
    base = runs["untraced"]
    untraced_us = statistics.median(r["cpu_us_per_request"] for r in base)
    for m in live:
        mine = runs[m["name"]]
        m["ratio"], m["ratio_range"] = median_spread(
            r["cpu_us_per_request"] / b["cpu_us_per_request"] for r, b in zip(mine, base))
        for key in ("cpu_us_per_request", "traps_per_request", "in_uprobes_us_per_request",
                    "in_tracepoints_us_per_request", "tasks_per_request"):
            m[key], m[key + "_range"] = median_spread(r[key] for r in mine)
        m["parts_us_per_request"] = (m["traps_per_request"] * trap_us + m[
            "in_uprobes_us_per_request"] + m["in_tracepoints_us_per_request"])
        m["parts_ratio"] = 1 + m["parts_us_per_request"] / untraced_us
    for m in modes:
        m.pop("bpftrace", None)    # the script: BPFTRACE_SERVICE_COUNT
    cpu, cpu_range = median_spread(r["cpu_us_per_request"] for r in base)
    return dict(size, python=python, offered_rps=size["clients"] * size["rps"],
                untraced={"cpu_us_per_request": cpu, "cpu_us_per_request_range": cpu_range,
                          "achieved_rps": statistics.median(r["requests"] / r["seconds"]
                                                            for r in base)},
                trap_us=trap_us, trap_source=trap_source, modes=modes, runs=runs)


# The sweep rows: a host running several Python services at once, swept by inflight sweep
# (every CPython on the host) in each of its two ways of following tasks, against the same
# host unswept, in interleaved rounds.
SWEEP_MODES = [
    {"name": "sampled", "what": "inflight sweep (--sampled, the default)", "options": []},
    {"name": "probes", "what": "inflight sweep --probes", "options": ["--probes"]},
]


class SweepHost:
    """The services a sweep finds: the aiohttp API (on SERVICE_CPU) with its backends, a
    churning service (a fleet.py child, on SERVICE_CPU) and idle services each holding
    tasks pending (hold.py). Kept across rounds: a fleet's services run for weeks."""

    def __init__(self, python, default_python, idle, held):
        self.procs = []
        self.backends = self.start([*pinned(LOAD_CPU), default_python,
                                    os.path.join(HERE, "api_backends.py")])
        self.ports = json.loads(self.backends.stdout.readline())["ports"]
        self.api = self.start([*pinned(SERVICE_CPU), python,
                               os.path.join(HERE, "api_service.py"), *map(str, self.ports)])
        self.port = json.loads(self.api.stdout.readline())["port"]
        self.fleet = self.start([*pinned(SERVICE_CPU), default_python,
                                 os.path.join(HERE, "fleet.py"), "1"])
        self.churner = json.loads(self.fleet.stdout.readline())["children"][0]
        self.idle = [self.start([default_python, os.path.join(HERE, "hold.py"), str(held)])
                     for _ in range(idle)]
        for p in self.idle:
            assert json.loads(p.stdout.readline()).get("ready")
            p.stdin.write("\n")
            p.stdin.flush()
        for p in self.idle:
            assert json.loads(p.stdout.readline()).get("holding") == held

    def start(self, args):
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        self.procs.append(proc)
        return proc

    def churn(self, n):
        self.fleet.stdin.write("churn 0 %d 1000\n" % n)
        self.fleet.stdin.flush()
        return json.loads(self.fleet.stdout.readline())

    def idle_cpu_s(self):
        return sum(target_cpu_s(p.pid) for p in self.idle)

    def stop(self):
        for p in self.procs:
            if p.stdin:
                p.stdin.close()
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


class Sweeper:
    """inflight sweep on LOAD_CPU until stopped: its BPF programs' counters meanwhile,
    its CPU, peak RSS and snapshot once stopped."""

    def __init__(self, inflight, options):
        self.dir = tempfile.mkdtemp(prefix="inflight-bench-sweep-")
        self.proc = subprocess.Popen([*pinned(LOAD_CPU), inflight, "sweep", "-d", "3600",
                                      "-o", self.dir, *options], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        for line in self.proc.stderr:
            if line.startswith("Sweeping:"):
                break
        else:
            raise RuntimeError("inflight sweep did not start: rc=%s" % self.proc.wait())

    def programs(self):
        return self.proc and loaded_programs(self.proc.pid, "on_")

    def stop(self):
        """Its CPU and peak RSS as /proc has them just before it is told to stop (the
        snapshot's writing left out), then its snapshot."""
        cpu, rss = target_cpu_s(self.proc.pid), peak_rss_mib(self.proc.pid)
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate()
        if self.proc.returncode != 0:
            raise RuntimeError("inflight sweep failed: rc=%d" % self.proc.returncode)
        with gzip.open(out.strip(), "rt") as f:
            snapshot = json.load(f)
        shutil.rmtree(self.dir)
        return {"cpu_s": cpu, "peak_rss_mib": rss, "snapshot": snapshot}


def peak_rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M).group(1)) / 1024


def sweep_round(host, mode, inflight, size):
    """One round of the host under mode (None: unswept): the API under h2load's load, then
    the churn, each service's CPU over its own work, the idle services' CPU over both, and
    the sweep's programs, CPU, RSS and what its snapshot says of the services."""
    sweeper = Sweeper(inflight, mode["options"]) if mode else None
    try:
        idle = host.idle_cpu_s()
        programs = sweeper.programs() if sweeper else {}
        cpu = target_cpu_s(host.api.pid)
        load = offer_load(host.port, size["requests"], size["clients"], size["rps"])
        api_cpu = target_cpu_s(host.api.pid) - cpu
        api_programs = programs_delta(programs, sweeper.programs()) if sweeper else {}
        churn = host.churn(size["tasks"])
        churn_programs = (programs_delta(programs, sweeper.programs()) if sweeper else {})
        churn_programs = {k: {"runs": v["runs"] - api_programs.get(k, {}).get("runs", 0),
                              "ns": v["ns"] - api_programs.get(k, {}).get("ns", 0),
                              "trap": v["trap"]} for k, v in churn_programs.items()}
        idle = host.idle_cpu_s() - idle
        figures = sweeper.stop() if sweeper else {}
        sweeper = None
    finally:
        if sweeper:
            sweeper.proc.kill()
            sweeper.proc.wait()
    n = max(load["requests"], 1)
    out = {"api_cpu_us_per_request": api_cpu / n * 1e6,
           "churn_cpu_us_per_task": (churn["user_s"] + churn["sys_s"]) / size["tasks"] * 1e6,
           "idle_cpu_s": idle, "requests": load["requests"], "load_s": load["seconds"],
           "api_traps_per_request": trap_hits(api_programs) / n,
           "api_in_programs_us_per_request": sum(p["ns"] for p in api_programs.values()) / n / 1e3,
           "churn_traps_per_task": trap_hits(churn_programs) / size["tasks"],
           "churn_in_programs_us_per_task": sum(p["ns"] for p in churn_programs.values()) / size[
               "tasks"] / 1e3}
    if figures:
        snap = figures.pop("snapshot")
        out.update(figures, services=len(snap["services"]),
                   period_achieved=snap["tracer"].get("sample_period_achieved_s"),
                   findings={s["pid"]: sorted(f["kind"] for f in s["findings"])
                             for s in snap["services"]
                             if s["pid"] in [host.api.pid, host.churner] + [
                                 p.pid for p in host.idle]})
    return out


def bench_sweep(inflight, quick, trap_us, trap_source, default_python):
    """A host of several Python services swept by inflight sweep --sampled and --probes
    and left unswept, in interleaved rounds: per service, the per-round ratio of its CPU
    per request or task to the unswept run of its round (median and range), the probing
    mode's cost added up from its parts, and the sweep's own CPU and peak RSS."""
    python = aiohttp_python(default_python)
    if not shutil.which("h2load"):
        return {"skipped": "h2load is not installed (apt-get install nghttp2-client)"}
    if not python:
        return {"skipped": "no python here imports aiohttp (apt-get install python3-aiohttp)"}
    if not {int(SERVICE_CPU), int(LOAD_CPU)} <= os.sched_getaffinity(0):
        return {"skipped": "the services and the sweep need CPUs %s and %s, one each" % (
            SERVICE_CPU, LOAD_CPU)}
    size = ({"clients": 4, "rps": 50, "requests": 200, "tasks": 20000, "idle": 3, "held": 200,
             "rounds": 1} if quick else
            {"clients": 16, "rps": 25, "requests": 4000, "tasks": 200000, "idle": 8,
             "held": 2000, "rounds": 5})
    host = SweepHost(python, default_python, size["idle"], size["held"])
    runs = {m["name"]: [] for m in [{"name": "unswept"}] + SWEEP_MODES}
    try:
        offer_load(host.port, 400, size["clients"], size["rps"])    # warm-up
        order = [None] + SWEEP_MODES
        for i in range(size["rounds"]):
            for mode in order if i % 2 == 0 else order[::-1]:
                runs[mode["name"] if mode else "unswept"].append(
                    sweep_round(host, mode, inflight, size))
    finally:
        host.stop()
    base = runs["unswept"]
    modes = []
    for m in SWEEP_MODES:
        mine, row = runs[m["name"]], {"name": m["name"], "what": m["what"]}
        for key, unit in (("api_cpu_us_per_request", "request"), ("churn_cpu_us_per_task", "task")):
            row[key + "_ratio"], row[key + "_ratio_range"] = median_spread(
                r[key] / b[key] for r, b in zip(mine, base))
        for key in ("api_traps_per_request", "api_in_programs_us_per_request",
                    "churn_traps_per_task", "churn_in_programs_us_per_task", "idle_cpu_s",
                    "cpu_s", "peak_rss_mib", "services"):
            row[key], row[key + "_range"] = median_spread(r[key] for r in mine)
        base_api = statistics.median(r["api_cpu_us_per_request"] for r in base)
        base_churn = statistics.median(r["churn_cpu_us_per_task"] for r in base)
        row["api_parts_ratio"] = 1 + (row["api_traps_per_request"] * trap_us +
                                      row["api_in_programs_us_per_request"]) / base_api
        row["churn_parts_ratio"] = 1 + (row["churn_traps_per_task"] * trap_us +
                                        row["churn_in_programs_us_per_task"]) / base_churn
        row["period_achieved"] = [r.get("period_achieved") for r in mine]
        row["findings"] = mine[-1]["findings"]
        modes.append(row)
    return dict(size, python=python, trap_us=trap_us, trap_source=trap_source, modes=modes,
                unswept={k: median_spread(r[k] for r in base) for k in (
                    "api_cpu_us_per_request", "churn_cpu_us_per_task", "idle_cpu_s")},
                runs=runs)


def print_sweep(r):
    """The sweep rows: per mode, per-round ratios to the unswept run of the round
    (median [lowest..highest]), never one number."""
    if "skipped" in r:
        print("SKIP sweep: %s" % r["skipped"])
        return
    u = r["unswept"]
    print("sweep of a host of Python services at once: the aiohttp API (%s, CPU %s) under "
          "h2load (%d requests/s open loop, %d a round), a churning service (%d tasks a round, "
          "CPU %s), %d idle services holding %d pending tasks each, and whatever else runs "
          "CPython here; inflight sweep on CPU %s; %d rounds, interleaved" % (
              r["python"], SERVICE_CPU, r["clients"] * r["rps"], r["requests"], r["tasks"],
              SERVICE_CPU, r["idle"], r["held"], LOAD_CPU, r["rounds"]))
    print("  unswept: API %.0f us CPU/request [%.0f..%.0f]; churn %.2f us CPU/task "
          "[%.2f..%.2f]; idle services %.3f s CPU a round" % (
              u["api_cpu_us_per_request"][0], *u["api_cpu_us_per_request"][1],
              u["churn_cpu_us_per_task"][0], *u["churn_cpu_us_per_task"][1],
              u["idle_cpu_s"][0]))
    print("  %-40s %-20s %-20s %-10s %-10s %9s %9s %8s %9s" % (
        "MODE", "API CPU/REQ RATIO", "CHURN CPU/TASK RATIO", "API PARTS", "CHURN PARTS",
        "IDLE CPU", "SWEEP CPU", "RSS MiB", "SERVICES"))
    for m in r["modes"]:
        print("  %-40s %-20s %-20s %-10s %-10s %7.3f s %7.2f s %8.1f %9.0f" % (
            m["what"], "%.3f [%.3f..%.3f]" % (m["api_cpu_us_per_request_ratio"],
                                               *m["api_cpu_us_per_request_ratio_range"]),
            "%.3f [%.3f..%.3f]" % (m["churn_cpu_us_per_task_ratio"],
                                   *m["churn_cpu_us_per_task_ratio_range"]),
            "%.3f" % m["api_parts_ratio"], "%.3f" % m["churn_parts_ratio"], m["idle_cpu_s"],
            m["cpu_s"], m["peak_rss_mib"], m["services"]))
        print("    parts: API %.2f traps + %.1f us in BPF programs a request; churn %.2f traps + "
              "%.2f us a task; read period achieved %s" % (
                  m["api_traps_per_request"], m["api_in_programs_us_per_request"],
                  m["churn_traps_per_task"], m["churn_in_programs_us_per_task"],
                  ", ".join("p50 %.3f s max %.3f s" % (p["p50"], p["max"])
                            for p in m["period_achieved"] if p) or "-"))
    print("  PARTS: 1 + (traps x %.2f us (%s) + time inside the BPF programs, tracepoints "
          "included) / unswept CPU; SWEEP CPU and RSS: inflight's own over the round" % (
              r["trap_us"], r["trap_source"]))


def trap_cost(bpftrace_churn):
    """CPU per uprobe trap, and where the figure comes from: bpftrace counting inflight's
    two task probes in the churn, per hit, when that row measured it; else the reference."""
    if "skipped" not in bpftrace_churn and bpftrace_churn["extra_cpu_us_per_task"] > 0:
        return (bpftrace_churn["extra_cpu_us_per_task"] / 2,
                "bpftrace counting inflight's two task probes in the churn, per hit, here")
    return REFERENCE_TRAP_CPU_US, "the bench's reference (bpftrace's churn row did not measure it)"


# The per-version rows. Debian unstable's 3.13 to 3.15 run only in the root that
# tools/unstable-root.sh builds, through tests/sid_python.sh.
VERSIONS = "3.11,3.14,3.15"
SID_VERSIONS = ("3.13", "3.14", "3.15")
REPO = os.path.dirname(os.path.dirname(HERE))


def version_pythons(versions, default, tmp):
    """(version, python, what it is or why there is none) for each version: the default
    python when it is that version; else Debian unstable's, through a symlink in tmp to
    tests/sid_python.sh named python3.X (the name picks the version), as the tests do;
    else Debian's /usr/bin/python3.X."""
    default_version = "3.%d" % python_minor(default)
    root = subprocess.run(["bash", os.path.join(REPO, "tools", "unstable-root.sh"), "--print"],
                          capture_output=True, text=True)
    out = []
    for v in versions:
        if v == default_version:
            out.append((v, default, default))
        elif v in SID_VERSIONS and root.returncode == 0:
            link = os.path.join(tmp, "python" + v)
            os.symlink(os.path.join(REPO, "tests", "sid_python.sh"), link)
            out.append((v, link, "Debian unstable's /usr/bin/python%s in %s" % (
                v, root.stdout.strip())))
        elif v in SID_VERSIONS:
            out.append((v, None, "the Debian unstable root is not built ('make test-root' "
                                 "builds it: tools/unstable-root.sh)"))
        elif os.access("/usr/bin/python" + v, os.X_OK):
            out.append((v, "/usr/bin/python" + v, "/usr/bin/python" + v))
        else:
            out.append((v, None, "no CPython %s on this machine" % v))
    return out


def per_task_cost(runs, base, n):
    """cost_against, per task, with the range of each figure over the rounds of the
    interleaving (each run against the untraced run of its round): the spread."""
    c = cost_against(runs, base, n)
    rounds = list(zip(runs, base))
    ratio = [r["seconds"] / b["seconds"] for r, b in rounds]
    wall = [(r["seconds"] - b["seconds"]) / n * 1e6 for r, b in rounds]
    cpu = [(sys_share(r) - sys_share(b)) * r["user_s"] / n * 1e6 for r, b in rounds]
    return dict(c, ratio_range=[min(ratio), max(ratio)],
                extra_us_per_task_range=[min(wall), max(wall)],
                extra_cpu_us_per_task_range=[min(cpu), max(cpu)])


def bench_version(python, inflight, quick):
    """One interpreter's row: the task churn and the loopback service (a new connection
    every 10 requests), each run untraced, under inflight, under inflight --lean and under
    bpftrace counting the same probes (in the service, every hook inflight has there), in
    interleaved rounds. What a task costs, from the churn; the service's ratios beside."""
    sites = task_probe_sites(python, inflight)
    if isinstance(sites, str):
        return {"skipped": sites}
    n, reps = (20000, 1) if quick else (200000, 5)
    service_args = [50, 4000, 10] if quick else [200, 40000, 10]
    bpftrace = shutil.which("bpftrace")
    churn = interleaved(python, "churn.py", [n, 1000], inflight, reps, lean=True,
                        bpftrace=(BPFTRACE_COUNT, sites) if bpftrace else None)
    service = interleaved(python, "service.py", service_args, inflight, reps, lean=True,
                          bpftrace=(BPFTRACE_SERVICE_COUNT, sites) if bpftrace else None)
    row = {"tasks": n, "rounds": reps,
           "untraced_us_per_task": churn["untraced_s"] / n * 1e6,
           "service": dict(zip(("clients", "requests", "requests_per_connection"), service_args),
                           untraced_s=service["untraced_s"])}
    for kind, key in (("traced", "inflight"), ("lean", "lean"), ("bpftrace", "bpftrace_count")):
        if not churn["runs"][kind]:
            row[key] = {"skipped": "bpftrace is not installed (apt-get install bpftrace)"}
            continue
        c = row[key] = per_task_cost(churn["runs"][kind], churn["runs"]["base"], n)
        s = cost_against(service["runs"][kind], service["runs"]["base"], service_args[1])
        c["service_ratio"], c["service_cpu_ratio"] = s["ratio"], s["cpu_ratio"]
        c["service_ratio_range"] = [f(r["seconds"] / b["seconds"] for r, b in zip(
            service["runs"][kind], service["runs"]["base"])) for f in (min, max)]
        if kind == "bpftrace":
            programs = program_costs(churn["runs"][kind])
            c["hits_per_task"] = trap_hits(programs) / n
        else:
            tracers = churn["tracer" if kind == "traced" else "lean_tracer"]
            report = tracers[-1]["report"]
            programs = program_costs(tracers)
            c["hits_per_task"] = report["tracer"]["task_events"] / max(
                report["targets"][0]["tasks"]["created"], 1)
            c["probes"] = probes_of(report)
            c["ringbuf_drops"] = report["tracer"]["task_ringbuf_drops"]
        c["ns_per_run"] = {name: p["ns_per_run"] for name, p in programs.items()
                           if p["trap"] and p["runs"]}
    return row


def bench_versions(versions, default, inflight, quick):
    with tempfile.TemporaryDirectory(prefix="inflight-bench-pythons-") as tmp:
        return [dict(bench_version(python, inflight, quick), version=v, python=what)
                if python else {"version": v, "skipped": what}
                for v, python, what in version_pythons(versions, default, tmp)]


def bench_in_flight(python, inflight, sizes):
    rows = []
    for n in sizes:
        w = start_workload(python, "hold.py", [n])
        tracer = Traced(inflight, [w.pid])
        w.stdin.write("\n")
        w.stdin.flush()
        w.stdout.readline()
        time.sleep(1.0)    # ten polls, each reading every pending task's state
        figures = tracer.stop()
        w.stdin.close()
        w.wait()
        tasks = figures["report"]["targets"][0]["tasks"]
        rows.append({"in_flight": n, "seen_in_flight": tasks["peak_in_flight"],
                     "loader_peak_rss_mib": figures["peak_rss_mib"],
                     "loader_cpu_s": figures["cpu_s"], "attach_s": figures["attach_s"]})
    return rows


class Fleet:
    """fleet.py: n processes of one interpreter, forked as a pre-fork server's workers."""

    def __init__(self, python, n):
        self.proc = subprocess.Popen([python, os.path.join(HERE, "fleet.py"), str(n)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        hello = json.loads(self.proc.stdout.readline())
        assert hello.get("ready"), hello
        self.pids = hello["children"]

    def churn(self, i, n, batch=1000):
        self.proc.stdin.write("churn %d %d %d\n" % (i, n, batch))
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait()


def uprobes_held(pid):
    perf = subprocess.run(["bpftool", "-j", "perf", "show"], capture_output=True, text=True)
    return sum(1 for p in json.loads(perf.stdout or "[]")
               if p.get("pid") == pid and p.get("fd_type") == "uprobe")


def one_build_round(fleet, k, inflight, n):
    """One round: the first k of the fleet traced by inflight (None: untraced), a task
    churn in the first (a traced worker) and in the last (traced by none)."""
    tracer = Traced(inflight, fleet.pids[:k]) if inflight else None
    uprobes = uprobes_held(tracer.proc.pid) if tracer else 0
    worker, neighbour = fleet.churn(0, n), fleet.churn(len(fleet.pids) - 1, n)
    figures = tracer.stop() if tracer else {}
    figures.pop("report", None)
    return dict(figures, worker=worker, neighbour=neighbour, uprobes=uprobes)


def bench_one_build(python, inflights, counts, n, reps):
    """k processes of one interpreter build (forked, as a pre-fork server's workers are)
    traced at once, of k + 1 (the last traced by none: a neighbour of the same build). Per
    inflight (this one, and the base one when given): the time to attach (until its
    'Tracing' line) and to detach (Ctrl-C to exit), its peak RSS, the uprobes it holds,
    and what a task costs a traced worker and the untraced neighbour against untraced
    rounds, interleaved with the traced ones."""
    rows = []
    for k in counts:
        fleet = Fleet(python, k + 1)
        kinds = ["untraced"] + list(inflights)
        rounds = {kind: [] for kind in kinds}
        try:
            for i in range(reps):
                for kind in kinds if i % 2 == 0 else kinds[::-1]:
                    rounds[kind].append(one_build_round(fleet, k, inflights.get(kind), n))
        finally:
            fleet.stop()
        row = {"processes": k, "tasks": n, "rounds": reps}
        base = rounds.pop("untraced")
        for kind, runs in rounds.items():
            row[kind] = {key: statistics.median(r[key] for r in runs)
                         for key in ("attach_s", "stop_s", "peak_rss_mib", "uprobes")}
            for key in ("attach_s", "stop_s", "peak_rss_mib"):
                row[kind][key + "_range"] = [f(r[key] for r in runs) for f in (min, max)]
            for who in ("worker", "neighbour"):
                row[kind][who] = cost_against([r[who] for r in runs], [r[who] for r in base], n)
        rows.append(row)
    return rows


def run_snapshot(inflight, pid):
    """One inflight ps: its wall time, CPU and peak RSS, and the target's CPU meanwhile."""
    before = target_cpu_s(pid)
    start = time.perf_counter()
    proc = subprocess.Popen([inflight, "ps", "-p", str(pid), "-f", "json"],
                            stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    assert os.waitstatus_to_exitcode(status) == 0
    return {"seconds": wall, "tasks": json.loads(out)["tasks_total"],
            "cpu_s": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024,
            "target_cpu_s": target_cpu_s(pid) - before}


def target_cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_snapshot(python, inflight, sizes, reps):
    """inflight ps against N tasks in flight: medians of reps snapshots."""
    rows = []
    for n in sizes:
        w = start_workload(python, "hold.py", [n])
        w.stdin.write("\n")
        w.stdin.flush()
        w.stdout.readline()
        runs = [run_snapshot(inflight, w.pid) for _ in range(reps)]
        w.stdin.close()
        w.wait()
        rows.append({"in_flight": n, "tasks_found": runs[0]["tasks"],
                     "seconds": statistics.median(r["seconds"] for r in runs),
                     "loader_cpu_s": statistics.median(r["cpu_s"] for r in runs),
                     "loader_peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
                     "target_cpu_s": statistics.median(r["target_cpu_s"] for r in runs)})
    return rows


def churn_under_snapshots(python, inflight, n):
    """Task churn while inflight ps reads the process back to back: the workload's seconds."""
    w = start_workload(python, "churn.py", [n, 1000])
    done, snapshots = [], 0
    w.stdin.write("\n")
    w.stdin.flush()
    while not done:
        r = subprocess.run([inflight, "ps", "-p", str(w.pid), "-o", "/dev/null"],
                           stderr=subprocess.DEVNULL)
        snapshots += r.returncode == 0
        if w.poll() is not None or select_ready(w.stdout):
            done.append(json.loads(w.stdout.readline()))
    w.stdin.close()
    w.wait()
    return done[0]["seconds"], snapshots


def select_ready(f):
    return bool(select.select([f], [], [], 0)[0])


def bench_snapshot_cost(python, inflight, quick):
    """The target's cost of being read: churn untraced vs churn read by ps back to back."""
    n, reps = (20000, 3) if quick else (200000, 5)
    base, read, counts = [], [], []
    for i in range(reps):
        for kind in (("base", "read") if i % 2 == 0 else ("read", "base")):
            if kind == "base":
                base.append(run_once(python, "churn.py", [n, 1000])[0]["seconds"])
            else:
                seconds, k = churn_under_snapshots(python, inflight, n)
                read.append(seconds)
                counts.append(k)
    return {"tasks": n, "untraced_s": statistics.median(base), "read_s": statistics.median(read),
            "ratio": statistics.median(read) / statistics.median(base),
            "snapshots_per_run": statistics.median(counts)}


def measure_floor(churn, bpftrace):
    """The floor as measured on this machine: bpftrace counting the same probes costs
    the hits and next to nothing else."""
    if "skipped" in bpftrace:
        return
    floor = bpftrace["extra_us_per_task"]
    churn["measured_floor_us_per_task"] = floor
    churn["over_measured_floor"] = churn["extra_us_per_task"] / floor - 1 if floor > 0 else None
    # the same from CPU times; bpftrace's two hits, one each for inflight's two modes
    per_hit = bpftrace["extra_cpu_us_per_task"] / 2
    for c in (churn, churn["lean"]):
        c["measured_floor_cpu_us_per_task"] = floor_cpu = per_hit * round(c["hits_per_task"])
        c["over_measured_floor_cpu"] = (c["extra_cpu_us_per_task"] / floor_cpu - 1
                                        if floor_cpu > 0 else None)


def in_program_s(programs):
    return sum(p["runs"] * p["ns_per_run"] for p in programs.values() if p["runs"]) / 1e9


def trap_hits(programs):
    return sum(p["runs"] for p in programs.values() if p["trap"])


def cost_from_parts(results, bpftrace):
    """Tracing's cost added up from what each part was measured to cost: the time inside
    every BPF program (bpf_stats) and a trap per uprobe hit (bpftrace's per hit in the
    churn, its own tiny program included). It holds where a run's noise is larger than
    the effect, as in the loopback service; the churn, where it is not, checks the sum
    against the measured cost. A tracepoint's dispatch around its program is left out
    (~0.1 us an event, as measured on this kind of machine)."""
    if "skipped" in bpftrace:
        return
    per_hit_s = bpftrace["extra_cpu_us_per_task"] / 2 / 1e6
    churn = results["task_churn"]
    for c in (churn, churn["lean"], bpftrace["equivalent"]):
        if "programs" in c:
            parts = in_program_s(c["programs"]) + trap_hits(c["programs"]) * per_hit_s
            c["parts_us_per_task"] = parts / churn["tasks"] * 1e6
    for s in results["loopback_service"]:
        for c, prefix in ((s, ""), (s, "lean_"), (s["bpftrace_count"], ""),
                          (s["bpftrace_equivalent"], "")):
            programs = c.get(prefix + "programs")
            if not programs:    # bpftrace skipped, or bpftool could not name its programs
                continue
            c[prefix + "parts_in_program_s"] = in_program_s(programs)
            c[prefix + "parts_trap_hits"] = trap_hits(programs)
            c[prefix + "parts_ratio"] = 1 + (c[prefix + "parts_in_program_s"] + c[
                prefix + "parts_trap_hits"] * per_hit_s) / c["untraced_cpu_s"]


def print_bpftrace_row(what, b):
    if "skipped" in b:
        print("  bpftrace %s: skipped: %s" % (what, b["skipped"]))
        return
    parts = ("; its parts add up to %.2f us" % b["parts_us_per_task"]
             if b.get("parts_us_per_task") is not None else "")
    print("  bpftrace %s: ratio %.2f, %.2f us extra per task; from CPU time: ratio "
          "%.2f, %.2f us%s" % (what, b["ratio"], b["extra_us_per_task"], b["cpu_ratio"],
                               b["extra_cpu_us_per_task"], parts))


def print_cpu_row(c):
    """The churn's cost from CPU times (see cpu_cost), against the floor measured the same way."""
    floor = ""
    if c.get("over_measured_floor_cpu") is not None:
        floor = "; bpftrace's hits alone %.2f us: %+.0f%% from them" % (
            c["measured_floor_cpu_us_per_task"], 100 * c["over_measured_floor_cpu"])
    if c.get("parts_us_per_task") is not None:
        floor += "; its parts add up to %.2f us" % c["parts_us_per_task"]
    print("    from CPU time: ratio %.2f, %.2f us extra per task%s" % (
        c["cpu_ratio"], c["extra_cpu_us_per_task"], floor))


def probes_text(probes):
    return "; ".join("%s on `%s`" % (p["what"], p["instruction"]) for p in probes)


def print_table(results):
    c = results["task_churn"]
    print("\ninflight bench (%s mode, %s)" % (results["mode"], results["python"]))
    print("task churn, %d tasks: %.2f us/task untraced, %.2f traced: ratio %.2f; "
          "PYTHONASYNCIODEBUG=1 ratio %.2f" % (c["tasks"], c["untraced_us_per_task"],
                                               c["traced_us_per_task"], c["ratio"],
                                               c["asyncio_debug_ratio"]))
    print("  %.2f probe hits per task, %.2f us extra per task (%.2f us per hit); the floor, "
          "hits x %.1f us measured per emulated uprobe hit, is %.2f us: %+.0f%% from it" % (
              c["hits_per_task"], c["extra_us_per_task"], c["extra_us_per_hit"] or 0,
              REFERENCE_UPROBE_HIT_US, c["floor_us_per_task"], 100 * (c["over_floor"] or 0)))
    if c.get("over_measured_floor") is not None:
        print("  the floor measured here (bpftrace counting the same two probes) is %.2f us: "
              "%+.0f%% from it" % (c["measured_floor_us_per_task"],
                                   100 * c["over_measured_floor"]))
    print("  probes: %s" % probes_text(c["probes"]))
    print_cpu_row(c)
    print("  %.0f events/s, %d ring-buffer drops, loader %.2f s CPU, peak RSS %.1f MiB" % (
        c["events_per_s"], c["ringbuf_drops"], c["loader_cpu_s"], c["loader_peak_rss_mib"]))
    if c["programs"]:
        print("  BPF programs, time inside each per run (bpf_stats; the trap around a uprobe "
              "is extra):")
        for name, p in c["programs"].items():
            if p["runs"]:
                print("    %-24s %10d runs %8.0f ns" % (name, p["runs"], p["ns_per_run"]))
    lean = c["lean"]
    print("  --lean: ratio %.2f, %.2f probe hits per task, %.2f us extra per task; %d tasks "
          "seen done, %d drops, loader %.2f s CPU, peak RSS %.1f MiB" % (
              lean["ratio"], lean["hits_per_task"], lean["extra_us_per_task"],
              lean["tasks_seen_done"], lean["ringbuf_drops"], lean["loader_cpu_s"],
              lean["loader_peak_rss_mib"]))
    print("  --lean probes: %s" % probes_text(lean["probes"]))
    print_cpu_row(lean)
    t = results["task_churn_threads"]
    print("  with %d idle threads: ratio %.2f, %.2f us extra per task, %.0f ns inside "
          "on_task_init" % (t["threads"], t["ratio"], t["extra_us_per_task"],
                            t["programs"].get("on_task_init", {}).get("ns_per_run") or 0))
    w = results["warnings"]
    print("filtered warnings in a hot loop, %d: %.2f us each untraced, %.2f traced (ratio %.2f), "
          "%.2f us extra per warning (%.2f us from CPU time), %.0f ns inside on_warn_explicit; "
          "%d seen, %d drops" % (
              w["warnings"], w["untraced_us_per_warning"], w["traced_us_per_warning"],
              w["ratio"], w["extra_us_per_warning"], w["extra_cpu_us_per_warning"],
              w["programs"].get("on_warn_explicit", {}).get("ns_per_run") or 0,
              w["warnings_seen"], w["ringbuf_drops"]))
    b = results["bpftrace_task_churn"]
    print_bpftrace_row("counting the same two probes", b)
    if "skipped" not in b:
        print_bpftrace_row("reading what inflight reads", b["equivalent"])
    for s in results["loopback_service"]:
        print("loopback service, %d clients, %d requests, %d per connection: %.3f s untraced, "
              "ratio %.3f (--lean %.3f); from CPU time %.3f (--lean %.3f); "
              "PYTHONASYNCIODEBUG=1 ratio %.2f; %d drops" % (
                  s["clients"], s["requests"], s["requests_per_connection"], s["untraced_s"],
                  s["ratio"], s["lean_ratio"], s["cpu_ratio"], s["lean_cpu_ratio"],
                  s["asyncio_debug_ratio"], s["ringbuf_drops"]))
        if s.get("parts_ratio") is not None:
            print("  added up from its parts (%d uprobe traps, %.1f ms inside BPF programs; "
                  "%.3f s CPU untraced): ratio %.3f (--lean %.3f)" % (
                      s["parts_trap_hits"], s["parts_in_program_s"] * 1e3, s["untraced_cpu_s"],
                      s["parts_ratio"], s["lean_parts_ratio"]))
        for key, what in (("bpftrace_count", "counting the same events"),
                          ("bpftrace_equivalent", "reading what inflight reads")):
            b = s[key]
            if "skipped" in b:
                print("  bpftrace %s: skipped: %s" % (what, b["skipped"]))
                continue
            print("  bpftrace %s: ratio %.3f; from CPU time %.3f" % (what, b["ratio"],
                                                                       b["cpu_ratio"]))
            if b.get("parts_ratio") is not None:
                print("    added up from its parts (%d uprobe traps, %.1f ms inside BPF "
                      "programs): ratio %.3f" % (b["parts_trap_hits"],
                                                 b["parts_in_program_s"] * 1e3, b["parts_ratio"]))
    print_real_service(results["real_service"])
    print_sweep(results["sweep"])
    print("%-12s %12s %14s %10s %10s" % ("IN FLIGHT", "SEEN", "LOADER RSS", "CPU s", "ATTACH s"))
    for r in results["in_flight_scale"]:
        print("%-12d %12d %11.1f MiB %10.2f %10.3f" % (r["in_flight"], r["seen_in_flight"],
                                                      r["loader_peak_rss_mib"], r["loader_cpu_s"],
                                                      r["attach_s"]))
    print_one_build(results["one_build_scale"])
    print("inflight ps (no probe: the target's memory read), medians:")
    print("%-12s %10s %10s %10s %14s %12s" % ("IN FLIGHT", "FOUND", "SECONDS", "CPU s",
                                               "LOADER RSS", "TARGET CPU s"))
    for r in results["snapshot_scale"]:
        print("%-12d %10d %10.3f %10.2f %10.1f MiB %12.3f" % (
            r["in_flight"], r["tasks_found"], r["seconds"], r["loader_cpu_s"],
            r["loader_peak_rss_mib"], r["target_cpu_s"]))
    c = results["snapshot_cost"]
    print("task churn, %d tasks, read by inflight ps back to back (%.0f snapshots a run): "
          "ratio %.3f" % (c["tasks"], c["snapshots_per_run"], c["ratio"]))


def print_one_build(rows):
    """DETACH: from Ctrl-C to exit, the report first; per-task costs: extra wall µs per task
    against the untraced rounds, extra system CPU µs in brackets."""
    print("processes of one interpreter build traced at once (+1 of the build untraced), "
          "medians:")
    print("%-10s %-9s %8s %-20s %-20s %11s %18s %18s" % (
        "PROCESSES", "INFLIGHT", "UPROBES", "ATTACH s [range]", "DETACH s [range]", "PEAK RSS",
        "WORKER us/task", "UNTRACED us/task"))
    for r in rows:
        for kind in [k for k in ("base", "inflight") if k in r]:
            c = r[kind]
            print("%-10d %-9s %8d %-20s %-20s %7.1f MiB %9.2f [%5.2f] %9.2f [%5.2f]" % (
                r["processes"], kind, c["uprobes"], spread(c, "attach_s"), spread(c, "stop_s"),
                c["peak_rss_mib"], c["worker"]["extra_us_per_task"],
                c["worker"]["extra_cpu_us_per_task"], c["neighbour"]["extra_us_per_task"],
                c["neighbour"]["extra_cpu_us_per_task"]))


def spread(figures, key):
    """A median with its rounds' lowest and highest: '1.23 [1.10, 1.40]'."""
    return "%.2f [%.2f, %.2f]" % (figures[key], *figures[key + "_range"])


def print_real_service(r):
    """The real service's rows: per mode, the per-round ratio of the service's CPU per
    request to the untraced run of its round (median [lowest..highest]), never one number."""
    if "skipped" in r:
        print("SKIP real service: %s" % r["skipped"])
        return
    u = r["untraced"]
    print("real service: aiohttp API (tools/bench/api_service.py on %s), each GET /api calling "
          "two backends over a pooled ClientSession and running one task of its own; h2load "
          "--h1 offering %d requests/s open loop (%d clients x %d), %d requests a run; service "
          "on CPU %s, backends, h2load and tracer on CPU %s; %s, interleaved" % (
              r["python"], r["offered_rps"], r["clients"], r["rps"], r["requests"], SERVICE_CPU,
              LOAD_CPU, "%d rounds" % r["rounds"] if r["rounds"] > 1 else "1 round"))
    print("  untraced: %.0f us of service CPU per request [%.0f..%.0f], %.0f requests/s "
          "completed" % (u["cpu_us_per_request"], *u["cpu_us_per_request_range"],
                         u["achieved_rps"]))
    slowest = min(x["requests"] / x["seconds"] for runs in r["runs"].values() for x in runs)
    if slowest < 0.95 * r["offered_rps"]:
        print("  the service fell behind the offered load (%.0f requests/s in its slowest run): "
              "h2load waits for each answer, so the load was not open loop then" % slowest)
    print("  %-34s %-20s %6s %9s %9s %9s %-12s %-16s" % (
        "MODE", "CPU/REQUEST RATIO", "TRAPS", "IN UPROBE", "IN TP", "PARTS", "PARTS RATIO",
        "TASKS/REQUEST"))
    for m in r["modes"]:
        if "skipped" in m:
            print("  %-34s skipped: %s" % (m["what"], m["skipped"]))
            continue
        tasks = ("%.2f [%.2f..%.2f]" % (m["tasks_per_request"], *m["tasks_per_request_range"])
                 if m["tasks_per_request"] is not None else "-")
        print("  %-34s %-20s %6.2f %6.1f us %6.1f us %6.1f us %-12s %-16s" % (
            m["what"], "%.3f [%.3f..%.3f]" % (m["ratio"], *m["ratio_range"]),
            m["traps_per_request"], m["in_uprobes_us_per_request"],
            m["in_tracepoints_us_per_request"], m["parts_us_per_request"],
            "%.3f" % m["parts_ratio"], tasks))
    print("  per request, medians: TRAPS uprobe traps; IN UPROBE and IN TP time inside the "
          "uprobe and the tracepoint programs (bpf_stats; tracepoint programs run for every "
          "process, the load CPU's too: an upper bound); PARTS traps x %.2f us a trap (%s) "
          "+ IN UPROBE + IN TP; PARTS RATIO 1 + PARTS / untraced CPU per request; TASKS from "
          "inflight's report" % (r["trap_us"], r["trap_source"]))


def spread(c, key, form="%.2f"):
    """A figure, with its range over the rounds when there was more than one."""
    low, high = c[key + "_range"]
    return (form % c[key]) + (" [%s, %s]" % (form % low, form % high) if low != high else "")


def print_versions(rows):
    done = [r for r in rows if "skipped" not in r]
    if done:
        r, s = done[0], done[0]["service"]
        print("\nper CPython version, what a task costs: a churn of %d tasks, and the loopback "
              "service (%d clients, %d requests, a new connection every %d); untraced, inflight, "
              "--lean and bpftrace counting the same probes, interleaved; %s" % (
                  r["tasks"], s["clients"], s["requests"], s["requests_per_connection"],
                  "medians of %d rounds [lowest, highest round]" % r["rounds"]
                  if r["rounds"] > 1 else "1 round"))
        print("%-8s %9s %-24s %6s %5s %8s %10s  %-24s %6s" % (
            "CPYTHON", "UNTRACED", "INFLIGHT +us/TASK", "RATIO", "HITS", "INIT ns", "DEALLOC ns",
            "BPFTRACE COUNT +us/TASK", "RATIO"))
    for r in rows:
        if "skipped" in r:
            print("%-8s skipped: %s" % (r["version"], r["skipped"]))
            continue
        c, b = r["inflight"], r["bpftrace_count"]
        ns = c["ns_per_run"]
        print("%-8s %6.2f us %-24s %6.2f %5.2f %8s %10s  %-24s %6s" % (
            r["version"], r["untraced_us_per_task"], spread(c, "extra_us_per_task"), c["ratio"],
            c["hits_per_task"], *("%.0f" % ns[p] if ns.get(p) else "-"
                                  for p in ("on_task_init", "on_task_dealloc")),
            spread(b, "extra_us_per_task") if "skipped" not in b else "skipped",
            "%.2f" % b["ratio"] if "skipped" not in b else ""))
    for r in done:
        c, lean, b = r["inflight"], r["lean"], r["bpftrace_count"]
        print("  %s, %s: %s" % (r["version"], r["python"], probes_text(c["probes"])))
        if "skipped" in b:
            print("    bpftrace counting the same probes: skipped: %s" % b["skipped"])
        print("    from CPU time: %s us/task, ratio %.2f; --lean %s, ratio %.2f%s" % (
            spread(c, "extra_cpu_us_per_task", "%+.2f"), c["cpu_ratio"],
            spread(lean, "extra_cpu_us_per_task", "%+.2f"), lean["cpu_ratio"],
            "; bpftrace counting %s, ratio %.2f" % (
                spread(b, "extra_cpu_us_per_task", "%+.2f"), b["cpu_ratio"])
            if "skipped" not in b else ""))
        print("    --lean: %s us/task, ratio %.2f, %.2f hits per task, %s; %s" % (
            spread(lean, "extra_us_per_task", "%+.2f"), lean["ratio"], lean["hits_per_task"],
            ", ".join("%.0f ns in %s" % (ns, name) for name, ns in lean["ns_per_run"].items()),
            probes_text(lean["probes"])))
        print("    loopback service: %.2f s untraced, ratio %s (--lean %.3f%s); from CPU time "
              "%.3f (--lean %.3f%s)" % (
                  r["service"]["untraced_s"], spread(c, "service_ratio", "%.3f"),
                  lean["service_ratio"],
                  ", bpftrace counting %.3f" % b["service_ratio"] if "skipped" not in b else "",
                  c["service_cpu_ratio"], lean["service_cpu_ratio"],
                  ", bpftrace counting %.3f" % b["service_cpu_ratio"]
                  if "skipped" not in b else ""))
    if done:
        print("  bpftrace reading what inflight reads: only in the sections above, on 3.11 "
              "(%s)" % NO_EQUIVALENT)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inflight", required=True)
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--quick", action="store_true", help="CI-sized: checks the bench runs")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--versions", default=VERSIONS,
                    help="CPython versions of the per-version rows, comma-separated (default "
                    "%(default)s; '' for none)")
    ap.add_argument("--versions-only", action="store_true",
                    help="only the per-version rows")
    ap.add_argument("--base-inflight", metavar="PATH",
                    help="another inflight (the base of a change) that the one-build rows "
                    "also run, for comparison")
    ap.add_argument("--one-build-only", action="store_true",
                    help="only the rows of processes of one interpreter build")
    ap.add_argument("--sweep-only", action="store_true",
                    help="only the sweep rows (and the bpftrace churn row that measures a "
                    "trap's cost for them)")
    ap.add_argument("--real-service-only", action="store_true",
                    help="only the real service's rows (and the bpftrace churn row that "
                    "measures a trap's cost for them)")
    args = ap.parse_args()
    inflight = os.path.abspath(args.inflight)
    if os.geteuid() != 0:
        sys.exit("bench: inflight loads BPF programs: run as root")
    stats = enable_bpf_stats()
    try:
        run_all(args, inflight)
    finally:
        os.close(stats)


# bpf(2): x86-64's syscall number; BPF_ENABLE_STATS from enum bpf_cmd, with
# BPF_STATS_RUN_TIME (0) as its type
SYS_BPF, BPF_ENABLE_STATS = 321, 32


def enable_bpf_stats():
    """Turns on the kernel's BPF run-time statistics (each program's run_cnt and
    run_time_ns) for as long as the returned fd is open. A reference of the bench's own:
    another process that sets kernel.bpf_stats_enabled back to 0 (another bench ending
    meanwhile) takes back only its own, where a write of 1 there would be undone."""
    libc = ctypes.CDLL(None, use_errno=True)
    attr = ctypes.create_string_buffer(64)    # union bpf_attr, all zero: BPF_STATS_RUN_TIME
    fd = libc.syscall(SYS_BPF, BPF_ENABLE_STATS, attr, ctypes.sizeof(attr))
    if fd < 0:
        err = ctypes.get_errno()
        sys.exit("bench: failed to enable BPF run-time statistics: %s" % os.strerror(err))
    return fd


def run_all(args, inflight):
    results = {"mode": "quick" if args.quick else "full", "python": args.python,
               "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if args.real_service_only:
        run_real_service_only(args, inflight, results)
    elif args.sweep_only:
        run_sweep_only(args, inflight, results)
    elif args.one_build_only:
        results["one_build_scale"] = bench_one_build(args.python, inflights(args, inflight),
                                                     *one_build_size(args.quick))
    elif not args.versions_only:
        run_main(args, inflight, results)
    versions = [v for v in args.versions.split(",") if v and not args.real_service_only
                and not args.one_build_only and not args.sweep_only]
    results["versions"] = bench_versions(versions, args.python, inflight, args.quick)
    if args.json:   # before the tables: what took minutes to measure outlives a bug in them
        tmp = args.json + ".tmp"
        with open(tmp, "w") as f:
            json.dump(results, f, indent=2)
        os.replace(tmp, args.json)
    if args.real_service_only:
        print_real_service(results["real_service"])
    elif args.sweep_only:
        print_sweep(results["sweep"])
    elif args.one_build_only:
        print_one_build(results["one_build_scale"])
    elif not args.versions_only:
        print_table(results)
    print_versions(results["versions"])
    if args.json:
        print("\nwritten to %s" % args.json)


def run_main(args, inflight, results):
    """Everything but the per-version rows, on the default python."""
    results["task_churn"] = bench_churn(args.python, inflight, args.quick)
    results["task_churn_threads"] = bench_churn_threads(args.python, inflight, args.quick)
    results["warnings"] = bench_warnings(args.python, inflight, args.quick)
    sites = task_probe_sites(args.python, inflight)
    results["bpftrace_task_churn"] = bench_bpftrace(args.python, args.quick, sites)
    measure_floor(results["task_churn"], results["bpftrace_task_churn"])
    results["loopback_service"] = [bench_service(args.python, inflight, args.quick, per_conn,
                                                 sites) for per_conn in (1000, 10)]
    cost_from_parts(results, results["bpftrace_task_churn"])
    results["real_service"] = bench_real_service(inflight, args.quick,
                                                 *trap_cost(results["bpftrace_task_churn"]),
                                                 args.python)
    # minutes of rounds: not in the CI-sized run
    results["sweep"] = ({"skipped": "not in --quick"} if args.quick else
                        bench_sweep(inflight, args.quick,
                                    *trap_cost(results["bpftrace_task_churn"]), args.python))
    results["in_flight_scale"] = bench_in_flight(
        args.python, inflight, [1000, 10000] if args.quick else [1000, 10000, 100000])
    results["one_build_scale"] = bench_one_build(args.python, inflights(args, inflight),
                                                 *one_build_size(args.quick))
    results["snapshot_scale"] = bench_snapshot(
        args.python, inflight, [1000, 10000] if args.quick else [1000, 10000, 100000],
        3 if args.quick else 5)
    results["snapshot_cost"] = bench_snapshot_cost(args.python, inflight, args.quick)


def one_build_size(quick):
    """(process counts, tasks per churn, rounds) of the one-build rows."""
    return ([1, 4], 2000, 1) if quick else ([1, 50, 200], 20000, 3)


def inflights(args, inflight):
    out = {"inflight": inflight}
    if args.base_inflight:
        out["base"] = os.path.abspath(args.base_inflight)
    return out


def run_real_service_only(args, inflight, results):
    results["bpftrace_task_churn"] = bench_bpftrace(args.python, args.quick,
                                                    task_probe_sites(args.python, inflight))
    results["real_service"] = bench_real_service(inflight, args.quick,
                                                 *trap_cost(results["bpftrace_task_churn"]),
                                                 args.python)



def run_sweep_only(args, inflight, results):
    results["bpftrace_task_churn"] = bench_bpftrace(args.python, args.quick,
                                                    task_probe_sites(args.python, inflight))
    results["sweep"] = bench_sweep(inflight, args.quick,
                                   *trap_cost(results["bpftrace_task_churn"]), args.python)

if __name__ == "__main__":
    main()
