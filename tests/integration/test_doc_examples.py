"""The commands README.md and the man page's EXAMPLES show, run as written
against bundled workloads, so the docs stay true.

What counts as an example (docs/development.md says the same):
- README.md: in a fenced block tagged sh, bash, shell or console that runs
  inflight somewhere (the word `inflight` where a command starts), every
  command (a line, with the lines it continues by a trailing backslash) but
  those of make, apt, apt-get, dpkg, git, systemctl, lintian and man, which
  build, install or change the host (CI runs `make check`). In any other
  block, a line that is an inflight command (`inflight SUBCOMMAND ...` or
  `inflight --OPTION ...`) and not a synopsis (no `[`, `|`, `...` or
  upper-case placeholder); lines of output such as `inflight trend: 3
  snapshots` are neither. A line starting with `$ ` is a command in any
  block; the lines after it, up to the next `$ ` line, are its sample output,
  and each of them must have a line of the same shape (numbers and paths
  aside) in what the command prints.
- man/inflight.8: every .EX/.EE block of .SH EXAMPLES, run as one script (its
  commands share shell variables and files).
Each example runs through bash (errexit, pipefail) in one sandbox, in the
order the doc shows them, so an example can read what an earlier one wrote
(report.json, tasks.json, the snapshots). `inflight` is the binary under test,
first on PATH. An example the test cannot map (a PID, a path, a placeholder or
a roff escape it does not know) fails, naming the example and why.

The substitutions, all of them:
- PIDs 1234 and 5678 given to -p/--pid: two task_service.py workloads; the
  workers `pgrep -f 'gunicorn.*myapp'` finds: two more, started as
  `python3 .../gunicorn myapp:app` (a launcher that runs task_service.py);
- -d/--duration N: 2 s; -i/--interval N: 1 s; an example that traces or
  sweeps without -d gets SIGINT (Ctrl-C) 2 s after it says it started;
- an absolute path under /var/lib, /etc or /tmp: the same path inside the
  sandbox, whose directories exist as on a host where node_exporter is
  installed and inflight's sweep has run once (/var/lib/inflight holds one
  earlier snapshot, taken before the workloads leaked); /etc/inflight.json
  holds the man page's own example configuration;
- the relative inputs of the trend examples, made from two short sweeps
  before and after the leak: web1/ and web2/ and snapshots/ (both
  snapshots), release-1.4.json.gz (the earlier one).
"""
import gzip
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time

import harness
from harness import PYTHON, WORKLOADS, Workload, test
from test_prometheus import PARSE

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOCS = ("README.md", "man/inflight.8")
SHELL_TAGS = ("sh", "bash", "shell", "console")
EXAMPLE_PIDS = ("1234", "5678")
DURATION = "2"
INTERVAL = "1"
INTERRUPT_AFTER_S = 2
ROOTED = ("/var/lib/", "/etc/", "/tmp/")
GUNICORN_WORKERS = 2
ROFF_ESCAPES = {"-": "-", "(aq": "'", "(dq": '"', "(ga": "`", "e": "\\", "(rs": "\\",
                "~": " ", "&": "", "(en": "\u2013", "(em": "\u2014"}
# a command starts here: line start, after ; | & ( or $( , behind sudo and VAR=value
RUNS_INFLIGHT = re.compile(r"(?:^|[;|&(`])\s*(?:sudo\s+)?(?:\w+=\S*\s+)*inflight(?=\s|$)",
                           re.MULTILINE)
LOOKS_LIKE_COMMAND = re.compile(r"^\s*(?:sudo\s+)?inflight (?:[a-z]+|--?[a-zA-Z][\w-]*)(?:\s|$)")
OUT_OF_SCOPE = ("make", "apt", "apt-get", "dpkg", "git", "systemctl", "lintian", "man")
# what marks a synopsis, and what is left of one in an example the test cannot run
PLACEHOLDER = re.compile(r"\[|\]|\.\.\.|<\w+>|(?<![$\w])[A-Z][A-Z_]+\b(?!=)")
SYNOPSIS = re.compile(PLACEHOLDER.pattern + r"|\|")


class Example:
    def __init__(self, doc, line, text, skip=False):
        self.doc, self.line, self.text, self.sample, self.skip = doc, line, text, [], skip
        # a comment such as '# exits 1: no BTF' documents another exit status
        m = re.search(r"#.*\bexit(?:s| status) (\d)\b", text)
        self.status = int(m.group(1)) if m else 0

    def __str__(self):
        first = self.text.strip().splitlines()[0]
        more = " ..." if len(self.text.strip().splitlines()) > 1 else ""
        return "%s:%d `%s%s`" % (self.doc, self.line, first, more)


