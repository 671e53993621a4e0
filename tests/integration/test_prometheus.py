"""inflight's metrics in Prometheus, with Debian's prometheus and
prometheus-node-exporter: the alert rules pass promtool; a trace of real
workloads, written with -f prometheus into node_exporter's textfile directory,
is scraped by a Prometheus on loopback, and the series read back through its
HTTP API hold what a JSON trace of the same workloads reports, down to site
labels made of hostile file names; the shipped alerts fire on them; and the
-f openmetrics output of the same workloads passes a strict OpenMetrics
parser with the same figures."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from harness import PYTHON, Tracer, Workload, tasks_tracked, test

HERE = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(HERE, "..", "..", "tools", "prometheus")
WORKLOADS = os.path.join(HERE, "..", "workloads")
SCENARIOS = ["close_wait", "unbounded"]
# a directory name with what a label value must escape, and more than ASCII
HOSTILE_DIR = 'app "q" \\b\nü'
# prometheus_client's parsers, from Debian's python3-prometheus-client: its
# OpenMetrics one (strict) or its Prometheus text format one, as argv[1] says
PARSE = """
import json, sys
if sys.argv[1] == "openmetrics":
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append([fam.name, fam.type, fam.unit, s.name, s.labels, s.value])
print(json.dumps(out))
"""


def promtool(*args, stdin=None):
    return subprocess.run(["promtool", *args], capture_output=True, text=True, input=stdin,
                          cwd=TOOLS)


@test
def test_prometheus_rules():
    r = promtool("check", "rules", "inflight-alerts.yml")
    assert r.returncode == 0, r.stdout + r.stderr
    r = promtool("test", "rules", "inflight-alerts.test.yml")
    assert r.returncode == 0, r.stdout + r.stderr


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(url, timeout=2):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read())


def wait_for(what, fn, seconds=30):
    """fn()'s first true value, polled; fails naming what after seconds."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            got = fn()
        except OSError:
            got = None
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("gave up waiting for %s" % what)


def start_servers(tmp, textfiles):
    """node_exporter serving textfiles only, and a Prometheus scraping it every
    second and evaluating the shipped rules: ([processes], Prometheus' URL)."""
    ne_port, prom_port = free_port(), free_port()
    procs = [subprocess.Popen(
        ["prometheus-node-exporter", "--web.listen-address=127.0.0.1:%d" % ne_port,
         "--collector.disable-defaults", "--collector.textfile",
         "--collector.textfile.directory=" + textfiles],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "node_exporter.log"), "w"))]
    config = os.path.join(tmp, "prometheus.yml")
    with open(config, "w") as f:
        json.dump({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                   "rule_files": [os.path.abspath(os.path.join(TOOLS, "inflight-alerts.yml"))],
                   "scrape_configs": [{"job_name": "node",
                                       "static_configs": [{"targets": ["127.0.0.1:%d" % ne_port]}]}]},
                  f)
    procs.append(subprocess.Popen(
        ["prometheus", "--config.file=" + config, "--storage.tsdb.path=" + os.path.join(tmp, "data"),
         "--web.listen-address=127.0.0.1:%d" % prom_port],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "prometheus.log"), "w")))
    return procs, "http://127.0.0.1:%d" % prom_port


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()


