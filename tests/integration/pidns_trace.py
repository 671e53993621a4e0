#!/usr/bin/env python3
"""Run by test_doctor.py, inside a PID namespace or not: inflight trace of a
workload that opens connections, and the connections it opened by its own
count and by the report's, as one JSON line: {"opened": N, "traced": M}.

Usage: pidns_trace.py INFLIGHT"""
import json
import sys

import harness

harness.INFLIGHT = sys.argv[1]
w = harness.Workload("conn_service.py")
try:
    tracer = harness.Tracer("-p", str(w.pid), "-f", "json")
    held = w.do("hold 5")
    status, out, err = tracer.finish()
finally:
    w.stop()
assert status == 0, err
target = harness.target_of(json.loads(out), w.pid)
print(json.dumps({"opened": held["connected"] + held["accepted"],
                  "traced": target["connections"]["opened"]}))
