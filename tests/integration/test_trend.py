"""inflight trend over real inflight sweep runs. Week after week a host runs
the same services (tests/workloads/trend_service.py): "api", leaking
connections; "batch", leaking too, under Debian unstable's CPython 3.14 in a
root of its own; "worker", healthy, started after each sweep began. In the
third week api's fan-out has grown past the threshold and its leak is fixed.
A second host (another UTS namespace's hostname) sweeps the first two weeks.
The trend must name exactly that regression and that fix, in text, JSON and
HTML (rendered in headless Chromium), merge the hosts into the fleet, and skip
broken snapshots with an error while still writing the report. A sweep traces
every Python here: the checks look only at the services this test started,
told apart by a token in their command lines."""
import glob
import gzip
import json
import os
import re
import shutil
import subprocess
import tempfile

from harness import PYTHON, Workload, interpreters, run_inflight, site_markers, skip, test
from test_sweep import Sweep, read_snapshot, sweep_stderr_pattern

HOSTILE = "api<script>alert(1)</script>\x1b[31m"
TOKEN = os.urandom(4).hex()
# role: (name on the command line, pattern per week as (WIDTH, LEAK))
ROLES = {
    "api": (HOSTILE + "-" + TOKEN, [(20, 1), (20, 1), (300, 0)]),
    "batch": ("batch-" + TOKEN, [(8, 1)] * 3),
    "worker": ("worker-" + TOKEN, [(8, 0)] * 3),
}



def sid_python314():
    for name, path, _ in interpreters()[0]:
        if name == "debian-sid-3.14":
            return path
    skip("trend_names_the_regression_and_the_fix",
         "no Debian unstable CPython 3.14 here: batch runs under " + PYTHON)
    return PYTHON


def start(role, python=PYTHON):
    return Workload("trend_service.py", python=python, args=[ROLES[role][0]], quiet=True)


def go(workload, role, week):
    width, leak = ROLES[role][1][week]
    workload.proc.stdin.write("go %d %d\n" % (width, leak))
    workload.proc.stdin.flush()


def host_sweep(directory, hostname):
    """inflight sweep, in a UTS namespace of its own named hostname."""
    wrap = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', hostname]
    return Sweep(directory, "-d", "120", "--probes", "--close-wait-age", "0.5", wrap=wrap)


def sweep_week(directory, week, hostnames, sid):
    """One week: api and batch running when the sweeps (one per host, at once)
    begin, set going once they attached; worker started after that, set going
    once traced. Returns {role: (pid, expected findings)} and the snapshots'
    paths."""
    workloads, sweeps = {}, []
    try:
        workloads["api"] = start("api")
        workloads["batch"] = start("batch", sid)
        sweeps = [host_sweep(directory, h) for h in hostnames]
        for s in sweeps:
            s.read_until(r"^Sweeping: ")
        workloads["worker"] = worker = start("worker")
        for s in sweeps:
            s.read_until(sweep_stderr_pattern(worker.pid))
        for role, w in workloads.items():
            go(w, role, week)
        expect = {role: (w.pid, w.read()["expect"]) for role, w in workloads.items()}
        # held a while, so that the sweeps' looks at the tasks in flight catch the peaks
        subprocess.run(["sleep", "2.5"])
        paths = []
        for s in sweeps:
            rc, stdout, stderr = s.finish()
            assert rc == 0, stderr
            paths.append(stdout.strip())
    finally:
        for w in workloads.values():
            w.stop()
        for s in sweeps:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
    return expect, paths


def services_of(path, expect):
    """{role: the service name the snapshot gave it}, checking each was traced."""
    snap = read_snapshot(path)
    by_pid = {s["pid"]: s for s in snap["services"]}
    names = {}
    for role, (pid, _) in expect.items():
        s = by_pid.get(pid)
        assert s, "%s (PID %d) not in %s's services" % (role, pid, path)
        hook = [h for h in s["target"]["hooks"] if h["name"] == "asyncio_tasks"][0]
        assert hook["attached"], "%s: tasks not tracked: %s" % (role, hook["detail"])
        assert s["service_source"] == "command" and \
            s["service"].endswith(ROLES[role][0]), s["service"]
        names[role] = s["service"]
    return names


def snapshots(directory):
    """Three weeks on host web-1 (the regression in the third), two on web-2.
    Returns {role: service name}."""
    sid = sid_python314()
    names = None
    for week in range(3):
        hosts = ["web-1", "web-2"] if week < 2 else ["web-1"]
        expect, paths = sweep_week(directory, week, hosts, sid)
        assert expect["api"][1] == ([["connection-leak", "close_wait", "fetch"]] if week < 2
                                    else [["unbounded-fanout", None, "fan_out"]]), expect
        for path in paths:
            got = services_of(path, expect)
            # named the same week after week, whatever the PIDs
            assert names is None or got == names, (names, got)
            names = got
    assert len(set(names.values())) == len(names), names
    return names