class Unmappable(Exception):
    pass


def fenced_blocks(text):
    """(tag, first line number, lines) of each fenced block of a Markdown text."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = re.match(r"^(```+|~~~+)\s*([\w-]*)", lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and not lines[j].startswith(m.group(1)):
            j += 1
        yield m.group(2), i + 2, lines[i + 1:j]
        i = j + 1


def logical_lines(lines, first):
    """(line number, text) of lines joined with the lines they continue by a backslash."""
    out, i = [], 0
    while i < len(lines):
        start, text = i, lines[i]
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text += "\n" + lines[i]
        out.append((first + start, text))
        i += 1
    return out


def out_of_scope(command):
    words = strip_comments(command).split()
    words = words[1:] if words[:1] == ["sudo"] else words
    return bool(words) and words[0] in OUT_OF_SCOPE


def readme_examples(text, doc="README.md"):
    """The README's examples, and the problems found while extracting them."""
    examples, problems = [], []
    for tag, first, lines in fenced_blocks(text):
        commands = logical_lines(lines, first)
        if any(t.startswith("$ ") for _, t in commands):
            block = []
            for number, t in commands:
                if t.startswith("$ ") and not out_of_scope(t[2:]):
                    block.append(Example(doc, number, t[2:]))
                elif t.startswith("$ "):
                    block.append(Example(doc, number, "", skip=True))
                elif block:
                    block[-1].sample.append(t)
            if any(RUNS_INFLIGHT.search(strip_comments(e.text)) for e in block):
                examples += [e for e in block if not e.skip]
        elif tag in SHELL_TAGS:
            if any(RUNS_INFLIGHT.search(strip_comments(t)) for _, t in commands):
                examples += [Example(doc, n, t) for n, t in commands
                             if strip_comments(t).strip() and not out_of_scope(t)]
        else:
            examples += [Example(doc, n, t) for n, t in commands
                         if LOOKS_LIKE_COMMAND.match(t) and not SYNOPSIS.search(t)]
    return examples, problems


def unroff(line):
    """A line of an .EX block as the reader sees it; Unmappable for an unknown escape."""
    def one(m):
        if m.group(1) not in ROFF_ESCAPES:
            raise Unmappable("roff escape \\%s is not one the test knows" % m.group(1))
        return ROFF_ESCAPES[m.group(1)]
    return re.sub(r"\\(\(..|.)", one, line)


def man_examples(text, doc="man/inflight.8"):
    """Each .EX block of the man page's EXAMPLES section, and the problems found."""
    examples, problems = [], []
    section, block = None, None
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(".SH"):
            section = line[3:].strip().strip('"')
        elif section != "EXAMPLES":
            continue
        elif line.startswith(".EX"):
            block = (number + 1, [])
        elif line.startswith(".EE") and block:
            try:
                examples.append(Example(doc, block[0], "\n".join(unroff(t) for t in block[1])))
            except Unmappable as e:
                problems.append("%s:%d: %s" % (doc, block[0], e))
            block = None
        elif block is not None:
            if line.startswith("."):
                problems.append("%s:%d: a roff request inside an example: %s" % (doc, number, line))
            block[1].append(line)
    if not examples:
        problems.append("%s: no .EX block under .SH EXAMPLES" % doc)
    return examples, problems


def scan_quotes(text):
    """For each character of a shell text, whether it is outside quotes."""
    outside, quote, escaped = [], None, False
    for c in text:
        outside.append(quote is None and not escaped)
        if escaped:
            escaped = False
        elif c == "\\" and quote != "'":
            escaped = True
        elif quote is None and c in "'\"":
            quote = c
        elif c == quote:
            quote = None
    return outside


def strip_comments(text):
    """The shell text without its comments (a # that starts a word, outside quotes)."""
    outside, out, skipping = scan_quotes(text), [], False
    for i, c in enumerate(text):
        if c == "\n":
            skipping = False
        elif c == "#" and outside[i] and (i == 0 or text[i - 1] in " \t\n"):
            skipping = True
        if not skipping:
            out.append(c)
    return re.sub(r"[ \t]+$", "", "".join(out), flags=re.MULTILINE)


