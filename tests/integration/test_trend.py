"""inflight trend over real snapshots: a service traced week after week
(tests/workloads/trend_service.py), healthy but leaking connections, then with
its fan-out widened and the leak fixed. The trend must name exactly that
regression and that fix, in text, JSON and HTML (rendered in headless
Chromium), merge a second host into the fleet, and skip broken snapshots with
an error while still writing the report."""
import glob
import gzip
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

from harness import Tracer, Workload, run_inflight, site_markers, tasks_tracked, test

HOSTILE = "api<script>alert(1)</script>\x1b[31m"


def snapshot_from_trace(report, hostname, services, directory):
    """Wraps a trace report into the snapshot contract (docs/trend-schema.md,
    Input) as inflight sweep writes it: services maps pid -> service name.
    Returns the snapshot's path. Stands in for inflight sweep until it lands."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.strptime(report["started_at"],
                                                          "%Y-%m-%dT%H:%M:%SZ"))
    snap = {
        "schema": "inflight-snapshot", "schema_version": 1,
        "tool": report["tool"],
        "host": {"hostname": hostname, "machine_id": None, "kernel": os.uname().release},
        "started_at": report["started_at"], "duration_s": report["duration_s"],
        "end_reason": report["end_reason"], "mode": "probes",
        "services": [],
        "skipped": [],
        "thresholds": report["thresholds"], "tracer": report["tracer"],
    }
    for t in report["targets"]:
        snap["services"].append({
            "service": services[t["pid"]], "service_source": "command", "pid": t["pid"],
            "exe": t["exe"], "cmdline": [], "python": None,
            "container": {"cgroup": None, "runtime": None, "name": None, "id": None},
            "target": t,
            "findings": [f for f in report["findings"] if f["pid"] == t["pid"]],
        })
    path = os.path.join(directory, "inflight-%s-%s.json.gz" % (hostname, stamp))
    with gzip.open(path, "wt") as f:
        json.dump(snap, f)
    return path


def trace_week(width, leak):
    """One week's trace of the service and a stable second one: the report."""
    workloads = [Workload("trend_service.py", args=[str(width), str(leak)], quiet=True),
                 Workload("trend_service.py", args=["8", "0"], quiet=True)]
    try:
        t = Tracer("-f", "json", "--close-wait-age", "0.5",
                   *[a for w in workloads for a in ("-p", str(w.pid))])
        for w in workloads:
            w.proc.stdin.write("go\n")
            w.proc.stdin.flush()
        expect = [w.read()["expect"] for w in workloads]
        time.sleep(1.5)
        rc, stdout, stderr = t.finish()
        assert rc == 0, stderr
        report = json.loads(stdout)
    finally:
        for w in workloads:
            w.stop()
    for w in workloads:
        tasks_tracked(report, w.pid)
    return report, [w.pid for w in workloads], expect


def snapshots(directory):
    """Three weeks on host web-1 (the regression in the third), two on web-2."""
    weeks = [trace_week(20, 1), trace_week(20, 1)]
    # the regression: the fan-out follows its input; the fix: the leak is closed
    weeks.append(trace_week(300, 0))
    for report, pids, expect in weeks:
        snapshot_from_trace(report, "web-1", {pids[0]: HOSTILE, pids[1]: "worker"}, directory)
    assert weeks[0][2][0] == [["connection-leak", "close_wait", "fetch"]], weeks[0][2]
    assert weeks[2][2][0] == [["unbounded-fanout", None, "fan_out"]], weeks[2][2]
    for report, pids, expect in weeks[:2]:
        snapshot_from_trace(report, "web-2", {pids[0]: "api", pids[1]: "worker"}, directory)


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


