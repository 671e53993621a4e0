"""inflight's metrics in Prometheus, with Debian's prometheus and
prometheus-node-exporter: the alert rules pass promtool; a sweep of real
workloads writes its metrics with --metrics into node_exporter's textfile
directory beside its snapshot, a Prometheus on loopback scrapes them, and the
series read back through its HTTP API hold the snapshot's own figures for the
services the test started, down to labels made of hostile file names and
command lines; the shipped alerts fire on them; and a trace of the same
workloads with -f openmetrics passes a strict OpenMetrics parser with what a
JSON trace reports, under the service names the sweep gave them."""
import gzip
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request

from harness import PYTHON, Tracer, Workload, expect_eq, tasks_tracked, test
from test_sweep import Sweep, python_version, sweep_stderr_pattern

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


def expected_series(processes, host, same_run):
    """What the metrics of processes must say: {metric: {labels: value}}.
    processes: (labels naming the process, its target as a trace report has it,
    its findings). same_run: the metrics are of the run the targets come from;
    otherwise of another trace of the same workloads at the same time, which
    sees the same tasks created, the same left in flight and the same
    connections at the end (the workloads hold their pattern until the traces
    end), but a peak only where it is what is still held: short-lived tasks
    peak as the polls catch them, if they do."""
    want = {m: {} for m in ("inflight_tasks_created_total", "inflight_tasks_in_flight",
                            "inflight_tasks_in_flight_peak", "inflight_connections_open",
                            "inflight_connections_opened_total", "inflight_connections_open_peak",
                            "inflight_findings")}

    def add(metric, labels, value):
        want[metric][labels] = want[metric].get(labels, 0) + value

    for names, t, findings in processes:
        base = dict(names, host=host)
        for s in t["tasks"]["sites"]:
            at = series(base, site="%s:%d" % (s["file"], s["line"]), coroutine=s["coroutine"])
            add("inflight_tasks_created_total", at, s["created"])
            add("inflight_tasks_in_flight", at, s["in_flight"])
            if same_run or s["peak_in_flight"] == s["in_flight"] > 0:
                add("inflight_tasks_in_flight_peak", at, s["peak_in_flight"])
        for e in t["connections"]["endpoints"]:
            for state, n in e["by_state"].items():
                add("inflight_connections_open",
                    series(base, direction=e["direction"], endpoint=e["endpoint"], state=state), n)
        add("inflight_connections_opened_total", series(base), t["connections"]["opened"])
        c = t["connections"]
        if same_run or c["peak_open"] == c["open"] > 0:
            add("inflight_connections_open_peak", series(base), c["peak_open"])
        for f in findings:
            labels = dict(kind=f["kind"], severity=f["severity"],
                          site="%s:%d" % (f["site"]["file"], f["site"]["line"]),
                          coroutine=f["coroutine"])
            if f["evidence"].get("reason"):
                labels["reason"] = f["evidence"]["reason"]
            add("inflight_findings", series(base, **labels), 1)
    return want


def trace_processes(report, services):
    """A JSON trace's processes, under the sweep's service names, with their PIDs."""
    return [({"service": services[t["pid"]], "pid": str(t["pid"])}, t,
             [f for f in report["findings"] if f["pid"] == t["pid"]]) for t in report["targets"]]


def sweep_processes(snapshot, pids):
    """The services of a snapshot that the processes pids run, named by service alone."""
    return [({"service": s["service"]}, s["target"], s["findings"])
            for s in snapshot["services"] if s["pid"] in pids]


def ours(got, services):
    """The series of got ({metric: {labels: value}}) of the given services only: a
    sweep covers every Python on the host."""
    return {m: {k: v for k, v in by.items() if dict(k).get("service") in services}
            for m, by in got.items()}


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


def expect_series(what, got, want, exact=False):
    """got holds want's series, with want's values (where want has the series's metric,
    it has all of them but, unless exact, the peaks left out of it)."""
    for metric, series_want in want.items():
        have = got.get(metric, {})
        if metric.endswith("_peak") and not exact:
            have = {k: v for k, v in have.items() if k in series_want}
        assert have == series_want, "%s: %s %s, JSON %s" % (metric, what, have, series_want)


def hostile_copy(tmp):
    """findings_suite.py in a directory whose name a label value must escape."""
    d = os.path.join(tmp, HOSTILE_DIR)
    os.makedirs(d)
    shutil.copy(os.path.join(WORKLOADS, "findings_suite.py"), d)
    return os.path.join(d, "findings_suite.py")