def unquoted(text):
    outside = scan_quotes(text)
    return "".join(c if outside[i] else " " for i, c in enumerate(text))


class Sandbox:
    """The host the examples run on: a temporary directory with the workloads,
    the snapshots and files the examples read, and inflight on PATH."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="inflight-doc-examples-")
        self.work = os.path.join(self.dir, "work")
        self.bin = os.path.join(self.dir, "bin")
        for d in (self.work, self.bin, self.rooted("/var/lib/prometheus/node-exporter"),
                  self.rooted("/var/lib/inflight"), self.rooted("/etc"), self.rooted("/tmp")):
            os.makedirs(d, exist_ok=True)
        os.symlink(harness.inflight(), os.path.join(self.bin, "inflight"))
        self.workloads = []

    def rooted(self, path):
        return os.path.join(self.dir, "root", path.lstrip("/"))

    def start_workloads(self):
        self.pids = {}
        for example_pid in EXAMPLE_PIDS:
            self.pids[example_pid] = self.start(Workload("task_service.py", quiet=True))
        self.launcher = launcher = os.path.join(self.dir, "gunicorn")
        with open(launcher, "w") as f:
            f.write("import runpy, sys\nsys.argv = [%r]\nrunpy.run_path(%r, run_name='__main__')\n"
                    % (os.path.join(WORKLOADS, "task_service.py"),
                       os.path.join(WORKLOADS, "task_service.py")))
        self.gunicorn = [self.start(Workload(command=[PYTHON, launcher, "myapp:app"], quiet=True))
                         for _ in range(GUNICORN_WORKERS)]
        for w in self.workloads:
            w.do("fanout 5")
            w.do("connect 10")

    def start(self, workload):
        self.workloads.append(workload)
        return workload.pid

    def leak(self):
        """Every workload leaks sockets into CLOSE_WAIT: what the later sweeps
        find, and the earlier one did not."""
        for w in self.workloads:
            w.do("leak 3")

    def sweep(self, into):
        os.makedirs(into, exist_ok=True)
        r = subprocess.run([harness.inflight(), "sweep", "-d", DURATION, "-o", into, "--probes"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, "setup: sweep failed (%d): %s" % (r.returncode, r.stderr)
        return r.stdout.strip()

    def make_inputs(self):
        """The files the examples read that no example writes."""
        with open(os.path.join(ROOT, "man", "inflight.8")) as f:
            config = re.search(r"^\.SH CONFIGURATION\n.*?^\.EX\n(.*?)^\.EE", f.read(),
                               re.MULTILINE | re.DOTALL)
        assert config, "man/inflight.8: no example configuration under .SH CONFIGURATION"
        with open(self.rooted("/etc/inflight.json"), "w") as f:
            f.write(unroff(config.group(1)))
        earlier = self.sweep(os.path.join(self.dir, "setup"))
        self.leak()
        later = self.sweep(os.path.join(self.dir, "setup"))
        for d in ("web1", "web2", "snapshots"):
            os.makedirs(os.path.join(self.work, d))
            for snapshot in (earlier, later):
                shutil.copy(snapshot, os.path.join(self.work, d))
        shutil.copy(earlier, os.path.join(self.work, "release-1.4.json.gz"))
        shutil.copy(earlier, self.rooted("/var/lib/inflight"))

    def close(self):
        for w in self.workloads:
            w.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def substitute(example, sandbox):
    """The example's script as the sandbox runs it; Unmappable if a PID, path
    or placeholder is not one the test knows."""
    script = strip_comments(example.text)
    if script.startswith("sudo "):
        script = script[5:]
    bare = unquoted(script)
    m = PLACEHOLDER.search(bare)
    if m:
        raise Unmappable("placeholder %r: the test knows PIDs %s, durations and paths under %s, "
                         "nothing else" % (m.group(0), " and ".join(EXAMPLE_PIDS), ", ".join(ROOTED)))

    def pid(m):
        if m.group(3) not in sandbox.pids:
            raise Unmappable("PID %s is not one the test maps (%s)" %
                             (m.group(3), ", ".join(EXAMPLE_PIDS)))
        return m.group(1) + m.group(2) + str(sandbox.pids[m.group(3)])

    def path(m):
        p = m.group(0)
        if not p.startswith(ROOTED):
            raise Unmappable("path %s is not under %s, which the test moves into its sandbox" %
                             (p, ", ".join(ROOTED)))
        return sandbox.rooted(p)
    script = re.sub(r"(?<!\S)(-p|--pid)(\s+|=)(\d+)(?!\S)", pid, script)
    script = re.sub(r"(?<!\S)(-d|--duration)(\s+|=)[\d.]+(?!\S)", r"\1\g<2>" + DURATION, script)
    script = re.sub(r"(?<!\S)(-i|--interval)(\s+|=)[\d.]+(?!\S)", r"\1\g<2>" + INTERVAL, script)
    script = re.sub(r"(?:(?<=[\s\"'=])|^)/[A-Za-z][^\s\"')|;]*", path, script)
    for pattern in re.findall(r"pgrep -f '([^']*)'", script):
        if not re.search(pattern, " ".join([PYTHON, sandbox.launcher, "myapp:app"])):
            raise Unmappable("pgrep pattern %r matches none of the workers the test starts "
                             "(python3 .../gunicorn myapp:app)" % pattern)
    return script


class Invocation:
    """One run of inflight in an example, as its options say."""

    def __init__(self, tokens, piped, captured):
        self.tokens, self.piped, self.captured = tokens, piped, captured
        self.sub = next((t for t in tokens[1:] if not t.startswith("-")), None)
        self.pgrep = "pgrep" in tokens
        self.opts, self.args = {}, []
        takes_value = {"-p", "--pid", "-d", "--duration", "-i", "--interval", "-f", "--format",
                       "-o", "--output", "--metrics", "--keep", "--config", "--baseline",
                       "--fanout-tasks", "--close-wait-age", "--grow-tasks"}
        i, depth = 1, 0
        while i < len(tokens):
            t = tokens[i]
            depth += (t == "(") - (t == ")")
            if depth == 0 and t in takes_value and i + 1 < len(tokens):
                self.opts.setdefault(t, []).append(tokens[i + 1])
                i += 1
            elif depth == 0 and t not in ("$", ")") and not t.startswith("-"):
                self.args.append(t)
            i += 1

    def opt(self, *names):
        for n in names:
            if n in self.opts:
                return self.opts[n][-1]
        return None

    def pids(self):
        return self.opts.get("-p", []) + self.opts.get("--pid", [])


def invocations(script):
    """Every inflight run of a script, with where its stdout goes."""
    found = []
    for command in re.split(r"\n", unquoted_newlines(script)):
        lexer = shlex.shlex(command.replace("\x00", "\n"), posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        tokens = list(lexer)
        for i, t in enumerate(tokens):
            if t != "inflight" or (i and tokens[i - 1] not in (";", "|", "&&", "(", "||")
                                   and not tokens[i - 1].endswith("=$")):
                continue
            j, depth = i + 1, 0
            while j < len(tokens) and not (depth == 0 and tokens[j] in ("|", ";", "&&", "||", ")")):
                depth += (tokens[j] == "(") - (tokens[j] == ")")
                j += 1
            found.append(Invocation(tokens[i:j], piped=j < len(tokens) and tokens[j] == "|",
                                    captured=i > 0 and tokens[i - 1] in ("(",)))
    return found


def unquoted_newlines(script):
    """The script with backslash continuations joined and newlines inside quotes
    kept as NULs, so that splitting at newlines gives one command a line."""
    script = script.replace("\\\n", " ")
    outside = scan_quotes(script)
    return "".join("\x00" if c == "\n" and not outside[i] else c for i, c in enumerate(script))


def shape(line):
    """A line with its numbers and paths left out, to compare sample output with real."""
    words = ["PATH" if "/" in w else re.sub(r"\d+(\.\d+)?", "N", w) for w in line.split()]
    return " ".join(words)


def run(example, script, sandbox, interrupt):
    """(exit status, stdout, stderr) of the script run by bash in the sandbox."""
    path = os.path.join(sandbox.dir, "example.sh")
    with open(path, "w") as f:
        f.write(script + "\n")
    env = dict(os.environ, PATH=sandbox.bin + ":" + os.environ["PATH"])
    out_path, err_path = path + ".out", path + ".err"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        proc = subprocess.Popen(["bash", "-o", "errexit", "-o", "pipefail", path], cwd=sandbox.work,
                                env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            if interrupt:
                deadline = time.time() + 30
                while time.time() < deadline and proc.poll() is None:
                    with open(err_path) as e:
                        if "Hit Ctrl-C" in e.read():
                            break
                    time.sleep(0.1)
                time.sleep(INTERRUPT_AFTER_S)
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGINT)   # what Ctrl-C does: the foreground group
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise AssertionError("still running after 90 s")
    with open(out_path) as out, open(err_path) as err:
        return proc.returncode, out.read(), err.read()


def parse_metrics(text, dialect="prometheus"):
    r = subprocess.run(["/usr/bin/python3", "-c", PARSE, dialect], input=text,
                       capture_output=True, text=True)
    assert r.returncode == 0, "the %s text does not parse: %s" % (dialect, r.stderr[-500:])
    return json.loads(r.stdout)


def read_output(inv, stdout, alone, sandbox):
    """What inflight wrote for this run: its -o file, else its stdout when the
    example's stdout is its alone; None when it went into a pipe."""
    out = inv.opt("-o", "--output")
    if out and out != "-":
        path = os.path.join(sandbox.work, out)
        assert os.path.exists(path), "%s was not written" % out
        with open(path) as f:
            return f.read()
    return stdout if alone and not inv.piped and not inv.captured else None


