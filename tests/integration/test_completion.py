"""Bash completion (tools/completion/inflight.bash), sourced in a real bash and
asked the way bash asks it: COMP_WORDS and COMP_CWORD set, _inflight called,
COMPREPLY read. What it offers is checked against the inflight under test:
its --help, what its option parser accepts, the formats it names when given a
bad one, and the processes running now."""
import os
import re
import shutil
import subprocess
import tempfile

from harness import Workload, expect_eq, inflight, test

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
SCRIPT = os.path.join(REPO, "tools", "completion", "inflight.bash")


def complete(*words, cwd=None):
    """What completing the last of words offers: `inflight WORDS<TAB>`, with
    inflight on PATH being the one under test."""
    bindir = tempfile.mkdtemp(prefix="inflight-completion-")
    try:
        os.symlink(inflight(), os.path.join(bindir, "inflight"))
        script = ('source "$1"; shift; COMP_WORDS=(inflight "$@"); COMP_CWORD=$#; '
                  'COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; _inflight; '
                  'printf "%s\\n" "${COMPREPLY[@]}"')
        env = dict(os.environ, PATH=bindir + ":" + os.environ["PATH"])
        r = subprocess.run(["bash", "--norc", "--noprofile", "-c", script, "completion", SCRIPT,
                            *words], capture_output=True, text=True, env=env, cwd=cwd,
                           timeout=30)
    finally:
        shutil.rmtree(bindir)
    assert r.returncode == 0 and not r.stderr, "completing %r: rc %d, %s" % (
        words, r.returncode, r.stderr)
    return [w for w in r.stdout.splitlines() if w]


def commands():
    """The commands `inflight --help` lists."""
    out = subprocess.run([inflight(), "--help"], capture_output=True, text=True).stdout
    section = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^  ([a-z]+) ", section, re.M)


def help_options(cmd):
    """Every option `inflight CMD --help` lists under Options."""
    out = subprocess.run([inflight(), cmd, "--help"], capture_output=True, text=True).stdout
    section = out.split("Options:\n", 1)[1].split("\n\n", 1)[0]
    found = set()
    for line in section.splitlines():
        if re.match(r"\s+-", line):
            found.update(re.findall(r"(?:^\s+|, )(--?[a-z][a-z-]*)", line))
    return found


def parser_says(cmd, option):
    """What inflight's option parser makes of OPTION given last, so with no
    value: unknown, needs a value, or a flag. A surplus argument (getopt takes
    the options first) keeps a flag from starting a trace or a sweep."""
    r = subprocess.run([inflight(), cmd, "surplus", option], capture_output=True, text=True,
                       timeout=30)
    if "invalid option" in r.stderr:
        return "unknown"
    return "valued" if "needs a value" in r.stderr else "flag"


@test
def test_completion_offers_the_commands():
    cmds = commands()
    assert {"trace", "sweep", "ps", "pstree", "trend"} <= set(cmds), cmds
    expect_eq("inflight tr<TAB>", sorted(complete("tr")), sorted(c for c in cmds
                                                               if c.startswith("tr")))
    expect_eq("inflight <TAB>", sorted(complete("")),
              sorted(cmds + ["-h", "--help", "-V", "--version"]))


@test
def test_completion_offers_each_commands_options():
    """Every option each command's --help lists, nothing else; each one its
    parser accepts, and a value completed after exactly those that take one."""
    for cmd in commands():
        offered = complete(cmd, "-")
        expect_eq("inflight %s -<TAB>" % cmd, sorted(offered), sorted(help_options(cmd)))
        for option in offered:
            says = parser_says(cmd, option)
            assert says != "unknown", "%s %s: offered, but inflight does not take it" % (
                cmd, option)
            # after an option that takes a value, no option is offered
            after = complete(cmd, option, "-")
            expect_eq("inflight %s %s -<TAB> offers options" % (cmd, option), bool(after),
                      says == "flag")


