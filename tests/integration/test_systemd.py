"""The scheduled sweep's systemd units (tools/systemd): systemd-analyze verify
finds nothing to say about them; the timer is weekly; `make install` puts the
units where systemd reads them, running the inflight it installs; and the
service's own command, run for real, writes a snapshot and the metrics and
keeps this host's newest snapshots, leaving every other file alone."""
import gzip
import json
import os
import shlex
import shutil
import socket
import subprocess
import tempfile

from harness import expect_eq, inflight, test

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.join(HERE, "..", "..")
UNITS = os.path.join(REPO, "tools", "systemd")
MAN = os.path.join(REPO, "man", "inflight.8")
INSTALLED = "/usr/local/sbin/inflight"
SNAPSHOTS = "/var/lib/inflight/snapshots"
TEXTFILES = "/var/lib/prometheus/node-exporter"
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


def directives(path, key):
    with open(path) as f:
        return [line.split("=", 1)[1].strip() for line in f if line.startswith(key + "=")]


def directive(unit, key):
    found = directives(os.path.join(UNITS, unit), key)
    assert len(found) == 1, "%s: %s=: %s" % (unit, key, found)
    return found[0]


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
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    assert directive("inflight-sweep.timer", "OnCalendar") == "weekly"
    assert directive("inflight-sweep.timer", "Persistent") == "true"
    argv = shlex.split(directive("inflight-sweep.service", "ExecStart"))
    expect_eq("ExecStart", argv, [INSTALLED, "sweep", "-d", "300", "-o", SNAPSHOTS, "--keep",
                                  str(KEEP), "--metrics", TEXTFILES + "/inflight.prom"])
    # the one command keeps the snapshots bounded, with nothing after it
    expect_eq("ExecStartPost", directives(os.path.join(UNITS, "inflight-sweep.service"),
                                          "ExecStartPost"), [])
    # ProtectSystem=strict: the textfile directory must be opened for writing
    expect_eq("ProtectSystem", directive("inflight-sweep.service", "ProtectSystem"), "strict")
    expect_eq("ReadWritePaths", directive("inflight-sweep.service", "ReadWritePaths"),
              "-" + TEXTFILES)


@test
def test_systemd_units_run_the_installed_inflight():
    """make install, with the default prefix and with PREFIX=/usr: the units land
    where systemd looks for them, and ExecStart names the inflight installed."""
    if not os.path.exists(os.path.join(REPO, "inflight")):
        raise AssertionError("build ./inflight first (make inflight): make install copies it")
    for prefix in (None, "/usr"):
        dest = tempfile.mkdtemp(prefix="inflight-install-")
        try:
            args = ["make", "-s", "--no-print-directory", "-C", REPO, "-o", "inflight", "install",
                    "DESTDIR=" + dest] + (["PREFIX=" + prefix] if prefix else [])
            r = subprocess.run(args, capture_output=True, text=True)
            assert r.returncode == 0, r.stdout + r.stderr
            units = os.path.join(dest, (prefix or "/usr/local").lstrip("/"), "lib", "systemd",
                                 "system")
            expect_eq("units installed", sorted(os.listdir(units)),
                      ["inflight-sweep.service", "inflight-sweep.timer"])
            exe = shlex.split(directives(os.path.join(units, "inflight-sweep.service"),
                                         "ExecStart")[0])[0]
            assert os.access(dest + exe, os.X_OK), "ExecStart=%s, not installed (PREFIX=%s)" % (
                exe, prefix)
        finally:
            shutil.rmtree(dest, ignore_errors=True)


def sweep_command(snapshots, textfiles):
    """The service's ExecStart, run on inflight under test, writing into the
    directories given, for a second rather than five minutes."""
    argv = shlex.split(directive("inflight-sweep.service", "ExecStart"))
    out = []
    for a in argv:
        a = a.replace(INSTALLED, inflight()).replace(SNAPSHOTS, snapshots)
        out.append(a.replace(TEXTFILES, textfiles))
    out[out.index("-d") + 1] = "1"
    return out


@test
def test_systemd_sweep_keeps_the_newest_snapshots():
    tmp = tempfile.mkdtemp(prefix="inflight-systemd-")
    try:
        snapshots, textfiles = os.path.join(tmp, "snapshots"), os.path.join(tmp, "textfile")
        os.mkdir(snapshots)
        os.mkdir(textfiles)
        # a real snapshot, then as many weeks of it as make the keep overflow
        r = subprocess.run([inflight(), "sweep", "-d", "0.5", "-o", tmp], capture_output=True,
                           text=True, timeout=600)
        assert r.returncode == 0, r.stderr
        real = r.stdout.strip()
        host = socket.gethostname().replace("/", "_")
        weeks = ["inflight-%s-2026%02d%02dT031500Z.json.gz" % (host, 1 + w // 4, 1 + w % 4 * 7)
                 for w in range(30)]
        for name in reversed(weeks):
            shutil.copy(real, os.path.join(snapshots, name))
        # what must survive: another host whose name starts with this one's, files not
        # snapshots, and a link named as one
        decoys = ["inflight-%s-1-20260101T031500Z.json.gz" % host,
                  "inflight-other-20260101T031500Z.json.gz",
                  "notes.txt", "inflight-%s-latest.json.gz" % host,
                  "inflight-%s-20260101T031500Z.json.gz.bak" % host]
        for name in decoys:
            shutil.copy(real, os.path.join(snapshots, name))
        link = "inflight-%s-20250101T000000Z.json.gz" % host
        os.symlink(real, os.path.join(snapshots, link))
        decoys.append(link)

        umask = int(directive("inflight-sweep.service", "UMask"), 8)
        r = subprocess.run(sweep_command(snapshots, textfiles), capture_output=True, text=True,
                           timeout=600, preexec_fn=lambda: os.umask(umask))
        assert r.returncode == 0, r.stderr
        new = os.path.basename(r.stdout.strip())
        expect_eq("snapshots kept", sorted(os.listdir(snapshots)),
                  sorted(weeks[-(KEEP - 1):] + [new] + decoys))
        assert new > weeks[-1], new
        with gzip.open(os.path.join(snapshots, new), "rt") as f:
            expect_eq("the new snapshot's schema", json.load(f)["schema"], "inflight-snapshot")
        expect_eq("textfile directory", os.listdir(textfiles), ["inflight.prom"])
        with open(os.path.join(textfiles, "inflight.prom")) as f:
            assert "# TYPE inflight_trace_duration_seconds gauge" in f.read()
        # node_exporter reads it as another user, under the unit's UMask=
        assert os.stat(os.path.join(textfiles, "inflight.prom")).st_mode & 0o004
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