def check_trace(inv, text, stderr, expected, interrupted):
    if inv.opt("-i", "--interval"):
        for pid in expected:
            assert re.search(r"^\[ *[\d.]+s\] pid %d: " % pid, stderr, re.MULTILINE), \
                "-i: no live summary of pid %d on stderr" % pid
    if text is None:
        return
    fmt = inv.opt("-f", "--format") or "text"
    ended = "interrupted" if interrupted else "duration"
    if fmt == "text":
        assert re.search(r"^inflight \S+: traced %d process(es)? for [\d.]+s \(ended: %s\)$"
                         % (len(expected), ended), text, re.MULTILINE), \
            "no 'inflight VERSION: traced %d processes for Ns (ended: %s)' line" % (len(expected), ended)
        for pid in expected:
            assert re.search(r"\bpid %d\b" % pid, text), "the report does not mention pid %d" % pid
    elif fmt == "json":
        report = json.loads(text)
        assert sorted(t["pid"] for t in report["targets"]) == sorted(expected), \
            "targets %s, not %s" % ([t["pid"] for t in report["targets"]], expected)
        assert report["end_reason"] == ended, report["end_reason"]
    elif fmt in ("prometheus", "openmetrics"):
        samples = parse_metrics(text, fmt)
        pids = sorted({int(s[4]["pid"]) for s in samples if s[3] == "inflight_process_info"})
        assert pids == sorted(expected), "inflight_process_info for pids %s, not %s" % (pids, expected)
    else:
        raise AssertionError("no check for trace -f %s" % fmt)