def broken_snapshots(directory):
    """Beside the good ones: each way a snapshot can be wrong, and its error."""
    good = sorted(glob.glob(os.path.join(directory, "inflight-web-1-*.json.gz")))[0]
    raw = open(good, "rb").read()
    doc = json.loads(gzip.decompress(raw))
    bad = {}

    def put(name, data, why):
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
        bad[name] = why

    put("truncated.json.gz", raw[:len(raw) // 2], "truncated")
    put("corrupt.json.gz", raw[:10] + bytes(b ^ 0x5a for b in raw[10:200]) + raw[200:],
        "corrupt gzip data")
    put("plain.json.gz", json.dumps(doc).encode(), "not a gzip file")
    doc["schema_version"] = 2
    put("future.json.gz", gzip.compress(json.dumps(doc).encode()), "schema_version 2")
    put("other.json.gz", gzip.compress(b'{"schema_version": 1, "targets": []}'),
        "not a snapshot")
    return bad


def key(f):
    return (f["service"], f["kind"], f["reason"], (f["site"] or {}).get("line"))


def ours(items, names):
    """The entries about the services this test started (a service name, or
    an object with one)."""
    mine = set(names.values())
    return [i for i in items if (i if isinstance(i, str) else i["service"]) in mine]


def check_json(report, lines, names):
    api = names["api"]
    hosts = {h["host"]: h for h in report["hosts"]}
    assert sorted(hosts) == ["web-1", "web-2"], sorted(hosts)
    web1, web2 = hosts["web-1"], hosts["web-2"]
    assert len(web1["snapshots"]) == 3 and web1["baseline"] == 0 and web1["newest"] == 2, web1
    assert [key(f) for f in ours(web1["new_findings"], names)] == \
        [(api, "unbounded-fanout", None, lines["fan_out"])], web1["new_findings"]
    assert [key(f) for f in ours(web1["resolved_findings"], names)] == \
        [(api, "connection-leak", "close_wait", lines["fetch"])], web1["resolved_findings"]
    grown = {(g["service"], g["site"]["line"], g["metric"]) for g in ours(web1["grown"], names)}
    assert {(s, line) for s, line, _ in grown} == {(api, lines["fan_out"])}, web1["grown"]
    assert {m for _, _, m in grown} == {"peak_tasks", "peak_connections"}, web1["grown"]
    tasks = [g for g in ours(web1["grown"], names) if g["metric"] == "peak_tasks"][0]
    assert tasks["baseline"] == 20 and tasks["newest"] == 300, tasks
    for k in ("new_sites", "vanished_sites", "new_services", "vanished_services"):
        assert ours(web1[k], names) == [], (k, web1[k])
    for k in ("new_findings", "resolved_findings", "grown", "new_sites", "vanished_sites",
              "new_services", "vanished_services"):
        assert ours(web2[k], names) == [], (k, web2[k])
    fan = [s for s in web1["series"]
           if s["service"] == api and s["site"]["line"] == lines["fan_out"]][0]
    assert [p["peak_tasks"] for p in fan["points"]] == [20, 20, 300], fan
    assert [p["findings"] > 0 for p in fan["points"]] == [False, False, True], fan
    # batch's leak held every week: in the series, never new nor resolved
    leak = [s for s in web1["series"]
            if s["service"] == names["batch"] and s["site"]["line"] == lines["fetch"]][0]
    assert [p["findings"] > 0 for p in leak["points"]] == [True] * 3, leak
    fleet = report["fleet"]
    assert (fleet["hosts"], fleet["snapshots"]) == (2, 5), fleet
    assert (fleet["new_findings"], fleet["resolved_findings"]) == \
        tuple(sum(len(h[k]) for h in report["hosts"])
              for k in ("new_findings", "resolved_findings")), fleet


def section(text, title):
    """The entries of one "Title (N):" list in a host's text (each entry's
    first line; its summary is indented further)."""
    entries = []
    for line in text.split(title + " (")[1].split("\n")[1:]:
        if not line.startswith("  "):
            break
        if not line.startswith("   "):
            entries.append(line)
    return entries


def check_text(text, lines, names):
    web1, web2 = text.split("== host web-1")[1].split("== host web-2")[0], \
        text.split("== host web-2")[1].split("== fleet")[0]
    new = [line for line in section(web1, "New findings") if TOKEN in line]
    assert len(new) == 1 and "unbounded-fanout at" in new[0] and \
        ":%d " % lines["fan_out"] in new[0], text
    assert "api<script>alert(1)</script>\\x1b[31m" in new[0], "control bytes not escaped"
    assert "\x1b" not in text
    resolved = [line for line in section(web1, "Resolved findings") if TOKEN in line]
    assert len(resolved) == 1 and "connection-leak (close_wait)" in resolved[0] and \
        ":%d " % lines["fetch"] in resolved[0], text
    assert "peak tasks 20 -> 300" in text, text
    changes = web2.split("Sites over time")[0]
    assert TOKEN not in changes, web2


def render(html_path, directory):
    """Headless Chromium: the page as its DOM, a screenshot, and its log."""
    shot = os.path.join(directory, "trend.png")
    base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--enable-logging=stderr", "--v=0", "--user-data-dir=" + os.path.join(directory, "ch")]
    dom = subprocess.run(base + ["--dump-dom", "file://" + html_path], capture_output=True,
                         text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    pic = subprocess.run(base + ["--screenshot=" + shot, "--window-size=1280,2400",
                                 "file://" + html_path], capture_output=True, text=True,
                         timeout=120)
    assert pic.returncode == 0 and os.path.getsize(shot) > 10000, pic.stderr[-2000:]
    keep = os.environ.get("INFLIGHT_TREND_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
    return dom.stdout, dom.stderr + pic.stderr


def table_rows(dom, title):
    """The rows about this test's services in the first table after title."""
    table = re.split(re.escape(title) + r"( \(\d+\))?<", dom)[2].split("</table>")[0]
    return [row for row in table.split("<tr>")[1:] if TOKEN in row]


def check_html(html_path, directory, lines, names):
    html = open(html_path, encoding="utf-8").read()
    assert "<script" not in html.lower().replace("&lt;script", ""), "a script in the page"
    assert not re.search(r"""(src|href)\s*=|url\(|@import""", html), "the page fetches"
    assert re.findall(r"https?://[^\s\"']+", html) == ["http://www.w3.org/2000/svg"] * \
        html.count("<svg"), "a URL other than the SVG namespace"
    assert "api&lt;script&gt;alert(1)&lt;/script&gt;&#xFFFD;[31m" in html
    dom, log = render(html_path, directory)
    console = [line for line in log.splitlines() if "CONSOLE" in line or
               "Content Security Policy" in line or "Refused to" in line]
    assert not console, console
    assert "<script" not in dom, "the hostile service name became markup"
    new = table_rows(dom, "New findings")
    assert len(new) == 1 and "unbounded-fanout" in new[0] and \
        ":%d<" % lines["fan_out"] in new[0], new
    resolved = table_rows(dom, "Resolved findings")
    assert len(resolved) == 1 and "connection-leak" in resolved[0] and \
        ":%d<" % lines["fetch"] in resolved[0], resolved
    grown = table_rows(dom, "Grown past the thresholds")
    assert len(grown) >= 2 and all(":%d<" % lines["fan_out"] in row for row in grown), grown
    assert dom.count("<svg") >= 6, "a chart per site and host"


@test
def trend_names_the_regression_and_the_fix():
    if not shutil.which("chromium"):
        raise AssertionError("chromium is not installed: run make deps")
    lines = site_markers("trend_service.py")
    directory = tempfile.mkdtemp(prefix="inflight-trend-")
    try:
        names = snapshots(directory)
        r = run_inflight("trend", "-f", "json", directory)
        assert r.returncode == 0, r.stderr
        check_json(json.loads(r.stdout), lines, names)
        r = run_inflight("trend", directory)
        assert r.returncode == 0, r.stderr
        check_text(r.stdout, lines, names)
        html = os.path.join(directory, "trend.html")
        r = run_inflight("trend", "-f", "html", "-o", html, directory)
        assert r.returncode == 0, r.stderr
        check_html(html, directory, lines, names)

        bad = broken_snapshots(directory)
        out = os.path.join(directory, "with-bad.json")
        r = run_inflight("trend", "-f", "json", "-o", out, directory)
        assert r.returncode == 1, (r.returncode, r.stderr)
        errors = r.stderr.strip().splitlines()
        assert len(errors) == len(bad), errors
        for name, why in bad.items():
            line = [e for e in errors if name in e]
            assert len(line) == 1 and why in line[0], (name, why, errors)
        report = json.load(open(out))
        assert len(report["skipped"]) == len(bad), report["skipped"]
        check_json(report, lines, names)

        only_bad = os.path.join(directory, "only-bad")
        os.mkdir(only_bad)
        for name in bad:
            shutil.move(os.path.join(directory, name), only_bad)
        out = os.path.join(directory, "none.json")
        r = run_inflight("trend", "-o", out, only_bad)
        assert r.returncode == 2 and not os.path.exists(out), (r.returncode, r.stderr)
    finally:
        shutil.rmtree(directory)
