"""The scheduled sweep's systemd units (tools/systemd): systemd-analyze verify
finds nothing to say about them, the timer is weekly, and the service's
retention command keeps the newest snapshots only."""
import os
import re
import shutil
import subprocess
import tempfile

from harness import inflight, test

HERE = os.path.dirname(os.path.abspath(__file__))
UNITS = os.path.join(HERE, "..", "..", "tools", "systemd")
MAN = os.path.join(HERE, "..", "..", "man", "inflight.8")
INSTALLED = "/usr/sbin/inflight"
SNAPSHOTS = "/var/lib/inflight/snapshots"
KEEP = 26


def unit_copies(tmp):
    """The units in tmp, the service's inflight being the one under test (verify
    checks that the command exists), and a MANPATH holding inflight(8) (verify
    runs man on Documentation=)."""
    for name in ("inflight-sweep.service", "inflight-sweep.timer"):
        with open(os.path.join(UNITS, name)) as f:
            text = f.read()
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text.replace(INSTALLED, inflight()))
    os.makedirs(os.path.join(tmp, "man", "man8"))
    shutil.copy(MAN, os.path.join(tmp, "man", "man8"))
    return dict(os.environ, MANPATH=os.path.join(tmp, "man"))


def directive(unit, key):
    with open(os.path.join(UNITS, unit)) as f:
        found = [line.split("=", 1)[1].strip() for line in f if line.startswith(key + "=")]
    assert len(found) == 1, "%s: %s=: %s" % (unit, key, found)
    return found[0]


def retention_command(snapshots):
    """ExecStartPost's shell command, as systemd hands it to sh, on snapshots."""
    line = directive("inflight-sweep.service", "ExecStartPost")
    m = re.fullmatch(r"/bin/sh -c '(.*)'", line)
    assert m, line
    # systemd undoes C escapes in a command line: "\\n" reaches sh as "\n"
    return m.group(1).replace("\\\\", "\\").replace(SNAPSHOTS, snapshots)


@test
def test_systemd_units():
    tmp = tempfile.mkdtemp(prefix="inflight-systemd-")
    try:
        env = unit_copies(tmp)
        r = subprocess.run(["systemd-analyze", "verify", "inflight-sweep.service",
                            "inflight-sweep.timer"], cwd=tmp, env=env, capture_output=True,
                           text=True)
        assert r.returncode == 0 and not r.stderr.strip(), \
            "systemd-analyze verify (rc %d): %s%s" % (r.returncode, r.stdout, r.stderr)
        assert directive("inflight-sweep.timer", "OnCalendar") == "weekly"
        assert directive("inflight-sweep.timer", "Persistent") == "true"
        assert directive("inflight-sweep.service", "ExecStart").startswith(
            INSTALLED + " sweep -d 300 -o " + SNAPSHOTS)

        # 30 weekly snapshots, written out of order, and a file that is not one
        snapshots = os.path.join(tmp, "snapshots")
        os.mkdir(snapshots)
        names = ["inflight-web-1-2026%02d%02dT031500Z.json.gz" % (1 + w // 4, 1 + w % 4 * 7)
                 for w in range(30)]
        for name in reversed(names):
            open(os.path.join(snapshots, name), "w").close()
        open(os.path.join(snapshots, "notes.txt"), "w").close()
        subprocess.run(["/bin/sh", "-c", retention_command(snapshots)], check=True)
        left = sorted(os.listdir(snapshots))
        assert left == sorted(names[-KEEP:] + ["notes.txt"]), left
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
