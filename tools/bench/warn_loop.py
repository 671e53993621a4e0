"""Bench workload: a hot loop of filtered warnings. Calls warnings.warn()
N times under warnings.simplefilter("ignore"), after a line on stdin (so a
tracer can attach first); every call still reaches warn_explicit(), where
inflight's probe sits. Prints the seconds it took as JSON, with the
process's user and system CPU time over the same span. Standard library only."""
import json
import resource
import sys
import time
import warnings


def loop(n):
    warnings.simplefilter("ignore")
    start, cpu = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
    for _ in range(n):
        warnings.warn("a deprecated call", DeprecationWarning)
    end = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": time.perf_counter() - start, "warnings": n,
            "user_s": end.ru_utime - cpu.ru_utime, "sys_s": end.ru_stime - cpu.ru_stime}


def main():
    n = int(sys.argv[1])
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()
    print(json.dumps(loop(n)), flush=True)


if __name__ == "__main__":
    main()