def check_sweep(inv, stdout, alone, before, sandbox, interrupted):
    into = sweep_dir(inv, sandbox)
    new = sorted(set(f for f in os.listdir(into) if f.endswith(".json.gz")) - before)
    assert len(new) == 1, "%d new snapshots in %s, not 1" % (len(new), into)
    with gzip.open(os.path.join(into, new[0])) as f:
        snapshot = json.load(f)
    assert snapshot["schema"] == "inflight-snapshot", snapshot["schema"]
    assert snapshot["end_reason"] == ("interrupted" if interrupted else "duration"), \
        snapshot["end_reason"]
    pids = {s["pid"] for s in snapshot["services"]}
    missing = set(sandbox.pids.values()) - pids
    assert not missing, "the snapshot has no service for the workloads %s" % sorted(missing)
    if alone and not inv.piped and not inv.captured:
        assert stdout.strip().endswith("/" + new[0]) or stdout.strip() == new[0], \
            "stdout %r does not name %s" % (stdout, new[0])
    if inv.opt("--metrics"):
        with open(os.path.join(sandbox.work, inv.opt("--metrics"))) as f:
            assert parse_metrics(f.read()), "no metrics"
    if inv.opt("--keep"):
        kept = [f for f in os.listdir(into)
                if f.startswith("inflight-%s-" % snapshot["host"]["hostname"])]
        assert len(kept) <= int(inv.opt("--keep")), "%d snapshots kept" % len(kept)


def check_tasks(inv, text, pid):
    if inv.opt("-f", "--format") == "json":
        doc = json.loads(text)
        assert doc["command"] == inv.sub and doc["pid"] == pid, (doc["command"], doc["pid"])
        assert doc["tasks_total"] > 0, "no tasks"
    else:
        assert text.startswith("process %d: CPython" % pid), text[:200]