def formats_named(cmd):
    """The formats inflight names when -f is given one it does not know."""
    r = subprocess.run([inflight(), cmd, "-f", "bogus"], capture_output=True, text=True)
    m = re.search(r"invalid format 'bogus': expected (.*)$", r.stderr, re.M)
    assert m and r.returncode == 2, "%s -f bogus: %s" % (cmd, r.stderr)
    return re.split(r", | or ", m.group(1))


@test
def test_completion_offers_the_formats_each_command_takes():
    for cmd in commands():
        if "-f" not in help_options(cmd):
            continue
        offered = complete(cmd, "-f", "")
        expect_eq("inflight %s -f <TAB>" % cmd, sorted(offered), sorted(formats_named(cmd)))
        for fmt in offered:
            r = subprocess.run([inflight(), cmd, "-f", fmt, "--help"], capture_output=True,
                               text=True)
            expect_eq("inflight %s -f %s --help exit status" % (cmd, fmt), r.returncode, 0)
    expect_eq("inflight trace --format j<TAB>", complete("trace", "--format", "j"), ["json"])
    # "--format=j" reaches the completion as --format, =, j (COMP_WORDBREAKS)
    expect_eq("inflight trace --format=j<TAB>", complete("trace", "--format", "=", "j"),
              ["json"])
    expect_eq("inflight trend --format=<TAB>", sorted(complete("trend", "--format", "=")),
              sorted(formats_named("trend")))


@test
def test_completion_offers_python_pids_only():
    w = Workload("task_service.py")
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        for cmd in ("trace", "ps", "pstree"):
            pids = complete(cmd, "-p", "")
            assert str(w.pid) in pids, "inflight %s -p <TAB>: %s lacks the workload %d" % (
                cmd, pids, w.pid)
            assert str(sleeper.pid) not in pids, "inflight %s -p <TAB> offers sleep (%d)" % (
                cmd, sleeper.pid)
        prefix = str(w.pid)[:-1]
        assert str(w.pid) in complete("trace", "-d", "3", "--pid", prefix)
    finally:
        sleeper.kill()
        sleeper.wait()
        w.stop()


@test
def test_completion_offers_files_and_directories():
    d = tempfile.mkdtemp(prefix="inflight-completion-files-")
    try:
        os.mkdir(os.path.join(d, "snapshots"))
        open(os.path.join(d, "report.json"), "w").close()
        everything = ["report.json", "snapshots"]
        expect_eq("trace -o <TAB>", sorted(complete("trace", "-p", "1", "-o", "", cwd=d)),
                  everything)
        expect_eq("trace --config r<TAB>", complete("trace", "--config", "r", cwd=d),
                  ["report.json"])
        expect_eq("trend --baseline <TAB>", sorted(complete("trend", "--baseline", "", cwd=d)),
                  everything)
        expect_eq("trend <TAB>", sorted(complete("trend", "", cwd=d)), everything)
        expect_eq("sweep -o <TAB>: directories", complete("sweep", "-o", "", cwd=d),
                  ["snapshots"])
        expect_eq("sweep --metrics <TAB>", sorted(complete("sweep", "--metrics", "", cwd=d)),
                  everything)
        # seconds are the user's to type
        expect_eq("trace -d <TAB>", complete("trace", "-d", "", cwd=d), [])
    finally:
        shutil.rmtree(d)


@test
def test_completion_is_installed_where_bash_completion_looks():
    """make install: under PREFIX/share/bash-completion/completions, named after
    the command, as bash-completion loads it on the first inflight<TAB>."""
    if not os.path.exists(os.path.join(REPO, "inflight")):
        raise AssertionError("build ./inflight first (make inflight): make install copies it")
    dest = tempfile.mkdtemp(prefix="inflight-install-")
    try:
        r = subprocess.run(["make", "-s", "--no-print-directory", "-C", REPO, "-o", "inflight",
                            "install", "DESTDIR=" + dest], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        installed = os.path.join(dest, "usr/local/share/bash-completion/completions/inflight")
        with open(installed) as f, open(SCRIPT) as g:
            assert f.read() == g.read(), "installed completion differs from %s" % SCRIPT
    finally:
        shutil.rmtree(dest)