def check_json(report, lines):
    hosts = {h["host"]: h for h in report["hosts"]}
    assert sorted(hosts) == ["web-1", "web-2"], sorted(hosts)
    web1, web2 = hosts["web-1"], hosts["web-2"]
    assert len(web1["snapshots"]) == 3 and web1["baseline"] == 0 and web1["newest"] == 2, web1
    assert [key(f) for f in web1["new_findings"]] == \
        [(HOSTILE, "unbounded-fanout", None, lines["fan_out"])], web1["new_findings"]
    assert [key(f) for f in web1["resolved_findings"]] == \
        [(HOSTILE, "connection-leak", "close_wait", lines["fetch"])], web1["resolved_findings"]
    grown = {(g["service"], g["site"]["line"], g["metric"]) for g in web1["grown"]}
    assert {(s, line) for s, line, _ in grown} == {(HOSTILE, lines["fan_out"])}, web1["grown"]
    assert {m for _, _, m in grown} >= {"peak_tasks", "peak_connections"}, web1["grown"]
    tasks = [g for g in web1["grown"] if g["metric"] == "peak_tasks"][0]
    assert tasks["baseline"] == 20 and tasks["newest"] == 300, tasks
    for k in ("new_sites", "vanished_sites", "new_services", "vanished_services"):
        assert web1[k] == [], (k, web1[k])
    for k in ("new_findings", "resolved_findings", "grown", "new_sites", "vanished_sites",
              "new_services", "vanished_services"):
        assert web2[k] == [], (k, web2[k])
    fan = [s for s in web1["series"]
           if s["service"] == HOSTILE and s["site"]["line"] == lines["fan_out"]][0]
    assert [p["peak_tasks"] for p in fan["points"]] == [20, 20, 300], fan
    assert [p["findings"] > 0 for p in fan["points"]] == [False, False, True], fan
    fleet = report["fleet"]
    assert (fleet["hosts"], fleet["snapshots"], fleet["new_findings"],
            fleet["resolved_findings"]) == (2, 5, 1, 1), fleet


def check_text(text, lines):
    new = text.split("New findings (1):")[1].split("\n")[1]
    assert "unbounded-fanout at" in new and ":%d " % lines["fan_out"] in new, text
    assert "api<script>alert(1)</script>\\x1b[31m" in text, "control bytes not escaped"
    assert "\x1b" not in text
    resolved = text.split("Resolved findings (1):")[1].split("\n")[1]
    assert "connection-leak (close_wait)" in resolved and ":%d " % lines["fetch"] in resolved, text
    assert "peak tasks 20 -> 300" in text, text
    assert "No change against the baseline." in text.split("== host web-2")[1], text


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


def check_html(html_path, directory, lines):
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
    new = dom.split("New findings (1)")[1].split("</table>")[0]
    assert "unbounded-fanout" in new and ":%d<" % lines["fan_out"] in new, new
    resolved = dom.split("Resolved findings (1)")[1].split("</table>")[0]
    assert "connection-leak" in resolved and ":%d<" % lines["fetch"] in resolved, resolved
    grown = dom.split("Grown past the thresholds")[1].split("</table>")[0]
    assert grown.count("<tr>") - 1 >= 2 and grown.count(":%d<" % lines["fan_out"]) == \
        grown.count("<tr>") - 1, grown
    assert dom.count("<svg") >= 6, "a chart per site and host"


@test
def trend_names_the_regression_and_the_fix():
    if not shutil.which("chromium"):
        raise AssertionError("chromium is not installed: run make deps")
    lines = site_markers("trend_service.py")
    directory = tempfile.mkdtemp(prefix="inflight-trend-")
    try:
        snapshots(directory)
        r = run_inflight("trend", "-f", "json", directory)
        assert r.returncode == 0, r.stderr
        check_json(json.loads(r.stdout), lines)
        r = run_inflight("trend", directory)
        assert r.returncode == 0, r.stderr
        check_text(r.stdout, lines)
        html = os.path.join(directory, "trend.html")
        r = run_inflight("trend", "-f", "html", "-o", html, directory)
        assert r.returncode == 0, r.stderr
        check_html(html, directory, lines)

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
        check_json(report, lines)

        only_bad = os.path.join(directory, "only-bad")
        os.mkdir(only_bad)
        for name in bad:
            shutil.move(os.path.join(directory, name), only_bad)
        out = os.path.join(directory, "none.json")
        r = run_inflight("trend", "-o", out, only_bad)
        assert r.returncode == 2 and not os.path.exists(out), (r.returncode, r.stderr)
    finally:
        shutil.rmtree(directory)
