"""inflight as it ships: --version names what it was built from; the release
binary is static and runs, and traces, in a Debian 11 root whose glibc (2.31)
is older than the one it was built against."""
import os
import re
import subprocess

from harness import expect_eq, inflight, test

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
