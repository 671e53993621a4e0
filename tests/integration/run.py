#!/usr/bin/env python3
"""Integration tests: real BPF programs in the real kernel, tracing real CPython
processes, checked against the ground truth the workload records itself and
against ss(8).

Usage: run.py --inflight PATH [-k SUBSTRING]
Prints one line per test and closes with 'integration: N passed, M failed'.
"""
import argparse
import os
import sys
import time
import traceback

import harness
import test_connections  # noqa: F401  (registers its tests)
import test_tasks  # noqa: F401
import test_findings  # noqa: F401
import test_snapshot  # noqa: F401
import test_endings  # noqa: F401
import test_late_fanout  # noqa: F401
import test_asyncio_ps  # noqa: F401
import test_versions  # noqa: F401
import test_namespaces  # noqa: F401
import test_load  # noqa: F401
import test_lifecycle  # noqa: F401
import test_conn_faults  # noqa: F401
import test_sweep  # noqa: F401
import test_trend  # noqa: F401
import test_prometheus  # noqa: F401
import test_systemd  # noqa: F401
import test_shared_probes  # noqa: F401
import test_warnings  # noqa: F401
import test_packaging  # noqa: F401
import test_completion  # noqa: F401
import test_doctor  # noqa: F401
import test_doc_examples  # noqa: F401


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inflight", required=True)
    ap.add_argument("-k", default="", help="run only tests whose name contains this")
    args = ap.parse_args()
    harness.INFLIGHT = os.path.abspath(args.inflight)
    if os.geteuid() != 0:
        print("integration: these tests load BPF programs and must run as root")
        print("integration: 0 passed, 1 failed")
        return 1
    print("integration: inflight %s, workloads on %s" % (harness.INFLIGHT, harness.PYTHON))
    for what, why in test_tasks.MISSING:
        print("SKIP every per-interpreter test on %s: %s" % (what, why))
    for name, why in harness.SKIPPED:
        if args.k in name:
            print("SKIP %s: %s" % (name, why))
    passed = failed = 0
    for fn in harness.TESTS:
        if args.k not in fn.__name__:
            continue
        start = time.time()
        try:
            fn()
        except Exception as e:
            failed += 1
            print("FAIL %s (%.1fs): %s" % (fn.__name__, time.time() - start, e))
            if not isinstance(e, AssertionError):
                traceback.print_exc()
        else:
            passed += 1
            print("PASS %s (%.1fs)" % (fn.__name__, time.time() - start))
        sys.stdout.flush()
    print("integration: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
