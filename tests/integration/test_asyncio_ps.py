"""inflight ps against CPython's own `python -m asyncio ps` and `pstree`
(3.14+), on every such interpreter present (Debian unstable's, in its root):
the same tasks by id and name, the same coroutine for each, the same task
awaiting it, the same line each is suspended at. asyncio's tools are first
checked against snapshot_service.py's own record, so that a disagreement left
is inflight's."""
import json
import os
import re
import subprocess

from harness import Workload, interpreters, is_sid, run_inflight, test

FANOUT = 300


def asyncio_tool(python, name, pid, command):
    """The output of `python -m asyncio COMMAND PID`, run as root beside the
    workload: in the Debian unstable root, in the workload's own mount namespace
    (the tool opens the binary by the path in /proc/PID/maps)."""
    env = dict(os.environ, INFLIGHT_SID_BESIDE=str(pid)) if is_sid(name) else None
    r = subprocess.run([python, "-m", "asyncio", command, str(pid)], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout, "python -m asyncio %s failed (rc=%d): %s%s" % (
        command, r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    return r.stdout


def take_chain(words):
    """'a -> b -> c' at the start of words: (['a', 'b', 'c'], the words after it)."""
    chain = []
    while words and words[0] != "->":
        chain.append(words[0])
        words = words[1:]
        if not words or words[0] != "->":
            break
        words = words[1:]
    return chain, words


def parse_ps_row(line):
    """One row of asyncio ps's table, whose columns are padded, not cut:
    tid, task id, task name, coroutine stack ('inner -> ... -> outer'), awaiter
    chain, awaiter name, awaiter id (0x0 and the two before it empty for a task
    nothing awaits). Names have no spaces here (the workload's tasks keep their
    default Task-N), so the words say where each column ends."""
    words = line.split()
    assert len(words) >= 5 and words[0].isdigit() and re.fullmatch(r"0x[0-9a-f]+", words[1]) \
        and re.fullmatch(r"0x[0-9a-f]+", words[-1]), "not an asyncio ps row: %r" % line
    stack, rest = take_chain(words[3:-1])
    awaiter_chain, rest = take_chain(rest)
    awaiter = words[-1]
    if awaiter == "0x0":
        assert stack and not awaiter_chain and not rest, "not an asyncio ps row: %r" % line
    else:
        assert stack and awaiter_chain and len(rest) == 1, "not an asyncio ps row: %r" % line
    return {"thread": words[0], "id": words[1], "name": words[2], "coroutine": stack[-1],
            "awaiter": None if awaiter == "0x0" else awaiter}


def parse_ps(out):
    """{task id: {thread, id, name, coroutine, awaited_by: set of ids}} from asyncio ps."""
    lines = out.splitlines()
    assert lines[0].split() == ["tid", "task", "id", "task", "name", "coroutine", "stack",
                                "awaiter", "chain", "awaiter", "name", "awaiter", "id"], lines[0]
    assert set(lines[1]) == {"-"}, lines[1]
    tasks = {}
    for line in lines[2:]:
        row = parse_ps_row(line)
        task = tasks.setdefault(row["id"], dict(row, awaited_by=set()))
        assert (task["name"], task["coroutine"]) == (row["name"], row["coroutine"]), line
        if row["awaiter"]:
            task["awaited_by"].add(row["awaiter"])
    return tasks


def parse_pstree(out):
    """{task name: {awaited_by: set of names, frames: set of 'function file:line'}}
    from asyncio pstree: a task ('(T) name') hangs under the coroutine frames of
    the task awaiting it, and its own first frames (its coroutine, where it is
    suspended) hang right under it."""
    tasks, above = {}, []       # above: (depth, task name or None for a frame)
    node = r"((?:│   |    )*)(?:├── |└── )(\(T\) (\S+)| (\S+ \S+:\d+))"
    for line in out.splitlines():
        m = re.fullmatch(node, line)
        assert m, "not an asyncio pstree line: %r" % line
        depth = len(m.group(1)) // 4
        above = [a for a in above if a[0] < depth]
        if m.group(3):
            task = tasks.setdefault(m.group(3), {"awaited_by": set(), "frames": set()})
            parents = [name for _, name in above if name]
            if parents:
                task["awaited_by"].add(parents[-1])
            above.append((depth, m.group(3)))
        else:
            if above and above[-1][1] and above[-1][0] == depth - 1:
                tasks[above[-1][1]]["frames"].add(m.group(4))
            above.append((depth, None))
    return tasks


def where(frame):
    """'scatter /w/snapshot_service.py:47' as (function, file, line)."""
    function, place = frame.split(" ")
    file, line = place.rsplit(":", 1)
    return function, file, int(line)


def agree(what, a, a_value, b, b_value):
    """a_value == b_value, or an error saying who says what (sets: what each has alone)."""
    if a_value == b_value:
        return
    if isinstance(a_value, set) and isinstance(b_value, set):
        a_value, b_value = sorted(a_value - b_value), sorted(b_value - a_value)
        what += " (only the differences)"
    raise AssertionError("%s: %s says %r, %s %r" % (what, a, a_value, b, b_value))


def loops_read(ps, truth, minor):
    """The loops whose tasks asyncio ps lists: all, or on 3.14 maybe the main
    thread's alone (3.14.10's reads no other thread's tasks; 3.15's does)."""
    loop_of = {t["id"]: t["loop"] for t in truth["tasks"]}
    seen = {loop_of.get(id) for id in ps}
    if minor == 14 and seen == {loop_of[truth["main"]]}:
        return seen
    return set(truth["loops"])


def check_asyncio_tools(ps, tree, truth, loops):
    """asyncio ps and pstree against the workload's own record, and each other."""
    record = {t["id"]: t for t in truth["tasks"] if t["loop"] in loops}
    agree("tasks (ids)", "asyncio ps", set(ps), "the workload", set(record))
    agree("threads", "asyncio ps", len({t["thread"] for t in ps.values()}),
          "the workload", len(loops))
    names = {t["name"]: t["id"] for t in ps.values()}
    agree("task names, each once", "asyncio ps", len(names), "its rows", len(ps))
    agree("tasks (names)", "asyncio pstree", set(tree), "asyncio ps", set(names))
    for id, want in record.items():
        got, node = ps[id], tree[ps[id]["name"]]
        task = "task %s (%s)" % (id, got["name"])
        agree(task + ": coroutine", "asyncio ps", got["coroutine"],
              "the workload", want["coroutine"])
        agree(task + ": awaited by", "asyncio ps", got["awaited_by"],
              "the workload", {want["parent"]} - {None})
        agree(task + ": awaited by", "asyncio pstree", {names[n] for n in node["awaited_by"]},
              "asyncio ps", got["awaited_by"])
        frames = {where(f) for f in node["frames"]}
        agree(task + ": its own frames' function", "asyncio pstree", {f[0] for f in frames},
              "the workload", {want["coroutine"]})
        if id != truth["main"]:     # main has moved on since it took the record
            agree(task + ": suspended at", "asyncio pstree", {f[1:] for f in frames},
                  "the workload", {(want["file"], want["line"])})


def check_inflight(snap, ps, tree, truth):
    """inflight ps against asyncio ps and pstree, task for task; the tasks
    asyncio ps could not read against the workload's record."""
    pending = {t["id"]: t for t in snap["tasks"] if t["state"] == "pending"}
    agree("pending tasks (ids)", "inflight ps", set(pending),
          "the workload", {t["id"] for t in truth["tasks"]})
    for id, want in ps.items():
        got = pending[id]
        task = "task %s (%s)" % (id, want["name"])
        agree(task + ": name", "inflight ps", got["name"], "asyncio ps", want["name"])
        agree(task + ": coroutine", "inflight ps", got["coroutine"],
              "asyncio ps", want["coroutine"])
        awaiter = (got["awaited_by"] or {}).get("task")
        agree(task + ": awaited by", "inflight ps", {awaiter} - {None},
              "asyncio ps", want["awaited_by"])
        frame = where(sorted(tree[want["name"]]["frames"])[0])
        agree(task + ": suspended at", "inflight ps", (got["file"], got["line"]),
              "asyncio pstree", frame[1:])
    for want in truth["tasks"]:
        if want["id"] not in ps:
            got = pending[want["id"]]
            task = "task %s (%s), which asyncio ps does not list" % (want["id"], got["name"])
            agree(task + ": coroutine", "inflight ps", got["coroutine"],
                  "the workload", want["coroutine"])
            agree(task + ": awaited by", "inflight ps", (got["awaited_by"] or {}).get("task"),
                  "the workload", want["parent"])


def matches_asyncio_ps(name, python):
    w = Workload("snapshot_service.py", python=python,
                 args=("--fanout", str(FANOUT), "--sleepers", "200"))
    try:
        ps = parse_ps(asyncio_tool(python, name, w.pid, "ps"))
        tree = parse_pstree(asyncio_tool(python, name, w.pid, "pstree"))
        minor = int(w.version.split(".")[1])
        check_asyncio_tools(ps, tree, w.hello, loops_read(ps, w.hello, minor))
        r = run_inflight("ps", "-p", str(w.pid), "-f", "json", "--tasks", timeout=60)
    finally:
        w.stop()
    assert r.returncode == 0, "inflight ps failed (rc=%d): %s" % (r.returncode, r.stderr.strip())
    check_inflight(json.loads(r.stdout), ps, tree, w.hello)


def register(name, python):
    def fn():
        matches_asyncio_ps(name, python)
    fn.__name__ = "ps_matches_asyncio_ps_" + re.sub(r"\W", "_", name)
    test(fn)


for _name, _python, _stripped in interpreters()[0]:
    if int(re.search(r"3\.(\d+)", _name).group(1)) >= 14:    # python -m asyncio ps: 3.14+
        register(_name, _python)