def check_trend(inv, text):
    fmt = inv.opt("-f", "--format") or "text"
    if fmt == "text":
        assert re.match(r"inflight trend: \d+ snapshots? of \d+ hosts?\n", text), text[:200]
    elif fmt == "json":
        assert "hosts" in json.loads(text), "no hosts"
    elif fmt == "html":
        assert text.startswith("<!DOCTYPE html>"), text[:100]
    else:
        raise AssertionError("no check for trend -f %s" % fmt)


def check_doctor(inv, text):
    if inv.opt("-f", "--format") == "json":
        doc = json.loads(text)
        assert doc["schema"] == "inflight-doctor" and doc["verdicts"], doc.get("schema")
    else:
        verdicts = re.findall(r"^[\w-]+: (?:ready|no \(.+\))$", text, re.MULTILINE)
        assert verdicts, "no verdict line ('trace: ready')"


def sweep_dir(inv, sandbox):
    return os.path.join(sandbox.work, inv.opt("-o") or ".")


def snapshots_in(d):
    return set(f for f in os.listdir(d) if f.endswith(".json.gz")) if os.path.isdir(d) else set()


def check(example, script, sandbox):
    """Runs one example and checks what it did; raises AssertionError saying what is wrong."""
    runs = invocations(script)
    interrupt = any(inv.sub in ("trace", "sweep") and not inv.opt("-d", "--duration")
                    for inv in runs)
    before = {sweep_dir(inv, sandbox): snapshots_in(sweep_dir(inv, sandbox))
              for inv in runs if inv.sub == "sweep"}
    rc, stdout, stderr = run(example, script, sandbox, interrupt)
    assert rc == example.status, "exit status %d, not %d:\n%s" % (rc, example.status,
                                                                (stdout + stderr)[-1500:])
    commands = unquoted_newlines(script).strip().splitlines()
    alone = len(runs) == 1 and len(commands) == 1
    for inv in runs:
        text = read_output(inv, stdout, alone, sandbox) if inv.sub != "sweep" else None
        to_stdout = not inv.piped and not inv.captured and inv.opt("-o", "--output") in (None, "-")
        pids = [int(p) for p in inv.pids()]
        if inv.pgrep:
            pids += sandbox.gunicorn
        if inv.sub == "trace":
            check_trace(inv, text, stderr, pids, interrupt)
        elif inv.sub == "sweep":
            into = sweep_dir(inv, sandbox)
            check_sweep(inv, stdout, alone, before[into], sandbox, interrupt)
            before[into] = snapshots_in(into)
        elif inv.sub in ("ps", "pstree"):
            if text is not None:
                check_tasks(inv, text, pids[0])
            elif to_stdout:
                assert "process %d: CPython" % pids[0] in stdout, "no 'process %d:' line" % pids[0]
        elif inv.sub == "trend":
            if text is not None:
                check_trend(inv, text)
        elif inv.sub == "doctor":
            if text is not None:
                check_doctor(inv, text)
        else:
            assert text is None or text.startswith("inflight"), "output %r" % text[:200]
    if "jq" in shlex.split(commands[-1].replace("\x00", " "), comments=True):
        # what a filter printed of inflight's output: a key it names that
        # inflight does not write would print null
        assert stdout.strip(), "printed nothing"
        assert not re.search(r"\bnull\b", stdout), "printed null:\n%s" % stdout[:500]
    for line in example.sample:
        assert any(shape(line) == shape(got) for got in (stdout + stderr).splitlines()), \
            "nothing printed has the shape of the sample line %r" % line


@test
def test_doc_examples():
    examples, problems = [], []
    for doc, extract in zip(DOCS, (readme_examples, man_examples)):
        with open(os.path.join(ROOT, doc)) as f:
            found, wrong = extract(f.read())
        assert found, "%s: no example found" % doc
        examples += found
        problems += wrong
    sandbox = Sandbox()
    try:
        sandbox.start_workloads()
        sandbox.make_inputs()
        for example in examples:
            try:
                script = substitute(example, sandbox)
            except Unmappable as e:
                problems.append("%s: %s" % (example, e))
                continue
            try:
                check(example, script, sandbox)
            except (AssertionError, ValueError, KeyError, OSError) as e:
                problems.append("%s: %s" % (example, e))
    finally:
        sandbox.close()
    counts = ", ".join("%d from %s" % (sum(e.doc == d for e in examples), d) for d in DOCS)
    assert not problems, "%s; %d wrong:\n  %s" % (counts, len(problems), "\n  ".join(problems))
    print("  %s examples run: %s" % (len(examples), counts))