def query(url, promql):
    """The instant vector of promql as {frozenset(labels - job, instance): value}."""
    r = http_json(url + "/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
    assert r["status"] == "success", r
    out = {}
    for s in r["data"]["result"]:
        labels = {k: v for k, v in s["metric"].items() if k not in ("job", "instance", "__name__")}
        out[frozenset(labels.items())] = float(s["value"][1])
    return out


def series(base, **labels):
    return frozenset(dict(base, **labels).items())


def expected_series(report, host):
    """What the metrics of a trace of the same workloads must say, from the
    JSON report: {metric: {labels: value}}. Another trace sees the same tasks
    created, the same left in flight and the same connections at the end (the
    workloads hold their pattern until the traces end), but a peak only where
    it is what is still held: short-lived tasks peak as the polls catch them,
    if they do."""
    want = {m: {} for m in ("inflight_tasks_created_total", "inflight_tasks_in_flight",
                            "inflight_tasks_in_flight_peak", "inflight_connections_open",
                            "inflight_connections_opened_total", "inflight_connections_open_peak",
                            "inflight_findings")}

    def add(metric, labels, value):
        want[metric][labels] = want[metric].get(labels, 0) + value

    for t in report["targets"]:
        base = {"host": host, "service": t["comm"], "pid": str(t["pid"])}
        for s in t["tasks"]["sites"]:
            at = series(base, site="%s:%d" % (s["file"], s["line"]), coroutine=s["coroutine"])
            add("inflight_tasks_created_total", at, s["created"])
            add("inflight_tasks_in_flight", at, s["in_flight"])
            if s["peak_in_flight"] == s["in_flight"] > 0:
                add("inflight_tasks_in_flight_peak", at, s["peak_in_flight"])
        for e in t["connections"]["endpoints"]:
            for state, n in e["by_state"].items():
                add("inflight_connections_open",
                    series(base, direction=e["direction"], endpoint=e["endpoint"], state=state), n)
        add("inflight_connections_opened_total", series(base), t["connections"]["opened"])
        if t["connections"]["peak_open"] == t["connections"]["open"] > 0:
            add("inflight_connections_open_peak", series(base), t["connections"]["peak_open"])
        for f in report["findings"]:
            if f["pid"] != t["pid"]:
                continue
            labels = dict(kind=f["kind"], severity=f["severity"],
                          site="%s:%d" % (f["site"]["file"], f["site"]["line"]),
                          coroutine=f["coroutine"])
            if f["evidence"].get("reason"):
                labels["reason"] = f["evidence"]["reason"]
            add("inflight_findings", series(base, **labels), 1)
    return want


def parse_metrics(text, dialect):
    """{sample name: {labels: value}} and {family: (type, unit)}, by prometheus_client's
    parser for dialect; fails if it does not parse."""
    r = subprocess.run(["/usr/bin/python3", "-c", PARSE, dialect], input=text,
                       capture_output=True, text=True)
    assert r.returncode == 0, "not valid %s text: %s" % (dialect, r.stderr)
    samples, types = {}, {}
    for family, mtype, unit, name, labels, value in json.loads(r.stdout):
        types[family] = (mtype, unit)
        samples.setdefault(name, {})[frozenset(labels.items())] = value
    return samples, types


def expect_series(what, got, want):
    """got holds want's series, with want's values (where want has the series's metric,
    it has all of them but the peaks left out of it)."""
    for metric, series_want in want.items():
        have = got.get(metric, {})
        if metric.endswith("_peak"):
            have = {k: v for k, v in have.items() if k in series_want}
        assert have == series_want, "%s: %s %s, JSON report %s" % (metric, what, have,
                                                                   series_want)


def hostile_copy(tmp):
    """findings_suite.py in a directory whose name a label value must escape."""
    d = os.path.join(tmp, HOSTILE_DIR)
    os.makedirs(d)
    shutil.copy(os.path.join(WORKLOADS, "findings_suite.py"), d)
    return os.path.join(d, "findings_suite.py")


def trace_three_ways(tmp, script, textfiles):
    """The scenarios traced at once by three traces: JSON, -f prometheus into
    textfiles, and -f openmetrics. (report, openmetrics text)."""
    workloads = [Workload(script, python=PYTHON, args=[s], quiet=True) for s in SCENARIOS]
    tracers = []
    try:
        pids = [a for w in workloads for a in ("-p", str(w.pid))]
        common = ["--close-wait-age", "0.5", *pids]
        tracers = [Tracer("-f", "json", *common),
                   Tracer("-f", "prometheus", "-o", os.path.join(textfiles, "inflight.prom"),
                          *common),
                   Tracer("-f", "openmetrics", "-o", os.path.join(tmp, "inflight.om"), *common)]
        for w in workloads:
            w.proc.stdin.write("go\n")
            w.proc.stdin.flush()
        for w in workloads:
            w.read()
        time.sleep(1.0)
        results = [t.finish() for t in tracers]
    finally:
        for t in tracers:
            if t.proc.poll() is None:
                t.proc.kill()
                t.proc.wait()
        for w in workloads:
            w.stop()
    for rc, out, err in results:
        assert rc == 0, err
    report = json.loads(results[0][1])
    for w in workloads:
        tasks_tracked(report, w.pid)
    with open(os.path.join(tmp, "inflight.om")) as f:
        return report, f.read()


def check_openmetrics(text, want):
    """The OpenMetrics text parses strictly, with its types and units, and holds
    the figures want says."""
    got, types = parse_metrics(text, "openmetrics")
    assert types["inflight_tasks_created"] == ("counter", ""), types
    assert types["inflight_trace_duration_seconds"] == ("gauge", "seconds"), types
    assert types["inflight_process"] == ("info", ""), types
    expect_series("openmetrics", got, want)


def alert_for(finding):
    """The shipped alert a finding's series raises (on a first sweep: every fan-out is new)."""
    if finding["kind"] == "connection-leak":
        return "InflightCloseWaitHeld" if finding.get("reason") == "close_wait" else \
            "InflightConnectionLeak"
    return "InflightTaskLeak" if finding["kind"] == "task-leak" else "InflightNewUnboundedFanout"


@test
def test_prometheus_round_trip():
    tmp = tempfile.mkdtemp(prefix="inflight-prometheus-")
    textfiles = os.path.join(tmp, "textfile")
    os.mkdir(textfiles)
    procs = []
    try:
        procs, url = start_servers(tmp, textfiles)
        report, om_text = trace_three_ways(tmp, hostile_copy(tmp), textfiles)
        host = socket.gethostname()
        want = expected_series(report, host)
        assert all(want.values()), want
        assert any(HOSTILE_DIR in dict(labels)["site"]
                   for labels in want["inflight_findings"]), want["inflight_findings"]

        with open(os.path.join(textfiles, "inflight.prom")) as f:
            prom_text = f.read()
        r = promtool("check", "metrics", stdin=prom_text)
        assert r.returncode == 0, "promtool check metrics: %s%s" % (r.stdout, r.stderr)
        written, _ = parse_metrics(prom_text, "prometheus")
        expect_series("the .prom file", written, want)
        check_openmetrics(om_text, want)

        wait_for("Prometheus to be ready", lambda: urllib.request.urlopen(url + "/-/ready",
                                                                          timeout=2))
        wait_for("a scrape of the trace's series",
                 lambda: query(url, "inflight_connections_open_peak"))
        # what Prometheus holds is what the file said, series for series
        for metric, series_written in written.items():
            got = query(url, metric)
            assert got == series_written, "%s: Prometheus %s, the .prom file %s" % (
                metric, got, series_written)
        meta = http_json(url + "/api/v1/metadata?metric=inflight_tasks_created_total")["data"]
        assert meta["inflight_tasks_created_total"][0]["type"] == "counter", meta

        # the shipped alerts, on these series: one for each finding they cover
        def firing():
            alerts = http_json(url + "/api/v1/alerts")["data"]["alerts"]
            return {(a["labels"]["alertname"], a["labels"]["site"]) for a in alerts
                    if a["state"] == "firing"}
        alerts_want = {(alert_for(dict(l)), dict(l)["site"]) for l in want["inflight_findings"]}
        got = wait_for("the alerts", lambda: firing() if len(firing()) >= len(alerts_want) else None)
        assert got == alerts_want, "alerts firing %s, findings %s" % (got, alerts_want)
    finally:
        stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)
