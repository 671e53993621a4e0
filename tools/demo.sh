#!/usr/bin/env bash
# make demo: start the bundled demo service, show its tasks as they are (pstree),
# trace it for a few seconds with inflight, print the report, and stop the service.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "inflight: the demo loads BPF programs into the kernel: run it as root ('sudo make demo')" >&2
	exit 2
fi

log=$(mktemp)
python3 tools/demo_service.py 2>"$log" &
launcher=$!
trap 'kill "$launcher" ${service:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -f "$log"' EXIT
# the service says its own PID: python3 may be a wrapper (pyenv's shim) with a PID of its own
for _ in $(seq 50); do
	service=$(sed -n 's/^demo service: pid \([0-9]*\).*/\1/p' "$log")
	[ -n "$service" ] && break
	sleep 0.1
done
if [ -z "$service" ]; then
	echo "inflight: the demo service did not start:" >&2
	cat "$log" >&2
	exit 1
fi
cat "$log" >&2
sleep 0.5

# what it has in flight right now, tasks that exist before any probe
echo "+ ./inflight pstree -p $service" >&2
./inflight pstree -p "$service"
echo >&2

echo "+ ./inflight trace -p $service --duration 8 --interval 2" >&2
./inflight trace -p "$service" --duration 8 --interval 2