def sweep_and_trace(tmp, script, textfiles):
    """The scenarios swept, writing --metrics into textfiles, and traced at the
    same time twice: -f json and -f openmetrics. (snapshot, report, openmetrics
    text, the workloads' PIDs)."""
    workloads = [Workload(script, python=PYTHON, args=[s], quiet=True) for s in SCENARIOS]
    sweep, tracers = None, []
    snapshots = os.path.join(tmp, "snapshots")
    os.mkdir(snapshots)
    try:
        sweep = Sweep(snapshots, "--metrics", os.path.join(textfiles, "inflight.prom"),
                      "--close-wait-age", "0.5")
        for w in workloads:
            sweep.read_until(sweep_stderr_pattern(w.pid))
        pids = [a for w in workloads for a in ("-p", str(w.pid))]
        common = ["--close-wait-age", "0.5", *pids]
        tracers = [Tracer("-f", "json", *common),
                   Tracer("-f", "openmetrics", "-o", os.path.join(tmp, "inflight.om"), *common)]
        for w in workloads:
            w.proc.stdin.write("go\n")
            w.proc.stdin.flush()
        for w in workloads:
            w.read()
        time.sleep(1.0)
        results = [t.finish() for t in tracers]
        results.append(sweep.finish())
    finally:
        for t in tracers:
            if t.proc.poll() is None:
                t.proc.kill()
                t.proc.wait()
        if sweep and sweep.proc.poll() is None:
            sweep.proc.kill()
            sweep.proc.wait()
        for w in workloads:
            w.stop()
    for rc, out, err in results:
        assert rc == 0, err
    report = json.loads(results[0][1])
    for w in workloads:
        tasks_tracked(report, w.pid)
    with gzip.open(results[2][1].strip(), "rt") as f:
        snapshot = json.load(f)
    with open(os.path.join(tmp, "inflight.om")) as f:
        return snapshot, report, f.read(), {w.pid for w in workloads}


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


def check_process_info(what, info, services, version):
    """One inflight_process_info series per service (and PID, for a trace), whose
    python label is the whole version."""
    got = [dict(k) for k in info]
    expect_eq("%s: services in inflight_process_info" % what,
              sorted(l["service"] for l in got), sorted(services))
    for labels in got:
        expect_eq("%s: python label" % what, labels.get("python"), version)


@test
def test_prometheus_round_trip():
    tmp = tempfile.mkdtemp(prefix="inflight-prometheus-")
    textfiles = os.path.join(tmp, "textfile")
    os.mkdir(textfiles)
    procs = []
    try:
        procs, url = start_servers(tmp, textfiles)
        snapshot, report, om_text, pids = sweep_and_trace(tmp, hostile_copy(tmp), textfiles)
        host = socket.gethostname()
        services = {s["pid"]: s["service"] for s in snapshot["services"] if s["pid"] in pids}
        expect_eq("the workloads in the snapshot", set(services), pids)
        names = set(services.values())
        assert len(names) == len(pids), services
        version = python_version(PYTHON)
        for s in snapshot["services"]:
            if s["pid"] in pids:
                expect_eq("snapshot python", s["python"], version)
        want = expected_series(sweep_processes(snapshot, pids), host, same_run=True)
        assert all(want.values()), want
        assert any(HOSTILE_DIR in dict(labels)["site"]
                   for labels in want["inflight_findings"]), want["inflight_findings"]

        with open(os.path.join(textfiles, "inflight.prom")) as f:
            prom_text = f.read()
        r = promtool("check", "metrics", stdin=prom_text)
        assert r.returncode == 0, "promtool check metrics: %s%s" % (r.stdout, r.stderr)
        written, _ = parse_metrics(prom_text, "prometheus")
        expect_series("the .prom file", ours(written, names), want, exact=True)
        check_process_info("the .prom file", ours(written, names)["inflight_process_info"],
                           names, version)

        # a trace's metrics name the processes as the sweep does, PID aside
        trace_want = expected_series(trace_processes(report, services), host, same_run=False)
        check_openmetrics(om_text, trace_want)
        om, _ = parse_metrics(om_text, "openmetrics")
        check_process_info("the trace's OpenMetrics", om["inflight_process_info"],
                           services.values(), version)

        wait_for("Prometheus to be ready", lambda: urllib.request.urlopen(url + "/-/ready",
                                                                          timeout=2))
        wait_for("a scrape of the sweep's series",
                 lambda: query(url, "inflight_connections_open_peak"))
        # what Prometheus holds is what the file said, series for series (a label with
        # an empty value, such as a finding's site where no task is known, being no label
        # to Prometheus)
        for metric, series_written in written.items():
            series_written = {frozenset((k, v) for k, v in labels if v): value
                              for labels, value in series_written.items()}
            got = query(url, metric)
            assert got == series_written, "%s: Prometheus %s, the .prom file %s" % (
                metric, got, series_written)
        expect_series("Prometheus", ours({m: query(url, m) for m in want}, names), want,
                      exact=True)
        meta = http_json(url + "/api/v1/metadata?metric=inflight_tasks_created_total")["data"]
        assert meta["inflight_tasks_created_total"][0]["type"] == "counter", meta

        # the shipped alerts, on these series: one for each finding they cover
        def firing():
            alerts = http_json(url + "/api/v1/alerts")["data"]["alerts"]
            return {(a["labels"]["alertname"], a["labels"]["site"]) for a in alerts
                    if a["state"] == "firing" and a["labels"].get("service") in names}
        alerts_want = {(alert_for(dict(l)), dict(l)["site"]) for l in want["inflight_findings"]}
        got = wait_for("the alerts", lambda: firing() if len(firing()) >= len(alerts_want) else None)
        assert got == alerts_want, "alerts firing %s, findings %s" % (got, alerts_want)
    finally:
        stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)
